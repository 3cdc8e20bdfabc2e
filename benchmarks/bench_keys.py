"""`llmswitch key get P` as a credential helper, and the bound on a keyring that does not answer (issue 26).

Targets: `key get` ≤ 0.35× a bare `python -c "import keyring; keyring.get_password(...)"` in the same
run, for a key in the Secret Service, an `env:` key and a `command:` key alike; a wedged Secret
Service (its D-Bus name owned, nothing answering) makes `key get` give up within the 3 s bound
(plus start-up) with exit 4.

How it measures:
* a real Secret Service: gnome-keyring on a private D-Bus (scripts/with-secret-service.sh; this
  module re-runs itself inside it when none is running);
* a clean virtual environment (as bench_readpath.py) that sees this source tree and, through a
  `.pth` line, the host's site-packages (keyring, secretstorage, jeepney) without running the
  host's start-up hooks, so baseline and subject start alike; bytecode writing on, warm caches;
* each round runs the bare keyring call, then the subject; the ratio is the median of the
  per-round ratios. `key get` has run once before (as a credential helper has): it remembers
  the keyring backend and the provider's key reference.
* the wedged row: a private bus on which tests/support/wedged_secret_service.py owns
  org.freedesktop.secrets; the time of `key get` until it exits 4.

    python benchmarks/bench_keys.py
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_readpath import clean_environment  # noqa: E402

ROUNDS = 15
TARGET = 0.35
BOUND = 3.0
STARTUP_ALLOWANCE = 0.5
KEY = "sk-bench-not-a-real-key-2626"
CONFIG = """\
[providers.hosted]
base_url = "https://llm.example.com/v1"
key_source = "keyring"

[providers.box]
base_url = "https://llm.example.com/v1"
key_source = "env:BOX_API_KEY"

[providers.vault]
base_url = "https://llm.example.com/v1"
key_source = "command:/bin/cat {secret_file}"
"""
BARE = "import keyring; keyring.get_password('llmswitch', 'hosted')"


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, done.returncode


def _environment(base: Path) -> tuple[str, str]:
    python, script = clean_environment(base / "venv")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    import secretstorage

    import keyring

    where = sorted({str(Path(m.__file__ or "").parents[1]) for m in (keyring, secretstorage)})
    Path(purelib, "_host_site.pth").write_text("\n".join(where) + "\n")  # path lines: the host's hooks do not run
    return python, script


def _homes(base: Path, script: str, env: dict[str, str]) -> dict[str, str]:
    home = base / "home"
    home.mkdir(mode=0o700)
    secret = base / "secret"
    secret.write_text(KEY + "\n")
    secret.chmod(0o600)
    (home / "config.toml").write_text(CONFIG.replace("{secret_file}", str(secret)))
    (home / "config.toml").chmod(0o600)
    dirs = {**env, "LLMSWITCH_CONFIG_DIR": str(home), "LLMSWITCH_CACHE_DIR": str(home / "cache"),
            "LLMSWITCH_STATE_DIR": str(home / "state"), "XDG_CONFIG_HOME": str(base / "xdg-config"),
            "BOX_API_KEY": KEY}
    subprocess.run([script, "key", "set", "hosted"], input=KEY, text=True, check=True, capture_output=True,
                   env=dirs)
    return dirs


def _inner(rounds: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH",
                                                            "PYTHON_KEYRING_BACKEND")}
    rows = []
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-keys-") as tmp:
        base = Path(tmp)
        python, script = _environment(base)
        home = _homes(base, script, env)
        bare = [python, "-c", BARE]
        subjects = {"Secret Service": "hosted", "env: key": "box", "command: key": "vault"}
        for provider in subjects.values():  # a credential helper's first run: remembers, and writes bytecode
            for _ in range(2):
                _time(bare, home)
                _, code = _time([script, "key", "get", provider], home)
                assert code == 0, f"key get {provider} failed"
        ratios: dict[str, list[float]] = {name: [] for name in subjects}
        spans: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in subjects}
        for _ in range(rounds):
            for name, provider in subjects.items():
                b, _ = _time(bare, home)
                s, _ = _time([script, "key", "get", provider], home)
                ratios[name].append(s / b)
                spans[name][0].append(s)
                spans[name][1].append(b)
        for name in subjects:
            ratio = statistics.median(ratios[name])
            rows.append({"name": f"llmswitch key get ({name}) vs bare keyring.get_password", "target": f"≤ {TARGET}×",
                         "measured": f"{ratio:.2f}×", "passed": ratio <= TARGET,
                         "detail": f"{statistics.median(spans[name][0]) * 1000:.0f} ms vs "
                                   f"{statistics.median(spans[name][1]) * 1000:.0f} ms"})
        rows.append(_wedged(base, script, home))
    return rows


def _wedged(base: Path, script: str, home: dict[str, str]) -> dict:
    """`key get` against a Secret Service that owns its name and never answers."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip() if daemon.stdout else ""
    env = {**home, "DBUS_SESSION_BUS_ADDRESS": address}
    wedged = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "wedged_secret_service.py")],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        ready = wedged.stdout.readline().strip() if wedged.stdout else ""
        times, codes = [], set()
        for _ in range(3):
            took, code = _time([script, "key", "get", "hosted"], env)
            times.append(took)
            codes.add(code)
    finally:
        for process in (wedged, daemon):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
    took = statistics.median(times)
    limit = BOUND + STARTUP_ALLOWANCE
    return {"name": "llmswitch key get, wedged Secret Service: gives up (exit 4)",
            "target": f"≤ {limit:g} s", "measured": f"{took:.2f} s", "passed": took <= limit and codes == {4}
            and ready == "ready", "detail": f"the {BOUND:g} s bound + start-up; exit {sorted(codes)}"}


def run(rounds: int = ROUNDS) -> list[dict]:
    """The rows; re-runs itself inside scripts/with-secret-service.sh when no Secret Service is running."""
    if os.environ.get("LLMSWITCH_SECRET_SERVICE"):
        return _inner(rounds)
    missing = [tool for tool in ("gnome-keyring-daemon", "dbus-daemon", "dbus-send") if shutil.which(tool) is None]
    if missing:
        return [{"name": "llmswitch key get (Secret Service, env, command), wedged keyring", "target": "—",
                 "measured": "not run", "passed": None, "detail": f"needs {', '.join(missing)}"}]
    done = subprocess.run([str(ROOT / "scripts" / "with-secret-service.sh"), sys.executable, __file__, "--json",
                           "--rounds", str(rounds)], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"bench_keys failed: {done.stderr[-2000:]}")
    rows: list[dict] = json.loads(done.stdout)
    return rows


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.rounds)
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            verdict = "info" if row["passed"] is None else "PASS" if row["passed"] else "FAIL"
            print(f"{row['name']:<64} {row['target']:>8} {row['measured']:>8}  {verdict}  ({row['detail']})")
    return 1 if any(row["passed"] is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

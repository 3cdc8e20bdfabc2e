"""Read-path start-up: `llmswitch current` (plain, --json, --field) and `import llmswitch; llmswitch.active()`.

Targets (issue 9): `llmswitch current` in each spelling ≤ 2.7× `python -c pass` through the
console script pip installs, `llmswitch.active()` ≤ 2.6×, for a hosted provider with a keyring
key, an `env:` key provider and a keyless local server alike; bytecode caches warm.

How it measures, so the ratio is llmswitch's and nothing else's:
* a clean virtual environment (stdlib `venv`, no system site-packages) that sees this source
  tree through a `.pth` file, as an editable install does, with the console script pip writes
  for `llmswitch = "llmswitch.cli:main"`; start-up hooks in the host's site-packages (a `.pth`
  that imports certifi, say) would otherwise add the same cost to the baseline and hide ours;
* bytecode writing on for the subjects (PYTHONDONTWRITEBYTECODE removed), one warm-up run each;
* for each subject, every round runs `python -c pass` and then the subject, back to back; the
  result is the median of the per-round ratios (and the medians in ms, for docs/benchmarks.md).
One row, for information, reads a hand-edited active.toml (no parse cache: tomllib is imported).

Scopes (issue 13): `llmswitch prompt` (the prompt segment, run at every prompt) ≤ 2.7× in the user,
shell (`$LLMSWITCH_USE`) and project (a trusted `.llmswitch.toml` two directories up) scopes, and
`llmswitch current` with each scope in force; the scope names a provider that has a role in
active.toml (as after one `llmswitch use`). One row, for information, names a provider only
config.toml knows (the config module and tomllib load).

    python benchmarks/bench_readpath.py [--rounds N] [--host]     # --host: the installed script instead
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tui"
SUPPORT = ROOT / "tests" / "support"
ROUNDS = 25
CURRENT_TARGET = 2.7
ACTIVE_TARGET = 2.6
FAKE_KEY = "sk-bench-not-a-real-key-0001"
CONSOLE_SCRIPT = """\
#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from llmswitch.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
"""What pip writes for a console-script entry point (pip's own template, reproduced)."""
KINDS = {
    "hosted+keyring": ("openrouter/anthropic/claude-sonnet-4.5", None),
    "env: key": ("box/some-model", '[providers.box]\nbase_url = "https://llm.example.com/v1"\n'
                                   'key_source = "env:BOX_API_KEY"\n'),
    "keyless local": ("llamacpp/qwen2.5-7b-instruct", None),
}


def clean_environment(where: Path) -> tuple[str, str]:
    """(python, console script) of a fresh venv that imports llmswitch from this source tree."""
    venv.create(where, with_pip=False, system_site_packages=False, symlinks=os.name != "nt")
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_llmswitch_source.pth").write_text(str(SOURCE) + "\n")
    script = python.parent / "llmswitch"
    script.write_text(CONSOLE_SCRIPT.format(python=python))
    script.chmod(0o755)
    return str(python), str(script)


def host_environment() -> tuple[str, str]:
    script = Path(sys.executable).parent / "llmswitch"
    if not script.exists():
        raise SystemExit("no llmswitch console script beside this interpreter; run without --host")
    return sys.executable, str(script)


def prepare(base: Path, env: dict[str, str]) -> dict[str, dict[str, str]]:
    """One config dir per provider kind, each with a selection written by `llmswitch use` (and a key stored)."""
    setup_env = setup_env_for(env, base)
    envs = {}
    for kind, (ref, config) in KINDS.items():
        home = base / kind.replace(" ", "-").replace(":", "").replace("+", "-")
        home.mkdir(mode=0o700, parents=True)
        dirs = {"LLMSWITCH_CONFIG_DIR": str(home), "LLMSWITCH_CACHE_DIR": str(home / "cache"),
                "LLMSWITCH_STATE_DIR": str(home / "state")}
        if config:
            (home / "config.toml").write_text(config)
        llmswitch = [sys.executable, "-m", "llmswitch"]
        if kind == "hosted+keyring":
            subprocess.run([*llmswitch, "key", "set", ref.split("/")[0]], input=FAKE_KEY, text=True, check=True,
                           capture_output=True, env={**setup_env, **dirs})
        subprocess.run([*llmswitch, "use", ref], check=True, capture_output=True, env={**setup_env, **dirs})
        envs[kind] = {**env, **dirs}
    return envs


def _time(argv: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=cwd)
    return time.perf_counter() - started


def setup_env_for(env: dict[str, str], base: Path) -> dict[str, str]:
    """What every setup run of ``llmswitch`` sees: this source tree and a working test keyring (a file under ``base``).

    One environment for all of them: a ``use`` run without a working keyring (a headless machine) writes the
    preset into config.toml with an ``env:`` key source, after the roles, and ``current`` then rightly loads
    config.toml to check those roles' providers — a different case from the one measured here.
    """
    return {**env, "PYTHONPATH": os.pathsep.join([str(SOURCE), str(SUPPORT)]),
            "PYTHON_KEYRING_BACKEND": "testkeyring.FileKeyring",
            "LLMSWITCH_TEST_KEYRING_FILE": str(base / "keyring.json")}


def scoped_subjects(base: Path, script: str, user_env: dict[str, str], setup_env: dict[str, str],
                    cwds: dict[str, str]) -> list[tuple[str, str, float | None, list[str], dict[str, str]]]:
    """The prompt segment and `current` in the user, shell and project scopes (the project two levels up)."""
    llmswitch = [sys.executable, "-m", "llmswitch"]
    dirs = {k: user_env[k] for k in ("LLMSWITCH_CONFIG_DIR", "LLMSWITCH_CACHE_DIR", "LLMSWITCH_STATE_DIR")}
    subprocess.run([*llmswitch, "use", "--role", "small", "llamacpp/qwen2.5-7b-instruct"], check=True,
                   capture_output=True, env={**setup_env, **dirs})
    project = base / "project"
    (project / "src" / "pkg").mkdir(parents=True)
    subprocess.run([*llmswitch, "use", "--project", "llamacpp/qwen2.5-coder-7b"], check=True, capture_output=True,
                   env={**setup_env, **dirs}, cwd=project)
    shell_env = {**user_env, "LLMSWITCH_USE": "default=llamacpp/qwen2.5-coder-7b"}
    rows: list[tuple[str, str, float | None, list[str], dict[str, str]]] = []
    for scope, scope_env in (("user", user_env), ("shell", shell_env), ("project", user_env)):
        for args in (["prompt"], ["current"]):
            name = f"llmswitch {args[0]} ({scope} scope)"
            rows.append((name, "current", CURRENT_TARGET, [script, *args], scope_env))
            if scope == "project":
                cwds[name] = str(project / "src" / "pkg")
    rows.append(("llmswitch prompt, shell scope naming a provider only config.toml knows", "info", None,
                 [script, "prompt"], {**user_env, "LLMSWITCH_USE": "default=lmstudio/some-model"}))
    return rows


def run(rounds: int = ROUNDS, host: bool = False) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-") as tmp:
        base = Path(tmp)
        python, script = host_environment() if host else clean_environment(base / "venv")
        if host:
            env["PYTHONPATH"] = str(SOURCE)
        envs = prepare(base / "homes", env)
        baseline = [python, "-c", "pass"]
        subjects: list[tuple[str, str, float | None, list[str], dict[str, str]]] = []
        cwds: dict[str, str] = {}
        for kind, kind_env in envs.items():
            for args in (["current"], ["current", "--json"], ["current", "--field", "model"]):
                subjects.append((f"llmswitch {' '.join(args)} ({kind})", "current", CURRENT_TARGET,
                                 [script, *args], kind_env))
            subjects.append((f"llmswitch.active() ({kind})", "active", ACTIVE_TARGET,
                             [python, "-c", "import llmswitch; llmswitch.active()"], kind_env))
        hand_edited = base / "hand-edited"
        hand_edited.mkdir(mode=0o700)
        first = Path(envs["hosted+keyring"]["LLMSWITCH_CONFIG_DIR"]) / "active.toml"
        (hand_edited / "active.toml").write_bytes(first.read_bytes())  # same content, no parse cache beside it
        info_env = {**envs["hosted+keyring"], "LLMSWITCH_CONFIG_DIR": str(hand_edited)}
        subjects.append(("llmswitch current, hand-edited file (no cache)", "info", None, [script, "current"], info_env))
        subjects += scoped_subjects(base, script, envs["hosted+keyring"], setup_env_for(env, base / "homes"), cwds)
        for name, _, _, argv, subject_env in subjects:  # warm the OS caches and write the bytecode
            _time(baseline, subject_env)
            _time(argv, subject_env, cwds.get(name))
        ratios: dict[str, list[float]] = {name: [] for name, *_ in subjects}
        base_times: dict[str, list[float]] = {name: [] for name, *_ in subjects}
        times: dict[str, list[float]] = {name: [] for name, *_ in subjects}
        for _ in range(rounds):
            for name, _, _, argv, subject_env in subjects:
                b = _time(baseline, subject_env)
                s = _time(argv, subject_env, cwds.get(name))
                base_times[name].append(b)
                times[name].append(s)
                ratios[name].append(s / b)
    results = []
    for name, _, target, _, _ in subjects:
        ratio = statistics.median(ratios[name])
        detail = (f"{statistics.median(times[name]) * 1000:.1f} ms vs {statistics.median(base_times[name]) * 1000:.1f}"
                  f" ms")
        if target is None:
            results.append({"name": name, "target": "—", "measured": f"{ratio:.2f}×", "detail": detail, "passed": None})
            continue
        over = "" if ratio <= target else f"; {ratio / target - 1:.0%} over the target"
        results.append({"name": f"{name} vs python -c pass", "target": f"≤ {target:g}×", "measured": f"{ratio:.2f}×",
                        "detail": detail + over, "passed": ratio <= target})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--host", action="store_true", help="time the console script installed beside this Python")
    args = parser.parse_args()
    rows = run(args.rounds, host=args.host)
    for row in rows:
        verdict = "info" if row["passed"] is None else "PASS" if row["passed"] else "FAIL"
        print(f"{row['name']:<72} {row['target']:>7} {row['measured']:>7}  {verdict}  ({row['detail']})")
    return 1 if any(row["passed"] is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

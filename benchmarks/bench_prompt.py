"""`llmswitch_prompt` (from `llmswitch prompt --init SHELL`) in each scope, in real bash, zsh and fish (issue 26).

Targets: 100 calls of `llmswitch_prompt` in one shell ≤ 0.1× the time of 100 `python -c pass` runs
from the same shell, in the user and the shell scope (no Python starts); with a trusted project
file (two directories up), each call ≤ 2.7× `python -c pass` (it runs `llmswitch prompt`).

How it measures: the clean virtual environment of bench_readpath.py (its console script on PATH,
bytecode writing on, one warm-up); for each shell and scope, each round times one shell process
running the 100 calls and one running 100 `python -c pass` (the shell's own start is timed
alone and taken off both); the ratio is the median over the rounds.

    python benchmarks/bench_prompt.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_readpath import SOURCE, SUPPORT, clean_environment  # noqa: E402

ROUNDS = 3
CALLS = 100
FAST_TARGET = 0.1
PROJECT_TARGET = 2.7
SHELLS = ("bash", "zsh", "fish")


def _loop(shell: str, body: str, init: Path | None) -> list[str]:
    source = f"source {init}; " if init else ""
    if shell == "fish":
        return [shell, "--no-config", "-c", f"{source}for i in (seq {CALLS}); {body} >/dev/null; end"]
    loop = f"{source}i=0; while [ $i -lt {CALLS} ]; do {body} >/dev/null; i=$((i+1)); done"
    return [shell, "-f", "-c", loop] if shell == "zsh" else [shell, "--noprofile", "--norc", "-c", loop]


def _start(shell: str) -> list[str]:
    return {"fish": [shell, "--no-config", "-c", "true"], "zsh": [shell, "-f", "-c", "true"]}.get(
        shell, [shell, "--noprofile", "--norc", "-c", "true"])


def _time(argv: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def run(rounds: int = ROUNDS) -> list[dict]:
    shells = [s for s in SHELLS if shutil.which(s)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "LLMSWITCH_USE")}
    rows = []
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-prompt-") as tmp:
        base = Path(tmp)
        python, script = clean_environment(base / "venv")
        home = base / "home"
        home.mkdir(mode=0o700)
        env.update({"LLMSWITCH_CONFIG_DIR": str(home / "config"), "LLMSWITCH_CACHE_DIR": str(home / "cache"),
                    "LLMSWITCH_STATE_DIR": str(home / "state"), "HOME": str(home),
                    "PATH": f"{Path(script).parent}{os.pathsep}{env.get('PATH', '')}"})
        setup = {**env, "PYTHONPATH": os.pathsep.join([str(SOURCE), str(SUPPORT)])}
        llmswitch = [sys.executable, "-m", "llmswitch"]
        for ref, role in (("llamacpp/qwen2.5-7b-instruct", "default"), ("ollama/llama3.2", "small")):
            subprocess.run([*llmswitch, "use", "--role", role, ref], check=True, capture_output=True, env=setup)
        project = home / "project"
        (project / "src" / "pkg").mkdir(parents=True)
        subprocess.run([*llmswitch, "use", "--project", "llamacpp/qwen2.5-coder-7b"], check=True, capture_output=True,
                       env=setup, cwd=project)
        plain = home / "elsewhere"
        plain.mkdir()
        scopes = {"user": (str(plain), env, FAST_TARGET),
                  "shell": (str(plain), {**env, "LLMSWITCH_USE": "default=ollama/qwen3;small=llamacpp/x"}, FAST_TARGET),
                  "project": (str(project / "src" / "pkg"), env, PROJECT_TARGET)}
        for shell in shells:
            init = base / f"init.{shell}"
            init.write_text(subprocess.run([script, "prompt", "--init", shell], capture_output=True, text=True,
                                           check=True, env=env).stdout)
            for scope, (cwd, scope_env, target) in scopes.items():
                ours = _loop(shell, "llmswitch_prompt", init)
                theirs = _loop(shell, f"{python} -c pass", None)
                _time(ours, scope_env, cwd)  # warm-up: bytecode, OS caches
                _time(theirs, scope_env, cwd)
                ratios, spans = [], []
                for _ in range(rounds):
                    start = _time(_start(shell), scope_env, cwd)
                    a = _time(ours, scope_env, cwd) - start
                    b = _time(theirs, scope_env, cwd) - start
                    ratios.append(a / b)
                    spans.append((a, b))
                ratio = statistics.median(ratios)
                a, b = (statistics.median(x) for x in zip(*spans, strict=True))
                what = "100 calls" if target == FAST_TARGET else "per call"
                rows.append({"name": f"llmswitch_prompt in {shell}, {scope} scope ({what}) vs python -c pass",
                             "target": f"≤ {target:g}×", "measured": f"{ratio:.2f}×", "passed": ratio <= target,
                             "detail": f"{a * 1000 / CALLS:.2f} ms vs {b * 1000 / CALLS:.1f} ms a call"})
    return rows


def main() -> int:
    rows = run()
    for row in rows:
        verdict = "PASS" if row["passed"] else "FAIL"
        print(f"{row['name']:<72} {row['target']:>7} {row['measured']:>7}  {verdict}  ({row['detail']})")
    return 1 if any(row["passed"] is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

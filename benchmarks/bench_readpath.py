"""Read-path start-up: `llmswitch current` and `import llmswitch; llmswitch.active()`.

Targets (issue: core): each ≤ 3× the wall time of `python -c pass` with the same
interpreter. Baseline and subjects run alternately in one loop; we report the
median of each and the ratio of medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 25
TARGET = 3.0


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def run(rounds: int = ROUNDS) -> list[dict]:
    script = Path(sys.executable).parent / "llmswitch"
    current = [str(script), "current"] if script.exists() else [sys.executable, "-m", "llmswitch", "current"]
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-") as tmp:
        env = {**os.environ, "LLMSWITCH_CONFIG_DIR": tmp, "LLMSWITCH_CACHE_DIR": tmp, "LLMSWITCH_STATE_DIR": tmp}
        subprocess.run([*current[:-1], "use", "ollama/llama3.1:8b"], env=env, check=True, capture_output=True)
        subjects = {
            "baseline": [sys.executable, "-c", "pass"],
            "llmswitch current": current,
            "llmswitch.active()": [sys.executable, "-c", "import llmswitch; llmswitch.active()"],
        }
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for argv in subjects.values():  # warm the OS caches once
            _time(argv, env)
        for _ in range(rounds):
            for name, argv in subjects.items():
                times[name].append(_time(argv, env))
    base = statistics.median(times["baseline"])
    results = []
    for name in ("llmswitch current", "llmswitch.active()"):
        median = statistics.median(times[name])
        ratio = median / base
        results.append({"name": f"{name} vs python -c pass", "target": f"≤ {TARGET:g}×", "measured": f"{ratio:.2f}×",
                        "detail": f"{median * 1000:.0f} ms vs {base * 1000:.0f} ms", "passed": ratio <= TARGET})
    return results


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<45} {row['target']:>7} {row['measured']:>7}  {'PASS' if row['passed'] else 'FAIL'}  ({row['detail']})")

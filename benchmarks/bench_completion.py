"""REPL model completion: one ``complete()`` call on the whole bundled catalog, index built.

Target: the slowest median over the typical lines (``/mo``, ``/model gpt``, ``/model openrouter/anthropic/cl``, …)
≤ 0.1 ms, 200 calls per line; the first call (which builds the index and loads the catalog) is shown for
information. Was a manual ``_measure()`` in tests/unit/test_repl_completion.py; time is measured here, not in tests.

    python benchmarks/bench_completion.py     # one line per row; exits 1 when the target is missed

``run() -> list[dict]`` returns the rows in the shape benchmarks/run.py collects (not yet in its MODULES).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tui")]

TARGET_MS = 0.1
"""Median time of one completion call on the whole catalog (index built)."""
CALLS = 200
LINES = ("/mo", "/model ", "/model open", "/model openrouter/", "/model openrouter/anthropic/cl", "/model gpt",
         "/model --", "/model --role ", "/model qwen")


def run() -> list[dict]:
    from llmswitch.repl import ModelSwitcher

    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-completion-") as tmp:
        for name in ("LLMSWITCH_CONFIG_DIR", "LLMSWITCH_CACHE_DIR", "LLMSWITCH_STATE_DIR"):
            os.environ[name] = os.path.join(tmp, name)
        os.environ.setdefault("OPENROUTER_API_KEY", "placeholder")
        switcher = ModelSwitcher(interactive=False)
        started = time.perf_counter()
        switcher.complete("/model ")
        first = (time.perf_counter() - started) * 1000
        medians = {}
        for line in LINES:
            times = []
            for _ in range(CALLS):
                t = time.perf_counter()
                switcher.complete(line)
                times.append(time.perf_counter() - t)
            medians[line] = statistics.median(times) * 1000
    slowest = max(medians, key=medians.__getitem__)
    return [
        {"name": "REPL completion, slowest median", "target": f"≤ {TARGET_MS:g} ms",
         "measured": f"{medians[slowest]:.3f} ms", "passed": medians[slowest] <= TARGET_MS,
         "detail": f"{slowest!r}, {CALLS} calls per line"},
        {"name": "REPL completion, first call", "target": "info", "measured": f"{first:.1f} ms", "passed": None,
         "detail": "builds the index, loads the catalog"},
    ]


if __name__ == "__main__":
    rows = run()
    for row in rows:
        verdict = "info" if row["passed"] is None else "PASS" if row["passed"] else "FAIL"
        print(f"{row['name']:<36} {row['target']:>9} {row['measured']:>9}  {verdict}  ({row['detail']})")
    sys.exit(1 if any(row["passed"] is False for row in rows) else 0)

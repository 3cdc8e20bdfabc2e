"""Run every benchmark and print one table: what, target, measured ratio, pass/fail.

Each benchmark module in this folder exposes ``run() -> list[dict]`` with keys
name, target, measured, passed (and optionally detail); every ratio is against
a baseline measured in the same run. `--markdown` prints the table for the README.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
MODULES = ("bench_readpath", "bench_probe", "bench_tui")


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("only", nargs="*", help="benchmark modules to run (default: all)")
    args = parser.parse_args()
    rows = []
    for name in args.only or MODULES:
        if not (HERE / f"{name}.py").exists():
            print(f"({name}: not present, skipped)", file=sys.stderr)
            continue
        started = time.perf_counter()
        rows += load(name).run()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    if args.markdown:
        print(f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}.\n")
        print("| benchmark | target | measured | result |\n|---|---|---|---|")
        for row in rows:
            detail = f" ({row['detail']})" if row.get("detail") else ""
            print(f"| {row['name']} | {row['target']} | {row['measured']}{detail} | {'pass' if row['passed'] else 'FAIL'} |")
    else:
        width = max((len(r["name"]) for r in rows), default=10)
        print(f"{'benchmark':<{width}}  {'target':>9}  {'measured':>9}  result")
        for row in rows:
            detail = f"  ({row['detail']})" if row.get("detail") else ""
            print(f"{row['name']:<{width}}  {row['target']:>9}  {row['measured']:>9}  {'PASS' if row['passed'] else 'FAIL'}{detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

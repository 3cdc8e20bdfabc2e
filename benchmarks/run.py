"""Run every benchmark and print one table: what, target, measured ratio, pass/fail; exit 1 when any row fails.

Each benchmark module in this folder exposes ``run() -> list[dict]`` with keys
name, target, measured, passed (True, False, or None for a row shown for information)
and optionally detail; every ratio is against a baseline measured in the same run.
``--markdown`` prints the table for docs/benchmarks.md. The machine, the Python version and
whether bytecode writing is on are printed with every table.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).parent
MODULES = ("bench_readpath", "bench_probe", "bench_tui", "bench_keys", "bench_prompt", "bench_relay")


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
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
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}"


def conditions() -> str:
    """Machine, Python, and whether this process writes bytecode (the read-path subjects always do)."""
    writing = ("off in this runner (PYTHONDONTWRITEBYTECODE or -B; bench_readpath turns it on for its subjects)"
               if sys.dont_write_bytecode else "on")
    return f"{machine()}; Python {platform.python_version()}; bytecode writing {writing}"


def verdict(row: dict[str, Any]) -> str:
    return "info" if row.get("passed") is None else "pass" if row["passed"] else "FAIL"


def render(rows: list[dict[str, Any]], *, markdown: bool = False) -> str:
    if markdown:
        lines = [f"Measured on {conditions()}, {time.strftime('%Y-%m-%d')}.", "",
                 "| benchmark | target | measured | result |", "|---|---|---|---|"]
        for row in rows:
            detail = f" ({row['detail']})" if row.get("detail") else ""
            lines.append(f"| {row['name']} | {row['target']} | {row['measured']}{detail} | {verdict(row)} |")
        return "\n".join(lines)
    width = max((len(r["name"]) for r in rows), default=10)
    lines = [conditions(), f"{'benchmark':<{width}}  {'target':>9}  {'measured':>9}  result"]
    for row in rows:
        detail = f"  ({row['detail']})" if row.get("detail") else ""
        lines.append(f"{row['name']:<{width}}  {row['target']:>9}  {row['measured']:>9}  {verdict(row).upper()}{detail}")
    return "\n".join(lines)


def exit_code(rows: list[dict[str, Any]]) -> int:
    """1 when any row failed (an informational row never fails), else 0."""
    return 1 if any(row.get("passed") is False for row in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("only", nargs="*", help="benchmark modules to run (default: all)")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name in args.only or MODULES:
        if not (HERE / f"{name}.py").exists():
            print(f"({name}: not present, skipped)", file=sys.stderr)
            continue
        started = time.perf_counter()
        rows += load(name).run()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    print(render(rows, markdown=args.markdown))
    code = exit_code(rows)
    if code:
        print(f"{sum(r.get('passed') is False for r in rows)} benchmark(s) missed the target", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""benchmarks/run.py: a missed target fails the run (exit 1); nothing is timed here."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROWS = [
    {"name": "fast thing", "target": "≤ 2×", "measured": "1.50×", "passed": True},
    {"name": "slow thing", "target": "≤ 2×", "measured": "2.40×", "passed": False, "detail": "20% over the target"},
    {"name": "for information", "target": "—", "measured": "3.00×", "passed": None},
]


@pytest.fixture
def runner(monkeypatch):
    module = load("run")

    def fake_load(name: str) -> types.ModuleType:
        fake = types.ModuleType(name)
        fake.run = lambda: [dict(row) for row in ROWS]  # type: ignore[attr-defined]
        return fake

    monkeypatch.setattr(module, "load", fake_load)
    monkeypatch.setattr(module, "MODULES", ("bench_readpath",))
    return module


@pytest.mark.parametrize("markdown", [False, True])
def test_a_failed_row_makes_the_run_fail(runner, capsys, markdown):
    code = runner.main(["--markdown"] if markdown else [])
    printed = capsys.readouterr()
    assert code == 1
    assert "FAIL" in printed.out and "1 benchmark(s) missed the target" in printed.err
    assert f"Python {sys.version.split()[0]}" in printed.out and "bytecode writing" in printed.out


def test_passing_and_informational_rows_exit_zero(runner, monkeypatch, capsys):
    monkeypatch.setattr(runner, "load", lambda name: types.SimpleNamespace(run=lambda: [ROWS[0], ROWS[2]]))
    assert runner.main([]) == 0
    assert "INFO" in capsys.readouterr().out


def test_the_read_path_benchmark_fails_its_own_run_too(monkeypatch, capsys):
    bench = load("bench_readpath")
    monkeypatch.setattr(bench, "run", lambda rounds, host=False: [ROWS[1]])
    monkeypatch.setattr(sys, "argv", ["bench_readpath.py"])
    assert bench.main() == 1
    assert "FAIL" in capsys.readouterr().out

"""The floors of the package (issue 22): folders that say their layer, and a contract that fails when one is broken.

The contract itself is ``[tool.importlinter]`` in pyproject.toml, run by ``scripts/test.sh``; these tests
prove it bites (an upward import, even one inside a function, fails the run) and keep the folders honest.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import llmswitch

PACKAGE = Path(llmswitch.__file__).resolve().parent
ROOT = PACKAGE.parents[1]
FLOORS = ("base", "store", "net", "tools", "services")
LINT = ("import sys; from importlinter.cli import lint_imports_command; sys.argv[0] = 'lint-imports'; "
        "sys.exit(lint_imports_command())")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with this checkout's contract over the package copy under ``tree``."""
    pytest.importorskip("importlinter", reason="pip install -e '.[test]' brings import-linter")
    return subprocess.run([sys.executable, "-c", LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, timeout=300, cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "HOME": str(tree)})


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(PACKAGE, tree / "llmswitch", ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_the_contract_holds_for_the_package_as_it_is(copy):
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(("module", "upward"), [
    ("store/state.py", "from ..services import switch"),             # the cache calling the switcher
    ("base/paths.py", "from ..cli import output"),                   # the ground floor calling the CLI
    ("tools/connect/engine.py", "from ... import api"),              # a tool calling the public facade
    ("net/probe/run.py", "from ...store.config import load\n    from ...tools import importing"),
])
def test_an_upward_import_fails_the_contract_even_inside_a_function(copy, tmp_path, module, upward):
    tree = tmp_path / "broken"
    shutil.copytree(copy, tree)
    target = tree / "llmswitch" / module
    target.write_text(target.read_text() + f"\n\ndef _upward() -> None:\n    {upward}\n")
    done = lint(tree)
    assert done.returncode != 0, done.stdout
    assert "BROKEN" in done.stdout and "is not allowed to import" in done.stdout, done.stdout


def test_a_floor_package_imports_nothing():
    """Importing ``llmswitch.store.selection`` must not load the whole store (the read path pays for what it uses)."""
    for floor in FLOORS:
        tree = ast.parse((PACKAGE / floor / "__init__.py").read_text())
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
        assert imports == [], f"{floor}/__init__.py imports {ast.unparse(imports[0])}"


def test_at_most_twelve_modules_at_the_top_and_every_folder_is_a_floor_or_a_front_end():
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert len(top) + len(folders) <= 12, (top, folders)
    assert set(folders) == {*FLOORS, "cli", "app", "repl", "relay"}, folders

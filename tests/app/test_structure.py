"""The app's import boundaries, read from the sources (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import llmswitch.app

APP = Path(llmswitch.app.__file__).parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {("." * node.level) + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return names | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def app_modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_no_private_textual_module_is_imported():
    private = {f"{path.relative_to(APP)}: {name}" for path in app_modules() for name in imports_of(path)
               if name.startswith("textual.") and any(part.startswith("_") for part in name.split("."))}
    assert not private


def test_the_app_has_no_test_only_parameters():
    import inspect

    from llmswitch.app.app import LLMSwitchApp

    assert set(inspect.signature(LLMSwitchApp.__init__).parameters) == {"self", "setup", "pick_role", "config"}

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


def test_widgets_never_import_a_screen():
    """A widget is told what to show and says what happened by messages; it does not reach up into a screen."""
    widgets = APP / "widgets"
    reaching = {f"{path.relative_to(APP)}: {name}" for path in sorted(widgets.rglob("*.py")) for name in imports_of(path)
                if name.startswith("..screens") or name.startswith("llmswitch.app.screens")}
    assert not reaching


def test_wizard_steps_never_import_each_other_or_the_wizard():
    """Each step of the setup wizard stands alone; what they share is the wizard's Findings (and the text helpers)."""
    steps = APP / "screens" / "wizard"
    shared = {".findings", ".text"}
    reaching = {f"{path.name}: {name}" for path in sorted(steps.glob("*.py")) for name in imports_of(path)
                if (name.startswith(".") and not name.startswith("..") and name not in shared) or name == "..setup"}
    assert not reaching

"""The help screen is handed its sections; it imports no screens (no cycle with the app)."""

from __future__ import annotations


def test_the_help_screen_imports_no_screen_and_not_the_app():
    """Not even inside a function: the imports are read from the source."""
    import ast
    import inspect

    from llmswitch.app.screens import help as help_screen

    tree = ast.parse(inspect.getsource(help_screen))
    imported = {("." * node.level) + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith(".") or name.startswith("llmswitch")}, imported


def test_sections_list_the_current_screen_first_then_everywhere(isolated):
    from llmswitch.app.app import LLMSwitchApp
    from llmswitch.app.screens.provider import ProviderScreen
    from llmswitch.app.screens.setup import SetupWizard

    app = LLMSwitchApp()
    sections, here = app.binding_sections(SetupWizard)
    titles = [title for title, _ in sections]
    assert here == "Setup wizard" and titles[:2] == ["Setup wizard", "Everywhere"]
    assert sorted(titles) == sorted(["Model picker", "Provider editor", "Add provider", "Setup wizard", "Questions",
                                     "Everywhere"])
    assert "setup.next" in [b.id for b in sections[0][1]]
    assert "app.help" in [b.id for b in sections[1][1]]
    sections, here = app.binding_sections(ProviderScreen)
    assert here == "Provider editor" and sections[0][0] == "Provider editor"
    sections, here = app.binding_sections(None)
    assert here is None and sections[0][0] == "Everywhere"

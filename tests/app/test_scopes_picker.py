"""The picker and the scopes (issue 13): the header names the scope in force; Enter asks where to write."""

from __future__ import annotations

from llmswitch.app.screens.where import WhereScreen
from llmswitch.app.widgets.model_list import ModelList
from llmswitch.store import overlay, scopes, selection

from .scenes import probes_done, screen_text, wait_for, workers_done


async def ready(pilot) -> None:
    assert await wait_for(pilot, lambda: probes_done(pilot.app)), "probes did not finish"


def project(tmp_path, monkeypatch, roles: dict[str, str]):
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root / "src")
    if roles:
        overlay.write(str(root), roles)
    return root


async def test_without_other_scopes_enter_writes_the_user_default_at_once(mixed_scene, make_app, tmp_path,
                                                                          monkeypatch):
    project(tmp_path, monkeypatch, {})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"ollama/qwen", "enter")
        assert await wait_for(pilot, lambda: selection.read().ref == "ollama/qwen2.5:0.5b")
        assert not isinstance(app.screen, WhereScreen)


async def test_the_header_names_the_project_scope_and_enter_offers_the_project(mixed_scene, make_app, tmp_path,
                                                                               monkeypatch):
    root = project(tmp_path, monkeypatch, {"default": "openai/gpt-4o"})
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "active: openai/gpt-4o" in text and "project scope" in text
        await pilot.press(*"ollama/qwen", "enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, WhereScreen) and "This project" in screen_text(app))
        shown = screen_text(app)
        assert "This project" in shown and 'eval "$(llmswitch shell use ollama/qwen2.5:0.5b)"' in shown
        await pilot.click("#project")
        path = root / overlay.PROJECT_FILE
        assert await wait_for(pilot, lambda: "qwen" in path.read_text())
        assert overlay.parse(path.read_text(), str(path))["default"][0] == "ollama/qwen2.5:0.5b"
        assert scopes.resolve().selection.ref == "ollama/qwen2.5:0.5b"  # written and trusted
        assert selection.read().ref == "openai/gpt-4o-mini"  # the user default is untouched


async def test_with_a_shell_scope_the_user_default_can_still_be_chosen(mixed_scene, make_app, tmp_path,
                                                                       monkeypatch):
    project(tmp_path, monkeypatch, {})
    monkeypatch.setenv(scopes.SHELL_VAR, "default=openai/gpt-4o")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        assert "shell scope ($LLMSWITCH_USE)" in screen_text(app)
        await pilot.press(*"ollama/qwen")
        assert app.picker.query_one(ModelList).highlighted.ref == "ollama/qwen2.5:0.5b"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, WhereScreen)
                              and "$LLMSWITCH_USE sets" in screen_text(app))
        assert "$LLMSWITCH_USE sets default → openai/gpt-4o, which wins" in screen_text(app)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, WhereScreen) and workers_done(app))
        assert selection.read().ref == "openai/gpt-4o-mini"  # cancelled: nothing written
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, WhereScreen))
        await pilot.click("#user")
        assert await wait_for(pilot, lambda: selection.read().ref == "ollama/qwen2.5:0.5b")

"""Issue 14 (a newcomer's first hour): Pilot tests of the picker, the editor and the wizard."""

from __future__ import annotations

from textual.widgets import Input

from llmswitch.app.screens.provider import ProviderScreen
from upstreams import openai_like

from . import scenes
from .scenes import probes_done, screen_text, wait_for


async def open_editor(pilot, pid: str) -> ProviderScreen:
    app = pilot.app
    assert await wait_for(pilot, lambda: probes_done(app))
    await scenes.choose_provider(pilot, pid)
    await pilot.press("f2")
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
    await pilot.pause(0.1)
    return app.screen


async def test_editor_knows_a_loopback_server_that_answered_401_wants_a_key(upstream, isolated, make_app):
    server = openai_like(upstream())
    scenes.write_config(f'[providers.box]\nbase_url = "{server.url}/v1"\n')
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "box")
        assert editor.provider.key_required
        assert editor.focused is editor.query_one("#f-key", Input)  # the key field, not Base URL
        assert await wait_for(pilot, lambda: "the server wants one" in screen_text(app))

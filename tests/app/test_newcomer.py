"""Issue 14 (a newcomer's first hour): Pilot tests of the picker, the editor and the wizard."""

from __future__ import annotations

from textual.widgets import Input, Static

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


async def open_custom_editor(pilot) -> ProviderScreen:
    app = pilot.app
    await pilot.pause(0.1)
    await pilot.press("ctrl+n")
    await pilot.pause(0.1)
    await pilot.press("enter")  # Enter alone: a custom URL
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
    await pilot.pause(0.2)
    return app.screen


async def test_without_a_keyring_the_editor_defaults_to_an_env_var_and_says_why(isolated, make_app):
    import tomllib

    from keyring.backends.fail import Keyring as FailKeyring
    from textual.widgets import Select

    import keyring
    from llmswitch import paths

    keyring.set_keyring(FailKeyring())
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_custom_editor(pilot)
        assert await wait_for(pilot, lambda: editor.keyring_problem is not None)
        assert editor.query_one("#f-key-source", Select).value == "env"
        assert editor.query_one("#f-key", Input).disabled
        line = editor.query_one("#key-state", Static)
        assert await wait_for(pilot, lambda: "pick keyring once it works" in str(line.content))
        assert str(line.content).startswith("no OS keyring is available")
        assert "keyring (recommended)" not in screen_text(app)
        await pilot.press(*"my-box")
        assert editor.query_one("#f-key-arg", Input).value == "MY_BOX_API_KEY"  # follows the id
        editor.query_one("#f-base-url", Input).value = "http://127.0.0.1:9/v1"
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: paths.config_file().exists())
        written = tomllib.loads(paths.config_file().read_text())["providers"]["my-box"]
        assert written["key_source"] == "env:MY_BOX_API_KEY"


async def test_with_a_working_keyring_the_editor_still_recommends_it(isolated, make_app):
    from textual.widgets import Select

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_custom_editor(pilot)
        await pilot.pause(0.3)
        assert editor.keyring_problem is None
        assert editor.query_one("#f-key-source", Select).value == "keyring"
        assert "keyring (recommended)" in screen_text(app)

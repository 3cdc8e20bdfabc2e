"""Pilot tests for the provider editor: key entry, add, remove, keyring problems."""

from __future__ import annotations

import tomllib

from textual.widgets import Input

from llmswitch.app.screens.confirm import ConfirmScreen
from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
from llmswitch.base import paths
from llmswitch.store import keys
from upstreams import FAKE_KEY

from . import scenes
from .scenes import probes_done, screen_text, wait_for


def config_providers() -> dict:
    try:
        return tomllib.loads(paths.config_file().read_text()).get("providers", {})
    except FileNotFoundError:
        return {}


async def open_editor(pilot, pid: str) -> ProviderScreen:
    app = pilot.app
    assert await wait_for(pilot, lambda: probes_done(app))
    app.picker.query_one("#providers").highlighted = list(app.picker.providers).index(pid) + 1
    assert await wait_for(pilot, lambda: app.picker.view == pid)
    await pilot.press("f2")
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen) and scenes.workers_done(app))
    return app.screen


async def test_key_entry_stores_in_keyring_and_never_shows_it(upstream, isolated, make_app):
    scenes.single(upstream, key=None)
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app))
        assert str(app.picker.results["acme"].outcome) == "auth_missing"
        editor = await open_editor(pilot, "acme")
        key_input = editor.query_one("#f-key", Input)
        assert key_input.password
        key_input.focus()
        await pilot.press(*FAKE_KEY)
        assert FAKE_KEY not in screen_text(app)  # masked while typed
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: keys.stored("acme") == FAKE_KEY)
        assert await wait_for(pilot, lambda: editor.result is not None and editor.result.usable)
        assert key_input.value == ""  # not kept in the form
        text = screen_text(app)
        assert FAKE_KEY not in text
        assert "2 models" in text and "key stored in the keyring" in text
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.picker.results.get("acme") is not None
                              and app.picker.results["acme"].usable)


async def test_keyring_problem_shows_the_honest_message(upstream, isolated, make_app):
    from keyring.backends.fail import Keyring as FailKeyring

    import keyring

    scenes.single(upstream, key=None)
    keyring.set_keyring(FailKeyring())
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "acme")
        editor.query_one("#f-key", Input).value = "sk-test-not-a-real-key"
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "was not stored" in screen_text(app))
        text = screen_text(app)
        assert "no OS keyring is available" in text and 'env:VAR' in text
        assert "sk-test-not-a-real-key" not in text


async def test_add_custom_provider_then_probe(upstream, isolated, make_app):
    from upstreams import ollama_like

    scenes.single(upstream)
    server = ollama_like(upstream())
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app))
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        await pilot.press("enter")  # "Custom URL" is first
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        editor = app.screen
        editor.query_one("#f-id", Input).value = "homebox"
        editor.query_one("#f-base-url", Input).value = server.url + "/v1/"
        editor.query_one("#f-key-source").value = "none"
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "homebox" in config_providers())
        assert config_providers()["homebox"] == {"base_url": server.url + "/v1", "key_source": "none"}
        assert await wait_for(pilot, lambda: editor.result is not None and editor.result.usable)
        assert editor.query_one("#provider-form").border_title == "Edit provider homebox"  # saved: no longer "Add"
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: "homebox" in app.picker.providers)


async def test_add_from_preset_search(isolated, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        await pilot.press(*"openrouter")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        assert app.screen.provider.id == "openrouter"
        assert app.screen.query_one("#f-base-url", Input).value == "https://openrouter.ai/api/v1"
        await pilot.press("escape")
        assert not paths.config_file().exists()  # nothing saved


async def test_bad_base_url_is_refused_with_the_reason(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "ollama")
        editor.query_one("#f-base-url", Input).value = "ftp://nowhere"
        before = paths.config_file().read_text()
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "must start with http" in screen_text(app))
        assert paths.config_file().read_text() == before


async def test_remove_asks_and_deletes_the_key(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_editor(pilot, "openai")
        await pilot.press("f8")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "also delete its key" in screen_text(app)
        await pilot.press("y")
        assert await wait_for(pilot, lambda: "openai" not in config_providers())
        assert keys.stored("openai") is None
        assert "openrouter" in config_providers()
        assert await wait_for(pilot, lambda: "openai" not in app.picker.providers
                              or not app.picker.providers["openai"].configured)


async def post_keys(pilot, *keys: str) -> None:
    """Deliver keys as a fast typist (or a paste-happy terminal) does: all queued before any is handled."""
    from textual import events

    for key in keys:
        char = key if len(key) == 1 else None
        pilot.app.post_message(events.Key("space" if key == " " else key, char))
    await pilot.pause()  # until the app has handled them (the caller waits for what they should have done)


async def open_custom(pilot) -> ProviderScreen:
    app = pilot.app
    await pilot.press("ctrl+n")
    assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
    await pilot.press("enter")
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen) and scenes.workers_done(app))
    return app.screen


async def test_fast_typing_lands_in_the_field_it_was_meant_for(isolated, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_custom(pilot)
        assert editor.focused is editor.query_one("#f-id")
        await post_keys(pilot, *"fake2", "down", *"Fake Two", "tab", *"http://127.0.0.1:9/v1")
        assert await wait_for(pilot, lambda: editor.query_one("#f-base-url", Input).value == "http://127.0.0.1:9/v1")
        assert editor.query_one("#f-id", Input).value == "fake2"
        assert editor.query_one("#f-name", Input).value == "Fake Two"
        assert editor.query_one("#f-base-url", Input).value == "http://127.0.0.1:9/v1"


async def test_up_down_move_between_fields_and_never_open_a_menu(upstream, isolated, make_app):
    scenes.single(upstream, key=None)
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "acme")
        editor.query_one("#f-base-url", Input).focus()
        assert await wait_for(pilot, lambda: editor.focused is editor.query_one("#f-base-url"))
        order = []
        for _ in range(5):
            await pilot.press("down")
            order.append(editor.focused.id)
        # the Env var field is disabled (key source: keyring) and skipped
        assert order == ["f-kind", "f-timeout", "f-headers", "f-key-source", "f-key"]
        assert not editor.query_one("#f-kind").expanded and not editor.query_one("#f-key-source").expanded
        await pilot.press("up")
        assert editor.focused.id == "f-key-source"
        await pilot.press("down")
        assert editor.focused.id == "f-key"
        await pilot.press(*FAKE_KEY, "ctrl+s")
        assert await wait_for(pilot, lambda: keys.stored("acme") == FAKE_KEY)
        assert FAKE_KEY not in screen_text(app)


async def test_open_menu_keeps_up_down(upstream, isolated, make_app):
    scenes.single(upstream, key=None)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "acme")
        editor.query_one("#f-key-source").focus()
        await pilot.press("enter")  # opens the menu
        assert editor.query_one("#f-key-source").expanded
        await pilot.press("down", "enter")
        assert editor.query_one("#f-key-source").value == "env"
        assert not editor.query_one("#f-key-arg", Input).disabled


async def test_env_field_refuses_a_key_without_echoing_it(upstream, isolated, make_app):
    scenes.single(upstream, key=None)
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "acme")
        editor.query_one("#f-key-source").value = "env"
        arg = editor.query_one("#f-key-arg", Input)
        assert await wait_for(pilot, lambda: not arg.disabled)
        arg.focus()
        await pilot.press(*FAKE_KEY)
        assert arg.password  # masked as soon as it looks like a key
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "that is a key" in screen_text(app))
        text = screen_text(app)
        assert "that is a key" in text
        assert FAKE_KEY not in text
        assert FAKE_KEY not in paths.config_file().read_text()
        assert "key_source" not in config_providers()["acme"]


async def test_editor_fix_for_a_missing_v1_says_ctrl_g_and_applies_it(upstream, isolated, make_app):
    from upstreams import vllm_like

    server = vllm_like(upstream(), key=FAKE_KEY)
    scenes.write_config(f'[providers.box]\nbase_url = "{server.url}"\n')
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_editor(pilot, "box")
        text = screen_text(app)
        assert "ctrl+g applies it" in text
        assert "F2" not in text and "in the picker" not in text
        assert "answers: the server wants a key and none was sent (HTTP 404" not in text  # no mixed answers
        await pilot.press("ctrl+g")
        assert await wait_for(pilot, lambda: config_providers()["box"]["base_url"] == server.url + "/v1")
        # the probe that follows the fix says what the key needs there (the first result does not carry it)
        assert await wait_for(pilot, lambda: "paste the key into API key above" in screen_text(app))


async def test_add_provider_down_enter_picks_custom_url(isolated, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        await pilot.press("down", "enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        assert app.screen.new and app.screen.provider.id == ""  # Custom URL, not the first preset


async def test_the_editors_probe_writes_what_the_server_said_about_the_key(upstream, isolated, make_app):
    """A server on this machine is taken to need no key until it says otherwise; when the editor's probe hears it
    refuse a request without one, config.toml says so (as the wizard and ``add`` write it), and the editor too."""
    scenes.single(upstream, key=None)
    assert "key_required" not in config_providers()["acme"]
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_editor(pilot, "acme")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: config_providers()["acme"].get("key_required") is True)
        assert await wait_for(pilot, lambda: editor.provider.key_required)
        assert "key_source" not in config_providers()["acme"], "the keyring, the default, stays unwritten"

"""One key truth (issue 21), for the writers with a screen: the wizard and the provider editor.

Each cell drives the real screen against real servers on 127.0.0.1 (a LiteLLM-like proxy that wants a
key, an Ollama-like server that does not), with a keyring that works or none, and asserts: config.toml
says what :mod:`llmswitch.store.keydecision` decides, active.toml's copy agrees, the readers (``api_key``, as
``key get``/``env``/``exec``/``client()`` use it) tell the truth, and the fix they give, followed
literally once, makes the next read work.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from textual.widgets import Input, SelectionList

from llmswitch.api import api_key
from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
from llmswitch.base import paths
from llmswitch.store import keys, selection
from llmswitch.store.config import load
from llmswitch.store.keydecision import key_fields
from upstreams import FAKE_KEY

from . import scenes
from .scenes import probes_done, screen_text, wait_for, workers_done
from .test_setup import detected


def providers() -> dict:
    return tomllib.loads(paths.config_file().read_text())["providers"]


def agree() -> None:
    config = load()
    for sel in selection.read_all().values():
        wanted = key_fields(config.provider(sel.provider))
        assert {name: getattr(sel, name) for name in wanted} == wanted, (sel, wanted)


@pytest.fixture
def local_servers(upstream, monkeypatch):
    return scenes.local_servers(upstream, monkeypatch.setenv)


@pytest.fixture
def no_keyring():
    from keyring.backends.fail import Keyring as FailKeyring

    import keyring

    keyring.set_keyring(FailKeyring())


async def finish_with(pilot, wizard, pick: set[str], key: str | None = None, pid: str = "litellm") -> None:
    """Detect → choose ``pick`` → (a key typed for ``pid``) → probe → the first model → Finish."""
    await pilot.press("ctrl+n")
    choose = wizard.query_one("#choose-list", SelectionList)
    for other in set(choose.selected) - pick:
        choose.deselect(other)
    await pilot.press("ctrl+n")
    assert await wait_for(pilot, lambda: wizard.step == "keys" and workers_done(pilot.app))
    if key is not None:
        wizard.query_one(f"#key-{pid}", Input).value = key
    await pilot.press("ctrl+n")
    assert wizard.step == "probe", wizard.step
    assert await wait_for(pilot, lambda: len(wizard.results) == len(pick) and workers_done(pilot.app))
    await pilot.press("ctrl+n")
    if "litellm" in pick:
        wizard.refs["default"] = "litellm/gpt-4o-mini"
    else:
        await pilot.press("enter")
    await pilot.press("ctrl+n")
    assert await wait_for(pilot, lambda: wizard.step == "done"), screen_text(pilot.app)


async def test_wizard_with_a_keyring(local_servers, make_app):
    """A typed key goes to the keyring, the proxy is recorded as wanting one, Ollama as keyless."""
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await finish_with(pilot, wizard, {"litellm", "ollama"}, key=FAKE_KEY)
    written = providers()
    assert written["litellm"] == {"base_url": local_servers["litellm"].url + "/v1", "key_source": "keyring",
                                  "key_required": True}
    assert written["ollama"]["key_source"] == "none"
    agree()
    sel = selection.read()
    assert api_key(sel) == FAKE_KEY
    keys.delete("litellm")  # the key is gone (another machine, `key rm`): no placeholder, the fix that works
    with pytest.raises(keys.MissingKey) as caught:
        api_key(sel)
    assert caught.value.fix == "run: llmswitch key set litellm"
    keys.store("litellm", FAKE_KEY)  # what `llmswitch key set litellm` does
    assert api_key(sel) == FAKE_KEY


async def test_headless_wizard_finishes_and_says_the_one_step_left(local_servers, make_app, no_keyring,
                                                                  monkeypatch):
    """No keyring and the variable not set: a key pasted is sent by the check only, Finish works, the done page
    and every reader name the variable; exporting it is the one step left."""
    monkeypatch.delenv("LITELLM_API_KEY", raising=False)
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await finish_with(pilot, wizard, {"litellm"}, key=FAKE_KEY)
        assert wizard.results["litellm"].usable  # checked with the key pasted
        done = screen_text(app)
    assert "export LITELLM_API_KEY=<the key>" in done
    assert providers()["litellm"] == {"base_url": local_servers["litellm"].url + "/v1",
                                      "key_source": "env:LITELLM_API_KEY", "key_required": True}
    assert FAKE_KEY not in paths.config_file().read_text()
    agree()
    with pytest.raises(keys.MissingKey) as caught:
        api_key(selection.read())
    fix = caught.value.fix
    assert "key set" not in fix and "llmswitch-keyless" not in str(caught.value)
    var = re.match(r"export ([A-Z_]+)=<the key>", fix)
    assert var, fix
    monkeypatch.setenv(var.group(1), FAKE_KEY)  # the fix, followed
    assert api_key(selection.read()) == FAKE_KEY


async def test_headless_wizard_keyless_server_is_usable_after_finish(local_servers, make_app, no_keyring):
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await finish_with(pilot, wizard, {"ollama"})
        assert "no key (the server answered without one)" in screen_text(app)
    assert providers()["ollama"]["key_source"] == "none"
    agree()
    assert api_key(selection.read()) == keys.KEYLESS_PLACEHOLDER


async def test_a_restarted_wizard_sees_the_variable_it_proposed(local_servers, make_app, no_keyring,
                                                                 monkeypatch):
    monkeypatch.setenv("LITELLM_API_KEY", FAKE_KEY)  # exported after a first run proposed it
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        choose = wizard.query_one("#choose-list", SelectionList)
        for other in set(choose.selected) - {"litellm"}:
            choose.deselect(other)
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: "key from $LITELLM_API_KEY" in screen_text(app))
        assert not wizard.query("#key-litellm")
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: "litellm" in wizard.results)
        assert wizard.results["litellm"].usable


@pytest.mark.parametrize("keyring", ["keyring", "no keyring"])
async def test_editor_new_provider_for_a_keyed_proxy(upstream, isolated, make_app, request, keyring):
    """The editor writes the decision; its probe after saving learns the key is wanted, and active.toml's copy
    follows (no `use` needed); the reader refuses with the fix for the source written."""
    from upstreams import litellm_like

    scenes.single(upstream)
    if keyring == "no keyring":
        request.getfixturevalue("no_keyring")
    server = litellm_like(upstream())
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app))
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        editor = app.screen
        assert await wait_for(pilot, lambda: workers_done(app))  # the keyring checked, the key's state said
        editor.query_one("#f-id", Input).value = "proxy"
        editor.query_one("#f-base-url", Input).value = server.url + "/v1"
        assert await wait_for(pilot, lambda: editor.query_one("#f-base-url", Input).value == server.url + "/v1")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "proxy" in (tomllib.loads(paths.config_file().read_text())
                                                        .get("providers", {})))
        assert await wait_for(pilot, lambda: editor.result is not None)
    written = providers()["proxy"]
    assert written.get("key_source", "keyring") == ("keyring" if keyring == "keyring" else "env:PROXY_API_KEY")
    assert load().provider("proxy").key_required  # what its probe learned
    from llmswitch.services.switch import switch

    switch("proxy/gpt-4o-mini", check_key=False)
    agree()
    with pytest.raises(keys.MissingKey) as caught:
        api_key(selection.read())
    if keyring == "keyring":
        assert caught.value.fix == "run: llmswitch key set proxy"
    else:
        assert caught.value.fix.startswith("export PROXY_API_KEY=<the key>"), caught.value.fix

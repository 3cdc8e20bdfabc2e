"""Pilot tests for the first-run wizard: happy path, escape at every step, keyring unusable."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from textual.widgets import SelectionList

from llmswitch.app.screens.setup import SetupWizard
from llmswitch.app.widgets.model_list import ModelList
from llmswitch.base import paths
from llmswitch.store import keys, selection
from upstreams import FAKE_KEY

from . import scenes
from .scenes import screen_text, wait_for


@pytest.fixture
def local_servers(upstream, monkeypatch):
    return scenes.local_servers(upstream, monkeypatch.setenv)


def nothing_written() -> bool:
    keyring_file = os.environ["LLMSWITCH_TEST_KEYRING_FILE"]
    stored = json.loads(Path(keyring_file).read_text()) if os.path.exists(keyring_file) else {}
    return not paths.config_file().exists() and not paths.active_file().exists() and not stored


async def detected(pilot) -> SetupWizard:
    app = pilot.app
    assert await wait_for(pilot, lambda: isinstance(app.screen, SetupWizard))
    wizard = app.screen
    assert await wait_for(pilot, lambda: not wizard.detecting)
    return wizard


async def test_wizard_happy_path_writes_everything_at_the_end(local_servers, make_app):
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        text = screen_text(app)
        assert "$OPENROUTER_API_KEY" in text and "Ollama" in text and "LiteLLM" in text
        assert "nothing at" in text  # vLLM & co are not running
        await pilot.press("ctrl+n")
        choose = wizard.query_one("#choose-list", SelectionList)
        assert set(choose.selected) == {"openrouter", "ollama", "litellm"}
        choose.deselect("openrouter")  # no network in tests: keep it local
        await pilot.press("ctrl+n")
        assert wizard.step == "keys"
        assert await wait_for(pilot, lambda: "litellm key" in screen_text(app))
        wizard.query_one("#key-litellm").focus()
        await pilot.press(*FAKE_KEY)
        assert FAKE_KEY not in screen_text(app)
        await pilot.press("ctrl+n")
        assert wizard.step == "probe"
        assert await wait_for(pilot, lambda: len(wizard.results) == 2)
        assert all(r.usable for r in wizard.results.values())
        assert nothing_written()
        await pilot.press("ctrl+n")
        assert wizard.step == "model"
        await pilot.press(*"llama3.2")
        await pilot.press("enter")
        assert wizard.refs["default"] == "ollama/llama3.2:latest"
        await pilot.press("ctrl+t")
        wizard.query_one("#model-filter").value = ""
        await pilot.press(*"litellm/gpt")
        assert wizard.query_one("#model-list", ModelList).highlighted.ref == "litellm/gpt-4o-mini"
        await pilot.press("enter")
        assert wizard.refs["small"] == "litellm/gpt-4o-mini"
        assert nothing_written()
        await pilot.press("ctrl+n")  # Finish
        assert await wait_for(pilot, lambda: wizard.step == "done")
        text = screen_text(app)
        assert "llmswitch env" in text and "llmswitch exec" in text and "llmswitch.client()" in text
        assert FAKE_KEY not in text
        providers = tomllib.loads(paths.config_file().read_text())["providers"]
        assert providers == {"ollama": {"base_url": local_servers["ollama"].url + "/v1", "key_source": "none"},
                             "litellm": {"base_url": local_servers["litellm"].url + "/v1", "key_source": "keyring",
                                         "key_required": True}}  # the key decision: keyless, and wanting one
        assert keys.stored("litellm") == FAKE_KEY
        assert selection.read("default").ref == "ollama/llama3.2:latest"
        assert selection.read("small").ref == "litellm/gpt-4o-mini"
        await pilot.press("ctrl+n")  # Close
        assert await wait_for(pilot, lambda: not isinstance(app.screen, SetupWizard))
        assert await wait_for(pilot, lambda: set(app.picker.providers) == {"ollama", "litellm"})


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 4])
async def test_escape_at_any_step_writes_nothing(local_servers, make_app, steps):
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        for _ in range(steps):
            if wizard.step == "choose":
                wizard.query_one("#choose-list", SelectionList).deselect("openrouter")
            if wizard.step == "keys":
                wizard.query_one("#key-litellm").value = FAKE_KEY
            if wizard.step == "probe":
                assert await wait_for(pilot, lambda: len(wizard.results) == 2)
            before = wizard.step
            await pilot.press("ctrl+n")
            assert await wait_for(pilot, lambda before=before: wizard.step != before)
        if wizard.step == "model":
            await pilot.press("enter")  # a default chosen, but not finished
        assert wizard.step == ("detect", "choose", "keys", "probe", "model")[steps]
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, SetupWizard))
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert nothing_written()


async def test_unusable_keyring_offers_an_env_reference(local_servers, make_app, monkeypatch):
    from keyring.backends.fail import Keyring as FailKeyring

    import keyring

    keyring.set_keyring(FailKeyring())
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        wizard.query_one("#choose-list", SelectionList).deselect("openrouter")
        wizard.query_one("#choose-list", SelectionList).deselect("ollama")
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: wizard.keyring_problem is not None
                              and "keyring cannot be used" in screen_text(app))
        assert "not stored" in wizard.query_one("#key-litellm").placeholder  # a key there is for the check only
        assert wizard.query_one("#env-litellm").value == "LITELLM_API_KEY"
        monkeypatch.setenv("LITELLM_API_KEY", FAKE_KEY)
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: len(wizard.results) == 1)
        assert wizard.results["litellm"].usable
        await pilot.press("ctrl+n")
        await pilot.press("enter")
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: wizard.step == "done")
        providers = tomllib.loads(paths.config_file().read_text())["providers"]
        assert providers == {"litellm": {"base_url": local_servers["litellm"].url + "/v1",
                                         "key_source": "env:LITELLM_API_KEY", "key_required": True}}


async def test_app_opens_the_wizard_when_there_is_no_config(isolated, local_servers):
    from llmswitch.app.app import LLMSwitchApp
    from llmswitch.store.config import load

    config = load()
    assert not config.exists
    app = LLMSwitchApp(setup=not config.exists, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        await detected(pilot)
        assert "1/6" in screen_text(app)


GROQ_LIKE_KEY = "gsk_secretvalue123456"  # an obvious fake, shaped like a key


async def paste(pilot, text: str) -> None:
    from textual import events

    pilot.app.post_message(events.Paste(text))
    await pilot.pause()  # until the app has handled it


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.fixture
def nothing_local(isolated, monkeypatch):
    """No local server answers, whatever runs on this machine."""
    for name in ("OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{scenes.free_port()}/v1")


async def test_no_keyring_a_key_pasted_for_the_env_var_is_masked_and_refused(nothing_local, make_app):
    from keyring.backends.fail import Keyring as FailKeyring

    import keyring

    keyring.set_keyring(FailKeyring())
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        assert wizard.step == "choose"
        assert "Nothing was detected" in screen_text(app)
        assert wizard.focused is wizard.query_one("#choose-add")
        await pilot.press(*"groq", "enter")
        await pilot.press("ctrl+n")
        assert wizard.step == "keys"
        assert await wait_for(pilot, lambda: "no keyring" in wizard.query_one("#key-groq").placeholder
                              and wizard.focused is wizard.query_one("#env-groq"))
        key_input = wizard.query_one("#key-groq")
        assert "no keyring" in key_input.placeholder
        text = screen_text(app)
        assert "keyring cannot be used" in text and "environment variable" in text
        env_input = wizard.query_one("#env-groq")
        assert wizard.focused is env_input  # no keyring: the env var field (the one that counts) has the focus
        await paste(pilot, GROQ_LIKE_KEY)  # replaces the suggested name (selected on focus)
        assert env_input.password  # masked at once
        assert GROQ_LIKE_KEY not in screen_text(app)
        assert "that is a key" in screen_text(app)
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: any("that is a key" in t for t in toasts(app)))
        assert wizard.step == "keys"  # refused
        assert any("that is a key" in t for t in toasts(app))
        assert not any(GROQ_LIKE_KEY in t for t in toasts(app))
        assert not paths.config_file().exists()


async def test_add_preset_box_never_echoes_a_key(nothing_local, make_app):
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        await paste(pilot, GROQ_LIKE_KEY)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: toasts(app))
        assert toasts(app) and not any(GROQ_LIKE_KEY in t for t in toasts(app))
        assert wizard.step == "choose"


@pytest.fixture
def vllm_wanting_a_key(upstream, monkeypatch):
    from upstreams import vllm_like

    server = vllm_like(upstream(), key=FAKE_KEY)
    monkeypatch.setenv("VLLM_BASE_URL", server.url + "/v1")
    for name in ("OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{scenes.free_port()}/v1")
    return server


async def test_keys_step_focuses_its_first_key_field(vllm_wanting_a_key, make_app):
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        assert wizard.step == "keys"
        await pilot.press(*FAKE_KEY)  # typed straight away, no click
        assert wizard.query_one("#key-vllm").value == FAKE_KEY
        assert wizard.query_one("#choose-add").value == ""
        assert FAKE_KEY not in screen_text(app)
        await pilot.press("ctrl+n")
        assert wizard.step == "probe"
        assert await wait_for(pilot, lambda: "vllm" in wizard.results)
        assert wizard.results["vllm"].usable
        await pilot.press("ctrl+b", "ctrl+b")
        assert wizard.step == "choose"
        assert wizard.query_one("#choose-add").value == ""


async def test_hidden_steps_cannot_take_the_focus(local_servers, make_app):
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        wizard.query_one("#choose-add").focus()
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: wizard.step == "keys" and wizard.focused is not None
                              and wizard.query_one("#keys") in wizard.focused.ancestors)
        assert wizard.query_one("#choose").disabled


async def test_f1_lists_the_wizard_keys_first(local_servers, make_app):
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await detected(pilot)
        await pilot.press("f1")
        assert await wait_for(pilot, lambda: "(this screen)" in screen_text(app))
        text = screen_text(app)
        assert "(this screen)" in text and text.index("Setup wizard") < text.index("Model picker")
        assert text.index("setup.next") < text.index("picker.switch")


async def test_typing_right_after_next_goes_to_the_new_step(vllm_wanting_a_key, make_app):
    from textual import events

    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await detected(pilot)
        await pilot.press("ctrl+n")
        wizard.query_one("#choose-add").focus()
        assert await wait_for(pilot, lambda: wizard.focused is wizard.query_one("#choose-add"))
        for key in ["ctrl+n", *FAKE_KEY]:  # all queued before the first is handled
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        assert await wait_for(pilot, lambda: [i.value for i in wizard.query("#key-vllm")] == [FAKE_KEY])
        assert wizard.step == "keys"
        assert wizard.query_one("#choose-add").value == ""
        assert wizard.query_one("#key-vllm").value == FAKE_KEY


async def test_the_wizard_offers_what_another_tool_is_set_up_with(nothing_local, upstream, make_app, monkeypatch,
                                                                  tmp_path):
    """aider points at a server on this machine, with a plaintext key: the wizard offers the server (its URL and
    model), writes it at Finish under its own id, and never copies, shows or stores the plaintext key."""
    from upstreams import llamacpp_like

    server = llamacpp_like(upstream(), models=("m1.gguf",))
    home = tmp_path / "tool-home"
    home.mkdir()
    plain = "sk-test-plaintext-in-aider-0001"
    (home / ".aider.conf.yml").write_text(f"model: openai/m1.gguf\nopenai-api-base: {server.url}/v1\n"
                                          f"openai-api-key: {plain}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    app = make_app(setup=True)
    async with app.run_test(size=(120, 36)) as pilot:
        wizard = await detected(pilot)
        text = screen_text(app)
        assert "In other tools' configs" in text and "aider" in text and "m1.gguf" in text
        assert "plaintext key" in text and "--move-keys" in text and plain not in text
        await pilot.press("ctrl+n")
        choose = wizard.query_one("#choose-list", SelectionList)
        assert set(choose.selected) == {"local"}
        assert "from aider" in screen_text(app)
        await pilot.press("ctrl+n")  # keys: a loopback server that needs none
        assert wizard.step == "keys"
        await pilot.press("ctrl+n")
        assert wizard.step == "probe"
        assert await wait_for(pilot, lambda: len(wizard.results) == 1)
        assert wizard.results["local"].usable
        await pilot.press("ctrl+n")
        await pilot.press(*"m1", "enter")
        assert wizard.refs["default"] == "local/m1.gguf"
        await pilot.press("ctrl+n")  # Finish
        assert await wait_for(pilot, lambda: wizard.step == "done")
    providers = tomllib.loads(paths.config_file().read_text())["providers"]
    assert providers["local"]["base_url"] == server.url + "/v1" and "from aider" in providers["local"]["name"]
    assert plain not in paths.config_file().read_text() + paths.active_file().read_text()
    keyring_file = Path(os.environ["LLMSWITCH_TEST_KEYRING_FILE"])
    assert not keyring_file.exists() or plain not in keyring_file.read_text()
    assert plain in (home / ".aider.conf.yml").read_text()  # aider's file is theirs: untouched

"""A key never shows in clear: the key fix lands in the masked key field, and a key typed or pasted
into any other field, on any screen, is masked at once and refused with a sentence. Text from
config.toml never reaches the terminal with its control characters."""

from __future__ import annotations

import tomllib

import pytest
from textual import events
from textual.widgets import Input, Select

from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
from llmswitch.app.screens.setup import SetupWizard
from llmswitch.app.widgets.guarded import GuardedInput, holds_key
from llmswitch.base import paths
from llmswitch.store import keys
from upstreams import FAKE_KEY, Reply, free_port, models_body, vllm_like

from . import scenes
from .scenes import probes_done, screen_text, wait_for

PASTED = "sk-proj-pasted-not-a-real-key-0042"


async def paste(pilot, text: str) -> None:
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()  # until the app has handled it


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def refused_said(app) -> bool:
    return any(t.startswith("That is a key") for t in toasts(app))


def providers() -> dict:
    return tomllib.loads(paths.config_file().read_text())["providers"]


@pytest.fixture
def keyed_vllm(upstream, isolated):
    """A local vLLM preset (no key required by the preset) whose server wants one: the probe says so."""
    server = vllm_like(upstream(), key=FAKE_KEY)
    scenes.write_config(f'[providers.vllm]\nbase_url = "{server.url}/v1"\n')
    return server


async def picker_ready(pilot, pid: str) -> None:
    assert await wait_for(pilot, lambda: probes_done(pilot.app))
    await scenes.choose_provider(pilot, pid)


@pytest.mark.parametrize("source", [None, "none", "env:VLLM_API_KEY"])
async def test_the_key_fix_opens_the_editor_in_the_masked_key_field(keyed_vllm, make_app, source):
    if source:
        scenes.write_config(f'[providers.vllm]\nbase_url = "{keyed_vllm.url}/v1"\nkey_source = "{source}"\n')
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await picker_ready(pilot, "vllm")
        assert app.picker.results["vllm"].outcome in {"auth_missing", "auth_rejected"}
        assert "press ctrl+g to enter a key for vllm" in screen_text(app)
        await pilot.press("ctrl+g")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        editor = app.screen
        key_input = editor.query_one("#f-key", Input)
        assert editor.focused is key_input and key_input.password and not key_input.disabled
        assert editor.query_one("#f-key-source", Select).value == "keyring"
        await paste(pilot, FAKE_KEY)  # straight away, as a person does after ctrl+g
        assert key_input.value == FAKE_KEY
        assert editor.query_one("#f-base-url", Input).value == keyed_vllm.url + "/v1"  # not replaced
        assert FAKE_KEY not in screen_text(app)
        if source:
            assert "key source set to keyring" in screen_text(app)
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: editor.result is not None and editor.result.usable)
        assert keys.stored("vllm") == FAKE_KEY
        assert "key_source" not in providers()["vllm"]  # keyring is the default


async def test_a_key_pasted_into_base_url_is_masked_and_refused(keyed_vllm, make_app):
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await picker_ready(pilot, "vllm")
        await pilot.press("f2")  # the plain editor (the key field has the focus: the probe saw the server want one)
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        editor = app.screen
        url = editor.query_one("#f-base-url", GuardedInput)
        url.focus()
        assert await wait_for(pilot, lambda: editor.focused is url)
        before = paths.config_file().read_text()
        await paste(pilot, PASTED)  # replaces the pre-selected URL
        assert url.password and url.holds_key
        assert PASTED not in screen_text(app)
        assert refused_said(app)
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "Base URL: that is a key" in screen_text(app))
        assert paths.config_file().read_text() == before
        assert keys.stored("vllm") is None


@pytest.mark.parametrize("field", ["#f-name", "#f-headers", "#f-id"])
async def test_a_key_typed_into_any_other_editor_field_is_refused(isolated, make_app, field):
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        await pilot.press("enter")  # Custom URL
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen))
        editor = app.screen
        editor.query_one("#f-id", Input).value = "box"
        editor.query_one("#f-base-url", Input).value = "http://127.0.0.1:9/v1"
        target = editor.query_one(field, GuardedInput)
        target.value = ""
        target.focus()
        typed = PASTED if field != "#f-headers" else "X-Title: " + PASTED
        await pilot.press(*typed)
        assert target.password
        assert PASTED not in screen_text(app)
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "that is a key" in screen_text(app))
        assert not paths.config_file().exists()


async def test_a_key_in_the_picker_filter_is_masked_and_filters_nothing(upstream, isolated, make_app):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["qwen2-5-coder-32b-instruct-0001", "tiny"])))
    scenes.write_config(f'[providers.box]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app))
        picker = app.picker
        filter_input = picker.query_one("#filter", GuardedInput)
        everything = len(picker.browser.filter.rows)
        await paste(pilot, PASTED)
        assert filter_input.password and refused_said(app)
        assert PASTED not in screen_text(app)
        assert len(picker.browser.filter.matches(filter_input.usable_value)) == everything  # not used as a query
        filter_input.value = ""
        assert await wait_for(pilot, lambda: not filter_input.password)
        long_id = "qwen2-5-coder-32b-instruct-0001"
        assert holds_key(long_id)  # shaped like a key...
        await pilot.press(*long_id)
        assert not filter_input.password  # ...but a model the filter finds: shown, and it filters
        assert [r.model for r in picker.query_one("#models").rows] == [long_id]


async def test_a_key_in_the_add_provider_search_is_masked_and_enter_is_refused(isolated, make_app):
    app = make_app(stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
        search = app.screen.query_one("#preset-search", GuardedInput)
        await paste(pilot, PASTED)
        assert search.password and refused_said(app)
        assert PASTED not in screen_text(app)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert isinstance(app.screen, PresetChooser)  # nothing chosen with it


@pytest.fixture
def nothing_local(isolated, monkeypatch):
    for name in ("OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}/v1")


async def test_a_key_in_the_wizard_fields_is_masked_at_once(nothing_local, make_app):
    app = make_app(setup=True, stable=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: isinstance(app.screen, SetupWizard) and not app.screen.detecting)
        wizard = app.screen
        await pilot.press("ctrl+n")
        add = wizard.query_one("#choose-add", GuardedInput)
        assert wizard.focused is add
        await paste(pilot, PASTED)
        assert add.password and refused_said(app)  # before Enter
        assert PASTED not in screen_text(app)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert add.value == "" and wizard.step == "choose"


def test_a_broken_config_is_printed_inert(isolated, capsys):
    from llmswitch.app import run
    from llmswitch.base.errors import Exit

    scenes.write_config('[providers."ev\\u001b[2Jil"]\nbase_url = "http://127.0.0.1:9/v1"\n')
    assert run() == Exit.USAGE
    err = capsys.readouterr().err
    assert "\x1b" not in err and "ev\\x1b[2Jil" in err

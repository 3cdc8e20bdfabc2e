"""Issue 14 (a newcomer's first hour): Pilot tests of the picker, the editor and the wizard."""

from __future__ import annotations

from textual.widgets import Input, Static

from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
from upstreams import openai_like

from . import scenes
from .scenes import probes_done, screen_text, wait_for, workers_done


async def open_editor(pilot, pid: str) -> ProviderScreen:
    app = pilot.app
    assert await wait_for(pilot, lambda: probes_done(app))
    await scenes.choose_provider(pilot, pid)
    await pilot.press("f2")
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen) and scenes.workers_done(app))
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
    assert await wait_for(pilot, lambda: app.picker is not None and app.picker.is_mounted)
    await pilot.press("ctrl+n")
    assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser))
    await pilot.press("enter")  # Enter alone: a custom URL
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProviderScreen) and scenes.workers_done(app))
    return app.screen


async def test_without_a_keyring_the_editor_defaults_to_an_env_var_and_says_why(isolated, make_app):
    import tomllib

    from keyring.backends.fail import Keyring as FailKeyring
    from textual.widgets import Select

    import keyring
    from llmswitch.base import paths

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
        assert editor.keyring_problem is None
        assert editor.query_one("#f-key-source", Select).value == "keyring"
        assert "keyring (recommended)" in screen_text(app)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def wizard_detected(pilot):
    from llmswitch.app.screens.setup import SetupWizard

    app = pilot.app
    assert await wait_for(pilot, lambda: isinstance(app.screen, SetupWizard))
    wizard = app.screen
    assert await wait_for(pilot, lambda: not wizard.detecting)
    return wizard


async def test_wizard_adds_a_server_by_its_url_named_from_what_answered(upstream, isolated, make_app):
    import tomllib

    from textual.widgets import SelectionList

    from llmswitch.base import paths
    from upstreams import FAKE_KEY, litellm_like, vllm_like

    box = vllm_like(upstream())
    proxy = litellm_like(upstream())
    app = make_app(setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await wizard_detected(pilot)
        await pilot.press("ctrl+n")
        assert wizard.step == "choose"
        add = wizard.query_one("#choose-add", Input)
        add.focus()
        await pilot.press(*"openai-compat", "enter")
        assert await wait_for(pilot, lambda: any("type the server's URL or port here" in m for m in toasts(app)))
        add.value = ""
        await pilot.press(*box.url, "enter")  # no /v1: the probe finds it
        assert await wait_for(pilot, lambda: "vllm" in wizard.custom)
        await pilot.press(*str(proxy.port), "enter")  # a port alone: this machine
        assert await wait_for(pilot, lambda: "litellm" in wizard.custom)
        choose = wizard.query_one("#choose-list", SelectionList)
        assert await wait_for(pilot, lambda: set(choose.selected) == {"vllm", "litellm"})
        assert "wants a key" in screen_text(app)
        await pilot.press("ctrl+n")
        assert wizard.step == "keys"
        assert await wait_for(pilot, lambda: "litellm key" in screen_text(app))
        text = screen_text(app)
        assert "litellm key" in text and "vllm key" not in text  # a key only where the server wants one
        wizard.query_one("#key-litellm", Input).value = FAKE_KEY
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: len(wizard.results) == 2)
        assert all(r.usable for r in wizard.results.values()), wizard.results
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+n")  # Finish with the highlighted model
        assert await wait_for(pilot, lambda: wizard.step == "done")
    written = tomllib.loads(paths.config_file().read_text())["providers"]
    assert written["vllm"]["base_url"] == f"{box.url}/v1"
    assert written["litellm"]["base_url"] == proxy.url  # LiteLLM answers /models at its root too: no fix needed


async def test_detection_looks_where_ollama_host_says(upstream, isolated, make_app, monkeypatch):
    from upstreams import ollama_like

    server = ollama_like(upstream())
    monkeypatch.setenv("OLLAMA_HOST", f"0.0.0.0:{server.port}")
    app = make_app(stable=False, setup=True)
    async with app.run_test(size=(100, 30)) as pilot:
        wizard = await wizard_detected(pilot)
        assert "ollama" in wizard.local_found
        assert f"Ollama at http://127.0.0.1:{server.port}/v1" in screen_text(app)


# --- the picker at 80 columns and after a refusal ------------------------------------------------

async def test_enter_on_a_provider_moves_to_its_models_not_a_switch(mixed_scene, make_app):
    from llmswitch.app.widgets.model_list import ModelList
    from llmswitch.store import selection

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scenes.settled(pilot)
        before = selection.read().ref
        providers = app.picker.query_one("#providers")
        providers.focus()
        await scenes.choose_provider(pilot, "openrouter")  # failing: a switch would ask first
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.focused, ModelList) and workers_done(app))
        assert isinstance(app.focused, ModelList)
        assert app.picker.view == "openrouter"
        assert app.screen is app.picker  # no "is failing — use anyway?" dialog
        assert selection.read().ref == before


async def test_after_a_401_the_empty_model_list_says_the_server_refused(upstream, isolated, make_app):
    from llmswitch.app.widgets.model_list import ModelList

    server = openai_like(upstream())
    scenes.write_config(f'[providers.box]\nbase_url = "{server.url}/v1"\n')
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "box")
        text = app.picker.query_one(ModelList).empty_text
        assert "refused" in text and "listed none" not in text
        assert "refused to list them" in screen_text(app)


async def test_the_header_drops_sort_before_it_cuts_anything(mixed_scene, make_app):
    from llmswitch.services.switch import switch

    switch("lab/Qwen/Qwen2.5-0.5B-Instruct", "default", check_key=False)
    app = make_app()
    async with app.run_test(size=(72, 24)) as pilot:
        await scenes.settled(pilot)
        bar = str(app.picker.query_one("#picker-bar", Static).content)
        assert "lab/Qwen/Qwen2.5-0.5B-Instruct" in bar
        assert "sort" not in bar  # not "sort:" cut mid-word
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await scenes.settled(pilot)
        assert "sort: name" in str(app.picker.query_one("#picker-bar", Static).content)


async def test_the_last_column_keeps_a_gap_before_the_border(mixed_scene, make_app):
    from llmswitch.app.widgets.model_list import ModelList

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "ollama")  # 2 models: no scrollbar
        model_list = app.picker.query_one(ModelList)
        assert not model_list.show_vertical_scrollbar
        line = model_list.render_line(0).text
        assert line.rstrip() != line and line.rstrip().endswith(("TV·", "TVR", "T·R", "···", "T··")), repr(line)


async def test_the_providers_pane_is_wider_on_a_wide_terminal(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await scenes.settled(pilot)
        assert app.picker.query_one("#providers-pane").size.width >= 36
        assert "✗ key rejected (checked at /key)" in screen_text(app)


async def test_toasts_leave_the_bottom_border_alone(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await scenes.settled(pilot)
        app.notify("a toast with a few words in it", title="Hello")
        assert await wait_for(pilot, lambda: "a toast with a few words" in screen_text(app))
        lines = screen_text(app).splitlines()
        bottom = next(line for line in reversed(lines) if line.startswith("╰"))
        assert bottom.endswith("╯") and set(bottom[1:-1]) == {"─"}, bottom


async def test_the_add_provider_placeholder_fits_at_80_columns(isolated, make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.picker is not None and app.picker.is_mounted)
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PresetChooser) and app.screen.query("#preset-search"))
        search = app.screen.query_one("#preset-search", Input)
        assert len(search.placeholder) <= search.size.width, (search.placeholder, search.size.width)


# --- polish ------------------------------------------------------------------------------------

def test_the_palette_lists_each_command_once_with_a_help_of_its_own(mixed_scene, make_app):
    app = make_app()

    async def run() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await scenes.settled(pilot)
            commands = list(app.get_system_commands(app.picker))
            titles = [c.title for c in commands]
            assert "Keys" not in titles and "Help: key bindings" in titles
            assert len(titles) == len(set(titles))
            assert all(c.help != c.title for c in commands), [(c.title, c.help) for c in commands if c.help == c.title]

    import asyncio

    asyncio.run(run())


async def test_an_unknown_keymap_id_is_reported(isolated, make_app, monkeypatch):
    monkeypatch.setenv("LLMSWITCH_KEYMAP", "picker.rol=ctrl+y;picker.reprobe=f6")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: "'picker.rol'" in " ".join(toasts(app)))
        said = " ".join(toasts(app))
        assert "'picker.rol'" in said and "did you mean picker.role" in said
        assert "picker.reprobe" not in said


async def test_the_failing_provider_dialog_names_the_provider_once(mixed_scene, make_app):
    from llmswitch.app.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "openrouter")
        app.picker.query_one("#filter", Input).focus()
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.question.plain
        assert "openrouter: " not in question, question  # named once, at the top
        assert question.startswith("openrouter is failing:\nkey rejected")


async def test_slash_in_the_focused_filter_starts_no_query(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scenes.settled(pilot)
        filter_input = app.picker.query_one("#filter", Input)
        filter_input.focus()
        await pilot.press("slash")
        await pilot.pause()  # until the app has handled it
        assert filter_input.value == ""
        await pilot.press(*"openai/gpt")
        assert filter_input.value == "openai/gpt"  # a slash inside a ref is text


async def test_the_add_editor_has_no_remove_and_escape_asks_before_discarding(isolated, make_app):
    from textual.widgets import Button

    from llmswitch.app.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_custom_editor(pilot)
        assert not editor.query_one("#remove", Button).display
        assert "Remove" not in screen_text(app).split("╯")[-1].split("^s")[0]  # not among the buttons
        assert "Remove" not in screen_text(app).split("\n")[-2] and "f8" not in screen_text(app)  # nor the footer
        await pilot.press("escape")  # nothing typed: leaves at once
        assert await wait_for(pilot, lambda: app.screen is app.picker)
        editor = await open_custom_editor(pilot)
        await pilot.press(*"my-box")
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Discard your changes to my-box?" in screen_text(app)
        await pilot.press("escape")  # keep editing
        assert await wait_for(pilot, lambda: app.screen is editor)
        assert editor.query_one("#f-id", Input).value == "my-box"


async def test_a_field_the_key_source_does_not_use_says_so(isolated, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await open_custom_editor(pilot)
        arg = editor.query_one("#f-key-arg", Input)
        assert arg.disabled and arg.placeholder == "not used: key source is keyring"
        assert arg.parent.has_class("-unused")


async def test_wizard_done_page_offers_only_close_and_wrapped_lines_keep_their_indent(upstream, monkeypatch,
                                                                                      isolated, make_app):
    from llmswitch.app.screens.setup import SetupWizard

    scenes.local_servers(upstream, monkeypatch.setenv)
    app = make_app(setup=True)
    async with app.run_test(size=(60, 30)) as pilot:
        await scenes.wizard_at(pilot, "detect")
        lines = screen_text(app).splitlines()
        at = next(i for i, line in enumerate(lines) if "$OPENROUTER_API_KEY" in line)
        assert lines[at + 1].lstrip("│").startswith("  "), lines[at:at + 2]  # under the text, not at column 0
        await scenes.wizard_at(pilot, "model")
        await pilot.press("ctrl+n")
        wizard = app.screen
        assert isinstance(wizard, SetupWizard)
        assert await wait_for(pilot, lambda: wizard.step == "done")
        footer = screen_text(app).splitlines()
        footer_line = next(line for line in reversed(footer) if "f1" in line)
        assert "Next" not in footer_line and "Cancel" not in footer_line and "Back" not in footer_line, footer_line
        assert "Close" in footer_line
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.screen is app.picker)


def test_a_hosted_preset_out_of_reach_says_network_first():
    from llmswitch.app.screens.setup import hosted_advice
    from llmswitch.base.outcome import Outcome, ProbeResult

    result = ProbeResult("openrouter", Outcome.DNS_FAILURE, False, "host not found: openrouter.ai",
                         "check the host name in base_url (and your network or DNS)", "https://openrouter.ai/api/v1/models",
                         {}, None, None, (), None, None, None)
    advice = hosted_advice("openrouter", result)
    assert advice is not None and "network connection" in advice and "base_url" not in advice
    assert hosted_advice("ollama", result) is None

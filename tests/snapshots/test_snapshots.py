"""Snapshots of every screen (fixed size, fake upstreams, ports and latencies hidden).

Update with ``pytest tests/snapshots --snapshot-update`` and review the report.
"""

from __future__ import annotations

import pytest

from app import scenes
from llmswitch.app.screens.confirm import ConfirmScreen
from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
from upstreams import FAKE_KEY

SIZE = (100, 30)

new_app = scenes.stable_app
settled = scenes.settled
choose_provider = scenes.choose_provider


def test_picker_mixed_statuses(mixed, snap_compare):
    assert snap_compare(new_app(), terminal_size=SIZE, run_before=settled)


def test_picker_80x24(mixed, snap_compare):
    assert snap_compare(new_app(), terminal_size=(80, 24), run_before=settled)


def test_picker_120x36(mixed, snap_compare):
    assert snap_compare(new_app(), terminal_size=(120, 36), run_before=settled)


def test_picker_filtered_by_context(mixed, snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press("ctrl+o", *"gpt-4")
        await scenes.quiet(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_picker_diagnosis_with_fix(mixed, snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await choose_provider(pilot, "lab")

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_picker_diagnosis_key_rejected(mixed, snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await choose_provider(pilot, "openrouter")

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_confirm_failing_provider(mixed, snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press(*"openrouter/anthropic", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await scenes.quiet(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(isolated, snap_compare):
    assert snap_compare(new_app(), terminal_size=SIZE, press=["f1"])


def test_preset_chooser(isolated, snap_compare):
    async def run_before(pilot):
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, PresetChooser))
        await pilot.press(*"open")
        await scenes.quiet(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_provider_editor(isolated, snap_compare):
    async def run_before(pilot):
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, PresetChooser))
        await pilot.press(*"openrouter", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ProviderScreen))
        await pilot.press(*FAKE_KEY)  # masked
        await scenes.quiet(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


wizard_at = scenes.wizard_at


@pytest.mark.parametrize("step", ["detect", "choose", "keys", "probe", "model", "done"])
def test_wizard_steps(local, snap_compare, step):
    async def run_before(pilot):
        await wizard_at(pilot, step)

    assert snap_compare(new_app(setup=True), terminal_size=SIZE, run_before=run_before)


def test_picker_whole_catalog(isolated, snap_compare):
    async def run_before(pilot):
        from llmswitch.app.screens.picker import CATALOG

        assert await scenes.wait_for(pilot, lambda: pilot.app.picker.query("#providers"))
        picker = pilot.app.picker
        options = picker.query_one("#providers")
        options.highlighted = options.get_option_index(CATALOG)
        assert await scenes.wait_for(pilot, lambda: picker.browser.catalog_rows is not None)
        await pilot.press(*"sonnet")
        await scenes.quiet(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_pick_mode_inline_picker(mixed, snap_compare):
    assert snap_compare(new_app(pick_role="small"), terminal_size=(100, 24), run_before=settled)


def test_wizard_keys_without_keyring(local, snap_compare):
    """No keyring: the step says why and suggests the env var; a pasted key is only used for the check, never stored."""
    from keyring.backends.fail import Keyring as FailKeyring
    from textual.widgets import SelectionList

    import keyring

    keyring.set_keyring(FailKeyring())

    async def run_before(pilot):
        from llmswitch.app.screens.setup import SetupWizard

        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, SetupWizard))
        wizard = pilot.app.screen
        assert await scenes.wait_for(pilot, lambda: not wizard.detecting)
        await pilot.press("ctrl+n")
        wizard.query_one("#choose-list", SelectionList).deselect("openrouter")
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: wizard.keyring_problem is not None)
        await scenes.quiet(pilot)

    assert snap_compare(new_app(setup=True), terminal_size=SIZE, run_before=run_before)


def test_wizard_nothing_detected(isolated, monkeypatch, snap_compare):
    for name in ("OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{scenes.free_port()}/v1")  # whatever runs on this machine

    async def run_before(pilot):
        await scenes.wizard_at(pilot, "choose")

    assert snap_compare(new_app(setup=True), terminal_size=(80, 24), run_before=run_before)


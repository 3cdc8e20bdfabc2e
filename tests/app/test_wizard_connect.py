"""The wizard's last step offers to connect the tools installed here: found on PATH, each only when ticked.

The tools are fake executables on a test PATH (what is tested is PATH discovery and the writes; the tools
themselves are run by the integration tier); the selection points at a real in-process Ollama-like upstream,
which answers the live probe ``connect`` sends before it writes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from textual.widgets import SelectionList

from llmswitch.app.screens.setup import SetupWizard
from llmswitch.app.widgets.tool_offer import ToolOffer
from llmswitch.store import selection
from llmswitch.tools import connect

from . import scenes
from .scenes import screen_text, wait_for


@pytest.fixture
def local_servers(upstream, monkeypatch):
    return scenes.local_servers(upstream, monkeypatch.setenv)


def fake_tools(tmp_path: Path, *commands: str) -> str:
    """A PATH holding fake executables named ``commands`` and the system's own directories."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for command in commands:
        exe = bin_dir / command
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])


def tool_files(name: str) -> list[Path]:
    return [path for path in connect.tool(name).files().values() if path.exists()]


async def test_done_step_connects_only_the_ticked_tool(local_servers, make_app, tool_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_tools(tmp_path, "llm", "aider", "gemini"))
    app = make_app(setup=True)
    async with app.run_test(size=(110, 40)) as pilot:
        await scenes.wizard_at(pilot, "done")
        wizard = app.screen
        assert isinstance(wizard, SetupWizard)
        offer = wizard.query_one(ToolOffer)
        assert await wait_for(pilot, lambda: len(offer.entries) == 3)
        tool_list = offer.query_one("#tool-list", SelectionList)
        assert offer.display and tool_list.has_focus and offer.usable
        text = screen_text(app)
        assert "Connect the tools installed here" in text and "Connect checked" in text

        # gemini-cli: shown with the one sentence connect would refuse it with, and it cannot be ticked
        gemini = tool_list.get_option("gemini-cli")
        assert gemini.disabled
        refusal = next(e.refusal for e in offer.entries if e.name == "gemini-cli")
        assert refusal.startswith("gemini-cli: Gemini CLI speaks only Google's Gemini API")
        assert "Gemini CLI speaks only" in text
        assert all(not e.refusal for e in offer.entries if e.name != "gemini-cli")

        # unticked by default: the connect key writes nothing
        assert offer.checked == []
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert scenes.workers_done(app)
        assert not any(tool_files(name) for name in ("llm", "aider", "gemini-cli"))

        # the cursor walks the list; space on each row: the refused one never becomes ticked
        for _ in range(len(offer.entries)):
            await pilot.press("space")
            await pilot.press("down")
        assert "gemini-cli" not in offer.checked
        for name in list(offer.checked):
            tool_list.deselect(name)
        await pilot.press("home")
        assert tool_list.get_option_at_index(tool_list.highlighted or 0).value == "aider"
        await pilot.press("down")  # llm
        await pilot.press("space")
        assert offer.checked == ["llm"]
        probes_before = len(local_servers["ollama"].requests_to("/v1/chat/completions"))
        await pilot.press("ctrl+o")
        assert await wait_for(pilot, lambda: not offer.connecting and "llm" in offer.results)
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert "connected (verified)" in screen_text(app)
        assert offer.results["llm"].plain.startswith("connected (verified)")

        # llm's files point at the new selection (read with the tool's own format rules); the others untouched
        llm = connect.tool("llm")
        pointing = llm.read_back({label: path.read_text() for label, path in llm.files().items()})["main"]
        chosen = selection.read("default")
        assert chosen.ref == "ollama/llama3.2:latest"
        assert pointing.base_url == local_servers["ollama"].url + "/v1"
        assert chosen.model in pointing.model
        assert len(local_servers["ollama"].requests_to("/v1/chat/completions")) > probes_before  # the live probe
        assert not tool_files("aider") and not tool_files("gemini-cli")
        assert not (tool_home / ".gemini").exists()


async def test_nothing_is_shown_when_no_tool_is_installed(local_servers, make_app, tool_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_tools(tmp_path))
    app = make_app(setup=True)
    async with app.run_test(size=(110, 40)) as pilot:
        await scenes.wizard_at(pilot, "done")
        offer = app.screen.query_one(ToolOffer)
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert offer.entries == [] and not offer.display and not offer.usable
        assert "Connect the tools installed here" not in screen_text(app)
        assert not app.screen.check_action("connect_tools", ())

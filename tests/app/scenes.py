"""Scenes for app tests, snapshots and ``scripts/screenshots.py``: fake upstreams + config.

Everything is local: fake servers on 127.0.0.1 (ephemeral ports), config and
state dirs from the caller's environment (the ``isolated`` fixture, or the
screenshot script's temp dir), keys in the test keyring. ``stable`` hides the
ports and latencies so snapshots are deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from upstreams import (
    FAKE_KEY,
    OTHER_KEY,
    FakeUpstream,
    Reply,
    free_port,
    ollama_like,
    openai_like,
    openrouter_like,
    vllm_like,
)

OPENAI_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini", "ft:gpt-4o-mini:acme:custom")


def no_tools_path() -> str:
    """A ``PATH`` with this interpreter's folder and the system's, and no tool installed by the person running the
    tests in their own folders: the wizard's Done page lists the tools found on ``PATH``, and a screen must not
    depend on what this machine has installed (a test that wants tools puts fake ones on a ``PATH`` of its own)."""
    import os
    import sys

    return os.pathsep.join(dict.fromkeys([os.path.dirname(sys.executable), "/usr/bin", "/bin"]))


def stable(text: str) -> str:
    """Hide what changes from run to run: ports, latencies and the temporary config dir."""
    import os

    config_dir = os.environ.get("LLMSWITCH_CONFIG_DIR")
    if config_dir:
        text = text.replace(config_dir, "~/.config/llmswitch")
    text = re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:PORT", text)
    return re.sub(r"\d+(?:\.\d+)? ms\b", "N ms", text)


def stable_app_class():
    """The app as tests, snapshots and screenshots see it: nothing that changes between runs.

    Text goes through :func:`stable` (ports, latencies, the temp config dir hidden) and text
    cursors never blink. The app itself has no switch for either: this subclass is the fixture.
    """
    from textual import events
    from textual.widgets import Input

    from llmswitch.app import app as app_module
    from llmswitch.app.app import LLMSwitchApp

    here = Path(app_module.__file__).parent

    class StableApp(LLMSwitchApp):
        CSS_PATH = [here / path for path in LLMSwitchApp.CSS_PATH]  # relative paths would be read beside this file

        def shown(self, text: object, limit: int | None = None) -> str:
            return stable(super().shown(text, limit))

        def shown_lines(self, text: str) -> str:
            return stable(super().shown_lines(text))

        def on_descendant_focus(self, event: events.DescendantFocus) -> None:
            if isinstance(event.widget, Input):
                event.widget.cursor_blink = False  # steady: a snapshot never catches it half-way

    return StableApp


def stable_app(**kwargs):
    """A :func:`stable_app_class` app; the config is loaded now unless given."""
    from llmswitch.store.config import load

    kwargs.setdefault("config", load())
    return stable_app_class()(**kwargs)


def screen_text(app) -> str:
    """What is on screen, as plain text: the frame ``export_screenshot`` draws, printed as text instead of SVG."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text().replace("\xa0", " ")


async def wait_for(pilot, predicate, timeout: float = 30.0) -> bool:
    """Let the app run until ``predicate()`` holds, then until it has handled what that set off.

    The ceiling is generous (a busy machine is slow, not wrong); past it the test fails naming the
    condition's line. Returns True, so ``assert await wait_for(...)`` reads as before.
    """
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            code = predicate.__code__
            raise AssertionError(f"waited {timeout:g} s for the condition at {Path(code.co_filename).name}:"
                                 f"{code.co_firstlineno}; it never held")
        # the app runs on this loop meanwhile, repainting at its own pace; a pilot.pause() here would make
        # every widget answer a message and force a repaint on each poll (most of an app test's CPU)
        await asyncio.sleep(0.02)
    await pilot.pause()  # the messages the change posted are handled before the test looks
    return True


def workers_done(app) -> bool:
    """Every worker the app started (probes, writes, catalog loads) has finished."""
    return all(worker.is_finished for worker in app.workers)


async def quiet(pilot) -> None:
    """Until every worker has finished and the app has handled what they posted (a snapshot's moment)."""
    assert await wait_for(pilot, lambda: workers_done(pilot.app))


def probes_done(app) -> bool:
    """The picker has a result for every provider it probes."""
    from llmswitch.app.widgets.provider_list import ProviderList

    picker = app.picker
    found = picker.query(ProviderList) if picker is not None else ()
    providers = found.first() if found else None
    return providers is not None and not providers.probing and len(providers.results) >= len(
        [p for p in providers.providers.values() if p.base_url])


def local_servers(make, setenv) -> dict[str, FakeUpstream]:
    """Ollama and a LiteLLM proxy (master key) answering; the other local ports refuse; an env key."""
    from upstreams import litellm_like

    ollama = ollama_like(make())
    litellm = litellm_like(make())
    setenv("OLLAMA_BASE_URL", ollama.url + "/v1")
    setenv("LITELLM_PROXY_URL", litellm.url + "/v1")
    for name in ("VLLM_BASE_URL", "LMSTUDIO_BASE_URL", "LLAMACPP_BASE_URL"):
        setenv(name, f"http://127.0.0.1:{free_port()}/v1")
    setenv("OPENROUTER_API_KEY", "sk-test-not-a-real-key-env")
    return {"ollama": ollama, "litellm": litellm}


@dataclass
class Scene:
    servers: dict[str, FakeUpstream] = field(default_factory=dict)
    refused_url: str = ""

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def start(name: str, scene: Scene, make=None) -> FakeUpstream:
    server = make() if make else FakeUpstream().start()
    scene.servers[name] = server
    return server


def write_config(text: str) -> Path:
    from llmswitch.base import paths

    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text)
    path.chmod(0o600)
    return path


def mixed(make=None, *, active: bool = True) -> Scene:
    """Five providers: working, key rejected, keyless, wrong base URL (fix available), nothing listening.

    ``make`` is the ``upstream`` fixture (servers stop at teardown); without it
    the caller must call ``scene.stop()``.
    """
    from llmswitch.services.switch import switch
    from llmswitch.store import keys, state

    scene = Scene()
    openai = openai_like(start("openai", scene, make), models=OPENAI_MODELS)
    router = openrouter_like(start("openrouter", scene, make))
    ollama = ollama_like(start("ollama", scene, make))
    lab = vllm_like(start("lab", scene, make))
    scene.refused_url = f"http://127.0.0.1:{free_port()}/v1"
    write_config(f"""\
[providers.openai]
base_url = "{openai.url}/v1"
favorites = ["gpt-4.1"]

[providers.openrouter]
base_url = "{router.url}/api/v1"

[providers.ollama]
base_url = "{ollama.url}/v1"

[providers.lab]
name = "Lab vLLM box"
base_url = "{lab.url}"

[providers.vllm]
base_url = "{scene.refused_url}"
""")
    keys.store("openai", FAKE_KEY)
    keys.store("openrouter", OTHER_KEY)
    if active:
        switch("openai/gpt-4o-mini", "default", check_key=False)
        state.add_recent("openai/gpt-4o-mini")
    return scene


def single(make=None, *, key: str | None = FAKE_KEY, hang: bool = False) -> Scene:
    """One OpenAI-like provider ``acme``; ``hang`` makes /models never answer."""
    from llmswitch.store import keys

    scene = Scene()
    server = openai_like(start("acme", scene, make), models=("alpha-1", "beta-2"))
    if hang:
        server.get("/v1/models", Reply(hang=True))
    write_config(f'[providers.acme]\nbase_url = "{server.url}/v1"\n')
    if key:
        keys.store("acme", key)
    return scene


def many_models(n: int = 5000) -> list:
    """``n`` rows from the catalog (repeated with suffixes when it has fewer)."""
    from llmswitch.services.models import make_row
    from llmswitch.store import catalog

    models = catalog.all_models()
    rows = []
    i = 0
    while len(rows) < n:
        pid, info = models[i % len(models)]
        suffix = "" if i < len(models) else f"-v{i // len(models)}"
        rows.append(make_row(pid, info.id + suffix, info))
        i += 1
    return rows


async def settled(pilot) -> None:
    """Every probe of the picker has answered."""
    assert await wait_for(pilot, lambda: probes_done(pilot.app))


async def choose_provider(pilot, pid: str) -> None:
    """Highlight a provider in the picker's providers pane."""
    picker = pilot.app.picker
    picker.query_one("#providers").highlighted = list(picker.providers).index(pid) + 1
    assert await wait_for(pilot, lambda: picker.view == pid)


async def wizard_at(pilot, step: str) -> None:
    """Walk the setup wizard (local_servers scene) to ``step``, as a person would."""
    from llmswitch.app.screens.setup import STEPS, SetupWizard

    app = pilot.app
    assert await wait_for(pilot, lambda: isinstance(app.screen, SetupWizard))
    wizard = app.screen
    assert await wait_for(pilot, lambda: not wizard.detecting)
    while wizard.step != step:
        if wizard.step == "choose":
            wizard.query_one("#choose-list").deselect("openrouter")  # keep it local
        if wizard.step == "keys":
            wizard.query_one("#key-litellm").value = FAKE_KEY
        if wizard.step == "probe":
            assert await wait_for(pilot, lambda: len(wizard.results) == 2)
        if wizard.step == "model":
            await pilot.press(*"llama3.2", "enter", "ctrl+t")
            wizard.query_one("#model-filter").value = ""
            await pilot.press(*"litellm/gpt", "enter")
        before = wizard.step
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda before=before: wizard.step != before)
        assert STEPS.index(wizard.step) <= STEPS.index(step)
    if step == "probe":
        assert await wait_for(pilot, lambda: len(wizard.results) == 2)
    assert await wait_for(pilot, lambda: workers_done(app))

"""Generate screenshots/*.svg from the same scenes as the tests.

    python scripts/screenshots.py            # all
    python scripts/screenshots.py picker     # names containing "picker"
    python scripts/screenshots.py --captions # the image lines of docs/picker.md

Everything is local and throw-away: fake upstream servers on 127.0.0.1
(ephemeral ports, hidden on screen), config/cache/state dirs and a test
keyring file under a temporary directory. The real home directory, keyring
and network are never touched.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
for extra in (ROOT / "tests", ROOT / "tests" / "support"):  # the test helpers: upstreams, app.scenes, testkeyring
    sys.path.insert(0, str(extra))

LEAKY = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY", "GROQ_API_KEY", "ANTHROPIC_API_KEY",
         "OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL")


CONVENTIONAL_PORTS = {"ollama": 11434, "lab": 8000, "vllm": 8000, "litellm": 4000, "lm_studio": 1234, "llamacpp": 8080,
                      "openai": 4010, "openrouter": 4020}
"""What each scene's server is shown listening on (the real ports are ephemeral): a picture reads like a machine."""
URL_VARS = {"VLLM_BASE_URL": "vllm", "LMSTUDIO_BASE_URL": "lm_studio", "LLAMACPP_BASE_URL": "llamacpp",
            "OLLAMA_BASE_URL": "ollama", "LITELLM_PROXY_URL": "litellm"}

CAPTIONS = {
    "picker": "The picker with providers in mixed states",
    "picker-80x24": "The picker in an 80×24 terminal",
    "picker-filter": "Filtering models, sorted by context",
    "picker-diagnosis": "Diagnosis of a rejected key",
    "picker-diagnosis-v1": "Diagnosis of a base URL missing /v1, with the fix ctrl+g applies",
    "picker-failing-confirm": "Switching to a failing provider asks first",
    "picker-whole-catalog": "Searching the whole catalog",
    "provider-editor": "The provider editor",
    "provider-editor-no-keyring": "The provider editor without a keyring: the key is read from an env var",
    "help": "Every key binding (F1)",
    "wizard-1-detect": "Setup wizard: detection",
    "wizard-2-choose": "Setup wizard: choose providers (a preset id, a URL or a port adds one)",
    "wizard-3-keys": "Setup wizard: keys",
    "wizard-3-keys-no-keyring": "Setup wizard without a keyring (a headless first run): keys from env vars",
    "wizard-4-probe": "Setup wizard: probe",
    "wizard-5-model": "Setup wizard: default model",
    "wizard-6-done": "Setup wizard: done",
}
"""The caption of each screenshot in docs/picker.md (``--captions`` prints the Markdown)."""


class Sandbox:
    """Fresh dirs, a test keyring and fake servers for one screenshot."""

    def __init__(self, root: Path, name: str):
        self.home = root / name
        self.servers = []
        self.saved = dict(os.environ)
        self.ports: dict[int, int] = {}
        """Real port → the port shown (:data:`CONVENTIONAL_PORTS`)."""

    def show_as(self, names: dict[str, object]) -> None:
        """Show each named server (a FakeUpstream, or a URL) on its conventional port."""
        from urllib.parse import urlsplit

        for name, server in names.items():
            port = server.port if hasattr(server, "port") else urlsplit(str(server)).port
            if port and name in CONVENTIONAL_PORTS:
                self.ports.setdefault(port, CONVENTIONAL_PORTS[name])

    def show_env_urls(self) -> None:
        self.show_as({name: os.environ[var] for var, name in URL_VARS.items() if os.environ.get(var)})

    def __enter__(self) -> Sandbox:
        from testkeyring import FileKeyring

        import keyring

        for name in LEAKY:
            os.environ.pop(name, None)
        for name in [n for n in os.environ if n.startswith("LLMSWITCH_")]:
            os.environ.pop(name)
        os.environ.update(LLMSWITCH_CONFIG_DIR=str(self.home / "config"), LLMSWITCH_CACHE_DIR=str(self.home / "cache"),
                          LLMSWITCH_STATE_DIR=str(self.home / "state"),
                          LLMSWITCH_TEST_KEYRING_FILE=str(self.home / "keyring.json"))
        self.home.mkdir(parents=True)
        keyring.set_keyring(FileKeyring())
        return self

    def make(self):
        from upstreams import FakeUpstream

        server = FakeUpstream().start()
        self.servers.append(server)
        return server

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.stop()
        os.environ.clear()
        os.environ.update(self.saved)


Shot = tuple[str, tuple[int, int], Callable[[Sandbox], dict], Callable[[object], Awaitable[None]] | None]


def _shots() -> list[Shot]:
    from app import scenes
    from llmswitch.app.screens.confirm import ConfirmScreen
    from llmswitch.app.screens.provider import PresetChooser, ProviderScreen
    from upstreams import FAKE_KEY

    def mixed(box: Sandbox) -> dict:
        scene = scenes.mixed(box.make)
        box.show_as({**scene.servers, "vllm": scene.refused_url})
        return {}

    def wizard(box: Sandbox) -> dict:
        box.show_as(scenes.local_servers(box.make, box.setenv))
        box.show_env_urls()
        return {"setup": True}

    def no_keyring(setup: Callable[[Sandbox], dict]) -> Callable[[Sandbox], dict]:
        """The scene on a headless first run: no Secret Service, so the keyring cannot be used."""
        def made(box: Sandbox) -> dict:
            from keyring.backends.fail import Keyring as FailKeyring

            import keyring

            options = setup(box)
            keyring.set_keyring(FailKeyring())
            return options
        return made

    def empty(box: Sandbox) -> dict:
        return {}

    async def picker(pilot) -> None:
        await scenes.settled(pilot)

    async def filtered(pilot) -> None:
        await scenes.settled(pilot)
        await pilot.press("ctrl+o", *"gpt-4")
        await scenes.quiet(pilot)

    async def diagnosis(pilot) -> None:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "openrouter")  # a rejected key, as the caption says

    async def diagnosis_v1(pilot) -> None:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "lab")  # base_url without /v1: the fix is offered

    async def failing(pilot) -> None:
        await scenes.settled(pilot)
        await pilot.press(*"openrouter/anthropic", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await scenes.quiet(pilot)

    async def editor(pilot) -> None:
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, PresetChooser))
        await pilot.press(*"openrouter", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ProviderScreen))
        await pilot.press(*FAKE_KEY)
        await scenes.quiet(pilot)

    async def editor_no_keyring(pilot) -> None:
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, PresetChooser))
        await pilot.press("enter")  # a custom URL
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ProviderScreen))
        editor = pilot.app.screen
        assert await scenes.wait_for(pilot, lambda: editor.keyring_problem is not None)
        await pilot.press(*"gpu-box")
        editor.query_one("#f-base-url").value = "http://127.0.0.1:8000/v1"
        await scenes.quiet(pilot)

    async def whole_catalog(pilot) -> None:
        from llmswitch.app.screens.picker import CATALOG

        await scenes.settled(pilot)
        options = pilot.app.picker.query_one("#providers")
        options.highlighted = options.get_option_index(CATALOG)
        assert await scenes.wait_for(pilot, lambda: pilot.app.picker.browser.catalog_rows is not None)
        await pilot.press(*"sonnet")
        await scenes.quiet(pilot)

    async def help_screen(pilot) -> None:
        await pilot.press("f1")
        await scenes.quiet(pilot)

    def step(name: str):
        async def run(pilot) -> None:
            await scenes.wizard_at(pilot, name)
        return run

    size = (100, 30)
    shots: list[Shot] = [
        ("picker", size, mixed, picker),
        ("picker-80x24", (80, 24), mixed, picker),
        ("picker-filter", size, mixed, filtered),
        ("picker-diagnosis", size, mixed, diagnosis),
        ("picker-diagnosis-v1", size, mixed, diagnosis_v1),
        ("picker-failing-confirm", size, mixed, failing),
        ("picker-whole-catalog", size, mixed, whole_catalog),
        ("provider-editor", size, empty, editor),
        ("provider-editor-no-keyring", size, no_keyring(empty), editor_no_keyring),
        ("help", size, empty, help_screen),
    ]
    shots += [(f"wizard-{i}-{name}", size, wizard, step(name))
              for i, name in enumerate(("detect", "choose", "keys", "probe", "model", "done"), start=1)]
    shots.insert(shots.index(next(s for s in shots if s[0] == "wizard-3-keys")) + 1,
                 ("wizard-3-keys-no-keyring", size, no_keyring(wizard), step("keys")))
    return shots


def screenshot_app(ports: dict[int, int], **options):
    """The stable app, with plausible numbers where the tests show placeholders (``N ms``, ``127.0.0.1:PORT``)."""
    import re

    from app import scenes
    from llmswitch.app.app import LLMSwitchApp

    def pretty(text: str) -> str:
        config_dir = os.environ.get("LLMSWITCH_CONFIG_DIR")
        if config_dir:
            text = text.replace(config_dir, "~/.config/llmswitch")
        text = re.sub(r"(127\.0\.0\.1|localhost):(\d+)",
                      lambda m: f"{m.group(1)}:{ports.get(int(m.group(2)), 9000)}", text)
        return re.sub(r"\d+(?:\.\d+)? ms\b", "12 ms", text)

    class ScreenshotApp(scenes.stable_app_class()):
        def shown(self, text: object, limit: int | None = None) -> str:
            return pretty(LLMSwitchApp.shown(self, text, limit))

        def shown_lines(self, text: str) -> str:
            return pretty(LLMSwitchApp.shown_lines(self, text))

    from llmswitch.store.config import load

    options.setdefault("config", load())
    return ScreenshotApp(**options)


async def _take(name: str, size: tuple[int, int], setup, run_before, root: Path) -> Path:
    with Sandbox(root, name) as box:
        options = setup(box)
        app = screenshot_app(box.ports, **options)
        async with app.run_test(size=size) as pilot:
            if run_before is not None:
                await run_before(pilot)
            path = OUT / f"{name}.svg"
            app.save_screenshot(str(path))
    return path


def main(argv: list[str]) -> int:
    if argv[1:] == ["--captions"]:  # docs/picker.md's lines, in the order the shots are taken
        for name, *_ in _shots():
            print(f"![{CAPTIONS[name]}](../screenshots/{name}.svg)")
        return 0
    OUT.mkdir(exist_ok=True)
    from app import scenes

    os.environ["PATH"] = scenes.no_tools_path()  # the pictures never show what this machine has installed
    wanted = argv[1:]
    with tempfile.TemporaryDirectory(prefix="llmswitch-shots-") as tmp:
        for name, size, setup, run_before in _shots():
            if wanted and not any(w in name for w in wanted):
                continue
            path = asyncio.run(_take(name, size, setup, run_before, Path(tmp)))
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

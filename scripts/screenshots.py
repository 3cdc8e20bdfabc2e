"""Generate screenshots/*.svg from the same scenes as the tests.

    python scripts/screenshots.py            # all
    python scripts/screenshots.py picker     # names containing "picker"

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


class Sandbox:
    """Fresh dirs, a test keyring and fake servers for one screenshot."""

    def __init__(self, root: Path, name: str):
        self.home = root / name
        self.servers = []
        self.saved = dict(os.environ)

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
        scenes.mixed(box.make)
        return {}

    def wizard(box: Sandbox) -> dict:
        scenes.local_servers(box.make, box.setenv)
        return {"setup": True}

    def empty(box: Sandbox) -> dict:
        return {}

    async def picker(pilot) -> None:
        await scenes.settled(pilot)

    async def filtered(pilot) -> None:
        await scenes.settled(pilot)
        await pilot.press("ctrl+o", *"gpt-4")
        await pilot.pause(0.1)

    async def diagnosis(pilot) -> None:
        await scenes.settled(pilot)
        await scenes.choose_provider(pilot, "lab")

    async def failing(pilot) -> None:
        await scenes.settled(pilot)
        await pilot.press(*"openrouter/anthropic", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.pause(0.1)

    async def editor(pilot) -> None:
        await pilot.press("ctrl+n")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, PresetChooser))
        await pilot.press(*"openrouter", "enter")
        assert await scenes.wait_for(pilot, lambda: isinstance(pilot.app.screen, ProviderScreen))
        await pilot.press(*FAKE_KEY)
        await pilot.pause(0.2)

    async def whole_catalog(pilot) -> None:
        from llmswitch.app.screens.picker import CATALOG

        await scenes.settled(pilot)
        options = pilot.app.picker.query_one("#providers")
        options.highlighted = options.get_option_index(CATALOG)
        assert await scenes.wait_for(pilot, lambda: pilot.app.picker.catalog_rows is not None)
        await pilot.press(*"sonnet")
        await pilot.pause(0.1)

    async def help_screen(pilot) -> None:
        await pilot.press("f1")
        await pilot.pause(0.1)

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
        ("picker-failing-confirm", size, mixed, failing),
        ("picker-whole-catalog", size, mixed, whole_catalog),
        ("provider-editor", size, empty, editor),
        ("help", size, empty, help_screen),
    ]
    shots += [(f"wizard-{i}-{name}", size, wizard, step(name))
              for i, name in enumerate(("detect", "choose", "keys", "probe", "model", "done"), start=1)]
    return shots


async def _take(name: str, size: tuple[int, int], setup, run_before, root: Path) -> Path:
    from app import scenes

    with Sandbox(root, name) as box:
        options = setup(box)
        app = scenes.stable_app(**options)
        async with app.run_test(size=size) as pilot:
            if run_before is not None:
                await run_before(pilot)
            path = OUT / f"{name}.svg"
            app.save_screenshot(str(path))
    return path


def main(argv: list[str]) -> int:
    OUT.mkdir(exist_ok=True)
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

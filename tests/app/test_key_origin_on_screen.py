"""The picker says where the key really came from, and offers ctrl+g only where a stored key would be sent."""

from __future__ import annotations

from llmswitch.app.screens.provider import ProviderScreen
from upstreams import FAKE_KEY, OTHER_KEY, vllm_like

from . import scenes
from .scenes import probes_done, screen_text, wait_for


async def test_an_override_is_named_and_ctrl_g_does_not_offer_the_keyring(upstream, isolated, make_app, monkeypatch):
    server = vllm_like(upstream(), key=FAKE_KEY)
    scenes.write_config(f'[providers.vllm]\nbase_url = "{server.url}/v1"\n')
    monkeypatch.setenv("LLMSWITCH_KEY_VLLM", OTHER_KEY)  # wins over the keyring: storing a key there changes nothing
    app = make_app(stable=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(pilot.app))
        await scenes.choose_provider(pilot, "vllm")
        assert app.picker.results["vllm"].outcome == "auth_rejected"
        text = " ".join(screen_text(app).split())
        assert "key: env LLMSWITCH_KEY_VLLM" in text and "press ctrl+g to enter a key" not in text
        assert "— put the right key in" in text and "LLMSWITCH_KEY_VLLM (it wins over every other source" in text
        await pilot.press("ctrl+g")
        assert await wait_for(pilot, lambda: scenes.workers_done(app))
        assert not isinstance(app.screen, ProviderScreen)
        assert OTHER_KEY not in screen_text(app)

"""The picker with a LiteLLM proxy: context and prices from /model/info, embedding models by role."""

from __future__ import annotations

from llmswitch.app.widgets.model_list import ModelList
from upstreams import FAKE_KEY, litellm_gateway_like, litellm_model_info

from . import scenes
from .scenes import probes_done, screen_text, wait_for

ENTRIES = (
    litellm_model_info("team-large", "openai/gpt-4o", max_input_tokens=128000, max_output_tokens=16384,
                       input_cost_per_token=2.5e-06, output_cost_per_token=1e-05, mode="chat"),
    litellm_model_info("team-embed", "openai/text-embedding-3-small", max_input_tokens=8191,
                       input_cost_per_token=2e-08, mode="embedding"),
)


async def test_the_picker_shows_a_gateways_context_prices_and_keeps_embeddings_for_their_role(
        upstream, isolated, make_app):
    from llmswitch.store import keys

    server = litellm_gateway_like(upstream(), entries=ENTRIES)
    scenes.write_config(f'[providers.team]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    keys.store("team", FAKE_KEY)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app) and server.requests_to("/v1/model/info"))
        assert await wait_for(pilot, lambda: any(r.metadata == "gateway" for r in app.picker.browser.filter.rows))
        models = app.picker.query_one(ModelList)
        assert [r.model for r in app.picker.browser.filter.rows] == ["team-large"], "no embedding model as a chat default"
        text = screen_text(app)
        assert "128k" in text and "2.5" in text
        await pilot.press(*"team-large")
        assert await wait_for(pilot, lambda: "from the gateway → openai/gpt-4o" in screen_text(app))
        assert models.highlighted is not None and models.highlighted.model == "team-large"
        assert "from the gateway → openai/gpt-4o" in screen_text(app)
        assert "gateway metadata: 2 models, fetched just now" in screen_text(app)
        await pilot.press("ctrl+t", "ctrl+t")
        assert app.picker.role == "embedding"
        assert [r.model for r in app.picker.browser.filter.rows] == ["team-embed"]


async def test_the_palette_says_context_and_price_from_the_gateway(upstream, isolated, make_app):
    from llmswitch.store import keys

    server = litellm_gateway_like(upstream(), entries=ENTRIES)
    scenes.write_config(f'[providers.team]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    keys.store("team", FAKE_KEY)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: any(r.metadata == "gateway" for r in app.picker.browser.filter.rows))
        await pilot.press("ctrl+p")
        await pilot.press(*"team-large")
        assert await wait_for(pilot, lambda: "ctx 128k · $2.5/$10 per M · from the gateway" in screen_text(app))


PRICED = (
    litellm_model_info("cheap", "openai/gpt-4o-mini", input_cost_per_token=1.5e-07, output_cost_per_token=6e-07),
    litellm_model_info("dear", "openai/gpt-4o", input_cost_per_token=2.5e-06, output_cost_per_token=1e-05),
)


async def test_a_much_dearer_model_asks_first_and_no_keeps_the_current_one(upstream, isolated, make_app):
    from llmswitch.app.screens.confirm import ConfirmScreen
    from llmswitch.services.switch import switch
    from llmswitch.store import keys, selection

    server = litellm_gateway_like(upstream(), entries=PRICED)
    scenes.write_config(f'[providers.team]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    keys.store("team", FAKE_KEY)
    switch("team/cheap", check_key=False)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: any(r.metadata == "gateway" for r in app.picker.browser.filter.rows))
        await pilot.press(*"team/dear", "enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "17× team/cheap" in screen_text(app)
        await pilot.press("n")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen) and scenes.workers_done(app))
        assert selection.read("default").ref == "team/cheap"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert await wait_for(pilot, lambda: selection.read("default").ref == "team/dear")


async def test_the_details_panel_shows_the_budget_and_its_age(upstream, isolated, make_app):
    from llmswitch.store import keys

    server = litellm_gateway_like(upstream(), entries=PRICED, key_info={"spend": 40.0, "max_budget": 100.0})
    scenes.write_config(f'[providers.team]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    keys.store("team", FAKE_KEY)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: server.requests_to("/key/info"))
        await pilot.press(*"team/cheap")
        assert await wait_for(pilot, lambda: "budget: $60.00 of $100.00 left · just now" in screen_text(app))


async def test_the_picker_marks_providers_from_the_team_file(upstream, isolated, make_app, tmp_path):
    from llmswitch.store import team
    from llmswitch.store.config import load_file
    from llmswitch.store.team import Fetched

    server = litellm_gateway_like(upstream(), entries=PRICED)
    scenes.write_config('[providers.mine]\nbase_url = "https://mine.example/v1"\nkey_source = "none"\n')
    body = f'[providers.corp]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n'.encode()
    team.check(body, "team.toml", load_file())
    team.record(body, str(tmp_path / "team.toml"), Fetched(body), (), ())
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: "corp (team)" in screen_text(app))
        text = screen_text(app)
        assert "corp (team)" in text and "mine (team)" not in text

"""A llama.cpp server started with a small context: the picker says "served 512 of 2k" and warns, before a switch."""

from __future__ import annotations

from llmswitch.app.widgets.details import DetailsPanel
from upstreams import Reply, llamacpp_like

from . import scenes
from .scenes import probes_done, wait_for


async def test_the_details_say_what_the_server_serves_and_warn_before_the_switch(upstream, isolated, make_app):
    scene = scenes.Scene()
    server = llamacpp_like(scenes.start("box", scene, upstream))  # meta.n_ctx_train 2048 on /v1/models
    server.get("/props", Reply.json({"default_generation_settings": {"n_ctx": 512}, "model_alias": "tiny.gguf"}))
    scenes.write_config(f'[providers.box]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    app = make_app(stable=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: probes_done(app))
        await pilot.press(*"box/tiny")
        panel = app.picker.query_one(DetailsPanel)
        assert await wait_for(pilot, lambda: "served 512 of 2k" in str(panel.render()))
        shown = str(panel.render())
        assert "⚠" in shown and "--ctx-size" in shown, shown
        assert "serves: chat" in shown
        assert app.picker.results["box"].usable  # nothing switched: it says so before Enter
        from llmswitch.app.commands import SwitchModelCommands

        hits = [hit async for hit in SwitchModelCommands(app.screen).search("tiny")]
        assert [h.help for h in hits if "box/tiny.gguf" in str(h.text)] == ["⚠ served 512 of 2k"]

"""Pilot tests for the picker: switching, confirmation, filter, re-probe, apply-fix, 80×24."""

from __future__ import annotations

import tomllib

import pytest

from llmswitch.app.screens.confirm import ConfirmScreen
from llmswitch.app.widgets.model_list import ModelList
from llmswitch.base import paths
from llmswitch.store import selection
from upstreams import FAKE_KEY, openai_like

from . import scenes
from .scenes import probes_done, screen_text, wait_for, workers_done


async def ready(pilot) -> None:
    assert await wait_for(pilot, lambda: probes_done(pilot.app)), "probes did not finish"


async def test_statuses_are_live_and_mixed(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        outcomes = {pid: str(r.outcome) for pid, r in app.picker.results.items()}
        assert outcomes == {"openai": "ok", "openrouter": "auth_rejected", "ollama": "keyless",
                            "lab": "not_found", "vllm": "connection_refused"}
        text = screen_text(app)
        assert "5 models" in text and "key rejected" in text and "no server on" in text


async def test_enter_switches_and_writes_active_file(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"ollama/qwen")
        assert app.picker.query_one(ModelList).highlighted.ref == "ollama/qwen2.5:0.5b"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: selection.read("default").ref == "ollama/qwen2.5:0.5b")
        sel = selection.read("default")
        assert sel.base_url == mixed_scene.servers["ollama"].url + "/v1"
        assert await wait_for(pilot, lambda: any("ollama / qwen2.5:0.5b" in str(n.message) for n in app._notifications))
        toasts = [str(n.message) for n in app._notifications]
        assert any("ollama / qwen2.5:0.5b" in t and "127.0.0.1" in t for t in toasts), toasts


async def test_role_switcher_sets_small(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+t")
        assert app.picker.role == "small"
        await pilot.press(*"openai/gpt-4o")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: "small" in selection.read_all())
        assert selection.read("small").ref.startswith("openai/gpt-4o")
        assert selection.read("default").ref == "openai/gpt-4o-mini"


async def test_failing_provider_asks_and_says_why(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"openrouter/anthropic")
        assert app.picker.query_one(ModelList).highlighted.provider == "openrouter"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and "key rejected" in screen_text(app))
        await pilot.press("n")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen) and workers_done(app))
        assert selection.read("default").ref == "openai/gpt-4o-mini"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert await wait_for(pilot, lambda: selection.read("default").provider == "openrouter")


async def test_filter_narrows_and_escape_clears(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        model_list = app.picker.query_one(ModelList)
        everything = len(model_list.rows)
        await pilot.press(*"qwen")
        assert 0 < len(model_list.rows) < everything
        assert all("q" in r.haystack for r in model_list.rows)
        assert model_list.rows[0].ref in ("ollama/qwen2.5:0.5b", "lab/Qwen/Qwen2.5-0.5B-Instruct")
        await pilot.press("escape")
        assert len(model_list.rows) == everything


async def test_models_merge_live_and_catalog(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        rows = {r.model: r for r in app.picker.rows_for("openai")}
        assert rows["gpt-4o"].listing == "listed" and rows["gpt-4o"].context  # live + catalog metadata
        assert rows["ft:gpt-4o-mini:acme:custom"].listing == "listed" and not rows["ft:gpt-4o-mini:acme:custom"].in_catalog
        assert rows["gpt-3.5-turbo"].listing == "not-listed"  # catalog only: marked
        assert rows["gpt-4.1"].favorite
        model_list = app.picker.query_one(ModelList)
        assert [r.ref for r in model_list.rows[:2]] == ["openai/gpt-4o-mini", "openai/gpt-4.1"]  # recent, favourite


async def test_reprobe_cancels_the_sweep_in_flight(upstream, isolated, make_app):
    scene = scenes.single(upstream, hang=True)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        picker = app.picker
        assert await wait_for(pilot, lambda: "acme" in picker.provider_list.probing)
        first = [w for w in picker.workers if w.group == "probe"][0]
        assert await wait_for(pilot, lambda: scene.servers["acme"].requests_to("/v1/models"))
        assert "acme" not in picker.results  # still hanging: the server has the request and does not answer
        openai_like(scene.servers["acme"], models=("alpha-1", "beta-2"))  # now it answers
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: "acme" in picker.results)
        assert first.is_cancelled
        assert picker.provider_list.probe_generation == 2
        assert picker.results["acme"].usable
        assert "2 models" in screen_text(app)


async def test_apply_fix_sets_suggested_base_url(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.picker.query_one("#providers").highlighted = list(app.picker.providers).index("lab") + 1
        assert await wait_for(pilot, lambda: app.picker.view == "lab")
        assert "set base_url to" in screen_text(app) and "press ctrl+g" in screen_text(app)
        await pilot.press("ctrl+g")
        lab_url = mixed_scene.servers["lab"].url
        config = lambda: tomllib.loads(paths.config_file().read_text())["providers"]["lab"]  # noqa: E731
        assert await wait_for(pilot, lambda: config()["base_url"] == lab_url + "/v1")
        assert config()["name"] == "Lab vLLM box"  # the other settings are kept
        assert await wait_for(pilot, lambda: app.picker.results.get("lab") is not None
                              and app.picker.results["lab"].usable)


async def test_works_in_80x24(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        model_list = app.picker.query_one(ModelList)
        assert model_list.size.height >= 5
        assert model_list.size.width >= 40
        text = screen_text(app)
        assert "Use model" in text or "Re-probe" in text
        await pilot.press("f1")
        assert await wait_for(pilot, lambda: "picker.switch" in screen_text(app))
        await pilot.press("escape")
        await pilot.press("f2")
        assert await wait_for(pilot, lambda: "Base URL" in screen_text(app))


async def test_no_key_on_any_screen(mixed_scene, make_app):
    app = make_app(stable=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        seen = [screen_text(app)]
        for pid in app.picker.providers:
            app.picker.query_one("#providers").highlighted = list(app.picker.providers).index(pid) + 1
            assert await wait_for(pilot, lambda pid=pid: app.picker.view == pid)
            seen.append(screen_text(app))
        await pilot.press("f2")
        assert await wait_for(pilot, lambda: "Base URL" in screen_text(app) and workers_done(app))
        seen.append(screen_text(app))
        assert not any(FAKE_KEY in text for text in seen)
        assert any("sk-test-…0001" in text for text in seen)  # the redacted form is shown


async def test_palette_offers_actions_and_switch_entries(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Use model", "Re-probe", "Role", "Sort", "Provider", "Setup wizard"} <= set(titles)
        assert "ollama/qwen2.5:0.5b" in app.picker.known_refs()
        app.switch_from_palette("ollama/llama3.2:latest")
        assert await wait_for(pilot, lambda: selection.read("default").ref == "ollama/llama3.2:latest")


async def test_pick_mode_returns_without_writing(mixed_scene, make_app):
    app = make_app(pick_role="default")
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"ollama/llama")
        await pilot.press("enter")  # pick mode: the app exits with the ref (the block ends when it has)
    assert app.return_value == "ollama/llama3.2:latest"
    assert selection.read("default").ref == "openai/gpt-4o-mini"


async def test_pick_mode_escape_cancels(mixed_scene, make_app):
    app = make_app(pick_role="default")
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("escape")
    assert app.return_value is None


def test_run_with_broken_config_prints_problems_and_returns_2(isolated, capsys):
    from llmswitch.app import run

    scenes.write_config("[providers.x]\nbase_url = 3\n")
    assert run() == 2
    err = capsys.readouterr().err
    assert "base_url" in err and "config.toml" in err


@pytest.mark.parametrize("query", ["", "gpt", "claude sonnet", "zzzzzz"])
def test_filter_on_the_whole_catalog_finds_every_match(query):
    """Every row holding each word of the query is found (how fast is the benchmark's to say: bench_tui)."""
    from llmswitch.services.models import Filter, sort_rows

    rows = sort_rows(scenes.many_models(5000))
    matches = Filter(rows).matches(query)
    words = query.lower().split()
    plain = [r for r in rows if all(w in r.haystack for w in words)]
    assert {id(r) for r in plain} <= {id(r) for r in matches}
    assert len(matches) == len(rows) if not words else plain or query == "zzzzzz"
    if query == "zzzzzz":
        assert matches == []


async def test_hostile_model_ids_are_shown_inert(upstream, isolated, make_app):
    from upstreams import Reply, models_body

    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["evil\x1b[2Jwipe", "[bold]markup[/bold]"])))
    scenes.write_config(f'[providers.evil]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "\x1b" not in text
        assert "evil\\x1b[2Jwipe" in text
        assert "[bold]markup[/bold]" in text  # shown as text, not interpreted


async def test_bindings_can_be_remapped_by_id(mixed_scene, make_app, monkeypatch):
    monkeypatch.setenv("LLMSWITCH_KEYMAP", "picker.role=f6;picker.reprobe=f9")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f6")
        assert app.picker.role == "small"
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: app.picker.provider_list.probe_generation == 2)


async def test_r_reprobes_from_a_list_and_types_in_the_filter(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("r")  # the filter has the focus: it is text
        assert app.picker.query_one("#filter").value == "r"
        assert app.picker.provider_list.probe_generation == 1
        app.picker.query_one(ModelList).focus()
        await pilot.press("r")
        assert await wait_for(pilot, lambda: app.picker.provider_list.probe_generation == 2)
        await pilot.press("x")  # other letters go to the filter
        assert app.picker.query_one("#filter").value == "rx"
        assert app.picker.focused is app.picker.query_one("#filter")


def test_importing_the_app_package_is_cheap():
    import subprocess
    import sys

    code = "import sys, llmswitch.app; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'httpx')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


async def test_long_model_ids_keep_the_tail_that_tells_them_apart(upstream, isolated, make_app):
    from upstreams import Reply, models_body

    server = upstream()
    ids = ["qwen/qwen3-next-80b-a3b-instruct", "qwen/qwen3-next-80b-a3b-thinking"]
    server.get("/v1/models", Reply.json(models_body(ids)))
    scenes.write_config(f'[providers.openrouter-mirror]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        model_list = app.picker.query_one(ModelList)
        lines = [model_list.render_line(y).text for y in range(2)]
        assert "instruct" in lines[0] and "thinking" in lines[1], lines
        assert "…" in lines[0]  # cut in the middle
        details = screen_text(app)
        assert "openrouter-mirror/" + ids[0] in details  # the full id of the highlighted row


async def test_provider_status_lines_wrap_at_a_word_instead_of_being_cut(mixed_scene, make_app):
    """At 80x24 a long status (issue 14) is wrapped, not cut with "…": every word of it is on screen."""
    app = make_app(stable=False)  # the real text, ports and latencies included
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        await pilot.resize_terminal(80, 24)
        options = app.picker.query_one("#providers")
        assert await wait_for(pilot, lambda: options.virtual_size.height > 2 * options.option_count
                              and app.screen.size == (80, 24))
        assert options.virtual_size.height > 2 * options.option_count  # some statuses took a second line
        lines = [options.render_line(y).text.rstrip() for y in range(options.virtual_size.height)]
        assert not any(line.endswith("…") for line in lines), lines
        flowing = " ".join(line.strip() for line in lines)
        for result in app.picker.results.values():
            assert " ".join(result.summary.split()) in flowing, (result.summary, flowing)


async def palette_hits(pilot, query: str) -> list[str]:
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    assert await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    results = app.screen.query_one(CommandList)

    def texts() -> list[str]:
        return [str(getattr(o.prompt, "plain", o.prompt)) for o in results.options]

    assert await wait_for(pilot, lambda: any("switch model" in t for t in texts()))
    assert await wait_for(pilot, lambda: workers_done(app))  # the palette's search has heard every provider
    return texts()


@pytest.mark.parametrize(("query", "first"), [("switch m1", "switch model: fake/m1"),
                                              ("8b-instant", "switch model: fake/llama-3.1-8b-instant")])
async def test_palette_ranks_exact_and_substring_ids_first(upstream, isolated, make_app, query, first):
    from upstreams import Reply, models_body

    server = upstream()
    models = ["xm1", "m10", "mini-1", "llama-3.1-8b-instruct", "bb-instance", "m1", "m1-large", "llama-3.1-8b-instant"]
    server.get("/v1/models", Reply.json(models_body(models)))
    scenes.write_config(f'[providers.fake]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        hits = await palette_hits(pilot, query)
        assert hits[0] == first, hits


async def test_ctrl_f_toggles_a_favourite_and_keeps_other_settings(mixed_scene, make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Favourite" in titles  # in the palette too
        await pilot.press(*"lab/qwen")
        model_list = app.picker.query_one(ModelList)
        assert model_list.highlighted.ref == "lab/Qwen/Qwen2.5-0.5B-Instruct"
        await pilot.press("ctrl+f")
        lab = lambda: tomllib.loads(paths.config_file().read_text())["providers"]["lab"]  # noqa: E731
        assert await wait_for(pilot, lambda: lab().get("favorites") == ["Qwen/Qwen2.5-0.5B-Instruct"])
        assert lab()["name"] == "Lab vLLM box" and lab()["base_url"] == mixed_scene.servers["lab"].url
        assert await wait_for(pilot, lambda: model_list.highlighted.favorite)
        assert model_list.highlighted.ref == "lab/Qwen/Qwen2.5-0.5B-Instruct"
        await pilot.press("escape", *"openai/gpt-4.1")
        assert model_list.highlighted.ref == "openai/gpt-4.1" and model_list.highlighted.favorite
        await pilot.press("ctrl+f")  # off again; the list had only this one
        openai = lambda: tomllib.loads(paths.config_file().read_text())["providers"]["openai"]  # noqa: E731
        assert await wait_for(pilot, lambda: "favorites" not in openai())
        assert openai()["base_url"] == mixed_scene.servers["openai"].url + "/v1"


async def test_the_whole_catalog_is_built_only_when_its_view_opens(mixed_scene, make_app):
    from llmswitch.app.screens.picker import CATALOG

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        picker = app.picker
        assert await wait_for(pilot, lambda: workers_done(app))
        assert picker.browser.catalog_rows is None  # not built, not resident, while nobody looks at it
        assert not any(w.group == "catalog" for w in picker.workers)
        options = picker.query_one("#providers")
        options.highlighted = options.get_option_index(CATALOG)
        assert await wait_for(pilot, lambda: picker.browser.catalog_rows is not None)
        assert len(picker.query_one(ModelList).rows) == len(picker.browser.catalog_rows) > 1000

"""Budgets before a switch: the one price rule, what gateways say is left, and the three surfaces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from upstreams import FAKE_KEY, OTHER_KEY, litellm_gateway_like, litellm_model_info, openrouter_full_like

ENTRIES = (
    litellm_model_info("cheap", "openai/gpt-4o-mini", input_cost_per_token=1.5e-07, output_cost_per_token=6e-07),
    litellm_model_info("dear", "openai/gpt-4o", input_cost_per_token=2.5e-06, output_cost_per_token=1e-05),
    litellm_model_info("near", "openai/gpt-4.1-mini", input_cost_per_token=4e-07, output_cost_per_token=1.6e-06),
    litellm_model_info("free", "ollama/llama3", input_cost_per_token=0.0, output_cost_per_token=0.0),
)


# --- the rule (pure) ------------------------------------------------------------------------------

def _budget(limit, remaining, provider="gw"):
    from llmswitch.services.budget import Budget

    return Budget(provider, "http://127.0.0.1:1/v1", "GET x", datetime.now(UTC), limit=limit, remaining=remaining)


def test_five_times_dearer_asks_and_just_under_does_not():
    from llmswitch.services.budget import Price, judge

    current = Price("gw/cheap", 1.0, 4.0)
    verdict = judge(current, Price("gw/dear", 5.0, 4.0))
    assert verdict.ask == ("gw/dear costs $5/$4 per M, 5× gw/cheap ($1/$4 per M)",) and verdict.note is None
    assert judge(current, Price("gw/near", 4.9, 19.0)).quiet
    assert judge(current, Price("gw/out", 1.0, 20.0)).ask, "the output price counts as much as the input price"
    assert judge(Price("a/dear", 10.0, 40.0), Price("a/cheap", 0.1, 0.4)).quiet, "cheaper never asks"


def test_from_free_local_or_unpriced_to_paid_states_the_price_once_without_asking():
    from llmswitch.services.budget import Price, judge

    paid = Price("gw/dear", 2.5, 10.0)
    for current in (None, Price("ollama/llama3", local=True), Price("x/unknown"), Price("or/free", 0.0, 0.0),
                    Price("box/local-priced", 1.0, 1.0, local=True)):
        verdict = judge(current, paid)
        assert verdict.ask == () and verdict.note == "gw/dear costs $2.5/$10 per M", current
    assert judge(Price("x/unknown"), Price("y/unknown")).quiet
    assert judge(Price("gw/dear", 2.5, 10.0), Price("gw/dear2", 2.5, 10.0)).quiet, "paid to paid, same price"


def test_a_nearly_spent_budget_asks_unless_the_new_model_is_free():
    from llmswitch.services.budget import Price, judge

    low = _budget(100.0, 5.0)
    verdict = judge(Price("gw/cheap", 1.0, 1.0), Price("gw/near", 1.0, 1.0), low)
    assert len(verdict.ask) == 1 and "gw has $5.00 of $100.00 left (5%, as of just now)" in verdict.ask[0]
    assert judge(Price("gw/cheap", 1.0, 1.0), Price("gw/free", 0.0, 0.0), low).quiet
    assert judge(None, Price("gw/unpriced"), low).ask, "an unknown price on a spent budget asks"
    assert judge(Price("gw/a", 1.0, 1.0), Price("gw/b", 1.0, 1.0), _budget(100.0, 50.0)).quiet
    assert judge(Price("gw/a", 1.0, 1.0), Price("gw/b", 1.0, 1.0), _budget(None, None)).quiet, "no limit: no ask"
    assert judge(Price("gw/a", 1.0, 1.0), Price("gw/b", 1.0, 1.0), low, min_share=0.01).quiet


def test_the_warning_lines_say_it_was_switched_and_yes_silences_the_question_not_the_price():
    from llmswitch.services.budget import Verdict, warning_lines

    asked = Verdict(("gw/dear costs a lot",))
    assert warning_lines(asked) == ["gw/dear costs a lot — switched anyway; --yes (or confirm_costly = false) "
                                    "skips this check"]
    assert warning_lines(asked, yes=True) == []
    assert warning_lines(Verdict(note="gw/dear costs $1/$2 per M"), yes=True) == ["gw/dear costs $1/$2 per M (a paid model)"]


# --- what gateways say ------------------------------------------------------------------------------

def _config(config_dir, body: str):
    from llmswitch.store.config import load

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(body)
    return load()


def _gateway(config_dir, upstream, monkeypatch, prefs: str = "", **kw):
    from llmswitch.net import gateway
    from llmswitch.store import state

    server = litellm_gateway_like(upstream(), entries=ENTRIES, **kw)
    config = _config(config_dir, f'{prefs}[providers.gw]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    monkeypatch.setenv("LLMSWITCH_KEY_GW", FAKE_KEY)
    provider = config.provider("gw")
    state.remember_models("gw", provider.base_url, [e["model_name"] for e in ENTRIES], "LiteLLM proxy")
    gateway.refresh(provider)
    return server, config, provider


def test_a_proxy_without_a_database_says_it_keeps_no_budgets(config_dir, upstream, monkeypatch):
    from llmswitch.services import budget

    server, _, provider = _gateway(config_dir, upstream, monkeypatch)
    kept = budget.refresh(provider)
    assert server.requests_to("/key/info"), "asked at the proxy's root, not under /v1"
    assert kept is not None and kept.limit is None and kept.share_left is None
    assert "keeps no budgets" in kept.unavailable and "HTTP 500" in kept.unavailable
    assert kept.line().startswith("budget unknown: the proxy keeps no budgets") and kept.fix
    again = budget.cached(provider)
    assert again is not None and again.unavailable == kept.unavailable


def test_a_proxy_with_a_database_reports_spend_against_max_budget(config_dir, upstream, monkeypatch):
    from llmswitch.services import budget

    info = {"key_alias": "alice", "spend": 92.5, "max_budget": 100.0, "budget_duration": "30d",
            "budget_reset_at": "2026-12-31T00:00:00Z", "models": []}
    _, _, provider = _gateway(config_dir, upstream, monkeypatch, key_info=info)
    kept = budget.refresh(provider)
    assert (kept.limit, kept.usage, kept.remaining, kept.reset) == (100.0, 92.5, 7.5, "30d")
    assert kept.line() == "$7.50 of $100.00 left (30d) · just now"


def test_openrouter_key_endpoint_limit_remaining_usage(config_dir, upstream, monkeypatch):
    from llmswitch.services import budget
    from llmswitch.store import state

    server = openrouter_full_like(upstream(), models=[{"id": "a/b", "prompt": "0.000001", "completion": "0.000002"}],
                                  key_data={"limit": 20, "limit_remaining": 1.5, "usage": 18.5, "limit_reset": "monthly"})
    config = _config(config_dir, f'[providers.openrouter]\nbase_url = "{server.url}/api/v1"\n')
    provider = config.provider("openrouter")
    monkeypatch.setenv("LLMSWITCH_KEY_OPENROUTER", FAKE_KEY)
    assert budget.refresh_stale(provider) is None and not server.requests_to("/api/v1/key"), "never probed: not asked"
    state.remember_models("openrouter", provider.base_url, ["a/b"], "OpenRouter")
    assert budget.refresh_stale(provider) is None
    kept = budget.cached(provider)
    assert (kept.limit, kept.remaining, kept.usage, kept.reset) == (20.0, 1.5, 18.5, "monthly")
    assert server.requests_to("/api/v1/key")[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    monkeypatch.setenv("LLMSWITCH_KEY_OPENROUTER", OTHER_KEY)
    with pytest.raises(Exception) as caught:
        budget.refresh(provider)
    assert "HTTP 401" in str(caught.value) and OTHER_KEY not in str(caught.value)


def test_a_kept_budget_has_an_age(config_dir, upstream, monkeypatch):
    from llmswitch.services import budget
    from llmswitch.store import budgetcache

    _, _, provider = _gateway(config_dir, upstream, monkeypatch, key_info={"spend": 1.0, "max_budget": 10.0})
    budget.refresh(provider)
    path = budgetcache.path("gw")
    document = json.loads(Path(path).read_text())
    document["fetched_epoch"] -= 7200
    Path(path).write_text(json.dumps(document))
    assert 7100 < budget.cached(provider).age() < 7300 and "2 h ago" in budget.cached(provider).line()
    assert budgetcache.read("gw", "http://elsewhere/v1") is None


# --- the surfaces ----------------------------------------------------------------------------------

def test_use_warns_on_stderr_for_a_much_dearer_model_and_still_switches(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.services.switch import switch
    from llmswitch.store import selection

    _gateway(config_dir, upstream, monkeypatch)
    switch("gw/cheap", check_key=False)
    done = run_cli("use", "gw/dear")
    assert done.returncode == 0 and selection.read("default").ref == "gw/dear"
    assert "warning: gw/dear costs $2.5/$10 per M, 17× gw/cheap ($0.15/$0.6 per M) — switched anyway" in done.stderr
    switch("gw/cheap", check_key=False)
    quiet = run_cli("use", "gw/dear", "--yes")
    assert quiet.returncode == 0 and "costs" not in quiet.stderr
    assert "costs" not in run_cli("use", "gw/near").stderr, "under 5×: nothing to say"


def test_the_preference_turns_the_question_off(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.services.switch import switch

    _gateway(config_dir, upstream, monkeypatch, prefs="[preferences]\nconfirm_costly = false\n\n")
    switch("gw/cheap", check_key=False)
    assert "costs" not in run_cli("use", "gw/dear").stderr


def test_a_bad_preference_is_refused_with_its_line(config_dir):
    from llmswitch.base.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        _config(config_dir, "[preferences]\nbudget_warn_share = 5\n")
    assert "config.toml:2" in str(caught.value) and "from 0 to 1" in str(caught.value)


def test_from_a_local_model_to_a_paid_one_states_the_price(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.services.switch import switch

    _gateway(config_dir, upstream, monkeypatch)
    switch("ollama/llama3", check_key=False)
    done = run_cli("use", "gw/dear")
    assert "warning: gw/dear costs $2.5/$10 per M (a paid model)" in done.stderr and "switched anyway" not in done.stderr


def test_current_json_shows_the_kept_budget_with_its_age(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.services import budget
    from llmswitch.services.switch import switch

    _, _, provider = _gateway(config_dir, upstream, monkeypatch, key_info={"spend": 2.0, "max_budget": 10.0})
    switch("gw/cheap", check_key=False)
    assert json.loads(run_cli("current", "--json").stdout)["budget"] is None
    budget.refresh(provider)
    shown = json.loads(run_cli("current", "--json").stdout)["budget"]
    assert (shown["limit"], shown["remaining"], shown["usage"]) == (10.0, 8.0, 2.0)
    assert 0 <= shown["age_seconds"] < 60 and shown["source"].endswith("/key/info")


def test_a_low_budget_warns_in_use_and_doctor(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.services import budget
    from llmswitch.services.switch import switch

    _, _, provider = _gateway(config_dir, upstream, monkeypatch, key_info={"spend": 97.0, "max_budget": 100.0})
    budget.refresh(provider)
    switch("gw/cheap", check_key=False)
    done = run_cli("use", "gw/near")
    assert "gw has $3.00 of $100.00 left (3%" in done.stderr
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    found = [f for f in doctor["findings"] if f["area"] == "budget"]
    assert found and found[0]["level"] == "warning" and "$3.00 of $100.00 left" in found[0]["cause"]
    assert any(f["area"] == "gateway" and "4 models described by the gateway" in f["cause"]
               for f in doctor["findings"])


def test_doctor_says_honestly_that_a_proxy_without_a_database_keeps_no_budget(config_dir, upstream, monkeypatch,
                                                                            run_cli):
    _gateway(config_dir, upstream, monkeypatch)
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    found = [f for f in doctor["findings"] if f["area"] == "budget"]
    assert found and found[0]["level"] == "ok" and "budget unknown: the proxy keeps no budgets" in found[0]["cause"]
    assert FAKE_KEY not in json.dumps(doctor)


def test_the_repl_warns_before_a_much_dearer_model(config_dir, upstream, monkeypatch):
    from llmswitch.repl import ModelSwitcher
    from llmswitch.services.switch import switch

    _gateway(config_dir, upstream, monkeypatch)
    switch("gw/cheap", check_key=False)
    reply = ModelSwitcher(interactive=False).handle("/model gw/dear")
    assert reply.ok and any("17× gw/cheap" in w and "switched anyway" in w for w in reply.warnings)


def test_a_stale_budget_is_asked_again_and_a_fresh_one_is_not(config_dir, upstream, monkeypatch):
    from llmswitch.services import budget
    from llmswitch.store import budgetcache

    server, _, provider = _gateway(config_dir, upstream, monkeypatch)
    assert budget.refresh_stale(provider) is None and len(server.requests_to("/key/info")) == 1
    assert budget.refresh_stale(provider) is None and len(server.requests_to("/key/info")) == 1
    document = json.loads(Path(budgetcache.path("gw")).read_text())
    document["fetched_epoch"] = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    Path(budgetcache.path("gw")).write_text(json.dumps(document))
    budget.refresh_stale(provider)
    assert len(server.requests_to("/key/info")) == 2

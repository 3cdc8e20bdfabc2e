""""ok" means the key was verified: KEY_UNVERIFIED, ANY_KEY, and the key fields of a result.

Real HTTP servers on 127.0.0.1 (``tests/upstreams.py``). Each test counts the requests
that reached the server, so the cost of verifying (one request without the key, only
when a key was sent and the list answered) is asserted too.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from llmswitch.base.keyorigin import ENV, KeyOrigin
from llmswitch.net.probe import Outcome, ProbeTarget, probe, render_json, render_table
from llmswitch.net.probe.verify import REFUSES_A_WRONG_KEY, REFUSES_WITHOUT_KEY, WRONG_KEY
from upstreams import (
    FAKE_KEY,
    OTHER_KEY,
    Reply,
    bearer,
    chat_completions,
    litellm_like,
    llamacpp_like,
    models_body,
    ollama_like,
    openai_like,
    openrouter_like,
    vllm_like,
    without_fingerprint,
)


def target(server, path="/v1", **kw) -> ProbeTarget:
    kw.setdefault("provider", "acme")
    kw.setdefault("timeout", 5.0)
    return ProbeTarget(base_url=server.url + path, **kw)


def public_list(upstream, chat_key=FAKE_KEY):
    """A gateway whose /models is public while chat checks the key (like many hosted gateways)."""
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1", "m2"])))
    server.post("/v1/chat/completions", chat_completions(key=chat_key))
    return server


def keyless_requests(server, path="/v1/models"):
    return [r for r in server.requests_to(path) if "authorization" not in r.headers]


# -- KEY_UNVERIFIED ---------------------------------------------------------------------


async def test_a_public_list_does_not_verify_the_key(upstream):
    server = public_list(upstream)
    result = await probe(target(server, key=OTHER_KEY, model="m1"))  # even a wrong key lists
    assert result.outcome is Outcome.KEY_UNVERIFIED and not result.usable
    assert result.summary == "listed 2 models; key not verified (this server lists models without a key)"
    assert result.fix == "run: llmswitch probe --deep acme (a 1-token request verifies the key)"
    assert result.models == ("m1", "m2")
    assert result.key_verified is False and result.verified_by is None
    assert len(server.requests_to("/v1/models")) == 2 and len(keyless_requests(server)) == 1
    assert "key not verified" in result.sentence()


async def test_unverified_without_a_model_needs_none_selected_for_deep(upstream):
    result = await probe(target(public_list(upstream), key=FAKE_KEY))
    assert result.outcome is Outcome.KEY_UNVERIFIED
    assert result.fix == "run: llmswitch probe --deep acme (a 1-token request verifies the key)"  # the first listed


async def test_a_failing_keyless_check_proves_nothing_either(upstream):
    server = upstream()
    down = Reply.json({"detail": "upstream down"}, 502)
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["m1"])), missing=down, invalid=down))
    result = await probe(target(server, key=FAKE_KEY, model="m1", timeout=2))
    assert result.outcome is Outcome.KEY_UNVERIFIED
    assert "asked without it, the server answered HTTP 502" in result.summary
    assert len(without_fingerprint(server.requests)) == 3  # keyed, keyless, wrong key: once each, no retries


async def test_a_keyless_500_then_a_refused_wrong_key_verifies(upstream):
    server = upstream()  # the LiteLLM proxy without a database: 500 without a key, 400 "No connected db." for a wrong one
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["m1"])),
                                    missing=Reply.text("Internal Server Error", 500),
                                    invalid=Reply.json({"error": {"message": "No connected db.",
                                                                  "type": "no_db_connection", "code": "400"}}, 400)))
    result = await probe(target(server, key=FAKE_KEY, model="m1"))
    assert result.outcome is Outcome.OK and result.verified_by == REFUSES_A_WRONG_KEY
    sent = [r.headers.get("authorization") for r in without_fingerprint(server.requests)]
    # the keyed request and the keyless one start together (either may arrive first); the wrong key only after the 500
    assert sorted(sent[:2], key=str) == sorted([f"Bearer {FAKE_KEY}", None], key=str)
    assert sent[2:] == [f"Bearer {WRONG_KEY}"]


async def test_a_list_for_any_key_but_none_without_is_unverified(upstream):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["m1"])), missing=Reply.text("oops", 500),
                                    invalid=Reply.json(models_body(["m1"]))))
    result = await probe(target(server, key=FAKE_KEY, model="m1"))
    assert result.outcome is Outcome.KEY_UNVERIFIED
    assert result.summary == "listed 1 model; key not verified (this server lists models for any key)"


async def test_model_missing_stays_model_missing_with_the_key_unverified(upstream):
    result = await probe(target(public_list(upstream), key=FAKE_KEY, model="nope"))
    assert result.outcome is Outcome.MODEL_MISSING and result.key_verified is False


# -- verified ---------------------------------------------------------------------------


async def test_a_list_refused_without_the_key_verifies_it(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, key=FAKE_KEY, model="gpt-4o"))
    assert result.outcome is Outcome.OK and result.usable
    assert result.key_verified is True and result.verified_by == REFUSES_WITHOUT_KEY
    assert result.summary.startswith("2 models · ")  # "ok" says verified; verified_by says how
    assert len(keyless_requests(server)) == 1  # the one extra request


async def test_a_key_check_path_verifies_without_the_keyless_request(upstream):
    server = openrouter_like(upstream())
    result = await probe(target(server, path="/api/v1", provider="openrouter", key=FAKE_KEY, key_check_path="/key"))
    assert result.outcome is Outcome.OK and result.key_verified is True and result.verified_by == "key check /key"
    assert keyless_requests(server, "/api/v1/models") == []


async def test_no_key_sent_costs_no_extra_request(upstream):
    server = ollama_like(upstream())
    result = await probe(target(server, key_required=False, preset="ollama"))
    assert result.outcome is Outcome.KEYLESS
    assert result.key_verified is None and result.key_source is None and result.verified_by is None
    assert len(server.requests_to("/v1/models")) == 1


async def test_a_failed_listing_costs_no_extra_keyed_request(upstream):
    """The keyless check starts alongside the keyed request (so a verified probe costs one round trip); a failed
    listing sends the key once, and the keyless request beside it is all the extra there is."""
    server = openai_like(upstream())
    result = await probe(target(server, key=OTHER_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED and result.key_verified is False
    asked = server.requests_to("/v1/models")
    assert len([r for r in asked if "authorization" in r.headers]) == 1 and len(asked) <= 2


# -- --deep settles it ------------------------------------------------------------------


async def test_deep_verifies_the_key_when_a_wrong_key_is_refused(upstream):
    server = public_list(upstream)
    result = await probe(target(server, key=FAKE_KEY, model="m1"), deep=True)
    assert result.outcome is Outcome.OK and result.usable and result.fix is None
    assert result.key_verified is True and result.verified_by == "deep check"
    assert result.summary.startswith("2 models · key verified by a 1-token chat · first token ")
    sent = [r.headers.get("authorization") for r in without_fingerprint(server.requests_to("/v1/chat/completions"))]
    assert sent == [f"Bearer {FAKE_KEY}", f"Bearer {WRONG_KEY}"]


async def test_deep_rejects_a_wrong_key_behind_a_public_list(upstream):
    server = public_list(upstream)
    result = await probe(target(server, key=OTHER_KEY, model="m1"), deep=True)
    assert result.outcome is Outcome.AUTH_REJECTED and not result.usable
    assert result.key_verified is False
    assert len(without_fingerprint(server.requests_to("/v1/chat/completions"))) == 1  # no wrong-key chat after a refusal


# -- ANY_KEY ----------------------------------------------------------------------------


async def test_llama_server_without_api_key_accepts_any_key_under_deep(upstream):
    server = llamacpp_like(upstream())  # lists publicly and chats with any key (no --api-key)
    first = await probe(target(server, provider="llamacpp", preset="llamacpp", key=FAKE_KEY, key_required=False,
                               model="tiny.gguf"))
    assert first.outcome is Outcome.KEY_UNVERIFIED  # llama-server lists publicly even with --api-key: no guess
    result = await probe(target(server, provider="llamacpp", preset="llamacpp", key=FAKE_KEY, key_required=False,
                                model="tiny.gguf"), deep=True)
    assert result.outcome is Outcome.ANY_KEY and result.usable
    assert "keyless: accepts any key; yours is not needed" in result.summary
    assert result.key_verified is False and result.verified_by == "a chat with a wrong key succeeds too"
    assert 'key_source = "none"' in result.fix


async def test_llama_server_with_api_key_is_verified_under_deep(upstream):
    server = upstream()  # llama-server --api-key: /models public, chat checks the key
    server.get("/v1/models", Reply.json({"object": "list", "data": [
        {"id": "tiny.gguf", "object": "model", "created": 1, "owned_by": "llamacpp"}]}, headers={"server": "llama.cpp"}))
    server.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    result = await probe(target(server, provider="llamacpp", key=FAKE_KEY, model="tiny.gguf"), deep=True)
    assert result.outcome is Outcome.OK and result.verified_by == "deep check"


async def test_ollama_with_a_key_configured_accepts_any_key(upstream):
    server = ollama_like(upstream())
    result = await probe(target(server, provider="ollama", preset="ollama", key=FAKE_KEY, key_required=False))
    assert result.outcome is Outcome.ANY_KEY and result.usable
    assert result.summary.startswith("2 models · keyless: accepts any key; yours is not needed")
    assert result.verified_by == "Ollama does not check keys" and result.key_verified is False


async def test_ollama_behind_an_auth_proxy_is_verified_not_any_key(upstream):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["llama3.2:latest"], owned_by="library"))))
    result = await probe(target(server, provider="ollama", preset="ollama", key=FAKE_KEY, key_required=False))
    assert result.outcome is Outcome.OK and result.verified_by == REFUSES_WITHOUT_KEY


# -- the key fields on every surface ------------------------------------------------------


async def test_key_source_and_verification_are_in_json_and_never_the_key(upstream):
    server = openai_like(upstream())
    origin = KeyOrigin(ENV, "ACME_API_KEY", configured=ENV)
    result = await probe(target(server, key=FAKE_KEY, key_origin=origin))
    assert result.key_source == "env ACME_API_KEY"
    data = render_json([result])[0]
    assert data["key_source"] == "env ACME_API_KEY"
    assert data["key_verified"] is True and data["verified_by"] == REFUSES_WITHOUT_KEY
    shown = json.dumps(data) + render_table([result], verbose=True)
    assert FAKE_KEY not in shown
    assert "key: env ACME_API_KEY, verified (GET /models refuses requests without it)" in \
        render_table([result], verbose=True)


async def test_no_key_sent_has_no_key_source_in_json(upstream):
    server = ollama_like(upstream())
    data = render_json([await probe(target(server, key_required=False))])[0]
    assert data["key_source"] is None and data["key_verified"] is None and data["verified_by"] is None


# -- following the fix as written ---------------------------------------------------------


@pytest.mark.parametrize(("chat_key", "settled"), [(FAKE_KEY, "ok"), (OTHER_KEY, "auth_rejected")])
def test_following_the_unverified_fix_settles_it(run_cli, config_dir, upstream, chat_key, settled):
    server = public_list(upstream, chat_key=chat_key)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.acme]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    run_cli("key", "set", "acme", input=FAKE_KEY)
    assert run_cli("use", "acme/m1").returncode == 0
    first = run_cli("probe", "--json", "acme")
    data = json.loads(first.stdout)[0]
    assert first.returncode == 1 and data["outcome"] == "key_unverified" and data["key_verified"] is False
    command = re.search(r"run: (llmswitch [^()]+?) \(", data["fix"]).group(1)
    argv = shlex.split(command)[1:]
    assert argv == ["probe", "--deep", "acme"]
    after = json.loads(run_cli(*argv, "--json").stdout)[0]
    assert after["outcome"] == settled
    assert after["key_verified"] is (settled == "ok")


# -- no key sent, and the server's answer does not settle it --------------------------------


@pytest.mark.parametrize(("key_required", "stored"), [(False, ""), (True, " (no key stored)")])
async def test_a_server_error_without_a_key_says_both(upstream, key_required, stored):
    server = upstream()
    server.get("/v1/models", Reply.json({"detail": "Internal Server Error"}, 500))
    result = await probe(target(server, provider="box", key_required=key_required, timeout=2))
    assert result.outcome is Outcome.SERVER_ERROR  # the true cause stays the outcome
    assert result.summary.endswith(f"; no key was sent{stored}")
    assert result.fix.startswith("look at the server's console output")
    assert result.fix.endswith("; if the server wants a key, add one: run: llmswitch key set box")


async def test_an_ambiguous_answer_without_a_key_offers_adding_one(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"error": {"message": "request rejected"}}, 400))
    result = await probe(target(server, provider="box", key_required=False))
    assert result.outcome is Outcome.AMBIGUOUS
    assert "no key was sent" in result.summary
    assert result.fix == ("read the server's message and check base_url; if the server wants a key, "
                          "add one: run: llmswitch key set box")


async def test_a_server_error_with_a_key_does_not_talk_about_a_missing_one(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"detail": "Internal Server Error"}, 500))
    result = await probe(target(server, key=FAKE_KEY, timeout=2))
    assert result.outcome is Outcome.SERVER_ERROR and "no key" not in result.summary + (result.fix or "")


async def test_litellm_without_a_database_still_rejects_a_wrong_key_with_the_master_key_hint(upstream):
    server = litellm_like(upstream())
    result = await probe(target(server, provider="proxy", key=OTHER_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert "no database for virtual keys" in result.summary and "master key" in result.fix
    good = await probe(target(server, provider="proxy", key=FAKE_KEY))
    assert good.outcome is Outcome.OK and good.verified_by == REFUSES_WITHOUT_KEY


def test_doctor_warns_about_an_unverified_key_and_probe_exits_non_zero(run_cli, config_dir, upstream):
    server = public_list(upstream)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.acme]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    run_cli("key", "set", "acme", input=FAKE_KEY)
    report = json.loads(run_cli("doctor", "--json").stdout)
    probed = [f for f in report["findings"] if f["area"] == "probe"]
    assert [f["level"] for f in probed] == ["warning"] and "key not verified" in probed[0]["cause"]
    assert run_cli("probe", "acme").returncode == 1


async def test_vllm_without_api_key_accepts_any_key(upstream):
    server = vllm_like(upstream())  # no --api-key: /v1/models is public, so nothing is checked
    result = await probe(target(server, provider="vllm", preset="vllm", key=FAKE_KEY, key_required=False))
    assert result.outcome is Outcome.ANY_KEY and result.verified_by.startswith("vLLM guards its model list")
    guarded = vllm_like(upstream(), key=FAKE_KEY)  # --api-key: the list is refused without it
    checked = await probe(target(guarded, provider="vllm", preset="vllm", key=FAKE_KEY, key_required=False))
    assert checked.outcome is Outcome.OK and checked.verified_by == REFUSES_WITHOUT_KEY


async def test_any_key_from_the_override_says_to_unset_it(upstream):
    from llmswitch.base.keyorigin import OVERRIDE

    server = ollama_like(upstream())
    origin = KeyOrigin(OVERRIDE, "LLMSWITCH_KEY_OLLAMA")
    result = await probe(target(server, provider="ollama", key=FAKE_KEY, key_required=False, key_origin=origin))
    assert result.outcome is Outcome.ANY_KEY and result.fix.endswith("to stop sending a key, unset LLMSWITCH_KEY_OLLAMA")
    assert result.key_source == "env LLMSWITCH_KEY_OLLAMA"  # KeyOrigin.label() names the variable

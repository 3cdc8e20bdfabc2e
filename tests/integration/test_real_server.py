"""The probe against a real OpenAI-compatible server users run: the LiteLLM proxy.

Opt-in: ``pytest -m integration`` (see tests/integration/conftest.py).
"""

from __future__ import annotations

import pytest

from llmswitch.net.probe import Outcome, ProbeTarget, probe, probe_all

pytestmark = pytest.mark.integration

WRONG_KEY = "sk-test-wrong-key-0002"


def target(server, path="/v1", **kw) -> ProbeTarget:
    kw.setdefault("key", server.key)
    return ProbeTarget("litellm", server.url + path, key_required=False, preset="litellm", timeout=30, **kw)


async def test_ok_with_the_master_key(real_server):
    result = await probe(target(real_server, model=real_server.model))
    assert result.outcome is Outcome.OK, result.sentence()
    assert real_server.model in result.models
    assert result.server == "LiteLLM proxy"
    assert real_server.key not in repr(result)


async def test_wrong_key_is_rejected(real_server):
    result = await probe(target(real_server, key=WRONG_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED, result.sentence()
    assert result.fix.startswith("run: llmswitch key set litellm")
    assert result.server == "LiteLLM proxy"
    assert result.suggested_base_url is None


async def test_wrong_path_suggests_the_v1_base_url(real_server):
    result = await probe(target(real_server, path="/v1/v1"))
    assert result.outcome is Outcome.NOT_FOUND, result.sentence()
    assert result.suggested_base_url == real_server.url + "/v1"
    assert result.fix == f"change base_url to {real_server.url}/v1 in config.toml"


async def test_model_missing(real_server):
    result = await probe(target(real_server, model="no-such-model"))
    assert result.outcome is Outcome.MODEL_MISSING, result.sentence()


async def test_deep_check_streams_one_token(real_server):
    result = await probe(target(real_server, model=real_server.model), deep=True)
    assert result.outcome is Outcome.OK, result.sentence()
    assert result.deep is not None and result.deep.ok, result.deep
    assert result.deep.ttft_ms is not None
    assert result.deep.reported_model == real_server.model


async def test_several_at_once(real_server):
    targets = [target(real_server), target(real_server, key=WRONG_KEY), target(real_server, path="/nope")]
    outcomes = sorted([str(r.outcome) async for r in probe_all(targets)])
    assert outcomes == ["auth_rejected", "not_found", "ok"]


async def test_a_pasted_api_v1_tries_the_origins_v1(real_server):
    """OpenRouter's shape (…/api/v1) pasted for the proxy: the origin's /v1 answers, so it is suggested (issue 21)."""
    result = await probe(target(real_server, path="/api/v1"))
    assert result.outcome is Outcome.NOT_FOUND, result.sentence()
    assert result.suggested_base_url == real_server.url + "/v1"
    assert "usually end in /v1" not in (result.fix or "")


def test_add_of_a_pasted_api_v1_keeps_the_base_url_that_answers_with_the_key(real_server, run_cli):
    """The real proxy answers a keyless /api/v1/models with a 500 and a wrong key with "No connected db.", so add
    learns it wants a key; with the key the path is not found — add takes the origin's /v1, never that path."""
    import tomllib

    from llmswitch.base import paths

    done = run_cli("add", f"{real_server.url}/api/v1", "--key-env", "PROXY_KEY", env={"PROXY_KEY": real_server.key})
    assert done.returncode == 0, done.stdout + done.stderr
    written = tomllib.loads(paths.config_file().read_text())["providers"]
    assert [p["base_url"] for p in written.values()] == [real_server.url + "/v1"], written
    assert "✓" in done.stdout and real_server.key not in done.stdout + done.stderr

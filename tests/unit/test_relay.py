"""``llmswitch relay`` with real clients: the openai and anthropic SDKs through the relay to fake upstreams
on 127.0.0.1 (real HTTP both ways). Each test names what a user would see.

The SDKs are imported by the tests that use them: importing both costs ~2 s, which every worker would pay at
collection."""

from __future__ import annotations

import httpx
import pytest
from relayhelp import TOKEN, anthropic_like, openai_routes, provider_toml, relay_running, use, write_config

pytestmark = pytest.mark.xdist_group("sdks")  # one worker imports the SDKs for all of these

ALPHA_KEY = "sk-test-alpha-key-000000000001"
CLAUDE_KEY = "sk-test-ant-key-000000000002"


@pytest.fixture
def world(upstream, config_dir, monkeypatch):
    """Two OpenAI-compatible providers (alpha, beta) and an Anthropic one (claude); default → alpha/m1."""
    alpha = openai_routes(upstream(), ALPHA_KEY, models=("m1", "m2"), text="from alpha")
    beta = openai_routes(upstream(), None, models=("b1",), text="from beta")
    claude = anthropic_like(upstream(), CLAUDE_KEY)
    monkeypatch.setenv("ALPHA_KEY", ALPHA_KEY)
    monkeypatch.setenv("CLAUDE_KEY", CLAUDE_KEY)
    write_config(config_dir, provider_toml("alpha", alpha.url + "/v1", key_env="ALPHA_KEY")
                 + provider_toml("beta", beta.url + "/v1")
                 + provider_toml("claude", claude.url + "/v1", kind="anthropic", key_env="CLAUDE_KEY"))
    use("alpha/m1")
    return {"alpha": alpha, "beta": beta, "claude": claude}


def test_openai_sdk_chat_goes_to_the_selected_model_with_its_key_and_says_where(world):
    import openai

    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=TOKEN)
        raw = client.chat.completions.with_raw_response.create(model="default",
                                                               messages=[{"role": "user", "content": "hi"}])
        answer = raw.parse()
    assert answer.choices[0].message.content == "from alpha"
    assert raw.headers["x-llmswitch-served-by"] == "alpha/m1"
    sent = world["alpha"].requests_to("/v1/chat/completions")[-1]
    assert sent.json()["model"] == "m1" and sent.json()["messages"] == [{"role": "user", "content": "hi"}]
    assert sent.headers["authorization"] == f"Bearer {ALPHA_KEY}"
    assert TOKEN not in str(sent.headers)
    assert any("alpha/m1 200" in line for line in relay.lines)
    assert not any(ALPHA_KEY in line or TOKEN in line or "hi" in line.split() for line in relay.lines)


def test_openai_sdk_streams_every_chunk_in_order(world):
    import openai

    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=TOKEN)
        stream = client.chat.completions.create(model="default", messages=[{"role": "user", "content": "hi"}],
                                                stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "from alpha"


def test_provider_slash_model_goes_to_that_provider_exactly(world):
    import openai

    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=TOKEN)
        raw = client.chat.completions.with_raw_response.create(model="beta/b1",
                                                               messages=[{"role": "user", "content": "hi"}])
    assert raw.parse().choices[0].message.content == "from beta"
    assert raw.headers["x-llmswitch-served-by"] == "beta/b1"
    assert world["beta"].requests_to("/v1/chat/completions")[-1].json()["model"] == "b1"
    assert not world["beta"].saw_header("authorization")  # keyless provider: no key, and never the relay token


def test_every_openai_route_is_forwarded_with_only_the_model_changed(world):
    import openai

    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=TOKEN)
        assert client.completions.create(model="default", prompt="x").choices[0].text == "from alpha"
        assert client.responses.create(model="default", input="x").output_text == "from alpha"
        assert client.embeddings.create(model="default", input="x").data[0].embedding == [0.1, 0.2, 0.3]
    for path in ("/v1/completions", "/v1/responses", "/v1/embeddings"):
        assert world["alpha"].requests_to(path)[-1].json()["model"] == "m1", path


def test_models_lists_the_roles_then_the_default_providers_models(world):
    import openai

    use("beta/b1", role="small")
    with relay_running() as relay:
        ids = [m.id for m in openai.OpenAI(base_url=relay.v1, api_key=TOKEN).models.list()]
    assert ids[:2] == ["default", "small"] and "alpha/m1" in ids and "alpha/m2" in ids


def test_anthropic_sdk_messages_and_count_tokens_reach_the_anthropic_provider_with_x_api_key(world):
    import anthropic

    use("claude/claude-test")
    with relay_running() as relay:
        client = anthropic.Anthropic(base_url=relay.url, api_key=TOKEN)
        message = client.messages.create(model="default", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
        with client.messages.stream(model="default", max_tokens=16,
                                    messages=[{"role": "user", "content": "hi"}]) as stream:
            streamed = "".join(stream.text_stream)
        counted = client.messages.count_tokens(model="default", messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "Hello from upstream"
    assert streamed.split() == ["Hello", "from", "upstream"]
    assert counted.input_tokens == 7
    sent = world["claude"].requests_to("/v1/messages")
    assert [r.json()["model"] for r in sent] == ["claude-test", "claude-test"]
    assert all(r.headers["x-api-key"] == CLAUDE_KEY and "authorization" not in r.headers for r in sent)
    assert sent[0].headers["anthropic-version"]  # the client's own version header travels


def test_a_model_that_is_neither_a_role_nor_provider_slash_model_is_refused_in_each_protocol(world):
    import anthropic
    import openai

    with relay_running() as relay:
        with pytest.raises(openai.BadRequestError) as refused:
            openai.OpenAI(base_url=relay.v1, api_key=TOKEN, max_retries=0).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(anthropic.BadRequestError) as refused_too:
            anthropic.Anthropic(base_url=relay.url, api_key=TOKEN, max_retries=0).messages.create(
                model="claude-3-5-haiku", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    for said in (refused.value.body, refused_too.value.body):
        message = said["message"] if "message" in said else said["error"]["message"]
        assert "a role (default, small or embedding) or PROVIDER/MODEL" in message
    assert refused_too.value.body["type"] == "error" or "error" in refused_too.value.body
    assert not world["alpha"].requests and not world["claude"].requests


def test_a_protocol_the_provider_does_not_serve_is_refused_naming_one_that_does(world):
    import openai

    use("claude/claude-test")
    with relay_running() as relay, pytest.raises(openai.BadRequestError) as refused:
        openai.OpenAI(base_url=relay.v1, api_key=TOKEN, max_retries=0).chat.completions.create(
            model="default", messages=[{"role": "user", "content": "hi"}])
    message = refused.value.body["message"]
    assert "claude/claude-test does not serve chat completions" in message
    assert not world["claude"].requests


def test_a_switch_reaches_the_next_request(world):
    import openai

    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=TOKEN)
        first = client.chat.completions.with_raw_response.create(model="default", messages=[{"role": "user",
                                                                                              "content": "a"}])
        use("beta/b1")
        second = client.chat.completions.with_raw_response.create(model="default", messages=[{"role": "user",
                                                                                               "content": "b"}])
    assert first.headers["x-llmswitch-served-by"] == "alpha/m1"
    assert second.headers["x-llmswitch-served-by"] == "beta/b1"


def test_the_upstream_key_is_resolved_at_request_time(world, monkeypatch):
    with relay_running() as relay:
        monkeypatch.setenv("ALPHA_KEY", "sk-test-alpha-rotated-000000009")
        httpx.post(relay.v1 + "/chat/completions", headers={"authorization": f"Bearer {TOKEN}"},
                   json={"model": "default", "messages": [{"role": "user", "content": "x"}]})
    assert world["alpha"].requests_to("/v1/chat/completions")[-1].headers["authorization"] == \
        "Bearer sk-test-alpha-rotated-000000009"

"""The real CLI against a real llama.cpp ``llama-server`` (tiny random-weights model), keyless and keyed.

Opt-in: ``pytest -m integration``; the servers are built and started by
``scripts/llamacpp-server.sh`` (see the ``llamacpp`` fixtures in tests/integration/conftest.py).
"""

from __future__ import annotations

import json
import sys

import pytest

import llmswitch

pytestmark = pytest.mark.integration

WRONG_KEY = "sk-test-wrong-key-0021"

CHAT = """
import json, os, urllib.request
request = urllib.request.Request(
    os.environ["OPENAI_BASE_URL"] + "/chat/completions",
    json.dumps({"model": os.environ["OPENAI_MODEL"], "max_tokens": 4,
                "messages": [{"role": "user", "content": "Say OK."}]}).encode(),
    {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
print(urllib.request.urlopen(request, timeout=60).read().decode())
"""
"""A chat completion from the environment ``llmswitch exec`` gives a program (OPENAI_*), printed as JSON."""


def as_json(done) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def probe(run_cli, provider: str, env: dict[str, str] | None = None, *extra: str) -> dict:
    """``probe --json PROVIDER``'s one result; its exit code says whether the provider is usable."""
    done = run_cli("probe", "--json", *extra, provider, env=env)
    [result] = json.loads(done.stdout)
    assert done.returncode == (0 if result["usable"] else 1), done.stderr
    return result


def chat_through_exec(run_cli, env: dict[str, str] | None = None) -> dict:
    done = run_cli("exec", "--", sys.executable, "-c", CHAT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_a_completion(answer: dict, model: str) -> None:
    assert answer["object"] == "chat.completion"
    assert answer["model"] == model
    [choice] = answer["choices"]
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str)  # gibberish from random weights, maybe empty
    assert 1 <= answer["usage"]["completion_tokens"] <= 4


# --- keyless ------------------------------------------------------------------------------------

def test_add_a_port_recognises_llamacpp_that_wants_no_key(llamacpp, run_cli):
    added = as_json(run_cli("add", str(llamacpp.port), "--json"))
    assert added["provider"] == "llamacpp" and added["preset"] == "llamacpp"
    assert added["server"] == "llama.cpp"
    # llama-server answers at the root as well as under /v1, so the port's origin is kept as given
    assert added["base_url"] in (llamacpp.url, llamacpp.url.removesuffix("/v1"))
    assert added["outcome"] == "keyless" and added["usable"]
    assert not added["wants_key"] and not added["key_required"]
    assert added["models"] == [llamacpp.model]

    result = probe(run_cli, "llamacpp")
    assert result["outcome"] == "keyless", result["sentence"]
    assert result["server"] == "llama.cpp" and result["models"] == [llamacpp.model]
    assert "authorization" not in {h.lower() for h in result["request_headers"]}  # no key sent to a keyless server

    assert run_cli("use", f"llamacpp/{llamacpp.model}").returncode == 0
    assert_a_completion(chat_through_exec(run_cli), llamacpp.model)  # the base URL it kept works


def test_deep_probe_gets_a_token_from_the_model(llamacpp, run_cli):
    assert run_cli("add", llamacpp.url).returncode == 0
    assert run_cli("use", f"llamacpp/{llamacpp.model}").returncode == 0
    result = probe(run_cli, "llamacpp", None, "--deep")
    assert result["usable"], result["sentence"]
    assert result["deep"]["ok"], result["deep"]
    assert result["deep"]["reported_model"] == llamacpp.model


def test_exec_and_client_chat_with_the_keyless_server(llamacpp, run_cli):
    assert run_cli("add", llamacpp.url).returncode == 0
    assert run_cli("use", f"llamacpp/{llamacpp.model}").returncode == 0
    assert_a_completion(chat_through_exec(run_cli), llamacpp.model)

    answer = llmswitch.client().chat.completions.create(
        model=llmswitch.active().model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=4)
    assert answer.model == llamacpp.model
    assert answer.choices[0].message.role == "assistant"


# --- keyed (--api-key) --------------------------------------------------------------------------

def test_add_with_key_env_probes_with_that_key(llamacpp_keyed, run_cli):
    right = {"LLAMACPP_IT_KEY": llamacpp_keyed.key}
    done = run_cli("add", llamacpp_keyed.url, "--key-env", "LLAMACPP_IT_KEY", "--json", env=right)
    added = as_json(done)
    assert llamacpp_keyed.key not in done.stdout + done.stderr
    assert added["provider"] == "llamacpp" and added["server"] == "llama.cpp"
    assert added["wants_key"] and added["key_required"]
    assert added["outcome"] == "ok" and added["models"] == [llamacpp_keyed.model]

    wrong = probe(run_cli, "llamacpp", {"LLAMACPP_IT_KEY": WRONG_KEY})
    assert wrong["outcome"] == "auth_rejected", wrong["sentence"]
    assert wrong["status_code"] == 401 and wrong["key_source"] and "LLAMACPP_IT_KEY" in wrong["key_source"]
    assert WRONG_KEY not in json.dumps(wrong)

    missing = probe(run_cli, "llamacpp")
    assert missing["outcome"] == "auth_missing", missing["sentence"]
    assert "LLAMACPP_IT_KEY" in (missing["fix"] or "")

    ok = probe(run_cli, "llamacpp", right)
    assert ok["outcome"] == "ok" and ok["usable"], ok["sentence"]
    assert llamacpp_keyed.key not in json.dumps(ok)

    assert run_cli("use", f"llamacpp/{llamacpp_keyed.model}", env=right).returncode == 0
    assert_a_completion(chat_through_exec(run_cli, env=right), llamacpp_keyed.model)


def test_add_without_a_key_then_the_keyring(llamacpp_keyed, run_cli):
    done = run_cli("add", llamacpp_keyed.url, "--json")
    added = as_json(done)
    assert added["provider"] == "llamacpp" and added["server"] == "llama.cpp"
    assert added["wants_key"] and added["key_required"] and not added["usable"]

    missing = probe(run_cli, "llamacpp")
    assert missing["outcome"] == "auth_missing", missing["sentence"]
    assert "llmswitch key set llamacpp" in (missing["fix"] or "")

    assert run_cli("key", "set", "llamacpp", input=WRONG_KEY + "\n").returncode == 0
    wrong = probe(run_cli, "llamacpp")
    assert wrong["outcome"] == "auth_rejected", wrong["sentence"]
    assert wrong["fix"].startswith("run: llmswitch key set llamacpp")

    assert run_cli("key", "set", "llamacpp", input=llamacpp_keyed.key + "\n").returncode == 0
    ok = probe(run_cli, "llamacpp")
    assert ok["outcome"] == "ok", ok["sentence"]

    assert run_cli("use", f"llamacpp/{llamacpp_keyed.model}").returncode == 0
    assert_a_completion(chat_through_exec(run_cli), llamacpp_keyed.model)
    answer = llmswitch.client().chat.completions.create(
        model=llamacpp_keyed.model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=4)
    assert answer.model == llamacpp_keyed.model

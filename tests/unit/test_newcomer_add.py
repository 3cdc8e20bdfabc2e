"""Issue 14: ``llmswitch add URL`` — probe, the /v1 fix, a name from the fingerprint, a key only when wanted."""

from __future__ import annotations

import json
import tomllib

from llmswitch.base import paths
from llmswitch.services.addurl import as_url
from llmswitch.store.config import load
from upstreams import FAKE_KEY, free_port, litellm_like, ollama_like, vllm_like


def providers() -> dict:
    return tomllib.loads(paths.config_file().read_text())["providers"]


def test_a_bare_url_gets_the_v1_fix_and_the_name_of_the_software(upstream, run_cli):
    server = ollama_like(upstream())
    done = run_cli("add", server.url)  # no /v1: the probe finds it
    assert done.returncode == 0, done.stderr
    assert f"added ollama (Ollama) → {server.url}/v1" in done.stdout
    assert "is not the API root" in done.stdout
    assert "2 models" in done.stdout and "llmswitch use ollama/llama3.2:latest" in done.stdout
    assert "key" not in done.stdout.replace("no key needed", "")  # it needs none: none asked for
    assert providers() == {"ollama": {"base_url": f"{server.url}/v1", "key_source": "none"}}  # it answered keyless


def test_a_port_alone_means_this_machine_and_a_taken_id_gets_a_suffix(upstream, run_cli):
    first, second = vllm_like(upstream()), vllm_like(upstream())
    assert run_cli("add", f"{first.url}/v1").returncode == 0
    done = run_cli("add", str(second.port))
    assert done.returncode == 0, done.stderr
    assert "added vllm-2 (vLLM)" in done.stdout
    assert providers()["vllm-2"] == {"preset": "vllm", "base_url": f"{second.url}/v1", "key_source": "none"}
    again = run_cli("add", str(second.port))
    assert again.returncode == 2 and "already configured as vllm-2" in again.stderr


def test_a_server_that_wants_a_key_is_asked_for_one_and_learned_as_needing_it(upstream, run_cli):
    server = litellm_like(upstream())
    done = run_cli("add", f"{server.url}/v1")  # stdin is not a terminal: no prompt, the command to run instead
    assert done.returncode == 0, done.stderr
    assert "the server wants a key — run: llmswitch key set litellm" in done.stdout
    assert load().provider("litellm").key_required is True  # learned, though the preset says optional
    with_env = run_cli("add", f"{server.url}/v1", "--id", "proxy", "--key-env", "PROXY_KEY",
                       env={"PROXY_KEY": FAKE_KEY})
    assert with_env.returncode == 2  # same URL: refused
    run_cli("providers", "rm", "litellm")
    with_env = run_cli("add", f"{server.url}/v1", "--id", "proxy", "--key-env", "PROXY_KEY", "--json",
                       env={"PROXY_KEY": FAKE_KEY})
    data = json.loads(with_env.stdout)
    assert data["provider"] == "proxy" and data["wants_key"] and data["usable"], data
    assert providers()["proxy"]["key_source"] == "env:PROXY_KEY"
    assert FAKE_KEY not in with_env.stdout + with_env.stderr


def test_nothing_listening_is_refused_and_nothing_is_written(run_cli):
    done = run_cli("add", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "nothing answers at http://127.0.0.1:" in done.stderr
    assert not paths.config_file().exists()


def test_what_a_person_types_becomes_a_url():
    assert as_url("8080") == "http://127.0.0.1:8080"
    assert as_url(":11434") == "http://127.0.0.1:11434"
    assert as_url("localhost:1234/v1/") == "http://localhost:1234/v1"
    assert as_url("api.example.com/v1") == "https://api.example.com/v1"


def test_local_detection_follows_the_servers_own_variables(monkeypatch):
    from llmswitch.services.onboarding import local_targets, own_var_url

    assert own_var_url("ollama", {"OLLAMA_HOST": "0.0.0.0:11500"}) == "http://127.0.0.1:11500/v1"
    assert own_var_url("ollama", {"OLLAMA_HOST": "0.0.0.0"}) == "http://127.0.0.1:11434/v1"
    assert own_var_url("ollama", {"OLLAMA_HOST": "https://box:9/"}) == "https://box:9/v1"
    assert own_var_url("llamacpp", {"LLAMA_ARG_PORT": "8081"}) == "http://127.0.0.1:8081/v1"
    assert own_var_url("ollama", {"OLLAMA_HOST": "box:port"}) is None
    urls = {t.provider: t.base_url for t in local_targets({"OLLAMA_HOST": "127.0.0.1:11500"})}
    assert urls["ollama"] == "http://127.0.0.1:11500/v1"
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:12000/v1")  # the preset's own variable wins
    urls = {t.provider: t.base_url for t in local_targets({"OLLAMA_HOST": "127.0.0.1:11500",
                                                           "OLLAMA_BASE_URL": "http://127.0.0.1:12000/v1"})}
    assert urls["ollama"] == "http://127.0.0.1:12000/v1"


def test_a_proxy_that_fails_keyless_requests_is_asked_with_a_key(upstream, run_cli):
    """The real LiteLLM proxy 1.106.2 answers a keyless /models with a plain-text 500 and a wrong key with 400
    "No connected db." (seen in the integration tier): add must not refuse it as "not OpenAI-compatible"
    with a `key set` fix for a provider it never added; it asks with a wrong key, learns that a key is wanted,
    and with --key-env the right one is verified."""
    from upstreams import Reply, bearer, models_body

    server = upstream()
    no_db = Reply.json({"error": {"message": "No connected db.", "type": "no_db_connection", "param": None,
                                  "code": "400"}}, 400)
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["fake-gpt"])),
                                    missing=Reply.text("Internal Server Error", 500), invalid=no_db))
    done = run_cli("add", f"{server.url}/v1", "--key-env", "PROXY_KEY", env={"PROXY_KEY": FAKE_KEY})
    assert done.returncode == 0, done.stderr
    assert "added litellm" in done.stdout and "✓ 1 model" in done.stdout, done.stdout
    assert providers()["litellm"]["key_source"] == "env:PROXY_KEY"
    assert FAKE_KEY not in done.stdout + done.stderr

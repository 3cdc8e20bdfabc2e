"""Issue 21, "also seen": the smaller wrongs around the key truth, each through the real CLI and real servers.

* a ``not_found`` at a path that already ends in ``/v1`` tries the origin's ``/v1`` and suggests it; ``add``
  keeps no provider whose probe ends ``not_found``;
* ``probe --deep P`` works on any provider, and its verdict is remembered by the next plain probe.
"""

from __future__ import annotations

import json
import tomllib

from upstreams import FAKE_KEY, Reply, bearer, chat_completions, litellm_like, llamacpp_like, models_body

from llmswitch import paths


def configure(config_dir, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def keyed_proxy(upstream, *, answers_v1: bool = True):
    """A proxy that checks the key before its routes, as the real LiteLLM proxy does: a keyless request gets a
    plain-text 500, a wrong key 400 "No connected db.", the right key the route's answer (404 where none is)."""
    server = upstream()
    no_db = Reply.json({"error": {"message": "No connected db.", "type": "no_db_connection", "param": None,
                                  "code": "400"}}, 400)
    guarded = dict(missing=Reply.text("Internal Server Error", 500), invalid=no_db)
    server.get("*", bearer(FAKE_KEY, Reply.json({"detail": "Not Found"}, 404), **guarded))
    if answers_v1:
        server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["fake-gpt"])), **guarded))
    return server


# --- not_found at …/api/v1 --------------------------------------------------------------------------------

def test_probe_json_suggests_the_origins_v1_for_a_pasted_api_v1(run_cli, config_dir, upstream):
    server = litellm_like(upstream())
    configure(config_dir, f'[providers.proxy]\nbase_url = "{server.url}/api/v1"\nkey_source = "env:PROXY_KEY"\n')
    done = run_cli("probe", "--json", "proxy", env={"PROXY_KEY": FAKE_KEY})
    data = json.loads(done.stdout)[0]
    assert done.returncode == 1 and data["outcome"] == "not_found"
    assert data["suggested_base_url"] == f"{server.url}/v1"
    assert data["fix"] == f"change base_url to {server.url}/v1 in config.toml"
    text = run_cli("probe", "proxy", env={"PROXY_KEY": FAKE_KEY})
    assert f"try: base_url = {server.url}/v1" in text.stdout and "usually end in /v1" not in text.stdout
    # the fix, followed literally, makes the next probe work
    configure(config_dir, f'[providers.proxy]\nbase_url = "{server.url}/v1"\nkey_source = "env:PROXY_KEY"\n')
    assert run_cli("probe", "proxy", env={"PROXY_KEY": FAKE_KEY}).returncode == 0


def test_add_takes_the_origins_v1_when_the_key_finds_only_not_found_at_api_v1(run_cli, upstream):
    server = keyed_proxy(upstream)
    done = run_cli("add", f"{server.url}/api/v1", "--key-env", "PROXY_KEY", env={"PROXY_KEY": FAKE_KEY})
    assert done.returncode == 0, done.stderr
    assert f"{server.url}/api/v1 is not the API root; {server.url}/v1 answered" in done.stdout
    assert "✓ 1 model" in done.stdout, done.stdout
    written = tomllib.loads(paths.config_file().read_text())["providers"]
    assert [p["base_url"] for p in written.values()] == [f"{server.url}/v1"]
    assert FAKE_KEY not in done.stdout + done.stderr


def test_add_keeps_no_provider_whose_probe_ends_not_found(run_cli, upstream):
    server = keyed_proxy(upstream, answers_v1=False)
    done = run_cli("add", f"{server.url}/api/v1", "--key-env", "PROXY_KEY", env={"PROXY_KEY": FAKE_KEY})
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"llmswitch: {server.url}/api/v1 answers \"not found\" once the key is sent "
                               f"(not found at /api/v1/models, nor at /api/models or /v1/models), so nothing was added")
    assert "usually end in /v1" not in done.stderr
    assert not paths.config_file().exists()
    assert FAKE_KEY not in done.stderr


def test_add_of_a_keyless_url_that_finds_nothing_writes_nothing(run_cli, upstream):
    server = upstream()  # a web server with nothing at any /models
    done = run_cli("add", f"{server.url}/api/v1")
    assert done.returncode == 1 and not paths.config_file().exists()
    assert len(done.stderr.strip().splitlines()) == 1 and "usually end in /v1" not in done.stderr


# --- probe --deep on any provider, remembered --------------------------------------------------------------

def any_key_llamacpp(upstream):
    """llama.cpp's llama-server without --api-key: /models is public and chat takes any key (or none)."""
    server = llamacpp_like(upstream(), models=("tiny.gguf", "other.gguf"))
    server.post("/v1/chat/completions", chat_completions())
    return server

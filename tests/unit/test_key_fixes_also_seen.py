"""Issue 21, "also seen": the smaller wrongs around the key truth, each through the real CLI and real servers.

* a ``not_found`` at a path that already ends in ``/v1`` tries the origin's ``/v1`` and suggests it; ``add``
  keeps no provider whose probe ends ``not_found``;
* ``probe --deep P`` works on any provider, and its verdict is remembered by the next plain probe.
"""

from __future__ import annotations

import json
import tomllib

from llmswitch.base import paths
from upstreams import (
    FAKE_KEY,
    Reply,
    bearer,
    chat_completions,
    litellm_like,
    llamacpp_like,
    models_body,
    without_fingerprint,
)


def configure(config_dir, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def keyed_proxy(upstream, *, answers_v1: bool = True, key_before_routes: bool = True):
    """A LiteLLM proxy without a database: a keyless request to a route gets a plain-text 500, a wrong key 400
    "No connected db.", the right key the route's answer. The real proxy 1.106.2 answers a path it has no route
    for with 404 whatever the key (``key_before_routes=False``); behind an auth gateway that checks the key
    first, the 404 comes only with the right key."""
    server = upstream()
    no_db = Reply.json({"error": {"message": "No connected db.", "type": "no_db_connection", "param": None,
                                  "code": "400"}}, 400)
    guarded = dict(missing=Reply.text("Internal Server Error", 500), invalid=no_db)
    not_found = Reply.json({"detail": "Not Found"}, 404)
    server.get("*", bearer(FAKE_KEY, not_found, **guarded) if key_before_routes else not_found)
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


def test_add_of_a_pasted_api_v1_on_a_proxy_that_wants_a_key_finds_the_origins_v1(run_cli, upstream):
    server = keyed_proxy(upstream, key_before_routes=False)  # as the real proxy: keyless /v1/models is a 500
    done = run_cli("add", f"{server.url}/api/v1", "--key-env", "PROXY_KEY", env={"PROXY_KEY": FAKE_KEY})
    assert done.returncode == 0, done.stderr
    assert f"is not the API root; {server.url}/v1 answered" in done.stdout and "✓ 1 model" in done.stdout
    written = tomllib.loads(paths.config_file().read_text())["providers"]
    assert [(p["base_url"], p.get("key_source")) for p in written.values()] == [(f"{server.url}/v1", "env:PROXY_KEY")]


async def test_the_origins_v1_that_fails_keyless_requests_is_asked_with_a_wrong_key(upstream):
    from llmswitch.net.probe import Outcome, ProbeTarget, probe

    server = keyed_proxy(upstream, key_before_routes=False)
    result = await probe(ProbeTarget("new", f"{server.url}/api/v1", key_required=False, timeout=5))
    assert result.outcome is Outcome.NOT_FOUND and result.suggested_base_url == f"{server.url}/v1"
    assert result.summary == f"not found at /api/v1/models; {server.url}/v1 answers: wants a key (without one it " \
                             f"answers HTTP 500)"
    assert result.fix == f"change base_url to {server.url}/v1 in config.toml"


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


def llamacpp_config(config_dir, server, *, extra: str = "") -> None:
    configure(config_dir, f'[providers.box]\npreset = "llamacpp"\nbase_url = "{server.url}/v1"\n'
                          f'key_source = "env:BOX_KEY"\n{extra}')


def probed(run_cli, *args: str, key: str = FAKE_KEY) -> tuple[int, dict]:
    done = run_cli("probe", "--json", *args, env={"BOX_KEY": key})
    assert key not in done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)[0]


def chats(server) -> list[str]:
    return [r.json()["model"] for r in without_fingerprint(server.requests_to("/v1/chat/completions"))]


def test_deep_works_on_a_provider_nobody_selected_and_its_any_key_verdict_is_remembered(run_cli, config_dir,
                                                                                       upstream):
    server = any_key_llamacpp(upstream)
    llamacpp_config(config_dir, server)
    assert not paths.active_file().exists()  # nothing selected: --deep used to skip the chat
    code, plain = probed(run_cli, "box")
    assert code == 1 and plain["outcome"] == "key_unverified"
    assert plain["fix"] == "run: llmswitch probe --deep box (a 1-token request verifies the key)"
    # the fix, followed literally
    code, deep = probed(run_cli, "--deep", "box")
    assert code == 0 and deep["outcome"] == "any_key", deep
    assert "chat with tiny.gguf (first listed)" in deep["summary"]
    assert chats(server)[0] == "tiny.gguf"
    asked = len(server.requests)
    code, again = probed(run_cli, "box")  # a plain probe: no chat, and the verdict stands
    assert code == 0 and again["outcome"] == "any_key" and again["usable"], again
    assert again["verified_by"].startswith("a chat with a wrong key succeeds too (probe --deep, ")
    assert "/v1/chat/completions" not in [r.path for r in server.requests[asked:]]
    text = run_cli("probe", "box", env={"BOX_KEY": FAKE_KEY})
    assert text.returncode == 0 and "any_key" in text.stdout and "accepts any key" in text.stdout


def test_deep_model_flag_picks_the_model_to_chat_with(run_cli, config_dir, upstream):
    server = any_key_llamacpp(upstream)
    llamacpp_config(config_dir, server)
    code, deep = probed(run_cli, "--deep", "box", "--model", "other.gguf")
    assert code == 0 and deep["outcome"] == "any_key"
    assert chats(server)[0] == "other.gguf" and "first listed" not in deep["summary"]
    code, missing = probed(run_cli, "--deep", "box", "--model", "nope.gguf")
    assert code == 1 and missing["outcome"] == "model_missing"


def test_a_key_verified_by_deep_stays_verified_for_that_key_only(run_cli, config_dir, upstream):
    server = upstream()  # llama-server --api-key: /models public, chat checks the key
    llamacpp_like(server)
    server.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    llamacpp_config(config_dir, server)
    code, deep = probed(run_cli, "--deep", "box")
    assert code == 0 and deep["outcome"] == "ok" and deep["verified_by"] == "deep check", deep
    code, again = probed(run_cli, "box")
    assert code == 0 and again["outcome"] == "ok" and again["key_verified"] is True
    assert again["verified_by"].startswith("deep check (probe --deep, ")
    other = "sk-test-another-key-0000000000000000abcd"
    code, changed = probed(run_cli, "box", key=other)  # another key: what the chat proved is not about it
    assert code == 1 and changed["outcome"] == "key_unverified"


def test_a_refusal_forgets_what_deep_settled(run_cli, config_dir, upstream):
    server = any_key_llamacpp(upstream)
    llamacpp_config(config_dir, server)
    assert probed(run_cli, "--deep", "box")[1]["outcome"] == "any_key"
    server.get("/v1/models", bearer("sk-test-the-new-key-000000000000000000", Reply.json(models_body(["tiny.gguf"]))))
    code, refused = probed(run_cli, "box")  # restarted with --api-key and a guarded list: the key is refused
    assert code == 1 and refused["outcome"] == "auth_rejected", refused
    llamacpp_like(server)  # the old public server again: the verdict was forgotten, so nothing is assumed
    assert probed(run_cli, "box")[1]["outcome"] == "key_unverified"

"""``llmswitch chat`` without a terminal (piped stdin), exit codes, and API errors as one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch.chat import clean
from llmswitch.repl import explain_error
from llmswitch.store import keys
from llmswitch.store.selection import ActiveSelection
from upstreams import (
    FAKE_KEY,
    Reply,
    chat_completions,
    free_port,
    incorrect_key_error,
    models_body,
    openai_error,
    openai_like,
    sequence,
    without_fingerprint,
)


def configure(config_dir: Path, body: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(body)


def keyless(name: str, url: str) -> str:
    return f'[providers.{name}]\nbase_url = "{url}/v1"\nkey_source = "none"\n'


def echo(messages) -> str:
    return f"you said {messages[-1]['content']} ({len(messages)} messages)"


@pytest.fixture
def fake(upstream, config_dir, run_cli):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["model-a", "model-b"])))
    server.post("/v1/chat/completions", chat_completions(reply=echo))
    configure(config_dir, keyless("fake", server.url))
    assert run_cli("use", "fake/model-a").returncode == 0
    return server


# --- piped stdin ------------------------------------------------------------------------------------

def test_piped_stdin_prints_only_the_answer(fake, run_cli):
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "you said hi (1 messages)\n"
    assert "[fake/model-a · server reports model-a · active.toml]" in done.stderr


def test_piped_conversation_keeps_context_and_commands_work(fake, run_cli):
    done = run_cli("chat", input="one\n/model fake/model-b\ntwo\n/clear\nthree\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "you said one (1 messages)"
    assert lines[1].startswith("switched this session to fake/model-b")
    assert lines[2] == "you said two (3 messages)", "the switch keeps the conversation"
    assert lines[3].startswith("conversation cleared")
    assert lines[4] == "you said three (1 messages)"
    models = [r.json()["model"] for r in without_fingerprint(fake.requests_to("/v1/chat/completions"))]
    assert models == ["model-a", "model-b", "model-b"]  # the switch's probe may add the fingerprint's empty POSTs


def test_the_reported_model_is_shown_and_a_difference_warned(upstream, config_dir, run_cli):
    server = upstream()
    server.post("/v1/chat/completions", chat_completions(reported_model="cheaper-model", reply=echo))
    configure(config_dir, keyless("fake", server.url))
    run_cli("use", "fake/model-a")
    done = run_cli("chat", input="hi\nagain\n")
    assert done.returncode == 0
    assert "server reports cheaper-model" in done.stderr
    assert done.stderr.count("warning: asked fake for model-a but it answered as cheaper-model") == 1


def test_no_selection_exits_3(run_cli):
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 3
    assert "no model selected yet" in done.stderr and "llmswitch use PROVIDER/MODEL" in done.stderr


def test_missing_key_exits_4_before_any_request(upstream, config_dir, run_cli):
    server = upstream()
    openai_like(server, prefix="/v1")
    configure(config_dir, f'[providers.keyed]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    run_cli("use", "keyed/gpt-4o")
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 4
    assert "keyed: no API key found" in done.stderr and "run: llmswitch key set keyed" in done.stderr
    assert server.requests == []


def test_a_stored_key_is_sent(upstream, config_dir, run_cli):
    server = upstream()
    openai_like(server, prefix="/v1")
    configure(config_dir, f'[providers.keyed]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    keys.store("keyed", FAKE_KEY)
    run_cli("use", "keyed/gpt-4o")
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "OK\n"
    assert server.requests_to("/v1/chat/completions")[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_a_failed_request_is_one_sentence_and_exit_1(upstream, config_dir, run_cli):
    server = upstream()
    server.post("/v1/chat/completions", sequence(incorrect_key_error("wrong-key-0000000"), chat_completions()))
    configure(config_dir, f'[providers.fake]\nbase_url = "{server.url}/v1"\nkey_source = "env:FAKE_TEST_KEY"\n'
                          f'key_required = true\n')
    run_cli("use", "fake/model-a")
    done = run_cli("chat", input="hi\nagain\n", env={"FAKE_TEST_KEY": "wrong-key-0000000"})
    assert done.returncode == 1
    assert "fake: key rejected (from env FAKE_TEST_KEY) (HTTP 401" in done.stderr  # the key came from that variable
    assert "— put the right key in FAKE_TEST_KEY" in done.stderr
    assert "wrong-key-0000000" not in done.stderr
    assert done.stdout == "OK\n", "the REPL goes on after a failed turn"


def test_switching_to_a_dead_server_is_refused_in_a_pipe_too(fake, run_cli):
    port = free_port()
    done = run_cli("chat", input="/model ollama/llama3\nhi\n", env={"OLLAMA_BASE_URL": f"http://127.0.0.1:{port}/v1"})
    assert f"ollama: no server on 127.0.0.1:{port} — start it: OLLAMA_HOST=127.0.0.1:{port} ollama serve" in done.stdout
    assert "you said hi" in done.stdout
    assert [r.json()["model"] for r in fake.requests_to("/v1/chat/completions")] == ["model-a"]
    assert done.returncode == 1, "a refused command counts as a failure when not interactive"


# --- errors as sentences ----------------------------------------------------------------------------

def sel_for(url: str, provider: str = "fake", model: str = "model-a", required: bool = True) -> ActiveSelection:
    return ActiveSelection(role="default", provider=provider, model=model, base_url=f"{url}/v1",
                           key_required=required)


def error_from(url: str, key: str = "placeholder-key"):
    import openai

    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=10)
    with pytest.raises(openai.APIError) as caught:
        client.chat.completions.create(model="model-a", messages=[{"role": "user", "content": "hi"}], stream=True)
    return caught.value


def test_connection_refused_names_the_start_command():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    text = explain_error(error_from(url), sel_for(url, "ollama", "llama3", required=False))
    assert text.startswith("ollama: no server on 127.0.0.1:") and text.endswith(
        f"start it: OLLAMA_HOST=127.0.0.1:{port} ollama serve")


@pytest.mark.parametrize("reply, says", [
    (openai_error("The model `model-a` does not exist or you do not have access to it.", 404,
                  code="model_not_found"),
     'fake: model model-a not available (HTTP 404 "The model `model-a` does not exist'),
    (openai_error("You exceeded your current quota, please check your plan.", 429, code="insufficient_quota"),
     "fake: no credit or quota left"),
    (Reply.json({"detail": "Not Found"}, 404), "fake: no chat endpoint at http://127.0.0.1:"),
    (Reply.text("boom", 500), "fake: server error (HTTP 500"),
    (incorrect_key_error("placeholder-key"), "fake: key rejected (HTTP 401"),
])
def test_status_errors_read_like_the_probe(upstream, reply, says):
    server = upstream()
    server.post("/v1/chat/completions", reply)
    text = explain_error(error_from(server.url), sel_for(server.url), "placeholder-key")
    assert text.startswith(says), text
    assert " — " in text, "cause, then fix"


def test_ollama_model_missing_says_pull(upstream):
    server = upstream()
    server.post("/v1/chat/completions", openai_error('model "llama9" not found, try pulling it first', 404,
                                                     type="api_error"))
    text = explain_error(error_from(server.url), sel_for(server.url, "ollama", "llama9", required=False))
    assert "ollama: model llama9 not available" in text and "run: ollama pull llama9" in text


def test_clean_keeps_lines_and_neutralises_escapes():
    assert clean("a\r\nb\tc") == "a\nb\tc"
    assert clean("\x1b[31mred\x1b]0;title\x07") == "\\x1b[31mred\\x1b]0;title\\x07"
    assert clean("abc\u202edef") == "abc\\u202edef"
    assert clean("👩‍💻 ok") == "👩‍💻 ok", "zero-width joiners are text"


def test_an_empty_answer_is_said(upstream, config_dir, run_cli):
    from upstreams import sse

    server = upstream()
    server.post("/v1/chat/completions", Reply(200, b"", {"content-type": "text/event-stream"}, chunks=sse([])))
    configure(config_dir, keyless("fake", server.url))
    run_cli("use", "fake/model-a")
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 0 and done.stdout == ""
    assert "[fake/model-a · the server did not say which model answered]" in done.stderr
    assert "[fake sent an empty answer]" in done.stderr


def test_role_switches_the_selection_used(fake, run_cli):
    done = run_cli("chat", input="/role small\nhi\n")
    assert "no model selected for role 'small'" in done.stderr and "still role default" in done.stderr
    assert run_cli("use", "--role", "small", "fake/model-b").returncode == 0
    done = run_cli("chat", input="/role small\nhi\n/role\n")
    assert done.returncode == 0, done.stderr
    assert "now using role small: fake/model-b — from active.toml" in done.stdout
    assert "role small: fake/model-b — from active.toml" in done.stdout and "other roles: default" in done.stdout
    assert [r.json()["model"] for r in fake.requests_to("/v1/chat/completions")][-1] == "model-b"
    done = run_cli("chat", "--role", "small", input="hi\n")
    assert done.returncode == 0 and "[fake/model-b ·" in done.stderr


def test_unknown_commands_and_help(fake, run_cli):
    done = run_cli("chat", input="/hlep\n/help\n")
    assert "unknown command /hlep" in done.stderr
    assert "/model --reset" in done.stdout and "Ctrl-C stops an answer" in done.stdout


def test_an_error_event_inside_the_stream_is_one_sentence(upstream, config_dir, run_cli):
    from upstreams import chat_chunks, sse

    server = upstream()
    events = [*chat_chunks("model-a", "partial answer")[:2], {"error": {"message": "upstream overloaded\x1b[2J"}}]
    server.post("/v1/chat/completions", Reply(200, b"", {"content-type": "text/event-stream"}, chunks=sse(events)))
    configure(config_dir, keyless("fake", server.url))
    run_cli("use", "fake/model-a")
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 1
    assert done.stdout == "partial\n"
    assert ('fake: the server stopped the answer with an error ("upstream overloaded\\x1b[2J") — try again'
            in done.stderr)


def test_explain_gives_cause_and_fix_as_fields(upstream):
    from llmswitch.base.errors import Exit
    from llmswitch.repl import explain

    server = upstream()
    server.post("/v1/chat/completions", incorrect_key_error("placeholder-key"))
    error = explain(error_from(server.url), sel_for(server.url), "placeholder-key")
    assert error.subject == "fake" and error.cause.startswith("key rejected (HTTP 401")
    assert error.fix == "run: llmswitch key set fake" and error.exit_code == Exit.CHECK
    assert error.status == 401
    assert error.sentence() == f"fake: {error.cause} — {error.fix}"


# --- what HTTP cannot carry ---------------------------------------------------------------------------

def test_a_key_with_an_invisible_character_is_one_sentence_naming_its_source(upstream, config_dir, run_cli):
    server = upstream()
    openai_like(server, prefix="/v1")
    configure(config_dir, f'[providers.fake]\nbase_url = "{server.url}/v1"\nkey_source = "env:FAKE_TEST_KEY"\n'
                          f'key_required = true\n')
    run_cli("use", "fake/model-a")
    done = run_cli("chat", input="hi\n", env={"FAKE_TEST_KEY": "sk-pasted\u200b1234567890"})
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert done.stderr == ("llmswitch: fake: the key from env FAKE_TEST_KEY contains U+200B ZERO WIDTH SPACE at "
                           "character 10, which no server accepts in a key — set FAKE_TEST_KEY to the key alone, "
                           "or unset it\n")
    assert server.requests == []


def test_headers_come_from_config_toml_not_a_hand_edited_active_toml(upstream, config_dir, run_cli):
    # like the key source: llmswitch's own requests take the headers config.toml has (which refuses
    # a value no server accepts); active.toml's copy is for other readers
    server = upstream()
    openai_like(server, prefix="/v1", key="llmswitch-keyless")
    configure(config_dir, keyless("fake", server.url) + '[providers.fake.headers]\nX-Team = "e"\n')
    assert run_cli("use", "fake/model-a").returncode == 0
    active = config_dir / "active.toml"
    active.write_text(active.read_text().replace('"X-Team" = "e"', '"X-Team" = "\u00e9"').replace(
        'X-Team = "e"', 'X-Team = "\u00e9"'))
    assert "\u00e9" in active.read_text()
    done = run_cli("chat", input="hi\n")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert [r.headers["x-team"] for r in server.requests if r.path.endswith("/chat/completions")] == ["e"]


def test_a_header_outside_ascii_in_config_toml_is_refused_with_its_line(config_dir, run_cli):
    configure(config_dir, keyless("fake", "http://127.0.0.1:9") + '[providers.fake.headers]\nX-Team = "\u00e9"\n')
    done = run_cli("use", "fake/model-a")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "config.toml:5:" in done.stderr and "U+00E9 LATIN SMALL LETTER E WITH ACUTE" in done.stderr

"""``llmswitch.repl``: parsing, fuzzy matching, scope (session vs saved), the explicit-provider rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmswitch.repl import Command, CommandError, ModelSwitcher, parse, same_model
from llmswitch.store import selection, state
from upstreams import Reply, chat_completions, free_port, models_body, ollama_like

MODELS = ["model-a", "model-b", "model-c", "big-coder-7b", "big-coder-32b", "tiny-chat"]


def write_config(config_dir: Path, url: str, extra: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f'[providers.fake]\nbase_url = "{url}/v1"\nkey_source = "none"\n{extra}')


@pytest.fixture
def fake(upstream, config_dir):
    """A keyless OpenAI-compatible server configured as provider ``fake``, selected as fake/model-a."""
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(MODELS)))
    server.post("/v1/chat/completions", chat_completions())
    write_config(config_dir, server.url)
    state.remember_models("fake", f"{server.url}/v1", MODELS)
    from llmswitch.services.switch import switch

    switch("fake/model-a")
    return server


def switcher(**kw) -> ModelSwitcher:
    kw.setdefault("interactive", False)
    return ModelSwitcher(**kw)


# --- parsing ---------------------------------------------------------------------------------------

def test_non_commands_are_left_to_the_repl():
    assert parse("hello") is None
    assert parse("") is None
    assert parse("/modelx foo") is None
    assert parse("  /help") is None


def test_flags_anywhere_and_the_query_keeps_its_words():
    assert parse("/model") == Command("/model")
    assert parse("/model claude sonnet --save") == Command("/model", "claude sonnet", save=True)
    assert parse("/model --role small --force ollama/llama3") == Command("/model", "ollama/llama3", force=True,
                                                                          role="small")
    assert parse("/model --role=small x") == Command("/model", "x", role="small")
    assert parse("/models   gpt  4o ") == Command("/models", "gpt 4o")
    assert parse("/model -- --odd-id") == Command("/model", "--odd-id")
    assert parse("/model --reset") == Command("/model", reset=True)


@pytest.mark.parametrize("line, says", [
    ("/model --sav x", "did you mean --save?"),
    ("/model --role", "--role needs a name"),
    ("/model --role Big x", "lowercase"),
    ("/model --save=yes x", "takes no value"),
    ("/models --save", "/models only lists"),
    ("/model --reset fake/x", "--reset stands alone"),
])
def test_bad_command_lines_say_what_to_type(line, says):
    with pytest.raises(CommandError, match=says.replace("?", r"\?")):
        parse(line)


@given(st.text(max_size=80))
def test_parse_never_fails_with_anything_but_a_command_error(text):
    for line in (text, "/model " + text, "/models " + text):
        try:
            result = parse(line)
        except CommandError as exc:
            assert str(exc)
        else:
            assert result is None or result.name in ("/model", "/models")


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./:", min_size=1, max_size=12).filter(
    lambda w: not w.startswith("-"))


@given(st.lists(words, max_size=4), st.booleans(), st.booleans(), st.sampled_from([None, "small", "default"]),
       st.randoms())
def test_parse_recovers_query_and_flags_in_any_order(query, save, force, role, rnd):
    tokens = [[w] for w in query]
    flags = [["--save"]] * save + [["--force"]] * force + ([["--role", role]] if role else [])
    for flag in flags:
        tokens.insert(rnd.randint(0, len(tokens)), flag)
    line = "/model " + " ".join(t for group in tokens for t in group)
    assert parse(line) == Command("/model", " ".join(query), save=save, force=force, role=role)


# --- show, switch, scope ---------------------------------------------------------------------------

def test_show_says_where_the_selection_comes_from(fake):
    s = switcher()
    reply = s.handle("/model")
    assert reply.ok and "fake/model-a — from active.toml" in reply.text
    assert "/models" in reply.text  # short usage
    s.handle("/model fake/model-b")
    assert "fake/model-b — this session only (active.toml has fake/model-a" in s.handle("/model").text


def test_default_scope_is_the_session_and_the_reply_says_so(fake):
    s = switcher()
    reply = s.handle("/model fake/model-b")
    assert reply.ok and reply.scope == "session"
    assert reply.text == ("switched this session to fake/model-b — not saved; /model --save makes it the default")
    assert s.selection().ref == "fake/model-b" and s.source() == "session"
    assert selection.read().ref == "fake/model-a", "a session switch never writes active.toml"
    assert "fake/model-b" in state.recent()


def test_save_writes_active_toml_and_follows_it(fake):
    s = switcher()
    reply = s.handle("/model --save fake/model-c")
    assert reply.ok and reply.scope == "saved"
    assert "saved fake/model-c as the default in active.toml" in reply.text
    assert selection.read().ref == "fake/model-c"
    assert s.source() == "active.toml" and s.poll() == [], "our own write is not news"


def test_save_without_a_model_keeps_the_session_choice(fake):
    s = switcher()
    assert "nothing to save" in s.handle("/model --save").text
    s.handle("/model fake/model-b")
    assert s.handle("/model --save").scope == "saved"
    assert selection.read().ref == "fake/model-b" and s.override() is None


def test_roles_are_separate(fake):
    s = switcher()
    reply = s.handle("/model --role small fake/tiny-chat")
    assert "switched role small in this session to fake/tiny-chat" in reply.text
    assert s.selection("small").ref == "fake/tiny-chat"
    assert s.selection().ref == "fake/model-a"
    reply = s.handle("/model --save --role small fake/tiny-chat")
    assert "for role small" not in reply.text and "as role small in active.toml" in reply.text
    assert selection.read("small").ref == "fake/tiny-chat"


def test_reset_follows_the_file_again(fake):
    s = switcher()
    assert "already follows active.toml" in s.handle("/model --reset").text
    s.handle("/model fake/model-b")
    reply = s.handle("/model --reset")
    assert reply.ok and "follows active.toml again: fake/model-a (dropped fake/model-b)" in reply.text
    assert s.selection().ref == "fake/model-a"


def test_a_change_made_elsewhere_is_noticed_and_a_session_choice_wins(fake, run_cli):
    s = switcher()
    assert s.selection().ref == "fake/model-a"
    assert s.poll() == []
    assert run_cli("use", "fake/model-b").returncode == 0
    assert s.poll() == ["active.toml changed: now using fake/model-b"]
    assert s.selection().ref == "fake/model-b"
    assert s.poll() == []
    s.handle("/model fake/model-c")
    assert run_cli("use", "fake/model-a").returncode == 0
    assert s.poll() == ["active.toml changed to fake/model-a; this session keeps fake/model-c "
                        "(/model --reset to follow the file)"]
    assert s.selection().ref == "fake/model-c"


def test_a_removed_role_is_reported_and_read_again(fake, run_cli):
    s = switcher()
    s.handle("/model --save --role small fake/tiny-chat")
    assert s.selection("small").ref == "fake/tiny-chat"
    assert run_cli("use", "--role", "small", "--unset").returncode == 0
    assert s.poll() == ["active.toml no longer sets role small — pick one: /model PROVIDER/MODEL"]
    with pytest.raises(selection.NoSelection):
        s.selection("small")


# --- queries ---------------------------------------------------------------------------------------

def test_one_clear_match_switches(fake):
    s = switcher()
    reply = s.handle("/model tiny")
    assert reply.ok and reply.selection.ref == "fake/tiny-chat"


def test_an_exact_id_switches_even_when_it_prefixes_others(fake):
    s = switcher()
    assert s.handle("/model big-coder-7b").selection.ref == "fake/big-coder-7b"


def test_several_matches_give_a_numbered_list_and_n_picks(fake):
    s = switcher()
    reply = s.handle("/model coder")
    assert reply.ok and reply.selection is None
    assert reply.choices == ("fake/big-coder-7b", "fake/big-coder-32b")
    assert "  1  fake/big-coder-7b" in reply.text and "pick one: /model N" in reply.text
    picked = s.handle("/model 2")
    assert picked.selection.ref == "fake/big-coder-32b" and picked.scope == "session"
    assert "pick a number from 1 to 2" in s.handle("/model 9").text


def test_words_in_any_order_match(fake):
    assert switcher().handle("/model 32b coder").selection.ref == "fake/big-coder-32b"


def test_nothing_matches_gives_did_you_mean(fake):
    reply = switcher().handle("/model tiny-chta")
    assert not reply.ok
    assert "no model matches 'tiny-chta' — did you mean fake/tiny-chat?" in reply.text


def test_n_without_a_list(fake):
    reply = switcher().handle("/model 1")
    assert not reply.ok and "no list to pick from" in reply.text


def test_query_prefers_the_current_provider_on_an_exact_tie(fake, upstream, config_dir):
    other = upstream()
    other.get("/v1/models", Reply.json(models_body(["model-b"])))
    write_config(config_dir, fake.url, f'\n[providers.other]\nbase_url = "{other.url}/v1"\nkey_source = "none"\n')
    state.remember_models("other", f"{other.url}/v1", ["model-b"])
    s = switcher()
    assert s.handle("/model model-b").selection.ref == "fake/model-b"
    s.handle("/model other/model-b")
    assert s.handle("/model model-b").selection.ref == "other/model-b"


def test_models_lists_with_context_and_price(fake):
    s = switcher()
    reply = s.handle("/models")
    assert reply.ok and reply.choices[0] == "fake/model-a", "the current model comes first"
    assert "*  1  fake/model-a" in reply.text
    assert set(reply.choices) == {f"fake/{m}" for m in MODELS}
    assert s.handle("/models coder").choices == ("fake/big-coder-7b", "fake/big-coder-32b")
    assert s.handle("/models fake").choices[0] == "fake/model-a"
    listed = s.handle("/models openai/gpt-4o")
    assert listed.ok and "openai/gpt-4o " in listed.text + " " and "ctx  128k" in listed.text and "per M" in listed.text


# --- the explicit provider is a hard constraint ------------------------------------------------------

def test_explicit_provider_down_is_refused_with_the_probe_sentence(fake, monkeypatch):
    port = free_port()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}/v1")
    s = switcher()
    reply = s.handle("/model ollama/llama3")
    assert not reply.ok and reply.selection is None
    assert f"ollama: no server on 127.0.0.1:{port} — start it: OLLAMA_HOST=127.0.0.1:{port} ollama serve" in reply.text
    assert "not switched (still fake/model-a) — /model --force ollama/llama3 switches anyway" in reply.text
    assert s.selection().ref == "fake/model-a"
    assert [r.path for r in fake.requests] == [], "no fallback: nothing was asked of the other provider"


def test_force_switches_to_a_dead_server_with_a_warning(fake, monkeypatch):
    port = free_port()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}/v1")
    s = switcher()
    reply = s.handle("/model --force ollama/llama3")
    assert reply.ok and reply.selection.ref == "ollama/llama3"
    assert any("no server on" in w for w in reply.warnings)


def test_a_live_server_is_probed_and_its_list_cached(fake, upstream, monkeypatch):
    server = ollama_like(upstream(), models=("llama3:latest", "qwen2.5:0.5b"))
    monkeypatch.setenv("OLLAMA_BASE_URL", f"{server.url}/v1")
    s = switcher()
    reply = s.handle("/model ollama/llama3")
    assert reply.ok and reply.warnings == (), "llama3 is llama3:latest: no warning"
    assert state.known_models("ollama", f"{server.url}/v1") == ["llama3:latest", "qwen2.5:0.5b"]
    assert s.handle("/model qwen").selection.ref == "ollama/qwen2.5:0.5b"
    missing = s.handle("/model ollama/mistral")
    assert missing.ok and any("model mistral not among 2 models" in w for w in missing.warnings)


def test_unknown_model_of_an_explicit_provider_offers_its_close_ids(fake):
    s = switcher()
    reply = s.handle("/model fake/coder")
    assert not reply.selection and reply.choices == ("fake/big-coder-7b", "fake/big-coder-32b")
    assert "/model --force fake/coder to use the id as typed" in reply.text
    assert s.handle("/model --force fake/coder").selection.ref == "fake/coder"


def test_missing_key_is_refused_before_any_request(fake, upstream, config_dir):
    keyed = upstream()
    write_config(config_dir, fake.url, f'\n[providers.keyed]\nbase_url = "{keyed.url}/v1"\nkey_required = true\n')
    reply = switcher().handle("/model keyed/some-model")
    assert not reply.ok
    assert "keyed: no API key found" in reply.text and "run: llmswitch key set keyed" in reply.text
    assert keyed.requests == []


def test_unknown_provider_is_never_guessed(fake):
    reply = switcher().handle("/model --force olama/llama3")
    assert not reply.ok or reply.selection is None
    assert "olama" in reply.text


def test_a_broken_config_is_reported(fake, config_dir):
    (config_dir / "config.toml").write_text("[providers.fake]\nbase_ur = 'x'\n")
    reply = switcher().handle("/model fake/model-b")
    assert not reply.ok and "the providers file has problems" in reply.text and "base_url" in reply.text


# --- the picker ---------------------------------------------------------------------------------------

def test_bare_model_opens_the_picker_in_a_terminal(fake):
    asked = []
    s = ModelSwitcher(interactive=True, picker=lambda role: asked.append(role) or "fake/model-c")
    reply = s.handle("/model")
    assert asked == ["default"] and reply.selection.ref == "fake/model-c" and reply.scope == "session"
    s = ModelSwitcher(interactive=True, picker=lambda role: None)
    assert s.handle("/model").text == "kept fake/model-a"
    saved = ModelSwitcher(interactive=True, picker=lambda role: "fake/model-b").handle("/model --save")
    assert "nothing to save" in saved.text, "--save with no model saves the session choice, it opens no picker"


def test_not_a_terminal_shows_instead_of_picking(fake):
    s = ModelSwitcher(interactive=False, picker=lambda role: pytest.fail("no picker without a terminal"))
    assert "from active.toml" in s.handle("/model").text


# --- small pieces -----------------------------------------------------------------------------------

@pytest.mark.parametrize("asked, got, same", [
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", True),
    ("llama3", "llama3:latest", True),
    ("openai/gpt-4o", "gpt-4o", True),
    ("model-a", "model-a", True),
    ("model-a", None, True),
    ("gpt-4o", "gpt-4o-mini", False),
    ("model-a", "model-b", False),
    ("claude-sonnet-4", "gpt-4o", False),
    ("anthropic/claude-sonnet-4", "anthropic/claude-4-sonnet-20250522", True),
    ("gpt-4o", "gpt-4o-2024-08-06", True),
    ("llama3", "llama3:8b", False),
    ("qwen2.5:7b", "qwen2.5:14b", False),
])
def test_same_model(asked, got, same):
    assert same_model(asked, got) is same


@given(st.from_regex(r"[a-z][a-z0-9]{0,8}([-.:/][a-z0-9]{1,6}){0,3}", fullmatch=True),
       st.sampled_from(["", "-20250522", "-2024-07-18", ":latest"]))
def test_a_model_is_the_same_as_itself_and_its_snapshots(model, suffix):
    assert same_model(model, model + suffix)
    assert not same_model(model, model + "-mini")


def test_importing_and_using_the_switcher_stays_cheap(fake):
    code = ("import sys, llmswitch.repl as r; s = r.ModelSwitcher(interactive=False); s.selection(); "
            "s.handle('/models'); s.complete('/model fake/m'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'openai', 'httpx', 'keyring', 'prompt_toolkit', 'rich')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_refresh_fetches_a_missing_model_list_once(upstream, config_dir):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["x-1", "x-2"])))
    write_config(config_dir, server.url)
    from llmswitch.services.switch import switch

    switch("fake/x-1")
    s = switcher()
    assert s.handle("/model x-2").selection is None, "fake has no list yet"
    assert s.refresh() is True
    assert state.known_models("fake", f"{server.url}/v1") == ["x-1", "x-2"]
    assert s.handle("/model x-2").selection.ref == "fake/x-2"
    assert s.refresh() is False, "a cached list is not fetched again"
    assert len(server.requests_to("/v1/models")) == 2  # refresh, then the probe before the switch


def test_an_explicit_provider_that_was_meant_as_a_model_prefix_gets_a_hint(fake, config_dir):
    write_config(config_dir, fake.url, '\n[providers.router]\nbase_url = "http://127.0.0.1:9/api/v1"\n'
                                       'key_source = "none"\n')
    state.remember_models("router", "http://127.0.0.1:9/api/v1", ["openai/gpt-4o", "anthropic/claude-x"])
    reply = switcher().handle("/model openai/gpt-4o")
    assert not reply.ok, "openai/… names the provider openai, which has no key here: never router"
    assert "openai: no API key found" in reply.text
    assert "did you mean router/openai/gpt-4o? (the first part of PROVIDER/MODEL is the provider)" in reply.text


def test_a_slow_server_switches_with_a_warning(fake, upstream, config_dir):
    slow = upstream()
    slow.get("/v1/models", Reply(hang=True))
    write_config(config_dir, fake.url, f'\n[providers.slow]\nbase_url = "{slow.url}/v1"\nkey_source = "none"\n')
    reply = ModelSwitcher(interactive=False, probe_timeout=0.5).handle("/model slow/big-model")
    assert reply.ok and reply.selection.ref == "slow/big-model"
    assert any("no answer from 127.0.0.1" in w for w in reply.warnings)


def test_a_failing_picker_falls_back_to_showing(fake):
    def broken(role):
        raise RuntimeError("no terminal size")

    reply = ModelSwitcher(interactive=True, picker=broken).handle("/model")
    assert reply.ok and "fake/model-a — from active.toml" in reply.text
    assert reply.warnings == ("the picker could not open (RuntimeError: no terminal size)",)


model_ids = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,5}([-.:/][a-z0-9]{1,4}){0,2}", fullmatch=True),
                     min_size=1, max_size=8, unique=True)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=model_ids, data=st.data())
def test_a_listed_id_is_always_reachable(fake, ids, data):
    state.remember_models("fake", f"{fake.url}/v1", ids)
    chosen = data.draw(st.sampled_from(ids))
    s = ModelSwitcher(interactive=False, probe_timeout=None)
    explicit = s.handle(f"/model fake/{chosen}")
    assert explicit.selection is not None and explicit.selection.ref == f"fake/{chosen}"
    s.reset()
    bare = s.handle(f"/model {chosen}")
    if bare.selection is not None:
        assert bare.selection.ref == f"fake/{chosen}" or "/" in chosen
    else:
        assert f"fake/{chosen}" in bare.choices or "/" in chosen, bare.text


# --- errors as fields, wording ------------------------------------------------------------------------

def test_a_bad_command_line_carries_cause_and_fix():
    with pytest.raises(CommandError) as caught:
        parse("/model --sav x")
    assert (caught.value.cause, caught.value.fix) == ("unknown flag --sav", "did you mean --save?")
    reply = switcher().handle("/model --sav x")
    assert not reply.ok and reply.error is not None and reply.error.fix == "did you mean --save?"


def test_a_refused_switch_carries_the_probes_cause_and_fix(fake, monkeypatch):
    port = free_port()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}/v1")
    reply = switcher().handle("/model ollama/llama3")
    assert not reply.ok and reply.error is not None
    assert reply.error.cause == f"ollama: no server on 127.0.0.1:{port}"
    assert reply.error.fix == f"start it: OLLAMA_HOST=127.0.0.1:{port} ollama serve"
    assert reply.text.startswith(reply.error.sentence() + "\nnot switched")


def test_a_broken_config_is_the_config_errors_own_sentence(fake, config_dir):
    from llmswitch.base.errors import ConfigError

    (config_dir / "config.toml").write_text("[providers.fake]\nbase_ur = 'x'\n")
    reply = switcher().handle("/models")
    assert isinstance(reply.error, ConfigError) and reply.text == reply.error.sentence()


def test_one_model_is_one_model(fake, upstream, config_dir):
    solo = upstream()
    write_config(config_dir, fake.url, f'\n[providers.solo]\nbase_url = "{solo.url}/v1"\nkey_source = "none"\n')
    state.remember_models("solo", f"{solo.url}/v1", ["only-one"])
    s = switcher()
    assert s.handle("/models solo").text.startswith("solo: 1 model:\n")
    assert s.handle("/models only").text.startswith("1 model matches 'only':\n")
    assert s.handle("/models coder").text.startswith("2 models match 'coder':\n")


def test_a_bare_id_of_another_configured_provider_is_found(fake, upstream, config_dir):
    other = upstream()
    write_config(config_dir, fake.url, f'\n[providers.other]\nbase_url = "{other.url}/v1"\nkey_source = "none"\n')
    state.remember_models("other", f"{other.url}/v1", ["fake-large"])
    reply = ModelSwitcher(interactive=False, probe_timeout=None).handle("/model fake-large")
    assert reply.selection is not None and reply.selection.ref == "other/fake-large"

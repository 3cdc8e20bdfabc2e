"""Hostile or careless config.toml content: one sentence with its line, never a traceback, nothing raw on screen."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmswitch.store import config
from llmswitch.store.config import FIELD_CHECKS, PROVIDER_FIELDS, ConfigError, HeaderSource, load
from llmswitch.store.selection import KEY_SOURCES

SECRET = "sk-test-not-a-real-key-0001"


def write(config_dir: Path, text: str | bytes) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    path.chmod(0o600)
    return path


def problems_of(config_dir: Path, text: str | bytes) -> list[config.Problem]:
    write(config_dir, text)
    with pytest.raises(ConfigError) as caught:
        load()
    return list(caught.value.problems)


def test_every_provider_field_has_a_checker_and_every_key_source_a_form():
    from llmswitch.store.config.fields import _KEY_SOURCE_FORMS

    assert set(PROVIDER_FIELDS) - {"preset"} == set(FIELD_CHECKS)  # preset is read first: it sets the defaults
    assert set(_KEY_SOURCE_FORMS) == set(KEY_SOURCES)


def test_a_byte_order_mark_is_named(config_dir):
    [problem] = problems_of(config_dir, "\ufeff[providers.groq]\n".encode())
    assert problem.cause == "the file starts with a byte-order mark (U+FEFF)"
    assert problem.fix == "save it as UTF-8 without BOM" and problem.line == 1
    assert "Invalid statement" not in str(problem)


@pytest.mark.parametrize("text", [
    "a = " + "[" * 5000 + "]" * 5000,
    "a = " + "{b = " * 5000 + "1" + "}" * 5000,
    "[providers.groq]\nx = " + "[" * 5000 + "]" * 5000,
])
def test_deep_nesting_is_one_sentence(config_dir, text):
    [problem] = problems_of(config_dir, text)
    assert "nested too deeply" in problem.cause and problem.fix


def calls_to_load(config_dir: Path, text: str) -> int:
    """How many functions (Python and C) reading ``text`` as config.toml calls: a measure of work with no clock."""
    write(config_dir, text)
    count = 0

    def counted(frame, event, arg):
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(counted)
    try:
        load()
    except ConfigError:
        pass
    finally:
        sys.setprofile(None)
    return count


def test_a_five_thousand_level_dotted_key_is_cheap(config_dir):
    found = problems_of(config_dir, "[providers.groq]\n" + ".".join(["a"] * 5000) + " = 1\n")
    assert found[0].line == 2 and "unknown key 'a'" in found[0].cause
    # cheap: the work grows with the depth, not with its square (twice the levels, about twice the calls)
    deep, deeper = (calls_to_load(config_dir, "[providers.groq]\n" + ".".join(["a"] * n) + " = 1\n")
                    for n in (2000, 4000))
    assert deeper <= 2.2 * deep, (deep, deeper)


@pytest.mark.parametrize(("text", "field"), [
    ('[providers."evil\\u001b[2Jid"]\nbase_url = "https://h/v1"\n', None),
    ('[providers.box]\nbase_url = "https://h/v1\\u001b]0;pwned\\u0007"\n', "base_url"),
    ('[providers.box]\nbase_url = "https://h/v1"\nname = "Box\\u202e"\n', "name"),
    ('[providers.box]\nbase_url = "https://h\\u200b.example/v1"\n', "base_url"),
    ('[providers.box]\nbase_url = "https://h/v1"\nfavorites = ["m\\u001b[31m"]\n', "favorites"),
    ('[providers.box]\nbase_url = "https://h/v1"\nkey_source = "command:pass\\u001b[2J show"\n', "key_source"),
])
def test_control_characters_are_refused_with_their_line_and_never_shown_raw(config_dir, text, field):
    found = problems_of(config_dir, text)
    rendered = "\n".join(str(p) for p in found)
    assert "\x1b" not in rendered and "\x07" not in rendered and "\u202e" not in rendered and "\u200b" not in rendered
    assert all(p.line for p in found)
    if field:
        assert any(p.key == f"providers.box.{field}" and "U+" in p.cause for p in found), rendered


def test_control_characters_never_reach_the_terminal_from_config_check(run_cli, config_dir):
    write(config_dir, '[providers."evil\\u001b[2J"]\nbase_url = "https://h/v1\\u001b[31m"\n'
                      '[providers.box]\nname = "\\u001b]0;title\\u0007"\nbase_url = "https://h/v1"\n')
    done = run_cli("config", "check")
    assert done.returncode == 1 and "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout


def test_an_unparsable_key_command_is_refused(config_dir):
    [problem] = problems_of(config_dir, '[providers.box]\nbase_url = "https://h/v1"\n'
                                        'key_source = "command:pass show \'unclosed"\n')
    assert problem.line == 3 and "cannot be parsed (no closing quotation)" in problem.cause
    assert "quoting" in problem.fix


def test_a_key_command_holding_the_key_is_refused_without_echoing_it(config_dir):
    [problem] = problems_of(config_dir, f'[providers.box]\nbase_url = "https://h/v1"\n'
                                        f'key_source = "command:echo {SECRET}"\n')
    assert "holds a key itself" in problem.cause and SECRET not in str(problem)


@pytest.mark.parametrize("value", ["default", "", "gpt-4o"])
def test_a_model_line_under_a_provider_is_named_with_its_line(config_dir, value):
    [problem] = problems_of(config_dir, f'[providers.groq]\ntimeout = 5\nmodel = "{value}"\n')
    assert problem.line == 3 and problem.key == "providers.groq.model"
    assert problem.cause.startswith("the active model is not set in config.toml")
    if value == "gpt-4o":
        assert problem.fix == "remove this line and run: llmswitch use groq/gpt-4o"
    else:
        assert ("placeholder" in problem.cause or "empty" in problem.cause) and "groq/MODEL" in problem.fix


def test_placeholder_favorites_point_at_their_line(config_dir):
    found = problems_of(config_dir, '[providers.groq]\ntimeout = 5\nfavorites = ["", "default"]\n')
    assert [p.line for p in found] == [3, 3]
    assert "empty" in found[0].cause and "placeholder" in found[1].cause


@pytest.mark.parametrize("value", ["é", "caf\u00e9", "a\u200bb", "\u00a0x"])
def test_non_ascii_header_values_are_refused_naming_the_character(config_dir, value):
    [problem] = problems_of(config_dir, f'[providers.groq.headers]\nX-Foo = "{value}"\n')
    assert problem.line == 2 and problem.key == "providers.groq.headers.X-Foo"
    assert "U+" in problem.cause and "an HTTP header cannot carry" in problem.cause


@pytest.mark.parametrize("name", ["Helicone-Auth", "X-Auth-Token", "X-Goog-Api-Key", "x-portkey-api-key"])
def test_credential_like_header_names_take_no_literal_value(config_dir, name):
    [problem] = problems_of(config_dir, f'[providers.groq.headers]\n"{name}" = "plain-value"\n')
    assert "credential header" in problem.cause and "plain-value" not in str(problem)
    assert f'"{name}" = {{ env = "' in problem.fix


def test_key_shaped_values_are_refused_under_any_header_name(config_dir):
    [problem] = problems_of(config_dir, f'[providers.groq.headers]\nX-Anything = "{SECRET}"\n')
    assert "looks like a key" in problem.cause and SECRET not in str(problem)


def test_a_header_takes_its_secret_from_a_source(config_dir):
    write(config_dir, '[providers.gw]\nbase_url = "https://gw.example/v1"\n'
                      '[providers.gw.headers]\nX-Title = "me"\n'
                      '"Helicone-Auth" = { env = "HELICONE_API_KEY", prefix = "Bearer " }\n'
                      '"cf-aig-authorization" = { keyring = "gw:gateway" }\n')
    gw = load().providers["gw"]
    assert gw.headers == {"X-Title": "me"}
    assert gw.header_sources == (HeaderSource("Helicone-Auth", env="HELICONE_API_KEY", prefix="Bearer "),
                                 HeaderSource("cf-aig-authorization", keyring="gw:gateway"))


@pytest.mark.parametrize(("source", "fragment"), [
    ("{ }", "exactly one place"),
    ('{ env = "A", keyring = "b" }', "exactly one place"),
    ('{ env = "not a name" }', "environment variable"),
    (f'{{ env = "{SECRET}" }}', "environment variable"),
    ('{ keyring = "bad entry!" }', "keyring entry"),
    (f'{{ env = "A", prefix = "{SECRET}" }}', "short plain text"),
    ('{ env = "A", vault = "x" }', "unknown key 'vault'"),
])
def test_bad_header_sources_are_named(config_dir, source, fragment):
    found = problems_of(config_dir, f'[providers.groq.headers]\n"Helicone-Auth" = {source}\n')
    assert any(fragment in p.cause for p in found), [str(p) for p in found]
    assert all(SECRET not in str(p) for p in found) and all(p.line == 2 for p in found)


def test_the_provider_key_header_cannot_come_from_a_header_source(config_dir):
    [problem] = problems_of(config_dir, '[providers.groq.headers]\nAuthorization = { env = "X" }\n')
    assert "credential header" in problem.cause and "key set groq" in problem.fix


def test_an_unknown_provider_gets_at_most_three_short_suggestions(config_dir):
    write(config_dir, "".join(f'[providers.box{i}]\nbase_url = "https://h{i}.example/v1"\n' for i in range(500)))
    with pytest.raises(config.UnknownProvider) as caught:
        load().provider("box")
    exc = caught.value
    assert exc.cause.count("box") <= 4 and len(exc.sentence()) < 300
    assert exc.fix == "run `llmswitch list --presets` to see presets, or add it: llmswitch providers add box --base-url URL"


def test_an_unknown_provider_id_is_never_echoed_raw_or_as_a_key():
    empty = config.Config(Path("/nonexistent/config.toml"), False, {})
    for pid in ("evil\x1b[2J", SECRET):
        with pytest.raises(config.UnknownProvider) as caught:
            empty.provider(pid)
        assert "\x1b" not in caught.value.sentence() and SECRET not in caught.value.sentence()

"""Property tests: whatever a providers or selection file holds, the answer is a Config or named problems.

Default profile: a CI-friendly number of examples; `HYPOTHESIS_PROFILE=long` runs 10,000.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from llmswitch.base import chars
from llmswitch.base.chars import first_invisible
from llmswitch.store.config import PROVIDER_FIELDS, ConfigError, parse
from llmswitch.store.selection import SelectionError, _roles_from

PATH = Path("/nonexistent/config.toml")
NAMES = st.sampled_from([*PROVIDER_FIELDS, "providers", "preferences", "version", "PROVIDER", "MODEL", "api_key",
                         "openrouter", "ollama", "groq", "probe_timeout", "headers", "roles", "default", "ü-名前",
                         "x" * 300, "", " ", "a.b", "Authorization"])
KEYS = st.one_of(NAMES, st.text(min_size=0, max_size=12))
SCALARS = st.one_of(
    st.none().map(lambda _: "none"), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False), st.text(max_size=40), st.sampled_from(
        ["https://openrouter.ai/api/v1", "http://127.0.0.1:11434/v1/", "ftp://x", "https://u:p@h/v1", "keyring",
         "env:GROQ_API_KEY", "env:", "command:", "none", "default", "sk-test-not-a-real-key-0001", "\x1b[31mred",
         "http://[::1]:80/v1", "https://h:99999", "ﬁ" * 50]),
)
VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)), max_leaves=12)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=5) | st.fixed_dictionaries(
    {"providers": st.dictionaries(KEYS, st.one_of(VALUES, st.dictionaries(NAMES, VALUES, max_size=6)), max_size=4)})


@given(DOCUMENTS)
def test_any_parsable_config_gives_a_config_or_named_problems(document):
    raw = tomli_w.dumps(document).encode()
    try:
        config = parse(raw, PATH)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert text and problem.cause and "Traceback" not in text
            assert "sk-test-not-a-real-key-0001" not in text
            assert problem.line is None or problem.line >= 1
    else:
        for provider in config.providers.values():
            assert provider.base_url and provider.base_url.startswith(("http://", "https://"))
            assert not provider.base_url.endswith("/")


@given(st.binary(max_size=300))
def test_any_bytes_give_a_config_or_named_problems(raw):
    try:
        parse(raw, PATH)
    except ConfigError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@given(st.dictionaries(KEYS, VALUES, max_size=4) | st.fixed_dictionaries(
    {"version": st.just(1), "roles": st.dictionaries(KEYS, st.dictionaries(NAMES, VALUES, max_size=8), max_size=3)}))
def test_any_selection_document_gives_selections_or_a_named_error(document):
    try:
        roles = _roles_from(document, PATH)
    except SelectionError as exc:
        assert "llmswitch use" in str(exc)
    else:
        for sel in roles.values():
            assert isinstance(sel.model, str) and isinstance(sel.base_url, str)


# --- non-ASCII, invisible and control characters in every field; deep nesting -----------------------

ODD = st.sampled_from(["\x00", "\x07", "\x1b", "\x1b[2J", "\x7f", "\x9b", "\u200b", "\ufeff", "\u00a0", "\u202e",
                       "\u2066", "\u2028", "\u00ad", "é", "名", "😀", "\t", "\r", "\n"])
HOSTILE_TEXT = st.lists(st.one_of(ODD, st.text(alphabet="abcHTTPs:/.-_ 09", max_size=8)), max_size=6).map("".join)
HOSTILE_PROVIDER = st.fixed_dictionaries({}, optional={
    "name": HOSTILE_TEXT,
    "base_url": HOSTILE_TEXT.map(lambda t: "https://h.example/" + t) | HOSTILE_TEXT,
    "kind": HOSTILE_TEXT,
    "preset": HOSTILE_TEXT,
    "key_source": st.sampled_from(["env:", "command:", "keyring:", "none:", ""]).flatmap(
        lambda head: HOSTILE_TEXT.map(lambda t: head + t)),
    "headers": st.dictionaries(HOSTILE_TEXT | st.sampled_from(["X-Title", "Helicone-Auth", "X-Foo"]),
                               HOSTILE_TEXT | st.fixed_dictionaries({}, optional={
                                   "env": HOSTILE_TEXT, "keyring": HOSTILE_TEXT, "prefix": HOSTILE_TEXT}),
                               max_size=3),
    "favorites": st.lists(HOSTILE_TEXT, max_size=3),
    "api_version": HOSTILE_TEXT,
})
HOSTILE_DOCUMENTS = st.fixed_dictionaries({"providers": st.dictionaries(
    HOSTILE_TEXT | st.sampled_from(["groq", "box", "ollama"]), HOSTILE_PROVIDER, min_size=1, max_size=3)})


@given(HOSTILE_DOCUMENTS)
def test_odd_characters_in_any_field_are_refused_or_harmless_and_never_shown_raw(document):
    raw = tomli_w.dumps(document).encode()
    try:
        config = parse(raw, PATH)
    except ConfigError as exc:
        for problem in exc.problems:
            text = str(problem)
            assert first_invisible(text.replace("\n", " ").replace("\t", " ")) is None, repr(text)  # escapes, bidi overrides, zero-width: never raw
            assert problem.cause and (problem.line is None or problem.line >= 1)
        return
    for provider in config.providers.values():
        for text in (provider.id, provider.name, provider.base_url or "", provider.key_command or "",
                     *provider.favorites, *provider.key_env):
            assert chars.first_invisible(text) is None, repr(text)
        for name, value in provider.headers.items():
            assert chars.first_outside_ascii(name) is None and chars.first_outside_ascii(value, space=True) is None
        for source in provider.header_sources:
            assert chars.first_outside_ascii(source.prefix, space=True) is None


NESTERS = st.sampled_from([("[", "]"), ("{a = ", "}"), ("[{a = ", "}]")])


@given(st.integers(min_value=1, max_value=6000), NESTERS, st.sampled_from(["x = ", "[providers.groq]\nx = ",
                                                                             "[providers.groq.headers]\nX = "]))
def test_any_nesting_depth_gives_a_config_or_named_problems(depth, nester, head):
    opening, closing = nester
    raw = (head + opening * depth + ("1" if "=" in opening else "") + closing * depth + "\n").encode()
    try:
        parse(raw, PATH)
    except ConfigError as exc:
        assert exc.problems and all(p.cause for p in exc.problems)


@given(st.integers(min_value=1, max_value=1500))  # tomllib itself is quadratic in this depth (5,000: see test_config_hardening)
def test_any_dotted_key_depth_gives_named_problems(depth):
    raw = ("[providers.groq]\n" + ".".join(["k"] * depth) + " = 1\n").encode()
    try:
        parse(raw, PATH)
    except ConfigError as exc:
        assert exc.problems[0].line == 2

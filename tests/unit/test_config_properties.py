"""Property tests: whatever a providers or selection file holds, the answer is a Config or named problems.

Default profile: a CI-friendly number of examples; `HYPOTHESIS_PROFILE=long` runs 10,000.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from llmswitch.config import PROVIDER_FIELDS, ConfigError, parse
from llmswitch.selection import SelectionError, _roles_from

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

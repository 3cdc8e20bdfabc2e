"""Property tests of reading active.toml: any bytes, any value in any field, deep nesting — a selection or one named error."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from llmswitch.base.errors import LlmswitchError, SelectionError
from llmswitch.store import selection

FIELDS = ("provider", "model", "base_url", "api_kind", "key_source", "keyring_service", "keyring_username",
          "key_command", "api_version")
BASE = {"provider": "ollama", "model": "llama3", "base_url": "http://localhost:11434/v1", "key_source": "none"}
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)  # control characters, bidi marks, NUL included
VALUES = st.one_of(TEXT, st.integers(), st.booleans(), st.floats(), st.lists(TEXT, max_size=3),
                   st.dictionaries(TEXT, TEXT, max_size=3))


def read_bytes(tmp_path: Path, raw: bytes) -> dict[str, selection.ActiveSelection] | LlmswitchError:
    path = tmp_path / "active.toml"
    path.write_bytes(raw)
    os.chmod(path, 0o600)
    try:
        return selection.read_all(path)
    except SelectionError as exc:
        assert "llmswitch use" in str(exc) and "\n" not in exc.cause
        return exc


@given(st.binary(max_size=400))
def test_any_bytes_give_selections_or_a_named_error(tmp_path_factory, raw):
    read_bytes(tmp_path_factory.mktemp("any"), raw)


@given(st.integers(min_value=1, max_value=6000), st.sampled_from(["[", "{x = "]))
def test_any_nesting_depth_gives_selections_or_a_named_error(tmp_path_factory, depth, opener):
    closer = "]" if opener == "[" else "}"
    raw = ("version = 1\nx = " + opener * depth + closer * depth + "\n").encode()
    result = read_bytes(tmp_path_factory.mktemp("deep"), raw)
    assert isinstance(result, (dict, LlmswitchError))


@given(st.sampled_from(FIELDS + ("headers", "key_env", "key_required", "role")), VALUES)
def test_any_value_in_any_field_is_used_only_when_valid(field, value):
    table = dict(BASE)
    role = "default"
    if field == "role":
        role = value if isinstance(value, str) else "default"
    else:
        table[field] = value
    try:
        roles = selection._roles_from({"version": 1, "roles": {role: table}}, "active.toml")
    except SelectionError as exc:
        assert "llmswitch use" in str(exc)
        return
    sel = roles[role]
    for name in FIELDS:
        text = getattr(sel, name)
        assert text is None or (isinstance(text, str) and not any(c < " " or "\x7f" <= c <= "\x9f" for c in text))
    assert sel.base_url.startswith(("http://", "https://")) and selection.url_problem(sel.base_url) is None
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in sel.headers.items())
    assert isinstance(sel.key_required, bool)

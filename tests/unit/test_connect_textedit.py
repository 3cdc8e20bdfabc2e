"""connect.textedit: only llmswitch's parts change, and they come out again byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmswitch.tools.connect import textedit as t

USER_TOML = '# mine\nmodel = "o3"  # keep\napproval_policy = "never"\n\n[mcp_servers.x]\ncommand = "x"\nmodel = "y"\n'


def test_block_round_trip_keeps_the_users_text():
    text = t.add_block(USER_TOML, "codex", 'model = "m"\n', at="top", before=t.toml_table_header)
    assert t.has_block(text, "codex") and t.block_body(text, "codex") == 'model = "m"\n'
    assert t.strip(text, "codex") == USER_TOML


def test_displace_stops_at_the_first_table_and_is_undone_by_strip():
    text = t.displace(USER_TOML, "codex", t.top_level_key(("model",), "="), stop=t.toml_table_header)
    assert t.displaced_lines(text, "codex") == ['model = "o3"  # keep']
    assert 'model = "y"' in text.splitlines()  # inside [mcp_servers.x]: not ours
    assert t.strip(text, "codex") == USER_TOML


def test_yaml_continuation_lines_are_displaced_with_their_key():
    text = "model: >\n  long\n  name\nother: 1\n"
    moved = t.displace(text, "aider", t.top_level_key(("model",), ":"), continues=t.indented)
    assert t.displaced_lines(moved, "aider") == ["model: >", "  long", "  name"]
    assert t.strip(moved, "aider") == text


def test_crlf_files_keep_crlf():
    text = "a: 1\r\nb: 2\r\n"
    added = t.add_block(text, "aider", "model: x\n")
    assert "\n" not in added.replace("\r\n", "")
    assert t.strip(added, "aider") == text


def test_another_tools_block_is_left_alone():
    text = t.add_block(t.add_block("", "aider", "a: 1\n"), "llm", "b: 2\n")
    assert t.strip(text, "aider") == t.add_block("", "llm", "b: 2\n")


JSONC = '{\n  // comment\n  "a": 1,\n  "provider": {\n    "x": {"y": 2}\n  }\n}\n'


def test_json_member_added_and_removed_in_place():
    added = t.json_set(JSONC, ("provider", "llmswitch"), {"options": {"baseURL": "http://h/v1"}})
    assert "// comment" in added
    assert t.json_get(added, ("provider", "llmswitch", "options", "baseURL")) == "http://h/v1"
    assert t.json_remove(added, ("provider", "llmswitch")) == JSONC


def test_json_set_replaces_only_the_value():
    assert t.json_set(JSONC, ("a",), 5) == JSONC.replace('"a": 1', '"a": 5')


def test_json_set_on_an_empty_file_creates_the_object():
    assert json.loads(t.json_set("", ("env", "X"), "v")) == {"env": {"X": "v"}}


def test_json_not_an_object_is_refused():
    with pytest.raises(t.JSONEditError):
        t.json_set("[1, 2]", ("a",), 1)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=8), max_size=5),
       st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=8))
def test_json_set_remove_property(data, name, value):
    text = json.dumps(data, indent=2)
    added = t.json_set(text, (name,), value)
    assert json.loads(added) == {**data, name: value}
    if name not in data:
        assert json.loads(t.json_remove(added, (name,))) == data


def test_subset_yaml_reader_matches_what_we_write():
    text = '- model_id: "llmswitch"\n  model_name: "m"\n  api_base: "http://h/v1"\n'
    assert t._subset_yaml(text) == [{"model_id": "llmswitch", "model_name": "m", "api_base": "http://h/v1"}]
    assert t._subset_yaml('model: "openai/m"\nopenai-api-base: "http://h"\n') == {"model": "openai/m",
                                                                                 "openai-api-base": "http://h"}
    with pytest.raises(ValueError):
        t._subset_yaml("model: {a: [1,\n")

"""The one bounded decoder (llmswitch.base.bounded): any bytes in, a value or a named problem out, never an exception."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmswitch.base import bounded
from llmswitch.base.bounded import MAX_DEPTH, MAX_INT, Problem, decode_json, decode_toml

SMALL = bounded.Kind("a test body", 64 * 1024)
PROBLEMS = {value for name, value in vars(Problem).items() if name.isupper()}

scalars = (st.none() | st.booleans() | st.integers(-MAX_INT, MAX_INT)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(st.binary(max_size=2048) | st.text(max_size=2048))
def test_any_input_is_a_value_or_a_named_problem_never_an_exception(data):
    for decoded in (decode_json(data, SMALL), decode_toml(data, SMALL)):
        assert isinstance(decoded, bounded.Decoded)
        assert (decoded.refusal is None) or decoded.refusal.problem in PROBLEMS


@given(st.text(alphabet='[]{}",:0123456789\\ae -.', max_size=4000))
def test_bracket_soup_is_never_a_recursion_error(text):
    decoded = decode_json(text, SMALL)
    assert decoded.ok or decoded.refusal.problem in (Problem.NOT_PARSED, Problem.TOO_DEEP, Problem.BAD_NUMBER)


@given(json_values)
def test_json_within_bounds_decodes_to_what_was_encoded(value):
    decoded = decode_json(json.dumps(value).encode(), SMALL)
    assert decoded.ok, decoded
    assert decoded.value == value
    assert _depth(decoded.value) <= MAX_DEPTH


@given(st.integers(1, 3 * MAX_DEPTH), st.sampled_from(["[", '{"a":']), st.booleans())
def test_nesting_is_refused_exactly_beyond_the_bound(depth, opener, inside_a_string):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "0" + closer * depth
    if inside_a_string:  # brackets inside strings open nothing
        body = json.dumps({"s": "[" * (depth * 3) + "{" * depth})
        assert decode_json(body, SMALL).ok
        return
    decoded = decode_json(body, SMALL)
    assert decoded.ok == (depth <= MAX_DEPTH)
    if not decoded.ok:
        assert decoded.refusal.problem == Problem.TOO_DEEP and "deeper than 64 levels" in decoded.refusal.cause


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_survives(number):
    decoded = decode_json(json.dumps([number]), SMALL)
    assert decoded.ok and decoded.value == [number]


@pytest.mark.parametrize(("body", "problem", "said"), [
    ("NaN", Problem.BAD_NUMBER, "holds NaN"),
    ('{"price": -Infinity}', Problem.BAD_NUMBER, "holds -Infinity"),
    ("[Infinity]", Problem.BAD_NUMBER, "holds Infinity"),
    ("1e999", Problem.BAD_NUMBER, "1e999, which is out of range"),
    ("-1e400", Problem.BAD_NUMBER, "out of range"),
    (str(MAX_INT + 1), Problem.BAD_NUMBER, "out of range"),
    ("9" * 5000, Problem.BAD_NUMBER, "an integer of 5000 digits"),
    ("[" * 10_000 + "]" * 10_000, Problem.TOO_DEEP, "nests deeper than 64 levels"),
    ('{"a":' * 65 + "1" + "}" * 65, Problem.TOO_DEEP, "nests deeper than 64 levels"),
    ("", Problem.NOT_PARSED, "is empty"),
    ("<html>", Problem.NOT_PARSED, "is not JSON"),
    (b"\xff\xfe[1]", Problem.NOT_TEXT, "is not UTF-8 text (byte 0)"),
    (b" " * (SMALL.cap + 1), Problem.TOO_LARGE, "over the 64 KiB a test body may be"),
], ids=["NaN", "-Infinity", "Infinity", "1e999", "-1e400", "MAX_INT+1", "5000 digits", "deep arrays", "deep objects",
        "empty", "html", "not utf-8", "too large"])
def test_each_refusal_is_named(body, problem, said):
    decoded = decode_json(body, SMALL)
    assert decoded.refusal is not None and decoded.refusal.problem == problem
    assert said in decoded.refusal.cause


def test_the_edges_that_pass():
    assert decode_json(str(MAX_INT)).value == MAX_INT and decode_json(str(-MAX_INT)).value == -MAX_INT
    assert decode_json("[" * 64 + "]" * 64).ok
    assert decode_json(b"\xef\xbb\xbf[1]").value == [1], "a UTF-8 byte-order mark is allowed"
    assert decode_json('"\\ud800"').ok, "a lone surrogate is text the renderer escapes, not a reason to refuse"
    assert math.isclose(decode_json("1e308").value, 1e308)


@pytest.mark.parametrize(("text", "problem"), [
    ("x = nan", Problem.BAD_NUMBER), ("x = -inf", Problem.BAD_NUMBER), ("x = [" * 1 + "[" * 2000 + "]" * 2001,
                                                                      Problem.TOO_DEEP),
    ("x = " + "{a = " * 80 + "1" + "}" * 80, Problem.TOO_DEEP), ("x = = 1", Problem.NOT_PARSED),
], ids=["nan", "-inf", "deep arrays", "deep inline tables", "not toml"])
def test_toml_has_the_same_bounds(text, problem):
    decoded = decode_toml(text, SMALL)
    assert decoded.refusal is not None and decoded.refusal.problem == problem, decoded

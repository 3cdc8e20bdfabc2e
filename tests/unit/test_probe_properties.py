"""``classify`` under arbitrary answers: never raises, one Outcome, no key, no escape codes.

Example counts come from the Hypothesis profile (tests/conftest.py): 200 by
default, 10 000 with ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import json
import re

from hypothesis import example, given
from hypothesis import strategies as st

from llmswitch.probe import Diagnosis, Outcome, ProbeTarget, classify

KEYS = st.one_of(st.none(), st.from_regex(r"sk-[a-z]{2,4}-[A-Za-z0-9]{20,40}", fullmatch=True))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
openai_shaped = st.fixed_dictionaries({
    "object": st.sampled_from(["list", "model", 3]),
    "data": st.one_of(
        st.lists(st.fixed_dictionaries({"id": st.one_of(st.text(max_size=30), st.integers(), st.none()),
                                        "owned_by": st.sampled_from(["library", "vllm", "llamacpp", "x"])}),
                 max_size=6),
        json_values),
})
error_shaped = st.fixed_dictionaries({"error": st.one_of(
    st.text(max_size=80),
    st.fixed_dictionaries({"message": st.one_of(st.text(max_size=80), st.sampled_from([
        "Incorrect API key provided", "Missing Authentication header", "Authentication Error, No connected db.",
        "Unexpected endpoint or method.", "You exceeded your current quota", "Not Found"])),
        "code": st.one_of(st.none(), st.integers(), st.text(max_size=10))}),
    json_values)})
bodies = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=300).map(str.encode),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.builds(lambda v: json.dumps(v).encode(), openai_shaped),
    st.builds(lambda v: json.dumps(v).encode(), error_shaped),
    st.builds(lambda t: f"<html><title>{t}</title><body>{t}</body></html>".encode(), st.text(max_size=60)),
)
statuses = st.one_of(st.none(), st.integers(min_value=-5, max_value=1000),
                     st.sampled_from([200, 204, 301, 302, 307, 308, 400, 401, 402, 403, 404, 405, 408, 410, 422,
                                      429, 500, 502, 503, 504]))
header_names = st.one_of(st.sampled_from(["content-type", "retry-after", "location", "server", "x-litellm-version",
                                          "openai-version", "x-groq-region", "Retry-After", "Content-Type"]),
                         st.text(min_size=1, max_size=20))
header_values = st.one_of(st.sampled_from(["application/json", "text/html", "0", "1.5", "-3", "nan", "inf", "1e400",
                                           "Wed, 21 Oct 2015 07:28:00 GMT", "llama.cpp", "/v1/models/",
                                           "http://other.example/v1/models"]),
                          st.text(max_size=40))
headers = st.dictionaries(header_names, header_values, max_size=6)
targets = st.builds(
    ProbeTarget,
    provider=st.sampled_from(["openai", "ollama", "acme"]),
    base_url=st.sampled_from(["http://127.0.0.1:11434/v1", "https://openrouter.ai/api/v1", "http://[::1]:8000",
                              "https://x.openai.azure.com/openai", "not a url", ""]),
    key=KEYS,
    key_required=st.booleans(),
    model=st.one_of(st.none(), st.text(max_size=20)),
    preset=st.one_of(st.none(), st.sampled_from(["ollama", "lm_studio", "vllm", "llamacpp", "litellm", "x"])),
    api_kind=st.sampled_from(["openai", "azure", "anthropic"]),
)


def _strings(diagnosis: Diagnosis) -> list[str]:
    return [s for s in (diagnosis.summary, diagnosis.fix, diagnosis.server_message, diagnosis.server,
                        *diagnosis.models) if s]


@given(status=statuses, headers=headers, body=bodies, target=targets)
@example(status=200, headers={}, body=b"[" * 100_000, target=ProbeTarget("a", "http://h/v1", key=None))
@example(status=401, headers={"retry-after": "9" * 400}, body=b"", target=ProbeTarget("a", "http://h/v1"))
def test_classify_never_raises_and_gives_exactly_one_outcome(status, headers, body, target):
    diagnosis = classify(status, headers, body, target=target)
    assert isinstance(diagnosis, Diagnosis)
    assert isinstance(diagnosis.outcome, Outcome)
    assert diagnosis.outcome in set(Outcome)
    assert isinstance(diagnosis.summary, str) and diagnosis.summary
    assert all(isinstance(m, str) for m in diagnosis.models)


@given(status=statuses, headers=headers, body=bodies, target=targets, where=st.integers(0, 3))
def test_classify_output_never_holds_the_key_or_control_characters(status, headers, body, target, where):
    if target.key:  # plant the key where a careless server would echo it
        planted = [body + target.key.encode(),
                   json.dumps({"error": {"message": f"bad key {target.key}"}}).encode(),
                   json.dumps({"data": [{"id": target.key}]}).encode(),
                   body][where]
        headers = {**headers, "location": f"/v1?k={target.key}"}
    else:
        planted = body
    diagnosis = classify(status, headers, planted, target=target)
    for text in _strings(diagnosis):
        assert not target.key or target.key not in text
        assert not CONTROL.search(text), text


@given(body=bodies, headers=headers, target=targets)
def test_usable_outcomes_only_come_from_answers_that_say_so(body, headers, target):
    # a 2xx can only be OK/KEYLESS with a real model list; an error status never is
    for status in (400, 401, 403, 404, 500):
        assert classify(status, headers, body, target=target).outcome not in (Outcome.OK, Outcome.KEYLESS)
    diagnosis = classify(200, headers, body, target=target)
    if diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS):
        data = json.loads(body)
        items = data["data"] if isinstance(data, dict) else data
        assert isinstance(items, list)
        assert len(items) == len(diagnosis.models)
        assert (diagnosis.outcome is Outcome.KEYLESS) == (target.key is None)

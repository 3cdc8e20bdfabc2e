"""The diagnosis panel renders a probe result's fields, never the wording of its sentences."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmswitch.app.status import diagnosis_text, has_app_fix, key_refused, status_text
from llmswitch.base.outcome import AUTH, Outcome, ProbeResult
from llmswitch.base.redact import terminal_safe
from llmswitch.store.config import ProviderConfig


def result(outcome: Outcome, summary: str = "something happened", **fields) -> ProbeResult:
    base = dict(provider="box", outcome=outcome, usable=False, summary=summary, fix=None,
                url="http://127.0.0.1:9/v1/models", request_headers={}, status_code=None, latency_ms=None,
                models=(), server_message=None, server=None, suggested_base_url=None)
    return ProbeResult(**{**base, **fields})


PROVIDER = ProviderConfig(id="box", name="Box", base_url="http://127.0.0.1:9")


def fix_line(text) -> str:
    return next((line for line in text.plain.splitlines() if line.startswith("fix: ")), "")


@pytest.mark.parametrize("outcome", sorted(AUTH))
def test_every_key_outcome_offers_the_key_fix(outcome):
    found = result(outcome)
    assert key_refused(found) and has_app_fix(found)
    assert fix_line(diagnosis_text(PROVIDER, found, None, str)) == "fix: press ctrl+g to enter a key for box"
    assert "API key above" in fix_line(diagnosis_text(PROVIDER, found, None, str, where="editor"))


@pytest.mark.parametrize("outcome", [Outcome.NOT_FOUND, Outcome.CONNECTION_REFUSED, Outcome.RATE_LIMITED])
def test_other_outcomes_offer_no_key_fix(outcome):
    found = result(outcome, summary="the server wants a key, but answers: key rejected")  # wording is not read
    assert not key_refused(found) and not has_app_fix(found)
    assert fix_line(diagnosis_text(PROVIDER, found, None, str)) == ""


@pytest.mark.parametrize("summary", ["wrong path; http://127.0.0.1:9/v1 answers, but: key rejected",
                                     "wrong path; http://127.0.0.1:9/v1 answers: the server wants a key",
                                     "reworded entirely"])
def test_the_base_url_fix_does_not_depend_on_the_summary(summary):
    found = result(Outcome.NOT_FOUND, summary=summary, suggested_base_url="http://127.0.0.1:9/v1")
    assert has_app_fix(found)
    assert fix_line(diagnosis_text(PROVIDER, found, None, str)) == "fix: set base_url to http://127.0.0.1:9/v1 — press ctrl+g"
    assert fix_line(diagnosis_text(PROVIDER, found, None, str, where="editor")) == (
        "fix: set Base URL to http://127.0.0.1:9/v1 (ctrl+g applies it and saves)")


def test_provider_supplied_text_is_made_safe():
    hostile = replace(PROVIDER, id="box\x1b[2J", name="Box\x07", base_url="http://127.0.0.1:9/\x1b]0;x\x07")
    found = result(Outcome.AUTH_REJECTED, summary="key \x1b[31mrejected", server_message="\x1b[2Jbad")
    text = diagnosis_text(hostile, found, "key \x1b problem", terminal_safe).plain
    assert "\x1b" not in text and "\x07" not in text
    assert "box\\x1b[2J" in text
    assert "\x1b" not in status_text(found, shown=terminal_safe).plain

"""The screens show the two verification outcomes by their fields: KEY_UNVERIFIED in yellow, ANY_KEY usable."""

from __future__ import annotations

from llmswitch.app.status import diagnosis_text, has_app_fix, status_text
from llmswitch.base.outcome import Outcome, ProbeResult
from llmswitch.store.config import ProviderConfig

PROVIDER = ProviderConfig(id="box", name="Box", base_url="http://127.0.0.1:9")


def result(outcome: Outcome, usable: bool, summary: str, **fields) -> ProbeResult:
    base = dict(provider="box", outcome=outcome, usable=usable, summary=summary, fix=None,
                url="http://127.0.0.1:9/v1/models", request_headers={}, status_code=200, latency_ms=3.0,
                models=("m1",), server_message=None, server=None, suggested_base_url=None)
    return ProbeResult(**{**base, **fields})


def test_unverified_is_a_question_not_a_failure():
    found = result(Outcome.KEY_UNVERIFIED, False, "listed 1 model; key not verified (this server lists models "
                   "without a key)", fix="run: llmswitch probe --deep box (a 1-token request verifies the key)",
                   key_source="env BOX_API_KEY", key_verified=False)
    cell = status_text(found)
    assert cell.plain.startswith("? listed 1 model") and str(cell.style) == "yellow"
    panel = diagnosis_text(PROVIDER, found, None, str).plain
    assert "? box: listed 1 model; key not verified" in panel
    assert "— run: llmswitch probe --deep box" in panel and not has_app_fix(found)
    assert "key: env BOX_API_KEY, not verified" in panel


def test_any_key_is_usable_and_says_the_key_is_not_needed():
    found = result(Outcome.ANY_KEY, True, "1 model · keyless: accepts any key; yours is not needed",
                   key_source="keyring llmswitch/box", key_verified=False, verified_by="Ollama does not check keys")
    assert status_text(found).plain == "✓ 1 model · keyless: accepts any key; yours is not needed"
    panel = diagnosis_text(PROVIDER, found, None, str).plain
    assert "key: keyring llmswitch/box, not verified (Ollama does not check keys)" in panel


def test_a_verified_key_says_how():
    found = result(Outcome.OK, True, "1 model · key verified", key_source="override LLMSWITCH_KEY_BOX",
                   key_verified=True, verified_by="GET /models refuses requests without it")
    panel = diagnosis_text(PROVIDER, found, None, str).plain
    assert "key: override LLMSWITCH_KEY_BOX, verified (GET /models refuses requests without it)" in panel

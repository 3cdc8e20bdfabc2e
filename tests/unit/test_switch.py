"""switch: every refusal is an errors.SwitchError with cause, fix and the documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch.base import errors
from llmswitch.base.errors import Exit
from llmswitch.services import switch
from llmswitch.store.config import load


def write(config_dir: Path, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)
    (config_dir / "config.toml").chmod(0o600)


def refusal(ref: str, config=None) -> errors.SwitchError:
    with pytest.raises(errors.SwitchError) as caught:
        switch.switch(ref, config=config, check_key=False)
    return caught.value


def test_an_unknown_provider_keeps_its_cause_and_fix_and_exit_code(config_dir):
    exc = refusal("opnrouter/gpt-4o", load())
    assert exc.exit_code == Exit.NOT_FOUND == 3
    assert exc.cause.startswith("unknown provider 'opnrouter' (did you mean openrouter")
    assert exc.fix.startswith("run `llmswitch list --presets`")


def test_a_placeholder_model_is_a_usage_error_with_the_fix_apart(config_dir):
    exc = refusal("groq/default", load())
    assert exc.exit_code == Exit.USAGE and exc.subject == "groq/default"
    assert exc.cause == "'default' is a placeholder, not a model id" and exc.fix == "name a real model (llmswitch list shows them)"


def test_no_provider_in_the_ref(config_dir):
    exc = refusal("gpt-4o-mini", load())
    assert "names no provider; write PROVIDER/MODEL" in exc.cause and exc.fix and exc.exit_code == Exit.USAGE


def test_the_providers_file_sentence_comes_from_config_error(config_dir):
    write(config_dir, '[providers.groq]\ntimeout = "x"\n')
    exc = refusal("groq/llama3")
    config_error = errors.ConfigError(list(exc.problems))
    assert exc.cause == config_error.cause == "the providers file has problems"
    assert exc.exit_code == Exit.USAGE and len(exc.problems) == 1 and exc.problems[0].line == 2


def test_the_old_code_attribute_still_answers_until_callers_move(config_dir):
    exc = refusal("nosuch/model", load())
    assert isinstance(exc, switch.SwitchError) and exc.code == exc.exit_code == 3

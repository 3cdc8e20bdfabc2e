"""Completion for ``/model``: commands, flags, roles, provider ids, model ids — offline, from a cached index.

``python tests/unit/test_repl_completion.py`` prints how long a completion takes on the full catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch.repl import ModelSwitcher
from llmswitch.store import state

MODELS = ["model-a", "model-b", "Qwen/Qwen2.5-7B-Instruct", "big-coder-7b"]


@pytest.fixture
def switcher(config_dir: Path) -> ModelSwitcher:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.fake]\nbase_url = "http://127.0.0.1:9/v1"\n'
                                            'key_source = "none"\n')
    state.remember_models("fake", "http://127.0.0.1:9/v1", MODELS)
    from llmswitch.services.switch import switch

    switch("fake/model-a", check_key=False)
    return ModelSwitcher(interactive=False, probe_timeout=None, commands=("/model", "/models", "/role", "/exit"))


def test_commands(switcher):
    assert switcher.complete("/mo") == ["/model", "/models"]
    assert switcher.complete("/") == ["/model", "/models", "/role", "/exit"]
    assert switcher.complete("hello wor") == []


def test_flags_and_roles(switcher):
    assert switcher.complete("/model --") == ["--save", "--project", "--role", "--force", "--reset"]
    assert switcher.complete("/model --save --") == ["--role", "--force", "--reset"]  # not --project: another file
    assert switcher.complete("/model --project --") == ["--role", "--force", "--reset"]
    assert switcher.complete("/models --") == ["--role"]
    assert switcher.complete("/model --role ") == ["default"]
    switcher.handle("/model --role small fake/model-b")
    assert switcher.complete("/model --role s") == ["small"]
    assert switcher.complete("/role ") == ["default", "small"]


def test_provider_ids_then_their_models(switcher):
    assert "fake/" in switcher.complete("/model fa")
    assert "openrouter/" in switcher.complete("/model openr")
    assert switcher.complete("/model fake/") == ["fake/model-a",  # recent first
                                                 "fake/big-coder-7b", "fake/model-b", "fake/Qwen/Qwen2.5-7B-Instruct"]
    assert switcher.complete("/model fake/qw") == ["fake/Qwen/Qwen2.5-7B-Instruct"]
    assert switcher.complete("/model fake/nothing") == []


def test_catalog_models_of_any_preset(switcher):
    found = switcher.complete("/model openai/gpt-4o")
    assert "openai/gpt-4o" in found and "openai/gpt-4o-mini" in found
    assert all(f.lower().startswith("openai/gpt-4o") for f in found)


def test_bare_model_ids_of_your_providers(switcher):
    assert switcher.complete("/model big") == ["big-coder-7b"]
    assert switcher.complete("/model qwen") == ["Qwen/Qwen2.5-7B-Instruct"]
    after = switcher.complete("/model --save ")
    assert after[0] == "fake/model-a" and "fake/" in after and "model-b" in after, "recent, providers, models"


def test_every_completion_starts_with_the_word(switcher):
    for line in ("/model f", "/model o", "/model q", "/model m", "/model fake/m", "/model openrouter/anthropic/c"):
        word = line.split()[-1].lower()
        found = switcher.complete(line)
        assert found and all(c.lower().startswith(word) for c in found), line


def test_readline_adapter(switcher, monkeypatch):
    import readline

    def typed(line: str) -> list[str]:
        begidx = len(line) - len(line.split(" ")[-1])
        monkeypatch.setattr(readline, "get_line_buffer", lambda: line)
        monkeypatch.setattr(readline, "get_begidx", lambda: begidx)
        text = line[begidx:]
        out, state_ = [], 0
        while (item := switcher.readline_completer(text, state_)) is not None:
            out.append(item)
            state_ += 1
        return out

    assert typed("/mo") == ["/model", "/models"]
    # a single provider would get a space after "openrouter/" from readline: offer its models instead
    assert typed("/model openr") == switcher.complete("/model openrouter/")
    assert len(typed("/model openr")) > 1
    assert typed("/model fake/big") == ["fake/big-coder-7b"]


def test_prompt_toolkit_adapter(switcher):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    completer = switcher.prompt_toolkit_completer()
    got = list(completer.get_completions(Document("/model fake/big"), CompleteEvent(completion_requested=True)))
    assert [(c.text, c.start_position) for c in got] == [("fake/big-coder-7b", -len("fake/big"))]
    got = list(completer.get_completions(Document("/model openai/gpt-4o-mi"), CompleteEvent()))
    assert got and all(c.text.startswith("openai/gpt-4o-mi") for c in got)
    assert "ctx 128k" in got[0].display_meta_text


def test_the_index_follows_a_new_probe(switcher):
    assert switcher.complete("/model fake/new") == []
    state.remember_models("fake", "http://127.0.0.1:9/v1", [*MODELS, "new-model"])
    assert switcher.complete("/model fake/new") == ["fake/new-model"]

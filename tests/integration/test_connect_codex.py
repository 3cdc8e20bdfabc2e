"""OpenAI Codex CLI (npm @openai/codex), connected by ``llmswitch connect codex``, talks to what llmswitch selected.

Asserted at the server (the recording pass-through): the path Codex POSTs, the model in
its body and its credential — then ``llmswitch use`` another model and Codex follows.
Opt-in like the rest of the tier: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration``.
"""

from __future__ import annotations

import pytest
from harness import npm_tool, quiet_env, run_tool
from runcli import cli_command

pytestmark = pytest.mark.integration


def ask_codex(codex, home, work):
    """One non-interactive Codex run, launched through ``llmswitch exec`` (the key reference it was given)."""
    argv = [*cli_command(), "exec", "--", str(codex), "exec", "--skip-git-repo-check", "--color", "never",
            "-c", "model_providers.llmswitch.request_max_retries=0",
            "-c", "model_providers.llmswitch.stream_max_retries=0", "Say OK."]
    return run_tool(argv, quiet_env(home), cwd=work, timeout=90)


def test_codex_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli, tmp_path):
    codex = npm_tool("@openai/codex", "codex")
    home, use = through_recorder
    work = tmp_path / "work"
    work.mkdir()
    done = run_cli("connect", "codex")
    assert done.returncode == 0, done.stderr
    assert "verified POST" in done.stdout and "/v1/responses" in done.stdout

    recorder.clear()
    ran = ask_codex(codex, home, work)
    seen = recorder.model_requests()
    assert seen, f"codex sent nothing to the server: {ran.stderr[-2000:]}"
    assert {s.path for s in seen} == {"/v1/responses"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)  # nothing else: the connected config follows
    recorder.clear()
    ran = ask_codex(codex, home, work)
    seen = recorder.model_requests()
    assert seen, f"codex sent nothing after the switch: {ran.stderr[-2000:]}"
    assert {s.model for s in seen} == {real_server.model2}
    assert {s.path for s in seen} == {"/v1/responses"}

    done = run_cli("connections")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "codex: matches the selection" in done.stdout


def test_codex_refuses_a_provider_without_the_responses_api(chat_only_selected, run_cli):
    """A chat-only server (404 on /responses) is refused before anything is written."""
    home = chat_only_selected
    done = run_cli("connect", "codex")
    assert done.returncode == 1
    assert "needs the Responses API" in done.stderr and "nothing was written" in done.stderr
    assert not (home / ".codex" / "config.toml").exists()

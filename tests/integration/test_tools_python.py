"""gptme, shell-gpt and mini-swe-agent (real PyPI packages), connected by ``llmswitch connect``, send what llmswitch selected.

Each tool is installed once per pinned version into the harness cache, run non-interactively
(no TTY, telemetry and update checks off, a timeout) against the real LiteLLM proxy behind the
recording pass-through. Asserted at the server: the path, the model and the credential of every
model request. Then ``llmswitch use`` another model, then another provider — a second
pass-through with its own base URL (the proxy's root, so the path changes too) and its key in
an environment variable — and the tool's next run follows with no other step. No key ever
lands in a file under the tool's HOME.

Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -p no:cacheprovider -m integration tests/integration/test_tools_python.py``;
required under ``CI``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import Recorder, pip_tool, quiet_env, requests_of, run_tool
from runcli import cli_command

pytestmark = pytest.mark.integration

PIP_VERSIONS = {"gptme": "0.35.1", "shell-gpt": "1.5.1", "mini-swe-agent": "2.4.6"}
"""What this file installs (the README's rows cite these); ``LLMSWITCH_IT_<PACKAGE>_VERSION`` overrides."""
WITH = {"shell-gpt": ("click==8.1.8",)}
"""shell-gpt 1.5.1 imports click but does not declare it, and the typer it resolves to no longer brings it."""
ALT_KEY_VAR = "IT2_KEY"


def tool(dist: str, executable: str) -> Path:
    return pip_tool(dist, executable, PIP_VERSIONS[dist], WITH.get(dist, ()))


@pytest.fixture
def second(real_server) -> Iterator[Recorder]:
    """A second pass-through in front of the same proxy: another provider, another host:port."""
    server = Recorder(real_server.url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def tools_home(through_recorder, second, real_server, run_cli, tmp_path, monkeypatch):
    """``(home, use)`` with provider ``it2`` added too: the proxy's root through ``second``, key in $IT2_KEY."""
    home, use = through_recorder
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # where quiet_env points the tools
    for name in ("MSWEA_GLOBAL_CONFIG_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ALT_KEY_VAR, real_server.key)
    done = run_cli("providers", "add", "it2", "--base-url", second.url, "--key-source", f"env:{ALT_KEY_VAR}")
    assert done.returncode == 0, done.stderr
    (tmp_path / "work").mkdir()
    return home, use


def launched(run_cli, name: str, argv: list[str]) -> list[str]:
    """``argv`` started the way ``llmswitch connections`` says to run the tool now (through exec, or directly)."""
    [report] = [r for r in json.loads(run_cli("connections", "--json").stdout) if r["tool"] == name]
    return [*cli_command(), "exec", "--", *argv] if report["launch"].startswith("llmswitch exec") else argv


def no_key_in_files(home: Path, key: str) -> None:
    holding = [p for p in home.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert not holding, f"the key landed in {holding}"


def follows(run_cli, recorder: Recorder, second: Recorder, real_server, use: Callable[[str], None],
            ask: Callable[[], object], name: str) -> None:
    """The selection's model at the first provider, then another model, then the same model at another provider."""
    seen = requests_of(recorder, ask, name)
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)
    seen = requests_of(recorder, ask, f"{name} after use it/{real_server.model2}")
    assert {s.model for s in seen} == {real_server.model2}

    recorder.clear()
    done = run_cli("use", f"it2/{real_server.model2}")
    assert done.returncode == 0 and "was not updated" not in done.stderr, done.stderr
    seen = requests_of(second, ask, f"{name} after use it2/{real_server.model2}")
    assert {s.path for s in seen} == {"/chat/completions"}
    assert {s.model for s in seen} == {real_server.model2}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}
    assert not recorder.model_requests(), "the first provider still got requests after the switch"
    done = run_cli("connections")
    assert done.returncode == 0 and "matches the selection" in done.stdout, done.stdout + done.stderr


def test_gptme_uses_the_selection_and_follows_use(tools_home, recorder, second, real_server, run_cli, tmp_path):
    gptme = tool("gptme", "gptme")
    home, use = tools_home
    done = run_cli("connect", "gptme")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- gptme" in done.stdout  # keyring key: the launcher sets OPENAI_API_KEY
    config = home / ".config" / "gptme" / "config.toml"

    def ask():
        argv = launched(run_cli, "gptme", [str(gptme), "--non-interactive", "--tools", "none", "--no-stream",
                                           "Say OK."])
        return run_tool(argv, quiet_env(home), cwd=tmp_path / "work", timeout=150)

    follows(run_cli, recorder, second, real_server, use, ask, "gptme")
    assert f'api_key_env = "{ALT_KEY_VAR}"' in config.read_text()  # it2's own variable: gptme started directly
    assert launched(run_cli, "gptme", ["gptme"]) == ["gptme"]
    no_key_in_files(home, real_server.key)
    assert run_cli("disconnect", "gptme").returncode == 0
    assert not config.exists()


def test_shell_gpt_uses_the_selection_follows_use_and_never_serves_a_stale_answer(tools_home, recorder, second,
                                                                                  real_server, run_cli, tmp_path):
    sgpt = tool("shell-gpt", "sgpt")
    home, use = tools_home
    done = run_cli("connect", "shell-gpt")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- sgpt" in done.stdout
    rc = home / ".config" / "shell_gpt" / ".sgptrc"
    temp = tmp_path / "tmp"
    temp.mkdir()

    def ask():  # the same prompt every time: a cache keyed by model alone would answer the third from the second
        argv = launched(run_cli, "shell-gpt", [str(sgpt), "Say OK."])
        return run_tool(argv, quiet_env(home, TMPDIR=str(temp)), cwd=tmp_path / "work", timeout=120)

    follows(run_cli, recorder, second, real_server, use, ask, "sgpt")
    # sgpt had nothing to fill in, so it never rewrote the file (a rewrite drops our markers: follow would refuse)
    assert "# <<< llmswitch shell-gpt <<<" in rc.read_text()
    assert not (temp / "cache").exists()  # answers go to the endpoint's own folder in the user's cache
    assert len(list((home / ".cache" / "shell_gpt").iterdir())) == 2  # one per endpoint
    no_key_in_files(home, real_server.key)
    assert run_cli("disconnect", "shell-gpt").returncode == 0
    assert not rc.exists()


def test_mini_swe_agent_uses_the_selection_and_follows_use(tools_home, recorder, second, real_server, run_cli,
                                                           tmp_path):
    mini = tool("mini-swe-agent", "mini")
    home, use = tools_home
    done = run_cli("connect", "mini-swe-agent")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- mini" in done.stdout
    env_file = home / ".config" / "mini-swe-agent" / ".env"

    runs = []

    def ask():  # the mock model answers without a tool call, so mini stops after a few format errors
        argv = launched(run_cli, "mini-swe-agent", [str(mini), "--yolo", "--exit-immediately", "--cost-limit", "0",
                                                     "--task", "Say OK.", "--output", str(tmp_path / "traj.json")])
        runs.append(run_tool(argv, quiet_env(home, MSWEA_SILENT_STARTUP="1"), cwd=tmp_path / "work", timeout=150))
        return runs[-1]

    follows(run_cli, recorder, second, real_server, use, ask, "mini")
    for run in runs:  # cost tracking was told to carry on for models litellm has no price for
        assert "Error calculating cost" not in run.stdout + run.stderr, run.stdout[-2000:]
        assert "RepeatedFormatError" in run.stdout, run.stdout[-2000:]  # it went on talking to the model
    no_key_in_files(home, real_server.key)
    assert run_cli("disconnect", "mini-swe-agent").returncode == 0
    assert not env_file.exists()

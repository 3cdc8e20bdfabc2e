"""The in-process ``run_cli`` behaves as a fresh, terminal-less ``llmswitch`` process and leaks nothing."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from runcli import ProcessBoundary, cli_command

import keyring


def test_env_is_the_calls_own_and_restored_afterwards(run_cli, config_dir):
    before = dict(os.environ)
    done = run_cli("current", "--json", env={"LLMSWITCH_CONFIG_DIR": str(config_dir / "elsewhere"),
                                             "LLMSWITCH_USE": "default=ollama/llama3"})
    assert done.returncode == 0 and '"ollama"' in done.stdout, done.stderr  # the shell scope came from env=
    assert dict(os.environ) == before
    assert run_cli("current").returncode == 3  # and it does not reach the next call


def test_output_is_what_a_pipe_gets(run_cli):
    run_cli("key", "set", "groq", input="sk-test-pipe-0042")
    run_cli("use", "groq/llama-3.1-8b-instant")
    done = run_cli("env", "--shell", "bash")
    assert done.returncode == 0 and "\x1b[" not in done.stdout + done.stderr
    # the key getter names the console script beside this interpreter, as when run from it
    assert f'"$({cli_command()[0]} key get groq)"' in done.stdout
    assert done.args[:1] == cli_command()[:1]


def test_stdin_is_the_input_given(run_cli, tmp_path):
    assert run_cli("key", "set", "groq", input="sk-test-from-stdin-0042\n").returncode == 0
    assert run_cli("key", "get", "groq").stdout == "sk-test-from-stdin-0042\n"


def test_the_keyring_is_chosen_from_the_calls_environment_and_the_tests_backend_comes_back(run_cli):
    mine = keyring.get_keyring()
    done = run_cli("key", "set", "groq", input="sk-test-no-keyring-0042",
                   env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert done.returncode == 4 and "no OS keyring is available" in done.stderr
    assert keyring.get_keyring() is mine
    assert run_cli("key", "set", "groq", input="sk-test-no-keyring-0042").returncode == 0


def test_a_warning_said_once_per_process_is_said_by_every_call(run_cli, config_dir, tmp_path, monkeypatch):
    run_cli("use", "ollama/llama3")
    (tmp_path / ".llmswitch.toml").write_text('[roles]\ndefault = "ollama/qwen"\n')
    monkeypatch.chdir(tmp_path)
    first, second = run_cli("current"), run_cli("current")
    assert "not trusted yet" in first.stderr and first.stderr == second.stderr


def test_exec_is_refused_in_process_and_runs_as_a_process(run_cli, run_cli_process):
    run_cli("use", "ollama/llama3")
    with pytest.raises(ProcessBoundary, match="run_cli_process"):
        run_cli("exec", "--", sys.executable, "-c", "pass")
    done = run_cli_process("exec", "--", sys.executable, "-c", "import os; print(os.environ['OPENAI_MODEL'])")
    assert (done.returncode, done.stdout) == (0, "llama3\n")


def test_process_state_is_put_back(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    handler = signal.getsignal(signal.SIGINT)
    streams, argv = (sys.stdin, sys.stdout, sys.stderr), sys.argv
    run_cli("chat", input="hi\n")  # no selection: it fails, having looked at its streams
    assert (sys.stdin, sys.stdout, sys.stderr) == streams and sys.argv is argv
    assert signal.getsignal(signal.SIGINT) is handler and os.getcwd() == str(tmp_path)
    assert os.execvpe.__module__ == "os"

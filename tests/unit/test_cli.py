"""The CLI through its real entry point (the installed console script)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from llmswitch.store import state

FAKE = "sk-test-not-a-real-key-0042"


def test_help_lists_every_command(run_cli):
    done = run_cli("--help")
    assert done.returncode == 0
    for name in ("current", "use", "list", "env", "exec", "key", "providers", "config", "probe", "doctor", "chat", "setup"):
        assert name in done.stdout


def test_current_without_selection(run_cli):
    done = run_cli("current")
    assert done.returncode == 3
    assert done.stderr.strip().startswith("llmswitch: no model selected yet") and "llmswitch use" in done.stderr


def test_use_then_current(run_cli):
    done = run_cli("use", "groq/llama-3.1-8b-instant")
    assert done.returncode == 0, done.stderr
    assert "default → groq/llama-3.1-8b-instant  (https://api.groq.com/openai/v1)" in done.stdout
    data = json.loads(run_cli("current", "--json").stdout)
    assert data["provider"] == "groq" and data["model"] == "llama-3.1-8b-instant"
    assert data["base_url"] == "https://api.groq.com/openai/v1" and data["key_env"] == ["GROQ_API_KEY"]
    assert data["keyring_service"] == "llmswitch" and data["keyring_username"] == "groq"
    assert run_cli("current", "--field", "model").stdout == "llama-3.1-8b-instant\n"
    assert "base_url  https://api.groq.com/openai/v1" in run_cli("current").stdout


def test_roles(run_cli):
    assert run_cli("use", "--role", "small", "groq/llama-3.1-8b-instant").returncode == 2
    run_cli("use", "ollama/llama3.1:8b")
    assert run_cli("use", "--role", "small", "groq/llama-3.1-8b-instant").returncode == 0
    roles = json.loads(run_cli("current", "--all", "--json").stdout)
    assert [r["role"] for r in roles] == ["default", "small"]
    assert run_cli("current", "--role", "embedding").returncode == 3
    assert run_cli("use", "--role", "small", "--unset").returncode == 0
    assert run_cli("current", "--role", "small").returncode == 3


@pytest.mark.parametrize(
    ("ref", "code", "fragment"),
    [
        ("nope/model", 3, "unknown provider 'nope'"),
        ("opnrouter/x", 3, "did you mean openrouter"),
        ("groq/default", 2, "placeholder"),
        ("groq/", 2, "model id is empty"),
        ("gpt-4o-mini", 2, "did you mean openai/gpt-4o-mini"),
        ("openai-compat/some-model", 2, "OPENAI_COMPAT_BASE_URL"),
    ],
)
def test_use_refuses_with_the_fix(run_cli, config_dir, ref, code, fragment):
    done = run_cli("use", ref)
    assert done.returncode == code and fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (config_dir / "active.toml").exists()


def test_use_warns_about_unknown_models_with_did_you_mean(run_cli):
    done = run_cli("use", "groq/llama-3.1-8b-instnt")
    assert done.returncode == 0 and "did you mean llama-3.1-8b-instant" in done.stderr
    state.remember_models("ollama", "http://localhost:11434/v1", ["llama3.1:8b", "qwen2.5:7b"])
    done = run_cli("use", "ollama/llama3.1:8")
    assert "its last model list" in done.stderr and "llama3.1:8b" in done.stderr


def test_explicit_local_provider_never_falls_back(run_cli):
    done = run_cli("use", "ollama/llama3", env={"OPENAI_API_KEY": "x", "OPENROUTER_API_KEY": "y"})
    assert json.loads(run_cli("current", "--json").stdout)["base_url"] == "http://localhost:11434/v1"
    assert done.returncode == 0


def test_use_with_a_broken_config_names_file_and_line(run_cli, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[providers.groq]\nbase_ulr = "x"\n')
    done = run_cli("use", "groq/llama-3.1-8b-instant")
    assert done.returncode == 2 and "config.toml:2: providers.groq.base_ulr" in done.stderr
    assert "did you mean 'base_url'" in done.stderr


def test_local_url_override_is_resolved_into_the_selection(run_cli):
    run_cli("use", "vllm/Qwen/Qwen2.5-7B", env={"VLLM_BASE_URL": "http://127.0.0.1:9001/v1/"})
    data = json.loads(run_cli("current", "--json").stdout)
    assert data["base_url"] == "http://127.0.0.1:9001/v1" and data["model"] == "Qwen/Qwen2.5-7B"


def test_key_lifecycle(run_cli, tmp_path):
    done = run_cli("key", "set", "groq", input=FAKE + "\n")
    assert done.returncode == 0, done.stderr
    assert "stored the groq key" in done.stdout and FAKE not in done.stdout + done.stderr
    assert FAKE in (tmp_path / "test-keyring.json").read_text()  # the test keyring, not our files
    assert run_cli("key", "get", "groq").stdout == FAKE + "\n"
    where = run_cli("key", "where", "groq")
    assert "keyring llmswitch/groq" in where.stdout and "← used" in where.stdout and FAKE not in where.stdout
    assert "sk-test-…0042" in where.stdout
    as_json = json.loads(run_cli("key", "where", "groq", "--json").stdout)
    assert as_json["source"] == "keyring llmswitch/groq" and as_json["found"]
    assert run_cli("key", "rm", "groq").returncode == 0
    missing = run_cli("key", "rm", "groq")
    assert missing.returncode == 3 and "no key stored for groq" in missing.stderr
    get = run_cli("key", "get", "groq")
    assert get.returncode == 4 and "run: llmswitch key set groq" in get.stderr


def test_key_set_refuses_unknown_provider_and_empty_input(run_cli):
    assert run_cli("key", "set", "nope", input=FAKE).returncode == 3
    empty = run_cli("key", "set", "groq", input="\n")
    assert empty.returncode == 4 and "empty" in empty.stderr


def test_key_set_refuses_a_plaintext_keyring(run_cli, tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "testkeyring.PlaintextKeyring", "XDG_DATA_HOME": str(tmp_path / "data")}
    done = run_cli("key", "set", "groq", input=FAKE, env=env)
    assert done.returncode == 4 and "plain file" in done.stderr
    assert "export GROQ_API_KEY=<the key>" in done.stderr and 'key_source = "env:GROQ_API_KEY"' in done.stderr
    assert not (tmp_path / "data").exists() or FAKE not in "".join(
        p.read_text() for p in (tmp_path / "data").rglob("*") if p.is_file())


def test_key_set_with_no_keyring_at_all(run_cli):
    done = run_cli("key", "set", "groq", input=FAKE, env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert done.returncode == 4 and "no OS keyring is available" in done.stderr


def test_env_outputs_for_every_shell_without_the_key(run_cli):
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("use", "groq/llama-3.1-8b-instant")
    for shell, marker in (("bash", "export OPENAI_BASE_URL="), ("zsh", "export OPENAI_MODEL="),
                          ("fish", "set -gx OPENAI_BASE_URL"), ("powershell", "$env:OPENAI_BASE_URL = "),
                          ("dotenv", "OPENAI_BASE_URL=")):
        done = run_cli("env", "--shell", shell)
        assert done.returncode == 0 and marker in done.stdout and FAKE not in done.stdout
        assert "OPENAI_API_BASE" in done.stdout and "LLMSWITCH_PROVIDER" in done.stdout
    assert FAKE in run_cli("env", "--shell", "dotenv", "--include-key").stdout


def test_env_evaluated_by_bash_gives_the_real_values(run_cli):
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("use", "groq/llama-3.1-8b-instant")
    script = 'eval "$(llmswitch env --shell bash)"; printf "%s|%s|%s" "$OPENAI_BASE_URL" "$OPENAI_MODEL" "$OPENAI_API_KEY"'
    bin_dir = str(Path(sys.executable).parent)
    done = run_cli_shell(script, bin_dir)
    assert done.stdout == f"https://api.groq.com/openai/v1|llama-3.1-8b-instant|{FAKE}", done.stderr


def run_cli_shell(script: str, bin_dir: str):
    import subprocess

    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)


def test_env_for_keyless_and_missing_keys(run_cli):
    run_cli("use", "ollama/llama3")
    assert run_cli("key", "get", "ollama").stdout == "llmswitch-keyless\n"
    assert "OPENAI_API_KEY=llmswitch-keyless" in run_cli("env").stdout
    run_cli("use", "groq/llama-3.1-8b-instant")
    done = run_cli("env")
    assert done.returncode == 4 and "run: llmswitch key set groq" in done.stderr


def test_exec_passes_the_environment_not_argv(run_cli, run_cli_process):
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("use", "groq/llama-3.1-8b-instant")
    code = "import os, sys, json; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"
    done = run_cli_process("exec", "--", sys.executable, "-c", code, "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL",
                   env={"OPENAI_BASE_URL": "https://api.openai.com/v1"})
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == {"OPENAI_API_KEY": FAKE, "OPENAI_BASE_URL": "https://api.groq.com/openai/v1",
                   "OPENAI_MODEL": "llama-3.1-8b-instant"}
    assert run_cli_process("exec", "--", sys.executable, "-c", "import sys; sys.exit(7)").returncode == 7
    missing = run_cli_process("exec", "--", "no-such-command-llmswitch")
    assert missing.returncode == 127 and "command not found" in missing.stderr
    assert run_cli("exec").returncode == 2


def test_providers_add_show_list_rm(run_cli, config_dir):
    done = run_cli("providers", "add", "box", "--base-url", "http://127.0.0.1:8000/v1/", "--header", "X-Title: me")
    assert done.returncode == 0, done.stderr
    assert "box" in run_cli("list").stdout
    shown = json.loads(run_cli("providers", "show", "box", "--json").stdout)
    assert shown["base_url"] == "http://127.0.0.1:8000/v1" and shown["headers"] == {"X-Title": "me"}
    assert shown["key_required"] is False
    assert run_cli("providers", "add", "box", "--base-url", "http://127.0.0.1:8001/v1").returncode == 2
    assert run_cli("providers", "add", "custom").returncode == 2
    bad = run_cli("providers", "add", "evil", "--base-url", "https://u:p@example.com/v1")
    assert bad.returncode == 2 and "credentials" in bad.stderr
    assert run_cli("providers", "add", "openrouter").returncode == 0
    listed = json.loads(run_cli("list", "--json").stdout)
    assert {row["id"] for row in listed} == {"box", "openrouter"}
    models = json.loads(run_cli("list", "openrouter", "--json").stdout)
    assert models["provider"] == "openrouter" and len(models["models"]) > 100
    assert run_cli("providers", "rm", "box", "--delete-key").returncode == 0
    assert run_cli("providers", "rm", "box").returncode == 3
    presets = json.loads(run_cli("list", "--presets", "--json").stdout)
    assert {"ollama", "lm_studio", "vllm", "llamacpp", "litellm", "openrouter", "groq"} <= {p["id"] for p in presets}


def test_config_check_and_path(run_cli, config_dir):
    assert "nothing to check" in run_cli("config", "check").stdout
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('MODEL = "gpt-4o"\n[providers.groq]\ntimeout = "x"\n')
    done = run_cli("config", "check")
    assert done.returncode == 1 and "config.toml:1: MODEL" in done.stdout and "config.toml:3" in done.stdout
    report = json.loads(run_cli("config", "check", "--json").stdout)
    assert report["ok"] is False and {p["line"] for p in report["problems"]} == {1, 3}
    paths = json.loads(run_cli("config", "path", "--json").stdout)
    assert paths["config"] == str(config_dir / "config.toml")


def test_redaction_across_every_command(run_cli, run_cli_process, config_dir, tmp_path):
    """With a key stored, no command prints it except the two that exist to print it."""
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("providers", "add", "groq", "--header", "X-Title: redaction")
    commands = [
        ("use", "groq/llama-3.1-8b-instant"), ("use", "groq/nope-model"), ("use", "groq/default"),
        ("current",), ("current", "--json"), ("current", "--all", "--json"), ("list",), ("list", "--json"),
        ("list", "groq"), ("env",), ("env", "--shell", "fish"), ("env", "--shell", "powershell"),
        ("env", "--shell", "dotenv"), ("key", "where", "groq"), ("key", "where", "groq", "--json"),
        ("providers", "show", "groq"), ("providers", "show", "groq", "--json"), ("config", "check"),
        ("config", "check", "--json"), ("key", "set", "nope"), ("exec", "--", "true"), ("exec", "--", "no-such-cmd"),
        ("providers", "add", "groq"), ("use", "--role", "small", "groq/llama-3.1-8b-instant"),
    ]
    for args in commands:
        done = (run_cli_process if args[0] == "exec" else run_cli)(*args)  # exec replaces the process
        assert FAKE not in done.stdout and FAKE not in done.stderr, args
    for directory in (config_dir, Path(os.environ["LLMSWITCH_CACHE_DIR"]), Path(os.environ["LLMSWITCH_STATE_DIR"])):
        for path in directory.rglob("*") if directory.exists() else ():
            if path.is_file():
                assert FAKE not in path.read_text(errors="replace"), path


def test_key_set_prompt_does_not_echo_the_key(isolated, tmp_path):
    import pexpect
    from runcli import cli_command

    argv = cli_command()
    child = pexpect.spawn(argv[0], [*argv[1:], "key", "set", "groq"], env=dict(os.environ), encoding="utf-8",
                          timeout=30)
    child.expect("input hidden: ")
    child.sendline(FAKE)
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.before
    assert child.exitstatus == 0 and "stored the groq key" in transcript
    assert FAKE not in transcript  # the terminal never showed it
    assert FAKE in (tmp_path / "test-keyring.json").read_text()


def test_a_key_pasted_into_argv_is_refused_without_echo(run_cli):
    done = run_cli("key", "set", FAKE)
    assert done.returncode == 2 and "looks like a key itself" in done.stderr and FAKE not in done.stderr
    assert "unknown provider (a value shaped like a key" in run_cli("use", f"{FAKE}/model").stderr


def test_small_cli_contracts(run_cli):
    run_cli("use", "ollama/llama3")
    bad_field = run_cli("current", "--field", "nosuch")
    assert bad_field.returncode == 2 and "fields: role, provider, model" in bad_field.stderr
    typo = run_cli("providers", "add", "grq")
    assert typo.returncode == 2 and "did you mean groq" in typo.stderr
    azure = run_cli("providers", "add", "az", "--preset", "azure", "--base-url", "https://r.openai.azure.com/openai")
    assert azure.returncode == 0, azure.stderr  # no api_version: Azure's v1 API
    remote = run_cli("providers", "add", "far", "--base-url", "http://llm.example.com/v1")
    assert remote.returncode == 0 and "plain http" in remote.stderr


def test_a_failing_key_command_stops_env_and_exec(run_cli):
    run_cli("providers", "add", "box", "--base-url", "http://127.0.0.1:9/v1", "--key-source", "command:no-such-helper-x")
    run_cli("use", "box/m1")
    for args in (("key", "get", "box"), ("env",), ("exec", "--", "true")):
        done = run_cli(*args)
        assert done.returncode == 4 and "no-such-helper-x" in done.stderr, args


def test_typos_do_not_become_recent_models(run_cli):
    from llmswitch.store import state

    run_cli("use", "groq/llama-3.1-8b-instnt")
    run_cli("use", "groq/llama-3.1-8b-instant")
    assert state.recent() == ["groq/llama-3.1-8b-instant"]

"""`llmswitch probe` and `llmswitch doctor` through the console script, against real local servers."""

from __future__ import annotations

import json

from upstreams import FAKE_KEY, OTHER_KEY, echo_headers, free_port, ollama_like, openai_like, openrouter_like


def configure(config_dir, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def test_probe_reports_each_provider_and_exit_code(run_cli, config_dir, upstream):
    box = openai_like(upstream())
    router = openrouter_like(upstream())
    local = ollama_like(upstream())
    configure(config_dir, f'[providers.box]\nbase_url = "{box.url}/v1"\nkey_required = true\n'
                          f'[providers.openrouter]\nbase_url = "{router.url}/api/v1"\n'
                          f'[providers.ollama]\n')
    run_cli("key", "set", "box", input=FAKE_KEY)
    run_cli("key", "set", "openrouter", input=OTHER_KEY)  # public /models, but the key is wrong
    env = {"OLLAMA_BASE_URL": f"{local.url}/v1"}
    done = run_cli("probe", "--json", env=env)
    results = {r["provider"]: r for r in json.loads(done.stdout)}
    assert done.returncode == 1  # one provider is not usable
    assert results["box"]["outcome"] == "ok" and results["box"]["models"] == ["gpt-4o", "gpt-4o-mini"]
    assert results["openrouter"]["outcome"] == "auth_rejected"  # a bad key never looks fine
    assert "llmswitch key set openrouter" in results["openrouter"]["fix"]
    assert results["ollama"]["outcome"] == "keyless"
    text = run_cli("probe", "box", "ollama", env=env)
    assert text.returncode == 0 and "box" in text.stdout and "ollama" in text.stdout
    assert FAKE_KEY not in done.stdout + text.stdout + text.stderr


def test_probe_remembers_models_for_use_warnings(run_cli, config_dir, upstream):
    local = ollama_like(upstream(), models=["llama3.2:latest"])
    env = {"OLLAMA_BASE_URL": f"{local.url}/v1"}
    run_cli("use", "ollama/llama3.2:latest", env=env)
    assert run_cli("probe", env=env).returncode == 0
    warned = run_cli("use", "ollama/llama3.2:lates", env=env)
    assert "its last model list" in warned.stderr and "llama3.2:latest" in warned.stderr
    assert run_cli("use", "ollama/llama3.2:latest", env=env).stderr == ""


def test_probe_shows_what_was_sent_redacted(run_cli, config_dir, upstream):
    server = upstream()
    server.get("/v1/models", echo_headers)
    configure(config_dir, f'[providers.echo]\nbase_url = "{server.url}/v1"\nkey_required = true\n')
    run_cli("key", "set", "echo", input=FAKE_KEY)
    done = run_cli("probe", "--verbose")
    data = json.loads(run_cli("probe", "--json").stdout)[0]
    assert data["request_headers"]["authorization"].startswith("Bearer sk-test-…")
    assert FAKE_KEY not in done.stdout + done.stderr + json.dumps(data)
    sent = [r.headers.get("authorization") for r in server.requests]  # the keyless check runs alongside
    assert f"Bearer {FAKE_KEY}" in sent and set(sent) <= {f"Bearer {FAKE_KEY}", None}  # the real key, to its host


def test_probe_a_dead_local_server_says_how_to_start_it(run_cli):
    env = {"OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    run_cli("use", "ollama/llama3", env=env)
    done = run_cli("probe", env=env)
    assert done.returncode == 1 and "no server on 127.0.0.1" in done.stdout and "ollama serve" in done.stdout


def test_probe_without_anything_configured(run_cli):
    done = run_cli("probe")
    assert done.returncode == 3 and "llmswitch providers add" in done.stderr


def test_doctor_names_contradicting_environment(run_cli, upstream):
    local = ollama_like(upstream())
    env = {"OLLAMA_BASE_URL": f"{local.url}/v1"}
    run_cli("use", "ollama/llama3.2:latest", env=env)
    done = run_cli("doctor", "--json", env={**env, "OPENAI_BASE_URL": "https://api.openai.com/v1",
                                            "OPENAI_API_KEY": "sk-test-unrelated"})
    report = json.loads(done.stdout)
    by_area = {}
    for finding in report["findings"]:
        by_area.setdefault(finding["area"], []).append(finding)
    assert any("OPENAI_BASE_URL=https://api.openai.com/v1" in f["message"] for f in by_area["environment"])
    assert by_area["probe"][0]["level"] == "ok"
    assert done.returncode == 0
    clean = run_cli("doctor", env=env)
    assert "no variables in this shell contradict" in clean.stdout


def test_doctor_reports_unsafe_files_and_bad_config(run_cli, config_dir):
    configure(config_dir, 'MODEL = "gpt-4o"\n')
    (config_dir / "config.toml").chmod(0o666)
    done = run_cli("doctor", "--no-probe")
    assert done.returncode == 1
    assert "writable by other users" in done.stdout and "chmod 600" in done.stdout
    assert "will not use it" in done.stdout  # whoever can edit it could redirect the key
    used = run_cli("use", "ollama/llama3")
    assert used.returncode == 2 and "chmod 600" in used.stderr
    (config_dir / "config.toml").chmod(0o600)
    assert "config.toml:1: MODEL" in run_cli("doctor", "--no-probe").stdout


def test_an_unusable_keyring_is_named_when_a_server_wants_a_key(run_cli, config_dir, upstream, tmp_path):
    box = openai_like(upstream())
    configure(config_dir, f'[providers.box]\nbase_url = "{box.url}/v1"\n')  # loopback: key optional by default
    env = {"PYTHON_KEYRING_BACKEND": "testkeyring.PlaintextKeyring", "XDG_DATA_HOME": str(tmp_path / "d")}
    done = run_cli("probe", env=env)
    assert done.returncode == 1 and "auth_missing" in done.stdout
    assert "box: the only keyring available" in done.stderr and "plain file" in done.stderr
    quiet = run_cli("probe", env={**env, "LLMSWITCH_KEY_BOX": FAKE_KEY})
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_the_server_column_names_what_an_earlier_probe_recognised(run_cli, config_dir, upstream):
    """Ollama answered once (and was recognised); now a proxy in front of it answers 502 with no tell-tale:
    the SERVER column says what was recognised at this URL before, marked as earlier; --json keeps to this answer."""
    from upstreams import Reply

    local = ollama_like(upstream())
    configure(config_dir, f'[providers.box]\nbase_url = "{local.url}/v1"\n')
    first = run_cli("probe", "box")
    assert first.returncode == 0 and "Ollama" in first.stdout
    local.get("/v1/models", Reply.text("bad gateway", 502))
    again = run_cli("probe", "box")
    row = next(line for line in again.stdout.splitlines() if line.startswith("box"))
    assert "Ollama (earlier)" in row and "server_error" in row
    assert json.loads(run_cli("probe", "--json", "box").stdout)[0]["server"] is None

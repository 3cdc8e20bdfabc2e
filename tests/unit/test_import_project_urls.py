"""``import --add`` in a cloned repository never redirects a preset (issue 20, medium).

A base URL found in a project file (``./.env``) never changes a preset or an existing provider; it
becomes a provider of its own only once confirmed (``--accept-url URL`` or a yes at a terminal —
``--add`` is not that), and that provider reads no key from the user's environment or keyring
until the user names its key source. The ``.env`` files name every preset's variables; a real
server on 127.0.0.1 records that nothing reaches the project's URL.
"""

from __future__ import annotations

import json
import re

import pytest

from upstreams import Reply, models_body

USER_KEY = "sk-test-users-own-key-0021"
PROJECT_KEY = "sk-test-project-key-0666"
KEY_VAR = re.compile(r"^([A-Z][A-Z0-9_]*)_API_KEY$")


@pytest.fixture
def project(tool_home, tmp_path, monkeypatch):
    """A cloned repository as the current directory, with its own home elsewhere."""
    repo = tmp_path / "cloned-repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    return repo


def _every_preset_variable() -> dict[str, str]:
    """Each preset's key variable → a hostile URL on a host named after the preset (``openai.evil.example``)."""
    from llmswitch.store import catalog

    found: dict[str, str] = {}
    for pid, preset in catalog.presets().items():
        for var in preset.key_env:
            if KEY_VAR.match(var):
                found.setdefault(var, f"https://{re.sub(r'[^a-z0-9]+', '-', pid)}.evil.example/v1")
    return found


def _hostile_env(variables: dict[str, str]) -> str:
    lines = []
    for var, url in variables.items():
        lines += [f"{var}={PROJECT_KEY}", f"{var[:-8]}_BASE_URL={url}"]
    return "\n".join([*lines, f"OPENAI_API_BASE={variables['OPENAI_API_KEY']}"]) + "\n"


def test_a_env_naming_every_presets_variables_changes_no_preset(project, config_dir, run_cli):
    from llmswitch.store import catalog, keys
    from llmswitch.store.config import load
    from llmswitch.tools import importing

    variables = _every_preset_variable()
    assert len(variables) > 50
    (project / ".env").write_text(_hostile_env(variables))
    found = importing.discover(("env",))
    assert {f.base_url for f in found} == set(variables.values())
    for item in found:
        assert item.project and item.needs_confirmation
        assert catalog.preset(item.provider) is None, f"{item.provider}: a custom URL never takes a preset's id"
    users_env = {var: USER_KEY for var in variables}
    listed = run_cli("import", "env", env=users_env)
    assert listed.returncode == 0 and "a project file's URL: added only with --accept-url" in listed.stdout
    added = run_cli("import", "env", "--add", env=users_env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.count("not added:") == len(variables), "--add alone is not a confirmation"
    assert not (config_dir / "config.toml").exists(), "nothing was written"
    accepted = run_cli("import", "env", "--add", "--move-keys", "--json",
                       *(a for url in variables.values() for a in ("--accept-url", url)), env=users_env)
    assert accepted.returncode == 0, accepted.stderr
    assert PROJECT_KEY not in accepted.stdout + accepted.stderr and USER_KEY not in accepted.stdout
    config = load()
    for pid in catalog.preset_ids():
        assert pid not in config.providers, f"{pid}: a preset is never redefined by a project file"
    made = {r["provider"] for r in json.loads(accepted.stdout)}
    assert len(made) == len(set(variables.values())), "one provider per URL, each under its own id"
    for pid in made:
        provider = config.providers[pid]
        assert provider.base_url in variables.values() and provider.key_source == "none"
        resolution = keys.resolve(pid, source=provider.key_source, env=provider.key_env,
                                  environ={**users_env, keys.override_var(pid): USER_KEY})
        assert resolution.key is None, f"{pid}: reads no key until you name its key source"
        assert keys.stored(pid) is None, "the project's key was not moved into your keyring"


def test_nothing_reaches_the_projects_url_until_confirmed_and_then_no_key_of_yours(project, config_dir, run_cli,
                                                                                  upstream):
    from llmswitch.store import keys

    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["their-model"])))
    url = f"{server.url}/v1"
    (project / ".env").write_text(f"OPENAI_API_KEY={PROJECT_KEY}\nOPENAI_BASE_URL={url}\nOPENAI_MODEL=their-model\n")
    users_env = {"OPENAI_API_KEY": USER_KEY, "LLMSWITCH_KEY_LOCAL": USER_KEY, "LLMSWITCH_KEY_OPENAI": USER_KEY}
    keys.store("local", USER_KEY)
    keys.store("openai", USER_KEY)
    added = run_cli("import", "env", "--add", "--move-keys", env=users_env)
    assert added.returncode == 0, added.stderr
    assert f"not added: {url} comes from a project file ({project / '.env'})" in added.stdout
    assert f"llmswitch import --add --accept-url {url}" in added.stdout
    run_cli("probe", env=users_env)
    assert server.requests == [], "nothing reached the project's URL"
    accepted = run_cli("import", "env", "--add", "--accept-url", url, env=users_env)
    assert accepted.returncode == 0, accepted.stderr
    assert "it reads no key from your environment or keyring (key_source = \"none\") until you name its key source" \
        in accepted.stdout, accepted.stdout
    pid = re.search(r"added provider (\S+) ", accepted.stdout).group(1)
    assert pid != "openai"
    assert keys.stored(pid) in (None, USER_KEY) and keys.stored("openai") == USER_KEY
    probed = run_cli("probe", pid, env=users_env)
    assert "Traceback" not in probed.stderr
    assert server.requests, "confirmed: now it is probed"
    for request in server.requests:
        assert not any(key in value for value in request.headers.values() for key in (USER_KEY, PROJECT_KEY))


def test_an_existing_provider_is_never_changed_and_a_new_id_shares_no_key_name(project, config_dir, run_cli):
    from llmswitch.store.config import load

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.corp]\nbase_url = "https://corp.example/v1"\n'
                                            '[providers.corp_x]\nbase_url = "https://corp-x.example/v1"\n')
    (project / ".env").write_text("CORP_API_KEY=x\nCORP_BASE_URL=https://corp.evil.example/v1\n"
                                  "CORPX_API_KEY=y\nCORPX_BASE_URL=https://corp-x.evil.example/v1\n")
    done = run_cli("import", "env", "--add", "--accept-url", "https://corp.evil.example/v1",
                   "--accept-url", "https://corp-x.evil.example/v1")
    assert done.returncode == 0, done.stderr
    providers = load().providers
    assert providers["corp"].base_url == "https://corp.example/v1"
    assert providers["corp_x"].base_url == "https://corp-x.example/v1"
    assert providers["corp-imported"].base_url == "https://corp.evil.example/v1"
    assert "corp-x" not in providers, "corp-x would read LLMSWITCH_KEY_CORP_X, the variable of your corp_x"
    assert providers["corp-x-imported"].base_url == "https://corp-x.evil.example/v1"


def test_your_own_env_file_is_added_without_asking_but_still_never_takes_a_preset(project, config_dir, run_cli):
    from llmswitch.store.config import load

    home = project.parent / "tool-home"
    (home / ".env").write_text(f"GROQ_API_KEY={PROJECT_KEY}\nGROQ_BASE_URL=https://groq.example/v1\n")
    done = run_cli("import", "env", "--add")
    assert done.returncode == 0, done.stderr
    providers = load().providers
    assert "groq" not in providers and providers["groq-imported"].base_url == "https://groq.example/v1"
    assert providers["groq-imported"].key_source == "keyring", "your own file: its key source as usual"


def test_at_a_terminal_a_project_url_is_asked_and_no_is_the_default(project, config_dir):
    import os

    import pexpect
    from runcli import cli_command

    from llmswitch.store.config import load

    (project / ".env").write_text("AAA_API_KEY=x\nAAA_BASE_URL=https://aaa.example/v1\n"
                                  "BBB_API_KEY=y\nBBB_BASE_URL=https://bbb.example/v1\n")
    argv = cli_command()
    child = pexpect.spawn(argv[0], [*argv[1:], "import", "env", "--add"], env=dict(os.environ), encoding="utf-8",
                          timeout=30, cwd=str(project))
    child.expect(r"points at https://aaa.example/v1: add it .*\[y/N\] ")
    child.sendline("y")
    child.expect(r"points at https://bbb.example/v1: add it .*\[y/N\] ")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    providers = load().providers
    assert providers["aaa"].base_url == "https://aaa.example/v1" and providers["aaa"].key_source == "none"
    assert "bbb" not in providers


def test_a_project_files_key_is_not_moved_into_your_keyring_by_move_keys(project, config_dir, run_cli):
    """A cloned repository's ``./.env`` key for a preset, with nothing in your keyring: ``--move-keys`` alone
    would make the project author's key yours for that provider (your prompts on their account)."""
    from llmswitch.store import keys

    (project / ".env").write_text(f"OPENROUTER_API_KEY={PROJECT_KEY}\n")
    added = run_cli("import", "env", "--add", "--move-keys")
    assert added.returncode == 0, added.stderr
    assert keys.stored("openrouter") is None, "the project's key did not become yours"
    assert "is a project file's key for openrouter, chosen by whoever wrote that project; it was not moved" \
        in added.stdout, added.stdout
    assert "llmswitch key set openrouter" in added.stdout and PROJECT_KEY not in added.stdout + added.stderr

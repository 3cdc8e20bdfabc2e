"""``import --add`` asks each find's URL once without a key and writes what the server said, as ``add`` and the
wizard do: one key decision (:mod:`llmswitch.store.keydecision`), fed by a real answer."""

from __future__ import annotations

import tomllib

import pytest

from upstreams import FakeUpstream, llamacpp_like, vllm_like

KEY = "sk-test-import-learns-0099"


@pytest.fixture
def home(tool_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tool_home


def codex_pointing_at(home, url: str, key_line: str = 'env_key = "BOX_TOKEN"\n') -> None:
    path = home / ".codex" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[model_providers.box]\nbase_url = "{url}"\n{key_line}')


def imported(config_dir) -> dict:
    providers = tomllib.loads((config_dir / "config.toml").read_text())["providers"]
    (entry,) = providers.values()
    return entry


def test_a_local_server_that_wants_a_key_is_written_as_wanting_one(home, run_cli, config_dir, upstream):
    server: FakeUpstream = vllm_like(upstream(), key=KEY)
    codex_pointing_at(home, f"{server.url}/v1")
    done = run_cli("import", "codex", "--add")
    assert done.returncode == 0, done.stderr
    entry = imported(config_dir)
    # loopback would default to "no key needed"; the server's 401 is news, so it is written down
    assert entry["key_source"] == "env:BOX_TOKEN" and entry["key_required"] is True
    assert all("authorization" not in r.headers for r in server.requests)  # asked without a key


def test_a_server_that_answers_without_a_key_keeps_the_reference_and_wants_none(home, run_cli, config_dir, upstream):
    server = llamacpp_like(upstream())
    codex_pointing_at(home, f"{server.url}/v1")
    assert run_cli("import", "codex", "--add").returncode == 0
    entry = imported(config_dir)
    assert entry["key_source"] == "env:BOX_TOKEN" and "key_required" not in entry  # loopback's default already says so
    where = run_cli("key", "where", "local", env={"BOX_TOKEN": ""})
    assert "no key (optional for local)" in where.stdout, where.stdout + where.stderr


def test_a_keyless_server_found_with_no_reference_gets_no_key_source(home, run_cli, config_dir, upstream):
    server = llamacpp_like(upstream())
    codex_pointing_at(home, f"{server.url}/v1", key_line="")
    assert run_cli("import", "codex", "--add").returncode == 0
    assert imported(config_dir)["key_source"] == "none"


def test_an_unreachable_url_is_added_with_what_is_known(home, run_cli, config_dir):
    from upstreams import free_port

    codex_pointing_at(home, f"http://127.0.0.1:{free_port()}/v1")
    done = run_cli("import", "codex", "--add")
    assert done.returncode == 0, done.stderr
    entry = imported(config_dir)
    assert entry["key_source"] == "env:BOX_TOKEN" and "key_required" not in entry

"""The shared providers file: team add/update/rm/show, its refusals, and the layer below config.toml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOOD = """\
version = 1

[providers.corp-gw]
name = "Corp gateway"
preset = "litellm"
base_url = "https://gw.corp.example/v1"
key_source = "keyring"

[providers.corp-small]
base_url = "https://small.corp.example/v1"
key_source = "none"
"""


def _team_file(tmp_path: Path, text: str, name: str = "team.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _user(config_dir: Path, text: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def test_add_shows_what_it_adds_and_its_sha256_and_list_marks_the_providers(tmp_path, config_dir, run_cli):
    import hashlib

    from llmswitch.store.config import load

    _user(config_dir, '[providers.mine]\nbase_url = "https://mine.example/v1"\n')
    path = _team_file(tmp_path, GOOD)
    done = run_cli("team", "add", str(path))
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(GOOD.encode()).hexdigest() in done.stdout
    assert "+ corp-gw" in done.stdout and "https://gw.corp.example/v1" in done.stdout
    assert "llmswitch key set corp-gw" in done.stdout, "keys stay per user"
    config = load()
    assert list(config.providers) == ["mine", "corp-gw", "corp-small"], "the team's providers sit below yours"
    assert config.providers["corp-gw"].origin == str(path) and config.providers["mine"].origin is None
    listed = run_cli("list")
    assert "corp-gw" in listed.stdout and "(team)" in listed.stdout
    assert f"(team) from {path}, copy fetched just now" in listed.stdout
    rows = {r["id"]: r for r in json.loads(run_cli("list", "--json").stdout)}
    assert rows["corp-gw"]["team"] == str(path) and rows["mine"]["team"] is None


def test_a_user_entry_with_the_same_id_wins(tmp_path, config_dir, run_cli):
    from llmswitch.store.config import load

    _user(config_dir)
    assert run_cli("team", "add", str(_team_file(tmp_path, GOOD))).returncode == 0
    _user(config_dir, '[providers.corp-gw]\nbase_url = "https://my-own.example/v1"\n')
    provider = load().providers["corp-gw"]
    assert provider.base_url == "https://my-own.example/v1" and provider.origin is None
    doctor = json.loads(run_cli("doctor", "--json", "--no-probe").stdout)
    assert any("your own corp-gw in config.toml hides the team's corp-gw" in f["cause"] for f in doctor["findings"])


@pytest.mark.parametrize(("body", "line", "said"), [
    ('[providers.x]\nbase_url = "https://x.example/v1"\napi_key = "sk-test-not-a-real-key-0001"\n', 3,
     "keys never go in config.toml"),
    ('[providers.x]\nbase_url = "https://x.example/v1"\nkey_source = "command:cat ~/.secret"\n', 3,
     "a team file may not run commands"),
    ('[providers.x]\nbase_url = "https://x.example/v1"\n[providers.x.headers]\n"X-Api-Key" = { env = "MY_KEY" }\n', 4,
     "a credential header does not belong in config.toml"),
    ('[providers.x]\nbase_url = "https://x.example/v1"\n[providers.x.headers]\n"X-Corp-Token" = { env = "MY_TOKEN" }\n',
     4, "credential-like header X-Corp-Token in a team file"),
    ('[providers.x]\nbase_url = "https://x.example/v1"\n[providers.x.headers]\n"X-Trace" = { env = "SOME_VAR" }\n',
     4, "may not read header values from your environment or keyring"),
    ('[providers.openai]\nbase_url = "https://evil.example/v1"\n', 1, "openai is a preset id"),
    ('[providers.mine]\nbase_url = "https://evil.example/v1"\n', 1, "mine is one of your own providers"),
    ('[preferences]\nconfirm_costly = false\n', 1, "a team file may set only providers"),
])
def test_secret_bearing_or_redirecting_team_files_are_refused_naming_the_line(tmp_path, config_dir, run_cli,
                                                                               body, line, said):
    _user(config_dir, '[providers.mine]\nbase_url = "https://mine.example/v1"\n')
    path = _team_file(tmp_path, body)
    done = run_cli("team", "add", str(path))
    assert done.returncode != 0
    assert f"{path}:{line}" in done.stderr and said in done.stderr, done.stderr
    assert "sk-test-not-a-real-key-0001" not in done.stdout + done.stderr
    assert run_cli("team", "show", "--json").stdout.strip() == "null", "nothing recorded"


def test_env_vars_are_shown_one_by_one_and_used_only_when_accepted(tmp_path, config_dir, run_cli, monkeypatch):
    from llmswitch.store import keys
    from llmswitch.store.config import load

    _user(config_dir)
    body = ('[providers.corp-a]\nbase_url = "https://a.example/v1"\nkey_source = "env:CORP_A_KEY"\n'
            '[providers.corp-b]\npreset = "openai"\nbase_url = "https://b.example/v1"\n')
    done = run_cli("team", "add", str(_team_file(tmp_path, body)), "--accept-env", "CORP_A_KEY")
    assert done.returncode == 0, done.stderr
    assert "corp-b would read a key from $OPENAI_API_KEY" in done.stdout, "a preset's env var is shown too"
    assert "not accepted: $OPENAI_API_KEY is not read" in done.stdout
    assert "would read a key from $CORP_A_KEY" not in done.stdout, "accepted ahead by the flag: not asked"
    config = load()
    assert config.providers["corp-a"].key_env == ("CORP_A_KEY",)
    assert config.providers["corp-b"].key_env == (), "your OpenAI key never goes to the team's URL"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0001")
    monkeypatch.setenv("CORP_A_KEY", "sk-test-corp-a-0003")
    assert keys.resolve_for(config.providers["corp-b"]).key is None
    assert keys.resolve_for(config.providers["corp-a"]).key == "sk-test-corp-a-0003"
    assert json.loads(run_cli("team", "show", "--json").stdout)["pending_env"] == ["OPENAI_API_KEY"]
    assert run_cli("team", "update", "--accept-env", "OPENAI_API_KEY").returncode == 0
    assert load().providers["corp-b"].key_env == ("OPENAI_API_KEY",)


def test_plain_http_to_another_host_is_left_out_until_accepted(tmp_path, config_dir, run_cli):
    from llmswitch.store.config import load

    _user(config_dir)
    body = ('[providers.lan]\nbase_url = "http://10.1.2.3:4000/v1"\n'
            '[providers.here]\nbase_url = "http://127.0.0.1:4000/v1"\nkey_source = "none"\n')
    done = run_cli("team", "add", str(_team_file(tmp_path, body)))
    assert "lan uses plain http to another machine (http://10.1.2.3:4000/v1)" in done.stdout
    assert "here" in load().providers and "lan" not in load().providers
    doctor = json.loads(run_cli("doctor", "--json", "--no-probe").stdout)
    assert any(f["cause"] == "team provider lan is left out: plain http to 10.1.2.3"
               and f["fix"] == "llmswitch team update --accept-http lan" for f in doctor["findings"])
    assert run_cli("team", "update", "--accept-http", "lan").returncode == 0
    assert "lan" in load().providers


def test_a_tampered_copy_is_not_used_and_doctor_and_update_say_so(tmp_path, config_dir, run_cli):
    from llmswitch.store import team
    from llmswitch.store.config import load

    _user(config_dir)
    source = _team_file(tmp_path, GOOD)
    assert run_cli("team", "add", str(source)).returncode == 0
    copy = team.copy_path()
    copy.write_text(GOOD.replace("https://gw.corp.example/v1", "https://attacker.example/v1"))
    config = load()
    assert "corp-gw" not in config.providers and "corp-small" not in config.providers
    assert any("changed since it was fetched" in w.cause for w in config.warnings)
    doctor = json.loads(run_cli("doctor", "--json", "--no-probe").stdout)
    assert any(f["area"] == "team" and f["level"] == "warning" and "kept copy changed" in f["cause"]
               for f in doctor["findings"])
    done = run_cli("team", "update", "--yes")
    assert done.returncode == 0 and "fetching it afresh" in done.stderr
    assert load().providers["corp-gw"].base_url == "https://gw.corp.example/v1"


def test_update_shows_the_diff_and_applies_only_when_accepted(tmp_path, config_dir, run_cli):
    from llmswitch.store.config import load

    _user(config_dir)
    source = _team_file(tmp_path, GOOD)
    assert run_cli("team", "add", str(source)).returncode == 0
    assert "unchanged" in run_cli("team", "update").stdout
    source.write_text(GOOD.replace("https://small.corp.example/v1", "https://small2.corp.example/v1")
                      + '\n[providers.corp-new]\nbase_url = "https://new.corp.example/v1"\n')
    done = run_cli("team", "update")
    assert done.returncode == 1, "not accepted: nothing applied"
    assert "+ corp-new" in done.stdout
    assert "~ corp-small: base_url 'https://small.corp.example/v1' → 'https://small2.corp.example/v1'" in done.stdout
    assert "corp-new" not in load().providers
    assert run_cli("team", "update", "--yes").returncode == 0
    assert "corp-new" in load().providers
    source.write_text('[providers.corp-bad]\nbase_url = "https://x.example/v1"\nkey_source = "command:id"\n')
    refused = run_cli("team", "update", "--yes")
    assert refused.returncode != 0 and "may not run commands" in refused.stderr
    assert "corp-new" in load().providers, "a refused update leaves the copy in use as it was"


def test_rm_forgets_the_file(tmp_path, config_dir, run_cli):
    from llmswitch.store.config import load

    _user(config_dir)
    assert run_cli("team", "add", str(_team_file(tmp_path, GOOD))).returncode == 0
    assert "team" in run_cli("team", "add", str(_team_file(tmp_path, GOOD, "b.toml"))).stderr
    assert "forgotten" in run_cli("team", "rm").stdout
    assert "corp-gw" not in load().providers
    assert "no team file was in use" in run_cli("team", "rm").stdout


def test_a_team_file_over_plain_http_is_refused(config_dir, run_cli):
    _user(config_dir)
    done = run_cli("team", "add", "http://127.0.0.1:9/team.toml")
    assert done.returncode != 0 and "is not https" in done.stderr


# --- https, verified against a throw-away CA ---------------------------------------------------------

@pytest.fixture
def tls_server(tmp_path):
    """A FakeUpstream serving https on 127.0.0.1 with a certificate from a throw-away CA (trustme)."""
    import ssl

    import trustme

    from upstreams import FakeUpstream

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server = FakeUpstream()
    server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
    server.start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield server, str(ca_file)
    server.stop()


def _serve_with_etag(server, body: str, etag: str = '"v1"'):
    from upstreams import Reply

    def handler(request):
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"etag": etag})
        return Reply.text(body, content_type="application/toml", headers={"etag": etag,
                                                                        "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT"})

    server.get("/team.toml", handler)


def test_https_is_verified_and_an_unknown_ca_is_refused(tls_server, config_dir, run_cli):
    server, _ = tls_server
    _user(config_dir)
    _serve_with_etag(server, GOOD)
    url = f"https://127.0.0.1:{server.port}/team.toml"
    done = run_cli("team", "add", url)
    assert done.returncode != 0 and "certificate is not trusted" in done.stderr
    assert not server.requests_to("/team.toml"), "nothing was read over an unverified connection"


def test_https_fetch_then_update_asks_with_the_etag_and_a_304_keeps_the_copy(tls_server, config_dir, run_cli):
    from llmswitch.store.config import load

    server, ca_file = tls_server
    _user(config_dir)
    _serve_with_etag(server, GOOD)
    url = f"https://127.0.0.1:{server.port}/team.toml"
    env = {"SSL_CERT_FILE": ca_file}
    done = run_cli("team", "add", url, env=env)
    assert done.returncode == 0, done.stderr
    assert load().providers["corp-gw"].origin == url
    again = run_cli("team", "update", env=env)
    assert again.returncode == 0 and "unchanged (304 Not Modified)" in again.stdout
    sent = server.requests_to("/team.toml")[-1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert "corp-gw" in load().providers
    shown = json.loads(run_cli("team", "show", "--json").stdout)
    assert shown["source"] == url and shown["intact"] and shown["age_seconds"] < 60


def test_at_a_terminal_each_env_var_and_plain_http_url_is_asked_and_no_is_the_default(tmp_path, config_dir):
    import os

    import pexpect
    from runcli import cli_command

    from llmswitch.store.config import load

    _user(config_dir)
    body = ('[providers.corp-a]\nbase_url = "https://a.example/v1"\nkey_source = "env:CORP_A_KEY"\n'
            '[providers.corp-b]\nbase_url = "https://b.example/v1"\nkey_source = "env:CORP_B_KEY"\n'
            '[providers.lan]\nbase_url = "http://10.1.2.3:4000/v1"\n')
    argv = cli_command()
    child = pexpect.spawn(argv[0], [*argv[1:], "team", "add", str(_team_file(tmp_path, body))], env=dict(os.environ),
                          encoding="utf-8", timeout=30)
    child.expect(r"read \$CORP_A_KEY\? \[y/N\] ")
    child.sendline("y")
    child.expect(r"read \$CORP_B_KEY\? \[y/N\] ")
    child.sendline("")
    child.expect(r"use lan anyway\? \[y/N\] ")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    config = load()
    assert config.providers["corp-a"].key_env == ("CORP_A_KEY",) and config.providers["corp-b"].key_env == ()
    assert config.providers["corp-b"].key_source == "keyring", "declined: its key is yours to set (key set corp-b)"
    assert "lan" not in config.providers

"""Issue 14 polish on the command line: names said once, yes/no, local servers, how to raise a timeout."""

from __future__ import annotations

from upstreams import Reply


def test_add_says_the_name_only_when_it_differs(run_cli):
    plain = run_cli("providers", "add", "f1", "--base-url", "http://127.0.0.1:9/v1")
    assert "added f1 → http://127.0.0.1:9/v1" in plain.stdout, plain.stdout
    named = run_cli("providers", "add", "f2", "--base-url", "http://127.0.0.1:9/v1", "--name", "Box")
    assert "added f2 (Box) →" in named.stdout


def test_show_says_yes_and_no_and_a_loopback_server_is_local(run_cli):
    run_cli("providers", "add", "f1", "--base-url", "http://127.0.0.1:9/v1")
    shown = run_cli("providers", "show", "f1").stdout
    fields = dict(line.split(None, 1) for line in shown.splitlines() if len(line.split(None, 1)) == 2)
    assert fields["local"] == "yes" and fields["configured"] == "yes" and fields["key_required"] == "no", shown
    assert "True" not in shown and "False" not in shown


def test_a_timeout_says_how_to_raise_it(upstream, config_dir, run_cli):
    server = upstream()
    server.get("/v1/models", Reply(hang=True))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.slow]\nbase_url = "{server.url}/v1"\ntimeout = 1\n')
    done = run_cli("probe", "slow")
    assert "timeout = 30 under [providers.slow] in config.toml" in done.stdout, done.stdout

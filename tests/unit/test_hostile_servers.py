"""Hostile JSON from a server is never a traceback (issue 20): every server-facing parser, through the real CLI,
against real servers on 127.0.0.1 — the probe's ``/models``, a LiteLLM proxy's ``/model/info`` and ``/key/info``,
OpenRouter's ``/models`` and ``/key``, and a team file over https — each fed nested, huge and NaN bodies.

Each answer goes through the one bounded decoder (llmswitch.base.bounded); what it refuses is said by name.
"""

from __future__ import annotations

import pytest

from upstreams import (
    FAKE_KEY,
    Reply,
    litellm_gateway_like,
    litellm_model_info,
    openrouter_full_like,
    tls_upstream,
)

BODIES = {
    "nested 100 000 deep": (b'{"object": "list", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                            "nests deeper than 64 levels"),
    "NaN": (b'{"object": "list", "data": [{"id": "m", "model_name": "m", "context_length": NaN}]}', "holds NaN"),
    "-Infinity": (b'{"object": "list", "data": [{"id": "m", "model_name": "m", "spend": -Infinity}]}',
                  "holds -Infinity"),
    "1e999": (b'{"object": "list", "data": [{"id": "m", "model_name": "m", "limit": 1e999}]}', "out of range"),
    "a 40-digit integer": (b'{"data": [{"id": "m", "model_name": "m", "max_budget": ' + b"9" * 40 + b"}]}",
                           "an integer of 40 digits"),
    "over 8 MiB": (b'{"data": [' + b" " * (8 * 2**20 + 10) + b"]}", "8 MiB"),
    "not UTF-8": (b'{"data": [{"id": "\xff\xfe", "model_name": "\xff"}]}', None),
}


def _body(name: str) -> Reply:
    return Reply(body=BODIES[name][0], headers={"content-type": "application/json"})


def _clean(done) -> str:
    said = done.stdout + done.stderr
    assert "Traceback" not in said and "Error:" not in said.replace("llmswitch:", ""), said[-2000:]
    return said


def _config(config_dir, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


@pytest.mark.parametrize("body", list(BODIES))
def test_the_probe_reads_models_through_the_bounded_decoder(body, upstream, config_dir, run_cli):
    server = upstream()
    server.get("/v1/models", _body(body))
    _config(config_dir, f'[providers.p]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    said = _clean(run_cli("probe", "p"))
    words = BODIES[body][1]
    if words and body != "over 8 MiB":
        assert "JSON llmswitch refuses: it " in said and words in said, said
    elif body == "over 8 MiB":
        assert "answer too large (over 8 MiB)" in said, said


def _litellm(upstream, config_dir, run_cli):
    server = litellm_gateway_like(upstream(), entries=[litellm_model_info("m", "openai/gpt-4o")],
                                  key_info={"max_budget": 100.0, "spend": 10.0, "budget_duration": "30d"})
    _config(config_dir, f'[providers.gw]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    env = {"LLMSWITCH_KEY_GW": FAKE_KEY}
    assert run_cli("probe", "gw", env=env).returncode == 0
    return server, env


def _openrouter(upstream, config_dir, run_cli):
    server = openrouter_full_like(upstream(), models=[{"id": "a/b", "context_length": 1000}],
                                  key_data={"limit": 10.0, "limit_remaining": 5.0})
    _config(config_dir, f'[providers.or]\npreset = "openrouter"\nbase_url = "{server.url}/api/v1"\n')
    env = {"LLMSWITCH_KEY_OR": FAKE_KEY}
    assert run_cli("probe", "or", env=env).returncode == 0
    return server, env


# surface → (set the server up and probe it, the routes to make hostile, the commands that parse them)
SURFACES = {
    "LiteLLM /model/info": (_litellm, ("/model/info", "/v1/model/info"), (("list", "gw"), ("doctor",))),
    "LiteLLM /key/info": (_litellm, ("/key/info",), (("doctor",),)),
    "OpenRouter /models": (_openrouter, ("/api/v1/models",), (("list", "or"), ("doctor",))),
    "OpenRouter /key": (_openrouter, ("/api/v1/key",), (("doctor",),)),
}


@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("surface", list(SURFACES))
def test_gateway_answers_go_through_the_bounded_decoder(surface, body, upstream, config_dir, run_cli):
    setup, routes, commands = SURFACES[surface]
    server, env = setup(upstream, config_dir, run_cli)
    for route in routes:
        server.get(route, _body(body))
    for args in commands:
        done = run_cli(*args, env=env)
        said = _clean(done)
        words = BODIES[body][1]
        if words:
            assert words in said, (args, said[-1500:])
        assert done.stderr.count("\n") <= 3 or args == ("doctor",), done.stderr  # a sentence, not a dump


TEAM_BODIES = {
    "nested arrays": ('[providers.x]\nbase_url = "https://x.example/v1"\nkey_source = "none"\nextra = '
                      + "[" * 3000 + "]" * 3000 + "\n", "nests deeper than 64 levels"),
    "nested inline tables": ('[providers.x]\nbase_url = "https://x.example/v1"\nheaders = '
                             + "{a = " * 100 + "1" + "}" * 100 + "\n", "nests deeper than 64 levels"),
    "nan": ('[providers.x]\nbase_url = "https://x.example/v1"\ntimeout = nan\n', "holds nan"),
    "inf": ('[providers.x]\nbase_url = "https://x.example/v1"\ntimeout = inf\n', "holds inf"),
    "over 1 MiB": ("#" * (2**20 + 1), "over 1024 KiB"),
}


@pytest.fixture
def tls_server(tmp_path):
    server, ca_file = tls_upstream(tmp_path)
    yield server, ca_file
    server.stop()


@pytest.mark.parametrize("body", list(TEAM_BODIES))
def test_a_team_file_over_https_is_decoded_within_bounds(body, tls_server, config_dir, run_cli):
    server, ca_file = tls_server
    _config(config_dir, "")
    server.get("/team.toml", Reply.text(TEAM_BODIES[body][0], content_type="application/toml"))
    done = run_cli("team", "add", f"https://127.0.0.1:{server.port}/team.toml", env={"SSL_CERT_FILE": ca_file})
    said = _clean(done)
    assert done.returncode != 0 and TEAM_BODIES[body][1] in said and len(done.stderr.splitlines()) == 1, said

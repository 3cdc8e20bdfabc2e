"""``llmswitch relay`` as a user runs it: its own process, ``relay status`` while it runs, and a long-running
client process whose next request follows ``llmswitch use`` in another terminal within a second."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
from relayhelp import openai_routes, provider_toml, write_config
from runcli import cli_command

CLIENT = textwrap.dedent("""
    import sys, time, openai
    client = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
    end, until, since = time.monotonic() + 30, sys.argv[3], None  # until: served by it for 1.5 s
    while time.monotonic() < end and (since is None or time.monotonic() - since < 1.5):
        raw = client.chat.completions.with_raw_response.create(model="default", messages=[{"role": "user", "content": "x"}])
        served = raw.headers['x-llmswitch-served-by']
        print(f"{time.time():.3f} {served} {raw.parse().choices[0].message.content}", flush=True)
        since = since or (time.monotonic() if served == until else None)
        time.sleep(0.05)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay_process(upstream, config_dir, run_cli):
    alpha = openai_routes(upstream(), None, text="from alpha")
    beta = openai_routes(upstream(), None, text="from beta")
    write_config(config_dir, provider_toml("alpha", alpha.url + "/v1") + provider_toml("beta", beta.url + "/v1"))
    assert run_cli("use", "alpha/m1").returncode == 0
    port = _free_port()
    process = subprocess.Popen([*cli_command(), "relay", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 20
    while json.loads(run_cli("relay", "status", "--json").stdout)["running"] is not True:
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    yield port, process
    process.terminate()
    process.wait(timeout=10)


def test_status_says_where_it_runs_and_a_stopped_relay_says_how_to_start_it(relay_process, run_cli):
    port, process = relay_process
    running = run_cli("relay", "status")
    assert running.returncode == 0 and f"relay: running at http://127.0.0.1:{port} (pid {process.pid}" in running.stdout
    assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401  # its log line is written by a thread
    process.terminate()
    process.wait(timeout=10)
    stopped = run_cli("relay", "status")
    assert stopped.returncode == 1 and f"not running — start it: llmswitch relay --port {port}" in stopped.stdout
    _, err = process.communicate()
    assert f"listening on http://127.0.0.1:{port}" in err and "Traceback" not in err
    assert "relay: GET /v1/models 401" in err  # written before the signal ended the process


def test_a_running_client_follows_a_switch_made_elsewhere_within_a_second(relay_process, run_cli):
    port, process = relay_process
    token = run_cli("relay", "token").stdout.strip()
    client = subprocess.Popen([sys.executable, "-c", CLIENT, f"http://127.0.0.1:{port}/v1", token, "beta/b1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert client.stdout is not None
    first = client.stdout.readline()  # the client runs and has been served once
    switched_at = time.time()
    assert run_cli("use", "beta/b1").returncode == 0
    done_at = time.time()
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err
    lines = [line.split(" ", 2) for line in (first + out).splitlines()]
    assert lines[0][1:] == ["alpha/m1", "from alpha"]
    after = [float(at) for at, served, _ in lines if served == "beta/b1"]
    assert after and min(after) - done_at < 1.0, (switched_at, done_at, out)
    assert all(served == "beta/b1" for at, served, _ in lines if float(at) > done_at + 1.0)


def test_a_port_in_use_is_one_sentence_naming_another(run_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("relay", "--port", str(port), timeout=30)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"the relay cannot listen on 127.0.0.1:{port}" in done.stderr and f"--port {port + 1}" in done.stderr

"""Relay overhead benchmark: a request through ``llmswitch relay`` costs about what it costs direct.

A fake upstream in its own process answers ``POST /v1/chat/completions`` after 50 ms (a plain
answer, or server-sent events whose first event comes after 50 ms). The relay runs as a user
runs it (``llmswitch relay --port N``, its own process, a provider whose key comes from an env var).
Direct and relayed requests alternate in one loop from one client:

* ``relay-latency``: median of 200 non-streaming requests, relayed ÷ direct ≤ 1.05;
* ``relay-first-byte``: p95 time to the first streamed byte, relayed − direct ≤ 3 ms.

    python benchmarks/bench_relay.py          # one line per scenario; exits 1 when one fails

``run() -> list[dict]`` returns the same facts for a collecting script. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "support"), str(ROOT / "tui")]

from upstreams import FakeUpstream, chat_completions  # noqa: E402

DELAY = 0.05
ROUNDS = 200
WARMUP = 10
LATENCY_TARGET = 1.05
FIRST_BYTE_TARGET_MS = 3.0
BENCH_KEY = "sk-test-bench-key-0001"
TOKEN_HEADER = "authorization"


def _serve(conn) -> None:  # type: ignore[no-untyped-def]
    """Child process: the upstream, answering after DELAY, until told to stop."""
    server = FakeUpstream().start()
    server.post("/v1/chat/completions", chat_completions(first_token_delay=DELAY, key=BENCH_KEY))
    conn.send(server.url)
    conn.recv()
    server.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _World:
    """The upstream process, a throw-away llmswitch home, and ``llmswitch relay`` running against it."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._upstream = ctx.Process(target=_serve, args=(child,), daemon=True)
        self._upstream.start()
        self.upstream: str = self._conn.recv()
        self._home = tempfile.TemporaryDirectory(prefix="bench-relay-")
        home = Path(self._home.name)
        self.env = {**os.environ, "LLMSWITCH_CONFIG_DIR": str(home / "config"), "LLMSWITCH_STATE_DIR": str(home / "state"),
                    "LLMSWITCH_CACHE_DIR": str(home / "cache"), "BENCH_KEY": BENCH_KEY,
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "tui"), os.environ.get("PYTHONPATH", "")])}
        self.env.pop("LLMSWITCH_USE", None)
        config = home / "config"
        config.mkdir(mode=0o700)
        (config / "config.toml").write_text(f'[providers.bench]\nbase_url = "{self.upstream}/v1"\n'
                                            'key_source = "env:BENCH_KEY"\n')
        os.chmod(config / "config.toml", 0o600)
        cli = [sys.executable, "-m", "llmswitch"]
        relay_cli = [sys.executable, *os.environ.get("BENCH_RELAY_PYFLAGS", "").split(), "-m", "llmswitch"]
        subprocess.run([*cli, "use", "bench/bench-model"], env=self.env, check=True, capture_output=True)
        self.token = subprocess.run([*cli, "relay", "token"], env=self.env, check=True, capture_output=True,
                                    text=True).stdout.strip()
        self.port = _free_port()
        self._log = open(os.environ.get("BENCH_RELAY_LOG", os.devnull), "w")  # noqa: SIM115 - closed in close()
        self._relay = subprocess.Popen([*relay_cli, "relay", "--port", str(self.port)], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self._relay.poll() is not None:
                    self.close()
                    raise RuntimeError("the relay did not start") from None
                time.sleep(0.05)
        self.relay = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._relay.terminate()
        try:
            self._relay.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._relay.kill()
        self._log.close()
        self._conn.send("stop")
        self._upstream.join(timeout=10)
        self._home.cleanup()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Milliseconds per request: direct and relayed, plain and first streamed byte, alternating."""
    import httpx

    world = _World()
    times: dict[str, list[float]] = {"direct": [], "relay": [], "direct-first": [], "relay-first": []}
    try:
        direct = (world.upstream + "/v1/chat/completions", {TOKEN_HEADER: f"Bearer {BENCH_KEY}"}, "bench-model")
        relayed = (world.relay + "/v1/chat/completions", {TOKEN_HEADER: f"Bearer {world.token}"}, "default")
        with httpx.Client(timeout=30) as client:
            for n in range(WARMUP + rounds):
                for name, (url, headers, model) in (("direct", direct), ("relay", relayed)):
                    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
                    started = time.perf_counter()
                    answer = client.post(url, headers=headers, json=body)
                    took = (time.perf_counter() - started) * 1000
                    assert answer.status_code == 200, answer.text
                    started = time.perf_counter()
                    with client.stream("POST", url, headers=headers, json={**body, "stream": True}) as streamed:
                        pieces = streamed.iter_raw()
                        first = next(pieces)
                        first_took = (time.perf_counter() - started) * 1000
                        assert first and streamed.status_code == 200
                        for _ in pieces:
                            pass
                    if n >= WARMUP:
                        times[name].append(took)
                        times[f"{name}-first"].append(first_took)
    finally:
        world.close()
    return times


def run(rounds: int = ROUNDS) -> list[dict[str, object]]:
    times = measure(rounds)
    direct, relay = statistics.median(times["direct"]), statistics.median(times["relay"])
    ratio = relay / direct
    first_direct, first_relay = _percentile(times["direct-first"], 0.95), _percentile(times["relay-first"], 0.95)
    extra = first_relay - first_direct
    return [
        {"name": "relay-latency", "target": f"≤ {LATENCY_TARGET:.2f}× direct (median of {rounds})",
         "measured": f"{ratio:.3f}×", "passed": ratio <= LATENCY_TARGET,
         "detail": f"direct {direct:.1f} ms, through the relay {relay:.1f} ms (upstream answers in {DELAY * 1000:.0f} ms)"},
        {"name": "relay-first-byte", "target": f"≤ direct + {FIRST_BYTE_TARGET_MS:.0f} ms (p95 of {rounds})",
         "measured": f"+{extra:.2f} ms", "passed": extra <= FIRST_BYTE_TARGET_MS,
         "detail": f"p95 first streamed byte: direct {first_direct:.1f} ms, through the relay {first_relay:.1f} ms"},
    ]


if __name__ == "__main__":
    rows = run(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
    for row in rows:
        print(f"{row['name']:<18} {row['measured']:>10}  target {row['target']}  "
              f"{'pass' if row['passed'] else 'FAIL'}  ({row['detail']})")
    sys.exit(0 if all(row["passed"] for row in rows) else 1)

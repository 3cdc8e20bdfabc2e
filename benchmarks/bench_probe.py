"""Probe concurrency benchmark: many endpoints cost about as much as one.

Scenario ``concurrent-20``: 20 local servers that each answer after 200 ms.
Probing all of them is timed against probing one, in the same run,
alternating, median of several rounds; the ratio must be ≤ 1.15.

Scenario ``concurrent-20-keyed``: the same with a key sent to servers that check it
(401 without it), so each probe also asks once without the key to verify it
("ok" means verified) — the case a hosted provider or a gateway is, not only a
keyless local server. Same ratio target; every result must be ``ok``. The warm-up,
remembered as the CLI remembers it, saw each server refuse the keyless request, so the
rounds are re-probes within the hour that skip it ("GET /models refused requests without
it (seen just now)", ``llmswitch.store.state.models_guarded``); a first probe of a URL, or
``--deep``, still sends it alongside the keyed one.

Scenario ``one-hung-of-20``: the same, but one server never answers and has a
2 s timeout. The whole run should take about that timeout (≤ 1.25×), and the
19 others should be reported on time (each within 1.5× of the single probe).

    python benchmarks/bench_probe.py          # one line per scenario; exits 1 when one fails

``run() -> list[dict]`` returns the same facts for a collecting script.
Only 127.0.0.1 is contacted. The warm-up probe of each server also takes its protocol fingerprint, kept as
the CLI keeps it (``state.remember``, in a throw-away state dir): the rounds are plain probes, which show
the kept fingerprint instead of asking again.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tui")]

from llmswitch.net.probe import ProbeTarget, probe_all  # noqa: E402
from upstreams import FakeUpstream, Reply, bearer, models_body  # noqa: E402

SERVERS = 20
DELAY = 0.2
HANG_TIMEOUT = 2.0
ROUNDS = 5
CONCURRENT_TARGET = 1.15
HUNG_TARGET = 1.25
BENCH_KEY = "sk-test-bench-key-0001"


def _serve(n: int, hung: int | None, conn, keyed: bool = False) -> None:
    """Child process: start the servers, send their URLs, serve until told to stop."""
    servers = []
    for i in range(n):
        server = FakeUpstream().start()
        reply = Reply(hang=True) if i == hung else Reply.json(models_body([f"model-{i}"]), delay=DELAY)
        server.get("/v1/models", bearer(BENCH_KEY, reply) if keyed else reply)
        servers.append(server)
    conn.send([s.url for s in servers])
    conn.recv()
    for server in servers:
        server.stop()


class _Servers:
    """``n`` fake servers in a child process, so their threads do not share our GIL (real servers never do)."""

    def __init__(self, n: int, hung: int | None = None, keyed: bool = False) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(n, hung, child, keyed), daemon=True)
        self._process.start()
        self.urls: list[str] = self._conn.recv()

    def close(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def __enter__(self) -> _Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _targets(urls: list[str], hung: int | None = None, keyed: bool = False) -> list[ProbeTarget]:
    return [ProbeTarget(f"server{i:02d}", url + "/v1", key=BENCH_KEY if keyed else None, key_required=keyed,
                        timeout=HANG_TIMEOUT if i == hung else 10.0) for i, url in enumerate(urls)]


async def _timed(targets: list[ProbeTarget], *, keep: bool = False) -> tuple[float, list[tuple[str, str, float]]]:
    """Probe ``targets`` (seconds, results as they finished); ``keep`` remembers them as the CLI does."""
    from llmswitch.store import state

    started = time.perf_counter()
    finished = []
    async for result in probe_all(targets):
        finished.append((result.provider, str(result.outcome), time.perf_counter() - started))
        if keep:
            state.remember(result, next(t.base_url for t in targets if t.provider == result.provider))
    return time.perf_counter() - started, finished


def _concurrent(keyed: bool = False) -> dict:
    with _Servers(SERVERS, keyed=keyed) as servers:
        targets = _targets(servers.urls, keyed=keyed)
        asyncio.run(_timed(targets, keep=True))  # warm-up: imports, TLS context, connections, the fingerprint
        singles, alls, outcomes = [], [], set()
        for _ in range(ROUNDS):
            singles.append(asyncio.run(_timed(targets[:1]))[0])
            together, finished = asyncio.run(_timed(targets))
            alls.append(together)
            outcomes |= {outcome for _, outcome, _ in finished}
    single, together = statistics.median(singles), statistics.median(alls)
    ratio = together / single
    expected = {"ok"} if keyed else {"keyless"}
    what = "keyed endpoints (key verified)" if keyed else "endpoints"
    return {"name": f"probe {SERVERS} × {DELAY * 1000:.0f} ms {what} vs one",
            "target": f"≤ {CONCURRENT_TARGET}×",
            "measured": f"{ratio:.2f}× ({together * 1000:.0f} ms vs {single * 1000:.0f} ms)"
                        + ("" if outcomes == expected else f", outcomes {sorted(outcomes)}"),
            "ratio": ratio, "passed": ratio <= CONCURRENT_TARGET and outcomes == expected,
            "details": {"single_ms": round(single * 1000, 1), "all_ms": round(together * 1000, 1),
                        "rounds": ROUNDS, "outcomes": sorted(outcomes)}}


def _one_hung() -> dict:
    hung = 7
    name = f"server{hung:02d}"
    with _Servers(SERVERS, hung=hung) as servers:
        targets = _targets(servers.urls, hung=hung)
        asyncio.run(_timed(targets, keep=True))  # warm-up, as above
        single = statistics.median(asyncio.run(_timed(targets[:1]))[0] for _ in range(3))
        total, finished = asyncio.run(_timed(targets))
    others = [at for who, _, at in finished if who != name]
    hung_outcome = next(outcome for who, outcome, _ in finished if who == name)
    ratio = total / HANG_TIMEOUT
    on_time = max(others) <= single * 1.5
    return {"name": f"probe {SERVERS} with one hung ({HANG_TIMEOUT:g} s timeout) vs that timeout",
            "target": f"≤ {HUNG_TARGET}×, others on time",
            "measured": f"{ratio:.2f}× ({total:.2f} s), others by {max(others) * 1000:.0f} ms",
            "ratio": ratio, "passed": ratio <= HUNG_TARGET and on_time and hung_outcome == "timeout",
            "details": {"single_ms": round(single * 1000, 1), "hung_outcome": hung_outcome,
                        "finished": [(who, outcome, round(at * 1000, 1)) for who, outcome, at in finished]}}


def run() -> list[dict]:
    """Every scenario; each dict has name, target, measured, ratio, passed, details."""
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-") as kept:
        before = {name: os.environ.get(name) for name in ("LLMSWITCH_STATE_DIR", "LLMSWITCH_CACHE_DIR")}
        os.environ.update(LLMSWITCH_STATE_DIR=os.path.join(kept, "state"), LLMSWITCH_CACHE_DIR=os.path.join(kept, "cache"))
        try:
            return [_concurrent(), _concurrent(keyed=True), _one_hung()]
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main() -> int:
    results = run()
    for r in results:
        if "hung" in r["name"]:
            for name, outcome, at_ms in r["details"]["finished"]:
                print(f"    {name}  {outcome:<8}  finished at {at_ms:7.1f} ms")
        print(f"{r['name']}  {r['target']}  {r['measured']}  {'PASS' if r['passed'] else 'FAIL'}")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Compressed answers: decoded a piece at a time with a cap, stacked or unknown encodings refused.

Real servers on 127.0.0.1 (tests/upstreams.py) serve compression bombs; the probe's peak
memory (tracemalloc: every Python allocation, in all threads) must stay near a normal probe's.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from llmswitch.net.probe import Outcome, ProbeTarget, probe
from upstreams import MIB, Reply, chat_chunks, compressed, double_gzip_bomb, encoded, models_body, sse, zeros_compressed

GIB = 1 << 30
BOUND = 64 * MIB
"""Peak memory any probe of a hostile body may use (a normal probe's is well under 1 MiB)."""


def _target(server, **kw) -> ProbeTarget:
    kw.setdefault("key_required", False)
    return ProbeTarget("box", server.url + "/v1", timeout=20.0, **kw)


async def _peak(coro):
    tracemalloc.start()
    try:
        result = await coro
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


HOSTILE = {
    "gzip, gzip 590 B (256 MiB)": (lambda: double_gzip_bomb(256 * MIB), "gzip, gzip", "stacked content-encoding"),
    "gzip, gzip 1.8 KB (1 GiB)": (lambda: double_gzip_bomb(GIB), "gzip, gzip", "stacked content-encoding"),
    "gzip 1 GiB": (lambda: zeros_compressed(GIB, "gzip"), "gzip", "answer too large"),
    "deflate 1 GiB": (lambda: zeros_compressed(GIB, "deflate"), "deflate", "answer too large"),
    "raw deflate 1 GiB": (lambda: zeros_compressed(GIB, "raw-deflate"), "deflate", "answer too large"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_compression_bomb_costs_about_what_a_normal_probe_costs(upstream, case):
    make, encoding, said = HOSTILE[case]
    body = make()
    normal = upstream()
    normal.get("/v1/models", Reply.json(models_body(["m1", "m2"])))
    baseline, normal_peak = await _peak(probe(_target(normal)))
    assert baseline.outcome is Outcome.KEYLESS

    server = upstream()
    server.get("/v1/models", encoded(body, encoding))
    result, peak = await _peak(probe(_target(server)))
    print(f"{case}: {len(body):,} bytes sent, peak {peak / MIB:.1f} MiB (normal probe {normal_peak / MIB:.2f} MiB)")
    assert result.outcome is Outcome.NOT_OPENAI, result.sentence()
    assert said in result.summary
    assert peak < BOUND, f"{case}: peak {peak / MIB:.0f} MiB"
    assert len(server.requests) == 1  # a refused or oversized answer starts no search for other base URLs


async def test_an_error_status_with_a_bomb_body_is_bounded_too(upstream):
    server = upstream()
    server.get("/v1/models", encoded(zeros_compressed(GIB), "gzip", status=401))
    result, peak = await _peak(probe(_target(server, key="sk-test-not-a-real-key-0001")))
    assert result.outcome is Outcome.NOT_OPENAI and "answer too large" in result.summary
    assert peak < BOUND


@pytest.mark.parametrize(("header", "said"), [
    ("br", "unsupported content-encoding br"),
    ("zstd", "unsupported content-encoding zstd"),
    ("gzip, br", "stacked content-encoding gzip, br"),
    ("x-evil\x1b[31m", "unsupported content-encoding x-evil\\x1b[31m"),
])
async def test_an_encoding_we_cannot_decode_is_a_sentence_not_a_crash(upstream, header, said):
    server = upstream()
    server.get("/v1/models", encoded(b"\x8b\x00garbage", header))
    result = await probe(_target(server))
    assert result.outcome is Outcome.NOT_OPENAI
    assert result.summary == f"not OpenAI-compatible: {said}" + (" (refused)" if "stacked" in said else "")
    assert "\x1b" not in result.sentence()


async def test_a_corrupt_gzip_answer_is_named(upstream):
    server = upstream()
    server.get("/v1/models", encoded(b"\x1f\x8b\x08\x00" + b"\xff" * 40, "gzip"))
    result = await probe(_target(server))
    assert result.outcome is Outcome.NOT_OPENAI
    assert "gzip encoding is corrupt" in result.summary


@pytest.mark.parametrize(("header", "encoding"), [
    ("gzip", "gzip"), ("GZIP", "gzip"), ("x-gzip", "gzip"), ("deflate", "deflate"), ("deflate", "raw-deflate"),
    ("identity", None), ("gzip, identity", "gzip"),
])
async def test_compressed_model_lists_still_work(upstream, header, encoding):
    raw = json.dumps(models_body([f"model-{i}" for i in range(300)])).encode()
    server = upstream()
    server.get("/v1/models", encoded(compressed(raw, encoding) if encoding else raw, header))
    result = await probe(_target(server))
    assert result.outcome is Outcome.KEYLESS, result.sentence()
    assert len(result.models) == 300


async def test_the_probe_asks_only_for_encodings_it_decodes(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    await probe(_target(server, headers={"Accept-Encoding": "br, zstd"}))
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


# -- the deep check reads through the same decoder ------------------------------------------


def _deep_server(upstream, chat):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    server.post("/v1/chat/completions", chat)
    return server


async def test_deep_check_of_a_streamed_bomb_is_bounded(upstream):
    server = _deep_server(upstream, encoded(zeros_compressed(GIB), "gzip", content_type="text/event-stream"))
    result, peak = await _peak(probe(_target(server, model="m1"), deep=True))
    print(f"deep, gzip 1 GiB SSE: peak {peak / MIB:.1f} MiB")
    assert result.outcome is Outcome.CHAT_FAILED
    assert "streamed no events" in result.summary
    assert peak < BOUND


async def test_deep_check_of_a_stacked_bomb_is_refused(upstream):
    server = _deep_server(upstream, encoded(double_gzip_bomb(256 * MIB), "gzip, gzip", content_type="text/event-stream"))
    result, peak = await _peak(probe(_target(server, model="m1"), deep=True))
    assert result.outcome is Outcome.CHAT_FAILED
    assert "stacked content-encoding gzip, gzip" in result.summary
    assert peak < BOUND


async def test_deep_check_reads_a_gzipped_stream(upstream):
    events = b"".join(sse(chat_chunks("m1", "hello there")))
    server = _deep_server(upstream, encoded(compressed(events), "gzip", content_type="text/event-stream"))
    result = await probe(_target(server, model="m1"), deep=True)
    assert result.outcome is Outcome.KEYLESS and result.deep is not None and result.deep.ok, result.sentence()
    assert result.deep.reported_model == "m1"

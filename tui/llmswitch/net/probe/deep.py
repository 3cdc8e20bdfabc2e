"""``probe(..., deep=True)``: a 1-token streamed chat completion after ``/models`` answered.

Measures the time to the first token and reads the model the server says answered.
It has a time budget of its own (the target's timeout) and reads through the same
capped transport as the probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from llmswitch.base.redact import terminal_safe

from ...base.outcome import AUTH, DeepCheck, Diagnosis, Outcome, ProbeResult, ProbeTarget
from .classifier import MAX_BODY, MESSAGE_LIMIT, classify, message_of, parse_json
from .endpoints import chat_url
from .transport import Exchange, ProbeClient, Response, diagnose_error, request, request_headers
from .verify import ACCEPTS_A_WRONG_KEY, DEEP, WRONG_KEY, any_key, count_of, unverified

__all__ = ["deep_check", "with_deep_check"]


async def with_deep_check(result: ProbeResult, target: ProbeTarget, client: ProbeClient) -> ProbeResult:
    """``result`` with the chat check's verdict folded in (a failure turns it unusable).

    The chat goes to the target's model, else to the first model the server listed (said in the summary),
    so ``probe --deep P`` works on any provider, selected or not.
    """
    tail = ""
    if not target.model and result.models:
        target = replace(target, model=result.models[0])
        tail = f" · chat with {terminal_safe(target.model or '', 80)} (first listed)"
    if not target.model:
        return replace(result, summary=f"{result.summary} · chat check skipped (no model listed or selected)",
                       deep=DeepCheck(ok=False, message="chat check skipped: no model listed or selected"))
    deep, failure = await deep_check(target, client)
    if deep.ok and deep.ttft_ms is not None:
        tail += f" · first token {deep.ttft_ms:.0f} ms"
    if deep.ok and deep.message:
        tail += f" · {deep.message}"
    if deep.ok and result.outcome is Outcome.KEY_UNVERIFIED:
        return await _settle(replace(result, deep=deep), target, client, tail)
    if deep.ok:
        return replace(result, summary=result.summary + tail, deep=deep)
    if failure is not None and failure.outcome in AUTH:
        return replace(result, outcome=failure.outcome, usable=False, summary=f"chat: {failure.summary}",
                       fix=failure.fix, status_code=deep.status_code, server_message=failure.server_message,
                       deep=deep, key_verified=False if target.key is not None else None, verified_by=None)
    if target.api_kind == "azure" and deep.status_code == 404 and failure is not None:
        return _no_deployment(result, target, deep, failure)
    fix = failure.fix if failure is not None and failure.fix else "check the model name and the server's logs"
    return replace(result, outcome=Outcome.CHAT_FAILED, usable=False, summary=f"models listed, but {deep.message}",
                   fix=fix, status_code=deep.status_code if deep.status_code is not None else result.status_code,
                   server_message=failure.server_message if failure else result.server_message, deep=deep)


async def _settle(result: ProbeResult, target: ProbeTarget, client: ProbeClient, tail: str) -> ProbeResult:
    """The chat worked on a public list: does the key matter? Ask the same chat with a wrong key.

    Refused → the real key is verified (OK, ``verified_by = "deep check"``); accepted →
    the server takes any key (ANY_KEY); anything else proves nothing (still KEY_UNVERIFIED).
    """
    wrong, failure = await deep_check(replace(target, key=WRONG_KEY), client)
    listed = Diagnosis(result.outcome, result.summary, result.fix, result.models, result.server_message,
                       result.server)
    if wrong.ok:
        because = ACCEPTS_A_WRONG_KEY
        made = any_key(listed, target, because)
        return replace(result, outcome=made.outcome, usable=True, summary=made.summary + tail, fix=made.fix,
                       key_verified=False, verified_by=because)
    if failure is not None and failure.outcome in AUTH:
        return replace(result, outcome=Outcome.OK, usable=True, fix=None, key_verified=True,
                       verified_by=DEEP, summary=f"{count_of(result.models)} · key verified by a 1-token chat{tail}")
    answered = f"HTTP {wrong.status_code}" if wrong.status_code is not None else "an error"
    made = unverified(listed, target, f"chat works, but a chat with a wrong key got {answered}, so it proves nothing")
    return replace(result, summary=made.summary + tail, fix=f"look at the server's logs, then {made.fix}")


def _no_deployment(result: ProbeResult, target: ProbeTarget, deep: DeepCheck, failure: Diagnosis) -> ProbeResult:
    """Azure: the chat to the deployment found nothing — the model list names base models, not deployments."""
    name = terminal_safe(target.model or "", 80)
    return replace(result, outcome=Outcome.MODEL_MISSING, usable=False, status_code=deep.status_code,
                   summary=f"no deployment named {name} (Azure lists base models, not deployments)",
                   fix=f"deploy a model named {name} in the Azure resource, or select one of its deployment "
                       f"names: llmswitch use {target.provider}/DEPLOYMENT",
                   server_message=failure.server_message, deep=deep)


async def deep_check(target: ProbeTarget, client: ProbeClient) -> tuple[DeepCheck, Diagnosis | None]:
    """A 1-token streamed chat completion: time to first token and the model the server names."""
    if not target.model:
        return DeepCheck(ok=False, message="chat check skipped: no model selected"), None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(target.timeout, 0.0)
    headers = {**request_headers(target), "accept": "text/event-stream"}
    anthropic = target.api_kind == "anthropic"
    url = chat_url(target)
    payload: dict[str, Any] = {"model": target.model, "messages": [{"role": "user", "content": "Say OK."}],
                               "max_tokens": 1, "stream": True}

    async def ask(payload: dict[str, Any]) -> Exchange:
        started = time.perf_counter()

        async def read(response: Response, chunks: AsyncIterator[bytes]) -> DeepCheck:
            if "text/event-stream" in response.headers.get("content-type", ""):
                return await _read_stream(_lines(chunks), started, target, response.status_code)
            body = b"".join([chunk async for chunk in chunks])
            return _deep_from_json(body, started, target, response.status_code)

        return await request(client, "POST", url, headers, deadline, target, payload, read_success=read)

    exchange = await ask(payload)
    if exchange.status == 400 and b"max_tokens" in exchange.body and not anthropic:
        payload = {**payload, "max_completion_tokens": 1}  # newer OpenAI models refuse max_tokens
        del payload["max_tokens"]
        exchange = await ask(payload)
    if exchange.answer is not None:
        return exchange.answer, None
    if exchange.error is not None:
        failure = diagnose_error(exchange.error, target, url)
        return DeepCheck(ok=False, message=f"chat check failed: {failure.summary}"), failure
    failure = classify(exchange.status, exchange.headers, exchange.body, target=replace(target, model=None))
    if failure.outcome in (Outcome.NOT_FOUND, Outcome.AMBIGUOUS) and failure.server_message:
        message = f"chat failed (HTTP {exchange.status}): {failure.server_message}"
    else:
        message = f"chat failed: {failure.summary}"
    return DeepCheck(ok=False, message=terminal_safe(message, 300), status_code=exchange.status), failure


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Text lines of a byte stream (LF, CRLF or CR endings); a line over ``MAX_BODY`` bytes ends it."""
    pending = bytearray()
    async for chunk in chunks:
        *complete, rest = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        for line in complete:
            pending += line
            yield pending.decode("utf-8", "replace")
            pending = bytearray()
        pending += rest
        if len(pending) > MAX_BODY:
            return
    if pending:
        yield pending.decode("utf-8", "replace")


async def _read_stream(lines: AsyncIterator[str], started: float, target: ProbeTarget, status: int) -> DeepCheck:
    """Read SSE events until the first token (and the model name) arrive."""
    reported: str | None = None
    first_event: float | None = None
    ttft: float | None = None
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        event = parse_json(data)
        if not isinstance(event, dict):
            continue
        now = (time.perf_counter() - started) * 1000
        first_event = first_event if first_event is not None else now
        if isinstance(event.get("error"), dict | str):
            message = message_of(event, data, target.key) or "error in the stream"
            return DeepCheck(ok=False, message=f"chat failed mid-stream: {message}", status_code=status)
        reported = reported or _reported_model(event)
        if _has_token(event):
            ttft = now
        if ttft is not None and reported is not None:
            break
    if first_event is None:
        return DeepCheck(ok=False, message="chat answered 2xx but streamed no events", status_code=status)
    note = None if ttft is not None else "no token text came back in the first answer"
    return _deep_ok(ttft if ttft is not None else first_event, reported, target, status, note)


def _deep_from_json(body: bytes, started: float, target: ProbeTarget, status: int) -> DeepCheck:
    elapsed = (time.perf_counter() - started) * 1000
    data = parse_json(body.decode("utf-8", errors="replace"))
    if not isinstance(data, dict) or not ("choices" in data or "content" in data):
        return DeepCheck(ok=False, message="chat answered 2xx but not with a completion", status_code=status)
    return _deep_ok(elapsed, _reported_model(data), target, status, "the server did not stream")


def _deep_ok(ttft: float, reported: str | None, target: ProbeTarget, status: int, note: str | None) -> DeepCheck:
    notes = [note] if note else []
    if reported and target.model and reported != target.model:
        notes.append(f"answered as {reported} (asked for {terminal_safe(target.model, 80)})")
    return DeepCheck(ok=True, ttft_ms=ttft, reported_model=reported, message="; ".join(notes) or None,
                     status_code=status)


def _reported_model(event: dict[str, Any]) -> str | None:
    model = event.get("model")
    message = event.get("message")
    if not isinstance(model, str) and isinstance(message, dict):  # anthropic: message_start
        model = message.get("model")
    return terminal_safe(model, MESSAGE_LIMIT) if isinstance(model, str) and model else None


def _has_token(event: dict[str, Any]) -> bool:
    choices = event.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and any(
                    delta.get(k) for k in ("content", "reasoning_content", "reasoning", "tool_calls")):
                return True
            if choice.get("text"):
                return True
    return event.get("type") == "content_block_delta"  # anthropic

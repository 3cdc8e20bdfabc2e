"""Which wire protocols a server serves, found by requests that cannot cost money.

One request per protocol of :data:`llmswitch.base.outcome.PROTOCOLS`, all at once: an empty JSON object
(``{}``) POSTed to the route, which a real server refuses before it looks for a model (no model is named,
nothing is generated), and ``GET /v1beta/models`` for the Gemini API. A route that answers with a
validation error ("'messages' is required") serves the protocol; 404, 405 and 501 (or a body saying
"unexpected endpoint") do not; anything else — a refused key, a rate limit, a server error that names no
field, silence — is None, not known.

Checked against real servers (tests/integration/test_served_real.py): llama.cpp ``llama-server`` answers
``{}`` with 400 on chat/responses, 500 "'messages' is required" on ``/v1/messages`` and its
``count_tokens``, 501 on embeddings when started without ``--embeddings``, 404 elsewhere; a LiteLLM proxy
answers 400 "Missing required parameter" on all five POST routes and 404 on ``/v1beta/models``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from llmswitch.base import urls

from ...base.outcome import PROTOCOLS, ProbeTarget
from .classifier import message_of, parse_json, says_not_found
from .transport import ProbeClient, request, request_headers

__all__ = ["ROUTES", "fingerprint_protocols", "gemini_models_url", "verdict"]

ROUTES = {"chat": "/chat/completions", "responses": "/responses", "messages": "/v1/messages",
          "count_tokens": "/v1/messages/count_tokens", "embeddings": "/embeddings"}
"""The POST routes, where the tools that speak them send them: OpenAI's under ``base_url`` (what an OpenAI
client appends), Anthropic's under the API root (Claude Code appends ``/v1/messages`` to a base URL without
``/v1``: :func:`llmswitch.base.urls.api_root`); ``gemini`` is asked at :func:`gemini_models_url`."""
_ABOUT_A_FIELD = re.compile(r"required|missing|must (?:be|have|provide|contain)|invalid|expected|field|parameter")
_ABOUT_A_MODEL = re.compile(r"\bmodel\b")


def gemini_models_url(base_url: str) -> str:
    """``GET …/v1beta/models`` at the API's root: ``https://h/v1beta/openai`` and ``http://h:4000/v1`` → ``…/v1beta/models``."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    for tail in ("/openai", "/v1beta", "/v1"):
        path = path[: -len(tail)] if path.endswith(tail) else path
    return urlunsplit((parts.scheme, parts.netloc, path + "/v1beta/models", "", ""))


def verdict(protocol: str, status: int | None, body: bytes) -> bool | None:
    """What one answer says: served (True), not served (False), or not known (None)."""
    if status is None:
        return None
    text = body[:65536].decode("utf-8", "replace")
    data = parse_json(text)
    message = (message_of(data, text, None) or "").lower()
    not_found = says_not_found(message) and not _ABOUT_A_MODEL.search(message)
    if protocol == "gemini":
        if not_found and status < 500:
            return False
        if 200 <= status < 300:
            return True if isinstance(data, dict) and isinstance(data.get("models"), list) else None
        return False if status in (404, 405) else None
    if status in (405, 501):
        return False
    if status == 404:
        return bool(_ABOUT_A_MODEL.search(message))  # "model '' not found": the route is there, the model is not
    if not_found and status < 500:
        return False  # "unexpected endpoint" (LM Studio), "Invalid URL" (OpenAI) with a 200 or a 400
    if status in (400, 422):
        return True
    if 200 <= status < 300:
        return True if isinstance(data, dict) and "error" not in data else None
    if status == 500 and message and _ABOUT_A_FIELD.search(message):
        return True  # llama-server: 500 "'messages' is required" on /v1/messages
    return None


async def _ask(client: ProbeClient, protocol: str, target: ProbeTarget, deadline: float) -> bool | None:
    headers = {**request_headers(target), "content-type": "application/json"}
    if protocol == "gemini":
        if target.key:
            headers["x-goog-api-key"] = target.key  # the Gemini API's own header (same origin only: transport)
        exchange = await request(client, "GET", gemini_models_url(target.base_url), headers, deadline, target)
    else:
        if protocol in ("messages", "count_tokens"):
            headers.setdefault("anthropic-version", urls.ANTHROPIC_VERSION)
        base = urls.api_root(target.base_url) if protocol in ("messages", "count_tokens") else target.base_url
        exchange = await request(client, "POST", urls.join(base, ROUTES[protocol]), headers, deadline, target, {})
    if exchange.error is not None:
        return None
    return verdict(protocol, exchange.status, exchange.body)


async def fingerprint_protocols(target: ProbeTarget, client: ProbeClient,
                                deadline: float) -> dict[str, bool | None]:
    """Every protocol of :data:`PROTOCOLS` → served / not / None, asked concurrently. Never raises.

    Azure's routes are per deployment and API version: nothing is asked there (all None).
    """
    if target.api_kind == "azure":
        return dict.fromkeys(PROTOCOLS)

    async def one(protocol: str) -> bool | None:
        try:
            return await _ask(client, protocol, target, deadline)
        except asyncio.CancelledError:
            raise
        except Exception:
            return None

    found: list[Any] = await asyncio.gather(*(one(p) for p in PROTOCOLS))
    return dict(zip(PROTOCOLS, found, strict=True))

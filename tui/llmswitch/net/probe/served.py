"""The context window a server really serves, read from what the server says about itself.

* any ``/models`` entry (:func:`from_listing`, no request): llama.cpp's ``meta.n_ctx`` (served) and
  ``meta.n_ctx_train`` (the model's training context), vLLM's ``max_model_len``, a LiteLLM proxy's
  ``max_input_tokens``, and ``context_length`` / ``context_window`` wherever an entry carries them;
* llama.cpp ``llama-server`` without ``meta.n_ctx`` (older builds): ``GET /props``,
  ``default_generation_settings.n_ctx`` — the context it was started with (``--ctx-size``);
* Ollama: ``GET /api/ps`` (``context_length`` of each loaded model) and ``POST /api/show`` for the selected
  model and the first few listed (``model_info["<arch>.context_length"]``, the model's own context, and the
  ``num_ctx`` parameter of its Modelfile, what it is served with when not loaded);
* LM Studio: ``GET /api/v0/models`` (``loaded_context_length`` of a loaded model, ``max_context_length``).

Every read goes through the probe's transport (bounded, deadlined, the key to the configured origin
only), asks nothing that runs a model, and never raises: what a server does not say stays None.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from llmswitch.base import urls

from ...base.outcome import ProbeResult, ProbeTarget, ServedContext
from .classifier import parse_json
from .fingerprints import LITELLM, LLAMACPP, LM_STUDIO, OLLAMA, VLLM
from .transport import ProbeClient, request, request_headers

__all__ = ["MAX_TOKENS", "SHOWN_MODELS", "from_listing", "merge", "read_served", "tokens", "with_served"]

MAX_TOKENS = 100_000_000
"""A context above this is taken for garbage."""
SHOWN_MODELS = 8
"""Ollama: models asked with ``/api/show`` per probe (the selected one first), one request each."""
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.M)


def tokens(value: Any) -> int | None:
    """A context size a server gave, or None when it is not a plausible positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TOKENS:
        return None
    return int(value)


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(data: Any) -> list[dict[str, Any]]:
    items = data.get("data") if isinstance(data, dict) else None
    return [i for i in items[:10_000] if isinstance(i, dict)] if isinstance(items, list) else []


_LISTED_SERVED = (("max_model_len", VLLM), ("max_input_tokens", LITELLM), ("context_length", None),
                  ("context_window", None))
"""``/models`` entry fields that say the context a model is served with, and whose name they carry."""


def from_listing(data: Any, server: str | None) -> tuple[ServedContext, ...]:
    """What a ``/models`` answer says about each model's context; no request. Hostile input: every value checked."""
    found: list[ServedContext] = []
    for item in _items(data):
        model = item.get("id")
        if not isinstance(model, str) or not model:
            continue
        meta = _table(item.get("meta"))
        served = tokens(meta.get("n_ctx"))
        served_source = f"{LLAMACPP} /models meta.n_ctx" if served else None
        for field, who in _LISTED_SERVED:
            if served is None and (value := tokens(item.get(field))) is not None:
                served, served_source = value, f"{who or server or 'server'} /models {field}"
        model_max = tokens(meta.get("n_ctx_train"))
        if served is not None or model_max is not None:
            found.append(ServedContext(model, served, served_source, model_max,
                                       f"{LLAMACPP} /models meta.n_ctx_train" if model_max else None))
    return tuple(found)


def merge(first: Iterable[ServedContext], more: Iterable[ServedContext]) -> tuple[ServedContext, ...]:
    """Per model, ``first``'s values, ``more``'s where ``first`` said nothing; the order of first appearance."""
    out: dict[str, ServedContext] = {}
    for ctx in [*first, *more]:
        had = out.get(ctx.model)
        if had is None:
            out[ctx.model] = ctx
            continue
        if had.served is None and ctx.served is not None:
            had = replace(had, served=ctx.served, served_source=ctx.served_source)
        if had.model_max is None and ctx.model_max is not None:
            had = replace(had, model_max=ctx.model_max, model_max_source=ctx.model_max_source)
        out[ctx.model] = had
    return tuple(out.values())


async def _get_json(client: ProbeClient, method: str, url: str, target: ProbeTarget, deadline: float,
                    body: Any = None) -> Any:
    """A 2xx answer's JSON, else None (any failure, any other status)."""
    exchange = await request(client, method, url, request_headers(target), deadline, target, body)
    if exchange.error is not None or exchange.status is None or not 200 <= exchange.status < 300:
        return None
    return parse_json(exchange.body.decode("utf-8", "replace"))


async def _llamacpp(client: ProbeClient, target: ProbeTarget, deadline: float,
                    models: tuple[str, ...]) -> list[ServedContext]:
    data = await _get_json(client, "GET", urls.api_root(target.base_url) + "/props", target, deadline)
    settings = data.get("default_generation_settings") if isinstance(data, dict) else None
    n_ctx = tokens(settings.get("n_ctx")) if isinstance(settings, dict) else None
    if n_ctx is None:
        return []
    alias = data.get("model_alias") if isinstance(data, dict) else None
    # one server, one model (a router serves several: then only the one /props names)
    named = [alias] if isinstance(alias, str) and alias in models else list(models[:1]) if len(models) == 1 else []
    return [ServedContext(m, n_ctx, f"{LLAMACPP} /props n_ctx") for m in named]


async def _ollama(client: ProbeClient, target: ProbeTarget, deadline: float,
                  models: tuple[str, ...]) -> list[ServedContext]:
    root = urls.api_root(target.base_url)
    asked = list(dict.fromkeys([*([target.model] if target.model in models else []), *models]))[:SHOWN_MODELS]
    ps, *shown = await asyncio.gather(
        _get_json(client, "GET", root + "/api/ps", target, deadline),
        *(_get_json(client, "POST", root + "/api/show", target, deadline, {"model": m}) for m in asked))
    found: list[ServedContext] = []
    running = ps.get("models") if isinstance(ps, dict) else None
    for item in running if isinstance(running, list) else []:
        name = item.get("model") or item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and (ctx := tokens(item.get("context_length"))) is not None:
            found.append(ServedContext(name, ctx, f"{OLLAMA} /api/ps context_length (loaded)"))
    for model, data in zip(asked, shown, strict=True):
        if not isinstance(data, dict):
            continue
        info = _table(data.get("model_info"))
        arch = info.get("general.architecture")
        own = tokens(info.get(f"{arch}.context_length")) if isinstance(arch, str) else None
        params = data.get("parameters")
        match = _NUM_CTX.search(params) if isinstance(params, str) else None
        num_ctx = tokens(int(match.group(1))) if match else None
        if own is not None or num_ctx is not None:
            found.append(ServedContext(model, num_ctx, f"{OLLAMA} /api/show num_ctx" if num_ctx else None,
                                       own, f"{OLLAMA} /api/show model_info {arch}.context_length" if own else None))
    return found


async def _lm_studio(client: ProbeClient, target: ProbeTarget, deadline: float,
                     models: tuple[str, ...]) -> list[ServedContext]:
    data = await _get_json(client, "GET", urls.api_root(target.base_url) + "/api/v0/models", target, deadline)
    found: list[ServedContext] = []
    for item in _items(data):
        model = item.get("id")
        if not isinstance(model, str):
            continue
        loaded = tokens(item.get("loaded_context_length"))
        most = tokens(item.get("max_context_length"))
        if loaded is not None or most is not None:
            found.append(ServedContext(model, loaded, f"{LM_STUDIO} /api/v0/models loaded_context_length"
                                       if loaded else None, most,
                                       f"{LM_STUDIO} /api/v0/models max_context_length" if most else None))
    return found


_READERS = {LLAMACPP: _llamacpp, OLLAMA: _ollama, LM_STUDIO: _lm_studio}
"""Servers with a route of their own that says more than ``/models``."""


async def read_served(result: ProbeResult, target: ProbeTarget, client: ProbeClient,
                      deadline: float) -> ProbeResult:
    """``result`` with what the server's own routes add to the contexts its listing named. Never raises."""
    reader = _READERS.get(result.server or "")
    if reader is None or not result.models:
        return result
    known = {c.model for c in result.served if c.served is not None}
    if result.server == LLAMACPP and all(m in known for m in result.models):
        return result  # /models said it already (meta.n_ctx)
    try:
        more = await reader(client, target, deadline, result.models)
    except asyncio.CancelledError:
        raise
    except Exception:  # a server's odd answer costs its context, never the probe
        return result
    return replace(result, served=merge(result.served, more))



async def with_served(result: ProbeResult, target: ProbeTarget, client: ProbeClient, *,
                      fingerprint: bool = False) -> ProbeResult:
    """``result`` with the served contexts and the protocol fingerprint. Never raises, except cancellation.

    The fingerprint is taken when ``fingerprint`` asks for it or no fresh one is kept for this base URL
    (:func:`llmswitch.store.served.fingerprint_due`): the first probe of a URL takes it, later plain probes
    show the kept one. Both reads run at once, with a time budget of their own (the target's timeout).
    """
    from llmswitch.store import served as kept

    from .protocols import fingerprint_protocols

    deadline = asyncio.get_running_loop().time() + max(target.timeout, 0.0)
    known = None if fingerprint else kept.fingerprint(target.provider, target.base_url)
    if known is not None and known.fresh:  # the plain probe's path: no request, the kept answer
        enriched = await read_served(result, target, client, deadline)
        return replace(enriched, protocols=known.protocols, protocols_checked=known.checked.isoformat())
    taken = datetime.now(UTC).replace(microsecond=0).isoformat()
    enriched, found = await asyncio.gather(read_served(result, target, client, deadline),
                                           fingerprint_protocols(target, client, deadline))
    return replace(enriched, protocols=found, protocols_checked=taken)

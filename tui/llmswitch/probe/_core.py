"""Probing OpenAI-compatible endpoints: is it there, does the key work, what is it?

``probe(target)`` asks ``GET {base_url}/models`` and turns whatever happens —
an answer, an error body, a refused connection, a redirect, silence — into a
``ProbeResult`` with one ``Outcome``, a short summary, a one-sentence fix and
the (redacted) request that was sent. ``probe_all`` does many targets at once
over one ``httpx.AsyncClient`` and yields each result as it finishes.

Rules this module keeps:

* The key is only ever sent to the configured origin (scheme, host, port).
  Redirects are never followed automatically; a same-origin one is looked at
  once to diagnose it, a cross-origin one is reported and not requested.
* Auth is verified, not assumed: where ``/models`` is public, ``key_check_path``
  is asked too; a target without a key is KEYLESS or AUTH_MISSING, never OK.
* Every string taken from a response passes through ``terminal_safe`` and has
  the key scrubbed from it; bodies are read with an 8 MiB cap.
* Each target has one time budget (``timeout``) for everything: retries of
  429/5xx, the key check and the search for a better base URL. The optional
  deep check (a 1-token streamed chat completion) gets a budget of its own.
* ``probe`` never raises, except ``asyncio.CancelledError``.

No Textual here: the CLI and the app both use this module.
"""

from __future__ import annotations

import asyncio
import difflib
import email.utils
import functools
import json
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from llmswitch import urls
from llmswitch.redact import is_secret_header, redact_header, scrub, terminal_safe

from .outcome import AUTH, FOUND, NOT_THERE, USABLE, DeepCheck, Diagnosis, Outcome, ProbeResult, ProbeTarget

__all__ = [
    "DeepCheck", "Diagnosis", "Outcome", "ProbeResult", "ProbeTarget", "cancelled_result", "classify",
    "probe", "probe_all", "probe_sync", "render_json", "render_table",
]

MAX_BODY = 8 * 1024 * 1024
"""Bytes of an answer we read at most; more is NOT_OPENAI ("answer too large")."""
MAX_RETRIES = 2
"""Retries after a 429 or 5xx (so at most three attempts), all within the target's timeout."""
RETRY_AFTER_CAP = 2.0
"""Longest wait honoured from a ``Retry-After`` header, in seconds."""
BACKOFF = (0.25, 0.75)
"""Waits before the first and second retry when the server gives no ``Retry-After``."""
MESSAGE_LIMIT = 200
"""Characters of a server's message kept in a result."""
MIN_SECRET_LENGTH = 8
"""Keys shorter than this (``"ollama"``, ``"x"``) are placeholders, not secrets: scrubbing
them from text would mangle ordinary words. They are still redacted in headers."""
ANTHROPIC_VERSION = "2023-06-01"
USER_AGENT = "llmswitch-probe"


SERVER_NAMES = {
    "openai": "OpenAI", "openrouter": "OpenRouter", "groq": "Groq", "anthropic": "Anthropic",
    "litellm": "LiteLLM proxy", "ollama": "Ollama", "lm_studio": "LM Studio", "vllm": "vLLM",
    "llamacpp": "llama.cpp", "azure": "Azure OpenAI", "mistral": "Mistral", "deepseek": "DeepSeek",
    "together": "Together", "fireworks": "Fireworks", "xai": "xAI", "google": "Google Gemini",
    "gemini": "Google Gemini", "cerebras": "Cerebras", "perplexity": "Perplexity",
}
"""Preset id → the name ``fingerprint`` gives the same server."""

START_HINTS = {
    "ollama": "start it: ollama serve",
    "lm_studio": "start the server in LM Studio's Developer tab (or: lms server start)",
    "vllm": "start it: vllm serve {model}",
    "llamacpp": "start it: llama-server -m {model}",
    "litellm": "start it: litellm --config config.yaml",
}
"""Preset id → how to start that local server, for CONNECTION_REFUSED."""

PUBLIC_MODELS_KEY_CHECK = {"OpenRouter": "/key"}
"""Servers whose ``/models`` answers without a key → where to verify the key when the target names no path."""

_HOST_NAMES = (
    ("openrouter.ai", "OpenRouter"), ("api.openai.com", "OpenAI"), ("api.groq.com", "Groq"),
    ("api.anthropic.com", "Anthropic"), (".openai.azure.com", "Azure OpenAI"), ("api.mistral.ai", "Mistral"),
    ("api.deepseek.com", "DeepSeek"), ("api.together.xyz", "Together"), ("api.fireworks.ai", "Fireworks"),
    ("api.x.ai", "xAI"), ("generativelanguage.googleapis.com", "Google Gemini"), ("api.cerebras.ai", "Cerebras"),
    ("api.perplexity.ai", "Perplexity"),
)
_LITELLM_CREATED = 1677610602  # LiteLLM's DEFAULT_MODEL_CREATED_AT_TIME, on every entry of its /models
_LITELLM_ERROR_TYPES = frozenset({"no_db_connection", "auth_error", "budget_exceeded", "key_model_access_denied",
                                  "team_model_access_denied"})
_OWNED_BY_NAMES = {"library": "Ollama", "llamacpp": "llama.cpp", "vllm": "vLLM", "organization_owner": "LM Studio"}


# -- classifying one answer ---------------------------------------------------------------

_MISSING_RE = re.compile(
    r"missing (?:the )?(?:authentication|authorization|auth|api[ _-]?key|bearer|credentials?|token|key)"
    r"|didn'?t provide|did not provide|must provide (?:an? )?(?:api[ _-]?)?key|not provided"
    r"|no (?:api[ _-]?key|auth(?:entication|orization)?(?: header)?|credentials?|token|key)\b"
    r"|(?:api[ _-]?key|authorization|bearer token|credentials?)(?: header)? (?:is )?(?:required|missing)"
    r"|not authenticated|authentication required|login required")
_REJECTED_RE = re.compile(
    r"(?:invalid|incorrect|wrong|bad|unknown|expired|revoked|disabled|deactivated|malformed)"
    r"[\w .\-]{0,24}?(?:api[ _-]?key|key|token|credential|secret|bearer|password)"
    r"|(?:api[ _-]?key|token|key|credentials?)\b[\w ]{0,16}?(?:is )?(?:invalid|not valid|expired|revoked|incorrect)"
    r"|authentication (?:error|failed|failure)|auth_error|unauthori[sz]ed|user not found|invalid proxy server token"
    r"|invalid_api_key")
_DB_RE = re.compile(r"no connected db|db not connected|database (?:is )?not connected")
_QUOTA_RE = re.compile(r"insufficient[_ ]quota|exceeded your current quota|insufficient (?:credits?|balance|funds)"
                       r"|credit balance|payment required|out of credits|billing")
_NOT_FOUND_RE = re.compile(r"\bnot found\b|unexpected endpoint|no route|unknown (?:url|endpoint|path|route)"
                           r"|cannot get|404 page|no such (?:path|endpoint)|invalid url")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")
_NO_JSON = object()


def classify(status: int | None, headers: Mapping[str, str], body: bytes, *, target: ProbeTarget) -> Diagnosis:
    """Say what one answer to ``GET {base_url}/models`` means. Pure; never raises.

    ``target`` tells whether a key was sent (``target.key``), whether one is
    needed, which model is selected and the preset hint for the fingerprint.
    """
    try:
        diagnosis = _classify(status, headers, body, target)
    except Exception as exc:  # a bug here must not hide the answer; say what we could not do
        diagnosis = Diagnosis(Outcome.AMBIGUOUS, f"could not interpret the answer ({type(exc).__name__})",
                              _ambiguous_fix(target))
    return _scrub_diagnosis(diagnosis, target.key)


def _classify(status: int | None, headers: Mapping[str, str], body: bytes, target: ProbeTarget) -> Diagnosis:
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    provider = target.provider
    if len(body) > MAX_BODY:
        return Diagnosis(Outcome.NOT_OPENAI, f"answer too large (over {MAX_BODY // (1024 * 1024)} MiB)",
                         "check base_url points at an OpenAI-compatible API",
                         server=fingerprint(lowered, None, target))
    text = body.decode("utf-8", errors="replace")
    data = _parse_json(text)
    message = _message_of(data, text, target.key)
    server = fingerprint(lowered, data, target)
    key_sent = target.key is not None
    retry_after = _retry_after(lowered)

    def make(outcome: Outcome, summary: str, fix: str | None, **kw: Any) -> Diagnosis:
        return Diagnosis(outcome, summary, fix, server_message=message, server=server, retry_after=retry_after, **kw)

    if status is None:
        return make(Outcome.NOT_OPENAI, "no HTTP status in the answer", "check base_url points at an HTTP API")
    if 300 <= status < 400:
        location = terminal_safe(_scrub(lowered.get("location", ""), target.key), MESSAGE_LIMIT)
        summary = f"redirected (HTTP {status}) to {location}" if location else f"redirected (HTTP {status})"
        return make(Outcome.REDIRECTED, summary, "change base_url to the address that answers without a redirect")
    if 200 <= status < 300:
        return _classify_success(status, lowered, text, data, message, server, target)

    auth = _auth_problem(status, message, text) if 400 <= status < 500 and status != 429 else None
    if status == 401 or auth is not None:
        return _auth_diagnosis(status, auth, key_sent, target, make)
    if status == 402 or (400 <= status < 500 and _QUOTA_RE.search(_haystack(message, text))):
        return make(Outcome.NO_CREDIT, "no credit or quota left",
                    f"add credit or raise the quota for this key at {provider}, or "
                    f"run: llmswitch key set {provider} with another key")
    if status == 403:
        return make(Outcome.FORBIDDEN, "forbidden",
                    "the server refuses this key or address: check the key's permissions, region or IP allow-list")
    if status == 429:
        wait = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return make(Outcome.RATE_LIMITED, f"rate limited{wait} — the key works",
                    "wait a moment before using it; the key itself is accepted")
    if status in (404, 405, 410) or (400 <= status < 500 and message and _NOT_FOUND_RE.search(message.lower())):
        return make(Outcome.NOT_FOUND, f"not found at {_path_of(target)}" if status != 405
                    else f"{_path_of(target)} does not answer GET (HTTP 405)",
                    "check base_url; OpenAI-compatible servers usually end in /v1")
    if status == 408:
        return make(Outcome.TIMEOUT, "the server timed out the request (HTTP 408)",
                    "try again; if it persists the server is overloaded")
    if 400 <= status < 500:
        return make(Outcome.AMBIGUOUS, f"HTTP {status}: the answer names neither the key nor the path",
                    _ambiguous_fix(target))
    if 500 <= status < 600:
        local = urls.is_local(target.base_url)
        return make(Outcome.SERVER_ERROR, f"server error (HTTP {status})",
                    "look at the server's console output" if local
                    else "the provider failed; try again later or check its status page")
    return make(Outcome.NOT_OPENAI, f"unexpected HTTP status {status}", "check base_url points at an HTTP API")


def _classify_success(status: int, headers: dict[str, str], text: str, data: Any, message: str | None,
                      server: str | None, target: ProbeTarget) -> Diagnosis:
    provider = target.provider
    models = _model_list(data)
    if isinstance(models, tuple):
        count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        if target.key is None and target.key_required:
            return Diagnosis(Outcome.AUTH_MISSING, f"no key stored (the server lists {count} without one)",
                             f"run: llmswitch key set {provider}", models, message, server)
        if target.model and target.model not in models:
            close = difflib.get_close_matches(target.model, models, n=1)
            hint = f" (closest: {close[0]})" if close else ""
            return Diagnosis(Outcome.MODEL_MISSING, f"model {terminal_safe(target.model, 80)} not among {count}",
                             f"choose one of the listed models{hint}", models, message, server)
        if target.key is None:
            return Diagnosis(Outcome.KEYLESS, f"{count} · no key needed", None, models, message, server)
        return Diagnosis(Outcome.OK, count, None, models, message, server)

    content_type = headers.get("content-type", "").lower()
    stripped = text.lstrip()[:512].lower()
    if isinstance(data, dict) and "error" in data and message:
        lowered = message.lower()
        auth = _auth_problem(status, message, text)
        if auth:
            return _auth_diagnosis(status, auth, target.key is not None, target,
                                   lambda o, s, f: Diagnosis(o, s, f, server_message=message, server=server))
        if _NOT_FOUND_RE.search(lowered):
            return Diagnosis(Outcome.NOT_FOUND, f"not found at {_path_of(target)} (HTTP {status} with an error)",
                             "check base_url; OpenAI-compatible servers usually end in /v1",
                             server_message=message, server=server)
        return Diagnosis(Outcome.AMBIGUOUS, f"HTTP {status} with an error that names neither key nor path",
                         _ambiguous_fix(target), server_message=message, server=server)
    if "html" in content_type or stripped.startswith(("<!doctype html", "<html")) or "<body" in stripped:
        login = any(w in stripped or w in text[:4096].lower() for w in ("login", "log in", "sign in", "sign-in"))
        what = "a login page" if login else "an HTML page"
        fix = ("the URL is behind a sign-in (proxy or SSO); point base_url at the API itself" if login
               else "point base_url at the API, not a web page (it usually ends in /v1)")
        return Diagnosis(Outcome.NOT_OPENAI, f"{what}, not an API answer", fix, server_message=message, server=server)
    if data is _NO_JSON:
        what = "empty answer" if not text.strip() else "not JSON"
        return Diagnosis(Outcome.NOT_OPENAI, f"{what} (HTTP {status})",
                         "check base_url points at an OpenAI-compatible API", server_message=message, server=server)
    if isinstance(models, str):
        return Diagnosis(Outcome.NOT_OPENAI, f"model list has wrong types ({models})",
                         "the server is not OpenAI-compatible at this path", server_message=message, server=server)
    return Diagnosis(Outcome.NOT_OPENAI, "JSON without a model list",
                     "check base_url points at an OpenAI-compatible API (it usually ends in /v1)",
                     server_message=message, server=server)


def _auth_diagnosis(status: int, auth: str | None, key_sent: bool, target: ProbeTarget, make: Any) -> Diagnosis:
    provider = target.provider
    set_key = f"run: llmswitch key set {provider}"
    if auth == "db":
        return make(Outcome.AUTH_REJECTED, "key rejected (the proxy has no database for virtual keys)",
                    f"{set_key} with the proxy's master key, or connect a database to it")
    if auth == "missing" or not key_sent:
        if key_sent:
            header = {"azure": "api-key", "anthropic": "x-api-key"}.get(target.api_kind, "Authorization")
            return make(Outcome.AUTH_MISSING, f"the server says no key arrived (sent in {header})",
                        f"check api_kind matches the server (a proxy may strip the header), or {set_key}")
        if target.key_required:
            return make(Outcome.AUTH_MISSING, "no key stored (the server wants one)", set_key)
        return make(Outcome.AUTH_MISSING, "the server wants a key and none was sent", set_key)
    if auth == "rejected" or status == 401:
        return make(Outcome.AUTH_REJECTED, "key rejected", set_key)
    return make(Outcome.AMBIGUOUS, f"HTTP {status}: key or URL?", _ambiguous_fix(target))


def _auth_problem(status: int, message: str | None, text: str) -> str | None:
    """"missing", "rejected", "db" or None, from the words of an error answer."""
    haystack = _haystack(message, text)
    if _DB_RE.search(haystack):
        return "db"
    if _MISSING_RE.search(haystack):
        return "missing"
    if _REJECTED_RE.search(haystack):
        return "rejected"
    return None


def _haystack(message: str | None, text: str) -> str:
    return f"{message or ''} {text[:4096]}".lower()


def _ambiguous_fix(target: ProbeTarget) -> str:
    return (f"read the server's message; check both base_url and the key "
            f"(run: llmswitch key set {target.provider})")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NO_JSON


def _message_of(data: Any, text: str, key: str | None) -> str | None:
    """The server's own words: ``error.message``, ``detail``, ``message``, an HTML title, or the text."""
    found: Any = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            found = error.get("message") or error.get("msg") or error.get("code")
        elif isinstance(error, str):
            found = error
        if not found:
            detail = data.get("detail")
            if isinstance(detail, list) and detail and isinstance(detail[0], dict):
                detail = detail[0].get("msg")
            found = detail if isinstance(detail, str) else None
        if not found:
            found = next((data[k] for k in ("message", "msg", "error_description") if isinstance(data.get(k), str)),
                         None)
    elif data is _NO_JSON and text.strip():
        title = _TITLE_RE.search(text[:65536])
        found = title.group(1) if title else _TAG_RE.sub(" ", text[:2048])
    if not isinstance(found, str | int) or isinstance(found, bool):
        return None
    cleaned = " ".join(terminal_safe(_scrub(str(found), key)).split())
    return terminal_safe(cleaned, MESSAGE_LIMIT) or None


def _model_list(data: Any) -> tuple[str, ...] | str | None:
    """Model ids from an OpenAI list; a reason string when the types are wrong; None when there is no list."""
    if isinstance(data, dict):
        if "data" not in data:
            return None
        items = data["data"]
        if not isinstance(items, list):
            return f"data is {type(items).__name__}, not a list"
    elif isinstance(data, list) and data and all(isinstance(i, dict) and "id" in i for i in data):
        items = data
    else:
        return None
    ids = []
    for item in items:
        if not isinstance(item, dict):
            return f"an entry is {type(item).__name__}, not an object"
        ident = item.get("id")
        if not isinstance(ident, str) or not ident:
            return "an entry has no string id"
        ids.append(terminal_safe(ident, MESSAGE_LIMIT))
    return tuple(ids)


def fingerprint(headers: Mapping[str, str], data: Any, target: ProbeTarget) -> str | None:
    """Name the software behind an answer from its headers, host and model-list shape."""
    h = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(k.startswith("x-litellm") for k in h):
        return "LiteLLM proxy"
    host = urls.host_of(target.base_url)
    for suffix, name in _HOST_NAMES:
        if host == suffix.lstrip(".") or host.endswith(suffix if suffix.startswith(".") else "." + suffix):
            return name
    if any(k.startswith("openai-") for k in h):
        return "OpenAI"
    if "x-groq-region" in h:
        return "Groq"
    if any(k.startswith("anthropic-") for k in h):
        return "Anthropic"
    server = h.get("server", "").lower()
    if "llama.cpp" in server:
        return "llama.cpp"
    if "ollama" in server:
        return "Ollama"
    items = data.get("data") if isinstance(data, dict) else None
    if isinstance(items, list):
        owners = {i.get("owned_by") for i in items[:50] if isinstance(i, dict)}
        for owner, name in _OWNED_BY_NAMES.items():
            if owner in owners:
                return name
        if any(isinstance(i, dict) and "max_model_len" in i for i in items[:50]):
            return "vLLM"
        if any(isinstance(i, dict) and "pricing" in i and "canonical_slug" in i for i in items[:50]):
            return "OpenRouter"
        if isinstance(data, dict) and "has_more" in data and any(
                isinstance(i, dict) and i.get("type") == "model" for i in items[:50]):
            return "Anthropic"
        if items and all(isinstance(i, dict) and i.get("created") == _LITELLM_CREATED for i in items[:50]):
            return "LiteLLM proxy"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str) and "unexpected endpoint" in error.lower():
        return "LM Studio"
    if isinstance(error, dict) and error.get("type") in _LITELLM_ERROR_TYPES:
        return "LiteLLM proxy"
    return None


# -- the probe -------------------------------------------------------------------------------


@dataclass
class _Exchange:
    """One request and what came of it."""

    url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    latency_ms: float | None = None
    error: BaseException | None = None
    attempts: int = 1


async def probe(target: ProbeTarget, client: httpx.AsyncClient | None = None, *, deep: bool = False) -> ProbeResult:
    """Probe one target. Never raises, except ``asyncio.CancelledError``."""
    if client is None:
        async with new_client() as own:
            return await probe(target, own, deep=deep)
    try:
        result = await _probe(target, client)
        if deep and result.outcome in (Outcome.OK, Outcome.KEYLESS):
            result = await _with_deep_check(result, target, client)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # last resort: a result, not a traceback
        result = _result(target, Diagnosis(Outcome.AMBIGUOUS, f"probe failed unexpectedly ({type(exc).__name__})",
                                           _ambiguous_fix(target)), url=urls.safe(target.base_url))
    return _sanitise(result, target.key)




def new_client(concurrency: int = 32) -> httpx.AsyncClient:
    """The client ``probe_all`` uses: no automatic redirects, a pool sized for ``concurrency``."""
    return httpx.AsyncClient(
        follow_redirects=False,
        verify=_ssl_context(),
        limits=httpx.Limits(max_connections=max(concurrency, 10), max_keepalive_connections=max(concurrency, 10)),
        headers={"user-agent": USER_AGENT},
    )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once.

    Loading the CA bundle costs 100–300 ms; a re-probe should not pay it again.
    """
    return httpx.create_ssl_context()


async def _probe(target: ProbeTarget, client: httpx.AsyncClient) -> ProbeResult:
    refused = _check_url(target)
    if refused is not None:
        return _result(target, refused, url=urls.safe(target.base_url))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(target.timeout, 0.0)
    headers = _request_headers(target)
    url = urls.join(target.base_url, "/models")
    exchange = await _fetch_retrying(client, "GET", url, headers, deadline, target)
    diagnosis = _diagnose(exchange, target)
    suggested: str | None = None
    status = exchange.status  # of the answer that decided; the key check's when it decided

    if diagnosis.outcome is Outcome.REDIRECTED and exchange.status is not None:
        diagnosis, suggested = await _follow_redirect_once(client, exchange, headers, deadline, target, diagnosis)
    elif diagnosis.outcome is Outcome.NOT_FOUND or (
            diagnosis.outcome is Outcome.NOT_OPENAI and exchange.error is None and len(exchange.body) <= MAX_BODY):
        diagnosis, suggested = await _try_other_base_urls(client, headers, deadline, target, diagnosis)
    elif diagnosis.outcome in (Outcome.OK, Outcome.MODEL_MISSING) and target.key is not None and (
            target.key_check_path or diagnosis.server in PUBLIC_MODELS_KEY_CHECK):
        check = target if target.key_check_path else replace(
            target, key_check_path=PUBLIC_MODELS_KEY_CHECK[diagnosis.server or ""])
        diagnosis, checked_status = await _check_key(client, headers, deadline, check, diagnosis)
        status = checked_status if checked_status is not None else status

    if target.key is None and target.key_required and diagnosis.outcome in NOT_THERE:
        # storing a key cannot help while nothing answers: say what is wrong first, the key second
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} (and no key stored)")
    elif target.key is None and target.key_required and diagnosis.outcome is not Outcome.AUTH_MISSING:
        diagnosis = replace(diagnosis, outcome=Outcome.AUTH_MISSING,
                            summary=f"no key stored ({diagnosis.summary})",
                            fix=f"run: llmswitch key set {target.provider}")
    if diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS) and exchange.latency_ms is not None:
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} · {exchange.latency_ms:.0f} ms")
    diagnosis = _note_impostor(diagnosis, target)
    return _result(target, diagnosis, url=url, headers=headers, status=status,
                   latency=exchange.latency_ms, suggested=suggested)


async def _fetch(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str], deadline: float,
                 target: ProbeTarget, json_body: Any = None) -> _Exchange:
    """One request with a hard deadline and a capped body. Never raises, except cancellation."""
    if urls.origin(url) != urls.origin(target.base_url):  # the key goes to the configured origin only
        headers = {k: v for k, v in headers.items() if not is_secret_header(k)}
    loop = asyncio.get_running_loop()
    remaining = deadline - loop.time()
    started = time.perf_counter()
    if remaining <= 0:
        return _Exchange(url, error=TimeoutError("no time left"), latency_ms=0.0)
    try:
        async with asyncio.timeout(remaining):
            async with client.stream(method, url, headers=headers, json=json_body, timeout=httpx.Timeout(remaining),
                                     follow_redirects=False) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        break
                latency = (time.perf_counter() - started) * 1000
                return _Exchange(url, response.status_code, response.headers, bytes(body), latency)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # transport trouble of any kind becomes a diagnosis
        return _Exchange(url, error=exc, latency_ms=(time.perf_counter() - started) * 1000)


async def _fetch_retrying(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str],
                          deadline: float, target: ProbeTarget, json_body: Any = None) -> _Exchange:
    """``_fetch`` with bounded retries of 429 and 5xx inside the deadline; other answers fail fast."""
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        exchange = await _fetch(client, method, url, headers, deadline, target, json_body)
        exchange.attempts = attempt + 1
        status = exchange.status
        retryable = status is not None and (status == 429 or (500 <= status < 600 and status not in (501, 505)))
        if status == 429 and _QUOTA_RE.search(exchange.body[:4096].decode("utf-8", "replace").lower()):
            retryable = False  # out of quota: waiting will not help
        if not retryable or attempt >= MAX_RETRIES:
            return exchange
        asked = _retry_after({k.lower(): v for k, v in exchange.headers.items()})
        wait = min(asked if asked is not None else BACKOFF[attempt], RETRY_AFTER_CAP)
        if loop.time() + wait + 0.05 >= deadline:
            return exchange
        await asyncio.sleep(wait)
        attempt += 1


def _diagnose(exchange: _Exchange, target: ProbeTarget) -> Diagnosis:
    if exchange.error is not None:
        return diagnose_error(exchange.error, target, exchange.url)
    diagnosis = classify(exchange.status, exchange.headers, exchange.body, target=target)
    if exchange.attempts > 1 and diagnosis.outcome in (Outcome.RATE_LIMITED, Outcome.SERVER_ERROR):
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} ({exchange.attempts} attempts)")
    return diagnosis


async def _follow_redirect_once(client: httpx.AsyncClient, exchange: _Exchange, headers: Mapping[str, str],
                                deadline: float, target: ProbeTarget,
                                diagnosis: Diagnosis) -> tuple[Diagnosis, str | None]:
    """Diagnose a redirect: look at a same-origin target once; never request another origin."""
    status = exchange.status
    location = exchange.headers.get("location")
    if not location:
        return replace(diagnosis, summary=f"redirected (HTTP {status}) without a Location"), None
    try:
        destination = httpx.URL(exchange.url).join(location)
    except Exception:
        return replace(diagnosis, summary=f"redirected (HTTP {status}) to an invalid address"), None
    dest = urls.safe(str(destination))
    dest_base = urls.base_from_models_url(dest)
    if destination.userinfo or urls.origin(str(destination)) != urls.origin(target.base_url):
        summary = f"redirected (HTTP {status}) to another origin: {dest} — not followed, the key was not sent there"
        fix = (f"if that is the real API, change base_url to {dest_base} in config.toml" if dest_base
               else "point base_url at the API's own address")
        return replace(diagnosis, summary=summary, fix=fix), dest_base
    follow = await _fetch(client, "GET", str(destination), headers, deadline, target)
    there = _diagnose(follow, target)
    path_from, path_to = httpx.URL(exchange.url).path, destination.path
    summary = f"redirected (HTTP {status}) from {path_from} to {path_to}"
    if there.outcome is Outcome.REDIRECTED:
        summary += ", which redirects again"
    elif there.outcome in FOUND:
        summary += f", which answers: {there.summary}"
    else:
        summary += f", which fails: {there.summary}"
    if dest_base and dest_base != target.base_url:
        fix = f"change base_url to {dest_base} in config.toml"
        suggested: str | None = dest_base
    else:
        fix = ("the server redirects to a trailing-slash path, which clients may not follow (a POST can turn into a "
               "GET); point base_url at an address that answers directly, or fix the redirect in the server/proxy")
        suggested = None
    return replace(diagnosis, summary=terminal_safe(summary, 300), fix=fix, models=there.models,
                   server=diagnosis.server or there.server), suggested


async def _try_other_base_urls(client: httpx.AsyncClient, headers: Mapping[str, str], deadline: float,
                               target: ProbeTarget, diagnosis: Diagnosis) -> tuple[Diagnosis, str | None]:
    """After a miss, try the usual slips (``/v1`` missing or doubled, trailing slash) and say which works."""
    for base in urls.alternative_bases(target.base_url):
        alt_target = replace(target, base_url=base)
        exchange = await _fetch(client, "GET", urls.join(base, "/models"), headers, deadline, target)
        if exchange.error is not None:
            if isinstance(exchange.error, TimeoutError | httpx.TimeoutException):
                break
            continue
        there = classify(exchange.status, exchange.headers, exchange.body, target=alt_target)
        if there.outcome not in FOUND:
            continue
        if there.outcome in AUTH and there.outcome is not Outcome.AUTH_MISSING or (
                there.outcome is Outcome.AUTH_MISSING and target.key is not None):
            extra, fix = f"{base} answers, but: {there.summary}", (
                f"change base_url to {base} in config.toml, then {there.fix}")
        else:
            extra, fix = f"{base} answers: {there.summary}", f"change base_url to {base} in config.toml"
        summary = f"{diagnosis.summary}; {extra}"
        return replace(diagnosis, summary=summary, fix=fix, models=there.models,
                       server=diagnosis.server or there.server), base
    return diagnosis, None


async def _check_key(client: httpx.AsyncClient, headers: Mapping[str, str], deadline: float,
                     target: ProbeTarget, diagnosis: Diagnosis) -> tuple[Diagnosis, int | None]:
    """``/models`` is public here: ask ``key_check_path`` so a bad key never looks fine.

    Returns the diagnosis and, when the key check decided it, that answer's status.
    """
    path = target.key_check_path or ""
    path = path if path.startswith("/") else "/" + path
    url = urls.join(target.base_url, path)
    exchange = await _fetch_retrying(client, "GET", url, headers, deadline, target)
    if exchange.error is not None:
        failed = diagnose_error(exchange.error, target, url)
        return replace(failed, summary=f"key check at {path} failed: {failed.summary}", models=diagnosis.models,
                       server=diagnosis.server), None
    status = exchange.status or 0
    if 200 <= status < 300:
        return replace(diagnosis, summary=f"{diagnosis.summary} · key verified"), None
    there = classify(exchange.status, exchange.headers, exchange.body, target=replace(target, model=None))
    if there.outcome in AUTH or there.outcome is Outcome.RATE_LIMITED:
        return replace(there, summary=f"{there.summary} (checked at {path})", models=diagnosis.models,
                       server=diagnosis.server or there.server), status
    return replace(there, outcome=Outcome.AMBIGUOUS, models=diagnosis.models, server=diagnosis.server,
                   summary=f"models listed, but the key check at {path} answered HTTP {status}: {there.summary}",
                   fix=_ambiguous_fix(target)), status


def diagnose_error(error: BaseException, target: ProbeTarget, url: str) -> Diagnosis:
    """Turn a transport failure into an outcome: refused, DNS, TLS, timeout, or broken connection."""
    host, port = urls.host_port(url)
    where = f"{host}:{port}"
    chain = list(_exception_chain(error))
    text = " ".join(str(e) for e in chain)
    lowered = text.lower()
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return Diagnosis(Outcome.TIMEOUT, f"no answer from {where} within {target.timeout:g} s",
                         "check the server is up and not overloaded, or raise its timeout")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
            w in lowered for w in ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                                   "temporary failure in name resolution", "no address associated")):
        return Diagnosis(Outcome.DNS_FAILURE, f"host not found: {host}",
                         "check the host name in base_url (and your network or DNS)")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in lowered or (
            "all connection attempts failed" in lowered):
        return Diagnosis(Outcome.CONNECTION_REFUSED, f"no server on {where}", _start_hint(target, port))
    ssl_errors = [e for e in chain if isinstance(e, ssl.SSLError)]
    if ssl_errors or "[ssl" in lowered or "certificate verify failed" in lowered:
        detail = str(ssl_errors[0]) if ssl_errors else text
        plain = any(w in lowered for w in ("wrong version number", "record layer failure", "packet length too long",
                                           "unknown protocol", "http request"))
        if plain:
            return Diagnosis(Outcome.TLS_ERROR, f"TLS failed: {where} seems to speak plain HTTP",
                             "use http:// instead of https:// in base_url", server_message=_short(detail, target))
        if "certificate" in lowered:
            return Diagnosis(Outcome.TLS_ERROR, f"TLS failed: the certificate of {host} is not trusted",
                             "if a proxy or self-signed certificate is expected, point SSL_CERT_FILE at its CA bundle",
                             server_message=_short(detail, target))
        return Diagnosis(Outcome.TLS_ERROR, f"TLS handshake with {where} failed",
                         "check the scheme and port in base_url", server_message=_short(detail, target))
    if any(isinstance(e, httpx.RemoteProtocolError | httpx.ReadError) for e in chain):
        return Diagnosis(Outcome.CONNECTION_ERROR, f"connection to {where} broke mid-answer",
                         "check the server's logs; a proxy in between may be cutting answers off",
                         server_message=_short(text, target))
    if any(isinstance(e, httpx.UnsupportedProtocol | httpx.InvalidURL) for e in chain):
        return Diagnosis(Outcome.INVALID_URL, "base_url cannot be requested",
                         "base_url must look like https://host/v1", server_message=_short(text, target))
    return Diagnosis(Outcome.CONNECTION_ERROR, f"could not talk to {where} ({type(error).__name__})",
                     "check base_url and that the server is running", server_message=_short(text, target))


def _exception_chain(error: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        stack.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)


def _start_hint(target: ProbeTarget, port: int) -> str:
    preset = _preset_id(target.preset)
    hint = START_HINTS.get(preset or "")
    if hint:
        model = target.model or ("MODEL.gguf" if preset == "llamacpp" else "MODEL")
        return hint.format(model=model)
    if urls.is_local(target.base_url):
        return f"start the server, or fix the port in base_url (nothing listens on {port})"
    return "check the host and port in base_url, and that the server is running"


# -- the deep check -------------------------------------------------------------------------


async def _with_deep_check(result: ProbeResult, target: ProbeTarget, client: httpx.AsyncClient) -> ProbeResult:
    if not target.model:
        return replace(result, summary=f"{result.summary} · chat check skipped (no model selected)",
                       deep=DeepCheck(ok=False, message="chat check skipped: no model selected"))
    deep, failure = await _deep_check(target, client)
    summary = result.summary
    if deep.ok and deep.ttft_ms is not None:
        summary += f" · first token {deep.ttft_ms:.0f} ms"
    if deep.ok and deep.message:
        summary += f" · {deep.message}"
    if deep.ok:
        return replace(result, summary=summary, deep=deep)
    if failure is not None and failure.outcome in AUTH:
        return replace(result, outcome=failure.outcome, usable=False, summary=f"chat: {failure.summary}",
                       fix=failure.fix, status_code=deep.status_code, server_message=failure.server_message,
                       deep=deep)
    fix = failure.fix if failure is not None and failure.fix else "check the model name and the server's logs"
    return replace(result, outcome=Outcome.CHAT_FAILED, usable=False, summary=f"models listed, but {deep.message}",
                   fix=fix, status_code=deep.status_code if deep.status_code is not None else result.status_code,
                   server_message=failure.server_message if failure else result.server_message, deep=deep)


async def _deep_check(target: ProbeTarget, client: httpx.AsyncClient) -> tuple[DeepCheck, Diagnosis | None]:
    """A 1-token streamed chat completion: time to first token and the model the server names."""
    if not target.model:
        return DeepCheck(ok=False, message="chat check skipped: no model selected"), None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(target.timeout, 0.0)
    headers = {**_request_headers(target), "accept": "text/event-stream"}
    anthropic = target.api_kind == "anthropic"
    url = urls.join(target.base_url, "/messages" if anthropic else "/chat/completions")
    payload: dict[str, Any] = {"model": target.model, "messages": [{"role": "user", "content": "Say OK."}],
                               "max_tokens": 1, "stream": True}
    outcome = await _stream_first_token(client, url, headers, payload, deadline, target)
    if isinstance(outcome, _Exchange) and outcome.status == 400 and b"max_tokens" in outcome.body and not anthropic:
        payload = {**payload, "max_completion_tokens": 1}  # newer OpenAI models refuse max_tokens
        del payload["max_tokens"]
        outcome = await _stream_first_token(client, url, headers, payload, deadline, target)
    if isinstance(outcome, DeepCheck):
        return outcome, None
    if outcome.error is not None:
        failure = diagnose_error(outcome.error, target, url)
        return DeepCheck(ok=False, message=f"chat check failed: {failure.summary}"), failure
    failure = classify(outcome.status, outcome.headers, outcome.body, target=replace(target, model=None))
    if failure.outcome in (Outcome.NOT_FOUND, Outcome.AMBIGUOUS) and failure.server_message:
        message = f"chat failed (HTTP {outcome.status}): {failure.server_message}"
    else:
        message = f"chat failed: {failure.summary}"
    return DeepCheck(ok=False, message=terminal_safe(message, 300), status_code=outcome.status), failure


async def _stream_first_token(client: httpx.AsyncClient, url: str, headers: Mapping[str, str],
                              payload: dict[str, Any], deadline: float, target: ProbeTarget) -> DeepCheck | _Exchange:
    """Send the chat request; a DeepCheck when it answered 2xx, else the failed exchange."""
    loop = asyncio.get_running_loop()
    remaining = deadline - loop.time()
    started = time.perf_counter()
    if urls.origin(url) != urls.origin(target.base_url):
        return _Exchange(url, error=httpx.InvalidURL("refusing to send the key to another origin"))
    try:
        async with asyncio.timeout(remaining):
            async with client.stream("POST", url, headers=headers, json=payload, timeout=httpx.Timeout(remaining),
                                     follow_redirects=False) as response:
                if not 200 <= response.status_code < 300:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BODY:
                            break
                    return _Exchange(url, response.status_code, response.headers, bytes(body))
                if "text/event-stream" in response.headers.get("content-type", ""):
                    return await _read_stream(response, started, target)
                body = await _read_capped(response)
                return _deep_from_json(body, started, target, response.status_code)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return _Exchange(url, error=exc)


async def _read_capped(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_BODY:
            break
    return bytes(body)


async def _read_stream(response: httpx.Response, started: float, target: ProbeTarget) -> DeepCheck:
    """Read SSE events until the first token (and the model name) arrive."""
    reported: str | None = None
    first_event: float | None = None
    ttft: float | None = None
    read = 0
    async for line in response.aiter_lines():
        read += len(line)
        if read > MAX_BODY:
            break
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        event = _parse_json(data)
        if not isinstance(event, dict):
            continue
        now = (time.perf_counter() - started) * 1000
        first_event = first_event if first_event is not None else now
        if isinstance(event.get("error"), dict | str):
            message = _message_of(event, data, target.key) or "error in the stream"
            return DeepCheck(ok=False, message=f"chat failed mid-stream: {message}", status_code=response.status_code)
        reported = reported or _reported_model(event)
        if _has_token(event):
            ttft = now
        if ttft is not None and reported is not None:
            break
    if first_event is None:
        return DeepCheck(ok=False, message="chat answered 2xx but streamed no events",
                         status_code=response.status_code)
    note = None if ttft is not None else "no token text came back in the first answer"
    ttft = ttft if ttft is not None else first_event
    return _deep_ok(ttft, reported, target, response.status_code, note)


def _deep_from_json(body: bytes, started: float, target: ProbeTarget, status: int) -> DeepCheck:
    elapsed = (time.perf_counter() - started) * 1000
    data = _parse_json(body.decode("utf-8", errors="replace"))
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


# -- many targets -----------------------------------------------------------------------------


async def probe_all(targets: Iterable[ProbeTarget], *, deep: bool = False, concurrency: int = 32,
                    client: httpx.AsyncClient | None = None) -> AsyncIterator[ProbeResult]:
    """Probe all targets concurrently over one client; yield each result as it finishes.

    Leaving the loop early cancels the probes still running (close the
    generator, e.g. with ``contextlib.aclosing``, to make that immediate).
    """
    targets = list(targets)
    own = client is None
    http = client or new_client(concurrency)
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(target: ProbeTarget) -> ProbeResult:
        async with gate:
            return await probe(target, http, deep=deep)

    tasks = [asyncio.ensure_future(one(t)) for t in targets]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own:
            await http.aclose()


def probe_sync(targets: Iterable[ProbeTarget], *, deep: bool = False) -> list[ProbeResult]:
    """Probe all targets and return the results in the order of ``targets`` (for the CLI).

    Runs its own event loop, so it cannot be called from inside one.
    """
    targets = list(targets)

    async def collect() -> list[ProbeResult]:
        gate = asyncio.Semaphore(32)
        async with new_client() as client:
            async def one(target: ProbeTarget) -> ProbeResult:
                async with gate:
                    return await probe(target, client, deep=deep)
            return list(await asyncio.gather(*(one(t) for t in targets)))

    return asyncio.run(collect())


def cancelled_result(target: ProbeTarget) -> ProbeResult:
    """A CANCELLED result for a target whose probe was abandoned (e.g. superseded in the app)."""
    return _sanitise(_result(target, Diagnosis(Outcome.CANCELLED, "probe cancelled", None),
                             url=urls.safe(urls.join(target.base_url, "/models"))), target.key)


# -- output ---------------------------------------------------------------------------------


def render_table(results: Iterable[ProbeResult], *, verbose: bool = False) -> str:
    """Plain-text table for ``llmswitch probe``; a fix line under each result that needs one.

    ``verbose`` adds the request that was sent (redacted). No markup is interpreted.
    """
    results = list(results)
    rows = [(r.provider, str(r.outcome), r.server or "-", r.summary) for r in results]
    header = ("PROVIDER", "RESULT", "SERVER", "DETAIL")
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  " + header[3]]
    indent = " " * (widths[0] + 2)
    for result, row in zip(results, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
        if result.fix and not result.usable:
            lines.append(f"{indent}fix: {result.fix}")
        if result.suggested_base_url:
            lines.append(f"{indent}try: base_url = {result.suggested_base_url}")
        if verbose:
            lines.append(f"{indent}{result.request_line()}")
            if result.server_message:
                lines.append(f'{indent}server said: "{result.server_message}"')
    return "\n".join(line.rstrip() for line in lines)


def render_json(results: Iterable[ProbeResult]) -> list[dict[str, Any]]:
    """The same facts as data, for ``llmswitch probe --json``."""
    out = []
    for r in results:
        out.append({
            "provider": r.provider, "outcome": str(r.outcome), "usable": r.usable, "summary": r.summary,
            "fix": r.fix, "sentence": r.sentence(), "url": r.url, "request_headers": dict(r.request_headers),
            "status_code": r.status_code,
            "latency_ms": round(r.latency_ms, 1) if r.latency_ms is not None else None,
            "models": list(r.models), "server_message": r.server_message, "server": r.server,
            "suggested_base_url": r.suggested_base_url,
            "deep": None if r.deep is None else {
                "ok": r.deep.ok, "ttft_ms": round(r.deep.ttft_ms, 1) if r.deep.ttft_ms is not None else None,
                "reported_model": r.deep.reported_model, "message": r.deep.message,
                "status_code": r.deep.status_code},
        })
    return out


# -- small helpers ------------------------------------------------------------------------------

def _result(target: ProbeTarget, diagnosis: Diagnosis, *, url: str, headers: Mapping[str, str] | None = None,
            status: int | None = None, latency: float | None = None, suggested: str | None = None) -> ProbeResult:
    shown = {k: redact_header(k, v) for k, v in (headers or {}).items() if k.lower() != "user-agent"}
    return ProbeResult(
        provider=terminal_safe(target.provider), outcome=diagnosis.outcome,
        usable=diagnosis.outcome in USABLE, summary=diagnosis.summary, fix=diagnosis.fix, url=urls.safe(url),
        request_headers=shown, status_code=status, latency_ms=latency, models=diagnosis.models,
        server_message=diagnosis.server_message, server=diagnosis.server, suggested_base_url=suggested)


def _sanitise(result: ProbeResult, key: str | None) -> ProbeResult:
    """Last line of defence: no field of a result may contain the key or control characters."""

    def clean(value: str | None, limit: int | None = None) -> str | None:
        return None if value is None else terminal_safe(_scrub(value, key), limit)

    deep = result.deep
    if deep is not None:
        deep = replace(deep, reported_model=clean(deep.reported_model), message=clean(deep.message))
    return replace(
        result, provider=clean(result.provider) or "", summary=clean(result.summary) or "", fix=clean(result.fix),
        url=clean(result.url) or "", server_message=clean(result.server_message, MESSAGE_LIMIT),
        server=clean(result.server), suggested_base_url=clean(result.suggested_base_url),
        request_headers={clean(k) or "": clean(v) or "" for k, v in result.request_headers.items()},
        models=tuple(clean(m) or "" for m in result.models), deep=deep)


def _scrub_diagnosis(diagnosis: Diagnosis, key: str | None) -> Diagnosis:
    def clean(value: str | None) -> str | None:
        return None if value is None else terminal_safe(_scrub(value, key))

    return replace(diagnosis, summary=clean(diagnosis.summary) or "", fix=clean(diagnosis.fix),
                   server_message=clean(diagnosis.server_message), server=clean(diagnosis.server),
                   models=tuple(clean(m) or "" for m in diagnosis.models))


def _scrub(text: str, key: str | None) -> str:
    """``redact.scrub`` for real secrets only (see ``MIN_SECRET_LENGTH``)."""
    return scrub(text, key) if key and len(key) >= MIN_SECRET_LENGTH else text


def _short(text: str, target: ProbeTarget) -> str:
    return terminal_safe(_scrub(" ".join(text.split()), target.key), MESSAGE_LIMIT)


def _request_headers(target: ProbeTarget) -> dict[str, str]:
    headers = {"accept": "application/json", "user-agent": USER_AGENT}
    headers.update({str(k): str(v) for k, v in target.headers.items()})
    if target.api_kind == "anthropic":
        headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
    if target.key is not None:
        if target.api_kind == "anthropic":
            headers["x-api-key"] = target.key
        elif target.api_kind == "azure":
            headers["api-key"] = target.key
        else:
            headers["authorization"] = f"Bearer {target.key}"
    return headers


def _check_url(target: ProbeTarget) -> Diagnosis | None:
    """Refuse URLs we must not request: other schemes, embedded credentials, no host."""
    found = urls.problem(target.base_url, target.provider)
    if found is None:
        return None
    cause, fix = found
    return Diagnosis(Outcome.INVALID_URL, cause + ("; not requested" if "credentials" in cause else ""),
                     fix if "config.toml" in fix or "key set" in fix else f"{fix} in config.toml")


def _path_of(target: ProbeTarget) -> str:
    try:
        return terminal_safe(urlsplit(urls.join(target.base_url, "/models")).path, 200)
    except ValueError:
        return "/models"


def _preset_id(preset: str | None) -> str | None:
    if not preset:
        return None
    p = preset.lower().replace("-", "_").replace(".", "")
    return {"lmstudio": "lm_studio", "llama_cpp": "llamacpp", "litellm_proxy": "litellm"}.get(p, p)


def _note_impostor(diagnosis: Diagnosis, target: ProbeTarget) -> Diagnosis:
    """Say so when the preset expects one server and another one answered (a port clash)."""
    expected = SERVER_NAMES.get(_preset_id(target.preset) or "")
    if (expected and diagnosis.server and diagnosis.server != expected and urls.is_local(target.base_url)
            and diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS, Outcome.MODEL_MISSING)):
        return replace(diagnosis, summary=f"{diagnosis.summary} · answered by {diagnosis.server}, not {expected}")
    return diagnosis


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        try:
            seconds = when.timestamp() - time.time()
        except (OverflowError, OSError, ValueError):
            return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / infinite
        return None
    return max(seconds, 0.0)

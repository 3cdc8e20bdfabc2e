"""Probe the exact URL and model a tool will use, with the protocol it speaks; and what serves what (from the presets).

One small request (one output token where the API allows it) to :meth:`Protocol.route` (``base_url + protocol.path``)
with the tool's model, the provider's headers and the key in the protocol's header. The
answer becomes a :class:`Verdict`: ok, or one sentence (cause, fix) saying what failed —
the route is not served (the protocol is missing), the key was refused, the model is
unknown, or the server could not be reached. The key is resolved here, sent, and never
printed (bodies quoted in a sentence are scrubbed of it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import Protocol, Target

if TYPE_CHECKING:
    from ...store.config import Config, ProviderConfig


@dataclass(frozen=True)
class Verdict:
    ok: bool
    url: str
    model: str
    status: int | None = None
    cause: str = ""
    fix: str = ""
    route_missing: bool = False
    """The server does not serve the protocol's route at all (404/405/501 not about the model)."""

    def sentence(self) -> str:
        return f"{self.cause} — {self.fix}" if self.fix else self.cause


def protocols(names: frozenset[str]) -> frozenset[Protocol]:
    """The :class:`Protocol` members named in a preset's ``serves`` (see :data:`llmswitch.store.catalog.PROTOCOLS`)."""
    return frozenset(Protocol[name.upper()] for name in names)


def known(provider: ProviderConfig) -> frozenset[Protocol] | None:
    """What ``provider`` is documented to serve (its preset's ``serves``, then its API kind's), or None when unknown.

    The documented table only; what a probe found is :func:`llmswitch.store.served.serves`.
    """
    from ...store.served import static_serves

    documented = static_serves(provider)
    return protocols(documented) if documented else None


def who_serves(protocol: Protocol | str, config: Config | None) -> str:
    """A short list of providers that would work for ``protocol`` (a :class:`Protocol` or a name of
    :data:`llmswitch.base.outcome.PROTOCOLS`): configured ones that serve it (the probe's fingerprint, else the
    presets, :func:`llmswitch.store.served.serves`) first, then presets (hosted first)."""
    from ...store.served import serves

    name = protocol if isinstance(protocol, str) else protocol.name.lower()
    names: list[str] = []
    if config is not None:
        names = [p.id for p in config.providers.values() if serves(p, name)]
    if not names:
        from ...store import catalog

        # count_tokens is in no preset's table: Anthropic's own API documents it beside Messages
        serving = [p for p in catalog.presets().values() if p.kind != "azure"  # Azure needs the user's own resource
                   and (name in p.serves or (name == "count_tokens" and p.kind == "anthropic"))]
        names = [p.id for p in sorted(serving, key=lambda p: (p.local, p.id))]
    return ", ".join(names[:4])


def _body(protocol: Protocol, model: str) -> dict[str, Any]:
    if protocol is Protocol.RESPONSES:
        return {"model": model, "input": "Say OK.", "max_output_tokens": 16}
    if protocol is Protocol.GEMINI:  # the model is in the URL
        return {"contents": [{"role": "user", "parts": [{"text": "Say OK."}]}], "generationConfig": {"maxOutputTokens": 1}}
    return {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "Say OK."}]}


def headers(protocol: Protocol, provider: ProviderConfig, key: str | None) -> dict[str, str]:
    """What the tool would send: the provider's headers and the key in the protocol's header."""
    from ...base.urls import auth_headers
    from ...store import keys

    sent = {"content-type": "application/json", "accept": "application/json", **keys.headers_for(provider)}
    if protocol is Protocol.GEMINI:  # the genai SDK's header (GEMINI_API_KEY)
        return {**sent, "x-goog-api-key": key} if key else sent
    # the tool sends the protocol's own header: Messages → x-api-key; otherwise Azure's api-key or a Bearer token
    kind = "anthropic" if protocol is Protocol.MESSAGES else "azure" if provider.kind == "azure" else "openai"
    for name, value in auth_headers(kind, key or None).items():
        if name == "anthropic-version":
            sent.setdefault(name, value)
        else:
            sent[name] = value
    return sent


def probe(target: Target, protocol: Protocol, model: str | None = None) -> Verdict:
    """POST the protocol's route for ``target`` (``model`` overrides the selection's, e.g. a tool prefix stripped)."""
    import httpx

    from ...base.redact import scrub, terminal_safe
    from ...net.network import ssl_context
    from ...store import keys

    model = model or target.selection.model
    url = protocol.route(target.url, model)
    try:
        key = keys.resolve_for(target.provider).require()
    except keys.KeyProblem as exc:
        return Verdict(False, url, model, cause=exc.cause, fix=exc.fix or "")
    try:
        with httpx.Client(timeout=target.provider.timeout, follow_redirects=False, verify=ssl_context()) as client:
            response = client.post(url, headers=headers(protocol, target.provider, key),
                                   content=json.dumps(_body(protocol, model)).encode())
            text = response.read()[:4096].decode("utf-8", "replace")
    except httpx.HTTPError as exc:
        return Verdict(False, url, model, cause=f"{url} could not be reached ({type(exc).__name__}: "
                       f"{terminal_safe(scrub(str(exc), key), 120)})", fix="start the server or check the base_url "
                       "of " + target.provider.id)
    said = terminal_safe(scrub(_message(text), key), 160)
    status = response.status_code
    if 200 <= status < 300:
        return Verdict(True, url, model, status)
    detail = f" ({said})" if said else ""
    if status in (401, 403):
        return Verdict(False, url, model, status, f"{target.provider.id} refused the key for POST {url} "
                       f"(HTTP {status}){detail}", f"check it: llmswitch key where {target.provider.id}")
    about_model = model.lower() in said.lower() or "model" in said.lower()
    if status in (404, 405, 501) and not about_model:
        return Verdict(False, url, model, status, f"{target.provider.id} does not serve {protocol.label} "
                       f"(POST {url} answered HTTP {status}){detail}", "", route_missing=True)
    if status in (400, 404, 422) and about_model:
        return Verdict(False, url, model, status, f"{target.provider.id} does not know model {model!r} at {url} "
                       f"(HTTP {status}){detail}", f"pick another: llmswitch list {target.provider.id}")
    return Verdict(False, url, model, status, f"POST {url} for {model!r} answered HTTP {status}{detail}",
                   f"run: llmswitch probe {target.provider.id}")


def _message(text: str) -> str:
    """The error message of an OpenAI-, Anthropic- or FastAPI-style error body, else its start."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:160]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:300] if error is not None else ""
    return ""

"""After a request: did the right model answer (:func:`same_model`), and what a failure means (:func:`explain`).

:func:`explain` turns an ``openai`` exception into an :class:`RequestFailed`
(cause and fix as fields) using the probe's classification, so a chat error
reads like ``llmswitch probe``: ``ollama: no server on 127.0.0.1:11434 — start
it: ollama serve``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..base.errors import Exit, LlmswitchError
from ..base.keyorigin import KeyOrigin
from ..base.outcome import AUTH, Outcome
from ..base.redact import scrub, terminal_safe
from ..store.selection import ActiveSelection

__all__ = ["RequestFailed", "explain", "explain_error", "same_model"]

_MODEL_GONE = re.compile(r"not found|does not exist|not exist|unknown|invalid model|no such|not available|unsupported"
                         r"|pull")


class RequestFailed(LlmswitchError):
    """A request to the selected model failed; ``subject`` is the provider, ``status`` the HTTP status if any."""

    exit_code = Exit.CHECK

    def __init__(self, provider: str, cause: str, fix: str | None, *, status: int | None = None,
                 message: str | None = None) -> None:
        self.status = status
        if status is not None and status >= 300:
            cause += f' (HTTP {status} "{terminal_safe(message, 80)}")' if message else f" (HTTP {status})"
        super().__init__(cause, fix, subject=provider)


def same_model(requested: str, reported: str | None) -> bool:
    """Whether the model a server reports is the one asked for, allowing for how servers name them.

    Same: ``gpt-4o-mini`` → ``gpt-4o-mini-2024-07-18`` (a dated snapshot), ``llama3`` →
    ``llama3:latest``, ``openai/gpt-4o`` → ``gpt-4o`` (vendor prefix), ``anthropic/claude-sonnet-4``
    → ``anthropic/claude-4-sonnet-20250522`` (OpenRouter's canonical slug). Not the same:
    ``gpt-4o`` → ``gpt-4o-mini``, or any other name.
    """
    if not reported:
        return True
    asked = _name_tokens(requested)
    got = _name_tokens(reported)
    for token in asked:
        if token not in got:
            return False
        got.remove(token)
    return all(re.fullmatch(r"\d{4,}|latest", token) for token in got)


def _name_tokens(model: str) -> list[str]:
    tail = re.sub(r"(\d{4})-(\d{2})-(\d{2})", r"\1\2\3", model.lower().rsplit("/", 1)[-1])  # one date token
    return [t for t in re.split(r"[-_.:@\s]+", tail) if t]


def explain(exc: BaseException, sel: ActiveSelection, key: str | None = None,
            timeout: float | None = None) -> RequestFailed:
    """What an ``openai`` exception from a request made with ``sel`` means, as cause and fix."""
    from ..net import probe as _probe
    from ..net.probe import targets

    status = getattr(exc, "status_code", None)
    target = targets.for_selection(sel, key)
    if timeout is not None:
        target = replace(target, timeout=timeout)
    response = getattr(exc, "response", None)
    body = getattr(exc, "body", None)
    if status is None and body is not None and not _is_transport_error(exc):  # an error event inside the stream
        error = body.get("message") if isinstance(body, dict) else body
        said = terminal_safe(scrub(str(error or getattr(exc, "message", "")), key), 120)
        return RequestFailed(sel.provider, f'the server stopped the answer with an error ("{said}")',
                             "try again; if it keeps happening, look at the server's logs or pick another model: "
                             "/models")
    if status is None or response is None:
        d = _probe.diagnose_error(exc, target, sel.base_url)
        return RequestFailed(sel.provider, d.summary, d.fix)
    try:
        content = response.content
    except Exception:  # noqa: BLE001 - a streamed response may be closed already
        content = b""
    d = _probe.classify(status, dict(response.headers), content, target=replace(target, model=None))
    if d.outcome in AUTH:  # about the key (a 401, or a proxy's 400): its fix names where the key was read from,
        origin = _key_origin(sel)  # resolved again, as the probe does (keyfix), so both say the same
        target = targets.for_selection(sel, key, origin)
        d = _probe.classify(status, dict(response.headers), content, target=replace(target, model=None))
    message = d.server_message
    text = (message or "").lower()
    if status in (400, 404, 422) and "model" in text and _MODEL_GONE.search(text):
        fix = (f"run: ollama pull {sel.model}, or pick another: /models" if sel.provider == "ollama"
               else "pick another: /models, or check the id with: llmswitch list " + sel.provider)
        return RequestFailed(sel.provider, f"model {terminal_safe(sel.model, 80)} not available", fix,
                             status=status, message=message)
    if d.outcome == Outcome.NOT_FOUND:
        return RequestFailed(sel.provider, f"no chat endpoint at {terminal_safe(sel.base_url, 120)}/chat/completions",
                             "check base_url (OpenAI-compatible servers usually end in /v1)",
                             status=status, message=message)
    if d.outcome == Outcome.AMBIGUOUS and status == 400:
        return RequestFailed(sel.provider, "request refused",
                             "the server did not accept this request for " + terminal_safe(sel.model, 80),
                             status=status, message=message)
    return RequestFailed(sel.provider, d.summary, d.fix, status=status, message=message)


def _key_origin(sel: ActiveSelection) -> KeyOrigin | None:
    """Where the selection's key comes from (per config.toml), or None when that cannot be said."""
    from ..api import resolve_key

    try:
        return resolve_key(sel).origin
    except LlmswitchError:
        return None


def explain_error(exc: BaseException, sel: ActiveSelection, key: str | None = None,
                  timeout: float | None = None) -> str:
    """:func:`explain`'s one sentence (``provider: cause — fix``)."""
    return explain(exc, sel, key, timeout).sentence()


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, openai.APIConnectionError)

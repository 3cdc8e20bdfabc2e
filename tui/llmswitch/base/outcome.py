"""What a probe found, as data: the outcome enum, its named subsets, and the result types.

Stdlib only (no httpx), so light modules — the REPL, the CLI's tables, the app's
renderers — can name outcomes without loading the transport.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from llmswitch.base.keyorigin import KeyOrigin
from llmswitch.base.redact import is_secret_header, terminal_safe

__all__ = [
    "AUTH", "DEEP", "FOUND", "KEY_REFUSED", "LISTED", "NOT_THERE", "UNREACHABLE", "USABLE",
    "PROTOCOLS", "DeepCheck", "Diagnosis", "Outcome", "ProbeResult", "ProbeTarget", "ServedContext", "key_seen",
    "verdict_mark",
]

class Outcome(StrEnum):
    """What a probe found. Exactly one per result; ``USABLE`` says which ones work."""

    OK = "ok"
    """The server listed models and the key is accepted (verified where ``/models`` is public)."""
    KEYLESS = "keyless"
    """The server listed models and no key was needed or sent (local servers)."""
    ANY_KEY = "any_key"
    """A key was sent, the server listed models, and it accepts any key or none: the key is not needed."""
    KEY_UNVERIFIED = "key_unverified"
    """A key was sent and ``/models`` answered, but it answers without a key too: the key was not checked."""
    AUTH_MISSING = "auth_missing"
    """No key stored for a provider that needs one, or the server says none arrived."""
    AUTH_REJECTED = "auth_rejected"
    """A key was sent and the server refused it (invalid, expired, unknown)."""
    FORBIDDEN = "forbidden"
    """HTTP 403 not explained by the key being wrong: permissions, region, IP allow-list."""
    NO_CREDIT = "no_credit"
    """The key is known but has no credit or quota left (402, ``insufficient_quota``)."""
    NOT_FOUND = "not_found"
    """Nothing at this path (404/405, or a server saying "unexpected endpoint")."""
    REDIRECTED = "redirected"
    """The server answered with a redirect; it was diagnosed, not silently followed."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429 after retries: the key was accepted, the server asks us to slow down."""
    SERVER_ERROR = "server_error"
    """HTTP 5xx after retries."""
    NOT_OPENAI = "not_openai"
    """An answer that is not an OpenAI model list: HTML, non-JSON, wrong shape, too large."""
    CONNECTION_REFUSED = "connection_refused"
    """Nothing listens on that host and port."""
    DNS_FAILURE = "dns_failure"
    """The host name does not resolve."""
    TLS_ERROR = "tls_error"
    """The TLS handshake failed (untrusted certificate, or plain HTTP on an https URL)."""
    TIMEOUT = "timeout"
    """No (complete) answer within the target's timeout."""
    CONNECTION_ERROR = "connection_error"
    """The connection broke in another way (reset, closed mid-answer, protocol error)."""
    MODEL_MISSING = "model_missing"
    """The server works but the selected model is not in its list."""
    CHAT_FAILED = "chat_failed"
    """Deep check only: ``/models`` was fine but the 1-token chat completion failed."""
    INVALID_URL = "invalid_url"
    """``base_url`` was refused before any request: not http(s), embedded credentials, no host."""
    AMBIGUOUS = "ambiguous"
    """The answer does not say whether the key or the URL is at fault; we say so instead of guessing."""
    CANCELLED = "cancelled"
    """The probe was cancelled before it finished (see ``cancelled_result``)."""


USABLE = frozenset({Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY, Outcome.RATE_LIMITED})
"""Outcomes where a request with this provider would be accepted. RATE_LIMITED is usable
(the key is proven, only the pace is wrong); MODEL_MISSING is not (the selection would fail,
though ``models`` still lists what the server offers); KEY_UNVERIFIED is not (nobody knows yet:
``probe --deep`` settles it)."""

AUTH = frozenset({Outcome.AUTH_MISSING, Outcome.AUTH_REJECTED, Outcome.FORBIDDEN, Outcome.NO_CREDIT})
"""The server is there and says no to the key (or its account): the person acts on the key."""

KEY_REFUSED = AUTH
"""Alias kept for readers of the REPL: a switch to such a provider would be refused by the server."""

FOUND = frozenset({Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY, Outcome.KEY_UNVERIFIED, Outcome.MODEL_MISSING,
                   Outcome.RATE_LIMITED}) | AUTH
"""A server that speaks the API answered at this URL (whatever it thought of the key)."""

LISTED = frozenset({Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY, Outcome.KEY_UNVERIFIED, Outcome.MODEL_MISSING,
                    Outcome.RATE_LIMITED})
"""Outcomes whose ``models`` are the server's real list, worth remembering and offering."""

UNREACHABLE = frozenset({Outcome.CONNECTION_REFUSED, Outcome.DNS_FAILURE, Outcome.TLS_ERROR, Outcome.INVALID_URL})
"""Nothing usable could be asked at all: a switch to it is refused unless forced."""

NOT_THERE = UNREACHABLE | {Outcome.TIMEOUT, Outcome.CONNECTION_ERROR}
"""No server answered (for local-server detection: nothing runs there)."""


# -- the data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeTarget:
    """One endpoint to probe, with everything needed to ask it."""

    provider: str
    """Provider id, e.g. ``"openrouter"``; used in sentences and fixes."""
    base_url: str
    """Normalised base URL without trailing slash, e.g. ``https://openrouter.ai/api/v1``."""
    key: str | None = field(default=None, repr=False)
    """The secret. Never in repr, str, exceptions or any output."""
    key_required: bool = True
    """False for local servers where a key is optional (Ollama, LM Studio, vLLM, llama.cpp)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra non-secret headers sent with every request."""
    timeout: float = 10.0
    """Seconds for the whole probe (connect + read, retries included)."""
    model: str | None = None
    """The selected model: checked against the list, and used by the deep check."""
    key_check_path: str | None = None
    """Where the key is verified when ``/models`` is public, e.g. ``"/key"`` for OpenRouter."""
    preset: str | None = None
    """Preset id (``"ollama"``, ``"lm_studio"``, ...): which server should answer, and its start hint."""
    api_kind: str = "openai"
    """``"openai"`` (Bearer), ``"azure"`` (``api-key`` header) or ``"anthropic"`` (``x-api-key``)."""
    api_version: str | None = None
    """Azure only: the dated ``api-version``; None asks Azure's v1 API (see ``llmswitch.net.azure``)."""
    start_hint: str | None = None
    """How to start the server when nothing listens (``catalog.Preset.start_hint``; ``{model}`` is filled in).
    When None, the probe looks the preset's hint up itself."""
    key_origin: KeyOrigin | None = None
    """Where the key came from (or where it was looked for): what fixes are computed from. Never the key."""


@dataclass(frozen=True)
class Diagnosis:
    """What one HTTP answer means; ``classify``'s return value."""

    outcome: Outcome
    summary: str
    """Short, for a status cell: "key rejected", "42 models"."""
    fix: str | None = None
    """One sentence telling the person what to do, or None when nothing needs doing."""
    models: tuple[str, ...] = ()
    server_message: str | None = None
    """The server's own error text, trimmed and terminal-safe."""
    server: str | None = None
    """Fingerprint: which software answered, when the answer tells."""
    retry_after: float | None = None
    """Seconds the server asked us to wait (429/503), uncapped."""


@dataclass(frozen=True)
class DeepCheck:
    """The 1-token streamed chat completion of ``probe(..., deep=True)``."""

    ok: bool
    ttft_ms: float | None = None
    """Milliseconds from sending the request to the first token (or the whole answer if not streamed)."""
    reported_model: str | None = None
    """The ``model`` the server says answered."""
    message: str | None = None
    """A warning (model name differs) or what went wrong."""
    status_code: int | None = None


PROTOCOLS = ("chat", "responses", "messages", "count_tokens", "embeddings", "gemini")
"""The wire protocols a probe's fingerprint checks (``ProbeResult.protocols``): chat completions, the Responses
API, Anthropic Messages, its ``count_tokens``, embeddings, and the Gemini API."""


@dataclass(frozen=True)
class ServedContext:
    """What a server says about one model's context window (tokens), and where it said it."""

    model: str
    served: int | None = None
    """The context the server runs the model with (llama-server's ``--ctx-size``, Ollama's loaded context…)."""
    served_source: str | None = None
    """Where ``served`` was read: ``llama.cpp /props n_ctx``, ``vLLM /models max_model_len``…"""
    model_max: int | None = None
    """The model's own context as the server knows it (llama.cpp's training context, LM Studio's max)."""
    model_max_source: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    """Everything one probe learned. All strings are terminal-safe and free of the key."""

    provider: str
    outcome: Outcome
    usable: bool
    """True for OK, KEYLESS and RATE_LIMITED (see ``USABLE``)."""
    summary: str
    fix: str | None
    url: str
    """The exact URL requested first (credentials stripped if the URL carried any)."""
    request_headers: Mapping[str, str]
    """Headers sent, with secrets redacted: ``Bearer sk-or-…f3a9``."""
    status_code: int | None
    latency_ms: float | None
    models: tuple[str, ...]
    server_message: str | None
    server: str | None
    suggested_base_url: str | None
    """A base URL that answered where this one did not (``/v1`` added or removed, slash removed)."""
    deep: DeepCheck | None = None
    key_source: str | None = None
    """Where the key sent came from (``KeyOrigin.label()``: ``env OPENROUTER_API_KEY``), None when none was sent."""
    key_verified: bool | None = None
    """True when an answer proved the key (``verified_by`` says which), False when nothing did, None: no key sent."""
    verified_by: str | None = None
    """How the key was verified: ``"GET /models refuses requests without it"``, ``"key check /key"``, ``"deep check"``."""
    served: tuple[ServedContext, ...] = ()
    """Per listed model, the context window the server says it serves (only models it said something about)."""
    protocols: Mapping[str, bool | None] | None = None
    """The protocol fingerprint (:data:`PROTOCOLS` → served, not served, None not known), None when never taken."""
    protocols_checked: str | None = None
    """When the fingerprint was taken (ISO 8601, UTC)."""
    models_guarded: bool | None = None
    """What this probe itself saw of ``GET /models`` asked without the key: True refused, False answered (a list, or
    anything but a refusal), None not seen (a key-check path, no answer, or an earlier probe's sighting used, which
    ``verified_by`` then says). What :func:`llmswitch.store.state.models_guarded` keeps or forgets."""

    @property
    def verdict(self) -> str:
        """``✓`` usable, ``?`` listed but the key not verified, ``✗`` not usable (:func:`verdict_mark`)."""
        return verdict_mark(self.outcome, self.usable)

    def sentence(self, *, with_fix: bool = True) -> str:
        """One line, cause then fix: ``openrouter: key rejected (HTTP 401 "...") — run: ...``.

        When another base URL answered, the summary already says what it answered; the
        first URL's HTTP code then stays in the request details instead of being mixed in.
        """
        text = f"{self.provider}: {self.summary}"
        code = self.status_code
        if not self.usable and code is not None and code >= 300 and not self.suggested_base_url:
            message = f' "{terminal_safe(self.server_message, 80)}"' if self.server_message else ""
            text += f" (HTTP {code}{message})"
        if with_fix and self.fix:
            text += f" — {self.fix}"
        return text

    def request_line(self) -> str:
        """``GET https://…/models  Authorization: Bearer sk-or-…f3a9``."""
        shown = "  ".join(f"{k}: {v}" for k, v in self.request_headers.items() if k.lower() != "user-agent")
        return f"GET {self.url}" + (f"  {shown}" if shown else "")


DEEP = "deep check"
"""``verified_by`` of a key that ``probe --deep`` verified with a 1-token chat."""


def key_seen(result: ProbeResult) -> str:
    """Which key a result was about, as shown anyway (``env X Bearer sk-te…abcd``): never the key itself."""
    shown = " ".join(v for k, v in sorted(result.request_headers.items()) if is_secret_header(k))
    return f"{result.key_source or ''} {shown}".strip()


def verdict_mark(outcome: str, usable: bool) -> str:
    """The one mark every surface shows for a probe: ``✓`` usable, ``?`` a list whose key nobody verified
    (``key_unverified``: usable only as far as a public list goes), ``✗`` anything else."""
    return "✓" if usable else "?" if outcome == Outcome.KEY_UNVERIFIED else "✗"

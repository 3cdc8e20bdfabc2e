"""The routes the relay serves, what protocol each speaks, and errors shaped as that protocol's clients expect.

Stdlib only. A client gets every refusal in its own protocol: an OpenAI SDK reads
``{"error": {"message", "type", "code"}}``, an Anthropic SDK ``{"type": "error", "error": {"type", "message"}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum


class Family(Enum):
    """Whose error shape and auth header a route's clients speak."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"


@dataclass(frozen=True)
class Route:
    """One route: the relay's path, the upstream path, the fingerprint's protocol name."""

    path: str
    """What clients call on the relay (``/v1/chat/completions``)."""
    family: Family
    protocol: str | None
    """The protocol the fingerprint names (``chat``, ``responses``, ``messages``, ``count_tokens``, ``embeddings``);
    None where nobody can say in advance (legacy completions): the upstream answers."""
    upstream: str
    """Appended to the provider's base URL (OpenAI family) or to its API root (Anthropic family: ``/v1/messages``)."""
    label: str
    method: str = "POST"

    def streams(self) -> bool:
        """Whether this route can answer with server-sent events."""
        return self.protocol in ("chat", "responses", "messages", None)


ROUTES: dict[str, Route] = {r.path: r for r in (
    Route("/v1/chat/completions", Family.OPENAI, "chat", "/chat/completions", "chat completions"),
    Route("/v1/completions", Family.OPENAI, None, "/completions", "completions"),
    Route("/v1/responses", Family.OPENAI, "responses", "/responses", "the Responses API"),
    Route("/v1/embeddings", Family.OPENAI, "embeddings", "/embeddings", "embeddings"),
    Route("/v1/messages", Family.ANTHROPIC, "messages", "/v1/messages", "Anthropic Messages"),
    Route("/v1/messages/count_tokens", Family.ANTHROPIC, "count_tokens", "/v1/messages/count_tokens",
          "Anthropic count_tokens"),
)}
MODELS_PATH = "/v1/models"
"""``GET``: the roles the relay answers to, then the default role's provider's models as ``PROVIDER/MODEL``."""

_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied", 404: "not_found",
                 405: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                    404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
                    429: "rate_limit_error", 529: "overloaded_error"}


def family_of(path: str) -> Family:
    """The family of a path, for errors before a route is known (an Anthropic path, else OpenAI)."""
    return Family.ANTHROPIC if path.startswith("/v1/messages") else Family.OPENAI


def error_body(family: Family, status: int, message: str, code: str | None = None) -> bytes:
    """An error body in ``family``'s shape; ``message`` is one sentence, cause then fix."""
    if family is Family.ANTHROPIC:
        kind = _ANTHROPIC_TYPES.get(status, "api_error")
        return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    kind = _OPENAI_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return json.dumps({"error": {"message": message, "type": kind, "param": "model" if code == "model" else None,
                                 "code": code or kind}}).encode()

"""Which software answered: a name from the headers, the host and the shape of the model list.

Stdlib only. The names of local servers come from their presets (``catalog.Preset.server``),
so a preset and the fingerprint of the same software can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from llmswitch.base import urls
from llmswitch.store import catalog

from ...base.outcome import Diagnosis, Outcome, ProbeTarget

__all__ = ["PUBLIC_MODELS_KEY_CHECK", "fingerprint", "note_impostor"]


def _local(preset_id: str) -> str:
    found = catalog.local_preset(preset_id)
    if found is None or found.server is None:  # pragma: no cover - a broken preset table
        raise LookupError(f"no local preset {preset_id!r} with a server name")
    return found.server


OLLAMA, LM_STUDIO, VLLM, LLAMACPP, LITELLM = (_local(p) for p in ("ollama", "lm_studio", "vllm", "llamacpp", "litellm"))

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
_OWNED_BY_NAMES = {"library": OLLAMA, "llamacpp": LLAMACPP, "vllm": VLLM, "organization_owner": LM_STUDIO}


def fingerprint(headers: Mapping[str, str], data: Any, target: ProbeTarget) -> str | None:
    """Name the software behind an answer from its headers, host and model-list shape."""
    h = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(k.startswith("x-litellm") for k in h):
        return LITELLM
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
        return LLAMACPP
    if "ollama" in server:
        return OLLAMA
    return _from_body(data)


def _from_body(data: Any) -> str | None:
    items = data.get("data") if isinstance(data, dict) else None
    if isinstance(items, list):
        first = [i for i in items[:50] if isinstance(i, dict)]
        owners = {i.get("owned_by") for i in first}
        for owner, name in _OWNED_BY_NAMES.items():
            if owner in owners:
                return name
        if any("max_model_len" in i for i in first):
            return VLLM
        if any("pricing" in i and "canonical_slug" in i for i in first):
            return "OpenRouter"
        if isinstance(data, dict) and "has_more" in data and any(i.get("type") == "model" for i in first):
            return "Anthropic"
        if items and len(first) == len(items[:50]) and all(i.get("created") == _LITELLM_CREATED for i in first):
            return LITELLM
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str) and "unexpected endpoint" in error.lower():
        return LM_STUDIO
    if isinstance(error, dict) and error.get("type") in _LITELLM_ERROR_TYPES:
        return LITELLM
    return None


def note_impostor(diagnosis: Diagnosis, target: ProbeTarget) -> Diagnosis:
    """Say so when a local preset expects one server and another one answered (a port clash)."""
    preset = catalog.local_preset(target.preset)
    expected = preset.server if preset else None
    if (expected and diagnosis.server and diagnosis.server != expected and urls.is_local(target.base_url)
            and diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY, Outcome.KEY_UNVERIFIED,
                                      Outcome.MODEL_MISSING)):
        return replace(diagnosis, summary=f"{diagnosis.summary} · answered by {diagnosis.server}, not {expected}")
    return diagnosis

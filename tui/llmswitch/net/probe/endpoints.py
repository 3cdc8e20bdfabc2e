"""The addresses a probe asks: the model list and the chat endpoint, per API kind.

OpenAI-compatible and Anthropic servers take paths under ``base_url``; Azure has two
shapes of its own, built by :mod:`llmswitch.net.azure` (the same function ``client()`` and
``env`` use), so the probe never asks a URL the client would not.
"""

from __future__ import annotations

from llmswitch.base import urls
from llmswitch.net import azure

from ...base.outcome import ProbeTarget

__all__ = ["chat_url", "models_url"]


def models_url(target: ProbeTarget) -> str:
    """``{base}/models``, or Azure's list for the target's ``api_version``."""
    if target.api_kind == "azure":
        return azure.models_url(target.base_url, target.api_version)
    return urls.join(target.base_url, "/models")


def chat_url(target: ProbeTarget) -> str:
    """``{base}/chat/completions`` (``/messages`` for Anthropic), or Azure's for the selected deployment."""
    if target.api_kind == "azure":
        return azure.chat_url(target.base_url, target.api_version, target.model or "")
    return urls.join(target.base_url, "/messages" if target.api_kind == "anthropic" else "/chat/completions")

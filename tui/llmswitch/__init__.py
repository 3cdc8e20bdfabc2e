"""llmswitch: one place to configure LLM providers; every other tool reads the choice.

    import llmswitch
    sel = llmswitch.active()          # stdlib-only read of active.toml
    client = llmswitch.client()       # openai.OpenAI with base_url, key and headers set

Attributes resolve lazily (PEP 562), so ``import llmswitch`` costs nothing.
"""

from __future__ import annotations

__all__ = ["__version__", "ActiveSelection", "NoSelection", "SelectionError", "Watcher", "active", "async_client", "client",
           "environment", "scope", "watch"]

_FROM_API = {"active", "client", "async_client", "environment", "scope", "watch", "Watcher"}
_FROM_SELECTION = {"ActiveSelection", "NoSelection", "SelectionError"}


def __getattr__(name: str) -> object:
    if name == "__version__":  # one source: the installed distribution's metadata (pyproject.toml)
        from importlib.metadata import version

        return version("llmswitch")
    if name in _FROM_API:
        from . import api

        return getattr(api, name)
    if name in _FROM_SELECTION:
        from .store import selection

        return getattr(selection, name)
    raise AttributeError(f"module 'llmswitch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""Probing OpenAI-compatible endpoints: is it there, does the key work, what is it?

The package's names resolve lazily (PEP 562): ``from llmswitch.probe import Outcome``
loads only :mod:`llmswitch.probe.outcome` (stdlib), while ``probe``/``probe_all``
bring in the transport (httpx) on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "outcome": ("AUTH", "FOUND", "KEY_REFUSED", "LISTED", "NOT_THERE", "UNREACHABLE", "USABLE",
                "DeepCheck", "Diagnosis", "Outcome", "ProbeResult", "ProbeTarget"),
    "_core": ("cancelled_result", "classify", "diagnose_error", "fingerprint", "new_client", "probe", "probe_all",
              "probe_sync", "render_json", "render_table"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'llmswitch.probe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

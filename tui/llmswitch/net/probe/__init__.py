"""Probing OpenAI-compatible endpoints: is it there, does the key work, what is it?

``probe(target)`` asks ``GET {base_url}/models`` and turns whatever happens — an
answer, an error body, a refused connection, a redirect, silence — into a
``ProbeResult`` with one ``Outcome``, a short summary, a one-sentence fix and the
(redacted) request that was sent. ``probe_all`` does many targets at once over one
client (httpcore's pool, ``transport.ProbeClient``) and yields each result as it finishes.

The modules, one job each:

* ``outcome`` — the outcome enum, its named sets and the result types (stdlib only);
* ``targets`` — the one place a provider or a selection becomes a ``ProbeTarget``;
* ``classifier`` — one answer (status, headers, body) → ``Diagnosis``; pure;
* ``fingerprints`` — which software answered;
* ``transport`` — the one capped, deadlined request, its retries, and what a transport failure means;
* ``endpoints`` — the URLs asked per API kind (Azure's two shapes come from ``llmswitch.net.azure``);
* ``fixes`` — other base URLs, a redirect looked at once, the key check where ``/models`` is public;
* ``verify`` — whether a listing proved the key: KEY_UNVERIFIED, ANY_KEY, ``verified_by``;
* ``deep`` — the 1-token streamed chat check (and, on a public list, the same chat with a wrong key);
* ``run`` — ``probe``, ``probe_all``, ``probe_sync`` and the result;
* ``render`` — the CLI's table and JSON.

(``classifier`` and ``fingerprints``, not ``classify`` and ``fingerprint``: importing a
submodule sets the package attribute of its name, which would replace the functions
``llmswitch.net.probe.classify`` and ``llmswitch.net.probe.fingerprint`` with modules.)

Rules the package keeps:

* The key is only ever sent to the configured origin (scheme, host, port).
  Redirects are never followed automatically; a same-origin one is looked at
  once to diagnose it, a cross-origin one is reported and not requested.
* Auth is verified, not assumed: "ok" means the key was proven — by ``key_check_path``,
  by ``/models`` refusing the same request without it (or with a wrong key), or by
  ``--deep``; otherwise KEY_UNVERIFIED or ANY_KEY. A target without a key is KEYLESS or
  AUTH_MISSING, never OK.
* Every string taken from a response passes through ``terminal_safe`` and has
  the key scrubbed from it; answers are read with an 8 MiB cap.
* Each target has one time budget (``timeout``) for everything: retries of
  429/5xx, the key check and the search for a better base URL. The optional
  deep check gets a budget of its own.
* ``probe`` never raises, except ``asyncio.CancelledError``.

Names resolve lazily (PEP 562): ``from llmswitch.net.probe import Outcome`` loads only
:mod:`llmswitch.base.outcome` (stdlib), while ``probe``/``probe_all`` bring in the
transport (httpcore, never httpx) on first use. No Textual here: the CLI and the app both use it.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "llmswitch.base.outcome": ("AUTH", "FOUND", "KEY_REFUSED", "LISTED", "NOT_THERE", "UNREACHABLE", "USABLE",
                "DeepCheck", "Diagnosis", "Outcome", "ProbeResult", "ProbeTarget"),
    "classifier": ("classify",),
    "fingerprints": ("fingerprint",),
    "transport": ("diagnose_error", "new_client"),
    "run": ("cancelled_result", "probe", "probe_all", "probe_sync"),
    "render": ("render_json", "render_table"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'llmswitch.net.probe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module if "." in module else f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

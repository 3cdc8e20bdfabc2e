"""What Gemini-API tools read, for ``llmswitch env``/``exec`` when the selection serves Google's Gemini API.

Gemini CLI (and the ``@google/genai`` SDK under it) speaks only the Gemini API: it POSTs
``ROOT/v1beta/models/MODEL:streamGenerateContent`` with the key in ``x-goog-api-key``. A provider
serves that API when its preset's ``serves`` says ``gemini`` (a LiteLLM proxy; Google itself), never
by guess. Then ``exec`` also sets:

* ``GOOGLE_GEMINI_BASE_URL``: the API root (:func:`api_root`: the base URL without its OpenAI-style
  ``/v1`` or ``/v1beta/openai``);
* ``GEMINI_API_KEY``: the key (a keyless server's placeholder when it takes none).

Both are in :data:`llmswitch.api.GEMINI_VARS`, part of :data:`~llmswitch.api.OWNED_VARS`: set for such a
selection, cleared for any other, so a gateway's key from an earlier selection never travels to Google,
and Google's key never to a gateway.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..store.config import ProviderConfig
    from ..store.selection import ActiveSelection

_OPENAI_SUFFIXES = ("/v1beta/openai", "/v1")
"""What an OpenAI-style base URL adds to the Gemini API root (Google's compatibility layer; a gateway's /v1)."""


def api_root(base_url: str) -> str:
    """The root under which ``/v1beta/models/…`` answers: ``http://h:4000/v1`` → ``http://h:4000``,
    ``https://generativelanguage.googleapis.com/v1beta/openai`` → ``https://generativelanguage.googleapis.com``."""
    root = base_url.rstrip("/")
    for suffix in _OPENAI_SUFFIXES:
        if root.endswith(suffix):
            return root[: -len(suffix)]
    return root


def serves_gemini(provider: ProviderConfig | None) -> bool:
    """Whether ``provider``'s preset is documented to serve the Gemini API (its ``serves``; no hosted catalog is loaded)."""
    if provider is None:
        return False
    from ..store.catalog import served_by

    return any("gemini" in served_by(name) for name in (provider.preset, provider.id) if name)


def root_for(sel: ActiveSelection, provider: ProviderConfig | None) -> str | None:
    """The Gemini API root for ``sel``, or None when its provider does not serve the Gemini API."""
    return api_root(sel.base_url) if serves_gemini(provider) else None


def variables(root: str, key: str | None) -> dict[str, str]:
    """The Gemini variables for a selection served at ``root``; ``key`` None leaves the key out."""
    env = {"GOOGLE_GEMINI_BASE_URL": root}
    if key is not None:
        env["GEMINI_API_KEY"] = key
    return env

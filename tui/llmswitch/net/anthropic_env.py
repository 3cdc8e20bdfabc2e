"""What Anthropic-protocol tools read, for ``llmswitch env``/``exec`` when the selection speaks Messages.

A selection speaks Anthropic Messages when its provider's kind is ``anthropic`` (the
Messages API at ``BASE_URL/messages``) or when it is a gateway known to serve
``/v1/messages`` beside the OpenAI routes (its preset's ``serves`` says so: the LiteLLM proxy,
OpenRouter). Then ``exec`` also sets:

* ``ANTHROPIC_BASE_URL``: the endpoint root without ``/v1`` (Claude Code and the Anthropic
  SDKs append ``/v1/messages`` themselves);
* the key in the header llmswitch itself sends: ``ANTHROPIC_API_KEY`` (``x-api-key``) for
  kind ``anthropic``, ``ANTHROPIC_AUTH_TOKEN`` (``Authorization: Bearer``) for a gateway —
  never both, which Claude Code reports as an auth conflict;
* ``ANTHROPIC_MODEL``: the role's model;
* ``ANTHROPIC_DEFAULT_HAIKU_MODEL`` and its older name ``ANTHROPIC_SMALL_FAST_MODEL`` (the
  model Claude Code uses for background work): the ``small`` role's model when that role is
  on the same endpoint, otherwise the role's own model, so no request asks the endpoint for
  a model it may not serve.

Every one of these is in :data:`llmswitch.api.ANTHROPIC_VARS`, part of :data:`~llmswitch.api.OWNED_VARS`: set for such a selection, cleared
for any other, so a gateway token from an earlier ``eval "$(llmswitch env)"`` never travels
to api.anthropic.com.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..store.config import ProviderConfig
    from ..store.selection import ActiveSelection

SMALL_ROLE = "small"


def messages_root(sel: ActiveSelection, provider: ProviderConfig | None = None) -> str | None:
    """The root URL under which ``/v1/messages`` answers for ``sel``, or None when it does not speak Messages."""
    if sel.api_kind != "anthropic" and not (provider is not None and is_messages_gateway(provider.preset or provider.id)):
        return None
    from ..base.urls import api_root

    return api_root(sel.base_url)


def is_messages_gateway(preset: str) -> bool:
    """Whether the preset ``preset`` is a gateway documented to serve Anthropic Messages at ``ROOT/v1/messages``
    (with a Bearer token) beside the OpenAI routes, by its ``serves`` (no hosted catalog is loaded)."""
    from ..store.catalog import served_by

    served = served_by(preset)
    return "messages" in served and "chat" in served


def key_variable(sel: ActiveSelection) -> str:
    """The variable that carries the key: the header llmswitch itself sends for this kind."""
    return "ANTHROPIC_API_KEY" if sel.api_kind == "anthropic" else "ANTHROPIC_AUTH_TOKEN"


def variables(sel: ActiveSelection, key: str | None, root: str, small: ActiveSelection | None = None) -> dict[str, str]:
    """The Anthropic variables for ``sel`` served at ``root``; ``key`` None leaves the key out."""
    same_endpoint = small is not None and (small.provider, small.base_url) == (sel.provider, sel.base_url)
    fast = small.model if small is not None and same_endpoint else sel.model
    env = {"ANTHROPIC_BASE_URL": root, "ANTHROPIC_MODEL": sel.model,
           "ANTHROPIC_DEFAULT_HAIKU_MODEL": fast, "ANTHROPIC_SMALL_FAST_MODEL": fast}
    if key is not None:
        env[key_variable(sel)] = key
    return env


def small_role(sel: ActiveSelection) -> ActiveSelection | None:
    """The ``small`` role's selection beside ``sel`` (None when unset or when ``sel`` is that role)."""
    if sel.role == SMALL_ROLE:
        return None
    from ..base.errors import NoSelection
    from ..store import selection

    try:
        return selection.read(SMALL_ROLE)
    except NoSelection:
        return None

"""The relay's one question about a provider: does it serve protocol X?

Every such question in the relay goes through :func:`serves`: the probe's protocol fingerprint of the
provider's base URL where a fresh one is kept, else the documented table
(:func:`llmswitch.store.served.serves`, the same answer ``connect`` uses). Two relay routes travel with
another where nothing was checked: ``count_tokens`` with Messages, and embeddings are known absent only
from an Anthropic-only API. ``None`` means nobody knows: the request goes through and the upstream answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.config import Config, ProviderConfig

_DERIVED = {"count_tokens": "messages"}
"""Protocols that travel with another: a server that serves Messages is asked for count_tokens too."""


def serves(provider: ProviderConfig, protocol: str) -> bool | None:
    """True or False when ``provider`` is known to serve (or not) ``protocol``; None when unknown."""
    from ..store import catalog
    from ..store.served import serves as known

    said = known(provider, protocol)
    if said is not None or protocol not in ("count_tokens", "embeddings"):
        return said
    served = catalog.served_by(provider.preset) or catalog.served_by(provider.id) \
        or catalog.KIND_SERVES.get(provider.kind, frozenset())
    if not served:
        return None
    if protocol == "embeddings":  # not in the documented table: only an Anthropic-only API is known not to
        return False if served == frozenset({"messages"}) else None
    return _DERIVED[protocol] in served


def who_serves(protocol: str, config: Config) -> list[str]:
    """Providers that would serve ``protocol`` (configured ones first, then presets), at most four: connect's list."""
    from ..tools.connect.verify import who_serves as named

    return [name for name in named(protocol, config).split(", ") if name]

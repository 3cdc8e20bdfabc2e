"""The relay's one question about a provider: does it serve protocol X?

Every such question in the relay goes through :func:`serves`. Today it answers from what is
documented (:attr:`llmswitch.store.catalog.Preset.serves`, then the API kind); the protocol
fingerprint (``llmswitch.net.probe``) answers it from what the server showed when it lands.
``None`` means nobody knows: the request goes through and the upstream answers.
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

    served = catalog.served_by(provider.preset) or catalog.served_by(provider.id) \
        or catalog.KIND_SERVES.get(provider.kind, frozenset())
    if not served:
        return None
    if protocol == "embeddings":  # not in the documented table: only an Anthropic-only API is known not to
        return False if served == frozenset({"messages"}) else None
    return _DERIVED.get(protocol, protocol) in served


def who_serves(protocol: str, config: Config) -> list[str]:
    """Configured providers known to serve ``protocol``, else presets (hosted first), at most four."""
    from ..store import catalog
    from ..store.config import provider_from_preset

    names = [p.id for p in config.providers.values() if serves(p, protocol)]
    if not names:
        wanted = _DERIVED.get(protocol, protocol)
        found = [p for p in catalog.presets().values() if wanted in p.serves and p.kind != "azure"]
        names = [p.id for p in sorted(found, key=lambda p: (p.local, p.id)) if serves(provider_from_preset(p), protocol)]
    return names[:4]

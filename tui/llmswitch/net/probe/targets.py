"""Building a :class:`ProbeTarget`: the one place a provider or a selection becomes something to probe.

No httpx here; keys are resolved through :mod:`llmswitch.store.keys` only when asked.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from llmswitch.base.keyorigin import KeyOrigin

from ...base.outcome import ProbeTarget

if TYPE_CHECKING:
    from llmswitch.store.config import ProviderConfig
    from llmswitch.store.selection import ActiveSelection

__all__ = ["for_provider", "for_selection"]


def for_provider(provider: ProviderConfig, model: str | None = None, timeout: float | None = None, *,
                 resolve_key: bool = True) -> tuple[ProbeTarget, str | None]:
    """A target for a configured provider, with its key resolved; returns ``(target, key_problem)``.

    A keyring problem is reported, not raised, so the probe can still say whether the
    server answers. ``resolve_key=False`` probes without a key (local-server detection).
    """
    key: str | None = None
    problem: str | None = None
    origin: KeyOrigin | None = None
    headers = dict(provider.headers)
    if resolve_key:
        from llmswitch.base.keyfix import place_of
        from llmswitch.store.keys import KeyProblem, headers_for, resolve_for

        try:
            resolution = resolve_for(provider)
            key, origin = resolution.key, resolution.origin
            if key is not None:  # a refused key's fix may say where to change key_source
                origin = replace(origin, place=place_of(provider.id))
            if resolution.problems and key is None:
                problem = resolution.problems[0]
        except KeyProblem as exc:
            key, problem = None, str(exc)
        try:  # secret headers named in config.toml, resolved for this request only
            headers = headers_for(provider)
        except KeyProblem as exc:
            problem = problem or str(exc)
    target = ProbeTarget(
        provider=provider.id, base_url=provider.base_url or "", key=key, key_required=provider.key_required,
        headers=headers, timeout=timeout or provider.timeout, model=model,
        key_check_path=provider.key_check_path, preset=provider.preset, api_kind=provider.kind,
        start_hint=provider.start_hint, key_origin=origin, api_version=provider.api_version,
    )
    return target, problem


def for_selection(sel: ActiveSelection, key: str | None, origin: KeyOrigin | None = None) -> ProbeTarget:
    """A target describing an active selection; ``key`` (what was sent) is used to scrub messages.

    A required key that the caller does not hold is marked ``"(sent)"`` so the probe's
    sentences say a key was sent rather than that none was. ``origin`` (where that key came
    from) makes a rejected key's fix name the place it was read from.
    """
    from llmswitch.store import catalog

    preset = catalog.preset(sel.provider)
    return ProbeTarget(provider=sel.provider, base_url=sel.base_url,
                       key=key or ("(sent)" if sel.key_required else None), key_required=sel.key_required,
                       headers=dict(sel.headers), model=sel.model, preset=preset.id if preset else None,
                       api_kind=sel.api_kind, start_hint=preset.start_hint if preset else None, key_origin=origin,
                       api_version=sel.api_version)

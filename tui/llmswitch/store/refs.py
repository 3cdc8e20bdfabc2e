"""A ``PROVIDER/MODEL`` reference, read against ``config.toml``: the provider it names and the selection it makes.

The store's half of switching (:mod:`llmswitch.services.switch` writes it and warns about unknown models):
the scopes and the project file resolve references here without the switcher.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import errors
from ..base.errors import Exit
from ..base.redact import terminal_safe
from . import catalog, selection
from .config import Config, ProviderConfig, UnknownProvider, model_id_problem
from .selection import ActiveSelection

__all__ = ["SwitchError", "parse_ref", "selection_for"]


class SwitchError(errors.SwitchError):
    """:class:`llmswitch.base.errors.SwitchError` (cause, fix, exit_code).

    ``code`` is kept only for callers that have not moved to ``exit_code`` yet.
    """

    @property
    def code(self) -> int:
        return int(self.exit_code)


def parse_ref(ref: str, config: Config, *,
              suggest: Callable[[str, Config], list[str]] | None = None) -> tuple[ProviderConfig, str]:
    """``provider/model`` → (provider, model); the provider part is never guessed.

    ``suggest`` names the providers that serve a bare model id, for the did-you-mean
    (:func:`llmswitch.services.models.owners`, handed in: the model lists are a floor above the store).
    """
    provider_id, sep, model = ref.strip().partition("/")
    if not sep or not provider_id:
        found = suggest(ref.strip(), config) if suggest is not None else []
        hint = f"did you mean {' or '.join(found)}?" if found else "e.g. openrouter/openai/gpt-4o-mini"
        raise SwitchError(f"{terminal_safe(repr(ref), 80)} names no provider; write PROVIDER/MODEL", hint)
    try:
        provider = config.provider(provider_id)
    except UnknownProvider as exc:
        raise SwitchError(exc.cause, exc.fix, exit_code=Exit.NOT_FOUND) from None
    why = model_id_problem(model)
    if why:
        raise SwitchError(why[0], why[1], subject=terminal_safe(ref, 80))
    if not provider.base_url:
        preset = catalog.preset(provider.id)
        hint = f"set {preset.url_env} or " if preset and preset.url_env else ""
        raise SwitchError(f"{provider.id} has no base_url",
                          f"{hint}run: llmswitch providers add {provider.id} --base-url URL")
    return provider, model


def selection_for(provider: ProviderConfig, model: str, role: str = selection.DEFAULT_ROLE) -> ActiveSelection:
    """The role's selection, its key facts a copy of config.toml's (:func:`llmswitch.store.keydecision.key_fields`)."""
    from .keydecision import key_fields

    return ActiveSelection(role=role, provider=provider.id, model=model, base_url=provider.base_url or "",
                           api_kind=provider.kind, headers=dict(provider.headers), api_version=provider.api_version,
                           **key_fields(provider))

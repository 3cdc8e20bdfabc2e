"""Switching models: the one place a ``PROVIDER/MODEL`` reference becomes a selection.

``llmswitch use``, the picker's Enter and the REPL's ``/model --save`` all go
through :func:`switch`, so the rules are the same everywhere: an explicit
provider is a hard constraint (never a fallback), a placeholder model id is
refused, an unknown model gets a did-you-mean warning.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..base.errors import LlmswitchError
from ..store import catalog, refs, selection, state
from ..store.config import Config, ConfigError, ProviderConfig, plain_http_warning
from ..store.refs import SwitchError, selection_for  # re-exported: callers switch and catch in one place
from ..store.selection import ActiveSelection

__all__ = ["SwitchError", "SwitchResult", "known_model_ids", "model_warning", "parse_ref", "selection_for", "switch"]


def _refused(exc: Exception) -> SwitchError:
    """Another module's failure (selection, config) as a SwitchError carrying the same fields."""
    if isinstance(exc, LlmswitchError):
        return SwitchError(exc.cause, exc.fix, subject=exc.subject, exit_code=exc.exit_code, problems=exc.problems)
    return SwitchError(str(exc))


@dataclass(frozen=True)
class SwitchResult:
    selection: ActiveSelection
    warnings: tuple[str, ...]


def parse_ref(ref: str, config: Config) -> tuple[ProviderConfig, str]:
    """``provider/model`` → (provider, model); a bare model id is answered with the providers that serve it."""
    from .models import owners

    return refs.parse_ref(ref, config, suggest=owners)


def known_model_ids(provider: ProviderConfig) -> tuple[list[str] | None, list[str]]:
    """(the last live list or None, the catalog's ids) for a provider."""
    live = state.known_models(provider.id, provider.base_url)
    return live, [m.id for m in catalog.catalog_models(provider.preset or provider.id)]


def model_warning(provider: ProviderConfig, model: str) -> str | None:
    """A warning when ``model`` is in neither the live list, the catalog nor the favourites."""
    live, catalog_ids = known_model_ids(provider)
    known = list(dict.fromkeys([*(live or []), *catalog_ids, *provider.favorites]))
    if model in known:
        return None
    if not known:
        return f"{provider.id} has no model list yet, so {model!r} was not checked — run: llmswitch probe {provider.id}"
    close = difflib.get_close_matches(model, known, n=3, cutoff=0.6)
    where = "its last model list" if live else "the catalog"
    hint = f"did you mean {', '.join(close)}?" if close else f"see: llmswitch list {provider.id}"
    return f"{model!r} is not in {where} for {provider.id} — {hint}"


def switch(ref: str, role: str = selection.DEFAULT_ROLE, config: Config | None = None, *,
           check_key: bool = True) -> SwitchResult:
    """Validate ``ref`` and write it as ``role``'s selection. Raises SwitchError."""
    from ..store.config import load

    try:
        selection.check_role(role)
    except selection.SelectionError as exc:
        raise _refused(exc) from None
    if config is None:
        try:
            config = load()
        except ConfigError as exc:  # its cause is the one "providers file has problems" sentence
            raise _refused(exc) from None
    provider, model = parse_ref(ref, config)
    if not provider.configured:
        provider = _configure_preset(provider)
    sel = selection_for(provider, model, role)
    try:
        selection.write(sel)
    except selection.SelectionError as exc:
        raise _refused(exc) from None
    except OSError as exc:
        raise SwitchError(f"could not write {exc.filename or 'active.toml'} ({exc.strerror})",
                          "check the config directory's permissions") from None
    unknown_model = model_warning(provider, model)
    live, catalog_ids = known_model_ids(provider)
    if unknown_model is None or not (live or catalog_ids or provider.favorites):
        state.add_recent(sel.ref)  # a likely typo (did-you-mean) does not become a "recent" model
    from ..net.gateway import mode_warning

    warnings = [w for w in (unknown_model, mode_warning(provider, model, role)) if w]
    http = plain_http_warning(provider)
    if http and provider.key_required:
        warnings.append(http)
    warnings.extend(_follow(config))
    if check_key:
        from ..store.keys import KeyProblem, resolve_for

        try:
            resolve_for(provider).require()
        except KeyProblem as exc:
            warnings.append(str(exc))
    return SwitchResult(sel, tuple(warnings))


def _configure_preset(provider: ProviderConfig) -> ProviderConfig:
    """A preset with no config entry, used: when the key decision differs from the preset's own (no keyring works
    here, or a probe saw the server answer without a key or ask for one), it is written to config.toml first."""
    from ..store.config import add_provider
    from ..store.keydecision import decide_for

    decision = decide_for(provider.id, base_url=provider.base_url, preset=provider.preset)
    settings = decision.settings()
    if settings == {"key_source": "keyring"}:
        return provider  # the preset's own: nothing to write
    try:
        return add_provider(provider.id, settings).provider(provider.id)
    except LlmswitchError as exc:
        raise _refused(exc) from None
    except OSError as exc:
        raise SwitchError(f"could not write {exc.filename or 'config.toml'} ({exc.strerror})",
                          "check the config directory's permissions") from None


def _follow(config: Config) -> list[str]:
    """Connected tools (``llmswitch connect``) follow the new selection now; a failure is a warning, never a lost switch."""
    try:
        from ..tools.connect import registry

        if not registry.connected():
            return []
        from ..tools.connect.engine import follow

        return follow(config)
    except Exception as exc:  # noqa: BLE001 - the selection is written; nothing here may undo it
        return [f"connected tools were not updated ({type(exc).__name__}: {exc}) — run: llmswitch connections"]

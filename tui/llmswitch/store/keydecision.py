"""Whether a provider needs a key, and where its key comes from: decided once, here, for every writer.

The wizard, ``add URL``, ``providers add``, ``import --add``, the provider editor and ``use`` of a
preset with no config entry all call :func:`decide` (or :func:`decide_for`) and write what it
returns into ``config.toml``; ``active.toml`` carries a copy (:func:`key_fields`), derived from the
loaded provider when a role is written and refreshed by :func:`refresh_selections` whenever the
decision changes (a probe that learns the server now wants a key). The rules:

* **the source**: what the person (or the tool being imported) chose — a variable, a command, a key
  typed into the keyring — is kept, unless it is the keyring and no keyring works here; a server
  that answered without a key gets ``key_source = "none"``; otherwise the keyring when one works,
  else ``env:VAR`` with the provider's conventional variable (``OPENROUTER_API_KEY``,
  ``GPU_BOX_API_KEY``), so every fix names a place that can hold a key here;
* **required**: a hosted preset always wants a key; otherwise what the last probe learned (it
  refused without a key: required; it answered without one: not), else the config's own rule
  (a server on this machine: optional; elsewhere: required). ``key_required`` is written into
  config.toml only when it differs from that rule, so the file says what is known.

Stdlib only at import: the keyring, the state files and config.toml are read inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..base.outcome import ProbeResult
    from .config import Config, ProviderConfig

__all__ = ["KeyDecision", "decide", "decide_for", "default_variable", "key_fields", "keyring_works", "learned_from",
           "refresh_selections"]

KEYRING = "keyring"
NONE = "none"


@dataclass(frozen=True)
class KeyDecision:
    """Where a provider's key comes from and whether one is needed, as config.toml will say it."""

    source: str
    """``key_source`` as written: ``keyring``, ``env:VAR``, ``command:CMD`` or ``none``."""
    required: bool
    """Whether readers must find a key (no ``llmswitch-keyless`` placeholder is handed out when True)."""
    default_required: bool
    """What config.toml's own rule says without ``key_required`` (a hosted preset or a remote server: True)."""
    why: str
    """One phrase for the person: ``the server answered without a key``, ``no keyring works here`` …"""

    def settings(self) -> dict[str, Any]:
        """The provider's key lines for config.toml: ``key_source`` always, ``key_required`` when it is news."""
        settings: dict[str, Any] = {"key_source": self.source}
        if self.source != NONE and self.required != self.default_required:
            settings["key_required"] = self.required
        return settings

    @property
    def variable(self) -> str | None:
        """The variable of an ``env:VAR`` source (None otherwise)."""
        return self.source.removeprefix("env:") if self.source.startswith("env:") else None


def default_variable(provider_id: str, key_env: tuple[str, ...] = ()) -> str:
    """The variable proposed for a key when it is not kept in the keyring: the preset's conventional one
    (``OPENROUTER_API_KEY``), else ``<ID>_API_KEY`` (``gpu-box`` → ``GPU_BOX_API_KEY``)."""
    if key_env:
        return key_env[0]
    from . import catalog

    preset = catalog.preset(provider_id)
    if preset is not None and preset.key_env:
        return preset.key_env[0]
    name = "".join(c if c.isascii() and c.isalnum() else "_" for c in provider_id).upper().strip("_") or "LLM"
    return f"{'_' + name if name[0].isdigit() else name}_API_KEY"


def decide(*, chosen: str | None, default_required: bool, hosted: bool, learned: bool | None,
           keyring_ok: bool, variable: str) -> KeyDecision:
    """The one decision (pure).

    ``chosen``: the ``key_source`` the person or the imported tool named (``keyring`` for a typed key), or
    None; ``default_required``: config.toml's rule without ``key_required``; ``hosted``: a hosted preset (it
    always wants a key); ``learned``: what the last probe said (True: it refused without a key; False: it
    answered without one; None: it did not say); ``keyring_ok``: whether a keyring works here;
    ``variable``: the variable proposed when the keyring cannot be used.
    """
    required = True if hosted else (default_required if learned is None else learned)
    if learned is False and not hosted:
        if chosen and (chosen != KEYRING or keyring_ok):
            return KeyDecision(chosen, False, default_required, "the server answered without a key; the key named "
                                                                "is sent when it is there")
        return KeyDecision(NONE, False, default_required, "the server answered without a key")
    why = "the server wants a key" if learned else "a hosted provider wants a key" if hosted else \
        "whether the server wants a key is not known yet"
    if chosen and (chosen != KEYRING or keyring_ok):
        return KeyDecision(chosen, required, default_required, why)
    if keyring_ok:
        return KeyDecision(KEYRING, required, default_required, why)
    return KeyDecision(f"env:{variable}", required, default_required, f"{why}; no keyring works here")


def keyring_works() -> bool:
    """Whether a key stored now would be kept and found (a usable, non-plaintext keyring backend). Blocking."""
    from . import keys

    try:
        keys.backend()
    except keys.KeyProblem:
        return False
    return True


def decide_for(provider_id: str, *, base_url: str | None, preset: str | None = None, chosen: str | None = None,
               result: ProbeResult | None = None, keyring_ok: bool | None = None,
               key_env: tuple[str, ...] = ()) -> KeyDecision:
    """:func:`decide` for one provider, its inputs looked up: the preset, config.toml's rule for this URL,
    what ``result`` (or else the last remembered probe at ``base_url``) learned, and the keyring."""
    from ..base import urls
    from . import catalog, state

    found = catalog.preset(preset or provider_id)
    hosted = bool(found is not None and found.key_required)
    if found is not None:
        default_required = found.key_required
    else:
        default_required = not (base_url and urls.is_loopback(base_url))
    learned = state.key_wanted(result) if result is not None else None
    if learned is None:
        learned = state.learned_key(provider_id, base_url)
    return decide(chosen=chosen, default_required=default_required, hosted=hosted, learned=learned,
                  keyring_ok=keyring_works() if keyring_ok is None else keyring_ok,
                  variable=default_variable(provider_id, key_env or (found.key_env if found else ())))


def learned_from(provider: ProviderConfig, result: ProbeResult) -> KeyDecision | None:
    """What a probe of a configured provider makes news of for config.toml, or None: the decision when the server's
    answer (it refused without a key, or answered without one) says something other than the file about whether a
    key is needed. The source stays the one configured; ``key_source = "none"`` is left alone (it sends no key, so
    its probe cannot tell)."""
    from . import state

    if not provider.configured or provider.key_source == NONE or state.key_wanted(result) is None:
        return None
    decision = decide_for(provider.id, base_url=provider.base_url, preset=provider.preset,
                          chosen=provider.key_source_text(), result=result, keyring_ok=True, key_env=provider.key_env)
    return None if decision.required == provider.key_required else decision


# --- active.toml's copy ------------------------------------------------------------------------

_KEY_FIELDS = ("key_source", "keyring_service", "keyring_username", "key_env", "key_command", "key_required")


def key_fields(provider: ProviderConfig) -> dict[str, Any]:
    """The key facts active.toml carries for ``provider`` (derived from config.toml, never stored apart)."""
    from .keys import SERVICE

    keyring = provider.key_source == KEYRING
    return {"key_source": provider.key_source, "keyring_service": SERVICE if keyring else None,
            "keyring_username": provider.id if keyring else None, "key_env": tuple(provider.key_env),
            "key_command": provider.key_command, "key_required": provider.key_required}


def refresh_selections(provider_ids: tuple[str, ...] | None = None, config: Config | None = None) -> list[str]:
    """Rewrite the key facts of every role whose provider's decision changed; returns the roles rewritten.

    Not a switch: the model, URL and headers stay, connected tools are not rewritten, and a role whose key
    facts already agree is not touched (so watchers see a change only when there is one). Never raises: a
    role it cannot refresh is rewritten by the next ``llmswitch use``.
    """
    from ..base.errors import LlmswitchError
    from . import selection

    try:
        roles = [s for s in selection.read_all().values() if provider_ids is None or s.provider in provider_ids]
        if not roles:
            return []
        if config is None:
            from .config import load

            config = load()
        changed = []
        for sel in roles:
            try:
                provider = config.provider(sel.provider)
            except LlmswitchError:
                continue  # no longer configured: `use` says so, a refresh does not guess
            wanted = key_fields(provider)
            if all(getattr(sel, name) == wanted[name] for name in _KEY_FIELDS):
                continue
            selection.write(selection.ActiveSelection(
                role=sel.role, provider=sel.provider, model=sel.model, base_url=sel.base_url, api_kind=sel.api_kind,
                headers=sel.headers, api_version=sel.api_version, updated=sel.updated, **wanted))
            changed.append(sel.role)
        return changed
    except (LlmswitchError, OSError):
        return []

"""First-run onboarding without a screen: what is already here, and writing the wizard's choices at once.

* Detection: API keys in the environment (the presets' conventional variables) and
  local servers answering on their usual ports (probed briefly, without a key).
* The write: keys to the keyring, providers to ``config.toml``, the default (and small)
  model to ``active.toml`` — all or nothing. If one write fails, the files are put
  back byte for byte and the keyring entries to what they held, so a failed Finish
  leaves nothing half-written.

No Textual here: ``app/screens/setup.py`` is the UI, and the tests drive this module
against real servers on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import paths
from ..base.errors import LlmswitchError
from ..base.outcome import AUTH, NOT_THERE
from ..store import catalog, keys

if TYPE_CHECKING:
    from ..base.outcome import ProbeResult, ProbeTarget
    from ..store.config import ProviderConfig
    from ..tools.importing import Found
    from .addurl import Examined

__all__ = [
    "DETECT_TIMEOUT", "HOST_VARS", "LOCAL_IDS", "Choice", "LocalServers", "SetupFailed", "Written", "choice_for",
    "choice_for_found", "choice_for_url", "decided_settings", "detect_local", "from_other_tools", "env_keys", "own_var_url", "finish", "keyring_problem", "local_targets", "probe_targets", "providers_for", "wants_key",
]

LOCAL_IDS = ("ollama", "lm_studio", "vllm", "llamacpp", "litellm")
"""The local servers looked for, in the order they are shown."""
DETECT_TIMEOUT = 1.5
"""Seconds one local-server probe may take: nothing running answers at once (connection refused)."""
ROLES = ("default", "small")


# -- detection ----------------------------------------------------------------------------------

def env_keys(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Hosted presets whose key is in the environment: provider id → the variable that holds it."""
    env = os.environ if environ is None else environ
    found: dict[str, str] = {}
    for pid, preset in catalog.presets().items():
        if preset.local:
            continue
        var = next((v for v in preset.key_env if env.get(v, "").strip()), None)
        if var is not None:
            found[pid] = var
    return found


HOST_VARS = {"ollama": ("OLLAMA_HOST", 11434), "llamacpp": ("LLAMA_ARG_PORT", 8080)}
"""The servers' own variables for where they listen (``OLLAMA_HOST=0.0.0.0:11500``, ``LLAMA_ARG_PORT=8081``),
with the port each implies when the variable names only a host."""


def own_var_url(pid: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The base URL a local server's own variable points at (``OLLAMA_HOST=0.0.0.0:11500`` →
    ``http://127.0.0.1:11500/v1``), or None when it is unset or unreadable."""
    env = os.environ if environ is None else environ
    name, default_port = HOST_VARS.get(pid, ("", 0))
    value = env.get(name, "").strip() if name else ""
    if not value:
        return None
    scheme, _, rest = value.rpartition("://")
    authority = rest.partition("/")[0]
    if authority.isdigit():  # LLAMA_ARG_PORT=8081
        host, port = "", authority
    elif authority.startswith("["):  # [::1]:11434
        host, _, port = authority[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    if port and not port.isdigit():
        return None
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: this machine answers on loopback
        host = "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"{scheme or 'http'}://{host}:{port or default_port}/v1"


def local_targets(environ: Mapping[str, str] | None = None) -> list[ProbeTarget]:
    """One keyless, short probe per local server at its usual URL: the preset's variable (``OLLAMA_BASE_URL``)
    first, then the server's own (``OLLAMA_HOST``), then the default port."""
    from ..net.probe.targets import for_provider
    from ..store.config import provider_from_preset

    env = os.environ if environ is None else environ
    targets = []
    for pid in LOCAL_IDS:
        preset = catalog.preset(pid)
        if preset is None:
            continue
        provider = provider_from_preset(preset)
        own = own_var_url(pid, env)
        if own and not (preset.url_env and env.get(preset.url_env)):
            provider = replace(provider, base_url=own)
        if provider.base_url:
            target, _ = for_provider(provider, timeout=DETECT_TIMEOUT, resolve_key=False)
            targets.append(target)
    return targets


@dataclass(frozen=True)
class LocalServers:
    """What answered where a local server usually listens."""

    found: dict[str, ProbeResult]
    """Provider id → the probe's result, for every server that answered (whatever it said about keys)."""
    missing: tuple[str, ...]
    """Provider ids where nothing answered (see ``probe.outcome.NOT_THERE``)."""


async def detect_local(targets: Iterable[ProbeTarget] | None = None) -> LocalServers:
    """Probe the local servers' usual addresses concurrently (``local_targets()`` unless given)."""
    from ..net.probe import probe_all
    from .addurl import asked_with_a_key

    found: dict[str, ProbeResult] = {}
    missing: list[str] = []
    targets = list(local_targets() if targets is None else targets)
    by_id = {t.provider: t for t in targets}
    async for result in probe_all(targets):
        if result.outcome in NOT_THERE:
            missing.append(result.provider)
        else:  # a server that fails keyless requests is asked once with a wrong key: does it want one?
            found[result.provider] = await asked_with_a_key(by_id[result.provider], result)
    return LocalServers(found, tuple(missing))


def keyring_problem() -> str | None:
    """Why keys cannot be stored here (no usable keyring), or None. Blocking (the backend is picked)."""
    try:
        keys.backend()
    except keys.KeyProblem as exc:
        return str(exc)
    return None


def wants_key(pid: str, found: ProbeResult | None = None) -> bool:
    """Hosted providers need a key; a local server only when it answered that it wants one."""
    preset = catalog.preset(pid)
    return bool(preset is not None and preset.key_required) or (found is not None and found.outcome in AUTH)


# -- the choices ---------------------------------------------------------------------------------

@dataclass
class Choice:
    """One provider the wizard will write."""

    pid: str
    env_var: str | None = None
    """The env var holding the key (written as ``key_source = "env:VAR"``)."""
    key: str | None = field(default=None, repr=False)
    """A typed key, stored in the keyring at Finish. Never in repr."""
    check_key: str | None = field(default=None, repr=False)
    """A key typed where no keyring works: sent by the wizard's probe only, never stored (``env_var`` holds it
    for every later command). Never in repr."""
    local: bool = False
    base_url: str | None = None
    """Written only when it differs from the preset's default (found through an env override)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More of the provider's table (``preset``, ``name``) for a server added by its URL."""

    def settings(self) -> dict[str, Any]:
        """The provider's table for ``config.toml``."""
        settings: dict[str, Any] = {**self.extra, **({"base_url": self.base_url} if self.base_url else {})}
        if self.env_var:
            settings["key_source"] = f"env:{self.env_var}"
        return settings


def choice_for(pid: str, env_var: str | None = None, base_url: str | None = None) -> Choice:
    """A choice for a preset, keeping a base URL that an env override (or detection, ``base_url``) moved."""
    preset = catalog.preset(pid)
    if preset is None:
        raise ValueError(f"no preset called {pid!r}")
    resolved = base_url or preset.resolved_base_url()
    return Choice(pid, env_var=env_var, local=preset.local,
                  base_url=resolved if resolved != preset.base_url else None)


def choice_for_url(found: Examined, env_var: str | None = None) -> Choice:
    """A choice for a server added by its URL (``llmswitch.services.addurl.examine``)."""
    from ..base import urls
    from .addurl import settings_for

    settings = settings_for(found)
    base_url = str(settings.pop("base_url"))
    return Choice(found.pid, env_var=env_var, local=urls.is_local(base_url), base_url=base_url, extra=settings)


def from_other_tools(environ: Mapping[str, str] | None = None) -> dict[str, Found]:
    """What other tools (aider, llm, opencode, codex, Claude Code, Continue) and ``.env`` files are set up with.

    One find per provider id (the first; ``llmswitch import`` lists them all). Reading only:
    nothing is written, and a plaintext key found there stays where it is unless the user moves it.
    """
    from ..tools.importing import discover

    found: dict[str, Found] = {}
    for item in discover(environ=environ):
        found.setdefault(item.provider, item)
    return found


def choice_for_found(found: Found) -> Choice:
    """A choice for what another tool is set up with: its endpoint, and its key *reference* (never a plaintext key)."""
    env_var = found.key.name if found.key is not None and found.key.kind == "env" else None
    extra: dict[str, Any] = {}
    if found.key is not None and found.key.kind == "command":
        extra["key_source"] = f"command:{found.key.name}"
    preset = catalog.preset(found.provider)
    if preset is not None and found.base_url is None:
        choice = choice_for(found.provider, env_var)
        choice.extra.update(extra)
        return choice
    from ..base import urls

    base_url = found.base_url or ""
    extra["name"] = f"{found.provider} (from {found.source})"
    if found.kind != "openai":
        extra["kind"] = found.kind
    return Choice(found.provider, env_var=env_var, local=urls.is_local(base_url), base_url=base_url, extra=extra)


def providers_for(choices: Sequence[Choice]) -> dict[str, ProviderConfig]:
    """The providers as they would be configured (validated like ``config.toml``; nothing is written)."""
    from ..store.config import ConfigError, parse, provider_from_preset, render_provider

    text = "".join(render_provider(c.pid, c.settings()) + "\n" for c in choices)
    try:
        return dict(parse(text.encode(), paths.config_file()).providers)
    except ConfigError:
        presets = [catalog.preset(c.pid) for c in choices]
        return {p.id: provider_from_preset(p) for p in presets if p is not None}


def probe_targets(choices: Sequence[Choice]) -> list[ProbeTarget]:
    """What to probe before anything is written: a typed key is sent as typed. Blocking (keyring)."""
    from ..net.probe.targets import for_provider

    typed = {c.pid: c.key or c.check_key for c in choices if c.key or c.check_key}
    targets = []
    for pid, provider in providers_for(choices).items():
        if not provider.base_url:
            continue
        target, _ = for_provider(provider, resolve_key=pid not in typed)
        targets.append(replace(target, key=typed[pid]) if pid in typed else target)
    return targets


# -- the write ------------------------------------------------------------------------------------

@dataclass
class Written:
    """What Finish wrote (for the summary). No key values."""

    providers: list[str] = field(default_factory=list)
    """Providers added to config.toml (those already there are left as they are)."""
    keys: list[str] = field(default_factory=list)
    """Providers whose key was stored in the keyring."""
    roles: list[str] = field(default_factory=list)
    """Roles written to active.toml."""
    sources: dict[str, str] = field(default_factory=dict)
    """The ``key_source`` written for each provider added (``keyring``, ``env:VAR``, ``none`` …)."""
    required: list[str] = field(default_factory=list)
    """Providers added that are known to want a key (readers refuse to run without one)."""


class SetupFailed(LlmswitchError):
    """Finish could not write everything; what it had written was put back (``fix`` says if not all)."""


class _Undo:
    """Enough to put everything back: the files' bytes before, and the keyring entries replaced."""

    def __init__(self, files: Iterable[Path]) -> None:
        self.files = {path: _read(path) for path in files}
        self.keys: list[tuple[str, str | None]] = []

    def run(self) -> list[str]:
        """Undo every change, newest first; returns what could not be put back (one phrase each)."""
        from ..base.files import atomic_write, locked

        left: list[str] = []
        for path, before in self.files.items():
            try:
                with locked(path):
                    if _read(path) == before:
                        continue  # never changed (or the write itself was refused)
                    if before is None:
                        path.unlink(missing_ok=True)
                    else:
                        atomic_write(path, before)
            except (OSError, LlmswitchError) as exc:
                left.append(f"{path} ({_said(exc)})")
        for pid, previous in reversed(self.keys):
            try:
                if previous is None:
                    keys.delete(pid)
                else:
                    keys.store(pid, previous)
            except (keys.KeyProblem, LlmswitchError) as exc:
                left.append(f"the keyring entry for {pid} ({_said(exc)})")
        return left


def decided_settings(choice: Choice, results: Sequence[ProbeResult] = (),
                     keyring_ok: bool | None = None) -> dict[str, Any]:
    """The provider's table for ``config.toml``: the choice, with its key lines as :mod:`llmswitch.store.keydecision`
    decides them from what the wizard's probes learned (``results``, newest first: the first that says whether
    the server wants a key counts — a keyed probe that passed does not say, the keyless look before it does)
    and whether a keyring works here."""
    from ..store.keydecision import decide_for
    from ..store.state import key_wanted

    result = next((r for r in results if key_wanted(r) is not None), None)

    settings = choice.settings()
    chosen = settings.get("key_source") or ("keyring" if choice.key else None)
    preset = catalog.preset(str(settings.get("preset") or choice.pid))
    base_url = choice.base_url or (preset.resolved_base_url() if preset else None)
    decision = decide_for(choice.pid, base_url=base_url, preset=preset.id if preset else None, chosen=chosen,
                          result=result, keyring_ok=keyring_ok)
    return {**settings, **decision.settings()}


def finish(choices: Sequence[Choice], refs: Mapping[str, str],
           results: Mapping[str, Sequence[ProbeResult]] | None = None) -> Written:
    """Store the typed keys, add the providers, write the selection; all or nothing. Blocking.

    Each provider's key lines are decided by :func:`decided_settings` from ``results`` (each provider's probes,
    newest first); the newest is then remembered like any probe's. Raises :class:`SetupFailed` (after putting back whatever had
    been written).
    """
    from ..store import state
    from ..store.config import ConfigError, add_provider, load
    from ..store.keydecision import keyring_works
    from .switch import SwitchError, switch

    results = results or {}
    keyring_ok = keyring_works()

    undo = _Undo([paths.config_file(), paths.active_file()])
    done = Written()
    try:
        for choice in choices:
            if choice.key:
                previous = keys.stored(choice.pid)
                undo.keys.append((choice.pid, previous))
                keys.store(choice.pid, choice.key)
                done.keys.append(choice.pid)
        existing = load().providers
        for choice in choices:
            if choice.pid not in existing:
                settings = decided_settings(choice, results.get(choice.pid, ()), keyring_ok)
                add_provider(choice.pid, settings)
                done.providers.append(choice.pid)
                done.sources[choice.pid] = str(settings["key_source"])
        config = load()
        done.required = [pid for pid in done.providers if config.provider(pid).key_required]
        for role in ROLES:
            if refs.get(role):
                switch(refs[role], role, config)
                done.roles.append(role)
    except (keys.KeyProblem, ConfigError, SwitchError, LlmswitchError, OSError) as exc:
        left = undo.run()
        if isinstance(exc, LlmswitchError):
            cause, first = exc.sentence(with_fix=False), exc.fix
        else:
            cause, first = _said(exc), None
        then = ", then press Finish again" if first else "fix that, then press Finish again"
        fix = (f"{first or ''}{then} (nothing was written)" if not left
               else "these could not be put back as they were: " + "; ".join(left))
        raise SetupFailed(cause, fix.lstrip(", ")) from None
    learned = [(c.pid, results[c.pid]) for c in choices if results.get(c.pid) and c.pid in done.providers]
    if learned:  # what the probes learned (a key wanted, or not) is what every later probe starts from
        config = load()
        for pid, found in learned:
            said = next((r for r in found if state.key_wanted(r) is not None), found[0])
            for result in [said, *([found[0]] if found[0] is not said else [])]:  # the newest last: its outcome is the one shown
                state.remember(result, config.provider(pid).base_url)
    return done


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _said(exc: BaseException) -> str:
    """An error's own sentence (a file error without its OS errno noise)."""
    if isinstance(exc, OSError) and not isinstance(exc, LlmswitchError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)

"""Keys: stored in the OS keyring, resolved in a documented order, never shown.

Resolution order (first found wins), shown by ``llmswitch key where``:

1. ``LLMSWITCH_KEY_<PROVIDER>`` — an explicit override for this shell;
2. the provider's own source: the keyring (service ``llmswitch``, username =
   provider id) or the ``command:`` whose stdout is the key;
3. the provider's conventional env var(s), e.g. ``OPENROUTER_API_KEY``
   (or only the one named by ``key_source = "env:VAR"``);
4. none.

A key holding a character no HTTP header can carry (a pasted zero-width space) is refused
where it enters, naming the character and the source, never the key. Keyring failures are
named honestly and never replaced by a plaintext store. Every failure is a
:class:`llmswitch.base.errors.KeyProblem`; a resolution records its :class:`KeyOrigin`, from which
:mod:`llmswitch.base.keyfix` computes the fix.

Secret header values (``"Helicone-Auth" = { env = "HELICONE_API_KEY" }`` in config.toml)
are resolved here too, by :func:`headers_for`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..base.errors import KeyProblem
from ..base.keyorigin import ABSENT, COMMAND, ENV, KEYRING, NONE, OVERRIDE, KeyOrigin
from ..base.keyplaces import lookup_order, place_words
from ..base.redact import scrub, terminal_safe
from . import keyget
from .keyget import MAX_KEY_LENGTH, SERVICE, bounded, override_var, run_key_command, unusable
from .selection import KEY_SOURCES

if TYPE_CHECKING:
    from ..base.errors import LlmswitchError
    from .config import Config, HeaderSource, ProviderConfig
    from .selection import ActiveSelection

__all__ = [
    "KEYLESS_PLACEHOLDER", "SERVICE", "KeyCommandFailed", "KeyProblem", "KeyringUnavailable", "MissingKey",
    "Resolution", "Step", "UnusableKey", "backend", "backend_name", "delete", "headers_for", "override_var",
    "resolve", "resolve_for", "run_key_command", "store", "stored", "unusable",
]

KEYLESS_PLACEHOLDER = "llmswitch-keyless"
"""Sent as the API key to keyless local servers: many clients refuse an empty one."""
__all__ += ["MAX_KEY_LENGTH", "answering_backend", "did_not_answer"]
_FALLBACK_FIX = 'or keep the key in an env var and set key_source = "env:VAR" for this provider'
_SECRET_SERVICE_FIX = "start a Secret Service (gnome-keyring, KeePassXC)"


class KeyringUnavailable(KeyProblem):
    """The OS keyring cannot be used (no backend, one that cannot load, locked, dismissed, plaintext only)."""

    remedy = "check your keyring service"
    """How to make the keyring usable again, without the env-var way out the fix adds."""


def _unavailable(cause: str, remedy: str) -> KeyringUnavailable:
    exc = KeyringUnavailable(cause, f"{remedy} {_FALLBACK_FIX}")
    exc.remedy = remedy
    return exc


class MissingKey(KeyProblem):
    """A provider that needs a key (or a header that needs its secret) has none anywhere."""


class KeyCommandFailed(KeyProblem):
    """``key_source = "command:…"`` did not produce a key."""


class UnusableKey(KeyProblem):
    """A key that cannot be sent: a character outside printable ASCII, or absurdly long."""


# --- keyring backend --------------------------------------------------------------------------

_PLAINTEXT_BACKENDS = {"keyrings.alt.file.PlaintextKeyring", "keyrings.alt.Windows.RegistryKeyring",
                       "keyrings.alt.Gnome.Keyring"}


def _classify_backend(chosen: Any) -> KeyringUnavailable | None:
    """Why ``chosen`` must not hold keys, or None when it is a real secret store."""
    cls = type(chosen)
    qualname = f"{cls.__module__}.{cls.__name__}"
    if cls.__module__ == "keyring.backends.fail":
        return _no_keyring()
    if cls.__module__ == "keyring.backends.null":
        return _unavailable("the keyring is disabled (null backend, see PYTHON_KEYRING_BACKEND)",
                            "enable a real backend (unset PYTHON_KEYRING_BACKEND)")
    if "plaintext" in cls.__name__.lower() or qualname in _PLAINTEXT_BACKENDS:
        return _unavailable(f"the only keyring available ({qualname}) stores keys in a plain file, which llmswitch "
                            f"refuses", _SECRET_SERVICE_FIX)
    return None


def _no_keyring() -> KeyringUnavailable:
    return _unavailable("no OS keyring is available (no Secret Service, Keychain or Credential Locker)",
                        "start one (on Linux: gnome-keyring or KeePassXC with a D-Bus session)")


def _unloadable(exc: Exception) -> KeyringUnavailable:
    """``PYTHON_KEYRING_BACKEND`` (or keyringrc.cfg) names a backend that cannot be loaded."""
    why = terminal_safe(f"{type(exc).__name__}: {exc}", limit=120)
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named is not None:
        named_fails = KeyringUnavailable(
            f"PYTHON_KEYRING_BACKEND={terminal_safe(named, 80) or '(empty)'} names a keyring backend that cannot "
            f"be loaded ({why})",
            "unset PYTHON_KEYRING_BACKEND, or set it to an installed backend such as "
            "keyring.backends.SecretService.Keyring (python -m keyring --list-backends lists them)")
        named_fails.remedy = named_fails.fix or ""
        return named_fails
    return _unavailable(f"the keyring configuration names a backend that cannot be loaded ({why})",
                        "fix or remove default-keyring in keyringrc.cfg (python -m keyring diagnose shows where it is)")


def locked(text: str) -> KeyringUnavailable:
    """The keyring (a collection, an item) stayed locked."""
    return _unavailable(f"the keyring is locked ({terminal_safe(text, limit=200)})",
                        "unlock it (log in to your desktop session, or unlock the 'login' collection)")


def could_not_start(text: str) -> KeyringUnavailable:
    """The keyring could not open its collection; a dismissed unlock prompt gets its own sentence."""
    text = terminal_safe(text, limit=200)
    if "dismissed" in text.lower():
        return _unavailable("the keyring asked to be unlocked and the prompt was dismissed (no display to show it?)",
                            "unlock the keyring first (e.g. gnome-keyring-daemon --unlock)")
    return _unavailable(f"the keyring could not start ({text})", "check your Secret Service")


def did_not_answer(seconds: float) -> KeyringUnavailable:
    """The keyring service is there (its D-Bus name is owned) but did not answer in time."""
    return _unavailable(f"the keyring did not answer within {seconds:g} s",
                        "restart the keyring service, which is running but not responding (on Linux: "
                        "gnome-keyring-daemon --replace, or log out and in again)")


def backend() -> Any:
    """The keyring backend llmswitch will use; raises KeyringUnavailable.

    The Secret Service that worked last time is used directly (:mod:`.secret_service`, no ``keyring``
    import), once it is seen to be on the bus; otherwise keyring chooses (its ``PYTHON_KEYRING_BACKEND``
    and ``keyringrc.cfg`` first), and what it chose by itself is remembered for next time.
    """
    if keyget.direct_secret_service():
        from .secret_service import Gone, SecretServiceKeyring

        direct = SecretServiceKeyring()
        direct.load()
        try:
            bounded(direct.available)
        except Gone:
            pass  # gone since last time (or never there): keyring chooses again below
        else:
            return direct
    return _chosen()  # not bounded: importing keyring's backends and a look at the bus is not the keyring answering


def _chosen() -> Any:
    configured = keyget.keyring_configured()
    remembered = None if configured else keyget.remembered_backend()
    try:
        from keyring.backends.chainer import ChainerBackend

        import keyring

        chosen = None
        if remembered is not None:
            try:  # what keyring chose last time, loaded by name: no scan of every backend
                chosen = keyring.core.load_keyring(remembered)
            except Exception:  # gone, or not viable any more: keyring chooses again
                chosen = None
        if chosen is None:
            chosen = keyring.get_keyring()
        candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    except Exception as exc:  # keyring loads backends by name: any import or attribute error can surface here
        raise _unloadable(exc) from None
    if not candidates:
        if not configured:
            keyget.remember_backend(None)
        raise _no_keyring()
    reasons = []
    for candidate in candidates:
        reason = _classify_backend(candidate)
        if reason is None:
            if not configured:
                keyget.remember_backend(_qualname(candidate))
            return candidate
        reasons.append(reason)
    if not configured:
        keyget.remember_backend(None)
    raise reasons[0]


def _qualname(chosen: Any) -> str:
    label = getattr(chosen, "label", None)
    if isinstance(label, str):
        return label
    cls = type(chosen)
    return f"{cls.__module__}.{cls.__name__}"


def answering_backend() -> str:
    """The backend's name once it has answered one read (of no key), within the bound; raises KeyringUnavailable.

    What ``doctor`` says: a backend that is chosen but does not answer (a wedged Secret Service) is not "ok".
    """
    chosen = backend()
    try:
        bounded(chosen.get_password, SERVICE, "")
    except Exception as exc:
        raise _translate(exc, "the check") from None
    return _qualname(chosen)


def backend_name() -> str:
    """A short description of the backend, or why there is none."""
    try:
        chosen = backend()
    except KeyringUnavailable as exc:
        return f"unavailable: {exc}"
    return _qualname(chosen)


def _translate(exc: Exception, provider_id: str, secret: str | None = None) -> KeyringUnavailable:
    if isinstance(exc, KeyringUnavailable):  # the direct Secret Service, or the bound, said it already
        return exc
    from .secret_service import Gone, Refused

    if isinstance(exc, Gone):  # the Secret Service left the bus between the check and the call
        return _no_keyring()
    if isinstance(exc, Refused):
        return locked(str(exc)) if exc.kind == "locked" else could_not_start(str(exc))
    from keyring import errors

    text = terminal_safe(scrub(str(exc), secret), limit=200)
    if isinstance(exc, errors.NoKeyringError):
        return _no_keyring()
    if isinstance(exc, errors.KeyringLocked):
        return locked(text)
    if isinstance(exc, errors.InitError):
        return could_not_start(text)
    return _unavailable(f"the keyring failed for {provider_id} ({type(exc).__name__}: {text})",
                        "check your keyring service")


def store(provider_id: str, secret: str, *, origin: str | None = None) -> str:
    """Store a key in the keyring; returns the backend's name.

    ``origin`` says where the key came from, for the sentence when it is refused
    (default: "the key given for PROVIDER").
    """
    secret = secret.strip()
    if not secret:
        raise UnusableKey("the key is empty", "paste the key (it is read from the prompt or stdin, never argv)",
                          subject=provider_id)
    why = unusable(secret)
    if why is not None:
        raise UnusableKey(f"{origin or 'the key given for ' + provider_id} {why}",
                          "paste only the key itself (copy it again from the provider's page); nothing was stored",
                          subject=provider_id)
    chosen = backend()
    try:
        bounded(chosen.set_password, SERVICE, provider_id, secret)
    except Exception as exc:  # keyring backends raise many types; all are translated
        raise _translate(exc, provider_id, secret) from None
    return _qualname(chosen)


def stored(provider_id: str) -> str | None:
    """The key stored in the keyring for ``provider_id`` (or a header's keyring entry), or None."""
    chosen = backend()
    try:
        value = bounded(chosen.get_password, SERVICE, provider_id)
    except Exception as exc:
        raise _translate(exc, provider_id) from None
    return value if isinstance(value, str) else None


def delete(provider_id: str) -> bool:
    """Delete the stored key; False when there was none."""
    chosen = backend()

    def delete_first() -> bool:
        if chosen.get_password(SERVICE, provider_id) is None:
            return False
        done = chosen.delete_password(SERVICE, provider_id)
        return done is not False  # the direct Secret Service says False when nothing was there

    try:
        return bounded(delete_first)
    except KeyringUnavailable:
        raise
    except Exception as exc:
        from keyring import errors

        if isinstance(exc, errors.PasswordDeleteError):
            return False
        raise _translate(exc, provider_id) from None


# --- resolution -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One place a key was looked for."""

    source: str
    """``env LLMSWITCH_KEY_GROQ``, ``keyring llmswitch/groq``, ``command …``."""
    found: bool
    note: str = ""


@dataclass(frozen=True)
class Resolution:
    """Where the key came from (and the key itself, which is never printed)."""

    provider: str
    key: str | None = field(repr=False)
    source: str | None
    """The step that supplied the key, or None."""
    steps: tuple[Step, ...]
    required: bool
    failures: tuple[KeyProblem, ...] = ()
    """Sources that could not be consulted (a locked keyring, a failed command, a refused value)."""
    blocking: KeyProblem | None = None
    """A source the user named that failed, or a value found but refused: an error even where a key is optional."""
    origin: KeyOrigin = KeyOrigin(ABSENT)
    """Which source supplied the key, or where it was looked for and why the keyring could not be used."""

    @property
    def problems(self) -> tuple[str, ...]:
        """The failures as sentences (for ``key where`` and warnings)."""
        return tuple(f.sentence() for f in self.failures)

    def __str__(self) -> str:  # the key is never part of the text
        return f"{self.provider}: key from {self.source or 'nowhere'}"

    def require(self) -> str | None:
        """The key, or raise with the fix; None for keyless providers without one.

        An unreadable keyring is an error even where a key is optional: no placeholder is handed out.
        """
        from ..base import keyfix

        if self.key is not None:
            return self.key
        if self.blocking is not None:  # the user named this source: its failure is never "no key needed"
            raise self.blocking
        unusable_keyring = next((f for f in self.failures if isinstance(f, KeyringUnavailable)), None)
        if not self.required and unusable_keyring is None:
            return None
        tried = ", ".join(step.source for step in self.steps)
        failure = unusable_keyring or next(iter(self.failures), None)
        cause, fix = keyfix.no_key(self.origin, self.provider, tried, failure.cause if failure else None,
                                   required=self.required)
        raise (MissingKey if self.required else KeyringUnavailable)(cause, fix, subject=self.provider)


class _Search:
    """The steps of one resolution, as they happen."""

    def __init__(self, provider_id: str, required: bool, origin: KeyOrigin) -> None:
        self.provider = provider_id
        self.required = required
        self.origin = origin
        self.steps: list[Step] = []
        self.failures: list[KeyProblem] = []
        self.blocking: KeyProblem | None = None

    def done(self, key: str | None = None, where: str | None = None) -> Resolution:
        return Resolution(self.provider, key, where, tuple(self.steps), self.required, tuple(self.failures),
                          self.blocking, self.origin)

    def found(self, where: str, value: str | None, fix: str, kind: str, name: str) -> Resolution | None:
        """What ``where`` holds: the key, a refusal naming the character, or None (nothing there: go on)."""
        value = (value or "").strip()
        if not value:
            self.steps.append(Step(where, False))
            return None
        self.origin = replace(self.origin, kind=kind, name=name)
        why = unusable(value)
        if why is None:
            self.steps.append(Step(where, True))
            return self.done(value, where)
        self.steps.append(Step(where, True, "refused: not a usable key"))
        self.blocking = UnusableKey(f"the key from {where} {why}", fix, subject=self.provider)
        self.failures.append(self.blocking)
        return self.done()


def resolve(provider_id: str, *, source: str = "keyring", env: tuple[str, ...] = (), command: str | None = None,
            required: bool = True, environ: Mapping[str, str] | None = None,
            read_override: bool = True) -> Resolution:
    """Find the key for a provider following the documented order, and record its :class:`KeyOrigin`.

    ``read_override=False`` skips ``LLMSWITCH_KEY_<ID>`` (a team provider whose variable you did not accept).
    """
    environ = os.environ if environ is None else environ
    override = override_var(provider_id) if read_override else ""
    search = _Search(provider_id, required, KeyOrigin(ABSENT, configured=source if source in KEY_SOURCES else "",
                                                      override=override, env=tuple(env)))
    if source not in KEY_SOURCES:
        search.blocking = KeyProblem(f"key_source {terminal_safe(source, 40)!r} is not one of {', '.join(KEY_SOURCES)}",
                                     "fix key_source in config.toml", subject=provider_id)
        return search.done()
    if source == "none":
        search.steps.append(Step("none (key_source = \"none\")", False, "keyless"))
        search.required = False
        search.origin = replace(search.origin, kind=NONE)
        return search.done()
    if read_override:
        found = search.found(place_words(OVERRIDE, override), environ.get(override), f"set {override} to the key alone, or unset it",
                             OVERRIDE, override)
        if found is not None:
            return found
    else:
        search.steps.append(Step(place_words(OVERRIDE, override_var(provider_id)), False, "not read: team provider, not accepted"))
    if source == "keyring":
        where = place_words(KEYRING, f"{SERVICE}/{provider_id}")
        try:
            value = stored(provider_id)
        except KeyringUnavailable as exc:
            search.failures.append(exc)
            search.steps.append(Step(where, False, "keyring unavailable"))
            search.origin = replace(search.origin, keyring_problem=exc.cause, keyring_remedy=exc.remedy)
        else:
            found = search.found(where, value, f"store it again: llmswitch key set {provider_id}", KEYRING,
                                 f"{SERVICE}/{provider_id}")
            if found is not None:
                return found
    elif source == "command" and command:
        where = place_words(COMMAND, command)
        search.origin = replace(search.origin, name=command)
        try:
            produced = run_key_command(provider_id, command)
        except KeyCommandFailed as exc:
            search.failures.append(exc)
            search.blocking = exc
            search.steps.append(Step(where, False, "failed"))
        else:
            found = search.found(where, produced, "make the command print only the key", COMMAND, command)
            if found is not None:
                return found
    for name in env:
        found = search.found(place_words(ENV, name), environ.get(name), f"set {name} to the key alone, or unset it", ENV, name)
        if found is not None:
            return found
    return search.done()


def lookup_text(provider: ProviderConfig) -> str:
    """Where ``provider``'s key is looked for, in order (``env LLMSWITCH_KEY_GROQ, then keyring llmswitch/groq, …``):
    the words ``key where`` lists, without touching any of the places."""
    return lookup_order(provider.key_source, override=override_var(provider.id) if provider.reads_override else "",
                        keyring_entry=f"{SERVICE}/{provider.id}", command=provider.key_command or "",
                        env=provider.key_env, required=provider.key_required)


def resolve_for(provider: ProviderConfig) -> Resolution:
    """Resolve the key of a :class:`~llmswitch.store.config.ProviderConfig`; without a key, its origin says where to edit."""
    from ..base.keyfix import place_of

    found = resolve(provider.id, source=provider.key_source, env=provider.key_env, command=provider.key_command,
                    required=provider.key_required, read_override=provider.reads_override)  # config.toml is scanned for the place only when a fix may follow
    if found.key is not None:
        return found
    origin = replace(found.origin, place=place_of(provider.id))
    if provider.key_source == "none" and _now_wants_key(provider):  # key_source = "none", yet it asked for one:
        try:  # no placeholder; the fix names a place that can hold a key here
            backend()
        except KeyringUnavailable as exc:
            origin = replace(origin, keyring_problem=exc.cause, keyring_remedy=exc.remedy)
        if not origin.env:  # the variable a fix proposes: the one the key decision would (GPU_BOX_API_KEY)
            from .keydecision import default_variable

            origin = replace(origin, env=(default_variable(provider.id),))
        return replace(found, required=True, origin=origin)
    return replace(found, origin=origin)


def _now_wants_key(provider: ProviderConfig) -> bool:
    """The last probe at the provider's URL saw the server refuse a request without a key."""
    from .state import learned_key

    return learned_key(provider.id, provider.base_url) is True


# --- secret header values -----------------------------------------------------------------------

def headers_for(provider: ProviderConfig, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every header to send to ``provider``: its literal headers plus the secret ones, resolved.

    Raises MissingKey when a header's env var or keyring entry holds nothing, UnusableKey
    when it holds a character a header cannot carry, KeyringUnavailable as :func:`stored`.
    The result holds secrets: pass it to the HTTP client, never to a file or a log.
    """
    environ = os.environ if environ is None else environ
    headers = dict(provider.headers)
    for source in provider.header_sources:
        headers[source.name] = source.prefix + _header_secret(provider.id, source, environ)
    return headers


def _header_secret(provider_id: str, source: HeaderSource, environ: Mapping[str, str]) -> str:
    where = source.source_text()
    if source.env is not None:
        value = environ.get(source.env, "").strip()
        fix = f"export {source.env} with the value in this shell"
    else:
        value = (stored(source.keyring or "") or "").strip()
        fix = f"store it: python -m keyring set {SERVICE} {source.keyring}"
    if not value:
        raise MissingKey(f"header {source.name} takes its value from {where}, which holds nothing", fix,
                         subject=provider_id)
    why = unusable(value)
    if why is not None:
        raise UnusableKey(f"the value for header {source.name} from {where} {why}", fix, subject=provider_id)
    return value


# --- the selection's key reference, checked against config.toml -------------------------------------

_MISMATCH: list[type[LlmswitchError]] = []


def _mismatch(cause: str, fix: str, exit_code: int) -> LlmswitchError:
    """An error that is a key problem (chat and the REPL catch those) and a selection problem."""
    if not _MISMATCH:
        from ..base.errors import SelectionError

        bases: tuple[type, ...] = (KeyProblem,) if issubclass(KeyProblem, SelectionError) \
            else (KeyProblem, SelectionError)

        class SelectionKeyMismatch(*bases):  # type: ignore[misc]  # keys.KeyProblem's bases differ across versions
            """The selection's provider or key reference does not match config.toml: no key is resolved."""

        SelectionKeyMismatch.__module__ = "llmswitch.api"  # where users have always caught it
        SelectionKeyMismatch.__qualname__ = "SelectionKeyMismatch"
        _MISMATCH.append(SelectionKeyMismatch)
    error: LlmswitchError = _MISMATCH[0](cause, fix, exit_code=exit_code)
    return error


def _key_reference(source: str, env: tuple[str, ...], command: str | None) -> str:
    if source == "env":
        return f"env:{env[0]}" if env else "env"
    if source == "command":
        return f"command:{command}"
    return source


def key_drift(sel: ActiveSelection, provider: ProviderConfig) -> list[str]:
    """The key-reference fields in which ``sel`` (active.toml) and ``provider`` (config.toml) differ."""
    keyring = provider.key_source == "keyring"
    expected = {"key_source": provider.key_source, "key_env": tuple(provider.key_env),
                "key_command": provider.key_command if provider.key_source == "command" else None,
                "keyring_service": SERVICE if keyring else None, "keyring_username": provider.id if keyring else None}
    found = {"key_source": sel.key_source, "key_env": tuple(sel.key_env),
             "key_command": sel.key_command if sel.key_source == "command" else None,
             "keyring_service": sel.keyring_service if sel.key_source == "keyring" else None,
             "keyring_username": sel.keyring_username if sel.key_source == "keyring" else None}
    return [name for name in expected if expected[name] != found[name]]


def provider_for(sel: ActiveSelection, config: Config | None = None) -> ProviderConfig:
    """The provider config.toml (or a preset) has for ``sel``, whose key source llmswitch uses.

    Refuses, with the fix, when the provider is neither configured nor a preset any more, and
    when active.toml's key reference (key_source, key_env, key_command, keyring entry) differs
    from config.toml's: a key is never fetched for a reference nobody configured.
    """
    from . import config as _config

    if config is None:
        config = _config.load()
    try:
        provider = config.provider(sel.provider)
    except _config.UnknownProvider:
        raise _mismatch(f"role {sel.role} uses provider {sel.provider!r}, which is no longer configured and is "
                        f"not a preset",
                        f"pick another: llmswitch use --role {sel.role} PROVIDER/MODEL (or add it back: "
                        f"llmswitch providers add {sel.provider} --base-url URL)", 3) from None
    drift = key_drift(sel, provider)
    if drift:
        ours = _key_reference(sel.key_source, sel.key_env, sel.key_command)
        theirs = provider.key_source_text()
        detail = f"key_source {ours!r} there, {theirs!r} in config.toml" if ours != theirs else ", ".join(drift)
        raise _mismatch(f"role {sel.role}: the key reference in active.toml does not match config.toml for "
                        f"{provider.id} ({detail}), so no key is used",
                        f"rewrite the selection from config.toml: llmswitch use --role {sel.role} {sel.ref}", 2)
    return provider

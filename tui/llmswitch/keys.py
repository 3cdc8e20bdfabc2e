"""Keys: stored in the OS keyring, resolved in a documented order, never shown.

Resolution order (first found wins), shown by ``llmswitch key where``:

1. ``LLMSWITCH_KEY_<PROVIDER>`` — an explicit override for this shell;
2. the provider's own source: the keyring (service ``llmswitch``, username =
   provider id) or the ``command:`` whose stdout is the key;
3. the provider's conventional env var(s), e.g. ``OPENROUTER_API_KEY``
   (or only the one named by ``key_source = "env:VAR"``);
4. none.

Keyring failures are named honestly (no backend, locked, prompt dismissed,
plaintext-only) and never silently replaced by a plaintext store.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .redact import scrub, terminal_safe

SERVICE = "llmswitch"
KEYLESS_PLACEHOLDER = "llmswitch-keyless"
"""Sent as the API key to keyless local servers: many clients refuse an empty one."""
_FALLBACK_FIX = 'or keep the key in an env var and set key_source = "env:VAR" for this provider'


class KeyProblem(Exception):
    """Base for key problems; the message is one sentence with the fix."""


class KeyringUnavailable(KeyProblem):
    """The OS keyring cannot be used (no backend, locked, dismissed, plaintext only)."""


class MissingKey(KeyProblem):
    """A provider that needs a key has none anywhere."""


class KeyCommandFailed(KeyProblem):
    """``key_source = "command:…"`` did not produce a key."""


def override_var(provider_id: str) -> str:
    """``LLMSWITCH_KEY_<ID>``: the env var that overrides every other source."""
    return "LLMSWITCH_KEY_" + re.sub(r"[^A-Za-z0-9]", "_", provider_id).upper()


# --- keyring backend --------------------------------------------------------------------------

def _classify_backend(backend) -> str | None:
    """Why ``backend`` must not hold keys, or None when it is a real secret store."""
    cls = type(backend)
    qualname = f"{cls.__module__}.{cls.__name__}"
    if cls.__module__ == "keyring.backends.fail":
        return ("no OS keyring is available (no Secret Service, Keychain or Credential Locker) — start one "
                "(on Linux: gnome-keyring or KeePassXC with a D-Bus session) " + _FALLBACK_FIX)
    if cls.__module__ == "keyring.backends.null":
        return "the keyring is disabled (null backend, see PYTHON_KEYRING_BACKEND) — enable a real backend " + _FALLBACK_FIX
    if "plaintext" in cls.__name__.lower() or qualname in _PLAINTEXT_BACKENDS:
        return (f"the only keyring available ({qualname}) stores keys in a plain file, which llmswitch refuses — "
                "start a Secret Service (gnome-keyring, KeePassXC) " + _FALLBACK_FIX)
    return None


_PLAINTEXT_BACKENDS = {"keyrings.alt.file.PlaintextKeyring", "keyrings.alt.Windows.RegistryKeyring",
                       "keyrings.alt.Gnome.Keyring"}


def backend():
    """The keyring backend llmswitch will use; raises KeyringUnavailable."""
    from keyring.backends.chainer import ChainerBackend

    import keyring

    chosen = keyring.get_keyring()
    candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    if not candidates:
        candidates = [chosen]
    reasons = []
    for candidate in candidates:
        reason = _classify_backend(candidate)
        if reason is None:
            return candidate
        reasons.append(reason)
    if isinstance(chosen, ChainerBackend) and not chosen.backends:
        from keyring.backends.fail import Keyring as FailKeyring

        raise KeyringUnavailable(_classify_backend(FailKeyring()))
    raise KeyringUnavailable(reasons[0])


def backend_name() -> str:
    """A short description of the backend, or why there is none."""
    try:
        chosen = backend()
    except KeyringUnavailable as exc:
        return f"unavailable: {exc}"
    cls = type(chosen)
    return f"{cls.__module__}.{cls.__name__}"


def _translate(exc: Exception, provider_id: str, secret: str | None = None) -> KeyProblem:
    from keyring import errors

    text = terminal_safe(scrub(str(exc), secret), limit=200)
    if isinstance(exc, errors.NoKeyringError):
        from keyring.backends.fail import Keyring as FailKeyring

        return KeyringUnavailable(_classify_backend(FailKeyring()))
    if isinstance(exc, errors.KeyringLocked):
        return KeyringUnavailable(f"the keyring is locked ({text}) — unlock it (log in to your desktop session, or "
                                  f"unlock the 'login' collection) " + _FALLBACK_FIX)
    if isinstance(exc, errors.InitError) and "dismissed" in text.lower():
        return KeyringUnavailable("the keyring asked to be unlocked and the prompt was dismissed (no display to show "
                                  "it?) — unlock the keyring first (e.g. gnome-keyring-daemon --unlock) " + _FALLBACK_FIX)
    if isinstance(exc, errors.InitError):
        return KeyringUnavailable(f"the keyring could not start ({text}) — check your Secret Service " + _FALLBACK_FIX)
    return KeyringUnavailable(f"the keyring failed for {provider_id} ({type(exc).__name__}: {text}) — "
                              f"check your keyring service " + _FALLBACK_FIX)


def store(provider_id: str, secret: str) -> str:
    """Store a key in the keyring; returns the backend's name."""
    secret = secret.strip()
    if not secret:
        raise KeyProblem("the key is empty — paste the key (it is read from the prompt or stdin, never argv)")
    if any(ch.isspace() for ch in secret) or any(ord(ch) < 32 for ch in secret):
        raise KeyProblem("the key contains spaces or control characters — paste only the key itself")
    chosen = backend()
    try:
        chosen.set_password(SERVICE, provider_id, secret)
    except Exception as exc:  # keyring backends raise many types; all are translated
        raise _translate(exc, provider_id, secret) from None
    cls = type(chosen)
    return f"{cls.__module__}.{cls.__name__}"


def fetch(provider_id: str) -> str | None:
    """The key stored in the keyring for ``provider_id``, or None."""
    chosen = backend()
    try:
        return chosen.get_password(SERVICE, provider_id)
    except Exception as exc:
        raise _translate(exc, provider_id) from None


def delete(provider_id: str) -> bool:
    """Delete the stored key; False when there was none."""
    from keyring import errors

    chosen = backend()
    try:
        if chosen.get_password(SERVICE, provider_id) is None:
            return False
        chosen.delete_password(SERVICE, provider_id)
    except errors.PasswordDeleteError:
        return False
    except Exception as exc:
        raise _translate(exc, provider_id) from None
    return True


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
    problems: tuple[str, ...] = ()
    """Sources that could not be consulted (e.g. a locked keyring)."""
    command_failed: str | None = None
    """Why the configured ``command:`` failed: an error even where a key is optional."""

    def __str__(self) -> str:  # the key is never part of the text
        return f"{self.provider}: key from {self.source or 'nowhere'}"

    def require(self) -> str | None:
        """The key, or raise with the fix; None for keyless providers without one."""
        if self.key is not None:
            return self.key
        if self.command_failed:  # the user named a command: its failure is never "no key needed"
            raise KeyCommandFailed(self.command_failed)
        if not self.required:
            return None
        tried = ", ".join(step.source for step in self.steps)
        env_steps = [s.source.removeprefix("env ") for s in self.steps if s.source.startswith("env ")]
        if self.problems:  # `key set` cannot help while the keyring is unusable: say what can
            cause = self.problems[0].split(" — ", 1)[0]
            exports = " or ".join(env_steps[::-1][:2]) or override_var(self.provider)
            raise MissingKey(f"{self.provider}: no API key found and {cause} — export {exports} with the key "
                             f"in this shell, or start a Secret Service (gnome-keyring, KeePassXC) and run: "
                             f"llmswitch key set {self.provider}")
        raise MissingKey(f"{self.provider}: no API key found (tried {tried}) — run: llmswitch key set {self.provider}")


def resolve(provider_id: str, *, source: str = "keyring", env: tuple[str, ...] = (), command: str | None = None,
            required: bool = True, environ: dict[str, str] | None = None) -> Resolution:
    """Find the key for a provider following the documented order."""
    environ = os.environ if environ is None else environ
    steps: list[Step] = []
    problems: list[str] = []

    command_failed: str | None = None

    def done(key: str | None, where: str | None) -> Resolution:
        return Resolution(provider_id, key, where, tuple(steps), required, tuple(problems), command_failed)

    if source == "none":
        steps.append(Step("none (key_source = \"none\")", False, "keyless"))
        return Resolution(provider_id, None, None, tuple(steps), False)
    override = override_var(provider_id)
    if environ.get(override):
        steps.append(Step(f"env {override}", True))
        return done(environ[override].strip(), f"env {override}")
    steps.append(Step(f"env {override}", False))
    if source == "keyring":
        where = f"keyring {SERVICE}/{provider_id}"
        try:
            stored = fetch(provider_id)
        except KeyringUnavailable as exc:
            problems.append(str(exc))
            steps.append(Step(where, False, "keyring unavailable"))
        else:
            steps.append(Step(where, stored is not None))
            if stored is not None:
                return done(stored, where)
    elif source == "command" and command:
        where = f"command {command}"
        try:
            produced = run_key_command(provider_id, command)
        except KeyCommandFailed as exc:
            problems.append(str(exc))
            command_failed = str(exc)
            steps.append(Step(where, False, "failed"))
        else:
            steps.append(Step(where, True))
            return done(produced, where)
    for name in env:
        value = environ.get(name)
        steps.append(Step(f"env {name}", bool(value)))
        if value:
            return done(value.strip(), f"env {name}")
    return done(None, None)


def run_key_command(provider_id: str, command: str, timeout: float = 15.0) -> str:
    """Run a ``key_source = "command:…"`` command (no shell) and return its first output line."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise KeyCommandFailed(f"{provider_id}: key command cannot be parsed ({exc}) — fix key_source in config.toml") from None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise KeyCommandFailed(f"{provider_id}: key command {argv[0]!r} not found — install it or fix key_source in config.toml") from None
    except subprocess.TimeoutExpired:
        raise KeyCommandFailed(f"{provider_id}: key command took longer than {timeout:.0f} s — check that it does not wait for input") from None
    key = done.stdout.strip().splitlines()[0].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not key:
        err = terminal_safe(scrub(done.stderr.strip(), key or None), limit=120)
        why = f"exited with {done.returncode}" if done.returncode else "printed nothing"
        raise KeyCommandFailed(f"{provider_id}: key command {why}{f' ({err})' if err else ''} — run it by hand to see why")
    return key


def resolve_for(provider) -> Resolution:
    """Resolve the key of a :class:`~llmswitch.config.ProviderConfig`."""
    return resolve(provider.id, source=provider.key_source, env=provider.key_env, command=provider.key_command,
                   required=provider.key_required)

"""The fix for a key problem, computed once from where the key came from (a :class:`KeyOrigin`).

Every surface (probe text, doctor, the picker, the wizard, ``use``, ``env``/``exec``, ``/model``,
chat, ``client()``) renders these sentences; none writes its own. The rule: a fix names the
place that was actually consulted, and following it as written changes what is sent.

* a rejected key from ``LLMSWITCH_KEY_<ID>`` → put the right key in that variable (it wins over
  every other source, so storing a key elsewhere changes nothing), or unset it;
* from the keyring → ``llmswitch key set P``;
* from an environment variable → put the right key in it (the keyring is offered only where it was
  consulted and works: a conventional variable read after an empty keyring entry);
* from a ``command:`` → make that command print the right key (the command is named, never its output);
* ``key_source = "none"`` but the server wants a key → set ``key_source`` at ``config.toml:LINE``;
* the keyring is unusable (no backend, null, plaintext only, locked, dismissed) → an environment
  variable works now (``export LLMSWITCH_KEY_<ID>=…``, or ``key_source = "env:VAR"``), and how to
  get the keyring back; ``key set`` is never offered while the keyring cannot hold a key.

Pure and stdlib-only (``place_of`` reads config.toml when called, to say where to edit).
"""

from __future__ import annotations

from .keyorigin import ABSENT, COMMAND, ENV, KEYRING, NONE, OVERRIDE, KeyOrigin
from .redact import terminal_safe

__all__ = ["at", "can_store", "missing_fix", "no_key", "no_key_phrase", "place_of", "rejected_fix", "replace_key",
           "source_phrase", "unusable_keyring_fix"]

KEY = "<the key>"
"""What the person types in ``export VAR=<the key>``: never a value of ours."""


def at(origin: KeyOrigin) -> str:
    """`` at /…/config.toml:12``: where to edit the provider's key_source (`` in …`` when it has no table yet)."""
    if origin.place.rpartition(":")[2].isdigit():
        return f" at {origin.place}"
    return f" in {origin.place or 'config.toml'}"


def _command(origin: KeyOrigin) -> str:
    """`` (pass show groq)``: the command as configured, never its output ("" when unknown).

    Whole (up to 1,000 characters): a fix naming a command cut at ``…`` cannot be followed.
    """
    return f" ({terminal_safe(origin.name, 1000)})" if origin.name else ""


def _env_var(origin: KeyOrigin) -> str:
    """The variable to suggest for ``key_source = "env:VAR"``: the provider's conventional one if it has one."""
    if origin.kind == ENV and origin.name:
        return origin.name
    return origin.env[0] if origin.env else "VAR"


def can_store(origin: KeyOrigin | None) -> bool:
    """Whether a key stored in the keyring (``key set``, the app's key field) would be the one sent.

    Not while an override is set (it wins), not while the keyring is unusable; a provider whose
    source is another kind can switch to the keyring (the app's key field does that).
    """
    if origin is None:
        return True
    return origin.kind != OVERRIDE and origin.keyring_usable


def source_phrase(origin: KeyOrigin | None) -> str:
    """``from env GROQ_API_KEY``: where the key sent came from ("" when unknown or none was sent)."""
    if origin is None or origin.kind in (NONE, ABSENT):
        return ""
    return "from " + terminal_safe(origin.label(), 100)


def no_key_phrase(origin: KeyOrigin | None) -> str:
    """Why no key was sent, short: ``no key stored``, ``GROQ_API_KEY is not set``, ``no key (the keyring is locked …)``."""
    if origin is None:
        return "no key stored"
    if origin.kind not in (ABSENT, NONE):  # found, but refused before sending (a character no header carries)
        return f"the key {source_phrase(origin)} cannot be sent"
    if origin.kind == NONE:
        return 'key_source = "none" sends no key'
    if origin.keyring_problem:
        return f"no key ({terminal_safe(origin.keyring_problem, 120)})"
    if origin.configured == ENV:
        return f"{_env_var(origin)} is not set"
    if origin.configured == COMMAND:
        return "no key from the key command"
    return "no key stored"


def unusable_keyring_fix(origin: KeyOrigin, provider: str) -> str:
    """The keyring cannot be used: the variable that works now, the source that keeps working, the way back."""
    var = _env_var(origin)
    now = origin.env[0] if origin.env else origin.override  # both are read before nothing else is found
    remedy = origin.keyring_remedy or "check your keyring service"
    return (f"for this shell: export {now}={KEY}; to keep "
            f'it: set key_source = "env:{var}"{at(origin)} and put the key in {var}; to use the keyring: {remedy}')


def missing_fix(origin: KeyOrigin | None, provider: str) -> str:
    """No key was sent and one is wanted: where to put one so that it is found."""
    if origin is None:
        return f"run: llmswitch key set {provider}"
    if origin.kind == NONE and origin.keyring_problem:  # the keyring cannot hold one here: the variable can
        return f'set key_source = "env:{_env_var(origin)}"{at(origin)}, then export {_env_var(origin)}={KEY}'
    if origin.kind == NONE:
        return (f'set key_source = "keyring"{at(origin)}, then run: llmswitch key set {provider} (or key_source = '
                f'"env:{_env_var(origin)}" with the key in {_env_var(origin)})')
    if origin.keyring_problem:
        return unusable_keyring_fix(origin, provider)
    if origin.configured == ENV:
        return f"export {_env_var(origin)}={KEY} in this shell (key_source = \"env:{_env_var(origin)}\")"
    if origin.configured == COMMAND:
        return f"make the key command{_command(origin)} print the key, or change key_source{at(origin)}"
    if origin.kind != ABSENT:  # a key was sent, yet the server says none arrived: the place it came from
        return replace_key(origin, provider)
    return f"run: llmswitch key set {provider}"


def no_key(origin: KeyOrigin, provider: str, tried: str, failure: str | None, *, required: bool) -> tuple[str, str]:
    """``(cause, fix)`` when no key was found: for a required key, or where an unreadable keyring hides one.

    ``failure`` is why a source could not be consulted (the keyring's cause); ``tried`` lists the steps.
    """
    fix = missing_fix(origin, provider)
    if required and origin.kind == NONE:
        return f"{no_key_phrase(origin)}, but the last probe saw {provider} ask for one", fix
    if not required:  # only reached when the keyring could not be read: no placeholder is handed out for it
        return (f"the keyring cannot be read ({failure}), so whether {provider} has a key stored is unknown and no "
                f"placeholder is handed out", f'{fix}; if {provider} needs no key, set key_source = "none"{at(origin)}')
    if failure:
        return f"no API key found and {failure}", fix
    return f"no API key found (tried {tried})", fix


def replace_key(origin: KeyOrigin | None, provider: str, *, alternatives: bool = True) -> str:
    """Put another key where this one is read from (a rejected key, or one without credit).

    ``alternatives=False`` leaves out the other ways (unset the override, switch the source).
    """
    if origin is None or origin.kind == KEYRING:
        return f"run: llmswitch key set {provider}"
    if origin.kind == OVERRIDE:
        own = {ENV: _env_var(origin), COMMAND: "the key command", NONE: "no key"}.get(origin.configured, "the keyring")
        fix = (f"put the right key in {origin.name} (it wins over every other source, so storing a key elsewhere "
               f"changes nothing)")
        return f"{fix}, or unset {origin.name} to use {own}" if alternatives else fix
    if origin.kind == ENV:
        fix = f"put the right key in {origin.name} (export {origin.name}={KEY})"
        if not alternatives:
            return fix
        if origin.configured == ENV:  # the keyring was not consulted, so whether it works here is unknown:
            return fix                # offer only the way that works (the variable the user chose)
        if origin.keyring_usable:
            return f"{fix}, or store it in the keyring, which is read before {origin.name}: run: llmswitch key set " \
                   f"{provider}"
        return f"{fix}; the keyring cannot hold it now ({terminal_safe(origin.keyring_problem or '', 120)})"
    if origin.kind == COMMAND:
        return f"make the key command{_command(origin)} print the right key, or change key_source{at(origin)}"
    return missing_fix(origin, provider)


def rejected_fix(origin: KeyOrigin | None, provider: str) -> str:
    """The server refused the key sent: the fix at the place it came from."""
    return replace_key(origin, provider)


def place_of(provider_id: str) -> str:
    """``/…/config.toml:LINE`` of the provider's ``key_source`` (or its table); the file alone when not there."""
    from . import paths
    from .tomlpos import key_lines

    path = paths.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return str(path)
    try:
        lines = key_lines(text)
    except Exception:  # noqa: BLE001 - a file that does not scan still has a name
        return str(path)
    line = lines.get(("providers", provider_id, "key_source")) or lines.get(("providers", provider_id))
    return f"{path}:{line}" if line else str(path)

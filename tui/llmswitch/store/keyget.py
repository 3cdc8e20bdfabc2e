"""The key's hot path: ``llmswitch key get P`` as a credential helper, and the bound on every keyring call.

Claude Code's ``apiKeyHelper`` runs ``llmswitch key get P`` on every refresh, other tools once per
launch, so it may cost little more than starting Python. Stdlib only at import (``os``,
``marshal``); the keyring is reached through :mod:`.secret_service` when that is what worked
last time, and nothing else is imported while a key is found:

* **the provider's key reference** (``key_source``, its env vars or command, whether
  ``LLMSWITCH_KEY_<ID>`` is read) comes from a small cache the slow path writes to the cache dir
  (:func:`remember_reference`), valid while config.toml, its directory, the team file and
  llmswitch's own config code are the ones it was made from (inode, size, mtime, ctime);
* **the keyring backend** that worked last time is remembered in the state dir
  (:func:`remember_backend`) and used directly: the Secret Service through ``secretstorage``
  without the ``keyring`` package. ``PYTHON_KEYRING_BACKEND``, keyring's ``keyringrc.cfg`` and
  ``KEYRING_PROPERTY_*`` still win: with any of them set, ``keyring`` itself is asked;
* anything else — no cached reference, no key found, a key refused, a keyring that fails — returns
  None, and the CLI takes the full path (:func:`llmswitch.store.keys.resolve_for`), which says why.

The order of sources is :func:`llmswitch.store.keys.resolve`'s; :func:`fast_get` follows it for
the case where a key is found and defers every other case to it.

:func:`bounded` runs a keyring call with a deadline (:data:`KEYRING_TIMEOUT`): a Secret Service
that owns its D-Bus name and never answers would otherwise hang every caller. A keyring that
did not answer is not asked again in this process for :data:`SILENT_FOR` seconds.
"""

from __future__ import annotations

import marshal
import os

from ..base import chars, paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .config import ProviderConfig

    T = TypeVar("T")

SERVICE = "llmswitch"
"""The keyring service name of every key llmswitch stores (username = provider id)."""
KEYRING_TIMEOUT = 3.0
"""Seconds a keyring call may take before it counts as not answering."""
SILENT_FOR = 30.0
"""After a keyring did not answer, seconds during which it is not asked again (the picker reads many keys)."""
MAX_KEY_LENGTH = 16 * 1024
"""No API key is longer; a longer value is a pasted file, and would not fit in ``exec``'s environment."""
BACKEND_FILE = "keyring-backend"
REFERENCES_FILE = "key-references"
_FORMAT = 1
_silent_until = 0.0


# --- what a key may be ------------------------------------------------------------------------

def override_var(provider_id: str) -> str:
    """``LLMSWITCH_KEY_<ID>``: the env var that overrides every other source."""
    return "LLMSWITCH_KEY_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in provider_id).upper()


def unusable(value: str) -> str | None:
    """Why ``value`` cannot be sent as a key (a clause naming the character, never the key), or None."""
    if len(value) > MAX_KEY_LENGTH:
        return f"is {len(value):,} characters long, far longer than any API key"
    odd = chars.first_outside_ascii(value)
    if odd is not None:
        return f"contains {chars.where_in(odd)}, which no server accepts in a key"
    return None


# --- a deadline for every keyring call --------------------------------------------------------------

def bounded(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a helper thread; KeyringUnavailable ("did not answer") after :data:`KEYRING_TIMEOUT`.

    Only the talking is bounded: import what ``call`` needs first (a busy machine may take seconds to load
    modules, which is not a keyring that does not answer, and a thread left inside an import at exit can
    crash the interpreter's shutdown).
    """
    import threading
    import time

    global _silent_until
    if time.monotonic() < _silent_until:
        raise _silent()
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call(*args)))
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="llmswitch-keyring", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if not outcome:  # the thread stays blocked on the socket; as a daemon it does not keep the process alive
        _silent_until = time.monotonic() + SILENT_FOR
        raise _silent()
    ok, value = outcome[0]
    if ok:
        result: T = value
        return result
    raise value


def _silent() -> Exception:
    from .keys import did_not_answer

    return did_not_answer(KEYRING_TIMEOUT)


# --- which keyring backend ------------------------------------------------------------------------

def keyring_configured() -> bool:
    """Whether keyring's own configuration chooses (``PYTHON_KEYRING_BACKEND``, keyringrc.cfg, ``KEYRING_PROPERTY_*``)."""
    if "PYTHON_KEYRING_BACKEND" in os.environ or any(n.startswith("KEYRING_PROPERTY_") for n in os.environ):
        return True
    if not paths.is_plain_linux():  # keyring keeps its config elsewhere there: let it decide
        return True
    root = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.exists(os.path.join(root, "python_keyring", "keyringrc.cfg"))


def direct_secret_service() -> bool:
    """Use :mod:`.secret_service` directly: named by ``PYTHON_KEYRING_BACKEND``, or what worked last time."""
    from .secret_service import NAME

    if any(n.startswith("KEYRING_PROPERTY_") for n in os.environ):  # a property (scheme, collection) changes items
        return False
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named is not None:
        return named == NAME
    return not keyring_configured() and remembered_backend() == NAME


def _backend_path() -> str:
    return os.path.join(paths.state_dir_name(), BACKEND_FILE)


def remembered_backend() -> str | None:
    """The keyring backend (``module.Class``) keyring chose last time, or None."""
    from .selection_store import read_trusted

    raw = read_trusted(_backend_path(), strict=False)
    name = raw.decode("utf-8", "replace").strip() if raw else ""
    return name if name.replace(".", "").replace("_", "").isalnum() else None


def remember_backend(name: str | None) -> None:
    """Keep (or with None, forget) the backend keyring chose by itself; best effort, written only when it changes."""
    if name == remembered_backend():
        return
    from pathlib import Path

    from ..base.files import atomic_write

    target = Path(_backend_path())
    try:
        if name is None:
            target.unlink(missing_ok=True)
        else:
            atomic_write(target, (name + "\n").encode("utf-8"))
    except OSError:
        pass


# --- the provider's key reference, cached ---------------------------------------------------------

def _watched() -> tuple[str, ...]:
    """The files whose content decides a provider's key reference."""
    config_dir = paths.config_dir_name()
    team = os.path.join(paths.state_dir_name(), "team")
    package = os.path.dirname(os.path.abspath(__file__))
    return (os.path.join(config_dir, paths.CONFIG_FILE), config_dir, os.path.join(team, "record.json"),
            os.path.join(team, "providers.toml"), __file__, os.path.join(package, "keys.py"),
            os.path.join(package, "catalog.py"), os.path.join(package, "team.py"),
            *(os.path.join(package, "config", name) for name in ("model.py", "validate.py", "fields.py")))


def stamp() -> tuple[tuple[object, ...], ...]:
    """What :func:`_watched` files are now (taken before config.toml is read, so a change in between shows)."""
    found: list[tuple[object, ...]] = []
    for name in _watched():
        try:
            st = os.stat(name)
        except OSError:
            found.append((name,))
        else:
            found.append((name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid))
    return tuple(found)


def _references_path() -> str:
    return os.path.join(paths.cache_dir_name(), REFERENCES_FILE)


def _references(current: tuple[tuple[object, ...], ...]) -> dict[str, tuple[object, ...]]:
    from .selection_store import read_trusted

    blob = read_trusted(_references_path(), strict=False)
    if not blob:
        return {}
    try:
        document = marshal.loads(blob)
    except Exception:  # a torn or foreign cache is simply not used
        return {}
    if (type(document) is not tuple or len(document) != 3 or document[0] != _FORMAT or document[1] != current
            or type(document[2]) is not dict):
        return {}
    entries: dict[str, tuple[object, ...]] = document[2]
    return entries


def reference(provider: ProviderConfig) -> tuple[str, tuple[str, ...], str | None, bool]:
    """What :func:`fast_get` needs of a provider: key_source, key_env, key_command, whether the override is read."""
    return (provider.key_source, tuple(provider.key_env), provider.key_command, bool(provider.reads_override))


def remember_reference(provider: ProviderConfig, taken: tuple[tuple[object, ...], ...]) -> None:
    """Keep ``provider``'s key reference for the next ``key get`` (``taken``: :func:`stamp` before loading); best effort."""
    entries = _references(taken)
    wanted = reference(provider)
    if entries.get(provider.id) == wanted or stamp() != taken:
        return
    from pathlib import Path

    from ..base.files import atomic_write

    entries[provider.id] = wanted
    document: Any = (_FORMAT, taken, entries)  # str, int, bool, None and tuples of them: all marshalable
    try:
        atomic_write(Path(_references_path()), marshal.dumps(document))
    except Exception:  # a cache: a full disk or a file atomic_write will not replace (not ours) only costs speed
        pass


# --- the hot path --------------------------------------------------------------------------------

def fast_get(provider_id: str) -> str | None:
    """The key :func:`llmswitch.store.keys.resolve_for` would return, when one is found cheaply; else None.

    None means "ask the full path": no cached reference, nothing found, a value refused, a keyring
    that is not the remembered Secret Service or that failed. A key command that fails (and no env
    var after it holds the key) raises as the full path would: it is not run twice.
    """
    found = _references(stamp()).get(provider_id)
    if found is None or len(found) != 4:
        return None
    source, env, command, reads_override = found
    if not (isinstance(source, str) and isinstance(env, tuple) and isinstance(reads_override, bool)):
        return None
    if reads_override:
        value = os.environ.get(override_var(provider_id), "").strip()
        if value:
            return None if unusable(value) else value
    if source == "keyring":
        if not direct_secret_service():
            return None
        from .secret_service import Gone, Refused, Unsure, load_quick, quick_password

        load_quick()
        try:
            value = (bounded(quick_password, SERVICE, provider_id) or "").strip()
        except (Gone, Refused, Unsure):
            return None  # the full path asks again and says why
        except Exception as exc:
            from .keys import KeyringUnavailable

            if isinstance(exc, KeyringUnavailable):  # did not answer: the full path does not ask again, and
                return None  # goes on to the env vars, as it does for any keyring that cannot be used
            raise
        if value:
            return None if unusable(value) else value
    failed: Exception | None = None
    if source == "command" and isinstance(command, str) and command:
        try:
            value = run_key_command(provider_id, command)
        except Exception as exc:
            from .keys import KeyCommandFailed

            if not isinstance(exc, KeyCommandFailed):
                raise
            failed = exc  # as the full path: the env vars after it may still hold the key
        else:
            return None if unusable(value) else value
    elif source not in ("env", "keyring"):
        return None
    for name in env:
        value = os.environ.get(str(name), "").strip()
        if value:
            return None if unusable(value) else value
    if failed is not None:  # what the full path raises too (the command the user named failed), without running it twice
        raise failed
    return None


def run_key_command(provider_id: str, command: str, timeout: float = 15.0) -> str:
    """Run a ``key_source = "command:…"`` command (no shell) and return its first output line."""
    import shlex
    import subprocess

    def failed(cause: str, fix: str) -> Exception:
        from .keys import KeyCommandFailed  # only when it fails: the hot path does not load keys

        return KeyCommandFailed(cause, fix, subject=provider_id)

    def shown(text: str, limit: int = 80) -> str:
        from ..base.redact import terminal_safe

        return terminal_safe(text, limit)

    fix_source = "fix key_source in config.toml"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise failed(f"key command cannot be parsed ({exc})", fix_source) from None
    if not argv:
        raise failed("key command is empty", fix_source)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise failed(f"key command {shown(argv[0])!r} not found", f"install it or {fix_source}") from None
    except subprocess.TimeoutExpired:
        raise failed(f"key command took longer than {timeout:.0f} s", "check that it does not wait for input") from None
    except OSError as exc:
        raise failed(f"key command could not start ({exc.strerror or exc})",
                     f"check that {shown(argv[0])} can be run") from None
    key = done.stdout.strip().splitlines()[0].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not key:
        from ..base.redact import scrub

        err = shown(scrub(done.stderr.strip(), key or None), 120)
        why = f"exited with {done.returncode}" if done.returncode else "printed nothing"
        raise failed(f"key command {why}{f' ({err})' if err else ''}", "run it by hand to see why")
    return key

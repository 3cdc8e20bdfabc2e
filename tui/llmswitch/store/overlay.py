"""The project scope: ``.llmswitch.toml``, found walking up from the working directory, used once trusted.

Safe by construction: the file may hold exactly this shape, and nothing else is read::

    # comments anywhere
    [roles]
    default = "openrouter/anthropic/claude-sonnet-4.5"
    small = "groq/llama-3.1-8b-instant"

Each value is a ``PROVIDER/MODEL`` reference to a provider llmswitch already knows from your
own configuration (``config.toml``, a preset, or a role in your ``active.toml``); the base URL,
key reference and headers always come from there. Any other line (a base URL, a key, a key
source, a command, a header, another table, an unknown key) is refused with its file:line, so a
cloned repository can never send your key elsewhere or run a command. The check is an
allow-list written by hand, not TOML parsing: every accepted file is valid TOML that means the
same thing, and reading it needs no ``tomllib``.

Trust works like direnv's ``allow``: ``llmswitch trust`` records the file's path and the sha256 of
its bytes in ``trusted-projects`` in the state dir. An untrusted or changed file (by content hash,
not mtime) is ignored, with one line on stderr saying how to trust it. The file itself must also
pass :func:`llmswitch.base.trust.judge` (yours, not writable by others).

Trust is decided before anything else: a file whose path is not on the list is never opened
(one ``stat`` says whether others can write it), so no size, byte or syntax of an untrusted
file can change what llmswitch does — it is ignored with one line. A listed file is read through
:func:`llmswitch.base.bounded.read_file` (a regular file, at most :data:`MAX_BYTES`); one larger than
that cannot be what was trusted (``trust`` refuses it), so it counts as changed.

Stdlib only (``os``, ``sys``, and ``_sha256`` or ``hashlib``): it is on the read path.
"""

from __future__ import annotations

import os
import sys

from ..base import bounded, paths
from ..base.trust import judge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..base.errors import LlmswitchError
    from .config import Config

PROJECT_FILE = ".llmswitch.toml"
TRUST_FILE = "trusted-projects"
MAX_BYTES = bounded.PROJECT_FILE.cap
"""A project file is a few lines; anything bigger is refused unread (64 KiB)."""
FORBIDDEN_NAMES = ("base_url", "url", "api_base", "key", "api_key", "key_source", "key_env", "key_command",
                   "command", "headers", "header", "keyring_service", "keyring_username", "api_kind", "api_version")
"""Names a person might try; each gets the pointed sentence (the allow-list refuses them anyway)."""
_HEADER = ("# llmswitch project scope: which model each role uses in this directory tree.\n"
           "# Only `role = \"provider/model\"` lines under [roles]; run `llmswitch trust` after editing.\n")
_WARNED: set[str] = set()
_TRUST_LIST = bounded.Kind("the trust list", 1024 * 1024)
"""Ours (a line per trusted file): the cap only keeps a broken one from being read forever."""


class Overlay:
    """One ``.llmswitch.toml``: where it is, what it sets, and whether it may be used.

    ``status`` is ``trusted``, ``untrusted`` (never trusted), ``changed`` (its bytes differ from
    what was trusted) or ``unsafe`` (others can write it); ``roles`` maps role → (ref, line) and
    is filled only for a trusted file; ``why`` is the one line said when it is ignored.
    """

    __slots__ = ("path", "roles", "status", "why")

    def __init__(self, path: str, status: str, roles: dict[str, tuple[str, int]], why: str = "") -> None:
        self.path = path
        self.status = status
        self.roles = roles
        self.why = why

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)


def _error(cause: str, fix: str, path: str | None = None, line: int | None = None) -> LlmswitchError:
    from ..base.errors import SelectionError

    return SelectionError(cause, fix, subject=f"{path}:{line}" if path and line else path)


def find(start: str | None = None) -> str | None:
    """The nearest ``.llmswitch.toml`` from ``start`` (the working directory) up to ``$HOME`` or ``/``, inclusive."""
    try:
        here = os.path.abspath(start) if start is not None else os.getcwd()
    except OSError:  # the working directory was removed
        return None
    home = os.environ.get("HOME", "")
    home = os.path.abspath(home) if home.startswith("/") else ""
    while True:
        candidate = os.path.join(here, PROJECT_FILE)
        if os.path.lexists(candidate):
            return candidate
        parent = os.path.dirname(here)
        if here == home or parent == here:
            return None
        here = parent


# --- the shape --------------------------------------------------------------------------------

def _is_role(name: str) -> bool:
    return (0 < len(name) <= 32 and "a" <= name[0] <= "z"
            and all("a" <= c <= "z" or "0" <= c <= "9" or c in "_-" for c in name))


def _strip_comment(text: str) -> str:
    """``text`` without a trailing ``# comment`` (only outside the one quoted value)."""
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            return text[:i]
    return text


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` is not a ``PROVIDER/MODEL`` reference a scope may hold, or None."""
    from .selection import shell_unsafe

    provider, sep, model = ref.partition("/")
    if not sep or not provider or not model or ref != ref.strip():
        return f"{ref!r} is not PROVIDER/MODEL"
    if len(provider) > 64 or not all("a" <= c <= "z" or "0" <= c <= "9" or c in "._-" for c in provider):
        return f"{provider[:40]!r} is not a provider id (lowercase letters, digits, '.', '-' or '_')"
    unsafe = shell_unsafe(ref)
    return f"{ref!r} contains {unsafe}" if unsafe else None


def parse(text: str, path: str) -> dict[str, tuple[str, int]]:
    """Role → (``provider/model``, line) for a file of exactly the allowed shape; else SelectionError at file:line."""
    roles: dict[str, tuple[str, int]] = {}
    in_roles = False
    shape = 'a project file may only hold `role = "provider/model"` lines under [roles], and comments'
    for number, raw in enumerate(text.split("\n"), 1):
        line = _strip_comment(raw.rstrip("\r")).strip()
        if not line:
            continue
        if line.startswith("["):
            name = line.strip("[] \t")
            if line.replace(" ", "").replace("\t", "") == "[roles]" and not in_roles and not roles:
                in_roles = True
                continue
            if name.startswith("roles."):
                raise _error(f"[{name}] is a table, and {shape} (the base URL, key and headers come from "
                             f"your own configuration)", f'write {name[6:]} = "provider/model" under [roles]', path,
                             number)
            raise _error(f"[{name}] is not allowed: {shape}", "remove that table", path, number)
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            raise _error(f"{line[:40]!r} is not TOML this file may hold: {shape}", "remove that line", path, number)
        if key.lower() in FORBIDDEN_NAMES or key.split(".")[-1].strip("\"' ").lower() in FORBIDDEN_NAMES:
            raise _error(f"{key} cannot be set in a project file: a cloned repository must never send your key "
                         f"elsewhere or run a command ({shape})", "remove that line", path, number)
        if not in_roles:
            raise _error(f"{key} is outside [roles]: {shape}", "put it under a [roles] line", path, number)
        if not _is_role(key):
            raise _error(f"{key[:40]!r} is not a role name (lowercase letters, digits, '-' or '_')",
                         "e.g. default, small, embedding", path, number)
        if key in roles:
            raise _error(f"role {key} is set twice (line {roles[key][1]} and here)", "keep one", path, number)
        quote = value[:1]
        if len(value) < 2 or quote not in "\"'" or value[-1] != quote or quote in value[1:-1] or "\\" in value:
            raise _error(f'{key} = {value[:40]} is not one quoted "provider/model" string', shape, path, number)
        ref = value[1:-1]
        why = ref_problem(ref)
        if why:
            raise _error(f"role {key}: {why}", 'write role = "provider/model", e.g. default = "openai/gpt-4o"',
                         path, number)
        roles[key] = (ref, number)
    return roles


def render(roles: dict[str, str]) -> str:
    """The file :func:`write` makes for ``roles`` (role → ref), default first."""
    ordered = sorted(roles.items(), key=lambda item: (item[0] != "default", item[0]))
    return _HEADER + "[roles]\n" + "".join(f'{role} = "{ref}"\n' for role, ref in ordered)


# --- trust ------------------------------------------------------------------------------------

def digest(raw: bytes) -> str:
    """sha256 of ``raw`` in hex (the builtin module when present: ``hashlib`` also loads OpenSSL)."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython ≤ 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython ≥ 3.12
        except ImportError:
            from hashlib import sha256
    return str(sha256(raw).hexdigest())


def trust_path() -> str:
    return os.path.join(paths.state_dir_name(), TRUST_FILE)


def trusted() -> dict[str, str]:
    """Path → sha256 recorded by ``llmswitch trust``; a store others could write is refused."""
    name = trust_path()
    raw = bounded.read_file(name, _TRUST_LIST, judge=judge)
    if isinstance(raw, bounded.Refusal):
        if raw.problem == bounded.Problem.MISSING:
            return {}
        raise _error(raw.cause, raw.fix, None if raw.problem == bounded.Problem.UNSAFE else name)
    found = judge(os.stat(os.path.dirname(name)), os.path.dirname(name), directory=True)
    if found:
        raise _error(found[0], found[1])
    entries: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        hexdigest, sep, where = line.partition("  ")
        if sep and len(hexdigest) == 64:
            entries[where] = hexdigest
    return entries


def load(path: str) -> Overlay:
    """The overlay at ``path`` with its trust status; only a trusted file is read and parsed (shape errors raise).

    Whether the path is trusted is decided first, from one ``stat`` and the trust list: an
    untrusted file is never opened, whatever its size, type or bytes.
    """
    try:
        found = judge(os.stat(path), path)
    except OSError as exc:
        return Overlay(path, "unsafe", {}, f"cannot be read ({exc.strerror})")
    if found is not None:
        return Overlay(path, "unsafe", {}, f"{found[0]} — {found[1]}")
    recorded = trusted().get(path)
    if recorded is None:
        return Overlay(path, "untrusted", {}, "not trusted yet")
    raw = bounded.read_file(path, bounded.PROJECT_FILE, judge=judge)
    if isinstance(raw, bounded.Refusal):
        if raw.problem == bounded.Problem.TOO_LARGE:  # `trust` refuses such a file: it is not what was trusted
            return Overlay(path, "changed", {}, "changed since you trusted it")
        return Overlay(path, "unsafe", {}, f"{raw.cause} — {raw.fix}")
    if recorded != digest(raw):
        return Overlay(path, "changed", {}, "changed since you trusted it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"is not UTF-8 text (byte {exc.start})", "save it as UTF-8", path) from None
    return Overlay(path, "trusted", parse(text, path))


def how_to_trust(path: str) -> str | None:
    """The command that trusts the file at ``path`` (its directory shell-quoted), or what to do when none can.

    A path with control or invisible characters cannot be on the trust list (nor shown raw):
    the sentence says to rename the directory instead.
    """
    from ..base.chars import first_invisible, shell_word

    if first_invisible(path) is not None:
        return None
    return f"cd {shell_word(os.path.dirname(path))} && llmswitch trust"


def ignored_line(overlay: Overlay) -> str:
    """``ignoring PATH (why) — to use it, …``: the one line said when an overlay is not used (terminal-safe)."""
    from ..base.chars import terminal_safe

    where = terminal_safe(overlay.path)
    if overlay.status == "unsafe":
        return f"ignoring {where} ({terminal_safe(overlay.why)})"
    how = how_to_trust(overlay.path)
    if how is None:
        return (f"ignoring {where} ({overlay.why}) — its path has control or invisible characters, which the "
                f"trust list cannot hold: to use it, rename the directory")
    return f"ignoring {where} ({overlay.why}) — to use it, read it, then run: {how}"


def announce(overlay: Overlay) -> None:
    """Say once per process, on stderr, that an overlay is ignored and how to use it."""
    if overlay.status == "trusted" or overlay.path in _WARNED:
        return
    _WARNED.add(overlay.path)
    sys.stderr.write(f"llmswitch: {ignored_line(overlay)}\n")


def record(path: str, raw: bytes) -> None:
    """Trust ``path`` with exactly these bytes (locked, atomic): the writer side of :func:`trusted`."""
    from pathlib import Path

    from ..base.chars import first_invisible, terminal_safe
    from ..base.files import atomic_write, locked

    if first_invisible(path) is not None:
        raise _error("has control or invisible characters in its path, which the trust list cannot hold",
                     "rename the directory", terminal_safe(path))
    store = Path(trust_path())
    with locked(store):
        entries = trusted()
        entries[path] = digest(raw)
        body = "".join(f"{hexdigest}  {where}\n" for where, hexdigest in sorted(entries.items()))
        atomic_write(store, body.encode("utf-8"))


def forget(path: str) -> bool:
    """Remove ``path`` from the trust list; False when it was not there."""
    from pathlib import Path

    from ..base.files import atomic_write, locked

    store = Path(trust_path())
    with locked(store):
        entries = trusted()
        if entries.pop(path, None) is None:
            return False
        atomic_write(store, "".join(f"{h}  {w}\n" for w, h in sorted(entries.items())).encode("utf-8"))
    return True


def write(directory: str, roles: dict[str, str]) -> str:
    """Write ``.llmswitch.toml`` in ``directory`` (mode 0644: it is meant to be committed) and trust it."""
    import tempfile

    path = os.path.join(os.path.abspath(directory), PROJECT_FILE)
    if os.path.islink(path):
        raise _error("is a symlink; llmswitch will not write through it", "replace it with a regular file", path)
    body = render(roles).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{PROJECT_FILE}.", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    record(path, body)
    return path


def set_role(role: str, ref: str | None, directory: str | None = None, *,
             suggest: Callable[[str, Config], list[str]] | None = None) -> tuple[str, dict[str, str], str | None]:
    """``llmswitch use --project`` (and ``/model --project``): set or (``ref`` None) drop ``role`` in the
    ``.llmswitch.toml`` of ``directory`` (the working directory), then trust what was written.

    ``ref`` must name a provider you configured (or a preset); an existing file is kept only when it is
    trusted as it stands, so nothing unseen is trusted along with the change. Returns (path, roles, the
    normalised ref).
    """
    from .config import load as load_config
    from .refs import parse_ref
    from .selection import check_role

    check_role(role)
    path = os.path.join(os.path.abspath(directory or os.getcwd()), PROJECT_FILE)
    roles: dict[str, str] = {}
    if os.path.lexists(path):
        existing = load(path)
        if existing.status != "trusted":
            how = how_to_trust(path)
            raise _error(f"llmswitch will not rewrite it ({existing.why})",
                         f"read it, then run: {how} (or remove it)" if how else "rename the directory", path)
        roles = {name: value for name, (value, _) in existing.roles.items()}
    normal = None
    if ref is None:
        roles.pop(role, None)
    else:
        provider, model = parse_ref(ref, load_config(), suggest=suggest)
        normal = f"{provider.id}/{model}"
        why = ref_problem(normal)
        if why:
            raise _error(f"{why}, which a project file cannot hold", "check the model id", path)
        roles[role] = normal
    if not roles:
        if os.path.lexists(path):
            os.unlink(path)
        forget(path)
        return path, roles, normal
    return write(os.path.dirname(path), roles), roles, normal

"""``active.toml`` on disk: trusted reads, the writer's parse cache, and parsing (see :mod:`llmswitch.store.selection`).

On the read path: imports ``os``, ``stat`` and ``marshal`` only; ``tomllib`` when the
cache does not match, ``llmswitch.base.errors`` when something is refused.
"""

from __future__ import annotations

import marshal
import os
import stat

from ..base import paths
from ..base.files import untrusted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from ..base.errors import LlmswitchError
    from .selection import ActiveSelection

MAX_BYTES = 1 << 20
"""``active.toml`` is a few hundred bytes; anything over 1 MiB is refused unread."""
CACHE_FORMAT = 1
REWRITE = "run: llmswitch use PROVIDER/MODEL"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO never blocks a read


def error(cause: str, fix: str | None, subject: str | None, *, missing: bool = False) -> LlmswitchError:
    from ..base.errors import NoSelection, SelectionError

    return (NoSelection if missing else SelectionError)(cause, fix, subject=subject)


_UNTRUSTED: list[type[LlmswitchError]] = []


def untrusted_class() -> type[LlmswitchError]:
    """``UntrustedSelection``: an UnsafeFileError that is also a SelectionError (callers catch either)."""
    if not _UNTRUSTED:
        from ..base.errors import SelectionError, UnsafeFileError

        class UntrustedSelection(UnsafeFileError, SelectionError):
            """``active.toml`` or its directory can be written by someone else: it is not used."""

        UntrustedSelection.__module__ = "llmswitch.store.selection"
        UntrustedSelection.__qualname__ = "UntrustedSelection"
        _UNTRUSTED.append(UntrustedSelection)
    return _UNTRUSTED[0]


def refuse(found: tuple[str, str]) -> LlmswitchError:
    return untrusted_class()(found[0], found[1])


def read_trusted(name: str, *, strict: bool = True) -> bytes | None:
    """The bytes of ``name`` if it exists and is trusted (file and directory); None when absent.

    ``strict=False`` (the cache) turns every refusal into None: the file stays the truth.
    """
    try:
        fd = os.open(name, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if not strict:
            return None
        raise error(f"cannot be read ({exc.strerror})", "check its permissions", name) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            if not strict:
                return None
            raise error("is not a regular file", "move it away and " + REWRITE, name)
        found = untrusted(st, name)
        if found is None and strict:
            directory = os.path.dirname(name) or "."
            found = untrusted(os.stat(directory), directory, directory=True)
        if found is not None:
            if not strict:
                return None
            raise refuse(found)
        if st.st_size > MAX_BYTES:
            if not strict:
                return None
            raise error(f"is {st.st_size} bytes, over the {MAX_BYTES // 1024} KiB an active.toml can be",
                         "delete it and " + REWRITE, name)
        chunks = []
        while True:
            chunk = os.read(fd, MAX_BYTES + 1)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def cache_path(name: str) -> str:
    """``.active.toml.cache`` beside ``name``."""
    directory, base = os.path.split(name)
    return os.path.join(directory, f".{base}.cache")


def cached(name: str, raw: bytes) -> dict[str, Any] | None:
    """What ``raw`` parses to, from the writer's cache, when the cache holds exactly these bytes."""
    blob = read_trusted(cache_path(name), strict=False)
    if not blob:
        return None
    try:
        document = marshal.loads(blob)
    except Exception:  # a torn or foreign cache is simply not used
        return None
    if (type(document) is not tuple or len(document) != 3 or document[0] != CACHE_FORMAT or document[1] != raw
            or type(document[2]) is not dict):
        return None
    data: dict[str, Any] = document[2]
    return data


def parse(raw: bytes, name: str) -> dict[str, Any]:
    import tomllib

    fix = f"fix it, or delete it and {REWRITE}"
    if raw.startswith(b"\xef\xbb\xbf"):
        raise error("starts with a byte-order mark (BOM), which TOML does not allow",
                     "save it as UTF-8 without a BOM, or delete it and " + REWRITE, name)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"is not UTF-8 text (byte {exc.start})", fix, name) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"is not valid TOML ({exc})", fix, name) from None
    except RecursionError:
        raise error("nests tables or arrays too deeply to read", fix, name) from None


def write_cache(target: Path, body: bytes) -> None:
    """Keep ``(bytes, parsed)`` beside the file; best effort (a reader without it parses the TOML)."""
    import tomllib
    from pathlib import Path

    from ..base.files import atomic_write

    cache = Path(cache_path(str(target)))
    plain = marshalable(tomllib.loads(body.decode("utf-8")))
    try:
        if plain is None:
            cache.unlink(missing_ok=True)
        else:
            atomic_write(cache, marshal.dumps((CACHE_FORMAT, body, plain)))
    except OSError:
        try:
            cache.unlink(missing_ok=True)  # a stale cache is harmless (bytes differ), but do not keep one
        except OSError:
            pass


def marshalable(value: Any) -> Any:
    """The parsed document with datetimes as ``("datetime", iso)``; None when it holds anything else odd."""
    from datetime import date, datetime, time

    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            converted = marshalable(item)
            if converted is None:
                return None
            out[key] = converted
        return out
    if isinstance(value, list):
        items = [marshalable(item) for item in value]
        return None if any(item is None for item in items) else items
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, (date, time)):
        return None
    return value if isinstance(value, (str, bool, int, float)) else None


def update(change: Callable[[dict[str, ActiveSelection]], dict[str, ActiveSelection]], path: Path | str | None,
           role: str) -> None:
    """Apply ``change`` to the roles under the lock and write the result atomically (with its cache, and the
    prompt segment ``llmswitch_prompt`` prints without starting Python: :func:`llmswitch.store.scopes.segment_file`)."""
    from pathlib import Path

    import tomli_w

    from ..base.files import atomic_write, locked
    from . import scopes
    from .selection import DEFAULT_ROLE, HEADER, SCHEMA_VERSION, _now, check_role, read_all

    check_role(role)
    target = paths.active_file() if path is None else Path(path)
    with locked(target):
        roles = change(read_all(target))
        if roles and DEFAULT_ROLE not in roles:
            raise error(f"set the default model before role {role!r}", REWRITE, None)
        segment = Path(scopes.segment_path(str(target)))
        if not roles:
            for stale in (target, Path(cache_path(str(target))), segment):
                if stale.exists():
                    stale.unlink()
            return
        ordered = sorted(roles.items(), key=lambda item: (item[0] != DEFAULT_ROLE, item[0]))
        document = {
            "version": SCHEMA_VERSION,
            "updated": _now(),
            "roles": {name: sel.to_toml_table() for name, sel in ordered},
        }
        body = (HEADER + tomli_w.dumps(document)).encode("utf-8")
        atomic_write(target, body)
        write_cache(target, body)
        atomic_write(segment, scopes.segment_file(roles, str(target)))  # after active.toml: never older than it

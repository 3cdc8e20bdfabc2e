"""Safe files: the one trust rule, private directories, atomic replace, a lock for read-modify-write.

Trust (:func:`untrusted`, which is :func:`llmswitch.base.trust.judge`): llmswitch acts
only on files and directories that belong to you (or root) and that no one else can
write; a file others can write could send your key to another URL. Every reader and
writer asks it.

A write goes to a temporary file in the same directory, is flushed and
fsynced, then ``os.replace``d over the target, so a reader sees the old file
or the new one, never half of either. Temporary files a killed writer left
behind are removed by the next write. Read-modify-write cycles hold an
exclusive lock on a sibling ``.lock`` file so concurrent writers serialise.

Light on purpose (``os``, ``stat``, ``sys``): the read path imports it for
:func:`untrusted`.
"""

from __future__ import annotations

import os
import stat
import sys

from .trust import check, judge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from .errors import UnsafeFileError as UnsafeFileError

__all__ = ["UnsafeFileError", "atomic_write", "check_dir", "ensure_private_dir", "locked", "untrusted"]

DIR_MODE = 0o700
FILE_MODE = 0o600
STALE_TEMP_SECONDS = 600.0
"""A temporary file of ours this old belongs to a writer that was killed (a live write takes milliseconds)."""
_CHECKS = sys.platform != "win32"


def __getattr__(name: str) -> object:
    if name == "UnsafeFileError":  # re-exported lazily: errors.py is not needed until something is refused
        from .errors import UnsafeFileError

        return UnsafeFileError
    raise AttributeError(f"module 'llmswitch.base.files' has no attribute {name!r}")


untrusted = judge
"""The one trust rule (:func:`llmswitch.base.trust.judge`), under the name the readers and writers use."""


def refuse(found: tuple[str, str]) -> None:
    """Raise :class:`~llmswitch.base.errors.UnsafeFileError` for an :func:`untrusted` finding."""
    from .errors import UnsafeFileError

    cause, fix = found
    raise UnsafeFileError(cause, fix)


def check_dir(directory: str) -> None:
    """Refuse a directory others own or can write (``chmod 777`` included); a missing one is fine."""
    if not _CHECKS:
        return
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return
    found = untrusted(st, directory, directory=True)
    if found:
        refuse(found)


def ensure_private_dir(path: Path | str) -> None:
    """Create ``path`` (and parents) with mode 0700 if it does not exist; refuse one others can write."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    check_dir(os.fspath(path))


def check_writable_target(path: Path) -> None:
    """Refuse to write through a symlink or into a file others own or can write."""
    found = check(path, kind="target")
    if found:
        refuse(found)


def _temp_prefix(name: str) -> str:
    return f".{name}."


def atomic_write(path: Path, data: bytes, *, preserve: bool = False) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600, then sweep temp files killed writers left.

    ``preserve`` (another program's file, e.g. a connected tool's config): an existing file keeps
    its mode and owner; a new one still gets 0600.
    """
    import tempfile

    ensure_private_dir(path.parent)
    check_writable_target(path)
    keep = None
    if preserve and _CHECKS:
        try:
            keep = os.lstat(path)
        except FileNotFoundError:
            keep = None
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if _CHECKS:
                os.fchmod(handle.fileno(), stat.S_IMODE(keep.st_mode) if keep is not None else FILE_MODE)
                made = os.fstat(handle.fileno())
                if keep is not None and (made.st_uid, made.st_gid) != (keep.st_uid, keep.st_gid):
                    os.fchown(handle.fileno(), keep.st_uid, keep.st_gid)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(str(path.parent))
    sweep_stale_temps(str(path.parent), path.name)


def sweep_stale_temps(directory: str, name: str, *, older_than: float = STALE_TEMP_SECONDS) -> list[str]:
    """Remove ``.<name>.XXXXXXXX.tmp`` files of ours older than ``older_than`` seconds; returns what went.

    Only names :func:`atomic_write` makes (its prefix, 8 random characters, ``.tmp``), only regular
    files owned by this user, and only old ones: a concurrent writer's file is never touched.
    """
    import time

    prefix = _temp_prefix(name)
    removed: list[str] = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    cutoff = time.time() - older_than
    for entry in entries:
        middle = entry[len(prefix):-len(".tmp")] if entry.startswith(prefix) and entry.endswith(".tmp") else ""
        if len(middle) != 8 or not all(c.isascii() and (c.isalnum() or c == "_") for c in middle):
            continue
        full = os.path.join(directory, entry)
        try:
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and st.st_mtime < cutoff:
                os.unlink(full)
                removed.append(entry)
        except OSError:
            continue  # raced with another sweeper, or not ours to remove
    return removed


def _fsync_dir(directory: str) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class locked:  # noqa: N801 - used as ``with locked(path):``, like the context manager it replaced
    """Hold an exclusive lock for a read-modify-write of ``path``.

    The lock lives on ``.<name>.lock`` beside the file; it is released when the
    process exits even if it is killed, so a crash never leaves a stale lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        ensure_private_dir(self.path.parent)
        lock_path = self.path.parent / f".{self.path.name}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases flock/msvcrt locks
            self._fd = None

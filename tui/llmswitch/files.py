"""Safe file writes: private directories, atomic replace, a lock for read-modify-write.

A write goes to a temporary file in the same directory, is flushed and
fsynced, then ``os.replace``d over the target, so a reader sees the old file
or the new one, never half of either. Read-modify-write cycles hold an
exclusive lock on a sibling ``.lock`` file so concurrent writers serialise.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import UnsafeFileError

__all__ = ["UnsafeFileError", "atomic_write", "ensure_private_dir", "locked"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 if it does not exist."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def check_writable_target(path: Path) -> None:
    """Refuse to write through a symlink or into a file others can write."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(
            f"{path} is a symlink to {os.readlink(path)}; llmswitch will not write through it "
            f"— replace the link with a regular file (or point LLMSWITCH_CONFIG_DIR elsewhere)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{path} is not a regular file — move it away and run the command again")
    if sys.platform != "win32" and st.st_mode & 0o022:
        raise UnsafeFileError(
            f"{path} is writable by other users (mode {stat.S_IMODE(st.st_mode):o}) "
            f"— run: chmod 600 {path}"
        )


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600."""
    ensure_private_dir(path.parent)
    check_writable_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if sys.platform != "win32":
                os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of ``path``.

    The lock lives on ``.<name>.lock`` beside the file; it is released when the
    process exits even if it is killed, so a crash never leaves a stale lock.
    """
    ensure_private_dir(path.parent)
    lock_path = path.parent / f".{path.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases flock/msvcrt locks

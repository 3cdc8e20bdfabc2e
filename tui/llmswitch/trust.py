"""What llmswitch trusts: files and directories that only you (or root) can change.

Whoever can edit ``config.toml`` or ``active.toml`` can point a base URL elsewhere, name a
``key_command`` or an env var to use as the key: such a file is not used. This is the one
place that says what "others can change it" means; the config loader, ``doctor``, the file
writer and the selection reader all ask :func:`check`.

Stdlib only and one ``stat`` per path, so the read path can afford it.
On Windows (no POSIX modes or owners) everything is trusted.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Literal

__all__ = ["Kind", "check", "exposure"]

Kind = Literal["file", "dir", "target"]
"""``file``: a file whose contents we act on (followed through symlinks);
``dir``: the directory holding such files (others could replace them);
``target``: a file we are about to write (never through a symlink)."""

_TRUSTED_OWNERS = (0,)
"""Root can change anything anyway; a root-owned file is as trustworthy as the system."""


def check(path: Path, *, kind: Kind) -> tuple[str, str] | None:
    """``(cause, fix)`` when ``path`` must not be trusted (or written), else None.

    A missing path is not a problem (nothing to trust yet). The cause names the path.
    """
    if sys.platform == "win32":  # pragma: no cover - no POSIX modes there
        return None
    try:
        st = path.lstat() if kind == "target" else path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return (f"{path} cannot be examined ({exc.strerror or exc})", f"check the permissions of {path.parent}")
    if kind == "target" and stat.S_ISLNK(st.st_mode):
        try:
            points_to = os.readlink(path)
        except OSError:
            points_to = "another file"
        return (f"{path} is a symlink to {points_to}; llmswitch will not write through it",
                "replace the link with a regular file (or point LLMSWITCH_CONFIG_DIR elsewhere)")
    is_dir = kind == "dir"
    if is_dir and not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory", "move it away and run the command again"
    if not is_dir and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file", "move it away and run the command again"
    owner = _owner_problem(path, st)
    if owner is not None:
        return owner
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        who = "all users" if mode & 0o002 else "its group"
        what = "replace the files in it" if is_dir else "change it"
        return (f"{path} is writable by others ({who}, mode {mode:o}), so anyone there could {what} and send "
                f"your keys elsewhere; llmswitch will not use it", f"run: chmod {'700' if is_dir else '600'} {path}")
    return None


def _owner_problem(path: Path, st: os.stat_result) -> tuple[str, str] | None:
    uid = os.getuid()
    if st.st_uid == uid or st.st_uid in _TRUSTED_OWNERS:
        return None
    return (f"{path} belongs to another user (uid {st.st_uid}, you are {uid}), who could change it and "
            f"send your keys elsewhere; llmswitch will not use it",
            "make it yours (copy it, then replace the original) or point LLMSWITCH_CONFIG_DIR at a directory you own")


def exposure(path: Path, *, kind: Kind) -> tuple[str, str] | None:
    """``(cause, fix)`` when others can *read* ``path`` (a privacy warning, not a refusal)."""
    if sys.platform == "win32":  # pragma: no cover
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if kind == "dir":
        if mode & 0o077:
            return f"{path} is readable by others (mode {mode:o})", f"run: chmod 700 {path}"
        return None
    if mode & 0o044:
        return f"{path} is readable by others (mode {mode:o})", f"run: chmod 600 {path}"
    return None

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

TYPE_CHECKING = False  # typing is not imported on the read path
if TYPE_CHECKING:
    from typing import Literal

    Kind = Literal["file", "dir", "target"]

__all__ = ["check", "exposure", "judge"]

_CHECKS = sys.platform != "win32"
"""On Windows (no POSIX modes or owners) everything is trusted."""

# Kinds of path: ``file``: a file whose contents we act on (followed through symlinks);
# ``dir``: the directory holding such files (others could replace them);
# ``target``: a file we are about to write (never through a symlink).

_TRUSTED_OWNERS = (0,)
"""Root can change anything anyway; a root-owned file is as trustworthy as the system."""


def check(path: str | os.PathLike[str], *, kind: Kind) -> tuple[str, str] | None:
    """``(cause, fix)`` when ``path`` must not be trusted (or written), else None.

    A missing path is not a problem (nothing to trust yet). The cause names the path.
    """
    if not _CHECKS:  # pragma: no cover - no POSIX modes there
        return None
    name = os.fspath(path)
    try:
        st = os.lstat(name) if kind == "target" else os.stat(name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return (f"{name} cannot be examined ({exc.strerror or exc})",
                f"check the permissions of {os.path.dirname(name) or '.'}")
    if kind == "target" and stat.S_ISLNK(st.st_mode):
        try:
            points_to = os.readlink(name)
        except OSError:
            points_to = "another file"
        return (f"{name} is a symlink to {points_to}; llmswitch will not write through it",
                "replace the link with a regular file (or point LLMSWITCH_CONFIG_DIR elsewhere)")
    return judge(st, name, directory=kind == "dir")


def judge(st: os.stat_result, path: str, *, directory: bool = False) -> tuple[str, str] | None:
    """The rule itself, on a ``stat`` already made: ``(cause, fix)`` when ``path`` must not be trusted.

    Refused: the wrong type, owned by another user (root is trusted), or writable by the
    group or by others — for ``active.toml``, ``config.toml``, their directory and every
    file llmswitch writes.
    """
    if not _CHECKS:  # pragma: no cover
        return None
    if directory and not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory", "move it away and run the command again"
    if not directory and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file", "move it away and run the command again"
    uid = os.geteuid()
    if st.st_uid != uid and st.st_uid not in _TRUSTED_OWNERS:
        from .chars import shell_word  # commands we suggest are quoted (a path may hold spaces or `$(…)`)

        elsewhere = "point LLMSWITCH_CONFIG_DIR at a directory you own"
        word, new = shell_word(path), shell_word(path + ".new")
        fix = (f"{elsewhere} (or move this one away)" if directory else
               f"if its content is right, make it yours: cp {word} {new} && mv {new} {word} (or {elsewhere})")
        return (f"{path} belongs to another user (uid {st.st_uid}), who could change it and send your keys "
                f"elsewhere; llmswitch will not use it", fix)
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        who = "other users" if mode & 0o002 else "its group"
        what = "replace the files in it" if directory else "change it"
        from .chars import shell_word

        return (f"{path} is writable by {who} (mode {mode:o}), so they could {what} and send "
                f"your keys elsewhere; llmswitch will not use it",
                f"run: chmod {'700' if directory else '600'} {shell_word(path)}")
    return None


def exposure(path: str | os.PathLike[str], *, kind: Kind) -> tuple[str, str] | None:
    """``(cause, fix)`` when others can *read* ``path`` (a privacy warning, not a refusal)."""
    if sys.platform == "win32":  # pragma: no cover
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    from .chars import shell_word

    if kind == "dir":
        if mode & 0o077:
            return f"{path} is readable by others (mode {mode:o})", f"run: chmod 700 {shell_word(os.fspath(path))}"
        return None
    if mode & 0o044:
        return f"{path} is readable by others (mode {mode:o})", f"run: chmod 600 {shell_word(os.fspath(path))}"
    return None

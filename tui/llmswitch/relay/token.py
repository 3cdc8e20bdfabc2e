"""The relay's own token: what clients send it (``Authorization: Bearer`` or ``x-api-key``).

It is a local relay token, not a provider key: it opens only the relay on this machine, which
sends each provider its own key. Kept in a 0600 file in the state directory (``relay-token``),
made on first use, so ``llmswitch relay token`` works on a machine without a keyring.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FILE_NAME = "relay-token"
PREFIX = "llmswitch-relay-"
"""Marks the token as the relay's wherever a tool's file refers to it."""


def path() -> Path:
    from ..base import paths

    return paths.state_dir() / FILE_NAME


def read() -> str | None:
    """The token, or None when none was made yet; refuses a file others could read or change."""
    from ..base import trust
    from ..base.errors import LlmswitchError

    where = path()
    refused = trust.check(where, kind="file")
    if refused is not None:
        raise LlmswitchError(*refused)
    try:
        value = where.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmswitchError(f"the relay token file {where} cannot be read ({exc})",
                             "delete it and run: llmswitch relay token") from None
    return value or None


def ensure() -> str:
    """The token, made (and written 0600) when there is none."""
    from ..base.files import atomic_write, locked

    found = read()
    if found is not None:
        return found
    where = path()
    with locked(where):
        found = read()
        if found is None:
            found = PREFIX + secrets.token_urlsafe(32)
            atomic_write(where, (found + "\n").encode("ascii"))
    return found

"""What a model command answers: :class:`Reply`, and the numbered lists ``/model N`` picks from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..base.errors import LlmswitchError
from ..services.models import ModelRow, fmt_prices, fmt_tokens, gateway_note
from ..store.selection import ActiveSelection

__all__ = ["LIST_LIMIT", "Reply", "numbered"]

LIST_LIMIT = 12
"""Rows a numbered list shows before "… N more"."""


@dataclass(frozen=True)
class Reply:
    """What a model command did, for the REPL to print (``str(reply)``)."""

    text: str
    ok: bool = True
    """False when the command failed or was refused; nothing changed then."""
    selection: ActiveSelection | None = None
    """The new selection when the command switched."""
    scope: str | None = None
    """``"session"`` or ``"saved"`` when something changed, else None."""
    warnings: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    """The refs of a numbered list, in order (``/model N`` picks the N-th)."""
    error: LlmswitchError | None = None
    """Why a command failed or was refused, as fields (``cause``, ``fix``), when that is known."""

    def __str__(self) -> str:
        return "\n".join([self.text, *(f"warning: {w}" for w in self.warnings)])


def numbered(title: str, rows: Sequence[ModelRow], footer: str, current: str | None = None,
             limit: int = LIST_LIMIT) -> Reply:
    """A numbered list of ``rows`` (the first ``limit``), with context size and price where the catalog knows them."""
    shown = rows[:limit]
    width = min(max(len(row.ref) for row in shown), 60)
    lines = [title]
    for n, row in enumerate(shown, start=1):
        mark = "*" if row.ref == current else " "
        extra = f"ctx {fmt_tokens(row.context, '-'):>5}  {fmt_prices(row.input_price, row.output_price)}" \
            if row.in_catalog or row.gateway is not None else ""
        if row.gateway is not None:
            extra += "  " + gateway_note(row)
        lines.append(f"{mark}{n:>3}  {row.ref:<{width}}  {extra}".rstrip())
    if len(rows) > len(shown):
        lines.append(f"      … {len(rows) - len(shown)} more — narrow it: /models QUERY")
    lines.append(footer)
    return Reply("\n".join(lines), choices=tuple(row.ref for row in shown))


def count(n: int, noun: str) -> str:
    """``1 model``, ``3 models``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

"""Text helpers the wizard's steps share."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def hanging(indent: str, body: Text, width: int) -> Text:
    """``body`` wrapped to ``width`` with every line after the first under its first character, not at column 0."""
    out = Text()
    for line in body.wrap(Console(width=max(20, width - len(indent)), legacy_windows=False), max(20, width - len(indent))):
        out.append(indent)
        out.append_text(line)
        out.append("\n")
    return out


def text_width(screen_width: int) -> int:
    """Columns a step's text has (its panel's inside)."""
    return max(40, screen_width - 4)

"""Tab completion for model commands: the rules, and adapters for readline and prompt_toolkit.

Offline: everything comes from the switcher's cached :class:`~llmswitch.repl.index.ModelIndex`.
prompt_toolkit is imported only when its adapter is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from ..services.models import fmt_prices, fmt_tokens
from .parse import COMMANDS, FLAGS

if TYPE_CHECKING:  # pragma: no cover
    from .index import ModelIndex

__all__ = ["Completer", "Source"]


class Source(Protocol):
    """What completion needs from a switcher."""

    commands: tuple[str, ...]
    role: str

    def roles(self) -> list[str]: ...
    def index(self) -> ModelIndex: ...
    def cached_index(self) -> ModelIndex | None: ...
    def current_ref(self, role: str) -> str | None: ...


class Completer:
    """Completions for the text before the cursor, and the two line-editor adapters."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._last: tuple[str, list[str]] | None = None

    def complete(self, line: str) -> list[str]:
        """Completions for the last word of ``line`` (the text before the cursor)."""
        source = self.source
        words = line.split()
        word = "" if not words or line[-1:].isspace() else words[-1]
        done = words if not word else words[:-1]
        if not done:
            return [c for c in source.commands if c.startswith(word)] if word.startswith("/") or not word else []
        command = done[0]
        if command == "/role":
            return [r for r in source.roles() if r.startswith(word)]
        if command not in COMMANDS or command not in source.commands:
            return []
        if done[-1] == "--role":
            return [r for r in source.roles() if r.startswith(word)]
        if word.startswith("-"):
            flags = ("--role",) if command == "/models" else FLAGS
            exclusive = {"--save": "--project", "--project": "--save"}  # they write different files
            return [f for f in flags if f.startswith(word) and f not in done
                    and exclusive.get(f) not in done]
        try:
            index = source.index()
        except Exception:  # noqa: BLE001 - never break the user's prompt
            return []
        current = source.current_ref(source.role)
        return index.complete_word(word, prefer=current.partition("/")[0] if current else None)

    def readline(self, text: str, state: int) -> str | None:
        """For ``readline.set_completer`` (set the delimiters to whitespace: ids contain / - . :)."""
        if state == 0:
            import readline

            line = readline.get_line_buffer()[: readline.get_begidx()] + text
            found = self.complete(line)
            if len(found) == 1 and found[0].endswith("/"):  # readline would add a space after "openrouter/"
                more = self.complete(line[: len(line) - len(text)] + found[0])
                found = more if len(more) > 1 else found
            self._last = (text, found)
        if self._last is None or state >= len(self._last[1]):
            return None
        return self._last[1][state]

    def meta(self, text: str) -> str:
        """``ctx 128k $2.5/$10 per M`` for a completed ref the catalog knows, else ``""``."""
        index = self.source.cached_index()
        if index is None or "/" not in text or text.endswith("/"):
            return ""
        row = index.row(text)
        if row is None or not row.in_catalog:
            return ""
        return f"ctx {fmt_tokens(row.context, '-')} {fmt_prices(row.input_price, row.output_price)}".strip()

    def prompt_toolkit(self) -> Any:
        """A ``prompt_toolkit.completion.Completer``."""
        from prompt_toolkit.completion import Completer as Base
        from prompt_toolkit.completion import Completion

        complete: Callable[[str], Iterable[str]] = self.complete
        meta = self.meta

        class ModelCompleter(Base):
            def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
                line = document.text_before_cursor
                words = line.split()
                word = "" if not words or line[-1:].isspace() else words[-1]
                for text in complete(line):
                    yield Completion(text, start_position=-len(word), display_meta=meta(text))

        return ModelCompleter()

"""A virtualised list of models: only the visible lines are ever rendered.

Refilling it after a keystroke costs nothing but a list assignment, so the
whole catalog (~5,000 rows) can be shown and filtered per keystroke; Textual
never measures rows that are off screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...base.redact import terminal_safe
from ...services.models import LISTED, NOT_LISTED, ModelRow, fmt_price, fmt_tokens

COLUMNS = (("Ctx", 6), ("Out", 6), ("In $", 6), ("Out $", 6), ("TVR", 3))
"""Fixed columns after the model id: title and width."""
NARROW = 64
"""Below this width the max-output and output-price columns give their room to the model id."""


def columns_for(width: int) -> tuple[tuple[int, ...], int]:
    """(indexes of the COLUMNS shown, width of the model column)."""
    shown = (0, 1, 2, 3, 4) if width >= NARROW else (0, 2, 4)
    model_width = max(8, width - sum(COLUMNS[i][1] + 1 for i in shown) - 2)
    return shown, model_width


def _fit(text: str, width: int, right: bool = False) -> str:
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def fit_middle(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut in the middle: ids that share a long prefix keep the tail that tells them apart."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text.ljust(width)
    if width < 8:
        return text[: width - 1] + "…"
    head = (width - 1) * 2 // 5
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


class ModelHeader(ScrollView):
    """The column titles, drawn with the same widths as the rows."""

    DEFAULT_CSS = """
    ModelHeader { height: 1; overflow: hidden hidden; background: $boost; color: $text-muted; }
    """
    sort: reactive[str] = reactive("name")

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        shown, model_width = columns_for(width - 1)
        title = "Model ▲" if self.sort == "name" else "Model"
        parts = ["  " + _fit(title, model_width)]
        for name, w in (COLUMNS[i] for i in shown):
            marker = "▼" if (self.sort == "context" and name == "Ctx") or (self.sort == "price" and name == "In $") else ""
            parts.append(" " + _fit(marker + name, w, right=True))
        return Strip([Segment("".join(parts)[:width].ljust(width), self.rich_style)])


class ModelList(ScrollView, can_focus=True):
    """Rows of :class:`ModelRow`, with a cursor; Enter posts ``Selected``."""

    DEFAULT_CSS = """
    ModelList { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    ModelList > .model-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                      text-style: bold; }
    ModelList:blur > .model-list--cursor { background: $block-cursor-blurred-background; text-style: none;
                                           color: $foreground; }
    ModelList > .model-list--dim { color: $text-muted; }
    ModelList > .model-list--pinned { color: $accent; }
    ModelList > .model-list--more { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {"model-list--cursor", "model-list--dim", "model-list--pinned", "model-list--more"}
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Use model", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class _RowMessage(Message):
        def __init__(self, model_list: ModelList, row: ModelRow | None) -> None:
            super().__init__()
            self.model_list = model_list
            self.row = row

        @property
        def control(self) -> ModelList:
            return self.model_list

    class Highlighted(_RowMessage):
        """The cursor moved to ``row`` (None when the list is empty)."""

    class Selected(_RowMessage):
        """Enter (or a click) chose ``row``."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: Sequence[ModelRow] = ()
        self.touched = False
        """True once the user moved the cursor: refills then keep it on the same model."""
        self.empty_text = "no models"
        self._style_cache: tuple[object, dict[str, Style]] | None = None

    # -- data
    def set_rows(self, rows: Sequence[ModelRow], keep: str | None = None) -> None:
        """Show ``rows``; the cursor goes back to the top (or stays on the row whose ref is ``keep``)."""
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows))
        index = 0
        if keep is not None and self.touched:
            for i, row in enumerate(rows[:2000]):
                if row.ref == keep:
                    index = i
                    break
        self.scroll_to(y=max(0, index - self.size.height // 2), animate=False, immediate=True)
        self.cursor = index
        self.refresh()

    @property
    def highlighted(self) -> ModelRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self._scroll_cursor_visible()
        self.post_message(self.Highlighted(self, self.highlighted))

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height or self.size.height
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # -- actions
    def action_cursor_up(self) -> None:
        self.touched = True
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.touched = True
        self.cursor += 1

    def action_page_up(self) -> None:
        self.touched = True
        self.cursor -= max(1, self.size.height - 1)

    def action_page_down(self) -> None:
        self.touched = True
        self.cursor += max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.touched = True
        self.cursor = 0

    def action_last(self) -> None:
        self.touched = True
        self.cursor = len(self.rows) - 1

    def action_select(self) -> None:
        row = self.highlighted
        if row is not None:
            self.post_message(self.Selected(self, row))

    async def _on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y
        if 0 <= index < len(self.rows):
            self.touched = True
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))

    # -- drawing
    def _styles(self) -> dict[str, Style]:
        """Row styles, computed once per paint (not per line)."""
        key = (self.has_focus, self.app.theme)
        if self._style_cache is None or self._style_cache[0] != key:
            base = self.rich_style
            self._style_cache = (key, {"base": base,
                                       "cursor": base + self.get_component_rich_style("model-list--cursor"),
                                       "dim": base + self.get_component_rich_style("model-list--dim"),
                                       "pinned": base + self.get_component_rich_style("model-list--pinned")})
        return self._style_cache[1]

    def notify_style_update(self) -> None:
        self._style_cache = None
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style_cache = None  # computed once per paint, whatever changed since
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        index = round(self.scroll_y) + y
        base = self.rich_style
        if not self.rows:
            text = self.empty_text if y == 0 else ""
            style = base + self.get_component_rich_style("model-list--more")
            return Strip([Segment(_fit(text, width), style)])
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        styles = self._styles()
        shown, model_width = columns_for(min(width, self.size.width - 1))  # a gap (or the scrollbar) before the border
        mark = ("●" if row.ref == self.active_ref else "★" if row.favorite else "↺" if row.recent is not None
                else "?" if row.listing == NOT_LISTED else " ")
        label = terminal_safe(row.ref if self.show_provider else row.model)  # ids come from servers
        cells = [mark + " " + fit_middle(label, model_width)]
        values = (fmt_tokens(row.context), fmt_tokens(row.max_output), fmt_price(row.input_price),
                  fmt_price(row.output_price), row.flags())
        for i in shown:
            value, w = values[i], COLUMNS[i][1]
            cells.append(" " + _fit(value, w, right=True))
        line = "".join(cells)[:width].ljust(width)
        if index == self.cursor:
            style = styles["cursor"]
        elif row.listing == NOT_LISTED or (row.listing != LISTED and not row.in_catalog):
            style = styles["dim"]
        elif row.pinned:
            style = styles["pinned"]
        else:
            style = styles["base"]
        return Strip([Segment(line, style)])

    show_provider: bool = True
    active_ref: str | None = None
    """The model active for the picker's role, marked ●."""

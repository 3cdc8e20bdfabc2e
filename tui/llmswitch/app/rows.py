"""The picker's rows moved to :mod:`llmswitch.models` (they need no Textual); the screens still import them here."""

from ..models import (
           LISTED,
           NOT_LISTED,
           SORTS,
           UNKNOWN,
           Filter,
           ModelRow,
           fmt_price,
           fmt_tokens,
           make_row,
           merge,
           sort_rows,
)

__all__ = ["LISTED", "NOT_LISTED", "SORTS", "UNKNOWN", "Filter", "ModelRow", "fmt_price", "fmt_tokens", "make_row",
           "merge", "sort_rows"]

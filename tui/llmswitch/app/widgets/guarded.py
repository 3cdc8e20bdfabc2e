"""An input for text that is never a secret: a key typed or pasted into it is masked at once and refused.

It also never sends a file's control characters to the terminal: a value given with escape
sequences (a hostile config.toml) is shown escaped, and kept byte for byte unless edited.

Every field of the app that is not a key field is a :class:`GuardedInput` (the key fields
are plain password inputs). When the value becomes key-shaped (``redact.looks_like_secret``
on any of its words) the field masks itself in the same step, before anything is drawn, and
posts :class:`GuardedInput.KeyShaped`; the app says why in one sentence, and the screens
refuse to use a value while ``holds_key`` is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from textual.message import Message
from textual.widgets import Input

from ...base.redact import looks_like_secret, terminal_safe

REFUSED = ("that is a key — it is hidden and not used here: keys go only into a provider's API key field "
           "(F2 in the picker), which stores them in the keyring")
"""Why a key in a field that is not for keys is refused (after the field's name: ``Base URL: that is a key …``)."""
REFUSED_SENTENCE = REFUSED[0].upper() + REFUSED[1:] + "."
"""The same, on its own (a notification)."""

_WORDS = re.compile(r"[\s;,=:\"'<>()\[\]{}]+")


def holds_key(text: str) -> bool:
    """True when ``text``, or one of its words (a header value, a URL's query value), is shaped like a key."""
    text = text.strip()
    return looks_like_secret(text) or any(looks_like_secret(word) for word in _WORDS.split(text) if word)


class GuardedInput(Input):
    """An :class:`Input` that masks and refuses a key; ``allow`` may exempt values it knows (a filter's matches)."""

    class KeyShaped(Message):
        """The value just became key-shaped (it is masked already)."""

        def __init__(self, field: GuardedInput) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> GuardedInput:
            return self.field

    def __init__(self, value: str | None = None, *args: Any, allow: Callable[[str], bool] | None = None,
                 **kwargs: Any) -> None:
        shown = terminal_safe(value) if value else value
        # set before Input.__init__, which assigns the value (and so runs watch_value) itself
        self.allow = allow
        """Values that look like a key but are known not to be one (e.g. a model id the filter matches)."""
        self.holds_key = False
        """The value is key-shaped: it is masked, and the screen must not use it."""
        self._given = shown or ""
        self._written = value if shown != value else None
        """A value from a file with control characters: shown escaped, and kept as it was unless edited."""
        super().__init__(shown, *args, **kwargs)

    def on_mount(self) -> None:
        self.watch_value(self.value)  # a key-shaped value given at construction is masked too

    @property
    def text(self) -> str:
        """What the field means: the value as written in the file when it was shown escaped and left unedited."""
        if self._written is not None and self.value == terminal_safe(self._written):
            return self._written
        return self.value

    def watch_value(self, value: str) -> None:
        shaped = holds_key(value) and not (self.allow is not None and self.allow(value.strip()))
        if shaped == self.holds_key:
            return
        self.holds_key = shaped
        self.password = shaped
        if shaped:
            self.post_message(self.KeyShaped(self))

    @property
    def refused(self) -> bool:
        """A key was typed or pasted here (a key-shaped value the field was given, from a file, is only masked)."""
        return self.holds_key and self.value != self._given

    @property
    def usable_value(self) -> str:
        """The value, or ``""`` while it holds a key (what a filter or a lookup may use)."""
        return "" if self.holds_key else self.value

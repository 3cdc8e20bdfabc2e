"""The picker's changes to providers: a favourite (ctrl+f), the probe's fix (ctrl+g), the editor (F2), a new one (ctrl+n).

Settings are written in a thread through :mod:`..edits` (which keeps the rest of the provider's table);
the screen learns what changed by a message and redraws from it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from ...store.config import Config, ConfigError, ProviderConfig, UnknownProvider, load
from ..status import has_app_fix, key_refused

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...base.keyorigin import KeyOrigin
    from ...base.outcome import ProbeResult
    from ...services.models import ModelRow
    from ..app import LLMSwitchApp


class FavoriteToggled(Message):
    """``model`` of ``provider`` was added to its favourites (``added``) or removed; ``config`` is as written."""

    def __init__(self, config: Config, provider: str, model: str, added: bool) -> None:
        super().__init__()
        self.config, self.provider, self.model, self.added = config, provider, model, added


class ProvidersChanged(Message):
    """config.toml changed: ``config`` as written, or None to read it again."""

    def __init__(self, config: Config | None = None) -> None:
        super().__init__()
        self.config = config


def fresh(provider: ProviderConfig) -> ProviderConfig:
    """``provider`` as config.toml and the last probes describe it now (a probe may have learned it wants a key)."""
    try:
        return load().provider(provider.id)
    except (ConfigError, UnknownProvider):
        return provider


class ProviderEdits:
    """Changes to one provider at a time, run on ``screen`` (its workers, its modals, its messages)."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.screen = screen

    @property
    def app(self) -> LLMSwitchApp:
        return self.screen.app  # type: ignore[return-value]

    def toggle_favorite(self, row: ModelRow, provider: ProviderConfig | None) -> None:
        if provider is None or not provider.configured:
            self.screen.notify(f"{row.provider} is not in config.toml yet — F2 adds it, then ctrl+f marks favourites",
                               severity="warning", markup=False)
            return
        from ..edits import toggle_favorite

        def then(written: tuple[Config, bool]) -> None:
            self.screen.post_message(FavoriteToggled(written[0], row.provider, row.model, written[1]))

        self._write(partial(toggle_favorite, row.provider, row.model), "Favourite not saved", then)

    def apply_fix(self, provider: ProviderConfig, result: ProbeResult, key_origin: KeyOrigin | None) -> None:
        """A better base URL is written at once; a key fix opens the editor in its (masked) API key field."""
        from ..edits import set_base_url
        from .provider import ProviderScreen

        base_url = result.suggested_base_url
        if base_url:
            def then(config: Config) -> None:
                self.screen.notify(f"{self.app.shown(provider.id)}: base_url is now {self.app.shown(base_url)}",
                                   title="Fix applied", markup=False)
                self.screen.post_message(ProvidersChanged(config))

            self._write(partial(set_base_url, provider.id, base_url), "Fix not applied", then)
        elif key_refused(result) and has_app_fix(result, key_origin):
            self.app.push_screen(ProviderScreen(fresh(provider), result=result, for_key=True), self._after_edit)

    def edit(self, provider: ProviderConfig, result: ProbeResult | None) -> None:
        from .provider import ProviderScreen

        self.app.push_screen(ProviderScreen(fresh(provider), result=result), self._after_edit)

    def add(self) -> None:
        from .provider import PresetChooser, ProviderScreen

        def chosen(provider: ProviderConfig | None) -> None:
            if provider is not None:
                self.app.push_screen(ProviderScreen(provider, new=True), self._after_edit)

        self.app.push_screen(PresetChooser(), chosen)

    def _after_edit(self, changed: bool | None) -> None:
        if changed:
            self.screen.post_message(ProvidersChanged())

    def _write(self, write: Callable[[], Any], failed: str, then: Callable[[Any], None]) -> None:
        """Run ``write`` (an :mod:`..edits` function) in a thread; ``then`` gets what it returned, or the error is said."""

        def job() -> None:
            try:
                written = write()
            except (ConfigError, OSError) as exc:
                self.app.call_from_thread(self.screen.notify, self.app.shown_lines(str(exc)), title=failed,
                                          severity="error", markup=False)
                return
            self.app.call_from_thread(then, written)

        self.screen.run_worker(job, thread=True, group="settings", exit_on_error=False)

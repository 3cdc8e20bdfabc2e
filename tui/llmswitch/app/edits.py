"""Changing one provider's settings from the app, keeping the rest of its table as written.

No Textual here. The picker (favourites, a suggested base URL) and the editor read and
write a provider's table through these functions, not through each other.
(Their natural home is ``llmswitch.store.config``'s edits; they move there once it offers them.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..base import paths

if TYPE_CHECKING:
    from ..store.config import Config


def written_settings(provider_id: str) -> dict[str, Any]:
    """The provider's table exactly as written in config.toml ({} when it is not there)."""
    import tomllib

    try:
        data = tomllib.loads(paths.config_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    table = data.get("providers", {}).get(provider_id, {})
    return dict(table) if isinstance(table, dict) else {}


def change_settings(provider_id: str, change: Callable[[dict[str, Any]], object]) -> Config:
    """Apply ``change`` (which edits the dict in place) to the provider's table and write it back, validated.

    Raises ConfigError (the file is then left as it was) or OSError. Blocking.
    """
    from ..store.config import add_provider

    settings = written_settings(provider_id)
    change(settings)
    return add_provider(provider_id, settings, replace=True)


def toggle_favorite(provider_id: str, model: str) -> tuple[Config, bool]:
    """Add ``model`` to the provider's ``favorites``, or remove it; (the config written, whether it was added). Blocking."""
    added = False

    def toggle(settings: dict[str, Any]) -> None:
        nonlocal added
        favorites = [m for m in settings.get("favorites", []) if m != model]
        added = len(favorites) == len(settings.get("favorites", []))
        if added:
            favorites.append(model)
        if favorites:
            settings["favorites"] = favorites
        else:
            settings.pop("favorites", None)

    return change_settings(provider_id, toggle), added


def set_base_url(provider_id: str, base_url: str) -> Config:
    """Write the base URL a probe found answering (the picker's Fix). Blocking."""
    return change_settings(provider_id, lambda settings: settings.update(base_url=base_url))

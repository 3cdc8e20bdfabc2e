"""Helpers several command groups share."""

from __future__ import annotations

from .output import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..store.config import Config


def load_config() -> Config:
    """config.toml, with its warnings printed; its errors propagate (main renders them)."""
    from ..store.config import load

    config = load()
    for problem in config.warnings:
        warn(str(problem))
    return config

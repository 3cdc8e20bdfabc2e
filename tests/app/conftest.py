"""App tests: scenes (fake upstreams + config) and the app under test."""

from __future__ import annotations

import pytest

from . import scenes


@pytest.fixture
def mixed_scene(upstream, isolated):
    return scenes.mixed(upstream)


@pytest.fixture
def make_app():
    """``make_app(**kw)``: the app with the config loaded now; ``stable=False`` shows the real text (ports and all).

    A stable app hides ports and latencies and keeps text cursors steady (see ``scenes.stable_app``).
    """
    from llmswitch.app.app import LLMSwitchApp
    from llmswitch.store.config import load

    def make(stable: bool = True, **kwargs):
        if stable:
            return scenes.stable_app(**kwargs)
        kwargs.setdefault("config", load())
        return LLMSwitchApp(**kwargs)

    return make


@pytest.fixture(autouse=True)
def _no_installed_tools(monkeypatch):
    """Screens never show what this machine has installed (``scenes.no_tools_path``)."""
    monkeypatch.setenv("PATH", scenes.no_tools_path())

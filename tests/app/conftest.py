"""App tests: scenes (fake upstreams + config) and the app under test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import scenes  # noqa: E402


@pytest.fixture
def mixed_scene(upstream, isolated):
    return scenes.mixed(upstream)


@pytest.fixture
def make_app():
    """``make_app(**kw)``: the app with stable text (no ports/latencies) and the config loaded now."""
    from llmswitch.app.app import LLMSwitchApp
    from llmswitch.config import load

    def make(**kwargs):
        kwargs.setdefault("display_filter", scenes.stable)
        kwargs.setdefault("config", load())
        return LLMSwitchApp(**kwargs)

    return make


wait_for = scenes.wait_for
probes_done = scenes.probes_done

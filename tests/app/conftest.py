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


async def wait_for(pilot, predicate, timeout: float = 10.0) -> bool:
    """Pause the pilot until ``predicate()`` holds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


def probes_done(app) -> bool:
    picker = app.picker
    return picker is not None and not picker.probing and len(picker.results) >= len(
        [p for p in picker.providers.values() if p.base_url])

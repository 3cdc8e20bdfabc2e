"""Snapshot tests share the app tests' scenes (fake upstreams, the stable app)."""

from __future__ import annotations

import pytest

from app import scenes


@pytest.fixture
def mixed(upstream, isolated):
    return scenes.mixed(upstream)


@pytest.fixture
def local(upstream, isolated, monkeypatch):
    return scenes.local_servers(upstream, monkeypatch.setenv)


@pytest.fixture(autouse=True)
def _no_installed_tools(monkeypatch):
    """Screens never show what this machine has installed (``scenes.no_tools_path``)."""
    monkeypatch.setenv("PATH", scenes.no_tools_path())

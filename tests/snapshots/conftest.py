"""Snapshot tests share the app tests' scenes (fake upstreams, stable text)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "app"))

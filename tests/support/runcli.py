"""How tests call the real `llmswitch` entry point (importable from any test directory)."""

from __future__ import annotations

import sys
from pathlib import Path


def cli_command() -> list[str]:
    """The console script installed beside this interpreter (or `python -m llmswitch`)."""
    script = Path(sys.executable).parent / "llmswitch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "llmswitch"]

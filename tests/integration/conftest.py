"""The opt-in integration tier: a real OpenAI-compatible server (LiteLLM proxy, mock models).

Run with ``pytest -m integration``. The server is installed (once, into its own
venv) and started by ``scripts/integration-server.sh``; when that is impossible
the tests are skipped with the reason, unless ``CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "integration-server.sh"


@dataclass(frozen=True)
class RealServer:
    url: str
    """``http://127.0.0.1:PORT`` (the proxy answers under ``/v1`` and at the root)."""
    key: str
    """The proxy's master key (a fake string; the models are mocks)."""
    model: str


@pytest.fixture(scope="session")
def real_server() -> Iterator[RealServer]:
    run_dir = tempfile.mkdtemp(prefix="llmswitch-it-")
    env = {**os.environ, "LLMSWITCH_IT_DIR": run_dir}
    try:
        done = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done = subprocess.CompletedProcess([], 1, "", str(exc))
    if done.returncode != 0:
        reason = (f"could not install or start the LiteLLM proxy (scripts/integration-server.sh start: "
                  f"{done.stderr.strip()[-800:]}); run `scripts/integration-server.sh install` with PyPI reachable, "
                  f"then `pytest -m integration`")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    try:
        yield RealServer(values["URL"], values["KEY"], values["MODEL"])
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)

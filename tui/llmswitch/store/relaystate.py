"""What ``llmswitch relay status`` reads: where the relay runs and its recent failovers.

The relay (:mod:`llmswitch.relay`) writes ``relay.json`` in the state directory when it starts, on
every failover and when it stops (atomically, 0600); ``connect --via relay`` and ``doctor`` read it
here, a floor below both. No key, token or body is ever in it. Stdlib only.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

FILE_NAME = "relay.json"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 17435
"""17435: no common local server uses it (Ollama 11434, LM Studio 1234, vLLM 8000, llama.cpp 8080,
LiteLLM 4000, claude-code-router 3456, Vite 5173, Jupyter 8888)."""
KEPT_FAILOVERS = 20


@dataclass(frozen=True)
class Failover:
    """One failover: a role's request left ``source`` for ``target`` because of ``why``."""

    at: str
    role: str
    source: str
    target: str
    why: str

    def sentence(self) -> str:
        return f"{self.at}  {self.role}: {self.source} → {self.target} ({self.why})"


@dataclass(frozen=True)
class Status:
    """The relay as the state file and a TCP connect see it."""

    running: bool
    host: str
    port: int
    pid: int | None = None
    started: str | None = None
    failovers: tuple[Failover, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def as_dict(self) -> dict[str, Any]:
        return {"running": self.running, "url": self.url, "pid": self.pid, "started": self.started,
                "failovers": [f.__dict__ for f in self.failovers]}


def path() -> Path:
    from ..base import paths

    return paths.state_dir() / FILE_NAME


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _read() -> dict[str, Any]:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _update(change: dict[str, Any], failover: Failover | None = None) -> None:
    from ..base.files import atomic_write, locked

    where = path()
    with locked(where):
        data = _read()
        data.update(change)
        if failover is not None:
            kept = [f for f in data.get("failovers", []) if isinstance(f, dict)]
            data["failovers"] = [*kept, failover.__dict__][-KEPT_FAILOVERS:]
        atomic_write(where, json.dumps(data, indent=1).encode())


def started(host: str, port: int) -> None:
    """The relay listens now at ``host:port`` (this process)."""
    _update({"pid": os.getpid(), "host": host, "port": port, "started": _now(), "stopped": None})


def stopped() -> None:
    _update({"pid": None, "stopped": _now()})


def record(role: str, source: str, target: str, why: str) -> Failover:
    """Remember one failover (the newest :data:`KEPT_FAILOVERS` are kept)."""
    event = Failover(_now(), role, source, target, why)
    _update({}, event)
    return event


def listening(host: str, port: int, timeout: float = 0.3) -> bool:
    """Whether something accepts connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status() -> Status:
    """Running (the recorded process lives and its port answers), where, and the recent failovers."""
    data = _read()
    host, port, pid = data.get("host"), data.get("port"), data.get("pid")
    host = host if isinstance(host, str) else DEFAULT_HOST
    port = port if isinstance(port, int) else DEFAULT_PORT
    pid = pid if isinstance(pid, int) else None
    running = _alive(pid) and listening(host, port)
    failovers = tuple(Failover(**{k: str(f.get(k, "")) for k in ("at", "role", "source", "target", "why")})
                      for f in data.get("failovers", []) if isinstance(f, dict))
    return Status(running, host, port, pid if running else None, data.get("started") if running else None, failovers)


def start_command(port: int | None = None) -> str:
    """The command that starts the relay (``port`` when it is not the default)."""
    return "llmswitch relay" + (f" --port {port}" if port and port != DEFAULT_PORT else "")


TOKEN_VAR = "LLMSWITCH_RELAY_TOKEN"
"""The variable a tool whose file names an env var reads the relay token from (``connect --via relay``)."""


def token_command() -> str:
    """``llmswitch relay token`` as one shell command line (the llmswitch that runs now), each word quoted."""
    import shlex

    from ..base.paths import executable

    return " ".join(shlex.quote(part) for part in [*executable(), "relay", "token"])

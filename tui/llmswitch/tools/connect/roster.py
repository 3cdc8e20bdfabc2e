"""``connect --list`` and ``connect --all``: every tool, whether it is installed here, how it would be connected.

:func:`survey` describes each tool module without writing or sending anything: its command, where that
is on PATH (:meth:`.base.Tool.installed`, the one test of "installed"), the version our integration tier
verified (:attr:`.base.Tool.verified`), its protocol, and — for the current selection — how its file
would refer to the key (:meth:`.base.Tool.key_plan`) or why it would be refused (the tool's own rule,
then what the provider is documented to serve). :func:`connect_all` connects every installed tool
through :func:`.engine.connect` (so each is probed and verified as ``connect TOOL`` would be); one
tool's refusal is reported and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...base.errors import Exit, LlmswitchError

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from ...store.config import Config
    from .base import KeyPlan, Tool
    from .engine import Report


@dataclass
class Entry:
    """One tool in ``connect --list``: one object, text and --json renderers."""

    name: str
    title: str
    command: str
    package: str
    protocol: str
    verified: str | None
    installed: Path | None
    connected: bool
    key: KeyPlan | None = None
    """How its file would refer to the key for the current selection (None: no selection, or refused)."""
    refusal: str = ""
    """Why ``connect`` would refuse the current selection (one sentence), before any probe."""
    roles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.name, "title": self.title, "command": self.command, "package": self.package,
                "installed": str(self.installed) if self.installed else None, "connected": self.connected,
                "verified": self.verified, "protocol": self.protocol, "roles": self.roles,
                "key": None if self.key is None else {"kind": self.key.kind.name, "name": self.key.name,
                                                      "text": self.key.describe()},
                "launch": self.key.launch(self.command) if self.key else None, "refusal": self.refusal or None}


def _how(tool: Tool, config: Config | None) -> tuple[KeyPlan | None, str]:
    """(key plan, "") for the current selection's main role, or (None, why not) — from documented facts only."""
    from ...base.errors import NoSelection
    from . import engine

    if config is None:
        return None, ""
    try:
        target = engine.targets_for(tool, {"main": "default"}, config)["main"]
    except (NoSelection, LlmswitchError):
        return None, ""
    refusal = engine.refused(tool, target, config)
    if refusal is not None:
        return None, refusal.sentence()
    return tool.key_plan(target), ""


def survey(environ: dict[str, str] | None = None) -> list[Entry]:
    """Every tool ``connect`` knows, in name order."""
    from ...store.config import load
    from . import names, registry, tool

    try:
        config: Config | None = load()
    except LlmswitchError:
        config = None
    connected = registry.load()
    entries = []
    for name in names():
        found = tool(name)
        key, refusal = _how(found, config)
        entries.append(Entry(found.name, found.title, found.command, found.package, found.protocol.label,
                             found.verified, found.installed(environ), found.name in connected, key, refusal,
                             dict(found.roles)))
    return entries


@dataclass
class Outcome:
    """What ``connect --all`` did with one installed tool: its report, or the one sentence it was refused with."""

    name: str
    report: Report | None = None
    refusal: LlmswitchError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.name, "connected": self.report is not None,
                "report": self.report.as_dict() if self.report else None,
                "refusal": self.refusal.sentence() if self.refusal else None,
                "exit_code": int(self.refusal.exit_code) if self.refusal else 0}


def connect_all(environ: dict[str, str] | None = None, only: Collection[str] | None = None) -> list[Outcome]:
    """Connect every tool found on PATH (those named in ``only``, when given: the wizard's ticked ones) to the
    selection; raises only when none is installed."""
    from . import engine, names, tool

    outcomes = []
    for name in names():
        if (only is not None and name not in only) or tool(name).installed(environ) is None:
            continue
        try:
            outcomes.append(Outcome(name, report=engine.connect(name)))
        except LlmswitchError as exc:
            outcomes.append(Outcome(name, refusal=exc))
    if not outcomes:
        raise LlmswitchError("no tool llmswitch connects is on PATH",
                             "install one, or see which and how: llmswitch connect --list", exit_code=Exit.NOT_FOUND)
    return outcomes

"""``connect TOOL [--role R …] [--check | --repair [--yes]]``, ``connect --list``, ``connect --all``,
``disconnect TOOL``, ``connections``: other tools follow.

TOOL is a tool's name (``claude-code``) or the command a person runs (``claude``): each tool module
declares its command (:attr:`llmswitch.tools.connect.base.Tool.command`), the one alias table.
``--list`` shows every tool, whether it is on PATH, how it would be connected and the version our
integration tier verified; ``--all`` connects each installed one, reporting each (one refusal does not
stop the others; the exit code is 1 when any was refused).
``--repair`` re-creates llmswitch's part of a damaged file (a marker deleted, a member of ours
changed): it prints the change as a diff first and applies it only when accepted (``--yes``, or
"y" at the prompt), like ``team update``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ...base.errors import Exit
from ..output import emit_json, out, warn

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...tools.connect.engine import Change, Report


def configure(name: str, parser: ArgumentParser) -> None:
    from ...tools import connect

    if name in ("connect", "disconnect"):
        typed = ", ".join(f"{command}" for command, tool in connect.commands().items() if command != tool)
        parser.add_argument("tool", nargs="?" if name == "connect" else None, metavar="TOOL",
                            help=f"{', '.join(connect.names())} (or the command you run: {typed})")
    if name == "connect":
        parser.add_argument("--list", action="store_true", dest="list_tools",
                            help="every tool: installed here?, how it would be connected, the version verified")
        parser.add_argument("--all", action="store_true", dest="all_tools",
                            help="connect every installed tool that can follow the selection, reporting each")
        parser.add_argument("--role", action="append", default=[], metavar="TOOLROLE[=ROLE]",
                            help="map one of the tool's roles (weak, editor, review …) to an llmswitch role")
        parser.add_argument("--check", action="store_true",
                            help="do not write: re-read the tool's files and probe what it will use")
        parser.add_argument("--repair", action="store_true",
                            help="re-create llmswitch's part of a damaged file (shows the change first)")
        parser.add_argument("--yes", "-y", action="store_true", help="with --repair: apply without asking")
        parser.add_argument("--via", choices=("relay",),
                            help="point the tool at the local relay (llmswitch relay) once; a switch then reaches it "
                                 "without rewriting its files")
    if name == "connections":
        parser.add_argument("--check", action="store_true", help="also probe the exact URL and model of each")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func={"connect": cmd_connect, "disconnect": cmd_disconnect,
                              "connections": cmd_connections}[name])


def _pointing_lines(report: Report) -> list[str]:
    lines = []
    for role, have in report.pointing.items():
        llm_role = report.roles.get(role, "?")
        lines.append(f"  {role:<8} {have.model} at {have.base_url}  (llmswitch role {llm_role})")
    return lines


def _render(report: Report, heading: str, *, wrote: bool = False) -> None:
    out(heading)
    for path in report.files.values():
        out(f"  {'wrote' if wrote else 'file':<8} {path}")
    out("\n".join(_pointing_lines(report)) or "  (the tool's files point at nothing of ours)")
    if report.key is not None:
        out(f"  key      {report.key.describe()}")
    if report.launch:
        out(f"  run it   {report.launch}")
    for verdict in report.verdicts:
        out(f"  verified POST {verdict.url} model {verdict.model}: " + (f"HTTP {verdict.status}" if verdict.ok
                                                                        else verdict.sentence()))
    for note in report.notes:
        out(f"  note     {note}")
    for damage in report.damage:
        warn(f"{report.tool}: {damage}")
    for drift in report.drift:
        warn(f"{report.tool}: {drift}")


def cmd_connect(args: Namespace) -> int:
    from ...base.errors import LlmswitchError
    from ...tools import connect
    from ...tools.connect import engine

    if args.list_tools or args.all_tools:
        what = "--list" if args.list_tools else "--all"
        other = next((flag for flag, given in (("TOOL", args.tool), ("--role", args.role), ("--check", args.check),
                                               ("--repair", args.repair), ("--all", args.list_tools and args.all_tools))
                      if given), None)
        if other:
            raise LlmswitchError(f"connect {what} takes no {other}", f"run: llmswitch connect {what}",
                                 exit_code=Exit.USAGE)
        return _list(as_json=args.json) if args.list_tools else _all(as_json=args.json)
    if not args.tool:
        raise LlmswitchError("connect needs a tool", "run: llmswitch connect TOOL (see them all: llmswitch connect "
                             "--list), or llmswitch connect --all", exit_code=Exit.USAGE)
    name = connect.tool(args.tool).name
    if args.check:
        reports = engine.status(check=True, only=name)
        if not reports:
            raise LlmswitchError(f"{name} is not connected", f"run: llmswitch connect {name}",
                                 exit_code=Exit.NOT_FOUND)
        return _show(reports, as_json=args.json)
    report = engine.connect(name, args.role, repair=args.repair, via=args.via,
                            approve=lambda changes: _approve(changes, yes=args.yes, as_json=args.json))
    if args.json:
        emit_json(report.as_dict())
    else:
        _render(report, f"connected {name}", wrote=True)
    return Exit.OK


def _list(*, as_json: bool) -> int:
    from ...tools.connect.base import KeyRef
    from ...tools.connect.roster import survey

    entries = survey()
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return Exit.OK
    rows = [("TOOL", "COMMAND", "INSTALLED", "PROTOCOL", "KEY (for the selection)", "VERIFIED WITH")]
    for e in entries:
        key = "refused" if e.refusal else "-"
        if e.key is not None:
            key = {KeyRef.ENV: f"env ${e.key.name}", KeyRef.HELPER: "helper command", KeyRef.NONE: "none needed",
                   KeyRef.LAUNCHER: f"llmswitch exec sets ${e.key.name}"}[e.key.kind]
        rows.append((e.name + (" *" if e.connected else ""), e.command, "yes" if e.installed else "no", e.protocol,
                     key, e.verified or "not run here"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    for e in entries:
        if e.installed:
            out(f"  {e.name}: {e.installed}" + (f"; refused: {e.refusal}" if e.refusal else
                                                 f"; run it: {e.key.launch(e.command)}" if e.key else ""))
    if all(e.key is None and not e.refusal for e in entries):
        out("(select a model first to see how each would be connected: llmswitch use PROVIDER/MODEL)")
    out("* connected.  Connect one: llmswitch connect TOOL (its name or its command); every installed one: "
        "llmswitch connect --all")
    return Exit.OK


def _all(*, as_json: bool) -> int:
    from ...tools.connect.roster import connect_all

    outcomes = connect_all()
    if as_json:
        emit_json([o.as_dict() for o in outcomes])
    for outcome in outcomes if not as_json else ():
        if outcome.report is not None:
            _render(outcome.report, f"connected {outcome.name}", wrote=True)
        elif outcome.refusal is not None:
            out(f"not connected {outcome.name}")
            warn(f"{outcome.name}: {outcome.refusal.sentence()}")
    return Exit.OK if all(o.report is not None for o in outcomes) else Exit.CHECK


def _approve(changes: list[Change], *, yes: bool, as_json: bool) -> bool:
    """Show what a repair changes (a diff per file, on stderr with --json); yes only by --yes or "y" at a terminal."""
    show = sys.stderr.write if as_json else sys.stdout.write
    for change in changes:
        show(change.diff())
    if not changes:
        show("nothing to change\n")
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        return input("apply this repair? [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_disconnect(args: Namespace) -> int:
    from ...tools.connect import engine

    report = engine.disconnect(args.tool)
    if args.json:
        emit_json(report.as_dict())
    else:
        out(f"disconnected {report.tool}: llmswitch's parts removed from " + ", ".join(map(str, report.files.values())))
        for note in report.notes:
            out(f"  note     {note}")
    return Exit.OK


def cmd_connections(args: Namespace) -> int:
    from ...tools.connect import engine

    return _show(engine.status(check=args.check), as_json=args.json)


def _show(reports: list[Report], *, as_json: bool) -> int:
    if as_json:
        emit_json([r.as_dict() for r in reports])
    elif not reports:
        out("no tools connected — run: llmswitch connect TOOL")
    for report in reports if not as_json else ():
        _render(report, f"{report.tool}: {report.state}")
    return Exit.OK if all(r.matches for r in reports) else Exit.CHECK

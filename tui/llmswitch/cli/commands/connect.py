"""``connect TOOL [--role R …] [--check | --repair [--yes]]``, ``disconnect TOOL``, ``connections``: other tools follow.

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
        parser.add_argument("tool", choices=connect.names(), metavar="TOOL", help=", ".join(connect.names()))
    if name == "connect":
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
    from ...tools.connect import engine

    if args.check:
        reports = engine.status(check=True, only=args.tool)
        if not reports:
            from ...base.errors import LlmswitchError

            raise LlmswitchError(f"{args.tool} is not connected", f"run: llmswitch connect {args.tool}",
                                 exit_code=Exit.NOT_FOUND)
        return _show(reports, as_json=args.json)
    report = engine.connect(args.tool, args.role, repair=args.repair, via=args.via,
                            approve=lambda changes: _approve(changes, yes=args.yes, as_json=args.json))
    if args.json:
        emit_json(report.as_dict())
    else:
        _render(report, f"connected {args.tool}", wrote=True)
    return Exit.OK


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
        out(f"disconnected {args.tool}: llmswitch's parts removed from " + ", ".join(map(str, report.files.values())))
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

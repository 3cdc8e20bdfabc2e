"""``relay``: run the local relay in the foreground; ``relay token`` prints its token; ``relay status``."""

from __future__ import annotations

from ..output import emit_json, out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


def configure(name: str, parser: ArgumentParser) -> None:
    from ...store.relaystate import DEFAULT_HOST, DEFAULT_PORT

    parser.add_argument("action", nargs="?", choices=("token", "status"),
                        help="token: print the relay's token; status: is it running, where, recent failovers")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    parser.set_defaults(func=cmd_relay)


def cmd_relay(args: Namespace) -> int:
    from ...relay import token

    if args.action == "token":
        out(token.ensure())
        return 0
    if args.action == "status":
        return status(as_json=args.json)
    from ...base.errors import Exit, LlmswitchError

    if not 0 < args.port < 65536:
        raise LlmswitchError(f"--port {args.port} is not a port", "choose one from 1 to 65535", exit_code=Exit.USAGE)
    from ...relay.server import check_host, run

    host = check_host(args.host)
    run(host, args.port, token.ensure())
    return 0


def status(*, as_json: bool) -> int:
    """Running or not (exit 0 or 1), where, and the recent failovers."""
    from ...store import relaystate

    found = relaystate.status()
    if as_json:
        emit_json(found.as_dict())
        return 0 if found.running else 1
    if found.running:
        out(f"relay: running at {found.url} (pid {found.pid}, since {found.started})")
    else:
        out(f"relay: not running — start it: {relaystate.start_command(found.port)}")
    if found.failovers:
        out("recent failovers:")
        for event in found.failovers[::-1]:
            out("  " + event.sentence())
    else:
        out("no failovers recorded")
    return 0 if found.running else 1

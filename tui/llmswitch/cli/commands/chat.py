"""``chat`` (a line REPL with /model) and ``setup`` (the first-run wizard)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


def configure(name: str, parser: ArgumentParser) -> None:
    if name == "chat":
        parser.add_argument("--role", default="default")
        parser.set_defaults(func=cmd_chat)
    else:
        parser.set_defaults(func=cmd_setup)


def cmd_chat(args: Namespace) -> int:
    from ...chat import run_chat

    code: int = run_chat(args)
    return code


def cmd_setup(args: Namespace) -> int:
    from ...app import run

    code: int = run(setup=True)
    return code

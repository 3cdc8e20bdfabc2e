"""The argument parser, built lazily: only the command being run gets its options.

:data:`COMMANDS` is the one list of commands (name, module in ``commands/``, help); help
output lists all of them, while ``llmswitch use …`` imports and configures only
``commands/current.py``. (``current`` itself usually skips argparse: see ``main``.)
"""

from __future__ import annotations

import argparse
import importlib

from .output import out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

COMMANDS = (
    ("current", "current", "show the active model"),
    ("use", "current", "make PROVIDER/MODEL active"),
    ("list", "listing", "list configured providers, a provider's models, or all presets"),
    ("env", "env", "print shell exports for the active model (eval \"$(llmswitch env)\")"),
    ("exec", "env", "run a command with the active model's environment"),
    ("key", "key", "store, print, remove or locate a provider's API key"),
    ("providers", "providers", "add, remove or show configured providers"),
    ("add", "add", "add a server by its URL: probe it, name it from what answered, ask for a key if it wants one"),
    ("config", "config_files", "check the providers file, or show where files live"),
    ("probe", "probe", "check each provider's /models and key, concurrently"),
    ("doctor", "probe", "check files, keyring, environment and every provider; say how to fix each problem"),
    ("shell", "scoping", "print the line that sets the model for this shell only (eval \"$(llmswitch shell use P/M)\")"),
    ("trust", "scoping", "trust this project's .llmswitch.toml (after reading it), or --forget it"),
    ("prompt", "prompt", "a short segment for your shell prompt: the model in use here, and its scope"),
    ("chat", "chat", "chat with the active model in a line REPL (/model switches)"),
    ("team", "team", "use a shared providers file: team add URL|PATH, update, rm, show"),
    ("setup", "chat", "open the first-run setup wizard"),
    ("connect", "connect", "point another tool (aider, llm, codex …) at the active model, verified"),
    ("disconnect", "connect", "take llmswitch's settings out of a connected tool's files"),
    ("connections", "connect", "list connected tools, what each points at, and drift"),
    ("import", "importing", "find providers, models and keys other tools are set up with, and adopt them"),
    ("relay", "relay", "run a local relay that forwards each request to the model selected now (relay token, relay status)"),
)
DESCRIPTION = ("One place to configure LLM providers; every other tool reads the choice. "
               "Run without arguments to open the picker.")
EPILOG = "exit codes: 0 ok, 1 a check failed, 2 usage/invalid file, 3 not found, 4 key problem"


class _Version(argparse.Action):
    """``--version``: reads the installed metadata only when asked (importlib.metadata is not free)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[object] | None, option_string: str | None = None) -> None:
        from .. import __version__

        out(f"llmswitch {__version__}")
        parser.exit()


def build(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command`` (if it is one) gets its arguments, from its module's ``configure``."""
    parser = argparse.ArgumentParser(prog="llmswitch", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, help in COMMANDS:
        usage = "llmswitch exec [--role ROLE] -- COMMAND [ARGS…]" if name == "exec" else None
        p = sub.add_parser(name, help=help, description=help, usage=usage)
        if name == command:
            importlib.import_module(f"{__package__}.commands.{module}").configure(name, p)
    return parser

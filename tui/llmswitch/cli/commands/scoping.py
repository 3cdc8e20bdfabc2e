"""``shell use|reset`` (the shell scope: a line to eval) and ``trust`` (the project scope's allow list).

The shell scope is ``$LLMSWITCH_USE`` in the shell that evals the line: a child process
cannot change its parent's environment, so ``shell use`` prints the assignment and the shell
runs it (``eval "$(llmswitch shell use openrouter/x)"``; fish: ``llmswitch shell use … | source``;
PowerShell: ``llmswitch shell use … --shell powershell | Invoke-Expression``).
"""

from __future__ import annotations

import os
import sys

from ...base.errors import Exit, LlmswitchError
from ...store.scopes import detect_shell, eval_line
from ..output import out, shown, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

SHELLS = ("bash", "zsh", "fish", "powershell")


def configure(name: str, parser: ArgumentParser) -> None:
    if name == "shell":
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        use = sub.add_parser("use", help="print the line that makes PROVIDER/MODEL active in this shell only")
        use.add_argument("ref", metavar="PROVIDER/MODEL")
        reset = sub.add_parser("reset", help="print the line that drops this shell's choice (every role, or --role)")
        for p in (use, reset):
            p.add_argument("--role", default=None, help="role (default: default; reset: every role)")
            p.add_argument("--shell", choices=SHELLS, help="output syntax (default: from $SHELL)")
        parser.set_defaults(func=cmd_shell)
    else:
        parser.add_argument("path", nargs="?", help="the .llmswitch.toml (default: the nearest one from here)")
        parser.add_argument("--forget", action="store_true", help="stop trusting it")
        parser.set_defaults(func=cmd_trust)


def shell_lines(shell: str, refs: dict[str, str]) -> str:
    """The assignment (or removal) of ``$LLMSWITCH_USE`` for ``refs``, inert for ``shell``."""
    from ...store.scopes import SHELL_VAR, shell_value
    from .env import assign, unset

    if not refs:
        return "\n".join(unset(shell, [SHELL_VAR]))
    return assign(shell, SHELL_VAR, shell_value(refs))


def cmd_shell(args: Namespace) -> int:
    from ...services.switch import parse_ref
    from ...store import scopes
    from ..common import load_config

    shell = detect_shell(args.shell)
    try:
        refs = scopes.shell_refs()
    except LlmswitchError as exc:
        warn(f"{exc.sentence(with_fix=False)}; replacing it")
        refs = {}
    if args.action == "use":
        role = args.role or "default"
        from ...store.selection import check_role

        check_role(role)
        provider, model = parse_ref(args.ref, load_config())  # a provider you configured (or a preset)
        ref = f"{provider.id}/{model}"
        from ...store.overlay import ref_problem

        why = ref_problem(ref)
        if why:
            raise LlmswitchError(f"{why}, which a shell scope cannot hold", "check the model id",
                                 exit_code=Exit.USAGE)
        refs[role] = ref
        note = f"{role} → {ref} in this shell only (${scopes.SHELL_VAR})"
    else:
        dropped = refs.pop(args.role, None) if args.role else None
        if not args.role:
            refs.clear()
        note = (f"{args.role}: {'dropped' if dropped else 'was not set'} in this shell" if args.role
                else "this shell follows the project and user scopes again")
    out(shell_lines(shell, refs))
    if sys.stdout.isatty():
        from ...base.chars import shell_word

        line = " ".join(shell_word(a) for a in ("shell", args.action, getattr(args, "ref", ""),
                                                *(["--role", args.role] if args.role else [])) if a)
        sys.stderr.write(shown(f"llmswitch: nothing changed yet; to apply it, run: {eval_line(shell, line)}\n"))
    else:
        sys.stderr.write(shown(f"llmswitch: {note}\n"))
    return Exit.OK


# --- trust ------------------------------------------------------------------------------------

def cmd_trust(args: Namespace) -> int:
    from ...store import overlay

    path = os.path.abspath(args.path) if args.path else overlay.find()
    if path is None:
        raise LlmswitchError(f"no {overlay.PROJECT_FILE} here or above (up to your home directory)",
                             "write one: llmswitch use --project PROVIDER/MODEL", exit_code=Exit.NOT_FOUND)
    if os.path.isdir(path):
        path = os.path.join(path, overlay.PROJECT_FILE)
    if args.forget:
        out(f"no longer trusted: {path}" if overlay.forget(path) else f"was not trusted: {path}")
        return Exit.OK
    raw = check_project(path)
    overlay.record(path, raw)
    roles = overlay.parse(raw.decode("utf-8"), path)
    listed = ", ".join(f"{role} → {ref}" for role, (ref, _) in roles.items()) or "no roles"
    out(f"trusted {path} (sha256 {overlay.digest(raw)[:12]}…): {listed}")
    return Exit.OK


def check_project(path: str) -> bytes:
    """The file's bytes once it is yours, of the allowed shape, and names only providers you configured."""
    from ...base import bounded
    from ...base.trust import judge
    from ...services.switch import SwitchError, parse_ref
    from ...store import overlay
    from ..common import load_config

    raw = bounded.read_file(path, bounded.PROJECT_FILE, judge=judge)
    if isinstance(raw, bounded.Refusal):
        if raw.problem == bounded.Problem.MISSING:
            raise LlmswitchError(f"{path} does not exist", "write one: llmswitch use --project PROVIDER/MODEL",
                                 exit_code=Exit.NOT_FOUND)
        subject = None if raw.problem == bounded.Problem.UNSAFE else path
        raise LlmswitchError(raw.cause, raw.fix, subject=subject, exit_code=Exit.USAGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LlmswitchError(f"is not UTF-8 text (byte {exc.start})", "save it as UTF-8", subject=path,
                             exit_code=Exit.USAGE) from None
    roles = overlay.parse(text, path)
    config = load_config()
    for role, (ref, line) in roles.items():
        try:
            parse_ref(ref, config)
        except SwitchError as exc:
            raise LlmswitchError(f"role {role}: {exc.cause} (a project file may only name providers you "
                                 f"configured)", exc.fix, subject=f"{path}:{line}", exit_code=Exit.USAGE) from None
    return raw

"""``env`` (shell lines for ``eval``) and ``exec`` (run a command in the selection's environment).

Both set or clear every variable llmswitch owns (:data:`llmswitch.api.OWNED_VARS`), so
nothing from an earlier ``eval "$(llmswitch env)"`` of another provider survives;
``exec`` also drops OpenAI's organisation variables for other endpoints.

Quoting: every value is quoted so that it is inert for the shell that reads it.
``dotenv`` output is read both by ``set -a; . FILE`` (sh) and by python-dotenv, which
treats backslashes in single quotes as escapes and expands ``${VAR}`` even there, so a
value is written in single quotes and refused when it holds a single quote, a
backslash, ``${`` or a control character (no model id, URL or key ``use`` accepts has them).
"""

from __future__ import annotations

import os
import sys

from ...base.errors import Exit, LlmswitchError
from ...base.paths import key_get_command
from ..common import load_config
from ..output import out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...store.selection import ActiveSelection

SHELLS = ("bash", "zsh", "fish", "powershell", "dotenv")
MAX_VALUE = 128 * 1024
"""Linux refuses to start a program when one ``NAME=value`` is longer than this (MAX_ARG_STRLEN)."""
_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell ends a single-quoted string at any of these


def configure(name: str, parser: ArgumentParser) -> None:
    import argparse

    parser.add_argument("--role", default="default")
    if name == "env":
        parser.add_argument("--shell", choices=SHELLS, help="output syntax (default: from $SHELL)")
        parser.add_argument("--include-key", action="store_true", help="dotenv only: write the key itself")
        parser.set_defaults(func=cmd_env)
    else:
        parser.add_argument("--via", choices=("relay",),
                            help="relay: point the command at the local relay (`llmswitch relay`), its token as the "
                                 "key and the role as the model (for a tool connected with --via relay)")
        parser.add_argument("command", nargs=argparse.REMAINDER)
        parser.set_defaults(func=cmd_exec)


def quote(shell: str, value: str, name: str = "value") -> str:
    """``value`` as one inert word for ``shell``; dotenv refuses what it cannot write identically for sh and dotenv."""
    if shell == "powershell":
        return "'" + "".join(c * 2 if c in _POWERSHELL_QUOTES else c for c in value) + "'"
    if shell == "fish":  # fish reads \\ and \' inside single quotes
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "dotenv":
        bad = next((c for c in value if c in "'\\" or c < " " or "\x7f" <= c <= "\x9f"), None)
        if bad is not None or "${" in value:
            what = ("'${'" if bad is None else repr(bad) if bad in "'\\"
                    else f"a control character (U+{ord(bad):04X})")
            raise LlmswitchError(f"{name} contains {what}, which a dotenv file cannot hold the same way for "
                                 f"sh and python-dotenv", "use --shell bash (or exec) for this selection",
                                 exit_code=Exit.USAGE)
        return f"'{value}'"
    import shlex

    return shlex.quote(value)


def assign(shell: str, name: str, value: str, raw: bool = False) -> str:
    quoted = value if raw else quote(shell, value, name)
    if shell == "fish":
        return f"set -gx {name} {quoted}"
    if shell == "powershell":
        return f"$env:{name} = {quoted}"
    if shell == "dotenv":
        return f"{name}={quoted}"
    return f"export {name}={quoted}"


def unset(shell: str, names: list[str]) -> list[str]:
    """Lines that remove ``names`` from the shell (dotenv cannot express it: nothing)."""
    if not names or shell == "dotenv":
        return []
    if shell == "fish":
        return [f"set -e {name}" for name in names]
    if shell == "powershell":
        return [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in names]
    return ["unset " + " ".join(names)]


def in_scope(role: str) -> ActiveSelection:
    """The role's selection in this shell's scopes, saying on stderr when it is not the user default."""
    from ...store.scopes import resolve

    resolved = resolve(role)
    if resolved.scope != "user":
        sys.stderr.write(f"llmswitch: {role} → {resolved.selection.ref} from the {resolved.label()}\n")
    return resolved.selection


def cmd_env(args: Namespace) -> int:

    from ... import api
    from ...net import anthropic_env
    from ...store.keys import KEYLESS_PLACEHOLDER

    sel = in_scope(args.role)
    config = load_config()
    login_shell = os.path.basename(os.environ.get("SHELL", ""))
    shell = args.shell or (login_shell if login_shell in ("bash", "zsh", "fish") else "bash")
    key = api.resolve_key(sel, config).require()
    setting = api.environment(sel, None, api.provider_for(sel, config))
    lines = [assign(shell, name, value) for name, value in setting.items()]
    if key is None:
        lines.append(assign(shell, "OPENAI_API_KEY", KEYLESS_PLACEHOLDER))
    elif shell == "dotenv":
        if args.include_key:
            lines.append(assign(shell, "OPENAI_API_KEY", key))
        else:
            lines.append("# OPENAI_API_KEY left out: add --include-key to write it (the output then holds the key)")
    else:
        getter = key_get_command(sel.provider)
        substitution = {"fish": f"({getter})", "powershell": f"({getter})"}.get(shell, f'"$({getter})"')
        lines.append(assign(shell, "OPENAI_API_KEY", substitution, raw=True))
    key_vars = ["OPENAI_API_KEY"]
    key_line = lines[-1]
    if "ANTHROPIC_BASE_URL" in setting:  # the same line for the variable Anthropic tools read (the name comes first)
        key_vars.append(anthropic_env.key_variable(sel))
        lines.append(key_line.replace("OPENAI_API_KEY", key_vars[-1], 1))
    if "GOOGLE_GEMINI_BASE_URL" in setting:  # and for Gemini-API tools
        key_vars.append("GEMINI_API_KEY")
        lines.append(key_line.replace("OPENAI_API_KEY", key_vars[-1], 1))
    stale = [name for name in api.OWNED_VARS if name not in setting and name not in key_vars]
    out("\n".join(unset(shell, stale) + lines))
    return Exit.OK


def cmd_exec(args: Namespace) -> int:
    from ... import api

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise LlmswitchError("nothing to run", "usage: llmswitch exec -- COMMAND [ARGS…]", exit_code=Exit.USAGE)
    if args.via:
        env = _via_relay(args.role)
    else:
        sel = in_scope(args.role)
        config = load_config()
        key = api.api_key(sel, config)
        env = api.child_environment(sel, key, provider=api.provider_for(sel, config))
    sys.stdout.flush()
    if sys.platform == "win32":  # pragma: no cover
        import subprocess

        try:
            return subprocess.run(command, env=env).returncode
        except FileNotFoundError:
            raise LlmswitchError(f"command not found: {command[0]}", "check the name or your PATH",
                                 exit_code=Exit.NO_COMMAND) from None
    try:
        os.execvpe(command[0], command, env)
    except FileNotFoundError:
        raise LlmswitchError(f"command not found: {command[0]}", "check the name or your PATH",
                             exit_code=Exit.NO_COMMAND) from None
    except PermissionError:
        raise LlmswitchError(f"cannot run {command[0]} (permission denied)", "is it executable?",
                             exit_code=126) from None
    except OSError as exc:
        import errno

        if exc.errno != errno.E2BIG:
            raise
        raise too_big(command[0], env, env.get("LLMSWITCH_PROVIDER", "")) from None
    return Exit.OK  # pragma: no cover - execvpe does not return


def _via_relay(role: str) -> dict[str, str]:
    """The relay's environment: its address, its token as the key, ``role`` as the model (resolved per request)."""
    from ... import api
    from ...relay import token
    from ...store import relaystate
    from ...tools.connect import _relayed as relayed

    sel, relay = relayed.selection(role)
    status = relaystate.status()
    if not status.running:
        from ..output import warn

        warn(relayed.not_running(status))
    return api.child_environment(sel, token.ensure(), provider=relay)


def too_big(program: str, env: dict[str, str], provider: str) -> LlmswitchError:
    """E2BIG, with the variable that caused it named (never its value)."""
    name, value = max(env.items(), key=lambda item: len(item[0]) + len(item[1]))
    size = len(name.encode()) + len(value.encode(errors="replace")) + 1
    if size <= MAX_VALUE:
        return LlmswitchError(f"cannot start {program}: its environment and arguments are larger than the system "
                              f"allows", "unset some large variables and run it again", exit_code=Exit.USAGE)
    fix = (f"the stored key is not a key: check it (llmswitch key where {provider}) and store the right one "
           f"(llmswitch key set {provider})" if name == "OPENAI_API_KEY" else f"unset {name} or make it smaller")
    return LlmswitchError(f"cannot start {program}: {name} is {size // 1024} KiB, over the {MAX_VALUE // 1024} KiB "
                          f"one environment variable may hold", fix, exit_code=Exit.KEY if name == "OPENAI_API_KEY"
                          else Exit.USAGE)

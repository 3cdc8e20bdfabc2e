"""``config check`` (config.toml, active.toml and the drift between them) and ``config path``."""

from __future__ import annotations

from ...base.errors import Exit
from ..output import as_problem, emit_json, out

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...base.errors import Problem
    from ...store.config import Config


def configure(name: str, parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="validate config.toml and active.toml (and that they agree)")
    p.set_defaults(func=cmd_config_check)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("path", help="print where llmswitch keeps its files")
    p.set_defaults(func=cmd_config_path)
    p.add_argument("--json", action="store_true")


def selection_problems(config: Config | None) -> list[Problem]:
    """active.toml's problems: unreadable or untrusted, model ids no API takes (with their line), and roles whose
    provider or key reference config.toml no longer has."""
    from ... import api
    from ...base import paths
    from ...base.errors import LlmswitchError, Problem
    from ...store.selection import read_all

    active = str(paths.active_file())
    found = model_problems(active)
    try:
        roles = read_all()
    except LlmswitchError as exc:  # its subject is the file: said once, by the Problem
        return found or [Problem(exc.cause, exc.fix, file=active)]
    if config is not None:
        for sel in roles.values():
            try:
                api.provider_for(sel, config)
            except LlmswitchError as exc:
                found.append(Problem(exc.cause, exc.fix, file=active, key=f"roles.{sel.role}"))
    return found


def model_problems(active: str) -> list[Problem]:
    """Each role's ``model`` that is empty, a placeholder (``"default"``) or unsendable, with its line in active.toml."""
    import tomllib

    from ...base.errors import Problem
    from ...base.tomlpos import key_lines
    from ...store.config import PROVIDER_ID, model_id_problem

    try:
        with open(active, "rb") as handle:
            text = handle.read().decode("utf-8")
        roles = tomllib.loads(text).get("roles", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # read_all says why the file cannot be read
    lines = key_lines(text)
    found = []
    for role, table in roles.items() if isinstance(roles, dict) else ():
        model = table.get("model") if isinstance(table, dict) else None
        why = model_id_problem(model) if model is not None else None
        if why is not None:
            provider = table.get("provider")
            pid = provider if isinstance(provider, str) and PROVIDER_ID.match(provider) else "PROVIDER"
            found.append(Problem(why[0], f"run: llmswitch use --role {role} {pid}/MODEL (llmswitch list {pid} shows "
                                 "the models)", file=active, line=lines.get(("roles", role, "model")),
                                 key=f"roles.{role}.model"))
    return found


def cmd_config_check(args: Namespace) -> int:
    from ...base import paths
    from ...store.config import ConfigError, load

    problems: list[Problem] = []
    path = paths.config_file()
    config: Config | None = None
    try:
        config = load(path)
        problems += [as_problem(p) for p in config.warnings]
        exists = config.exists
    except ConfigError as exc:
        problems += [as_problem(p) for p in exc.problems]
        exists = True
    problems += selection_problems(config)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        emit_json({"config": str(path), "exists": exists, "ok": not errors, "problems": [p.as_dict() for p in problems]})
    elif not problems and not exists:
        out(f"no providers file at {path} — nothing to check (`llmswitch providers add ID` creates it)")
    elif not problems:
        out(f"{path}: ok")
    else:
        for p in problems:
            out(f"{p.severity}: {p}")
    return Exit.CHECK if errors else Exit.OK


def cmd_config_path(args: Namespace) -> int:
    from ...base import paths

    data = {"config_dir": str(paths.config_dir()), "config": str(paths.config_file()),
            "active": str(paths.active_file()), "cache_dir": str(paths.cache_dir()), "state_dir": str(paths.state_dir())}
    if args.json:
        emit_json(data)
    else:
        for name, value in data.items():
            out(f"{name:<11} {value}")
    return Exit.OK

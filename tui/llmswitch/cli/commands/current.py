"""``current`` (the read path: no argparse, no json unless ``--json``) and ``use``.

``current`` marks a role whose provider is gone (neither configured nor a preset any more:
``providers rm``, an edit, ``team rm``). Cheaply: ``use`` checked the provider when it wrote the
role, so config.toml is loaded only when it (or the team record) changed after the role's
``updated`` time (:func:`gone_roles`), and then once: its answer is kept in the cache dir for exactly
that config.toml (:data:`GONE_CACHE`).
"""

from __future__ import annotations

import os

from ..output import emit_json, out, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from ...store.selection import ActiveSelection


def configure(name: str, parser: ArgumentParser) -> None:
    if name == "current":
        parser.add_argument("--role", default="default", help="role to show (default: default)")
        parser.add_argument("--all", action="store_true", help="show every role")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--field", help="print one field (model, provider, base_url, …)")
        parser.set_defaults(func=cmd_current)
    else:
        parser.add_argument("ref", nargs="?", metavar="PROVIDER/MODEL")
        parser.add_argument("--role", default="default", help="role to set: default, small, embedding, …")
        parser.add_argument("--unset", action="store_true", help="clear the role instead")
        parser.add_argument("--project", action="store_true",
                            help="write .llmswitch.toml here (this directory tree only) and trust it")
        parser.add_argument("--yes", "-y", action="store_true",
                            help="no warning for a much dearer model or a nearly spent budget")
        parser.set_defaults(func=cmd_use)


# --- current ----------------------------------------------------------------------------------

def fast(argv: list[str]) -> tuple[str, bool, bool, str | None] | None:
    """``current``'s options without argparse: (role, all, json, field), or None for anything else.

    Only the exact spellings are taken (``--role R``, ``--role=R``, ``--field F``, ``--json``,
    ``--all``); abbreviations, ``--help`` and mistakes go to argparse, which explains them.
    """
    role, every, as_json, field = "default", False, False, None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            as_json = True
        elif arg == "--all":
            every = True
        elif arg in ("--role", "--field"):
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return None
            i += 1
            if arg == "--role":
                role = argv[i]
            else:
                field = argv[i]
        elif arg.startswith("--role="):
            role = arg[len("--role="):]
        elif arg.startswith("--field="):
            field = arg[len("--field="):]
        else:
            return None
        i += 1
    return role, every, as_json, field


def cmd_current(args: Namespace) -> int:
    return current(args.role, args.all, args.json, args.field)


def current(role: str, every: bool, as_json: bool, field: str | None) -> int:
    from ...store import scopes

    looked = scopes.Scopes()
    if every:
        names = looked.roles()
        resolved = [looked.resolve(name) for name in names] if names else [looked.resolve(role)]
    else:
        resolved = [looked.resolve(role)]
    selections = [r.selection for r in resolved]
    gone = gone_roles(resolved)
    if as_json:
        from ...store.budgetcache import read as kept_budget

        data = [{**r.selection.as_dict(), **r.as_dict(), "provider_gone": r.selection.role in gone,
                 "budget": kept_budget(r.selection.provider, r.selection.base_url)}
                for r in resolved]
        emit_json(data if every else data[0])
        return 0
    if field:
        fields = {**selections[0].as_dict(), **resolved[0].as_dict(), "provider_gone": False}
        if field not in fields:
            from ...base.errors import Exit, LlmswitchError

            raise LlmswitchError(f"no field {field!r}", f"fields: {', '.join(fields)}", exit_code=Exit.USAGE)
        for r in resolved:
            value = {**r.selection.as_dict(), **r.as_dict(), "provider_gone": r.selection.role in gone}.get(field)
            out(" ".join(value) if isinstance(value, list) else str(value if value is not None else ""))
        return 0
    for r in resolved:
        sel = r.selection
        out(sel.ref + ("  [provider gone]" if sel.role in gone else ""))
        if sel.role in gone:
            warn(f"role {sel.role} uses provider {sel.provider}, which is neither configured nor a preset any more — "
                 f"pick another: llmswitch use --role {sel.role} PROVIDER/MODEL")
        out(f"  role      {sel.role}")
        out(f"  scope     {r.scope} ({r.where()})")
        out(f"  base_url  {sel.base_url}")
        out(f"  api_kind  {sel.api_kind}")
        out(f"  key       {describe_key_source(sel)}")
        if sel.headers:
            out(f"  headers   {', '.join(sel.headers)}")
        updated = sel.updated_text()
        if updated:
            out(f"  updated   {updated}")
    return 0


CHANGED_FILES = (("config", "config.toml"), ("state", "team"))
"""What can take a provider away after ``use`` wrote a role: config.toml, and the team file's directory
(``team add|update|rm`` write or remove its record and copy there: :func:`llmswitch.store.team.copy_path`)."""


def gone_roles(resolved: list[Any]) -> set[str]:
    """The user-scope roles whose provider is neither configured nor a preset any more.

    Stdlib only unless one of :data:`CHANGED_FILES` changed after a role was written: then config.toml
    is loaded and asked (``Config.provider``, the one decision ``use`` made). A file with errors marks
    nothing here (``doctor`` says what is wrong with it).
    """
    from ...base import paths

    newest = 0
    stamp: list[tuple[int, int, int] | None] = []
    for kind, name in CHANGED_FILES:
        where = paths.config_dir_name() if kind == "config" else paths.state_dir_name()
        try:
            st = os.stat(os.path.join(where, name))
        except OSError:
            stamp.append(None)
            continue
        stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
        newest = max(newest, st.st_mtime_ns)
    try:
        after_last_write = newest > os.stat(paths.active_path()).st_mtime_ns  # changed since any role was written
    except OSError:
        after_last_write = False
    suspects = [r.selection for r in resolved
                if r.scope == "user" and newest and (after_last_write or _written_before(r.selection, newest / 1e9))]
    if not suspects:
        return set()
    known = _checked(tuple(stamp))
    if not all(sel.provider in known for sel in suspects):
        from ...store.config import ConfigError, UnknownProvider, load

        try:
            config = load()
        except ConfigError:
            return set()
        for provider_id in {sel.provider for sel in suspects} - set(known):
            try:
                config.provider(provider_id)
            except UnknownProvider:
                known[provider_id] = False
            else:
                known[provider_id] = True
        _keep_checked(tuple(stamp), known)
    return {sel.role for sel in suspects if not known[sel.provider]}


GONE_CACHE = "current-providers"
"""In the cache dir: which providers :func:`gone_roles` found configured (or a preset) for exactly the
config.toml and team directory it saw (mtime, size, inode of each), so that after an edit of config.toml
it is loaded once, not on every ``current`` until ``use`` rewrites the roles (as ``.active.toml.cache``
spares readers tomllib)."""
_GONE_FORMAT = 1


def _checked(stamp: tuple[tuple[int, int, int] | None, ...]) -> dict[str, bool]:
    """Provider id → whether config.toml knows it, as recorded for exactly ``stamp``; empty when not recorded."""
    import marshal

    from ...base import paths
    from ...store.selection_store import read_trusted

    blob = read_trusted(os.path.join(paths.cache_dir_name(), GONE_CACHE), strict=False)
    if not blob:
        return {}
    try:
        document = marshal.loads(blob)
    except Exception:  # noqa: BLE001 - a torn or foreign cache is simply not used
        return {}
    if (type(document) is not tuple or len(document) != 3 or document[0] != _GONE_FORMAT
            or document[1] != stamp or type(document[2]) is not dict
            or not all(type(k) is str and type(v) is bool for k, v in document[2].items())):
        return {}
    return dict(document[2])


def _keep_checked(stamp: tuple[tuple[int, int, int] | None, ...], known: dict[str, bool]) -> None:
    """Record :func:`_checked`'s answer; best effort (without it, config.toml is loaded again)."""
    import marshal
    from pathlib import Path

    from ...base import paths
    from ...base.errors import LlmswitchError
    from ...base.files import atomic_write

    try:
        atomic_write(Path(paths.cache_dir_name(), GONE_CACHE), marshal.dumps((_GONE_FORMAT, stamp, known)))
    except (OSError, LlmswitchError):  # an unwritable or unsafe cache dir: config.toml is simply loaded again
        pass


def _written_before(sel: ActiveSelection, moment: float) -> bool:
    """Whether the role was written before ``moment`` (a whole second earlier; unknown counts as before)."""
    import time

    stamp = sel.as_dict()["updated"]  # ISO 8601 in UTC ending in Z (the cache's string: no datetime import)
    if isinstance(stamp, str) and stamp.endswith("Z") and len(stamp) >= 20:
        return stamp[:19] < time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
    return True


def describe_key_source(sel: ActiveSelection) -> str:
    """The key reference other readers see in active.toml, in lookup order (the words of ``key where``)."""
    from ...base.keyplaces import lookup_order
    from ...store.selection import override_var

    entry = f"{sel.keyring_service}/{sel.keyring_username}"
    return lookup_order(sel.key_source, override=override_var(sel.provider), keyring_entry=entry,
                        command=sel.key_command or "", env=tuple(sel.key_env), required=sel.key_required)


# --- use --------------------------------------------------------------------------------------

def cmd_use(args: Namespace) -> int:
    from ...base.errors import Exit, LlmswitchError
    from ...services.switch import switch
    from ...store import selection
    from ..common import load_config

    if args.unset and args.ref:
        raise LlmswitchError("--unset takes no PROVIDER/MODEL", "run: llmswitch use --role ROLE --unset",
                             exit_code=Exit.USAGE)
    if not args.ref and not args.unset:
        raise LlmswitchError("name the model", "run: llmswitch use PROVIDER/MODEL", exit_code=Exit.USAGE)
    if args.project:
        return use_project(args.role, None if args.unset else args.ref)
    if args.unset:
        removed = selection.clear(args.role)
        out(f"{args.role}: cleared" if removed else f"{args.role}: was not set")
        return Exit.OK
    unsafe = selection.shell_unsafe(args.ref.partition("/")[2])
    if unsafe:
        raise LlmswitchError(f"the model id contains {unsafe}, which a shell would run or expand",
                             "check the model id (llmswitch refuses " + selection.SHELL_UNSAFE_TEXT + " in model ids)",
                             exit_code=Exit.USAGE)
    config = load_config()
    from ...services.budget import assess, current_ref, warning_lines

    verdict = assess(config, args.ref.strip(), current_ref(args.role))
    result = switch(args.ref, args.role, config)
    out(f"{args.role} → {result.selection.ref}  ({result.selection.base_url})")
    for note in [*result.warnings, *warning_lines(verdict, yes=args.yes)]:
        warn(note)
    return Exit.OK


def use_project(role: str, ref: str | None) -> int:
    """``use --project``: the role in this directory's ``.llmswitch.toml`` (written, then trusted)."""
    from ...base.errors import Exit
    from ...services.models import owners
    from ...store import overlay

    if ref is None and not os.path.lexists(overlay.PROJECT_FILE):
        out(f"{role}: was not set in {os.path.abspath(overlay.PROJECT_FILE)}")
        return Exit.OK
    path, roles, normal = overlay.set_role(role, ref, suggest=owners)
    if normal is None:
        out(f"{role}: cleared in {path}" + ("" if roles else " (now empty: removed)"))
    else:
        out(f"{role} → {normal} in {path} (project scope, trusted; commit it to share it)")
    return Exit.OK

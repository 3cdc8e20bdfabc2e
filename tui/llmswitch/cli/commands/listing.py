"""``list``: configured providers, one provider's models, or every preset.

A provider's models come from :func:`llmswitch.services.models.provider_rows`, the one merge of
live list, catalog and favourites that the picker and ``/model`` show too.
"""

from __future__ import annotations

from ...base.errors import Exit
from ..common import load_config
from ..output import emit_json, out
from .providers import provider_dict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from ...store.config import ProviderConfig


def configure(name: str, parser: ArgumentParser) -> None:
    parser.add_argument("provider", nargs="?", help="list this provider's models")
    parser.add_argument("--presets", action="store_true", help="list every preset (catalog + local servers)")
    parser.add_argument("--json", action="store_true")
    wants = parser.add_argument_group("only models that (without PROVIDER: across your providers)")
    wants.add_argument("--tools", action="store_true", help="call tools (functions)")
    wants.add_argument("--vision", action="store_true", help="take images")
    wants.add_argument("--reasoning", action="store_true", help="reason (thinking models)")
    wants.add_argument("--min-context", type=_tokens, metavar="N",
                       help="have at least N tokens of context (100000, 100k, 1M): the served context when a probe "
                            "read it, else the catalog's")
    wants.add_argument("--max-price", type=float, metavar="USD", help="cost at most USD per million input tokens")
    parser.set_defaults(func=cmd_list)


def _tokens(text: str) -> int:
    """``100000``, ``100k``, ``1M`` → tokens (argparse type)."""
    import argparse

    from ...services.matching import Needs

    needs, rest = Needs.split(f"ctx>={text.strip()}")
    if rest or not needs.limits:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of tokens (e.g. 100000, 100k, 1M)")
    return int(needs.limits[0][2])


def _needs(args: Namespace) -> Any:
    """The capability filters asked on the command line, as :class:`llmswitch.services.matching.Needs`."""
    from ...services.matching import Needs

    flags = [flag for flag in ("tools", "vision", "reasoning") if getattr(args, flag, False)]
    limits = ([("context", ">=", float(args.min_context))] if args.min_context is not None else []) + (
        [("price", "<=", args.max_price)] if args.max_price is not None else [])
    return Needs(flags, limits)


def cmd_list(args: Namespace) -> int:
    from ...store import catalog

    rows: list[dict[str, Any]]
    if args.presets:
        rows = [{"id": p.id, "name": p.name, "base_url": p.resolved_base_url(), "kind": p.kind, "local": p.local,
                 "key_env": list(p.key_env), "models": len(p.models)} for p in catalog.presets().values()]
        if args.json:
            emit_json(rows)
            return Exit.OK
        for row in rows:
            where = "local " if row["local"] else "hosted"
            noun = "model " if row["models"] == 1 else "models"
            out(f"{row['id']:<28} {where} {row['models']:>4} {noun}  {row['base_url'] or '(needs --base-url)'}")
        return Exit.OK
    config = load_config()
    needs = _needs(args)
    if args.provider:
        from ...services.models import LISTED, provider_rows
        from ...services.served import serves_line
        from ...store import served

        provider = config.provider(args.provider)
        _refresh_gateway(provider)
        model_rows = provider_rows(provider)
        probed = any(m.listing == LISTED for m in model_rows)
        kept = [m for m in model_rows if needs.admits(m)]
        found = served.fingerprint(provider.id, provider.base_url)
        if args.json:
            emit_json({"provider": provider.id, "probed": probed,
                       "protocols": found.protocols if found is not None else None,
                       "protocols_checked": found.checked.isoformat() if found is not None else None,
                       "models": [_model_dict(provider, m) for m in kept]})
            return Exit.OK
        if not model_rows:
            out(f"{provider.id}: no models known yet — run: llmswitch probe {provider.id}")
        elif not kept:
            out(f"{provider.id}: no model meets the filters ({len(model_rows)} known)")
        _model_lines(provider, kept)
        if found is not None:
            out(serves_line(provider))
        if not probed and model_rows:
            out(f"(catalog only — run `llmswitch probe {provider.id}` to see what the server offers)")
        return Exit.OK
    if needs:
        return _filtered_everywhere(config, needs, args.json)
    from ...base.errors import SelectionError
    from ...store.selection import read_all

    try:
        selections = list(read_all().values())
    except SelectionError:
        selections = []
    roles: dict[str, list[str]] = {}
    for sel in selections:
        roles.setdefault(sel.provider, []).append(sel.role)
    shown = [*config.providers.values(), *(config.provider(pid) for pid in roles if pid not in config.providers)]
    rows = [_row(provider, roles.get(provider.id, [])) for provider in shown]
    if args.json:
        emit_json(rows)
        return Exit.OK
    if not rows:
        out("no providers configured — add one: llmswitch providers add openrouter  (presets: llmswitch list --presets)")
        return Exit.OK
    for row in rows:
        labels = "  " + " ".join(f"[{role}]" for role in row["roles"]) if row["roles"] else ""
        out(f"{row['id']:<20} {row['base_url'] or '-':<45} {_status(row):<34} {row['catalog_models']:>4} in catalog"
            f"{labels}" + ("  (team)" if row.get("team") else ""))
    _team_note(rows)
    return Exit.OK


def _model_dict(provider: ProviderConfig, row: Any) -> dict[str, Any]:
    """A model row for ``--json``: the catalog's facts, the served context, and where each came from."""
    from ...services.served import context_view, provenance

    view = context_view(provider, row.model, row)
    return {**row.as_dict(), **view.as_dict(), "provenance": provenance(provider, row, view)}


def _model_lines(provider: ProviderConfig, rows: list[Any]) -> None:
    """``list_line`` per row, ``served 512 of 4k`` beside it when the server said, and its warning under it."""
    from ...services.models import list_line
    from ...services.served import context_view

    for row in rows:
        view = context_view(provider, row.model, row)
        out(list_line(row) + (f"  {view.line()}" if view.served is not None else ""))
        warning = view.warning()
        if warning:
            out(f"    warning: {warning}")


def _filtered_everywhere(config: Any, needs: Any, as_json: bool) -> int:
    """``list --tools --min-context 100k``: the models of every configured provider that meet the filters."""
    from ...services.models import provider_rows

    found = [(provider, row) for provider in config.providers.values() for row in provider_rows(provider)
             if needs.admits(row)]
    if as_json:
        emit_json([{"provider": provider.id, **_model_dict(provider, row)} for provider, row in found])
        return Exit.OK
    if not found:
        out("no model of your providers meets the filters — llmswitch list PROVIDER shows one provider's models")
    for pid in dict.fromkeys(p.id for p, _ in found):
        _model_lines(config.provider(pid), [row for p, row in found if p.id == pid])
    return Exit.OK


def _team_note(rows: list[dict[str, Any]]) -> None:
    """Where the providers marked (team) come from and how old the copy is."""
    from ...net import gateway
    from ...store import team

    rec = team.load_record() if any(row.get("team") for row in rows) else None
    if rec is not None:
        out(f"(team) from {rec.source}, copy fetched {gateway.fmt_age(rec.age())} — llmswitch team update")


def _refresh_gateway(provider: Any) -> None:
    """A gateway's own word on its models, refetched when the copy is old; a failure is a warning."""
    from ...net import gateway
    from ..output import warn

    for problem in gateway.refresh_stale([provider]):
        warn(f"gateway metadata not updated: {problem}")


def _row(provider: ProviderConfig, roles: list[str]) -> dict[str, Any]:
    from ...store import catalog, state

    last = state.last_probe(provider.id, provider.base_url)
    return {**provider_dict(provider), "probed_models": state.known_models(provider.id, provider.base_url),
            "catalog_models": len(catalog.catalog_models(provider.preset or provider.id)),
            "active": bool(roles), "roles": roles, "team": provider.origin,
            "last_probe": None if last is None else {"outcome": last.outcome, "summary": last.summary,
                                                     "usable": last.usable, "probed": last.when.isoformat(),
                                                     "age": last.age()}}


def _status(row: dict[str, Any]) -> str:
    """``✓ 2 models · 3 min ago``, ``✗ host not found · 3 min ago``, ``5 live``, ``not probed``."""
    last = row["last_probe"]
    if last is not None:
        from ...base.outcome import verdict_mark

        return f"{verdict_mark(last['outcome'], last['usable'])} {last['summary']} · {last['age']}"
    probed = row["probed_models"]
    return f"{len(probed)} live" if probed is not None else "not probed"

"""``list``: configured providers, one provider's models, or every preset.

The model merge below (live list + catalog + favourites) is the CLI's copy; the one
home for that merge is ``llmswitch.models`` once it exists, and ``list`` moves to it.
"""

from __future__ import annotations

from ...errors import Exit
from ..common import load_config
from ..output import emit_json, out
from .providers import provider_dict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any


def configure(name: str, parser: ArgumentParser) -> None:
    parser.add_argument("provider", nargs="?", help="list this provider's models")
    parser.add_argument("--presets", action="store_true", help="list every preset (catalog + local servers)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_list)


def _fmt_int(value: int | None) -> str:
    if not value:
        return "-"
    return f"{value // 1000}k" if value >= 1000 else str(value)


def _fmt_price(value: float | None) -> str:
    return "-" if value is None else f"${value:g}"


def cmd_list(args: Namespace) -> int:
    from ... import catalog, state

    rows: list[dict[str, Any]]
    if args.presets:
        rows = [{"id": p.id, "name": p.name, "base_url": p.resolved_base_url(), "kind": p.kind, "local": p.local,
                 "key_env": list(p.key_env), "models": len(p.models)} for p in catalog.presets().values()]
        if args.json:
            emit_json(rows)
            return Exit.OK
        for row in rows:
            where = "local " if row["local"] else "hosted"
            out(f"{row['id']:<28} {where} {row['models']:>4} models  {row['base_url'] or '(needs --base-url)'}")
        return Exit.OK
    config = load_config()
    if args.provider:
        provider = config.provider(args.provider)
        live = state.known_models(provider.id, provider.base_url) or []
        infos = {m.id: m for m in catalog.catalog_models(provider.preset or provider.id)}
        ids = list(dict.fromkeys([*provider.favorites, *live, *infos]))
        rows = []
        for model_id in ids:
            info = infos.get(model_id) or catalog.model_info(provider.preset or provider.id, model_id)
            rows.append({"id": model_id, "live": model_id in live, "favorite": model_id in provider.favorites,
                         "context": info.context if info else None, "max_output": info.max_output if info else None,
                         "input_price": info.input_price if info else None,
                         "output_price": info.output_price if info else None})
        if args.json:
            emit_json({"provider": provider.id, "probed": bool(live), "models": rows})
            return Exit.OK
        if not rows:
            out(f"{provider.id}: no models known yet — run: llmswitch probe {provider.id}")
        for row in rows:
            mark = "*" if row["favorite"] else " "
            out(f"{mark} {provider.id}/{row['id']:<50} ctx {_fmt_int(row['context']):>6}  "
                f"in {_fmt_price(row['input_price']):>7}  out {_fmt_price(row['output_price']):>7}")
        if not live and rows:
            out(f"(catalog only — run `llmswitch probe {provider.id}` to see what the server offers)")
        return Exit.OK
    from ...errors import SelectionError
    from ...selection import read_all

    try:
        active = {sel.provider: sel for sel in read_all().values()}
    except SelectionError:
        active = {}
    rows = []
    for provider in config.providers.values():
        rows.append({**provider_dict(provider), "probed_models": state.known_models(provider.id, provider.base_url),
                     "catalog_models": len(catalog.catalog_models(provider.preset or provider.id)),
                     "active": provider.id in active})
    for pid in active:
        if pid not in config.providers:
            provider = config.provider(pid)
            rows.append({**provider_dict(provider), "probed_models": state.known_models(pid, provider.base_url),
                         "catalog_models": len(catalog.catalog_models(pid)), "active": True})
    if args.json:
        emit_json(rows)
        return Exit.OK
    if not rows:
        out("no providers configured — add one: llmswitch providers add openrouter  (presets: llmswitch list --presets)")
        return Exit.OK
    for row in rows:
        probed = row["probed_models"]
        models = f"{len(probed)} live" if probed is not None else "not probed"
        mark = "●" if row["active"] else " "
        out(f"{mark} {row['id']:<20} {row['base_url'] or '-':<45} {models:<11} {row['catalog_models']:>4} in catalog")
    return Exit.OK

"""``import [SOURCE …] [--add] [--move-keys] [--json]``: adopt what other tools are already set up with.

Without ``--add`` it only lists what it found (provider, URL, models, how the key is held:
a plaintext key is named by file and line, never shown). ``--add`` configures each find;
a plaintext key moves into the keyring with ``--move-keys`` or after a yes at the prompt
(a terminal only), and the file still holding the plaintext copy is named. A key in a project file
(``./.env`` of a cloned repository) moves only after a yes at the prompt: ``--move-keys`` alone would
make the project author's key yours for that provider.

A base URL from a project file (``./.env``) is added only once confirmed — a yes at the prompt
(a terminal only) or ``--accept-url URL``; ``--add`` alone is not that — under an id of its own,
reading no key until you name its key source (:func:`llmswitch.tools.importing.adopt`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ...base.errors import Exit
from ..output import emit_json, out

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...net.probe import ProbeResult
    from ...tools.importing import Found


def configure(name: str, parser: ArgumentParser) -> None:
    from ...tools.importing import SOURCES

    parser.add_argument("source", nargs="*", metavar="SOURCE",
                        help=f"where to look (default: all): {', '.join(SOURCES)}")
    parser.add_argument("--add", action="store_true", help="configure what was found as llmswitch providers")
    parser.add_argument("--move-keys", action="store_true",
                        help="with --add: move plaintext keys found into the keyring (the files are not edited)")
    parser.add_argument("--accept-url", action="append", default=[], metavar="URL",
                        help="with --add: add this base URL found in a project file (./.env) as a provider of its "
                             "own (repeatable; it reads no key until you name its key source)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_import)


def _line(found: Found) -> str:
    where = found.base_url or "preset URL"
    models = ", ".join(found.models) or "no model named"
    key = found.key.describe() if found.key is not None else "no key"
    line = f"  {found.source:<9} {found.provider:<14} {where}  models: {models}  key: {key}  ({found.file})"
    if found.needs_confirmation:
        line += (f"\n            ! a project file's URL: added only with --accept-url {found.base_url} (or a yes at "
                 f"the prompt), and it reads no key until you name its key source")
    return line


def _accepted(found: Found, args: Namespace) -> bool:
    """Whether the user confirmed a project file's URL: named with --accept-url, or a yes at a terminal."""
    if not found.needs_confirmation:
        return False
    if (found.base_url or "").rstrip("/") in {url.rstrip("/") for url in args.accept_url}:
        return True
    if args.json or not sys.stdin.isatty():
        return False
    answer = input(f"{found.file} (a project file) points at {found.base_url}: add it as a provider of its own, "
                   f"reading no key until you name its key source? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _move(found: Found, args: Namespace) -> bool:
    if found.needs_confirmation:
        return False  # its key is not moved: it reads none until you name its key source
    if args.move_keys and not found.project:
        return True
    if found.key is None or found.key.kind != "plaintext" or args.json or not sys.stdin.isatty():
        return False
    whose = " (a project file: whoever wrote the project chose this key)" if found.project else ""
    answer = input(f"move the plaintext key for {found.provider} from {found.key.file}{whose} into the keyring? "
                   f"[y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _keyless_answers(found: list[Found]) -> dict[str, ProbeResult]:
    """What each find's own URL answers without a key (asked once per URL, all at once, within the configured
    probe timeout), so ``--add`` writes whether the server wants a key as the wizard and ``add`` do. A project
    file's URL is not asked: it reads no key until its key source is named."""
    import asyncio

    from ...net.probe import ProbeTarget, probe
    from ...services.addurl import asked_with_a_key
    from ..common import load_config

    wanted = sorted({f.base_url for f in found if f.base_url and not f.needs_confirmation})
    if not wanted:
        return {}
    timeout = load_config().probe_timeout

    async def ask(url: str) -> ProbeResult:
        target = ProbeTarget(provider="imported", base_url=url, key=None, key_required=False, timeout=timeout)
        return await asked_with_a_key(target, await probe(target))

    async def ask_all() -> list[ProbeResult]:
        return list(await asyncio.gather(*(ask(url) for url in wanted)))

    return dict(zip(wanted, asyncio.run(ask_all()), strict=True))


def cmd_import(args: Namespace) -> int:
    from ...tools import importing

    sources = tuple(args.source) or importing.SOURCES
    unknown = [s for s in sources if s not in importing.SOURCES]
    if unknown:
        from ...base.errors import LlmswitchError

        raise LlmswitchError(f"llmswitch cannot import from {unknown[0]!r}", f"pick from: {', '.join(importing.SOURCES)}",
                             exit_code=Exit.USAGE)
    found = importing.discover(sources)
    if not args.add:
        if args.json:
            emit_json([f.as_dict() for f in found])
        elif found:
            out("found (add them with: llmswitch import --add; plaintext keys move only with --move-keys):")
            out("\n".join(_line(f) for f in found))
        else:
            out(f"nothing found in: {', '.join(sources)}")
        return Exit.OK
    results = []
    heard = _keyless_answers(found)
    for item in found:
        pid, notes = importing.adopt(item, move_key=_move(item, args), accepted_url=_accepted(item, args),
                                     result=heard.get(item.base_url or ""))
        results.append({**item.as_dict(), "provider": pid, "notes": notes})
        if not args.json:
            out(f"{item.source} ({item.file}): {pid}")
            out("\n".join(f"  {note}" for note in notes))
    if args.json:
        emit_json(results)
    elif not found:
        out(f"nothing found in: {', '.join(sources)}")
    return Exit.OK

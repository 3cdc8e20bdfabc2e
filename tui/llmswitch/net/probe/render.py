"""Probe results for ``llmswitch probe``: a plain-text table, or the same facts as JSON data.

Stdlib only; the strings in a result are already terminal-safe and free of the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...base.outcome import PROTOCOLS, ProbeResult

__all__ = ["key_line", "protocols_line", "render_json", "render_table"]


def protocols_line(protocols: Mapping[str, bool | None] | None) -> str:
    """``chat ✓ · responses ✓ · messages ✗ · count_tokens ? …`` (``?``: not known); ``""`` when never checked."""
    if protocols is None:
        return ""
    marks = {True: "✓", False: "✗", None: "?"}
    return " · ".join(f"{p} {marks[protocols.get(p)]}" for p in PROTOCOLS)


def render_table(results: Iterable[ProbeResult], *, verbose: bool = False,
                 notes: Mapping[str, Sequence[str]] | None = None) -> str:
    """Plain-text table for ``llmswitch probe``; a fix line under each result that needs one.

    ``verbose`` adds the request that was sent (redacted). ``notes`` are more lines per provider (the served
    context and its warning), shown under its row with the protocols it serves. No markup is interpreted.
    """
    results = list(results)
    rows = [(r.provider, str(r.outcome), r.server or "-", r.summary) for r in results]
    header = ("PROVIDER", "RESULT", "SERVER", "DETAIL")
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  " + header[3]]
    indent = " " * (widths[0] + 2)
    for result, row in zip(results, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
        if result.fix and not result.usable:
            lines.append(f"{indent}fix: {result.fix}")
        if result.suggested_base_url:
            lines.append(f"{indent}try: base_url = {result.suggested_base_url}")
        lines += [f"{indent}{note}" for note in (notes or {}).get(result.provider, ())]
        if result.protocols is not None:
            lines.append(f"{indent}serves: {protocols_line(result.protocols)}")
        if verbose:
            lines.append(f"{indent}{result.request_line()}")
            if result.key_verified is not None:
                lines.append(f"{indent}{key_line(result)}")
            if result.server_message:
                lines.append(f'{indent}server said: "{result.server_message}"')
    return "\n".join(line.rstrip() for line in lines)


def render_json(results: Iterable[ProbeResult]) -> list[dict[str, Any]]:
    """The same facts as data, for ``llmswitch probe --json``."""
    out = []
    for r in results:
        out.append({
            "provider": r.provider, "outcome": str(r.outcome), "usable": r.usable, "summary": r.summary,
            "fix": r.fix, "sentence": r.sentence(), "url": r.url, "request_headers": dict(r.request_headers),
            "status_code": r.status_code,
            "latency_ms": round(r.latency_ms, 1) if r.latency_ms is not None else None,
            "models": list(r.models), "server_message": r.server_message, "server": r.server,
            "suggested_base_url": r.suggested_base_url,
            "key_source": r.key_source, "key_verified": r.key_verified, "verified_by": r.verified_by,
            "protocols": None if r.protocols is None else {p: r.protocols.get(p) for p in PROTOCOLS},
            "protocols_checked": r.protocols_checked,
            "served": [{"model": c.model, "served": c.served, "served_source": c.served_source,
                        "model_max": c.model_max, "model_max_source": c.model_max_source} for c in r.served],
            "deep": None if r.deep is None else {
                "ok": r.deep.ok, "ttft_ms": round(r.deep.ttft_ms, 1) if r.deep.ttft_ms is not None else None,
                "reported_model": r.deep.reported_model, "message": r.deep.message,
                "status_code": r.deep.status_code},
        })
    return out


def key_line(result: ProbeResult) -> str:
    """``key: env OPENROUTER_API_KEY, verified (key check /key)`` — where the key came from, never the key."""
    source = result.key_source or "sent"
    state = "verified" if result.key_verified else "not verified"
    return f"key: {source}, {state}" + (f" ({result.verified_by})" if result.verified_by else "")

"""Probe results as the screens show them: status cells, the diagnosis panel, the model line.

Rendering only (no probing, no Textual): everything comes from a result's fields —
outcome, summary, fix, status_code, server_message, suggested_base_url — never from
re-reading the wording of its sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

from ..base.outcome import AUTH, Outcome
from ..net.probe.render import key_line

if TYPE_CHECKING:
    from ..base.keyorigin import KeyOrigin
    from ..base.outcome import ProbeResult
    from ..services.models import ModelRow
    from ..store.config import ProviderConfig

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

Shown = Callable[[str], str]
"""Makes untrusted text safe for the screen (``LLMSwitchApp.shown``)."""


def status_text(result: ProbeResult | None, probing: bool = False, frame: int = 0, shown: Shown = str,
                has_url: bool = True) -> Text:
    """``✓ 42 models · 120 ms`` / ``✗ key rejected`` / spinner while probing."""
    if probing:
        return Text(f"{SPINNER[frame % len(SPINNER)]} probing…", style="dim")
    if not has_url:
        return Text("✗ no base_url", style="red")
    if result is None:
        return Text("· not probed", style="dim")
    if result.usable:
        return Text("✓ " + shown(result.summary), style="green")
    if result.outcome is Outcome.KEY_UNVERIFIED:  # listed, but nobody knows yet whether the key works
        return Text("? " + shown(result.summary), style="yellow")
    return Text("✗ " + shown(result.summary), style="red")


def no_models_text(result: ProbeResult | None) -> str:
    """What an empty model list of one provider means: not asked yet, refused, failed, or truly none."""
    if result is None:
        return "no models known yet — ctrl+r probes"
    if key_refused(result):
        return "no models: the server refused to list them without a valid key — ctrl+g enters one"
    if not result.usable and not result.models:
        return f"no models: the probe failed ({result.summary})"
    return "no models: the server listed none and the catalog has none"


def key_refused(result: ProbeResult | None) -> bool:
    """The server is there and says no to the key (or its account): the fix is a key (``probe.outcome.AUTH``)."""
    return result is not None and result.outcome in AUTH


def has_app_fix(result: ProbeResult | None, key_origin: KeyOrigin | None = None) -> bool:
    """The app offers its own fix (ctrl+g) for this result: a better base URL, or a key to enter.

    A key to enter only where the keyring would be read and used (``keyfix.can_store``): not
    while ``LLMSWITCH_KEY_<ID>`` wins over it, nor while the keyring cannot be used.
    """
    from ..base.keyfix import can_store

    return result is not None and (bool(result.suggested_base_url) or key_refused(result) and can_store(key_origin))


def origin_line(provider: ProviderConfig, key_origin: KeyOrigin | None) -> str:
    """Where the key really came from (``env LLMSWITCH_KEY_GROQ``), or the configured source when not resolved."""
    from ..base.keyorigin import ABSENT
    from ..store.keys import lookup_text

    if key_origin is None:
        return lookup_text(provider)
    if key_origin.kind == ABSENT:
        return f"none found ({lookup_text(provider)})"
    return key_origin.label()


def headline(result: ProbeResult, with_fix: bool = True) -> str:
    """``provider: what happened (HTTP code "message") — fix`` (see ``ProbeResult.sentence``)."""
    return result.sentence(with_fix=with_fix)


def diagnosis_text(provider: ProviderConfig, result: ProbeResult | None, key_problem: str | None, shown: Shown,
                   probing: bool = False, where: str = "picker", key_origin: KeyOrigin | None = None) -> Text:
    """The details panel: URL requested, redacted headers, HTTP code, server message, fix.

    ``where`` is "picker" or "editor": each says the fix in the keys of the screen it is on.
    ``key_origin`` (the probe target's) says where the key came from.
    """
    out = Text(no_wrap=False)
    out.append(shown(provider.name), style="bold")
    out.append(f" ({shown(provider.id)})  ", style="dim")
    out.append(shown(provider.base_url or "no base_url"))
    out.append(f"  key: {shown(origin_line(provider, key_origin))}", style="dim")
    if not provider.configured:
        out.append("  (preset, not in config.toml)", style="dim")
    if probing:
        out.append("\nprobing…", style="dim")
        return out
    if result is None:
        if where == "editor":
            hint = "not probed yet — ctrl+s saves and probes" if not provider.configured else "ctrl+r probes"
        else:
            hint = "not probed yet — ctrl+r probes" if provider.configured else "not configured — F2 adds it (and its key)"
        out.append("\n" + hint, style="dim")
        if key_problem:
            out.append("\nkey: " + shown(key_problem), style="yellow")
        return out
    mark = result.verdict
    style = {"✓": "green", "?": "yellow"}.get(mark, "red")
    out.append(f"\n{mark} ", style=style)
    app_fix = has_app_fix(result, key_origin)
    out.append(shown(headline(result, with_fix=not app_fix)), style=style)
    if result.suggested_base_url:
        url = shown(result.suggested_base_url)
        out.append("\nfix: ", style="bold")
        # whether that URL also wants a key is said by the probe that follows the fix (the result does not carry it)
        if where == "editor":
            out.append(f"set Base URL to {url} (ctrl+g applies it and saves)")
        else:
            out.append(f"set base_url to {url} — press ctrl+g")
    elif key_refused(result) and app_fix:
        out.append("\nfix: ", style="bold")
        out.append(f"press ctrl+g to enter a key for {shown(provider.id)}" if where == "picker"
                   else "paste the key into API key above (or pick another key source), then ctrl+s")
    out.append("\n")
    out.append("GET ", style="bold")
    out.append(shown(result.url))
    for name, value in result.request_headers.items():
        if name.lower() == "user-agent":
            continue
        out.append(f"  {shown(name)}: {shown(value)}", style="dim")
    details = []
    if result.status_code is not None:
        details.append(f"HTTP {result.status_code}")
    if result.server:
        details.append(f"server: {shown(result.server)}")
    if details:
        out.append("\n" + " · ".join(details), style="dim")
    if result.server_message:
        out.append("\nserver said: ", style="dim")
        out.append(shown(result.server_message))
    if result.key_verified is not None:  # where the key sent came from, and what proved it (never the key)
        out.append("\n" + shown(key_line(result)), style="dim")
    if key_problem and not result.usable:
        out.append("\nkey: " + shown(key_problem), style="yellow")
    return out


def model_text(row: ModelRow, shown: Shown) -> Text:
    """One line about the highlighted model."""
    from ..services.models import LISTED, NOT_LISTED, fmt_tokens, fmt_usd

    out = Text()
    out.append(shown(row.ref), style="bold")
    if row.name and row.name != row.model:
        out.append(f"  {shown(row.name)}", style="dim")
    facts = [f"context {fmt_tokens(row.context)}", f"max out {fmt_tokens(row.max_output)}"]
    if row.input_price is not None or row.output_price is not None:
        facts.append(f"{fmt_usd(row.input_price, '$—')} in / {fmt_usd(row.output_price, '$—')} out per M")
    flags = [name for name, on in (("tools", row.tools), ("vision", row.vision), ("reasoning", row.reasoning)) if on]
    if flags:
        facts.append(", ".join(flags))
    if row.gateway is not None:
        facts.append("from the gateway" + (f" → {shown(row.upstream)}" if row.upstream else "")
                     + (f" ({shown(row.mode)})" if row.mode and row.mode != "chat" else ""))
    if row.listing == NOT_LISTED:
        facts.append("not listed by the server")
    elif row.listing == LISTED and not row.in_catalog and row.gateway is None:
        facts.append("listed by the server; not in the catalog")
    out.append("  " + " · ".join(facts), style="dim")
    return out

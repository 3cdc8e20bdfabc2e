"""``connect TOOL --via relay``: a tool written once to point at the local relay (``llmswitch relay``).

Its file names the relay's address, the role as its model (``default``, or the role each tool role
maps to) and the relay token through the tool's own key indirection: a credential helper runs
``llmswitch relay token``; a file that names an env var names ``LLMSWITCH_RELAY_TOKEN``. The relay
resolves each request from the selection at that moment, so a switch never rewrites the tool's files
(``follow`` leaves it alone). Nothing starts the relay but the user: when it is not running, the
connection is written unverified and every report says the command that starts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import KeyPlan, KeyRef, Protocol, Target, Tool
from .verify import Verdict

if TYPE_CHECKING:
    from ...store.config import ProviderConfig
    from ...store.selection import ActiveSelection

VIA = "relay"
PROVIDER_ID = "llmswitch-relay"


def provider() -> ProviderConfig:
    """The relay as a provider: its address (where it runs or will run), its token from ``llmswitch relay token``."""
    from ...store import relaystate
    from ...store.config import ProviderConfig

    found = relaystate.status()
    return ProviderConfig(id=PROVIDER_ID, name="llmswitch relay", base_url=found.url + "/v1", kind="openai",
                          key_source="command", key_command=relaystate.token_command(), local=True,
                          configured=False)


def targets(tool: Tool, roles: dict[str, str]) -> dict[str, Target]:
    """Each tool role → the relay, its model the llmswitch role's name (the relay resolves it per request)."""
    kind = "anthropic" if tool.protocol is Protocol.MESSAGES else "openai"
    return {tool_role: Target(tool_role, role, *selection(role, kind)) for tool_role, role in roles.items()}


def key_plan(tool: Tool, target: Target) -> KeyPlan:
    """The tool's key indirection, pointed at the relay token (never a provider key)."""
    from dataclasses import replace

    from ...store import relaystate

    if tool.key_plan(target).kind is KeyRef.HELPER:
        return KeyPlan(KeyRef.HELPER, relaystate.token_command())
    # what the tool does with a key in an env var: name the variable in its file, or read a fixed one its launcher sets
    as_env = replace(target, provider=replace(target.provider, key_source="env", key_env=(relaystate.TOKEN_VAR,)))
    own = tool.key_plan(as_env)
    if own.kind is KeyRef.LAUNCHER:  # aider, llm, shell-gpt, mini-swe-agent: `llmswitch exec --via relay` sets it
        return KeyPlan(KeyRef.LAUNCHER, own.name, via=VIA)
    return KeyPlan(KeyRef.ENV, relaystate.TOKEN_VAR)


def selection(role: str, kind: str = "openai") -> tuple[ActiveSelection, ProviderConfig]:
    """The relay as the provider and ``role`` as the model (the relay resolves it per request): what a tool connected
    ``--via relay`` points at, and what ``llmswitch exec --via relay`` runs a tool with."""
    from ...store.selection import ActiveSelection

    relay = provider()
    return ActiveSelection(role, relay.id, role, relay.base_url or "", kind, key_source="command",
                           key_command=relay.key_command), relay


def check(tool: Tool, found: dict[str, Target]) -> tuple[list[Verdict], list[str]]:
    """Probe each target through the relay when it runs; otherwise the sentence that starts it."""
    from ...store import relaystate
    from . import verify

    for target in found.values():
        problem = tool.problem(target)
        if problem:
            from ...base.errors import Exit, LlmswitchError

            raise LlmswitchError(f"{tool.name}: {problem[0]}", problem[1], exit_code=Exit.CHECK)
    notes = []
    plan = key_plan(tool, found["main"])
    if plan.kind is KeyRef.ENV:
        notes.append(f"{tool.title} reads the relay token from ${relaystate.TOKEN_VAR}; add to your shell profile: "
                     f"export {relaystate.TOKEN_VAR}=\"$({relaystate.token_command()})\"")
    status = relaystate.status()
    if not status.running:
        return [], [*notes, not_running(status) + " (the connection was written without a check)"]
    verdicts = [verify.probe(t, tool.protocol, t.selection.model) for t in found.values()]
    failed = next((v for v in verdicts if not v.ok), None)
    if failed is not None:
        from ...base.errors import Exit, LlmswitchError

        raise LlmswitchError(f"{tool.name} would fail through the relay: {failed.cause}", failed.fix or None,
                             exit_code=Exit.CHECK)
    return verdicts, notes


def not_running(status: object | None = None) -> str:
    from ...store import relaystate

    found = status if isinstance(status, relaystate.Status) else relaystate.status()
    return f"the relay at {found.url} is not running — start it: {relaystate.start_command(found.port)}"


def verdict_when_stopped(found: dict[str, Target]) -> list[Verdict]:
    """For ``connections --check`` and ``doctor``: a failed check naming the command that starts the relay."""
    from ...store import relaystate

    status = relaystate.status()
    if status.running:
        return []
    main = found.get("main") or next(iter(found.values()))
    return [Verdict(False, main.url, main.selection.model, cause=f"the relay at {status.url} is not running",
                    fix=f"start it: {relaystate.start_command(status.port)}")]


def key_unresolved(key: KeyPlan) -> str | None:
    """An env-var reference to the relay token that this environment does not set."""
    import os

    from ...store import relaystate

    if key.kind is KeyRef.ENV and key.name and not os.environ.get(key.name):
        return (f"the key reference ${key.name} resolves to nothing in this environment (add to your shell profile: "
                f"export {relaystate.TOKEN_VAR}=\"$({relaystate.token_command()})\")")
    return None

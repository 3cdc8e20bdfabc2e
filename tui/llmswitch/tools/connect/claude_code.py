"""Claude Code (npm ``@anthropic-ai/claude-code``): ``~/.claude/settings.json`` (``$CLAUDE_CONFIG_DIR``).

Claude Code speaks only Anthropic Messages: it POSTs ``ANTHROPIC_BASE_URL/v1/messages``.
Its user settings file applies an ``env`` object to its own environment and runs
``apiKeyHelper`` (a shell command) to get the credential, which it sends as ``x-api-key``
and ``Authorization: Bearer``. llmswitch owns these members:

* ``apiKeyHelper`` = ``llmswitch key get PROVIDER`` — the key stays in llmswitch's key
  source (keyring, env var, command); keyless servers get the documented placeholder;
* ``env.ANTHROPIC_BASE_URL`` — the provider's base URL without its ``/v1``;
* ``env.ANTHROPIC_MODEL`` — the ``main`` role;
* ``env.ANTHROPIC_DEFAULT_HAIKU_MODEL`` and ``env.ANTHROPIC_SMALL_FAST_MODEL`` (its older
  name) — the ``small`` role (background work, titles), or the main model when no small
  role is mapped, so every request asks the endpoint for a model it serves.

What those members held before is kept in the registry and put back by ``disconnect``.
An ``ANTHROPIC_API_KEY``/``ANTHROPIC_AUTH_TOKEN`` in the shell that starts Claude Code
wins over ``apiKeyHelper`` (Claude Code's own precedence): unset them, or start it as
``llmswitch exec -- claude``, which sets them from the selection (:mod:`llmswitch.net.anthropic_env`).

The protocol check: kind ``anthropic``, or a gateway documented to serve Messages
(LiteLLM, OpenRouter), or one whose ``/messages`` answers the live probe.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import _jsonmembers as jsonmembers
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, UnreadableFile, home
from .opencode import same_endpoint

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

MODEL_VARS = {"main": ("ANTHROPIC_MODEL",), "small": ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL")}
SUFFIX = "/v1"


def helper_command(provider: str) -> str:
    """``llmswitch key get PROVIDER`` as a shell command line (the llmswitch that runs now)."""
    from ...base.paths import key_get_command

    return key_get_command(provider)


class ClaudeCode(jsonmembers.OwnedMembers, Tool):
    name = "claude-code"
    title = "Claude Code"
    package = "npm:@anthropic-ai/claude-code"
    command = "claude"
    verified = "2.1.332"
    protocol = Protocol.MESSAGES
    kinds = ("anthropic", "openai")  # kind openai: a gateway that also serves /v1/messages (the probe decides)
    roles = {"main": "ANTHROPIC_MODEL", "small": "ANTHROPIC_DEFAULT_HAIKU_MODEL (background work, titles)"}
    json_label = "settings"

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        from pathlib import Path

        environ = os.environ if environ is None else environ
        root = environ.get("CLAUDE_CONFIG_DIR")
        return {"settings": (Path(root) if root else home(environ) / ".claude") / "settings.json"}

    def key_plan(self, target: Target) -> KeyPlan:
        return KeyPlan(KeyRef.HELPER, helper_command(target.provider.id))

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, FoundKey, guess, parsed, plain, read_json

        path = self.files(environ)["settings"]
        text, data = parsed(path, read_json)
        if not isinstance(data, dict):
            return
        env: dict[str, Any] = data["env"] if isinstance(data.get("env"), dict) else {}
        helper = str(data.get("apiKeyHelper") or "")
        if helper.split()[-3:-1] == ["key", "get"]:  # llmswitch's own connection
            return
        base = env.get("ANTHROPIC_BASE_URL")
        pid, url, _ = guess(base.rstrip("/") + SUFFIX if base else None, "ANTHROPIC_API_KEY")
        secret = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
        key = FoundKey("command", path, helper) if helper else plain(text, path, secret)
        if key is None and not base:
            return
        models = tuple(str(env[v]) for v in (MODEL_VARS["main"][0], MODEL_VARS["small"][0]) if env.get(v))
        yield Found(self.name, path, pid, url, "anthropic" if pid == "anthropic" or url is None else "openai", models,
                    key)

    def problem(self, target: Target) -> tuple[str, str] | None:
        refused = super().problem(target)
        if refused is not None:
            return refused
        if not target.url.endswith(SUFFIX):
            return (f"Claude Code appends /v1/messages to its base URL, and {target.provider.id}'s base_url "
                    f"{target.url} does not end in /v1", f"set a base_url ending in /v1 for {target.provider.id} "
                    f"(llmswitch providers add {target.provider.id} --base-url URL --replace)")
        return None

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        same_endpoint(self.name, targets)
        small = targets.get("small", main)
        values: dict[tuple[str, ...], Any] = {("apiKeyHelper",): key.name,
                                              ("env", "ANTHROPIC_BASE_URL"): main.url[: -len(SUFFIX)]}
        for role, target in (("main", main), ("small", small)):
            for var in MODEL_VARS[role]:
                values[("env", var)] = target.selection.model
        text, kept = jsonmembers.apply(texts["settings"], values, memory)
        return Plan({"settings": text}, kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        return {"settings": jsonmembers.restore(texts["settings"], memory)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What Claude Code will use, by JSON's rules: its base URL (+ /v1), models and key helper."""
        text = texts["settings"]
        if text is None or not text.strip():
            return {}
        import json

        from ...base import bounded

        if bounded.json_too_deep(text):
            raise UnreadableFile("settings", f"settings.json nests deeper than {bounded.MAX_DEPTH} levels", 1)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableFile("settings", f"settings.json is not valid JSON ({exc.msg})", exc.lineno) from None
        if not isinstance(data, dict):
            raise UnreadableFile("settings", "settings.json is not a JSON object", 1)
        env: dict[str, Any] = data["env"] if isinstance(data.get("env"), dict) else {}
        base = str(env.get("ANTHROPIC_BASE_URL") or "").rstrip("/")
        if not base or not env.get("ANTHROPIC_MODEL"):
            return {}
        helper = str(data.get("apiKeyHelper") or "")
        found = {"main": Pointing(base + SUFFIX, str(env["ANTHROPIC_MODEL"]), helper)}
        if env.get("ANTHROPIC_DEFAULT_HAIKU_MODEL"):
            found["small"] = Pointing(base + SUFFIX, str(env["ANTHROPIC_DEFAULT_HAIKU_MODEL"]), helper)
        return found


TOOL = ClaudeCode()

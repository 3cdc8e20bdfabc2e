"""opencode (npm ``opencode-ai``): its global config, ``~/.config/opencode/opencode.json`` (or ``.jsonc``).

opencode merges the global file (``$XDG_CONFIG_HOME/opencode/``: ``opencode.jsonc``,
``opencode.json``, ``config.json``) with project files; its format is JSONC. A custom
OpenAI-compatible endpoint is a ``provider`` entry::

    "provider": {"llmswitch": {"npm": "@ai-sdk/openai-compatible", "name": "llmswitch: groq",
                               "options": {"baseURL": "https://…/v1", "apiKey": "{env:GROQ_API_KEY}"},
                               "models": {"llama-3.1-8b-instant": {"name": "llama-3.1-8b-instant"}}}},
    "model": "llmswitch/llama-3.1-8b-instant",
    "small_model": "llmswitch/…"

``{env:VAR}`` is opencode's own substitution (read when opencode starts), so the key never
lands in the file: the provider's own env var when that is its key source, else
``OPENAI_API_KEY``, which ``llmswitch exec -- opencode`` sets. Roles: ``main`` → ``model``,
``small`` → ``small_model`` (titles and summaries), on the same endpoint; unmapped, ``small_model``
is the main model, so opencode never sends a title request to another provider. Protocol: chat
completions (``@ai-sdk/openai-compatible`` POSTs ``baseURL/chat/completions``).

llmswitch owns the members ``provider.llmswitch``, ``model`` and ``small_model``; what they
held before is kept in the registry and put back by ``disconnect``.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from . import _jsonmembers as jsonmembers
from .base import (
    KeyPlan,
    KeyRef,
    Plan,
    Pointing,
    Protocol,
    Target,
    Tool,
    UnreadableFile,
    home,
    key_env_for,
    parser_line,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

PROVIDER_ID = "llmswitch"
NPM = "@ai-sdk/openai-compatible"
MEMBERS = {"main": ("model",), "small": ("small_model",)}
_ENV_REF = re.compile(r"^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
CONFIG_NAMES = ("opencode.jsonc", "opencode.json", "config.json")
"""The files opencode reads in its folder, in its order (``connect`` writes the first of the two it prefers)."""


def root(environ: Mapping[str, str] | None = None) -> Path:
    """opencode's config folder: ``$XDG_CONFIG_HOME/opencode`` (``~/.config/opencode``)."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else home(environ) / ".config") / "opencode"


class Opencode(jsonmembers.OwnedMembers, Tool):
    name = "opencode"
    title = "opencode"
    package = "npm:opencode-ai"
    command = "opencode"
    verified = "1.18.33"
    protocol = Protocol.CHAT
    roles = {"main": "model", "small": "small_model (titles, summaries)"}
    json_label = "config"

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        folder = root(environ)
        jsonc = folder / CONFIG_NAMES[0]
        return {"config": jsonc if jsonc.exists() else folder / CONFIG_NAMES[1]}

    def config_paths(self, environ: Mapping[str, str]) -> list[Path]:
        """Every global config file the tool reads (``import`` reads them all)."""
        return [root(environ) / name for name in CONFIG_NAMES]

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, FoundKey, guess, plain, read

        for path in self.config_paths(environ):
            text = read(path)
            try:
                data = jsonmembers.loads_jsonc(text) if text else None
            except ValueError:
                continue
            providers = data.get("provider") if isinstance(data, dict) else None
            for pid, entry in (providers or {}).items():
                if pid == PROVIDER_ID or not isinstance(entry, dict):
                    continue
                options = entry.get("options") or {}
                guessed, url, kind = guess(options.get("baseURL"), f"{pid.upper()}_API_KEY")
                api_key = str(options.get("apiKey") or "")
                ref = _ENV_REF.match(api_key)
                key = FoundKey("env", path, ref.group(1)) if ref else plain(text or "", path, api_key)
                kind = "anthropic" if entry.get("npm") == "@ai-sdk/anthropic" else kind
                yield Found(self.name, path, guessed if url or guessed != "openai" else pid, url, kind,
                            tuple(entry.get("models") or ()), key)

    def key_plan(self, target: Target) -> KeyPlan:
        return key_env_for(target, "OPENAI_API_KEY")


    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        same_endpoint(self.name, targets)
        options: dict[str, Any] = {"baseURL": main.url}
        if key.kind is not KeyRef.NONE and key.name:
            options["apiKey"] = f"{{env:{key.name}}}"
        models = {t.selection.model: {"name": t.selection.model} for t in targets.values()}
        values: dict[tuple[str, ...], Any] = {
            ("provider", PROVIDER_ID): {"npm": NPM, "name": f"llmswitch: {main.selection.provider}",
                                        "options": options, "models": models}}
        small = targets.get("small", main)  # unmapped: the main model, so titles never go to another provider
        for role, target in (("main", main), ("small", small)):
            values[MEMBERS[role]] = f"{PROVIDER_ID}/{target.selection.model}"
        text, kept = jsonmembers.apply(texts["config"], values, memory)
        return Plan({"config": text}, kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        return {"config": jsonmembers.restore(texts["config"], memory)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What opencode will use: ``model``/``small_model`` resolved through its ``provider`` entries."""
        text = texts["config"]
        if text is None or not text.strip():
            return {}
        from ...base import bounded

        if bounded.json_too_deep(text):
            raise UnreadableFile("config", f"{self.title}'s config nests deeper than {bounded.MAX_DEPTH} levels", 1)
        try:
            data = jsonmembers.loads_jsonc(text)
        except ValueError as exc:
            raise UnreadableFile("config", f"{str(exc).split(' at line ')[0]})" if " at line " in str(exc)
                                 else str(exc), parser_line(str(exc), text)) from None
        if not isinstance(data, dict):
            raise UnreadableFile("config", f"{self.title}'s config is not a JSON object", 1)
        found: dict[str, Pointing] = {}
        for role, (member,) in MEMBERS.items():
            ref = data.get(member)
            if not isinstance(ref, str) or "/" not in ref:
                continue
            provider_id, _, model = ref.partition("/")
            entry = (data.get("provider") or {}).get(provider_id)
            if not isinstance(entry, dict):
                continue
            options = entry.get("options") or {}
            match = _ENV_REF.match(str(options.get("apiKey", "")))
            found[role] = Pointing(str(options.get("baseURL", "")).rstrip("/"), model, match.group(1) if match else "")
        return found


def same_endpoint(tool: str, targets: Mapping[str, Target]) -> None:
    """Refuse roles on different endpoints for a tool that has one base URL and one key reference."""
    main = targets["main"]
    for role, target in targets.items():
        if target.url != main.url:
            from ...base.errors import Exit, LlmswitchError

            raise LlmswitchError(f"{tool}: llmswitch writes one endpoint for all its roles, and role {role} "
                                 f"({target.selection.ref}) is not on {main.url}",
                                 f"select a {main.selection.provider} model for llmswitch role {target.role}",
                                 exit_code=Exit.USAGE)


TOOL = Opencode()

"""Qwen Code (npm ``@qwen-code/qwen-code``, command ``qwen``): ``settings.json`` in ``$QWEN_HOME`` (``~/.qwen``).

Qwen Code reads its user settings (JSON with comments) and picks the model entry whose ``id`` is
``model.name`` in ``modelProviders[security.auth.selectedType]``; that entry's ``baseUrl`` and ``envKey`` win
over ``OPENAI_BASE_URL``/``OPENAI_API_KEY``::

    "security": {"auth": {"selectedType": "openai"}},
    "model": {"name": "llama-3.1-8b-instant"},
    "modelProviders": {"openai": [{"id": "llama-3.1-8b-instant", "name": "llmswitch: groq",
                                   "baseUrl": "https://api.groq.com/openai/v1", "envKey": "GROQ_API_KEY"}]},
    "fastModel": "…"

``envKey`` is Qwen Code's own key indirection: it reads ``process.env[envKey]`` and never stores a key in
settings. It names the provider's own env var when that is its key source, else ``OPENAI_API_KEY``, which
``llmswitch exec -- qwen`` sets (a keyless server's placeholder included: Qwen Code refuses an empty key).
``selectedType = "openai"`` keeps a saved Qwen OAuth or Coding Plan login from winning while connected.

Roles: ``main`` → ``model.name``; ``fast`` → ``fastModel`` (prompt suggestions, background agents; Qwen Code
uses it only when it is one of the listed models, so it gets an entry too), on the same endpoint.
Protocol: chat completions (the OpenAI SDK POSTs ``baseUrl/chat/completions``).

llmswitch owns ``security.auth.selectedType``, ``model.name``, ``modelProviders.openai`` (the user's own
``openai`` entries are kept in the registry while connected and put back by ``disconnect``) and, when mapped,
``fastModel``. A file llmswitch creates gets ``"$version": 4``, the settings version of the verified release,
so Qwen Code does not migrate (rewrite) it on its first start.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import _jsonmembers as jsonmembers
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, home
from .opencode import same_endpoint

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

AUTH_TYPE = "openai"
SETTINGS_VERSION = 4
MEMBERS = {"auth": ("security", "auth", "selectedType"), "main": ("model", "name"),
           "providers": ("modelProviders", AUTH_TYPE), "fast": ("fastModel",), "version": ("$version",)}


def root(environ: Mapping[str, str] | None = None) -> Path:
    """``$QWEN_HOME`` (``~`` expanded, relative to the current directory otherwise), else ``~/.qwen``."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    value = environ.get("QWEN_HOME")
    if not value:
        return home(environ) / ".qwen"
    if value == "~" or value.startswith("~/"):
        return home(environ) / value[2:]
    return Path(value).absolute()


class QwenCode(jsonmembers.OwnedMembers, Tool):
    name = "qwen-code"
    title = "Qwen Code"
    package = "npm:@qwen-code/qwen-code"
    command = "qwen"
    verified = "0.15.10"
    protocol = Protocol.CHAT
    roles = {"main": "model.name", "fast": "fastModel (prompt suggestions, background agents)"}
    json_label = "settings"

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"settings": root(environ) / "settings.json"}

    def key_plan(self, target: Target) -> KeyPlan:
        provider = target.provider
        if provider.key_source == "env" and provider.key_env:
            return KeyPlan(KeyRef.ENV, provider.key_env[0])
        return KeyPlan(KeyRef.LAUNCHER, "OPENAI_API_KEY")

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import OURS, Found, FoundKey, guess, parsed, plain

        path = self.files(environ)["settings"]
        text, data = parsed(path, jsonmembers.loads_jsonc)
        if not isinstance(data, dict):
            return
        providers = data.get("modelProviders")
        for auth_type, entries in providers.items() if isinstance(providers, dict) else ():
            if auth_type not in ("openai", "anthropic") or not isinstance(entries, list):
                continue
            for entry in entries:
                if not isinstance(entry, dict) or not entry.get("baseUrl") or str(entry.get("name", "")).startswith(
                        OURS[0]):
                    continue
                env_key = str(entry.get("envKey") or "")
                pid, url, kind = guess(str(entry["baseUrl"]), env_key or f"{auth_type.upper()}_API_KEY")
                key = FoundKey("env", path, env_key) if env_key else None
                yield Found(self.name, path, pid, url, "anthropic" if auth_type == "anthropic" else kind,
                            (str(entry["id"]),) if entry.get("id") else (), key)
        auth = (data.get("security") or {}).get("auth") if isinstance(data.get("security"), dict) else None
        if isinstance(auth, dict) and auth.get("apiKey"):
            pid, url, kind = guess(str(auth["baseUrl"]) if auth.get("baseUrl") else None, "OPENAI_API_KEY")
            yield Found(self.name, path, pid, url, kind, (), plain(text, path, auth["apiKey"]))

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        same_endpoint(self.name, targets)
        entries: list[dict[str, Any]] = []
        for target in targets.values():
            if any(e["id"] == target.selection.model for e in entries):
                continue
            entry: dict[str, Any] = {"id": target.selection.model, "name": f"llmswitch: {target.selection.ref}",
                                     "baseUrl": target.url}
            if key.name:
                entry["envKey"] = key.name
            entries.append(entry)
        values: dict[tuple[str, ...], Any] = {MEMBERS["auth"]: AUTH_TYPE, MEMBERS["main"]: main.selection.model,
                                              MEMBERS["providers"]: entries}
        if "fast" in targets:
            values[MEMBERS["fast"]] = targets["fast"].selection.model
        text = texts["settings"]
        if "/".join(MEMBERS["version"]) in memory.get("members", {}) or text is None or not text.strip():
            values[MEMBERS["version"]] = SETTINGS_VERSION  # a file of ours: already at the current version
        new, kept = jsonmembers.apply(text, values, memory)
        return Plan({"settings": new}, kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        return {"settings": jsonmembers.restore(texts["settings"], memory)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What Qwen Code will use: ``model.name`` (and ``fastModel``) found among ``modelProviders.openai``."""
        data = jsonmembers.settings_object(texts["settings"])
        if data is None:
            return {}
        if _get(data, MEMBERS["auth"]) != AUTH_TYPE:
            return {}
        entries = _get(data, MEMBERS["providers"])
        entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        found: dict[str, Pointing] = {}
        for role in ("main", "fast"):
            model = _get(data, MEMBERS[role])
            entry = next((e for e in entries if e.get("id") == model), None) if isinstance(model, str) else None
            if entry is not None:  # the first with that id wins, as in Qwen Code
                found[role] = Pointing(str(entry.get("baseUrl") or "").rstrip("/"), str(model),
                                       str(entry.get("envKey") or ""))
        return found


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


TOOL = QwenCode()

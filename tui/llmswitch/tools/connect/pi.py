"""Pi (npm ``@mariozechner/pi-coding-agent``, command ``pi``): ``models.json`` and ``settings.json`` in its agent folder.

Pi's agent folder is ``$PI_CODING_AGENT_DIR`` (``~`` expanded), else ``~/.pi/agent``. Custom providers live in
``models.json`` (JSON with comments, which Pi strips)::

    {"providers": {"llmswitch": {"baseUrl": "http://…/v1", "api": "openai-completions",
                                 "apiKey": "!llmswitch key get groq",
                                 "models": [{"id": "llama-3.1-8b-instant"}]}}}

and the model Pi starts with in ``settings.json`` (plain JSON): ``defaultProvider`` and ``defaultModel``.
``api: "openai-completions"`` POSTs ``baseUrl/chat/completions`` with ``Authorization: Bearer``.

The key: Pi resolves ``apiKey`` itself — ``"!COMMAND"`` runs the command and uses its output (once per Pi
process), any other value is the name of an environment variable when one is set, else a literal. So the
provider's own env var when that is its key source, else ``!llmswitch key get PROVIDER`` (a credential
helper; a keyless server gets the documented placeholder). Never a key.

llmswitch owns the members ``providers.llmswitch`` (models.json), ``defaultProvider`` and ``defaultModel``
(settings.json); what they held before is kept in the registry and put back by ``disconnect``. Pi has one
model role (compaction and titles use it too).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import _jsonmembers as jsonmembers
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, UnreadableFile, home, parser_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

PROVIDER_ID = "llmswitch"
API = "openai-completions"
"""Pi's name for chat completions (``openai-responses``, ``anthropic-messages``, ``google-generative-ai`` are the others)."""


def agent_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$PI_CODING_AGENT_DIR`` (a leading ``~`` expanded, as Pi does), else ``~/.pi/agent``."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    value = environ.get("PI_CODING_AGENT_DIR")
    if value:
        if value == "~" or value.startswith("~/"):
            return home(environ) / value[2:]
        return Path(value)
    return home(environ) / ".pi" / "agent"


def helper_command(provider: str) -> str:
    from ...base.paths import key_get_command

    return key_get_command(provider)


class Pi(jsonmembers.OwnedMembersIn):
    name = "pi"
    title = "Pi"
    package = "npm:@mariozechner/pi-coding-agent"
    command = "pi"
    verified = "0.73.1"
    protocol = Protocol.CHAT
    roles = {"main": "defaultProvider/defaultModel (compaction and titles use it too)"}
    json_labels = ("settings", "models")

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        folder = agent_dir(environ)
        return {"settings": folder / "settings.json", "models": folder / "models.json"}

    def key_plan(self, target: Target) -> KeyPlan:
        provider = target.provider
        if provider.key_source == "env" and provider.key_env:
            return KeyPlan(KeyRef.ENV, provider.key_env[0])
        return KeyPlan(KeyRef.HELPER, helper_command(provider.id))

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, FoundKey, guess, parsed, plain

        files = self.files(environ)
        text, data = parsed(files["models"], jsonmembers.loads_jsonc)
        providers = data.get("providers") if isinstance(data, dict) else None
        for pid, entry in (providers or {}).items() if isinstance(providers, dict) else ():
            if pid == PROVIDER_ID or not isinstance(entry, dict) or not entry.get("baseUrl"):
                continue
            guessed, url, kind = guess(str(entry["baseUrl"]), f"{pid.upper()}_API_KEY")
            kind = "anthropic" if entry.get("api") == "anthropic-messages" else kind
            api_key = str(entry.get("apiKey") or "")
            key: FoundKey | None
            if api_key.startswith("!"):
                key = FoundKey("command", files["models"], api_key[1:])
            elif api_key and api_key.isupper() and api_key.replace("_", "").isalnum():
                key = FoundKey("env", files["models"], api_key)
            else:
                key = plain(text, files["models"], api_key)
            models = tuple(str(m["id"]) for m in entry.get("models") or () if isinstance(m, dict) and m.get("id"))
            yield Found(self.name, files["models"], guessed if url or guessed != "openai" else pid, url, kind, models,
                        key)

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        api_key = f"!{key.name}" if key.kind is KeyRef.HELPER else key.name
        entry: dict[str, Any] = {"baseUrl": main.url, "api": API, "apiKey": api_key,
                                 "models": [{"id": main.selection.model}]}
        values: dict[str, dict[tuple[str, ...], Any]] = {
            "models": {("providers", PROVIDER_ID): entry},
            "settings": {("defaultProvider",): PROVIDER_ID, ("defaultModel",): main.selection.model}}
        new, kept = self.apply_members(texts, values, memory)
        return Plan(dict(new), kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        return self.restore_members(texts, memory)

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What Pi will start with: settings' defaultProvider/defaultModel, resolved through models.json."""
        settings = _load(texts["settings"], "settings", strict=True)
        models = _load(texts["models"], "models", strict=False)
        if settings.get("defaultProvider") != PROVIDER_ID or not isinstance(settings.get("defaultModel"), str):
            return {}
        entry = (models.get("providers") or {}).get(PROVIDER_ID) if isinstance(models.get("providers"), dict) else None
        if not isinstance(entry, dict):
            return {}
        model = settings["defaultModel"]
        if not any(isinstance(m, dict) and m.get("id") == model for m in entry.get("models") or ()):
            return {}  # Pi would not find the model under that provider
        api_key = str(entry.get("apiKey") or "")
        return {"main": Pointing(str(entry.get("baseUrl") or "").rstrip("/"), model, api_key.removeprefix("!"))}


def _load(text: str | None, label: str, *, strict: bool) -> dict[str, Any]:
    """One of Pi's files as Pi parses it: settings.json with ``JSON.parse``, models.json with comments stripped first."""
    if text is None or not text.strip():
        return {}
    import json

    from ...base import bounded

    if bounded.json_too_deep(text):
        raise UnreadableFile(label, f"{label}.json nests deeper than {bounded.MAX_DEPTH} levels", 1)
    try:
        data = json.loads(text) if strict else jsonmembers.loads_jsonc(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(label, f"{label}.json is not valid JSON ({exc.msg})", exc.lineno) from None
    except ValueError as exc:
        raise UnreadableFile(label, f"{label}.json: {exc}", parser_line(str(exc), text)) from None
    if not isinstance(data, dict):
        raise UnreadableFile(label, f"{label}.json is not a JSON object", 1)
    return data


TOOL = Pi()

"""OpenAI Codex CLI (npm ``@openai/codex``): ``$CODEX_HOME/config.toml`` (default ``~/.codex/config.toml``).

Codex reads top-level ``model`` and ``model_provider``, and a provider table
``[model_providers.ID]`` with ``name``, ``base_url`` (Codex appends ``/responses``),
``env_key`` (the env var holding the key) and ``wire_api``. Current releases accept only
``wire_api = "responses"`` (``"chat"`` was deprecated in early 2026 and is refused at
start-up since about 0.122), so Codex needs the Responses API. ``review_model`` (``/review``)
is the one other role; it must live on the same provider.

What llmswitch writes: a block at the top with ``model`` / ``model_provider = "llmswitch"``
(the user's own top-level ``model``/``model_provider``/``review_model`` lines are displaced
while connected), and a block at the end with ``[model_providers.llmswitch]``. The key:
``env_key`` names the provider's own env var when that is its key source, otherwise
``OPENAI_API_KEY``, which ``llmswitch exec -- codex`` sets.
"""

from __future__ import annotations

import os
import tomllib
from typing import TYPE_CHECKING, Any

from . import textedit
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
AUTH_FILE = "auth.json"
"""Where ``codex login --with-api-key`` keeps the key (import reads it; connect never writes it)."""


def root(environ: Mapping[str, str] | None = None) -> Path:
    """Codex's folder: ``$CODEX_HOME``, else ``~/.codex``."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    codex_home = environ.get("CODEX_HOME")
    return Path(codex_home) if codex_home else home(environ) / ".codex"
OWNED_TOP = ("model", "model_provider", "review_model", "profile")


class Codex(Tool):
    name = "codex"
    title = "OpenAI Codex CLI"
    package = "npm:@openai/codex"
    command = "codex"
    verified = "0.171.0"
    protocol = Protocol.RESPONSES
    kinds = ("openai", "azure")
    headers = "env"
    roles = {"main": "model", "review": "review_model (the /review command)"}
    blocks = {"config": ("codex", "codex/provider")}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"config": root(environ) / "config.toml"}

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, FoundKey, guess, plain, read, read_json

        path = self.files(environ)["config"]
        text = read(path)
        try:
            data = tomllib.loads(text) if text else {}
        except tomllib.TOMLDecodeError:
            data = {}
        for pid, entry in (data.get("model_providers") or {}).items():
            if pid == PROVIDER_ID or not isinstance(entry, dict):
                continue
            guessed, url, kind = guess(entry.get("base_url"), entry.get("env_key"))
            models = (str(data["model"]),) if data.get("model_provider") == pid and data.get("model") else ()
            key = FoundKey("env", path, str(entry["env_key"])) if entry.get("env_key") else None
            yield Found(self.name, path, guessed, url, kind, models, key)
        auth_path = root(environ) / AUTH_FILE
        auth_text = read(auth_path)
        try:
            auth = read_json(auth_text) if auth_text else {}
        except ValueError:
            auth = {}
        if isinstance(auth, dict) and isinstance(auth.get("OPENAI_API_KEY"), str) and auth["OPENAI_API_KEY"]:
            yield Found(self.name, auth_path, "openai", None, "openai", (),
                        plain(auth_text or "", auth_path, auth["OPENAI_API_KEY"]))

    def key_plan(self, target: Target) -> KeyPlan:
        return key_env_for(target, "OPENAI_API_KEY")

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        review = targets.get("review")
        if review is not None and review.url != main.url:
            from ...base.errors import Exit, LlmswitchError

            raise LlmswitchError(f"codex: review_model must use the same provider as model ({review.selection.ref} "
                                 f"is not on {main.selection.provider})",
                                 f"select a {main.selection.provider} model for role {review.role}",
                                 exit_code=Exit.USAGE)
        base = self.remove(texts, memory)["config"] or ""
        base = textedit.displace(base, self.name, textedit.top_level_key(OWNED_TOP, "="),
                                 stop=textedit.toml_table_header)
        top = [f"model = {textedit.toml_string(main.selection.model)}",
               f"model_provider = {textedit.toml_string(PROVIDER_ID)}"]
        if review is not None:
            top.append(f"review_model = {textedit.toml_string(review.selection.model)}")
        table = [f"[model_providers.{PROVIDER_ID}]",
                 f"name = {textedit.toml_string('llmswitch: ' + main.selection.provider)}",
                 f"base_url = {textedit.toml_string(main.url)}",
                 'wire_api = "responses"']
        if key.kind is not KeyRef.NONE and key.name:
            table.append(f"env_key = {textedit.toml_string(key.name)}")
        if main.provider.headers:
            table.append(f"http_headers = {_inline(main.provider.headers)}")
        secret = {s.name: s.env for s in main.provider.header_sources if s.env}
        if secret:
            table.append(f"env_http_headers = {_inline(secret)}")
        text = textedit.add_block(base, self.name, "\n".join(top) + "\n", at="top",
                                  before=textedit.toml_table_header)
        text = textedit.add_block(text, self.name + "/provider", "\n".join(table) + "\n")
        return Plan({"config": text})

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        text = texts["config"]
        if text is None:
            return {"config": None}
        return {"config": textedit.strip(textedit.strip(text, self.name + "/provider"), self.name)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What Codex will use, by TOML's rules (a duplicate key or table is an error, as it is for Codex)."""
        text = texts["config"]
        if text is None:
            return {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UnreadableFile("config", f"config.toml is not valid TOML ({exc})",
                                 parser_line(str(exc), text)) from None
        provider_id = data.get("model_provider", "openai")
        provider = data.get("model_providers", {}).get(provider_id)
        if not isinstance(provider, dict) or "model" not in data:
            return {}
        base_url = str(provider.get("base_url", "")).rstrip("/")
        env_key = str(provider.get("env_key", ""))
        found = {"main": Pointing(base_url, str(data["model"]), env_key)}
        if "review_model" in data:
            found["review"] = Pointing(base_url, str(data["review_model"]), env_key)
        return found


def _inline(table: Mapping[str, str]) -> str:
    """A TOML inline table of strings."""
    return "{ " + ", ".join(f"{textedit.toml_string(k)} = {textedit.toml_string(v)}"
                            for k, v in sorted(table.items())) + " }"


TOOL = Codex()

"""aider (PyPI ``aider-chat``): ``~/.aider.conf.yml``, the user-level file aider reads last.

aider reads YAML config files with configargparse (``yaml.safe_load``): the one in the
current directory, the git root and the home directory, the first found winning per key.
llmswitch writes the home one. Keys (aider's long option names): ``model``,
``weak-model`` (commit messages and summaries), ``editor-model`` (architect mode's
editor) and ``openai-api-base``; models are named the way aider's litellm names an
OpenAI-compatible endpoint: ``openai/MODEL``.

The key: aider's YAML has no env-var indirection (``openai-api-key``/``api-key`` would be the
key itself, and ``.env`` files are plaintext), so aider is started as
``llmswitch exec -- aider``, which sets ``OPENAI_API_KEY`` (and ``OPENAI_API_BASE``) for it.
A user's own ``openai-api-key`` line is displaced while connected: it would send their
key to the selected provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import textedit
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, UnreadableFile, home, parser_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

KEYS = {"main": "model", "weak": "weak-model", "editor": "editor-model"}
OWNED = (*KEYS.values(), "openai-api-base", "openai-api-key")
PREFIX = "openai/"


class Aider(Tool):
    name = "aider"
    title = "aider"
    package = "pypi:aider-chat"
    command = "aider"
    verified = "0.86.2"
    protocol = Protocol.CHAT
    roles = {"main": "model", "weak": "weak-model (commit messages, summaries)",
             "editor": "editor-model (architect mode's editor)"}
    blocks = {"config": ("aider",)}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"config": home(environ) / ".aider.conf.yml"}

    def key_plan(self, target: Target) -> KeyPlan:
        return KeyPlan(KeyRef.LAUNCHER, "OPENAI_API_KEY")

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, guess, plain, read

        path = self.files(environ)["config"]
        text = read(path)
        data = textedit.load_yaml(textedit.strip(text, "aider")) if text else None
        if not isinstance(data, dict):
            return
        models = tuple(str(data[k]).removeprefix(PREFIX) for k in KEYS.values() if data.get(k))
        pid, url, kind = guess(data.get("openai-api-base"), "OPENAI_API_KEY")
        yield Found(self.name, path, pid, url, kind, models, plain(text or "", path, data.get("openai-api-key")))

    def model_name(self, target: Target) -> str:
        return PREFIX + target.selection.model

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        for role, target in targets.items():
            if target.url != main.url:
                from ...base.errors import Exit, LlmswitchError

                raise LlmswitchError(f"aider has one openai-api-base, but role {role} ({target.selection.ref}) is "
                                     f"not on {main.url}", f"select a {main.selection.provider} model for "
                                     f"llmswitch role {target.role}", exit_code=Exit.USAGE)
        base = self.remove(texts, memory)["config"] or ""
        base = textedit.displace(base, self.name, textedit.top_level_key(OWNED, ":"), continues=textedit.indented)
        lines = [f"{KEYS[role]}: {textedit.yaml_string(self.model_name(t))}" for role, t in targets.items()]
        lines.append(f"openai-api-base: {textedit.yaml_string(main.url)}")
        return Plan({"config": textedit.add_block(base, self.name, "\n".join(lines) + "\n")})

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        text = texts["config"]
        return {"config": None if text is None else textedit.strip(text, self.name)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        text = texts["config"]
        if text is None:
            return {}
        try:
            data = textedit.load_yaml(text)
        except ValueError as exc:
            raise UnreadableFile("config", str(exc), parser_line(str(exc), text)) from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise UnreadableFile("config", ".aider.conf.yml is not a mapping of options", 1)
        base_url = str(data.get("openai-api-base") or "").rstrip("/")
        return {role: Pointing(base_url, str(data[option]), "OPENAI_API_KEY")
                for role, option in KEYS.items() if data.get(option)}


TOOL = Aider()

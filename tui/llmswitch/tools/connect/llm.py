"""llm (PyPI ``llm``, Simon Willison's CLI): ``extra-openai-models.yaml`` and ``default_model.txt`` in llm's user dir.

The user dir is ``$LLM_USER_PATH``, else click's app dir for ``io.datasette.llm``
(``~/.config/io.datasette.llm`` on Linux, ``~/Library/Application Support/io.datasette.llm``
on macOS). ``extra-openai-models.yaml`` is a YAML list of OpenAI-compatible models
(``model_id``, ``model_name``, ``api_base``, ``api_key_name``) that llm loads with
``yaml.safe_load``; ``default_model.txt`` holds the default model's id.

What llmswitch writes: one entry ``model_id: llmswitch`` in a marked block at the end of
the list, and ``llmswitch`` as the default model (the previous default is kept and put
back by ``disconnect``). Run it as ``llm "…"`` or ``llm -m llmswitch "…"``.

The key: llm stores keys in ``keys.json`` in plaintext, so llmswitch never writes there.
An entry with ``api_base`` sends no key unless it has ``api_key_name``; llm then looks that
name up in ``keys.json`` and falls back to ``$OPENAI_API_KEY``. llmswitch names an alias
that is not in ``keys.json`` (``llmswitch-PROVIDER``) so the key comes from
``$OPENAI_API_KEY``, which ``llmswitch exec -- llm`` sets. Keyless providers get no
``api_key_name``. Roles: llm has one default model (its embedding models cannot point at a
custom endpoint from a config file), so only ``main`` maps.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from . import textedit
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, UnreadableFile, home, parser_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

MODEL_ID = "llmswitch"
FOLDER = "io.datasette.llm"
KEYS_FILE = "keys.json"


def root(environ: Mapping[str, str] | None = None) -> Path:
    """llm's user directory: ``$LLM_USER_PATH``, else its platform folder (macOS: Application Support)."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    if environ.get("LLM_USER_PATH"):
        return Path(environ["LLM_USER_PATH"])
    if sys.platform == "darwin":
        return home(environ) / "Library" / "Application Support" / FOLDER
    return Path(environ.get("XDG_CONFIG_HOME") or home(environ) / ".config") / FOLDER


class Llm(Tool):
    name = "llm"
    title = "llm"
    package = "pypi:llm"
    command = "llm"
    verified = "0.36"
    protocol = Protocol.CHAT
    headers = "literal"
    roles = {"main": "the default model (default_model.txt), also `llm -m llmswitch`"}
    blocks = {"models": ("llm",)}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        folder = root(environ)
        return {"models": folder / "extra-openai-models.yaml", "default": folder / "default_model.txt"}

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import OURS, Found, guess, plain, read, read_json

        keys_path = root(environ) / KEYS_FILE
        keys_text = read(keys_path) or "{}"
        try:
            keys = read_json(keys_text)
        except ValueError:
            keys = {}
        path = self.files(environ)["models"]
        text = read(path)
        entries = textedit.load_yaml(text) if text else None
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("model_id") in OURS or not entry.get("model_name"):
                continue
            pid, url, kind = guess(entry.get("api_base"), "OPENAI_API_KEY")
            alias = entry.get("api_key_name")
            key = plain(keys_text, keys_path, keys.get(alias)) if alias else None
            yield Found(self.name, path, pid, url, kind, (str(entry["model_name"]),), key)
        if isinstance(keys, dict) and isinstance(keys.get("openai"), str):
            yield Found(self.name, keys_path, "openai", None, "openai", (), plain(keys_text, keys_path, keys["openai"]))

    def key_plan(self, target: Target) -> KeyPlan:
        if target.provider.key_source == "none":
            return KeyPlan(KeyRef.NONE)
        return KeyPlan(KeyRef.LAUNCHER, "OPENAI_API_KEY")

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        base = textedit.strip(texts["models"] or "", self.name)
        entry = [f"- model_id: {textedit.yaml_string(MODEL_ID)}",
                 f"  model_name: {textedit.yaml_string(main.selection.model)}",
                 f"  api_base: {textedit.yaml_string(main.url)}"]
        if key.kind is not KeyRef.NONE:
            entry.append(f"  api_key_name: {textedit.yaml_string('llmswitch-' + main.selection.provider)}")
        if main.provider.headers:
            entry.append("  headers:")
            entry += [f"    {textedit.yaml_string(k)}: {textedit.yaml_string(v)}"
                      for k, v in sorted(main.provider.headers.items())]
        kept = dict(memory)
        if "default_before" not in kept:
            current = texts["default"]
            kept["default_before"] = current if current is None or current.strip() != MODEL_ID else None
        return Plan({"models": textedit.add_block(base, self.name, "\n".join(entry) + "\n"),
                     "default": MODEL_ID + "\n"}, kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        models = texts["models"]
        stripped = None if models is None else textedit.strip(models, self.name)
        default = texts["default"]
        if default is not None and default.strip() == MODEL_ID:
            default = memory.get("default_before")
        return {"models": stripped, "default": default}

    def owned(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, Any]:
        """The block in extra-openai-models.yaml, and all of default_model.txt (llmswitch's while it says ``llmswitch``)."""
        return {**super().owned(texts, memory), "default:file": texts["default"]}

    def part_name(self, part: str) -> str:
        return "default model (llm models default)" if part == "file" else super().part_name(part)

    def part_line(self, text: str | None, part: str) -> int | None:
        return 1 if part == "file" and text is not None else super().part_line(text, part)

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        try:
            models = textedit.load_yaml(texts["models"] or "")
        except ValueError as exc:
            raise UnreadableFile("models", str(exc), parser_line(str(exc), texts["models"] or "")) from None
        if models is None:
            return {}
        if not isinstance(models, list):
            raise UnreadableFile("models", "extra-openai-models.yaml is not a list of models", 1)
        default = (texts["default"] or "").strip()
        ours = [m for m in models if isinstance(m, dict) and m.get("model_id") == MODEL_ID]
        if not ours or default != MODEL_ID:
            return {}
        entry = ours[0]  # llm registers the first; a second with the same id would be a conflict
        key = "OPENAI_API_KEY" if entry.get("api_key_name") else ""
        return {"main": Pointing(str(entry.get("api_base") or "").rstrip("/"), str(entry.get("model_name")), key)}


TOOL = Llm()

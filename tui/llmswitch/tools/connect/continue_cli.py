"""Continue CLI (npm ``@continuedev/cli``, command ``cn``): ``~/.continue/config.yaml`` (``$CONTINUE_GLOBAL_DIR``).

``cn`` reads the local ``config.yaml`` (schema v1) when no hub assistant is chosen: a
``models:`` list of entries ``{name, provider, model, apiBase, apiKey, roles}``; provider
``openai`` with ``apiBase`` POSTs ``apiBase/chat/completions``. llmswitch writes its entries
in a marked block at the top of that list (``cn`` uses the first chat model unless one was
picked), one per mapped role:

* ``main`` → roles ``chat``, ``edit``, ``apply``, ``summarize``;
* ``autocomplete`` (llmswitch role ``small``) → ``autocomplete``;
* ``embed`` (llmswitch role ``embedding``) → ``embed``.

The key: ``apiKey: "${{ secrets.VAR }}"``, Continue's secret reference, which ``cn``
resolves from its environment first (then ``~/.continue/.env``, ``./.continue/.env``,
``./.env``): the provider's own env var when that is its key source, else
``OPENAI_API_KEY``, set by ``llmswitch exec -- cn``. All roles share one endpoint.
"""

from __future__ import annotations

import os
import re
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
from .opencode import same_endpoint

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

ROLES = {"main": ("chat", "edit", "apply", "summarize"), "autocomplete": ("autocomplete",), "embed": ("embed",)}
NAMES = {"main": "llmswitch", "autocomplete": "llmswitch autocomplete", "embed": "llmswitch embed"}
_SECRET = re.compile(r"^\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_MODELS = re.compile(r"^models\s*:\s*(#.*)?$")
NEW_FILE = "name: Local Config\nversion: 1.0.0\nschema: v1\n"
FOLDER = ".continue"
"""Continue's folder in your home directory (``$CONTINUE_GLOBAL_DIR`` moves its config)."""


class ContinueCli(Tool):
    name = "continue-cli"
    title = "Continue CLI"
    package = "npm:@continuedev/cli"
    command = "cn"
    verified = "1.5.47"
    protocol = Protocol.CHAT
    roles = {"main": "chat, edit, apply, summarize", "autocomplete": "autocomplete", "embed": "embed"}
    blocks = {"config": ("continue-cli",)}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        from pathlib import Path

        environ = os.environ if environ is None else environ
        root = environ.get("CONTINUE_GLOBAL_DIR")
        return {"config": (Path(root) if root else home(environ) / FOLDER) / "config.yaml"}

    def env_files(self, environ: Mapping[str, str]) -> tuple[Path, ...]:
        return (home(environ) / FOLDER / ".env",)

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import OURS, Found, FoundKey, guess, parsed, plain

        path = self.files(environ)["config"]
        text, data = parsed(path, textedit.load_yaml)
        for entry in (data.get("models") or []) if isinstance(data, dict) else []:
            if not isinstance(entry, dict) or entry.get("name") in OURS or entry.get("provider") not in ("openai",
                                                                                                          "anthropic"):
                continue
            pid, url, kind = guess(entry.get("apiBase"), f"{str(entry['provider']).upper()}_API_KEY")
            api_key = str(entry.get("apiKey") or "")
            ref = _SECRET.match(api_key)
            key = FoundKey("env", path, ref.group(1)) if ref else plain(text, path, api_key)
            yield Found(self.name, path, pid, url, kind, (str(entry.get("model")),) if entry.get("model") else (), key)

    def key_plan(self, target: Target) -> KeyPlan:
        return key_env_for(target, "OPENAI_API_KEY")


    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        same_endpoint(self.name, targets)
        base = self.remove(texts, memory)["config"]
        if base is None or not base.strip():  # a new file: all of it is ours, header included
            return Plan({"config": textedit.add_block(base or "", self.name,
                                                      NEW_FILE + "models:\n" + self._entries(targets, key, ""))})
        lines = base.splitlines(keepends=True)
        at = next((i for i, line in enumerate(lines) if _MODELS.match(line.rstrip("\r\n"))), None)
        if at is None:  # no models list yet: ours is the list
            return Plan({"config": textedit.add_block(base, self.name, "models:\n" + self._entries(targets, key, ""))})
        indent = next((re.match(r"^(\s*)- ", line).group(1) for line in lines[at + 1:]  # type: ignore[union-attr]
                       if re.match(r"^\s*- ", line)), "  ")
        after = "".join(lines[at + 1:])
        block = textedit.add_block("", self.name, self._entries(targets, key, indent))
        return Plan({"config": "".join(lines[:at + 1]) + block + after})

    def _entries(self, targets: Mapping[str, Target], key: KeyPlan, indent: str) -> str:
        out: list[str] = []
        for role, target in sorted(targets.items(), key=lambda item: list(ROLES).index(item[0])):  # main first
            fields = [("name", NAMES[role]), ("provider", "openai"), ("model", target.selection.model),
                      ("apiBase", target.url)]
            if key.kind is not KeyRef.NONE and key.name:
                fields.append(("apiKey", f"${{{{ secrets.{key.name} }}}}"))
            out.append(f"{indent}- {fields[0][0]}: {textedit.yaml_string(fields[0][1])}\n")
            out += [f"{indent}  {name}: {textedit.yaml_string(value)}\n" for name, value in fields[1:]]
            out.append(f"{indent}  roles: [{', '.join(ROLES[role])}]\n")
        return "".join(out)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        return {"config": textedit.strip(texts["config"], self.name) if texts["config"] is not None else None}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What ``cn`` will use: the first model entry holding each role's first Continue role."""
        text = texts["config"]
        try:
            data = textedit.load_yaml(text) if text is not None else None
        except ValueError as exc:
            raise UnreadableFile("config", str(exc), parser_line(str(exc), text or "")) from None
        if data is None:
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("models") or [], list):
            raise UnreadableFile("config", "config.yaml is not a mapping with a models list", 1)
        found: dict[str, Pointing] = {}
        for role, wanted in ROLES.items():
            entry = next((m for m in data.get("models") or [] if isinstance(m, dict)
                          and wanted[0] in (m.get("roles") or ("chat", "edit", "apply", "summarize"))), None)
            if entry is None or entry.get("name") != NAMES[role]:
                continue
            match = _SECRET.match(str(entry.get("apiKey") or ""))
            found[role] = Pointing(str(entry.get("apiBase") or "").rstrip("/"), str(entry.get("model")),
                                   match.group(1) if match else "")
        return found


TOOL = ContinueCli()

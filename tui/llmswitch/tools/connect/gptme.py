"""gptme (PyPI ``gptme``): ``~/.config/gptme/config.toml``.

gptme reads ``os.path.expanduser("~/.config/gptme/config.toml")`` (only ``$HOME`` moves it),
then ``config.local.toml`` beside it over it. A custom OpenAI-compatible endpoint is a
``[[providers]]`` table (``name``, ``base_url`` — gptme's openai client appends
``/chat/completions`` —, ``api_key_env`` naming the variable that holds the key,
``default_model``); a model on it is ``NAME/MODEL``, and ``[models] default`` picks the
model a conversation starts with (``-m``, ``$GPTME_MODEL``/``$MODEL`` and a project's
``gptme.toml`` ``[env] MODEL`` come first; ``[env] MODEL`` of this file comes after it).

What llmswitch writes: a ``[[providers]]`` table named ``llmswitch`` in a marked block at the
end, and ``default = "llmswitch/MODEL"`` — in a block right under the user's ``[models]``
header when there is one (their own ``default`` line there is displaced), else as a
``[models]`` table in the end block. gptme writes ``providers = []`` into the file it
creates: that empty line is displaced while connected (a ``[[providers]]`` table cannot
follow it); providers listed inline (``providers = [{…}]``) are refused with what to change.
A ``[[providers]]`` table of the user's named ``llmswitch`` would shadow ours (gptme takes the
first of a name): it is displaced while connected too.
gptme rewrites its file with tomlkit, which keeps comments, so the markers stay.

The key: ``api_key_env`` names the provider's own variable when that is its key source (start
``gptme`` directly), else ``OPENAI_API_KEY``, which ``llmswitch exec -- gptme`` sets; a keyless
provider gets none (gptme then sends a placeholder). Roles: gptme's summary model is fixed
per built-in provider, so only ``main`` maps.
"""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING, Any

from . import _keyvalue, textedit
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

PROVIDER = "llmswitch"
MODELS_PART = "gptme/models"
_MODELS_HEADER = re.compile(r"^[ \t]*\[[ \t]*models[ \t]*\][ \t]*(#.*)?$")
_PROVIDERS_LINE = re.compile(r"^providers[ \t]*=")
_EMPTY_PROVIDERS = re.compile(r"^providers[ \t]*=[ \t]*\[[ \t]*\][ \t]*(#.*)?$")
_PROVIDERS_TABLE = re.compile(r"^[ \t]*\[\[[ \t]*providers[ \t]*\]\][ \t]*(#.*)?$")


def _tables_named_ours(text: str) -> set[int]:
    """The lines of each ``[[providers]]`` table outside our block that is named ``llmswitch`` (gptme takes the first
    of a name, so it would shadow ours: e.g. our old table, left as the user's after they deleted our marker)."""
    lines = text.splitlines(keepends=True)
    found: set[int] = set()
    at = 0
    while at < len(lines):
        if not _PROVIDERS_TABLE.match(lines[at].rstrip("\r\n")):
            at += 1
            continue
        end = next((i for i in range(at + 1, len(lines)) if textedit.toml_table_header(lines[i])), len(lines))
        try:
            table = tomllib.loads("".join(lines[at:end]))["providers"][0]
        except (tomllib.TOMLDecodeError, KeyError, IndexError, TypeError):
            table = None
        if isinstance(table, dict) and table.get("name") == PROVIDER:
            found.update(range(at, end))
        at = end
    return found


def folder(environ: Mapping[str, str] | None = None) -> Path:
    return home(environ) / ".config" / "gptme"


def _models_table(lines: list[str]) -> tuple[int, int] | None:
    """(header index, index after its last line) of the user's ``[models]`` table, or None."""
    at = next((i for i, line in enumerate(lines) if _MODELS_HEADER.match(line.rstrip("\r\n"))), None)
    if at is None:
        return None
    end = next((i for i in range(at + 1, len(lines)) if textedit.toml_table_header(lines[i])), len(lines))
    return at, end


class Gptme(Tool):
    name = "gptme"
    title = "gptme"
    package = "pypi:gptme"
    command = "gptme"
    verified = "0.35.1"
    protocol = Protocol.CHAT
    roles = {"main": "[models] default (the model a conversation starts with)"}
    blocks = {"config": (MODELS_PART, "gptme")}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"config": folder(environ) / "config.toml"}

    def key_plan(self, target: Target) -> KeyPlan:
        return key_env_for(target, "OPENAI_API_KEY")

    def model_name(self, target: Target) -> str:
        return f"{PROVIDER}/{target.selection.model}"

    def problem(self, target: Target) -> tuple[str, str] | None:
        refused = super().problem(target) or _keyvalue.shadowed(self.title, self.name, ("GPTME_MODEL", "MODEL"))
        if refused is not None:
            return refused
        from .found import read

        local = folder() / "config.local.toml"
        try:
            data = tomllib.loads(read(local) or "")
        except tomllib.TOMLDecodeError:
            return None  # gptme itself will say so; not ours to judge
        models = data.get("models")
        if isinstance(models, dict) and "default" in models:  # [env] MODEL there ranks below ours: harmless
            return (f"{local} sets [models] default, which gptme reads over config.toml, so what llmswitch writes "
                    f"would not reach gptme", f"remove that line from {local}, then run: llmswitch connect gptme")
        return None

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, FoundKey, guess, plain, read

        for path in (self.files(environ)["config"], folder(environ) / "config.local.toml"):
            text = read(path)
            try:
                data = tomllib.loads(self.remove({"config": text}, {})["config"] or "") if text else {}
            except tomllib.TOMLDecodeError:
                continue
            models_table = data.get("models")
            default = str(models_table.get("default") or "") if isinstance(models_table, dict) else ""
            providers = data.get("providers")
            for entry in providers if isinstance(providers, list) else []:
                if not isinstance(entry, dict) or entry.get("name") in (PROVIDER, None) or not entry.get("base_url"):
                    continue
                name = str(entry["name"])
                var = str(entry.get("api_key_env") or f"{name.upper().replace('-', '_')}_API_KEY")  # gptme's fallback
                pid, url, kind = guess(str(entry["base_url"]), var)
                chosen = default.removeprefix(name + "/") if default.startswith(name + "/") else None
                models = tuple(dict.fromkeys(str(m) for m in (entry.get("default_model"), chosen) if m))
                key = plain(text or "", path, entry.get("api_key")) or (
                    FoundKey("env", path, var) if entry.get("api_key_env") else None)
                yield Found(self.name, path, pid, url, kind, models, key)
            env: dict[str, Any] = data["env"] if isinstance(data.get("env"), dict) else {}
            for var, secret in env.items():
                key = plain(text or "", path, secret) if var.endswith("_API_KEY") else None
                if key is not None:
                    base = env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") if var == "OPENAI_API_KEY" else None
                    pid, url, kind = guess(str(base) if base else None, var)
                    yield Found(self.name, path, pid, url, kind, (), key)

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        from ...base.errors import Exit, LlmswitchError

        main = targets["main"]
        base = self.remove(texts, memory)["config"] or ""
        lines = base.splitlines(keepends=True)
        first_table = next((i for i, line in enumerate(lines) if textedit.toml_table_header(line)), len(lines))
        inline = next((i for i, line in enumerate(lines[:first_table], 1)
                       if _PROVIDERS_LINE.match(line) and not _EMPTY_PROVIDERS.match(line.rstrip("\r\n"))), None)
        if inline is not None:
            raise LlmswitchError(f"gptme's config.toml lists its providers inline (line {inline}: providers = [...]), "
                                 f"and llmswitch's provider is a [[providers]] table, which TOML cannot add to that",
                                 "write each of yours as a [[providers]] table (name, base_url, …), then run: "
                                 "llmswitch connect gptme", exit_code=Exit.USAGE)
        base = textedit.displace(base, self.name, lambda line: bool(_EMPTY_PROVIDERS.match(line.rstrip("\r\n"))),
                                 stop=textedit.toml_table_header)
        base = textedit.displace_at(base, self.name, _tables_named_ours(base))  # a table of our name would win
        default = f"default = {textedit.toml_string(self.model_name(main))}\n"
        lines = base.splitlines(keepends=True)
        table = _models_table(lines)
        end = ""
        if table is None:
            end = "[models]\n" + default + "\n"
        else:
            at, after = table
            region = textedit.displace("".join(lines[at + 1:after]), self.name,
                                       textedit.top_level_key(("default",), "="))
            head = "".join(lines[:at + 1])
            if not head.endswith("\n"):
                head += textedit.newline_of(base)
            base = head + textedit.add_block(region, MODELS_PART, default, at="top", before=lambda line: True) \
                + "".join(lines[after:])
        provider = ["[[providers]]", f"name = {textedit.toml_string(PROVIDER)}",
                    f"base_url = {textedit.toml_string(main.url)}"]
        if key.kind is not KeyRef.NONE and key.name:
            provider.append(f"api_key_env = {textedit.toml_string(key.name)}")
        provider.append(f"default_model = {textedit.toml_string(main.selection.model)}")
        return Plan({"config": textedit.add_block(base, self.name, end + "\n".join(provider) + "\n")})

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        text = texts["config"]
        return {"config": None if text is None else textedit.strip(textedit.strip(text, MODELS_PART), self.name)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What gptme starts with, by TOML's rules (a duplicate table is an error, as it is for gptme's tomlkit)."""
        text = texts["config"]
        if text is None:
            return {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UnreadableFile("config", f"config.toml is not valid TOML ({exc})", parser_line(str(exc), text)) \
                from None
        models = data.get("models")
        default = models.get("default") if isinstance(models, dict) else None
        if not isinstance(default, str) or not default:
            return {}
        prefix = default.partition("/")[0]
        providers = data.get("providers")
        entry = next((p for p in providers if isinstance(p, dict) and p.get("name") == prefix), None) \
            if isinstance(providers, list) else None
        if entry is None:
            return {"main": Pointing("", default)}
        return {"main": Pointing(str(entry.get("base_url", "")).rstrip("/"), default,
                                 str(entry.get("api_key_env") or ""))}


TOOL = Gptme()

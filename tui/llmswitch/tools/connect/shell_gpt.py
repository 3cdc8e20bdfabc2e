"""shell-gpt (PyPI ``shell-gpt``, command ``sgpt``): ``~/.config/shell_gpt/.sgptrc``.

sgpt reads ``KEY=value`` lines (``#`` starts a comment line; a later line wins) from
``os.path.expanduser("~/.config/shell_gpt/.sgptrc")`` — only ``$HOME`` moves it, not
``XDG_CONFIG_HOME`` — and for every key a non-empty environment variable of the same name
wins over the file. It sends chat completions through the ``openai`` client to
``API_BASE_URL`` (``default``: the client's own) with ``DEFAULT_MODEL``.

Its traps, and what llmswitch does about each:

* **Its own rewrite.** When the file lacks any of sgpt's default keys, sgpt fills them in
  from the environment of that run and rewrites the whole file as bare ``KEY=value`` lines:
  comments — llmswitch's markers and a user's displaced lines among them — are lost. So
  llmswitch adds the keys the file lacks (sgpt's defaults, :data:`DEFAULTS`) in a block of
  its own at the top (a line of yours further down still wins), and sgpt has nothing to rewrite.
* **The key.** The file has no env-var indirection: ``OPENAI_API_KEY`` in it is the key
  itself (sgpt's first run prompts for it and saves it there when the environment has none).
  llmswitch writes no key; sgpt runs as ``llmswitch exec -- sgpt``, which sets
  ``OPENAI_API_KEY`` (the environment wins over the file) and a placeholder for keyless
  servers. A user's own ``OPENAI_API_KEY`` line is displaced while connected: it would send
  their key to the selected provider.
* **The answer cache.** sgpt caches answers under ``$CACHE_PATH`` (default: the shared temp
  folder), keyed by model and messages but not by endpoint, so after a switch to another
  provider serving a model of the same name the old provider's answer would win. llmswitch
  points ``CACHE_PATH`` at a folder of the endpoint's own in the user's cache
  (``~/.cache/shell_gpt/llmswitch-HASH``), private and never shared between endpoints.
* ``USE_LITELLM`` is set to ``false`` (the route llmswitch verifies is the openai client's).

Roles: sgpt has one model (its ``--role`` is a system prompt, not a model), so only ``main``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _keyvalue, textedit
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, UnreadableFile, home

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

OWNED = ("DEFAULT_MODEL", "API_BASE_URL", "USE_LITELLM", "CACHE_PATH", "OPENAI_API_KEY")
"""Keys llmswitch's block sets (``OPENAI_API_KEY``: only displaced, never written)."""
DEFAULTS: dict[str, str | None] = {
    "CHAT_CACHE_PATH": None, "CHAT_CACHE_LENGTH": "100", "CACHE_LENGTH": "100", "REQUEST_TIMEOUT": "60",
    "DEFAULT_COLOR": "magenta", "ROLE_STORAGE_PATH": None, "DEFAULT_EXECUTE_SHELL_CMD": "false",
    "DISABLE_STREAMING": "false", "CODE_THEME": "dracula", "OPENAI_FUNCTIONS_PATH": None,
    "OPENAI_USE_FUNCTIONS": "true", "SHOW_FUNCTIONS_OUTPUT": "false", "PRETTIFY_MARKDOWN": "true",
    "SHELL_INTERACTION": "true", "OS_NAME": "auto", "SHELL_NAME": "auto",
}
"""shell-gpt 1.5.1's default keys that llmswitch does not own (None: a path, worked out as sgpt does);
a file without one of these (or of :data:`OWNED` but the key) is rewritten by sgpt on its next run."""
DEFAULTS_PART = "shell-gpt/defaults"


def folder(environ: Mapping[str, str] | None = None) -> Path:
    return home(environ) / ".config" / "shell_gpt"


def cache_folder(url: str, environ: Mapping[str, str] | None = None) -> str:
    """A private answer cache per endpoint, so that no provider's cached answer is served for another's."""
    import hashlib
    import os
    from pathlib import Path

    environ = os.environ if environ is None else environ
    root = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else home(environ) / ".cache"
    return str(root / "shell_gpt" / f"llmswitch-{hashlib.sha256(url.encode()).hexdigest()[:12]}")


def default_value(key: str, environ: Mapping[str, str] | None = None) -> str:
    """What sgpt itself would write for a default key (its paths worked out the way it does)."""
    import tempfile
    from pathlib import Path

    paths = {"CHAT_CACHE_PATH": str(Path(tempfile.gettempdir()) / "chat_cache"),
             "ROLE_STORAGE_PATH": str(folder(environ) / "roles"),
             "OPENAI_FUNCTIONS_PATH": str(folder(environ) / "functions")}
    value = DEFAULTS[key]
    return paths[key] if value is None else value


class ShellGpt(Tool):
    name = "shell-gpt"
    title = "shell-gpt"
    package = "pypi:shell-gpt"
    command = "sgpt"
    verified = "1.5.1"
    protocol = Protocol.CHAT
    roles = {"main": "DEFAULT_MODEL (every sgpt prompt, --shell and --code too)"}
    blocks = {"config": (DEFAULTS_PART, "shell-gpt")}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"config": folder(environ) / ".sgptrc"}

    def key_plan(self, target: Target) -> KeyPlan:
        return KeyPlan(KeyRef.LAUNCHER, "OPENAI_API_KEY")

    def problem(self, target: Target) -> tuple[str, str] | None:
        refused = super().problem(target)
        if refused is not None:
            return refused
        for what, value in (("model", target.selection.model), ("base URL", target.url)):
            if value != value.strip() or "\n" in value or "\r" in value:
                return (f"shell-gpt's .sgptrc cannot hold the {what} {value!r} (it strips each line and has no quoting)",
                        f"select another model for llmswitch role {target.role}")
        return _keyvalue.shadowed(self.title, self.name, ("DEFAULT_MODEL", "API_BASE_URL", "USE_LITELLM",
                                                          "CACHE_PATH"))

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, guess, plain, read

        path = self.files(environ)["config"]
        text = read(path)
        if not text:
            return
        values, _ = _keyvalue.sgpt_values(self.remove({"config": text}, {})["config"] or "")
        url = values.get("API_BASE_URL")
        url = None if not url or url == "default" else url
        models = (values["DEFAULT_MODEL"],) if values.get("DEFAULT_MODEL") else ()
        key = plain(text, path, values.get("OPENAI_API_KEY"))
        if url or models or key:
            pid, base_url, kind = guess(url, "OPENAI_API_KEY")
            yield Found(self.name, path, pid, base_url, kind, models, key)

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        base = self.remove(texts, memory)["config"] or ""
        base = textedit.displace(base, self.name, lambda line: _keyvalue.sgpt_key(line) in OWNED)
        present = {_keyvalue.sgpt_key(line) for line in base.splitlines()}
        missing = [k for k in DEFAULTS if k not in present]
        if missing:
            base = textedit.add_block(base, DEFAULTS_PART, "".join(f"{k}={default_value(k)}\n" for k in missing),
                                      at="top")
        lines = [f"DEFAULT_MODEL={main.selection.model}", f"API_BASE_URL={main.url}", "USE_LITELLM=false",
                 f"CACHE_PATH={cache_folder(main.url)}"]
        return Plan({"config": textedit.add_block(base, self.name, "\n".join(lines) + "\n")})

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        text = texts["config"]
        return {"config": None if text is None else textedit.strip(textedit.strip(text, DEFAULTS_PART), self.name)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        text = texts["config"]
        if text is None:
            return {}
        values, failure = _keyvalue.sgpt_values(text)
        if failure is not None:
            raise UnreadableFile("config", failure[1], failure[0])
        if not values.get("DEFAULT_MODEL"):
            return {}
        url = values.get("API_BASE_URL", "default")
        return {"main": Pointing("" if url == "default" else url.rstrip("/"), values["DEFAULT_MODEL"],
                                 "OPENAI_API_KEY")}


TOOL = ShellGpt()

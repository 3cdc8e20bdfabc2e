"""Gemini CLI (npm ``@google/gemini-cli``, command ``gemini``): ``settings.json`` and ``.env`` in ``~/.gemini``.

Gemini CLI speaks only Google's Gemini API (``@google/genai``): it POSTs
``ROOT/v1beta/models/MODEL:streamGenerateContent`` with the key in ``x-goog-api-key``. So it is connected
only to a provider documented to serve that API (:func:`llmswitch.net.gemini_env.serves_gemini`: a LiteLLM
proxy, Google itself); any other is refused in one sentence naming one that would.

Where it reads what (``$GEMINI_CLI_HOME`` replaces the home directory):

* ``~/.gemini/settings.json`` (JSON with comments): ``security.auth.selectedType`` and ``model.name``.
  llmswitch sets ``selectedType`` to ``"gemini-api-key"``: a saved Google login (``oauth-personal``) or a
  Vertex setup cannot win silently while connected, and a base URL alone would make Gemini CLI pick its
  ``gateway`` auth, which non-interactive runs reject ("Invalid auth method selected").
* The base URL has no setting: Gemini CLI reads ``GOOGLE_GEMINI_BASE_URL`` from its environment, or from the
  first ``.env`` it finds walking up from the working directory, ending at ``~/.gemini/.env`` (read only in
  a trusted folder). llmswitch writes a marked block at the end of ``~/.gemini/.env`` with
  ``GOOGLE_GEMINI_BASE_URL``, and comments out (displaces) the user's own ``GOOGLE_GEMINI_BASE_URL`` and
  ``GEMINI_API_KEY`` lines there while connected, so a Google key never travels to the gateway.
* The key: Gemini CLI takes it only from ``GEMINI_API_KEY``, which no file can name, so it is started as
  ``llmswitch exec -- gemini``; ``exec`` sets ``GEMINI_API_KEY`` *and* ``GOOGLE_GEMINI_BASE_URL`` from the
  selection (:mod:`llmswitch.net.gemini_env`), so a project's own ``.env`` (which hides ``~/.gemini/.env``)
  can never send the key elsewhere. Never a key in a file.

One model role (``model.name``). llmswitch owns ``security.auth.selectedType`` and ``model.name`` (their
previous values are kept in the registry and put back by ``disconnect``) and its ``.env`` block.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from . import _jsonmembers as jsonmembers
from . import textedit
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, home

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

AUTH_TYPE = "gemini-api-key"
KEY_VAR = "GEMINI_API_KEY"
URL_VAR = "GOOGLE_GEMINI_BASE_URL"
MEMBERS = {"auth": ("security", "auth", "selectedType"), "main": ("model", "name")}
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*|:\s+)(.*)$")


def root(environ: Mapping[str, str] | None = None) -> Path:
    """Gemini CLI's folder: ``$GEMINI_CLI_HOME/.gemini``, else ``~/.gemini``."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    value = environ.get("GEMINI_CLI_HOME")
    return (Path(value) if value else home(environ)) / ".gemini"


def dotenv(text: str) -> dict[str, str]:
    """``text`` as Gemini CLI's dotenv reads it: ``KEY=value`` lines (``export`` allowed), quotes removed, a
    ``#`` comment after an unquoted value dropped, the last assignment of a key winning."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _ASSIGN.match(line)
        if not match:
            continue
        value = match.group(2).strip()
        quoted = re.match(r"^(['\"`])(.*)\1", value)
        if quoted:
            value = quoted.group(2).replace("\\n", "\n") if quoted.group(1) == '"' else quoted.group(2)
        else:
            value = value.split("#", 1)[0].strip()
        found[match.group(1)] = value
    return found


def _owned_line(line: str) -> bool:
    """A line of the user's that sets what llmswitch's block sets, or their Gemini key (displaced while connected)."""
    match = _ASSIGN.match(line)
    return match is not None and match.group(1) in (URL_VAR, KEY_VAR)


class GeminiCli(jsonmembers.OwnedMembersIn):
    name = "gemini-cli"
    title = "Gemini CLI"
    package = "npm:@google/gemini-cli"
    command = "gemini"
    verified = "0.61.0"
    protocol = Protocol.GEMINI
    roles = {"main": "model.name"}
    json_labels = ("settings",)
    blocks = {"env": ("gemini-cli",)}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        folder = root(environ)
        return {"settings": folder / "settings.json", "env": folder / ".env"}

    def env_files(self, environ: Mapping[str, str]) -> tuple[Path, ...]:
        return (self.files(environ)["env"],)

    def key_plan(self, target: Target) -> KeyPlan:
        return KeyPlan(KeyRef.LAUNCHER, KEY_VAR)

    def base_url(self, target: Target) -> str:
        from ...net.gemini_env import api_root

        return api_root(target.url)

    def problem(self, target: Target) -> tuple[str, str] | None:
        refused = super().problem(target)
        if refused is not None:
            return refused
        from ...net.gemini_env import serves_gemini
        from .verify import who_serves

        if serves_gemini(target.provider):
            return None
        return (f"Gemini CLI speaks only {Protocol.GEMINI.label}, and {target.provider.id} is not documented to "
                f"serve it", f"select a model on a provider that does ({who_serves(Protocol.GEMINI, None)}; a "
                f"LiteLLM proxy is added with: llmswitch providers add NAME --preset litellm --base-url URL): "
                f"llmswitch use --role {target.role} PROVIDER/MODEL, then llmswitch connect gemini-cli")

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import Found, parsed

        files = self.files(environ)
        _, data = parsed(files["settings"], jsonmembers.loads_jsonc)
        model = _get(data, MEMBERS["main"]) if isinstance(data, dict) else None
        text, _ = parsed(files["env"], lambda t: None)
        if textedit.has_block(text, self.name):
            return  # llmswitch's own connection
        base = dotenv(text).get(URL_VAR)
        if base:  # a Gemini-API gateway of the user's own; the key is GEMINI_API_KEY (import reads the .env for it)
            from .found import FoundKey, guess

            pid, url, kind = guess(base.rstrip("/"), KEY_VAR)
            yield Found(self.name, files["env"], pid, url, kind, (str(model),) if isinstance(model, str) else (),
                        FoundKey("env", files["env"], KEY_VAR))

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        values = {"settings": {MEMBERS["auth"]: AUTH_TYPE, MEMBERS["main"]: main.selection.model}}
        new, kept = self.apply_members(texts, values, memory)
        base = textedit.displace(textedit.strip(texts["env"] or "", self.name), self.name, _owned_line)
        body = f"{URL_VAR}={textedit.toml_string(self.base_url(main))}\n"
        new["env"] = textedit.add_block(base, self.name, body)
        return Plan(new, kept)

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        out = self.restore_members(texts, memory)
        out["env"] = None if texts["env"] is None else textedit.strip(texts["env"], self.name)
        return out

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What Gemini CLI will use: the auth type and model in settings.json, the base URL in ~/.gemini/.env."""
        data = jsonmembers.settings_object(texts["settings"])
        if data is None:
            return {}
        model = _get(data, MEMBERS["main"])
        base = dotenv(texts.get("env") or "").get(URL_VAR)
        if _get(data, MEMBERS["auth"]) != AUTH_TYPE or not isinstance(model, str) or not base:
            return {}
        return {"main": Pointing(base.rstrip("/"), model, KEY_VAR)}


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


TOOL = GeminiCli()

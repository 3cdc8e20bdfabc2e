"""mini-swe-agent (PyPI ``mini-swe-agent``, command ``mini``): its global ``.env``.

mini loads ``$MSWEA_GLOBAL_CONFIG_DIR/.env`` (else platformdirs' config folder for
``mini-swe-agent``: ``$XDG_CONFIG_HOME/mini-swe-agent`` or ``~/.config/mini-swe-agent`` on
Linux, ``~/Library/Application Support/mini-swe-agent`` on macOS) with python-dotenv at
start-up, without overriding the environment: a variable already set wins over the file.
``MSWEA_MODEL_NAME`` is the model, sent through litellm; ``openai/MODEL`` makes litellm POST
chat completions to ``$OPENAI_BASE_URL`` (before ``$OPENAI_API_BASE``) with ``$OPENAI_API_KEY``.

What llmswitch writes, in a marked block at the end: ``MSWEA_MODEL_NAME='openai/MODEL'``,
``OPENAI_BASE_URL``, and ``MSWEA_COST_TRACKING='ignore_errors'`` — mini stops with an error
when litellm has no price for the model (any model not in litellm's table), and this is
its documented switch to carry on without one. ``MSWEA_CONFIGURED='true'`` is added when
the file lacks it, else mini's first run stops at an interactive set-up prompt. Values are
single-quoted: literal, no ``${VAR}`` expansion. The user's own lines for those keys (and
``OPENAI_API_BASE``, ``OPENAI_API_KEY``) are displaced while connected.

The key: ``mini-extra config setup`` saves keys into this file in plaintext; llmswitch writes
none. mini runs as ``llmswitch exec -- mini``, which sets ``OPENAI_API_KEY`` (and
``OPENAI_BASE_URL``, the same URL) for it — a placeholder for keyless servers — so a user's
own key never reaches the selected provider. Roles: one model, ``main``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from . import _keyvalue, textedit
from .base import KeyPlan, KeyRef, Plan, Pointing, Protocol, Target, Tool, home

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from .found import Found

PREFIX = "openai/"
FOLDER = "mini-swe-agent"
OWNED = ("MSWEA_MODEL_NAME", "MSWEA_COST_TRACKING", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY")
"""Keys of the user's that llmswitch's block replaces while connected (the key lines are displaced, not written)."""
SHADOWS = ("MSWEA_MODEL_NAME", "MSWEA_COST_TRACKING")
"""Variables that beat the file and that ``llmswitch exec`` does not set (it sets OPENAI_BASE_URL and the key)."""


def root(environ: Mapping[str, str] | None = None) -> Path:
    """``$MSWEA_GLOBAL_CONFIG_DIR``, else platformdirs' user config folder for mini-swe-agent."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    if environ.get("MSWEA_GLOBAL_CONFIG_DIR"):
        return Path(environ["MSWEA_GLOBAL_CONFIG_DIR"])
    if sys.platform == "darwin":
        return home(environ) / "Library" / "Application Support" / FOLDER
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(xdg) if xdg else home(environ) / ".config") / FOLDER


class MiniSweAgent(Tool):
    name = "mini-swe-agent"
    title = "mini-swe-agent"
    package = "pypi:mini-swe-agent"
    command = "mini"
    verified = "2.4.6"
    protocol = Protocol.CHAT
    roles = {"main": "MSWEA_MODEL_NAME (the agent's model)"}
    blocks = {"config": ("mini-swe-agent",)}

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        return {"config": root(environ) / ".env"}

    def key_plan(self, target: Target) -> KeyPlan:
        return KeyPlan(KeyRef.LAUNCHER, "OPENAI_API_KEY")

    def model_name(self, target: Target) -> str:
        return PREFIX + target.selection.model

    def problem(self, target: Target) -> tuple[str, str] | None:
        return super().problem(target) or _keyvalue.shadowed(self.title, self.name, SHADOWS)

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        from .found import KEY_VAR, Found, guess, plain, read

        path = self.files(environ)["config"]
        text = read(path)
        if not text:
            return
        values = _keyvalue.dotenv_values(textedit.strip(text, self.name))
        model = values.get("MSWEA_MODEL_NAME", "")
        vendor, _, name = model.partition("/") if "/" in model else ("openai", "", model)
        base = values.get("OPENAI_BASE_URL") or values.get("OPENAI_API_BASE") or None
        seen = False
        for var, secret in values.items():
            match = KEY_VAR.match(var)
            if not match:
                continue
            own = match.group(1).lower()
            pid, url, kind = guess(base if var == "OPENAI_API_KEY" else None, var)
            seen = seen or own == vendor
            yield Found(self.name, path, pid, url, kind, (name,) if own == vendor and name else (),
                        plain(text, path, secret))
        if name and not seen:
            pid, url, kind = guess(base if vendor == "openai" else None, f"{vendor.upper()}_API_KEY")
            yield Found(self.name, path, pid, url, kind, (name,))

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        main = targets["main"]
        base = textedit.strip(texts["config"] or "", self.name)
        base = textedit.displace(base, self.name, lambda line: _keyvalue.dotenv_key(line) in OWNED)
        lines = [f"MSWEA_MODEL_NAME={_keyvalue.dotenv_single(self.model_name(main))}",
                 f"OPENAI_BASE_URL={_keyvalue.dotenv_single(main.url)}",
                 f"MSWEA_COST_TRACKING={_keyvalue.dotenv_single('ignore_errors')}"]
        if "MSWEA_CONFIGURED" not in _keyvalue.dotenv_values(base):
            lines.append(f"MSWEA_CONFIGURED={_keyvalue.dotenv_single('true')}")
        return Plan({"config": textedit.add_block(base, self.name, "\n".join(lines) + "\n")})

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        text = texts["config"]
        return {"config": None if text is None else textedit.strip(text, self.name)}

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """What mini reads, by python-dotenv's rules (an unparsable line is skipped, as it does: never unreadable)."""
        values = _keyvalue.dotenv_values(texts["config"] or "")
        if not values.get("MSWEA_MODEL_NAME"):
            return {}
        url = values.get("OPENAI_BASE_URL") or values.get("OPENAI_API_BASE") or ""
        return {"main": Pointing(url.rstrip("/"), values["MSWEA_MODEL_NAME"], "OPENAI_API_KEY")}


TOOL = MiniSweAgent()

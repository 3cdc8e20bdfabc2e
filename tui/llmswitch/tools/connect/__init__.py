"""``llmswitch connect TOOL``: other tools follow the choice, written in their own files and verified.

The contract — a tool is one small module here (``aider.py``, ``codex.py`` …) defining a
:class:`~.base.Tool` subclass and ``TOOL = ThatClass()`` whose ``name`` is the module's name
(``_`` → ``-``); :data:`TOOLS` finds it, nothing else is edited to add a tool.
It answers five questions, all pure functions of texts (no I/O):

1. **Where it writes** — :meth:`Tool.files`: label → path of the tool's documented
   user-level file(s), honouring the tool's own override (``CODEX_HOME``, ``LLM_USER_PATH``,
   ``$HOME`` for ``~/.aider.conf.yml``). Tests point those at a temp dir.
2. **How it references the key** — :meth:`Tool.key_plan` → :class:`~.base.KeyPlan`:
   ``ENV`` (the file names an env var: the provider's own ``key_env`` when that is its key
   source), ``HELPER`` (a credential-helper command, ``llmswitch key get P``), ``LAUNCHER``
   (start the tool as ``llmswitch exec -- TOOL``, which sets the variable the file names),
   ``NONE``. A key is never written into another tool's file.
3. **How roles map** — :attr:`Tool.roles` (tool role → meaning: ``main``, ``weak``,
   ``editor``, ``small_fast`` …) and :attr:`Tool.default_roles` (tool role → llmswitch role);
   ``--role weak=cheap`` maps more.
4. **Which protocol it needs** — :attr:`Tool.protocol` (:class:`~.base.Protocol`: chat
   completions, the Responses API, Anthropic Messages). :meth:`Tool.problem` may refuse a
   target outright; then the engine checks what the provider serves (the probe's protocol fingerprint, else
   ``Preset.serves``: :func:`llmswitch.store.served.serves`) and POSTs the exact
   route and model (:func:`.verify.probe`, with :meth:`Tool.probe_model`) *before* writing: a route the server does not
   serve is refused in one sentence naming what is missing and which provider would work.
5. **How it is verified** — :meth:`Tool.read_back` parses the files with the tool's own
   format rules (``tomllib`` for TOML, PyYAML's ``safe_load`` for YAML, ``json``) into
   tool role → :class:`~.base.Pointing` (base URL, model as :meth:`Tool.model_name` spells it,
   key reference); the engine
   compares that with the selection before and after writing, and ``--check``/``doctor``
   repeat it with the live probe.

Editing rules (shared helpers in :mod:`.textedit`): only llmswitch's own parts change — a
marked block (``# >>> llmswitch TOOL … >>>`` … ``# <<< llmswitch TOOL <<<``), user lines
our block replaces commented out in place with ``# llmswitch-displaced: [TOOL]`` (put back
by ``disconnect``), or, in JSON, single members set/removed in place with the previous
value kept in the registry's ``memory``. A module declares its parts (:attr:`Tool.blocks`, or
:class:`._jsonmembers.OwnedMembers`) so that the engine can refuse to edit through damage
(:meth:`Tool.damage`) and take our parts out of a damaged file keeping the user's lines
(:meth:`Tool.salvage`). Writes are atomic (:func:`llmswitch.base.files.atomic_write` with
``preserve``: mode and owner kept) under the registry's lock in llmswitch's state dir; only the
recorded paths are ever written; each connection cycle keeps a backup (:mod:`.registry`);
connecting again is idempotent; ``disconnect`` restores the backup exactly when the file is
byte-identical to what we last wrote, else removes our parts and keeps the user's edits.

Following the choice: :func:`llmswitch.services.switch.switch` (``use``, the picker, ``/model --save``,
the wizard) calls :func:`.engine.follow`, which re-renders every connected tool from the new
selection in the same step; a failure there is a warning, never a lost selection.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Tool

INFRASTRUCTURE = frozenset({"base", "engine", "found", "registry", "roster", "textedit", "verify"})
"""Modules of this package that are not tools; every other module is one (its name, ``_`` → ``-``, is the CLI name)."""


def _discover() -> dict[str, str]:
    import pkgutil

    return {info.name.replace("_", "-"): info.name for info in pkgutil.iter_modules(__path__)
            if info.name not in INFRASTRUCTURE and not info.name.startswith("_")}


TOOLS: dict[str, str] = _discover()
"""CLI name → module in this package (each defines ``TOOL``); a new tool is a new module, nothing else to edit."""


def names() -> list[str]:
    return list(TOOLS)


def commands() -> dict[str, str]:
    """What a person types to run each tool (its module's ``command``: ``claude``, ``cn``, ``gemini``) → its name."""
    return {_load(module).command: name for name, module in TOOLS.items()}


def tool(name: str) -> Tool:
    """The tool module's ``TOOL``, by its name or by the command that runs it; anything else is a usage error."""
    module = TOOLS.get(name) or TOOLS.get(commands().get(name, ""))
    if module is None:
        from ...base.errors import Exit, LlmswitchError

        typed = ", ".join(f"{command} ({name})" for command, name in commands().items() if command != name)
        raise LlmswitchError(f"llmswitch cannot connect {name!r}", f"pick one of: {', '.join(TOOLS)}, or the "
                             f"command you run: {typed} (llmswitch connect --list shows them all)",
                             exit_code=Exit.USAGE)
    return _load(module)


def _load(module: str) -> Tool:
    found: Tool = importlib.import_module(f"{__name__}.{module}").TOOL
    return found

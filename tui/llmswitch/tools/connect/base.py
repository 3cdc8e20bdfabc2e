"""The contract every tool module fulfils (see the package docstring), and the types it speaks in."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from ...store.config import Config, ProviderConfig
    from ...store.selection import ActiveSelection
    from .found import Found


class Protocol(Enum):
    """The wire API a tool speaks; ``path`` is what it appends to the base URL (:meth:`route` the whole URL)."""

    CHAT = ("chat completions", "/chat/completions")
    RESPONSES = ("the Responses API", "/responses")
    MESSAGES = ("Anthropic Messages", "/messages")
    GEMINI = ("Google's Gemini API", "/v1beta/models/{model}:generateContent")
    """Under the API root, not the base URL (:func:`llmswitch.net.gemini_env.api_root`), the model in the path."""

    def __init__(self, label: str, path: str) -> None:
        self.label = label
        self.path = path

    def route(self, base_url: str, model: str) -> str:
        """The URL a tool of this protocol POSTs for ``model`` at a provider whose base URL is ``base_url``."""
        if self is Protocol.GEMINI:
            from urllib.parse import quote

            from ...net.gemini_env import api_root

            return api_root(base_url) + self.path.format(model=quote(model, safe=""))
        return base_url.rstrip("/") + self.path


class KeyRef(Enum):
    """How a tool's file refers to the key (the key itself never lands there)."""

    ENV = "an environment-variable reference"
    HELPER = "a credential-helper command (llmswitch key get PROVIDER)"
    LAUNCHER = "llmswitch exec as the launcher (it sets the key in the tool's environment)"
    NONE = "no key (the provider needs none)"


@dataclass(frozen=True)
class KeyPlan:
    """What a tool's file will say about the key."""

    kind: KeyRef
    name: str | None = None
    """The env var (ENV, LAUNCHER: the variable the launcher sets) or the command (HELPER)."""
    via: str | None = None
    """LAUNCHER through the relay: ``llmswitch exec --via relay`` sets the variable to the relay token."""

    def describe(self) -> str:
        if self.kind is KeyRef.ENV:
            return f"${self.name} (env-var reference)"
        if self.kind is KeyRef.HELPER:
            return f"`{self.name}` (credential helper)"
        if self.kind is KeyRef.LAUNCHER:
            return f"${self.name}, set by `{self._launcher()}` (launcher)"
        return "none needed"

    def launch(self, command: str) -> str:
        """How to start the tool so that its key reference resolves."""
        return f"{self._launcher()} -- {command}" if self.kind is KeyRef.LAUNCHER else command

    def _launcher(self) -> str:
        return f"llmswitch exec --via {self.via}" if self.via else "llmswitch exec"


@dataclass(frozen=True)
class Target:
    """One tool role pointed at one llmswitch role's selection."""

    tool_role: str
    role: str
    selection: ActiveSelection
    provider: ProviderConfig

    @property
    def url(self) -> str:
        return self.selection.base_url.rstrip("/")


@dataclass(frozen=True)
class Pointing:
    """What a tool's file says one of its roles uses, read back with the tool's own rules."""

    base_url: str
    model: str
    key: str = ""
    """The key reference the file holds (an env var name, a command), never a key."""


@dataclass
class Plan:
    """A write: the new text per file label (None removes a file llmswitch created)."""

    texts: dict[str, str | None]
    memory: dict[str, Any] = field(default_factory=dict)
    """Tool-specific facts to keep in the registry (e.g. a JSON member's previous value)."""


class UnreadableFile(ValueError):
    """A tool's file that its own format parser cannot read: which file (label), what is wrong, the line."""

    def __init__(self, label: str, cause: str, line: int | None = None) -> None:
        super().__init__(f"{cause} (line {line})" if line else cause)
        self.label = label
        self.cause = cause
        self.line = line


def parser_line(message: str, text: str) -> int | None:
    """The line a parser's message names (``line 3``), or the last line for "end of document"."""
    import re

    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    return max(1, text.count("\n")) if "end of document" in message or "stream end" in message else None


class Harm(Enum):
    """How a file of a connected tool differs from what llmswitch last wrote, so that editing it could lose something."""

    UNREADABLE = "the tool's own parser cannot read the file"
    MARKERS = "a marker of llmswitch's block is missing, doubled, out of order or changed"
    CHANGED = "the user changed (or removed) a part llmswitch owns"


@dataclass(frozen=True)
class Damage:
    """One reason not to edit a tool's file: where (file label, line) and what, in words a person can act on."""

    label: str
    line: int | None
    cause: str
    harm: Harm


class Tool:
    """One tool: where it writes, how it refers to the key, how roles map, its protocol, how it reads back.

    A module defines one subclass and ``TOOL = ThatClass()``. Every method is pure:
    texts in, texts out; the engine (:mod:`.engine`) reads and writes the files
    atomically, keeps the backup and the registry, probes, and reports.
    """

    name: ClassVar[str]
    """The CLI name: ``llmswitch connect NAME``."""
    title: ClassVar[str]
    package: ClassVar[str]
    """Where the tool comes from, e.g. ``pypi:aider-chat`` or ``npm:@openai/codex``."""
    protocol: ClassVar[Protocol]
    roles: ClassVar[dict[str, str]] = {"main": "the model the tool uses"}
    """Tool role → what it is in the tool's own words; ``main`` always exists."""
    default_roles: ClassVar[dict[str, str]] = {"main": "default"}
    """Tool role → llmswitch role when ``--role`` is not given."""
    kinds: ClassVar[tuple[str, ...]] = ("openai",)
    """Provider API kinds (``ProviderConfig.kind``) the tool's file can point at."""
    headers: ClassVar[str] = "none"
    """Which of a provider's extra headers the file can carry: ``none``, ``literal`` (the non-secret ones),
    ``env`` (those too, and secret ones read from an env var without a prefix)."""
    command: ClassVar[str]
    """The tool's executable (``aider``, ``codex``, ``claude``): what a person types, which ``connect`` accepts as well
    as :attr:`name` and finds on PATH (:meth:`installed`); with a LAUNCHER key it runs as ``llmswitch exec -- COMMAND``."""
    verified: ClassVar[str | None] = None
    """The tool's version our integration tier installs and runs against a real server (``connect --list`` shows it;
    the integration test installs exactly this one); None: written from its documentation, not run here."""

    blocks: ClassVar[dict[str, tuple[str, ...]]] = {}
    """File label → the marked blocks (:mod:`.textedit` names) llmswitch writes in it; JSON tools own members instead."""

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        """Label → path of each file the tool reads (its own env var overrides, e.g. CODEX_HOME)."""
        raise NotImplementedError

    def installed(self, environ: Mapping[str, str] | None = None) -> Path | None:
        """Where :attr:`command` is on ``PATH`` (``environ``'s, else this process's), or None: the tool is not installed here."""
        import shutil

        environ = os.environ if environ is None else environ
        found = shutil.which(self.command, path=environ.get("PATH", os.defpath))
        return Path(found) if found else None

    def discover(self, environ: Mapping[str, str]) -> Iterator[Found]:
        """What ``llmswitch import`` finds in the tool's own files (read, never written): one :class:`.found.Found`
        per endpoint it is set up with, entries llmswitch wrote skipped; an unreadable file yields nothing."""
        raise NotImplementedError

    def env_files(self, environ: Mapping[str, str]) -> tuple[Path, ...]:
        """``.env`` files the tool reads keys from, which ``llmswitch import`` reads too (none by default)."""
        return ()

    def key_plan(self, target: Target) -> KeyPlan:
        """How the file will refer to the key for ``target`` (the main role's provider decides)."""
        raise NotImplementedError

    def problem(self, target: Target) -> tuple[str, str] | None:
        """(cause, fix) when this tool cannot use ``target`` at all (checked before any probe or write).

        The default refuses an API kind outside :attr:`kinds` and headers the file cannot carry;
        a module adds its own rules by extending it.
        """
        kind = target.selection.api_kind
        if kind not in self.kinds:
            from .verify import who_serves

            return (f"{self.title}'s config file reaches {' or '.join(self.kinds)} endpoints and "
                    f"{target.provider.id} is of kind {kind}",
                    f"select a provider that serves {self.protocol.label} (e.g. {who_serves(self.protocol, _config())}): "
                    f"llmswitch use --role {target.role} PROVIDER/MODEL, then llmswitch connect {self.name}")
        return header_problem(self, target)

    def model_name(self, target: Target) -> str:
        """The model as the tool's file names it (aider: ``openai/MODEL``); read_back returns this form."""
        return target.selection.model

    def base_url(self, target: Target) -> str:
        """The endpoint as the tool's file names it (Gemini CLI: the API root); read_back returns this form."""
        return target.url

    def probe_model(self, target: Target) -> str:
        """The model the tool puts in its request body (what the probe sends)."""
        return target.selection.model

    def render(self, texts: Mapping[str, str | None], targets: Mapping[str, Target], key: KeyPlan,
               memory: Mapping[str, Any]) -> Plan:
        """The new text of each file: ``texts`` (current content, None = absent) with our parts (re)written."""
        raise NotImplementedError

    def remove(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        """``texts`` with our parts removed (None: the file should not exist)."""
        raise NotImplementedError

    def read_back(self, texts: Mapping[str, str | None]) -> dict[str, Pointing]:
        """Tool role → what the files say, parsed with the tool's own format rules; raises ValueError when unreadable."""
        raise NotImplementedError

    # --- llmswitch's own parts, so that nothing edits through damage (see the engine) -------------

    def owned(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, Any]:
        """``LABEL:PART`` → what llmswitch's part holds in ``texts`` now (a block's body; None when absent).

        The engine records this after every write; a part that holds something else later
        was changed by the user. JSON tools override it with their members' values.
        """
        from . import textedit

        found: dict[str, Any] = {}
        for label, parts in self.blocks.items():
            text = texts.get(label)
            for part in parts:
                found[f"{label}:{part}"] = None if text is None else textedit.block_body(text, part)
        return found

    def damage(self, texts: Mapping[str, str | None], was: Mapping[str, Any],
               memory: Mapping[str, Any]) -> list[Damage]:
        """Why editing ``texts`` now could lose something: unreadable, broken markers, our parts changed since ``was``."""
        from . import textedit

        try:
            self.read_back(texts)
        except UnreadableFile as exc:
            return [Damage(exc.label, exc.line, f"{self.title} cannot read it: {exc.cause}", Harm.UNREADABLE)]
        found = [Damage(label, line, cause, Harm.MARKERS) for label, parts in self.blocks.items()
                 if texts.get(label) is not None for part in parts
                 for line, cause in textedit.marker_problems(texts[label] or "", part)]
        if found:
            return found
        now = self.owned(texts, memory)
        for key, value in was.items():
            if key in now and now[key] != value:
                label, _, part = key.partition(":")
                text = texts.get(label)
                if part in self.blocks.get(label, ()) and now[key] is None and value and text is not None:
                    left = textedit.line_of_any(text, value)
                    if left is not None:  # both markers gone, our lines still there: they cannot be told apart
                        found.append(Damage(label, left, f"llmswitch's {self.part_name(part)} lost its markers "
                                                         f"(its lines are still there)", Harm.MARKERS))
                        continue
                    found.append(Damage(label, None, f"llmswitch's {self.part_name(part)} was removed since "
                                                     f"llmswitch wrote it", Harm.CHANGED))
                    continue
                found.append(Damage(label, self.part_line(text, part),
                                    f"llmswitch's {self.part_name(part)} was changed since llmswitch wrote it",
                                    Harm.CHANGED))
        return sorted(found, key=lambda d: d.harm is not Harm.MARKERS)

    def part_name(self, part: str) -> str:
        return f"block ({part})" if "/" in part or part == self.name else f"member {part.replace('/', '.')}"

    def part_line(self, text: str | None, part: str) -> int | None:
        """Where a part is (its begin marker), for the sentence that names it."""
        from . import textedit

        if text is None:
            return None
        marker = textedit.begin_marker(part)
        return next((n for n, line in enumerate(text.splitlines(), 1) if line == marker), None)

    def salvage(self, texts: Mapping[str, str | None], was: Mapping[str, Any],
                memory: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, Any]]:
        """``texts`` without our blocks (damaged ones too) but with every line the user added in them, and
        ``memory`` without what the user took over; :meth:`remove` or :meth:`render` continues from there."""
        from . import textedit

        out = dict(texts)
        for label, parts in self.blocks.items():
            for part in parts:
                text = out.get(label)
                if text is not None:
                    out[label] = textedit.salvage(text, part, was.get(f"{label}:{part}"))
        return out, dict(memory)


def _config() -> Config | None:
    """The configuration for naming providers in a fix (None when it cannot be read: then presets are named)."""
    from ...base.errors import LlmswitchError
    from ...store.config import load

    try:
        return load()
    except LlmswitchError:
        return None


def home(environ: Mapping[str, str] | None = None) -> Path:
    """``$HOME`` as the tools see it (they use ``Path.home()`` / ``os.homedir()``)."""
    environ = os.environ if environ is None else environ
    value = environ.get("HOME")
    return Path(value) if value else Path.home()


def key_env_for(target: Target, launcher_var: str) -> KeyPlan:
    """The usual choice: the provider's own env var when that is its key source, none for ``key_source = "none"``,
    else ``llmswitch exec`` as the launcher, which sets ``launcher_var`` (keyring and command keys stay out of files).
    """
    provider = target.provider
    if provider.key_source == "none":
        return KeyPlan(KeyRef.NONE)
    if provider.key_source == "env" and provider.key_env:
        return KeyPlan(KeyRef.ENV, provider.key_env[0])
    return KeyPlan(KeyRef.LAUNCHER, launcher_var)


def header_problem(tool: Tool, target: Target) -> tuple[str, str] | None:
    """Headers the provider needs that the tool's file cannot carry (a probe with them would prove nothing)."""
    provider = target.provider
    fix = f"use {tool.title} with a provider that needs no extra headers, or run it through a gateway that adds them"
    if provider.headers and tool.headers == "none":
        return f"{provider.id} needs the headers {', '.join(sorted(provider.headers))}, which {tool.title}'s " \
               f"config file cannot send", fix
    for source in provider.header_sources:
        if tool.headers != "env" or not source.env or source.prefix:
            return f"{provider.id} needs the secret header {source.name} ({source.source_text()}), which " \
                   f"{tool.title} could only get by writing the secret into its file", fix
    return None

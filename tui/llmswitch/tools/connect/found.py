"""What a tool module's :meth:`~.base.Tool.discover` speaks: :class:`Found`, :class:`FoundKey`, and the reading helpers.

``llmswitch import`` (:mod:`llmswitch.tools.importing`) loops over the tools; each tool module reads its own
files (the paths it knows for ``connect``) through :func:`read` (the bounded reader) and turns each endpoint
into a :class:`Found`, guessing the provider with :func:`guess`. A key is never shown (:attr:`FoundKey.secret`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

OURS = ("llmswitch", "llmswitch autocomplete", "llmswitch embed")
"""Names of entries ``connect`` wrote (a tool's discover skips them)."""
KEY_VAR = re.compile(r"^([A-Z][A-Z0-9_]*)_API_KEY$")


@dataclass(frozen=True)
class FoundKey:
    """How the key is held where it was found; ``secret`` only for a plaintext key (never shown)."""

    kind: str
    """``plaintext``, ``env`` (a reference to VAR) or ``command`` (a helper that prints it)."""
    file: Path
    name: str = ""
    """The env var (``env``) or the command (``command``)."""
    line: int | None = None
    secret: str | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        if self.kind == "plaintext":
            return f"a plaintext key in {self.file}" + (f" (line {self.line})" if self.line else "")
        return f"${self.name}" if self.kind == "env" else f"the command `{self.name}`"


@dataclass(frozen=True)
class Found:
    """One endpoint another tool (or an env file) is set up with."""

    source: str
    file: Path
    provider: str
    """Suggested llmswitch provider id: a preset id when the URL or key variable is a preset's."""
    base_url: str | None
    """None: the preset's own URL."""
    kind: str = "openai"
    models: tuple[str, ...] = ()
    key: FoundKey | None = None
    project: bool = False
    """Found in the current directory (``./.env``), not in your own files: whoever wrote the project chose it."""

    @property
    def needs_confirmation(self) -> bool:
        """A project file's own URL: added only once you confirm it, and it reads no key until you name one."""
        return self.project and self.base_url is not None

    def as_dict(self) -> dict[str, Any]:
        key = None if self.key is None else {"kind": self.key.kind, "name": self.key.name or None,
                                             "file": str(self.key.file), "line": self.key.line}
        return {"source": self.source, "file": str(self.file), "provider": self.provider, "base_url": self.base_url,
                "kind": self.kind, "models": list(self.models), "key": key, "project": self.project,
                "needs_confirmation": self.needs_confirmation}


_REFUSED: set[str] = set()


def read(path: Path) -> str | None:
    """The file's text through :func:`llmswitch.base.bounded.read_file` (a regular file of at most 1 MiB), or None.

    A FIFO, a device or a file over the cap is skipped with one line on stderr (once per path);
    an absent file or one that is not UTF-8 is skipped quietly, as any file of theirs we cannot use.
    """
    import sys

    from ...base import bounded
    from ...base.chars import terminal_safe

    raw = bounded.read_file(path, bounded.IMPORT_FILE)
    if isinstance(raw, bounded.Refusal):
        if raw.problem != bounded.Problem.MISSING and str(path) not in _REFUSED:
            _REFUSED.add(str(path))
            sys.stderr.write(f"llmswitch: import skips {terminal_safe(raw.sentence(str(path)))}\n")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_json(text: str) -> Any:
    """``text`` through the one bounded decoder (:func:`llmswitch.base.bounded.decode_json`); ValueError when refused."""
    from ...base import bounded

    decoded = bounded.decode_json(text, bounded.IMPORT_FILE)
    if decoded.refusal is not None:
        raise ValueError(decoded.refusal.cause)
    return decoded.value


def parsed(path: Path, parse: Callable[[str], Any]) -> tuple[str, Any]:
    """The file's text and what ``parse`` makes of it (None when absent or unreadable by its format).

    A parser that recurses (YAML, JSONC, TOML) on a file nested too deep for it is unreadable too.
    """
    text = read(path) or ""
    try:
        return text, parse(text) if text.strip() else None
    except (ValueError, RecursionError):
        return text, None


def line_of(text: str, needle: str) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), 1) if needle and needle in line), None)


def plain(text: str, file: Path, secret: object) -> FoundKey | None:
    """A plaintext key found in ``file`` (with its line), or None when ``secret`` is no key."""
    if not isinstance(secret, str) or not secret.strip():
        return None
    return FoundKey("plaintext", file, line=line_of(text, secret), secret=secret.strip())


def guess(base_url: str | None, key_var: str | None = None) -> tuple[str, str | None, str]:
    """(provider id, base URL or None for a preset's own, kind) for a URL and/or key variable."""
    from ...store import catalog

    presets = catalog.presets()
    if base_url:
        url = base_url.rstrip("/")
        for pid, preset in presets.items():
            if preset.base_url and preset.base_url.rstrip("/") == url:
                return pid, None, preset.kind
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
        parts = [p for p in host.split(".") if p not in ("api", "www", "com", "ai", "io", "dev", "net", "org")]
        slug = re.sub(r"[^a-z0-9-]+", "-", (parts[0] if parts else host).lower())[:40].strip("-") or "imported"
        slug = "local" if slug in ("127", "localhost") else slug
        # a custom URL never takes a preset's id (or alias): that would point the preset, and its key, elsewhere
        return (slug if catalog.preset(slug) is None else f"{slug}-imported"), url, \
            "anthropic" if "anthropic" in url else "openai"
    match = KEY_VAR.match(key_var or "")
    name = match.group(1).lower() if match else "openai"
    pid = name if name in presets else "openai"
    return pid, None, presets[pid].kind if pid in presets else "openai"

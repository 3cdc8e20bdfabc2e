"""``llmswitch doctor``: everything that can make a tool use the wrong model, URL or key.

Four areas, each finding one sentence of cause and fix: files and permissions,
the providers/selection files, the keyring, and the environment of the current
shell (variables that override or contradict the active selection for common
tools). Probing is done by the caller (CLI) with :mod:`llmswitch.probe`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from . import paths

OK, WARN, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    level: str
    area: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"level": self.level, "area": self.area, "message": self.message, "fix": self.fix}


def file_findings() -> list[Finding]:
    found: list[Finding] = []
    directory = paths.config_dir()
    if not directory.exists():
        return [Finding(OK, "files", f"{directory} does not exist yet (nothing configured)",
                        "run: llmswitch setup, or llmswitch use PROVIDER/MODEL")]
    if sys.platform != "win32":
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            found.append(Finding(WARN, "files", f"{directory} is readable by others (mode {mode:o})", f"run: chmod 700 {directory}"))
    for path in (paths.config_file(), paths.active_file()):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            found.append(Finding(WARN, "files", f"{path} is a symlink to {os.readlink(path)}; llmswitch reads it but will not write through it",
                                 "replace the link with a regular file if llmswitch should update it"))
            continue
        mode = stat.S_IMODE(st.st_mode)
        if sys.platform != "win32" and mode & 0o022:
            found.append(Finding(ERROR, "files", f"{path} is writable by others (mode {mode:o})", f"run: chmod 600 {path}"))
        elif sys.platform != "win32" and mode & 0o044:
            found.append(Finding(WARN, "files", f"{path} is readable by others (mode {mode:o})", f"run: chmod 600 {path}"))
    if not found:
        found.append(Finding(OK, "files", f"{directory}: permissions ok"))
    return found


def config_findings():
    """(findings, config or None, selections) for the providers and selection files."""
    from .config import ConfigError, load
    from .selection import SelectionError, read_all

    found: list[Finding] = []
    config = None
    try:
        config = load()
        found += [Finding(WARN, "config", str(p)) for p in config.warnings]
        if config.exists and not config.warnings:
            found.append(Finding(OK, "config", f"{config.path}: valid ({len(config.providers)} provider{'s' if len(config.providers) != 1 else ''})"))
    except ConfigError as exc:
        found += [Finding(ERROR, "config", str(p)) for p in exc.problems]
    try:
        roles = read_all()
    except SelectionError as exc:
        found.append(Finding(ERROR, "selection", str(exc)))
        roles = {}
    if roles:
        found.append(Finding(OK, "selection", "; ".join(f"{r}: {s.ref}" for r, s in roles.items())))
    elif config is not None:
        found.append(Finding(WARN, "selection", "no model selected", "run: llmswitch use PROVIDER/MODEL"))
    if config is not None:
        for sel in roles.values():
            configured = config.providers.get(sel.provider)
            if configured and configured.base_url and configured.base_url != sel.base_url:
                found.append(Finding(WARN, "selection",
                                     f"role {sel.role} uses {sel.base_url} but config.toml now says {configured.base_url} for {sel.provider}",
                                     f"run: llmswitch use --role {sel.role} {sel.ref}"))
    return found, config, roles


def keyring_findings() -> list[Finding]:
    from .keys import KeyringUnavailable, backend

    try:
        chosen = backend()
    except KeyringUnavailable as exc:
        message, _, fix = str(exc).partition(" — ")
        return [Finding(WARN, "keyring", message, fix or None)]
    cls = type(chosen)
    return [Finding(OK, "keyring", f"keyring backend: {cls.__module__}.{cls.__name__}")]


def environment_findings(roles: Mapping, environ: Mapping[str, str] | None = None) -> list[Finding]:
    """Variables in this shell that override or contradict the active selection."""
    from .keys import override_var

    env = os.environ if environ is None else environ
    found: list[Finding] = []
    sel = roles.get("default")
    fix_env = 'run: eval "$(llmswitch env)", or unset it'
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
        value = env.get(name)
        if value and sel is not None and value.rstrip("/") != sel.base_url:
            found.append(Finding(WARN, "environment",
                                 f"{name}={value} in this shell: tools that read it will call that URL, not {sel.base_url}",
                                 fix_env))
    model = env.get("OPENAI_MODEL")
    if model and sel is not None and model != sel.model:
        found.append(Finding(WARN, "environment", f"OPENAI_MODEL={model} in this shell, but the active model is {sel.model}", fix_env))
    if env.get("OPENAI_API_KEY") and sel is not None and sel.provider != "openai" and not env.get("OPENAI_BASE_URL"):
        found.append(Finding(WARN, "environment",
                             f"OPENAI_API_KEY is set but OPENAI_BASE_URL is not: tools that read only those send that key to "
                             f"api.openai.com, not to {sel.provider}", fix_env))
    for role in roles.values():
        name = override_var(role.provider)
        if env.get(name):
            found.append(Finding(WARN, "environment", f"{name} is set and overrides the stored key for {role.provider}",
                                 f"unset {name} to use the keyring"))
    if not found:
        found.append(Finding(OK, "environment", "no variables in this shell contradict the active selection"))
    return found

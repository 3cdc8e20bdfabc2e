"""``llmswitch doctor``: everything that can make a tool use the wrong model, URL or key.

Four areas, each finding a cause and a fix as separate fields: files and permissions
(:mod:`llmswitch.base.trust` says what is trusted), the providers/selection files, the keyring,
and the environment of the current shell (variables that override or contradict the active
selection for common tools). Probing is done by the caller (CLI) with :mod:`llmswitch.net.probe`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base import paths, trust
from ..base.errors import LlmswitchError, Problem

if TYPE_CHECKING:
    from ..store.config import Config
    from ..store.selection import ActiveSelection

__all__ = ["ERROR", "OK", "WARN", "Finding", "config_findings", "connection_findings", "environment_findings",
           "file_findings", "gateway_findings", "keyring_findings"]

OK, WARN, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    """One thing doctor found: how bad, in which area, what is wrong, and what to do."""

    level: str
    area: str
    cause: str
    fix: str | None = None

    @classmethod
    def of_problem(cls, level: str, area: str, problem: Problem) -> Finding:
        """A file problem, its place (``path:line: key:``) kept in front of the cause."""
        where = f"{problem.where}: " if problem.where else ""
        key = f"{problem.key}: " if problem.key else ""
        return cls(level, area, f"{where}{key}{problem.cause}", problem.fix)

    @classmethod
    def of_error(cls, level: str, area: str, exc: Exception) -> Finding:
        if isinstance(exc, LlmswitchError):
            subject = f"{exc.subject}: " if exc.subject else ""
            return cls(level, area, subject + exc.cause, exc.fix)
        return cls(level, area, str(exc))

    def sentence(self) -> str:
        return f"{self.cause} — {self.fix}" if self.fix else self.cause

    def __str__(self) -> str:
        return self.sentence()

    def as_dict(self) -> dict[str, str | None]:
        return {"level": self.level, "area": self.area, "cause": self.cause, "fix": self.fix,
                "message": self.sentence()}


def file_findings() -> list[Finding]:
    found: list[Finding] = []
    directory = paths.config_dir()
    if not directory.exists():
        return [Finding(OK, "files", f"{directory} does not exist yet (nothing configured)",
                        "run: llmswitch setup, or llmswitch use PROVIDER/MODEL")]
    refused = trust.check(directory, kind="dir")
    if refused is not None:
        found.append(Finding(ERROR, "files", *refused))
    elif (exposed := trust.exposure(directory, kind="dir")) is not None:
        found.append(Finding(WARN, "files", *exposed))
    for path in (paths.config_file(), paths.active_file()):
        refused = trust.check(path, kind="file")
        if refused is not None:
            found.append(Finding(ERROR, "files", *refused))
        elif (unwritable := trust.check(path, kind="target")) is not None:
            found.append(Finding(WARN, "files", unwritable[0].replace("will not write", "reads it but will not write"),
                                 unwritable[1]))
        elif (exposed := trust.exposure(path, kind="file")) is not None:
            found.append(Finding(WARN, "files", *exposed))
    if not found:
        found.append(Finding(OK, "files", f"{directory}: permissions ok"))
    return found


def config_findings() -> tuple[list[Finding], Config | None, dict[str, ActiveSelection]]:
    """(findings, config or None, selections) for the providers and selection files."""
    from ..store.config import ConfigError, load
    from ..store.selection import SelectionError, read_all

    found: list[Finding] = []
    config = None
    try:
        config = load()
        found += [Finding.of_problem(WARN, "config", p) for p in config.warnings]
        if config.exists and not config.warnings:
            count = len(config.providers)
            found.append(Finding(OK, "config", f"{config.path}: valid ({count} provider{'s' if count != 1 else ''})"))
    except ConfigError as exc:
        found += [Finding.of_problem(ERROR, "config", p) for p in exc.problems]
    try:
        roles = read_all()
    except SelectionError as exc:
        found.append(Finding.of_error(ERROR, "selection", exc))
        roles = {}
    judged = {role: _selection_findings(sel, config) for role, sel in roles.items()}
    usable = {role: sel for role, sel in roles.items() if not any(f.level == ERROR for f in judged[role])}
    if usable:  # a role whose provider is gone (or whose URL is refused) is never listed as ok
        found.append(Finding(OK, "selection", "; ".join(f"{r}: {s.ref}" for r, s in usable.items())))
    elif not roles and config is not None:
        found.append(Finding(WARN, "selection", "no model selected", "run: llmswitch use PROVIDER/MODEL"))
    for findings_of_role in judged.values():
        found += findings_of_role
    from ..store.scopes import findings  # the shell and project scopes in force (issue 13)

    found += [Finding(level, "scopes", cause, fix) for level, cause, fix in findings()]
    if config is not None:
        from ..store import team

        found += [Finding(WARN if trouble else OK, "team", cause, fix) for trouble, cause, fix in team.findings(config)]
    return found, config, roles


def _selection_findings(sel: ActiveSelection, config: Config | None) -> list[Finding]:
    """A role whose provider is gone, whose URL is refused, or that drifted from config.toml."""
    from ..base import urls
    from ..store.config import UnknownProvider

    again = f"run: llmswitch use --role {sel.role} PROVIDER/MODEL"
    bad_url = urls.problem(sel.base_url, sel.provider)
    if bad_url is not None:
        return [Finding(ERROR, "selection", f"role {sel.role}: {bad_url[0]} (in active.toml)", again)]
    if config is None:
        return []
    configured = config.providers.get(sel.provider)
    if configured is None:
        try:
            config.provider(sel.provider)  # a preset: nothing in config.toml to drift from
        except UnknownProvider:
            return [Finding(ERROR, "selection", f"role {sel.role} uses provider {sel.provider}, which is neither "
                                                f"configured nor a preset (removed?)", again)]
        return []
    redo = f"run: llmswitch use --role {sel.role} {sel.ref}"
    found = []
    if configured.base_url and configured.base_url != sel.base_url:
        found.append(Finding(WARN, "selection", f"role {sel.role} uses {sel.base_url} but config.toml now says "
                                                f"{configured.base_url} for {sel.provider}", redo))
    written = (sel.key_source, tuple(sel.key_env) if sel.key_source == "env" else (), sel.key_command)
    wanted = (configured.key_source, configured.key_env if configured.key_source == "env" else (),
              configured.key_command)
    if written != wanted:
        found.append(Finding(WARN, "selection", f"role {sel.role}'s key source in active.toml differs from "
                                                f"config.toml's ({configured.key_source_text()}) for {sel.provider}",
                             redo))
    return found


def gateway_findings(config: Config) -> list[Finding]:
    """What each probed gateway says about its models and the key's budget, and how old that is (fetches stale copies)."""
    from ..net import gateway
    from . import budget

    found: list[Finding] = []
    for provider in config.providers.values():
        if gateway.kind_of(provider) is None or not gateway.probed(provider):
            continue
        problems = gateway.refresh_stale([provider])
        problems += [p for p in (budget.refresh_stale(provider),) if p]
        found += [Finding(WARN, "gateway", problem) for problem in problems]
        info = gateway.cached(provider)
        if info is not None:
            found.append(Finding(OK, "gateway", f"{provider.id}: {len(info.models)} models described by the gateway "
                                                f"({gateway.fmt_age(info.age())})"))
        kept = budget.cached(provider)
        if kept is None:
            continue
        low = kept.share_left is not None and kept.share_left < config.budget_warn_share
        found.append(Finding(WARN if low else OK, "budget", f"{provider.id}: {kept.line()}",
                             kept.fix or ("switches to paid models here will ask first" if low else None)))
    return found


def keyring_findings() -> list[Finding]:
    from ..store.keys import KeyringUnavailable, answering_backend

    try:
        name = answering_backend()  # chosen and answering: a wedged Secret Service is a warning here
    except KeyringUnavailable as exc:
        return [Finding(WARN, "keyring", exc.cause, exc.fix)]
    return [Finding(OK, "keyring", f"keyring backend: {name}")]


_AZURE_ONLY = ("OPENAI_API_TYPE", "OPENAI_API_VERSION")
"""Read by Azure clients and older tools (LangChain); left over, they turn requests into Azure requests."""
_OPENAI_ONLY = ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
"""Sent by the openai SDK as OpenAI-Organization/OpenAI-Project to whatever base URL it is given."""


def environment_findings(roles: Mapping[str, ActiveSelection],
                         environ: Mapping[str, str] | None = None) -> list[Finding]:
    """Variables in this shell that override or contradict the active selection."""
    from ..store.keys import override_var

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
    if sel is not None:
        found += _stale_findings(sel, env)
    for role in roles.values():
        name = override_var(role.provider)
        if env.get(name):
            if role.key_source == "none":  # resolution stops at key_source = "none": the override is never read
                found.append(Finding(WARN, "environment", f"{name} is set but {role.provider} has key_source = "
                                     f"\"none\", so it is not sent", f"unset {name}, or set key_source in config.toml"))
                continue
            own = {"env": " or ".join(role.key_env) or "its env var", "command": "its key command"}.get(
                role.key_source, "the keyring")
            found.append(Finding(WARN, "environment", f"{name} is set and overrides {role.provider}'s own key source "
                                                      f"({role.key_source})", f"unset {name} to use {own}"))
    if not found:
        found.append(Finding(OK, "environment", "no variables in this shell contradict the active selection"))
    return found


def _stale_findings(sel: ActiveSelection, env: Mapping[str, str]) -> list[Finding]:
    """Variables another provider's selection left behind (``LLMSWITCH_HEADERS``, ``OPENAI_API_TYPE``…)."""
    found = []
    headers = env.get("LLMSWITCH_HEADERS")
    if headers is not None:
        try:
            same = json.loads(headers) == dict(sel.headers)
        except ValueError:
            same = False
        if not same:
            found.append(Finding(WARN, "environment", f"LLMSWITCH_HEADERS in this shell are not the headers of "
                                                      f"{sel.provider} (left from another selection?)",
                                 'run: eval "$(llmswitch env)", or unset LLMSWITCH_HEADERS'))
    stale = [*(_AZURE_ONLY if sel.api_kind != "azure" else ()), *(_OPENAI_ONLY if sel.provider != "openai" else ())]
    for name in stale:
        if env.get(name):
            found.append(Finding(WARN, "environment", f"{name} is set in this shell, which tools that read it apply "
                                                      f"to {sel.provider} too (left from another provider?)",
                                 f"unset {name}"))
    return found


def connection_findings(config: Config | None = None, *, check: bool = True) -> list[Finding]:
    """Connected tools (``llmswitch connect``): drift in their files or key references, and the live route check."""
    from ..tools.connect import engine

    found = []
    for report in engine.status(check=check, config=config):
        for drift in [*report.damage, *report.drift]:
            found.append(Finding(WARN, "connections", f"{report.tool}: {drift}",
                                 f"run: llmswitch connect {report.tool} (or llmswitch disconnect {report.tool})"))
        for verdict in report.verdicts:
            if not verdict.ok:
                found.append(Finding(ERROR, "connections", f"{report.tool}: {verdict.cause}", verdict.fix or None))
        if report.matches:
            found.append(Finding(OK, "connections", f"{report.tool} points at the selection"
                                 + (" (verified)" if report.verdicts else "")))
    return found

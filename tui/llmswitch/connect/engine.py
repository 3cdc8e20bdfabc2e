"""connect, follow, disconnect and status: the same steps for every tool module.

``connect``: targets from active.toml (one per tool role) → the tool's own refusal →
the protocol check (documented facts, then a live POST of the exact route and model:
nothing is written for a provider that does not serve it) → one-time backup → the
tool renders its files → atomic writes → read back with the tool's own rules and
compared with the targets → registry entry.

``follow`` (called by :func:`llmswitch.switch.switch`) re-renders every connected tool
from the new selection, without the network; ``status`` reports what each tool points
at and its drift; ``disconnect`` removes our parts and restores the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Exit, LlmswitchError
from .base import KeyPlan, KeyRef, Pointing, Target, Tool
from .verify import Verdict

if TYPE_CHECKING:
    from ..config import Config


@dataclass
class Report:
    """What one tool's connection is (and what happened to it): one object, text and --json renderers."""

    tool: str
    files: dict[str, Path]
    key: KeyPlan | None = None
    roles: dict[str, str] = field(default_factory=dict)
    pointing: dict[str, Pointing] = field(default_factory=dict)
    expected: dict[str, Pointing] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    launch: str = ""

    @property
    def matches(self) -> bool:
        return not self.drift and all(v.ok for v in self.verdicts)

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "files": {k: str(v) for k, v in self.files.items()},
                "key": None if self.key is None else {"kind": self.key.kind.name, "name": self.key.name,
                                                      "text": self.key.describe()},
                "roles": self.roles, "launch": self.launch, "matches": self.matches, "drift": self.drift,
                "notes": self.notes,
                "pointing": {r: {"base_url": p.base_url, "model": p.model, "key": p.key}
                             for r, p in self.pointing.items()},
                "verified": [{"url": v.url, "model": v.model, "ok": v.ok, "status": v.status,
                              "problem": None if v.ok else v.sentence()} for v in self.verdicts]}


def get(name: str) -> Tool:
    from . import tool

    return tool(name)


def parse_roles(tool: Tool, specs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``--role weak=cheap`` (tool role = llmswitch role) or ``--role weak`` (the same name) over the defaults."""
    roles = dict(tool.default_roles)
    for spec in specs:
        tool_role, _, role = spec.partition("=")
        tool_role, role = tool_role.strip(), (role or tool_role).strip()
        if tool_role not in tool.roles:
            known = ", ".join(sorted(tool.roles))
            raise LlmswitchError(f"{tool.name} has no role {tool_role!r} (it has: {known})",
                                 f"use --role ROLE=LLMSWITCH_ROLE with one of: {known}", exit_code=Exit.USAGE)
        roles[tool_role] = role
    return roles


def _config(config: Config | None) -> Config:
    if config is not None:
        return config
    from ..config import load

    return load()


def targets_for(tool: Tool, roles: dict[str, str], config: Config) -> dict[str, Target]:
    from .. import api, selection

    found: dict[str, Target] = {}
    for tool_role, role in roles.items():
        sel = selection.read(role)
        found[tool_role] = Target(tool_role, role, sel, api.provider_for(sel, config))
    return found


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def check_protocol(tool: Tool, targets: dict[str, Target], config: Config) -> list[Verdict]:
    """Refuse (one sentence: what is missing, which provider would work) before anything is written."""
    from . import verify

    verdicts = []
    for target in targets.values():
        problem = tool.problem(target)
        if problem:
            raise LlmswitchError(f"{tool.name}: {problem[0]}", problem[1], exit_code=Exit.CHECK)
        served = verify.known(target.provider)
        if served is not None and tool.protocol not in served:
            raise _missing(tool, target, config, f"{target.provider.id} does not serve {tool.protocol.label}")
        verdict = verify.probe(target, tool.protocol, tool.probe_model(target))
        if verdict.route_missing:
            raise _missing(tool, target, config, verdict.cause)
        if not verdict.ok:
            raise LlmswitchError(f"{tool.name} would fail: {verdict.cause}", verdict.fix or None,
                                 exit_code=Exit.KEY if verdict.status in (401, 403) else Exit.CHECK)
        verdicts.append(verdict)
    return verdicts


def _missing(tool: Tool, target: Target, config: Config, why: str) -> LlmswitchError:
    from .verify import who_serves

    return LlmswitchError(f"{tool.title} needs {tool.protocol.label} and {why}; nothing was written",
                          f"connect it to a provider that serves it (e.g. {who_serves(tool.protocol, config)}): "
                          f"llmswitch use --role {target.role} PROVIDER/MODEL, then llmswitch connect {tool.name}",
                          exit_code=Exit.CHECK)


def expected(tool: Tool, targets: dict[str, Target], key: KeyPlan) -> dict[str, Pointing]:
    return {r: Pointing(t.url, tool.model_name(t), key.name or "") for r, t in targets.items()}


def _apply(tool: Tool, targets: dict[str, Target], entry: dict[str, Any], *, first: bool) -> tuple[
        dict[str, Path], KeyPlan, dict[str, Pointing]]:
    """Render and write the tool's files for ``targets``; returns (files, key plan, what they now say)."""
    from ..files import atomic_write, locked
    from . import registry

    files = tool.files()
    key = tool.key_plan(targets["main"])
    texts = {label: read_text(path) for label, path in files.items()}
    if first:
        for label, text in texts.items():
            registry.keep_backup(tool.name, label, text)
    plan = tool.render(texts, targets, key, entry.get("memory", {}))
    pointing = tool.read_back({label: plan.texts.get(label, texts[label]) for label in files})
    want = expected(tool, targets, key)
    wrong = [r for r in want if pointing.get(r) != want[r]]
    if wrong:  # the tool's own reading of what we would write disagrees: write nothing
        raise LlmswitchError(f"{tool.name}: what llmswitch would write reads back differently for "
                             f"{', '.join(wrong)} ({pointing.get(wrong[0])} instead of {want[wrong[0]]})",
                             "nothing was written; please report this", exit_code=Exit.CHECK)
    recorded = entry.setdefault("files", {})
    for label, path in files.items():
        new = plan.texts.get(label, texts[label])
        was = recorded.get(label, {}).get("existed", texts[label] is not None) if not first else texts[label] is not None
        if new != texts[label]:
            with locked(path):
                if new is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, new.encode())
        recorded[label] = {"path": str(path), "existed": was, "sha256": registry.digest(new)}
    entry["memory"] = plan.memory
    entry["key"] = {"kind": key.kind.name, "name": key.name}
    pointing = tool.read_back({label: read_text(path) for label, path in files.items()})  # what is on disk now
    if any(pointing.get(r) != want[r] for r in want):
        raise LlmswitchError(f"{tool.name}: its files changed while llmswitch wrote them (they now say "
                             f"{pointing.get('main')})", f"run: llmswitch connect {tool.name}", exit_code=Exit.CHECK)
    return files, key, pointing


def connect(name: str, role_specs: list[str] | tuple[str, ...] = (), *, config: Config | None = None) -> Report:
    """Point ``name`` at the active selection (its roles per ``role_specs``), verified; raises LlmswitchError."""
    from ..files import locked
    from . import registry

    tool = get(name)
    config = _config(config)
    known = registry.load()
    previous = known.get(tool.name, {})
    roles = parse_roles(tool, role_specs) if role_specs or not previous else dict(previous.get("roles", {}))
    targets = targets_for(tool, roles, config)
    verdicts = check_protocol(tool, targets, config)
    with locked(registry.registry_path()):
        known = registry.load()
        entry = known.get(tool.name, {})
        first = not entry
        files, key, pointing = _apply(tool, targets, entry, first=first)
        entry.update(roles=roles, connected=entry.get("connected", registry.now()), updated=registry.now())
        known[tool.name] = entry
        registry.save(known)
    report = Report(tool.name, files, key, roles, pointing, expected(tool, targets, key), verdicts, launch=key.launch(tool.command))
    report.notes.append("backed up the original files" if first else "updated the existing connection")
    return report


def follow(config: Config | None = None) -> list[str]:
    """Re-point every connected tool at the current selection; failures come back as warnings."""
    from ..files import locked
    from . import registry

    known = registry.load()
    if not known:
        return []
    warnings: list[str] = []
    try:
        config = _config(config)
    except LlmswitchError as exc:
        return [f"connected tools were not updated: {exc.sentence()}"]
    with locked(registry.registry_path()):
        known = registry.load()
        for name, entry in known.items():
            try:
                tool = get(name)
                targets = targets_for(tool, dict(entry.get("roles", {"main": "default"})), config)
                _apply(tool, targets, entry, first=False)
                entry["updated"] = registry.now()
            except (LlmswitchError, OSError, ValueError) as exc:
                what = exc.sentence() if isinstance(exc, LlmswitchError) else str(exc)
                warnings.append(f"{name} was not updated: {what} — run: llmswitch connect {name}")
        registry.save(known)
    return warnings


def disconnect(name: str) -> Report:
    """Take our parts out of the tool's files; the originals come back (exactly, when untouched since)."""
    from ..files import atomic_write, locked
    from . import registry

    tool = get(name)
    with locked(registry.registry_path()):
        known = registry.load()
        entry = known.pop(tool.name, None)
        if entry is None:
            raise LlmswitchError(f"{tool.name} is not connected", f"see: llmswitch connections",
                                 exit_code=Exit.NOT_FOUND)
        files = {label: Path(info["path"]) for label, info in entry.get("files", {}).items()}
        texts = {label: read_text(path) for label, path in files.items()}
        restored = tool.remove(texts, entry.get("memory", {}))
        report = Report(tool.name, files)
        for label, path in files.items():
            info = entry["files"][label]
            backup = registry.read_backup(tool.name, label)
            new = restored.get(label, texts[label])
            if texts[label] is not None and registry.digest(texts[label]) == info.get("sha256"):
                new = backup if info.get("existed") else None  # untouched since we wrote it: exactly as it was
            elif not info.get("existed") and (new or "").strip() == "":
                new = None
            with locked(path):
                if new is None:
                    path.unlink(missing_ok=True)
                elif new != texts[label]:
                    atomic_write(path, new.encode())
            if info.get("existed") and new != backup:
                report.notes.append(f"{path} was edited since connect: llmswitch's parts were removed and your "
                                    f"edits kept; the original is at {registry.backup_path(tool.name, label)}")
            else:
                registry.drop_backup(tool.name, label)
        registry.save(known)
    return report


def status(*, check: bool = False, config: Config | None = None, only: str | None = None) -> list[Report]:
    """Each connected tool: what its files say now, what they should say, drift; with ``check`` the live probe."""
    from . import registry, verify

    reports = []
    for name, entry in sorted(registry.load().items()):
        if only is not None and name != only:
            continue
        try:
            tool = get(name)
        except LlmswitchError as exc:
            reports.append(Report(name, {}, drift=[exc.sentence()]))
            continue
        files = {label: Path(info["path"]) for label, info in entry.get("files", {}).items()}
        report = Report(name, files, roles=dict(entry.get("roles", {})))
        texts = {label: read_text(path) for label, path in files.items()}
        for label, info in entry.get("files", {}).items():
            if registry.digest(texts[label]) != info.get("sha256"):
                report.drift.append(f"{files[label]} was edited since llmswitch wrote it")
        try:
            report.pointing = tool.read_back(texts)
        except ValueError as exc:
            report.drift.append(f"{tool.name}'s files cannot be read the way {tool.name} reads them: {exc}")
        try:
            config = _config(config)
            targets = targets_for(tool, report.roles or {"main": "default"}, config)
        except LlmswitchError as exc:
            report.drift.append(exc.sentence())
            reports.append(report)
            continue
        report.key = tool.key_plan(targets["main"])
        report.launch = report.key.launch(tool.command)
        report.expected = expected(tool, targets, report.key)
        for role, want in report.expected.items():
            have = report.pointing.get(role)
            if have != want and report.pointing:
                said = f"{have.model} at {have.base_url}" if have else "nothing"
                report.drift.append(f"{role} points at {said}; the selection is {want.model} at {want.base_url}")
        problem = _key_unresolved(report.key, targets["main"])
        if problem:
            report.drift.append(problem)
        if check:
            report.verdicts = [verify.probe(t, tool.protocol, tool.probe_model(t)) for t in targets.values()]
        reports.append(report)
    return reports


def _key_unresolved(key: KeyPlan, target: Target) -> str | None:
    """A key reference that resolves to nothing (an unset env var; a launcher with no key to hand over)."""
    import os

    from .. import keys

    if key.kind is KeyRef.ENV and key.name and not os.environ.get(key.name):
        return f"the key reference ${key.name} resolves to nothing in this environment (set it, or store the key: " \
               f"llmswitch key set {target.provider.id})"
    if key.kind in (KeyRef.LAUNCHER, KeyRef.HELPER):
        try:
            keys.resolve_for(target.provider).require()
        except keys.KeyProblem as exc:
            return f"the key reference resolves to nothing: {exc.sentence()}"
    return None

"""connect, follow, disconnect and status: the same steps for every tool module.

``connect``: targets from active.toml (one per tool role) → the tool's own refusal →
the protocol check (documented facts, then a live POST of the exact route and model:
nothing is written for a provider that does not serve it) → the tool renders its files →
read back with the tool's own rules and compared with the targets → this cycle's backup →
atomic writes (mode and owner kept) → registry entry.

``follow`` (called by :func:`llmswitch.services.switch.switch`) re-renders every connected tool
from the new selection, without the network; ``status`` reports what each tool points
at, its drift and its damage; ``disconnect`` removes our parts and gives back the file.

The promises (docs/connect.md, "What llmswitch promises about other tools' files"):

* **Only recorded files.** The registry holds the exact paths written at connect time and a
  sha256 of what llmswitch last wrote. ``follow`` and ``disconnect`` touch those paths only;
  when the tool now resolves elsewhere (``CODEX_HOME`` changed, a ``.jsonc`` appeared) the new
  place is not written, and one sentence names both paths and ``llmswitch connect TOOL``.
* **Never through damage.** Before any edit the file must be readable by the tool's own parser,
  our markers whole, and our parts as we left them (:meth:`.base.Tool.damage`); otherwise
  nothing is written and one sentence names file:line and what to do (``--repair`` shows the
  change, then re-creates our part; :meth:`.base.Tool.salvage` keeps every line the user added).
* **Disconnect gives back the file as it is now, minus our parts.** The cycle's backup is used
  only when the file is byte-identical to what we last wrote and no edit of the user's was
  taken in since; a file llmswitch did not create is never deleted.
* **A killed run loses nothing.** The registry records a write as ``pending`` before any file
  is replaced (each file is the old or the new text, never half); the next run adopts what
  reached the disk (:func:`_settle`) and removes the temp files a kill -9 left beside the
  targets (:func:`_sweep`). The lock is llmswitch's own (its state dir), never in the tool's directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...base.errors import Exit, LlmswitchError
from ...store.served import serves
from .base import Damage, Harm, KeyPlan, KeyRef, Pointing, Target, Tool
from .verify import Verdict

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...store.config import Config


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
    damage: list[str] = field(default_factory=list)
    """Why llmswitch will not edit the tool's files now (one sentence each: file:line, what to do)."""

    @property
    def matches(self) -> bool:
        return not self.drift and not self.damage and all(v.ok for v in self.verdicts)

    @property
    def state(self) -> str:
        return "damaged" if self.damage else "matches the selection" if self.matches else "DRIFT"

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "files": {k: str(v) for k, v in self.files.items()},
                "key": None if self.key is None else {"kind": self.key.kind.name, "name": self.key.name,
                                                      "text": self.key.describe()},
                "roles": self.roles, "launch": self.launch, "matches": self.matches, "drift": self.drift,
                "state": self.state, "damaged": bool(self.damage), "damage": self.damage, "notes": self.notes,
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
    from ...store.config import load

    return load()


def targets_for(tool: Tool, roles: dict[str, str], config: Config) -> dict[str, Target]:
    from ...store import keys, selection

    found: dict[str, Target] = {}
    for tool_role, role in roles.items():
        sel = selection.read(role)
        found[tool_role] = Target(tool_role, role, sel, keys.provider_for(sel, config))
    return found


def read_text(path: Path) -> str | None:
    """The tool's file as text, None when it does not exist; a FIFO, a device, a file over
    :data:`~llmswitch.base.bounded.TOOL_FILE`'s cap or bytes that are not UTF-8 are refused in one sentence."""
    from ...base import bounded
    from ...base.chars import shell_word

    data = bounded.read_file(path, bounded.TOOL_FILE)
    if isinstance(data, bounded.Refusal):
        if data.problem == bounded.Problem.MISSING:
            return None
        raise LlmswitchError(f"{shell_word(str(path))} {data.cause}, so llmswitch does not write it", data.fix,
                             exit_code=Exit.CHECK)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LlmswitchError(f"{shell_word(str(path))} is not UTF-8 text (byte {exc.start + 1}), so llmswitch does "
                             f"not write it", "fix its encoding by hand, then run the command again",
                             exit_code=Exit.CHECK) from None


def refused(tool: Tool, target: Target, config: Config) -> LlmswitchError | None:
    """Why ``tool`` cannot use ``target`` from documented facts alone (its own rule, then what the provider is
    serves: the probe's fingerprint, else the presets), or None; no request is sent. ``connect`` raises it,
    ``follow`` and ``--list`` say it."""
    problem = tool.problem(target)
    if problem:
        return LlmswitchError(f"{tool.name}: {problem[0]}", problem[1], exit_code=Exit.CHECK)
    if serves(target.provider, tool.protocol.name.lower()) is False:  # the probe's fingerprint, else the presets
        return _missing(tool, target, config, f"{target.provider.id} does not serve {tool.protocol.label}"
                        + _seen(target))
    return None


def check_protocol(tool: Tool, targets: dict[str, Target], config: Config) -> list[Verdict]:
    """Refuse (one sentence: what is missing, which provider would work) before anything is written."""
    from . import verify

    verdicts = []
    for target in targets.values():
        refusal = refused(tool, target, config)
        if refusal is not None:
            raise refusal
        verdict = verify.probe(target, tool.protocol, tool.probe_model(target))
        if verdict.route_missing:
            raise _missing(tool, target, config, verdict.cause)
        if not verdict.ok:
            raise LlmswitchError(f"{tool.name} would fail: {verdict.cause}", verdict.fix or None,
                                 exit_code=Exit.KEY if verdict.status in (401, 403) else Exit.CHECK)
        verdicts.append(verdict)
    return verdicts


def _seen(target: Target) -> str:
    """`` (its probe found no such route)`` when a fingerprint said so, ``""`` when only the presets' table did."""
    from ...store.served import fingerprint

    found = fingerprint(target.provider.id, target.provider.base_url)
    return " (its probe found no such route)" if found is not None and found.fresh else ""


def protocol_notes(tool: Tool, targets: dict[str, Target], config: Config) -> list[str]:
    """Warnings about what a tool will miss: Claude Code behind a server without ``count_tokens``."""
    from .base import Protocol
    from .verify import who_serves

    if tool.protocol is not Protocol.MESSAGES:
        return []
    return [f"{target.provider.id} serves Anthropic Messages but not /v1/messages/count_tokens, which {tool.title} "
            f"calls to size its context (\"there's an issue with the selected model\"); a provider that has it: "
            f"{who_serves('count_tokens', config)}"
            for target in targets.values() if serves(target.provider, "count_tokens") is False]


def _missing(tool: Tool, target: Target, config: Config, why: str) -> LlmswitchError:
    from .verify import who_serves

    return LlmswitchError(f"{tool.title} needs {tool.protocol.label} and {why}; nothing was written",
                          f"connect it to a provider that serves it (e.g. {who_serves(tool.protocol, config)}): "
                          f"llmswitch use --role {target.role} PROVIDER/MODEL, then llmswitch connect {tool.name}",
                          exit_code=Exit.CHECK)


def expected(tool: Tool, targets: dict[str, Target], key: KeyPlan) -> dict[str, Pointing]:
    return {r: Pointing(tool.base_url(t), tool.model_name(t), key.name or "") for r, t in targets.items()}


class Damaged(LlmswitchError):
    """A connected tool's file that llmswitch will not edit (see :class:`.base.Harm`); nothing was written."""

    exit_code = Exit.CHECK


@dataclass(frozen=True)
class Change:
    """What a write would do to one file (``--repair`` shows these before writing)."""

    path: Path
    before: str | None
    after: str | None

    def diff(self) -> str:
        import difflib

        return "".join(difflib.unified_diff((self.before or "").splitlines(keepends=True),
                                            (self.after or "").splitlines(keepends=True),
                                            f"{self.path} (now)", f"{self.path} (repaired)"))


def _recorded(entry: dict[str, Any]) -> dict[str, Path]:
    return {label: Path(info["path"]) for label, info in entry.get("files", {}).items()}


def _moved(tool: Tool, entry: dict[str, Any]) -> str | None:
    """One sentence when the tool now reads other files than those llmswitch recorded (an override changed)."""
    recorded, resolved = _recorded(entry), tool.files()
    for label, new in resolved.items():
        old = recorded.get(label)
        if old is not None and old != new:
            return (f"{tool.title} now reads {new}, not {old} where llmswitch connected it; {new} was not written "
                    f"— run: llmswitch connect {tool.name} to move the connection there")
    return None


def _sweep(files: dict[str, Path]) -> None:
    """Remove temp files a killed llmswitch left beside the targets (under the lock, every one of ours is stale)."""
    from ...base.files import sweep_stale_temps

    for path in files.values():
        sweep_stale_temps(str(path.parent), path.name, older_than=0)


def _settle(tool: Tool, entry: dict[str, Any], texts: dict[str, str | None]) -> None:
    """A write that was killed half-way: adopt, per file, what reached the disk (the old text or the new).

    A file the user edited since is judged part by part: a part that holds what the pending
    write put there is ours as written (so the user's later edit elsewhere is not our damage).
    """
    from . import registry

    pending = entry.pop("pending", None)
    if not isinstance(pending, dict):
        return
    owned = dict(entry.get("owned", {}))
    new_owned = pending.get("owned", {})
    now = tool.owned(texts, pending.get("memory", {}))
    adopted = False
    for label, info in pending.get("files", {}).items():
        mine = [k for k in new_owned if k.startswith(label + ":")]
        if registry.digest(texts.get(label)) == info.get("sha256"):
            entry.setdefault("files", {})[label] = info
            owned.update({k: new_owned[k] for k in mine})
            adopted = True
            continue
        reached = [k for k in mine if now.get(k) == new_owned[k] and owned.get(k) != new_owned[k]
                   and not (new_owned[k] is None and _left_behind(owned.get(k), texts.get(label)))]
        owned.update({k: new_owned[k] for k in reached})
        adopted = adopted or bool(reached)
    entry["owned"] = owned
    if adopted:
        entry["memory"] = pending.get("memory", {})


def _left_behind(was: Any, text: str | None) -> bool:
    """A part a pending write was to remove whose lines are all still in the file: the removal did not reach the
    disk (the part reads as absent only because its markers were broken by hand), so it is still ours, damaged."""
    return isinstance(was, str) and bool(was.strip()) and text is not None and was in text


def _damage(tool: Tool, entry: dict[str, Any], texts: dict[str, str | None]) -> list[Damage]:
    found = [Damage(label, None, "it was removed since llmswitch wrote it", Harm.CHANGED)
             for label, info in entry.get("files", {}).items()
             if texts.get(label) is None and info.get("sha256") is not None]
    return found or tool.damage(texts, entry.get("owned", {}), entry.get("memory", {}))


def _refusal(tool: Tool, damage: Damage, files: dict[str, Path]) -> Damaged:
    """The one sentence: file:line, what is wrong, what to do."""
    path = files.get(damage.label)
    where = f"{path}:{damage.line}" if damage.line else str(path)
    if damage.harm is Harm.UNREADABLE:
        fix = f"fix it there so that {tool.title} can read the file; llmswitch wrote nothing"
    elif damage.harm is Harm.MARKERS:
        fix = (f"nothing was written; put the marker line back as it was, or run: llmswitch connect {tool.name} "
               f"--repair (it shows what it will change first)")
    else:
        fix = (f"nothing was written; undo that change, run: llmswitch connect {tool.name} --repair (it shows what "
               f"it will change first), or llmswitch disconnect {tool.name} (your change stays)")
    return Damaged(f"{where}: {damage.cause}", fix, exit_code=Exit.CHECK)


def _verify(tool: Tool, new_texts: dict[str, str | None], targets: dict[str, Target],
            key: KeyPlan) -> dict[str, Pointing]:
    """The tool's own reading of what llmswitch would write must be the selection, else nothing is written."""
    try:
        pointing = tool.read_back(new_texts)
    except ValueError as exc:
        raise LlmswitchError(f"{tool.name}: what llmswitch would write cannot be read back ({exc})",
                             "nothing was written; fix the file by hand so that the tool can read it",
                             exit_code=Exit.CHECK) from None
    want = expected(tool, targets, key)
    wrong = [r for r in want if pointing.get(r) != want[r]]
    if wrong:
        raise LlmswitchError(f"{tool.name}: what llmswitch would write reads back differently for "
                             f"{', '.join(wrong)} ({pointing.get(wrong[0])} instead of {want[wrong[0]]})",
                             "nothing was written; please report this", exit_code=Exit.CHECK)
    return pointing


def _write(tool: Tool, known: dict[str, dict[str, Any]], entry: dict[str, Any], files: dict[str, Path],
           texts: dict[str, str | None], new_texts: dict[str, str | None], infos: dict[str, dict[str, Any]],
           memory: dict[str, Any]) -> None:
    """Write ``new_texts`` where they differ, recorded as pending first so that a kill -9 at any point loses nothing.

    Any failure puts back the files already written and leaves the entry as it was.
    """
    from ...base.files import atomic_write
    from . import registry

    changed = [label for label in files if new_texts.get(label) != texts.get(label)]
    _check_targets(files, texts, new_texts)
    owned = tool.owned(new_texts, memory)
    entry["pending"] = {"files": infos, "owned": owned, "memory": memory}
    known[tool.name] = entry
    registry.save(known)
    done: list[str] = []
    try:
        for label in changed:
            new = new_texts.get(label)
            if new is None:
                files[label].unlink(missing_ok=True)
            else:
                atomic_write(files[label], new.encode(), preserve=True)
            done.append(label)
    except BaseException:
        for label in done:  # best effort: the user's file as it was
            try:
                old = texts.get(label)
                if old is None:
                    files[label].unlink(missing_ok=True)
                else:
                    atomic_write(files[label], old.encode(), preserve=True)
            except OSError:
                pass
        entry.pop("pending", None)
        registry.save(known)
        raise
    entry.pop("pending")
    entry.update(files=infos, owned=owned, memory=memory)
    registry.save(known)


def _check_targets(files: dict[str, Path], texts: dict[str, str | None], new_texts: dict[str, str | None]) -> None:
    """A symlink, a file others own or can write: refused before anything (a backup included) is written."""
    from ...base.files import check_writable_target

    for label, path in files.items():
        if new_texts.get(label) is not None and new_texts.get(label) != texts.get(label):
            check_writable_target(path)


def _infos(entry: dict[str, Any], files: dict[str, Path], texts: dict[str, str | None],
           new_texts: dict[str, str | None], *, fresh: bool, repaired: bool = False) -> dict[str, dict[str, Any]]:
    """What the registry will say about each file after this write."""
    from . import registry

    infos = {}
    for label, path in files.items():
        old = entry.get("files", {}).get(label, {})
        if fresh:
            info = {"path": str(path), "existed": texts[label] is not None, "exact": True, "backup": None}
        else:  # an edit of the user's taken in (or a repair) means the backup no longer describes their file
            info = {**old, "exact": bool(old.get("exact")) and not repaired
                    and registry.digest(texts[label]) == old.get("sha256")}
        info["sha256"] = registry.digest(new_texts[label])
        infos[label] = info
    return infos


def _render(tool: Tool, targets: dict[str, Target], entry: dict[str, Any], base: dict[str, str | None],
            files: dict[str, Path]) -> tuple[dict[str, str | None], dict[str, Any], KeyPlan, dict[str, Pointing]]:
    key = _key_plan(tool, targets["main"])
    plan = tool.render(base, targets, key, entry.get("memory", {}))
    new_texts = {label: plan.texts.get(label, base[label]) for label in files}
    return new_texts, plan.memory, key, _verify(tool, new_texts, targets, key)


def _unreadable_now(tool: Tool, texts: dict[str, str | None]) -> list[Damage]:
    """A fresh connect: the file must be readable and free of broken markers of ours (left from a lost registry)."""
    return [d for d in tool.damage(texts, {}, {}) if d.harm is not Harm.CHANGED]


def connect(name: str, role_specs: list[str] | tuple[str, ...] = (), *, config: Config | None = None,
            repair: bool = False, approve: Callable[[list[Change]], bool] | None = None,
            via: str | None = None) -> Report:
    """Point ``name`` at the active selection (its roles per ``role_specs``), verified; raises LlmswitchError.

    ``repair``: re-create our part of a damaged file (lines the user added in it stay);
    ``approve`` sees the changes first and may refuse them (then nothing is written);
    ``via="relay"``: at the local relay instead, written once (:mod:`._relayed`).
    """
    from ...base.files import locked
    from . import _relayed as relayed
    from . import registry

    tool = get(name)
    config = _config(config)
    known = registry.load()
    previous = known.get(tool.name, {})
    roles = parse_roles(tool, role_specs) if role_specs or not previous else dict(previous.get("roles", {}))
    notes: list[str] = []
    if via == relayed.VIA:
        targets = relayed.targets(tool, roles)
        verdicts, notes = relayed.check(tool, targets)
    else:
        targets = targets_for(tool, roles, config)
        verdicts = check_protocol(tool, targets, config)
        notes = protocol_notes(tool, targets, config)
    with locked(registry.registry_path()):
        known = registry.load()
        entry = known.get(tool.name)
        files = tool.files()
        if entry is not None and _recorded(entry) != files:
            old = _recorded(entry)
            _take_out(tool, known, entry)
            known.pop(tool.name, None)
            registry.save(known)
            notes.append(f"moved the connection here; llmswitch's parts were taken out of "
                         f"{', '.join(str(p) for p in old.values())}")
            entry = None
        fresh = entry is None
        entry = {} if entry is None else entry
        texts = {label: read_text(path) for label, path in files.items()}
        _sweep(files)
        _settle(tool, entry, texts)
        problems = _unreadable_now(tool, texts) if fresh else _damage(tool, entry, texts)
        blocking = [p for p in problems if p.harm is Harm.UNREADABLE or not repair]
        if blocking:
            if not fresh:
                registry.save(known)  # what _settle adopted
            raise _refusal(tool, blocking[0], files)
        base = tool.salvage(texts, entry.get("owned", {}), entry.get("memory", {}))[0] if repair else texts
        new_texts, memory, key, _ = _render(tool, targets, entry, base, files)
        if repair:
            changes = [Change(files[label], texts[label], new_texts[label]) for label in files
                       if new_texts[label] != texts[label]]
            if approve is not None and not approve(changes):
                raise LlmswitchError(f"{tool.name} was not repaired; nothing was written",
                                     f"run: llmswitch connect {tool.name} --repair --yes to apply it",
                                     exit_code=Exit.CHECK)
        infos = _infos(entry, files, texts, new_texts, fresh=fresh, repaired=repair)
        _check_targets(files, texts, new_texts)
        if fresh:
            for label in files:  # this cycle's backup replaces any older one; written only now nothing refused
                infos[label]["backup"] = registry.keep_backup(tool.name, label, texts[label])
            entry["files"] = {label: {**infos[label], "sha256": registry.digest(texts[label])} for label in files}
            entry["owned"] = tool.owned(texts, {})
            entry.update(roles=roles, connected=registry.now())
        try:
            _write(tool, known, entry, files, texts, new_texts, infos, memory)
        except BaseException:
            if fresh:
                known.pop(tool.name, None)
                registry.save(known)
                registry.drop_backups(tool.name)
            raise
        entry.update(roles=roles, key={"kind": key.kind.name, "name": key.name}, updated=registry.now())
        if via == relayed.VIA:
            entry["via"] = via
        else:
            entry.pop("via", None)
        registry.save(known)
    pointing = tool.read_back({label: read_text(path) for label, path in files.items()})  # what is on disk now
    want = expected(tool, targets, key)
    if any(pointing.get(r) != want[r] for r in want):
        raise LlmswitchError(f"{tool.name}: its files changed while llmswitch wrote them (they now say "
                             f"{pointing.get('main')})", f"run: llmswitch connect {tool.name}", exit_code=Exit.CHECK)
    report = Report(tool.name, files, key, roles, pointing, want, verdicts, launch=key.launch(tool.command))
    report.notes += notes
    report.notes.append("repaired llmswitch's part" if repair else "backed up the original files" if fresh
                        else "updated the existing connection")
    return report


def follow(config: Config | None = None) -> list[str]:
    """Re-point every connected tool at the current selection, in its recorded files only; problems are warnings."""
    from ...base.files import locked
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
            if _via(entry):
                continue  # pointed at the relay, which follows the selection itself: never rewritten
            try:
                tool = get(name)
                moved = _moved(tool, entry)
                if moved:
                    warnings.append(moved)
                files = _recorded(entry)
                texts = {label: read_text(path) for label, path in files.items()}
                _sweep(files)
                _settle(tool, entry, texts)
                problems = _damage(tool, entry, texts)
                if problems:
                    warnings.append(f"{name} was not updated: {_refusal(tool, problems[0], files).sentence()}")
                    continue
                targets = targets_for(tool, dict(entry.get("roles", {"main": "default"})), config)
                refusal = next(filter(None, (refused(tool, t, config) for t in targets.values())), None)
                if refusal is not None:  # it could not use the new selection: left as it was, said why
                    warnings.append(f"{name} was not updated: {refusal.sentence()}")
                    continue
                new_texts, memory, key, _ = _render(tool, targets, entry, texts, files)
                _write(tool, known, entry, files, texts, new_texts, _infos(entry, files, texts, new_texts,
                                                                            fresh=False), memory)
                entry.update(key={"kind": key.kind.name, "name": key.name}, updated=registry.now())
            except (LlmswitchError, OSError, ValueError) as exc:
                what = exc.sentence() if isinstance(exc, LlmswitchError) else str(exc)
                warnings.append(f"{name} was not updated: {what} — run: llmswitch connect {name}")
        registry.save(known)
    return warnings


def _take_out(tool: Tool, known: dict[str, dict[str, Any]], entry: dict[str, Any]) -> list[str]:
    """Our parts out of the recorded files (the file as it is now, minus them); notes for the report.

    Broken markers or an unreadable file: nothing is written (one sentence). Parts the user
    changed are theirs: lines they added in our block stay, members they changed keep their value.
    """
    from . import registry

    files = _recorded(entry)
    texts = {label: read_text(path) for label, path in files.items()}
    _sweep(files)
    _settle(tool, entry, texts)
    problems = _damage(tool, entry, texts)
    blocking = [p for p in problems if p.harm is not Harm.CHANGED]
    if blocking:
        registry.save(known)
        raise _refusal(tool, blocking[0], files)
    was, memory = entry.get("owned", {}), dict(entry.get("memory", {}))
    base, memory = tool.salvage(texts, was, memory) if problems else (dict(texts), memory)
    removed = tool.remove(base, memory)
    new_texts: dict[str, str | None] = {}
    notes = []
    for label, info in entry.get("files", {}).items():
        text = texts.get(label)
        existed = bool(info.get("existed"))
        backup = registry.read_backup(tool.name, label, info.get("backup"))
        exact = text is not None and bool(info.get("exact")) and registry.digest(text) == info.get("sha256")
        if text is None:
            new = None
        elif exact and (not existed or backup is not None):
            new = backup if existed else None  # untouched since we wrote it: exactly as it was
        else:
            new = removed.get(label, base.get(label))
            if new is not None and not existed and not new.strip():
                new = None  # a file llmswitch created, with nothing of the user's in it
            elif new is None and existed:
                new = backup if backup is not None else ""  # never delete a file llmswitch did not create
            if existed and new != backup and backup is not None:
                notes.append(f"{files[label]} was edited since connect: llmswitch's parts were removed and your "
                             f"edits kept; the original is at "
                             f"{registry.backup_path(tool.name, label)}")
        new_texts[label] = new
    # as for any write: a file the user edited since our last write is no longer "exact" (a kill before the entry
    # goes would otherwise let the next disconnect take their file for an untouched one of ours, and delete it)
    infos = _infos(entry, files, texts, new_texts, fresh=False)
    _write(tool, known, entry, files, texts, new_texts, infos, memory)
    if not notes:
        registry.drop_backups(tool.name)
    return notes


def disconnect(name: str) -> Report:
    """Take our parts out of the tool's recorded files; the original comes back exactly when untouched since."""
    from ...base.files import locked
    from . import registry

    tool = get(name)
    with locked(registry.registry_path()):
        known = registry.load()
        entry = known.get(tool.name)
        if entry is None:
            raise LlmswitchError(f"{tool.name} is not connected", "see: llmswitch connections",
                                 exit_code=Exit.NOT_FOUND)
        report = Report(tool.name, _recorded(entry))
        report.notes += _take_out(tool, known, entry)
        known.pop(tool.name, None)
        registry.save(known)
    return report


def status(*, check: bool = False, config: Config | None = None, only: str | None = None) -> list[Report]:
    """Each connected tool: what its files say now, what they should say, drift, damage; with ``check`` the probe."""
    import copy

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
        files = _recorded(entry)
        report = Report(name, files, roles=dict(entry.get("roles", {})))
        texts = {label: read_text(path) for label, path in files.items()}
        entry = copy.deepcopy(entry)
        _settle(tool, entry, texts)
        report.damage = [_refusal(tool, d, files).sentence() for d in _damage(tool, entry, texts)]
        moved = _moved(tool, entry)
        if moved:
            report.drift.append(moved)
        for label, info in entry.get("files", {}).items():
            if texts[label] is not None and registry.digest(texts[label]) != info.get("sha256"):
                report.drift.append(f"{files[label]} was edited since llmswitch wrote it")
        try:
            report.pointing = tool.read_back(texts)
        except ValueError:
            pass  # said in report.damage
        try:
            config = _config(config)
            targets = _targets(tool, report.roles or {"main": "default"}, config, _via(entry))
        except LlmswitchError as exc:
            report.drift.append(exc.sentence())
            reports.append(report)
            continue
        report.key = _key_plan(tool, targets["main"])
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
        stopped = _relay_stopped(targets) if check else []
        if stopped:
            report.verdicts = stopped
        elif check:
            report.verdicts = [verify.probe(t, tool.protocol, tool.probe_model(t)) for t in targets.values()]
        reports.append(report)
    return reports


def _via(entry: dict[str, Any]) -> str | None:
    """``relay`` for a tool connected ``--via relay``, else None."""
    via = entry.get("via")
    return via if isinstance(via, str) else None


def _targets(tool: Tool, roles: dict[str, str], config: Config, via: str | None) -> dict[str, Target]:
    from . import _relayed as relayed

    return relayed.targets(tool, roles) if via == relayed.VIA else targets_for(tool, roles, config)


def _key_plan(tool: Tool, target: Target) -> KeyPlan:
    """The tool's own key plan; at the relay, its indirection pointed at the relay token."""
    from . import _relayed as relayed

    return relayed.key_plan(tool, target) if target.provider.id == relayed.PROVIDER_ID else tool.key_plan(target)


def _relay_stopped(targets: dict[str, Target]) -> list[Verdict]:
    from . import _relayed as relayed

    return relayed.verdict_when_stopped(targets) if targets["main"].provider.id == relayed.PROVIDER_ID else []


def _key_unresolved(key: KeyPlan, target: Target) -> str | None:
    """A key reference that resolves to nothing (an unset env var; a launcher with no key to hand over)."""
    import os

    from ...store import keys
    from . import _relayed as relayed

    if target.provider.id == relayed.PROVIDER_ID:
        return relayed.key_unresolved(key)

    if key.kind is KeyRef.ENV and key.name and not os.environ.get(key.name):
        return f"the key reference ${key.name} resolves to nothing in this environment (set it, or store the key: " \
               f"llmswitch key set {target.provider.id})"
    if key.kind in (KeyRef.LAUNCHER, KeyRef.HELPER):
        try:
            keys.resolve_for(target.provider).require()
        except keys.KeyProblem as exc:
            return f"the key reference resolves to nothing: {exc.sentence()}"
    return None

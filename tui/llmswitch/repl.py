"""``/model`` for any REPL: parsing, fuzzy matching, scope, completion.

A REPL passes every line the user types to :meth:`ModelSwitcher.handle`;
``None`` means "not a model command, handle it yourself", anything else is a
:class:`Reply` to print. The switcher keeps a *session* choice per role that
wins over ``active.toml`` until ``/model --reset``; ``/model --save`` writes
the file through :func:`llmswitch.switch.switch` so every tool sees it::

    switcher = ModelSwitcher()
    reply = switcher.handle("/model sonnet")     # switches, lists, or says did-you-mean
    sel = switcher.selection()                   # the session's choice, else active.toml

Commands: ``/model`` (show; the picker in a terminal), ``/model QUERY``,
``/model PROVIDER/MODEL``, ``/model N`` (from the last list), ``/models
[QUERY]``, and the flags ``--save``, ``--role R``, ``--force``, ``--reset``.

Rules kept here:

* an explicit provider is a hard constraint: ``/model ollama/llama3`` never
  becomes another provider's model. Before switching, the target is probed
  (2 s by default); a server nothing answers for (connection refused, unknown
  host, TLS failure) or one that refuses the key is *not* switched to — the
  reply is the probe's one sentence (cause — fix) and ``/model --force …``
  switches anyway. A slow answer or an unlisted model switches with a warning;
* a query switches only when it has one clear match among *your* providers
  (configured, selected, recent, probed, or with a key in the environment);
  otherwise a short numbered list, or did-you-mean;
* every reply says which scope changed: this session, or active.toml.

Cheap to import: stdlib only at module level (no Textual, openai, httpx or
keyring). The completion index answers offline from the catalog plus the
model lists the last probes cached (:func:`llmswitch.state.known_models`).
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import selection as _selection
from .selection import DEFAULT_ROLE, ActiveSelection, NoSelection, SelectionError

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import ModelInfo
    from .config import Config, ProviderConfig

__all__ = ["COMMANDS", "FLAGS", "Command", "CommandError", "Match", "ModelIndex", "ModelSwitcher", "Reply",
           "explain_error", "parse", "same_model"]

COMMANDS = ("/model", "/models")
FLAGS = ("--save", "--role", "--force", "--reset")
PROBE_TIMEOUT = 2.0
"""Seconds the reachability check before a switch may take."""
LIST_LIMIT = 12
"""Rows a numbered list shows before "… N more"."""
COMPLETION_LIMIT = 400

# Probe outcomes that stop a switch (unless --force): nothing answers there (refused, unknown
# host, TLS failure, unusable URL), or the server refuses the key. Others switch with a warning:
# a slow answer within the short budget (a big model list is not a dead server), a broken
# connection, a model the server does not list, no /models endpoint, a 5xx.
_UNREACHABLE = frozenset({"connection_refused", "dns_failure", "tls_error", "invalid_url"})
_KEY_REFUSED = frozenset({"auth_missing", "auth_rejected", "forbidden", "no_credit"})
_SEPARATORS = re.compile(r"[-_./:@\s]+")


# --- parsing ------------------------------------------------------------------------------------

class CommandError(ValueError):
    """A model command that cannot be understood; the message says what to type instead."""


@dataclass(frozen=True)
class Command:
    """One parsed ``/model`` or ``/models`` line."""

    name: str
    """``/model`` or ``/models``."""
    query: str = ""
    """Everything that is not a flag, words joined by one space (``""`` when none)."""
    save: bool = False
    """``--save``: also write active.toml (the default for every tool)."""
    force: bool = False
    """``--force``: switch even when the probe says the server is down or refuses the key."""
    reset: bool = False
    """``--reset``: drop the session choice and follow active.toml again."""
    role: str | None = None
    """``--role R``: act on role R instead of the switcher's current role."""


def parse(line: str, commands: Iterable[str] = COMMANDS) -> Command | None:
    """``Command`` for a model command, ``None`` for any other line; raises CommandError."""
    words = line.strip().split()
    if not words or words[0] not in commands:
        return None
    name, rest = words[0], words[1:]
    options: dict[str, Any] = {}
    query: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--":
            query += rest[i + 1:]
            break
        if word.startswith("--") and len(word) > 2:
            flag, eq, value = word.partition("=")
            if flag not in FLAGS:
                close = difflib.get_close_matches(flag, FLAGS, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]}?" if close else f"flags: {' '.join(FLAGS)}"
                raise CommandError(f"unknown flag {flag} — {hint}")
            if flag == "--role":
                if not eq:
                    i += 1
                    if i >= len(rest) or rest[i].startswith("--"):
                        raise CommandError("--role needs a name — e.g. /model --role small PROVIDER/MODEL")
                    value = rest[i]
                if not _selection.ROLE_NAME.match(value):
                    raise CommandError(f"role {value!r} must be lowercase letters, digits, '-' or '_' "
                                       f"(e.g. default, small)")
                options["role"] = value
            elif eq:
                raise CommandError(f"{flag} takes no value — write {flag} on its own")
            else:
                options[flag[2:]] = True
        else:
            query.append(word)
        i += 1
    if name == "/models" and (options.keys() - {"role"}):
        raise CommandError("/models only lists — use /model --save/--force/--reset to switch")
    command = Command(name, " ".join(query), **options)
    if command.reset and (command.query or command.save or command.force):
        raise CommandError("--reset stands alone — /model --reset [--role R] follows active.toml again")
    return command


# --- replies ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """What a model command did, for the REPL to print (``str(reply)``)."""

    text: str
    ok: bool = True
    """False when the command failed or was refused; nothing changed then."""
    selection: ActiveSelection | None = None
    """The new selection when the command switched."""
    scope: str | None = None
    """``"session"`` or ``"saved"`` when something changed, else None."""
    warnings: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    """The refs of a numbered list, in order (``/model N`` picks the N-th)."""

    def __str__(self) -> str:
        return "\n".join([self.text, *(f"warning: {w}" for w in self.warnings)])


@dataclass(frozen=True)
class Match:
    """One model a query or list found."""

    provider: str
    model: str
    name: str = ""
    info: ModelInfo | None = field(default=None, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"


# --- the index ----------------------------------------------------------------------------------

class _Entry:
    __slots__ = ("_compact", "_hay", "info", "model", "model_l", "name", "name_l", "provider", "ref", "ref_l",
                 "tail_l")

    def __init__(self, provider: str, model: str, info: ModelInfo | None) -> None:
        self.provider, self.model, self.info = provider, model, info
        self.name = info.name if info is not None and info.name != model else ""
        self.ref = f"{provider}/{model}"
        self.ref_l = self.ref.lower()
        self.model_l = model.lower()
        self.tail_l = self.model_l.rsplit("/", 1)[-1]
        self.name_l = self.name.lower()
        self._hay: str | None = None
        self._compact: str | None = None

    @property
    def hay(self) -> str:
        """Ref and name, also with separators as spaces: what word queries look in."""
        if self._hay is None:
            self._hay = (f"{self.ref_l} {self.name_l} {_SEPARATORS.sub(' ', self.ref_l)} "
                         f"{_SEPARATORS.sub(' ', self.name_l)}")
        return self._hay

    @property
    def compact(self) -> str:
        """Model id and name without separators (``gpt4o`` finds ``gpt-4o``)."""
        if self._compact is None:
            self._compact = _SEPARATORS.sub("", f"{self.model_l}{self.name_l}")
        return self._compact

    def match(self) -> Match:
        return Match(self.provider, self.model, self.name, self.info)


class ModelIndex:
    """Every model llmswitch knows, prepared for fuzzy search and prefix completion.

    Built once (≈ 0.1–0.3 s with the full catalog, mostly loading the catalog
    itself) and then answered from sorted lists with ``bisect``. ``mine`` is
    the set of *your* providers; queries and bare-word completion look there
    first.
    """

    def __init__(self, config: Config, *, extra_refs: Iterable[str] = (), current: str | None = None) -> None:
        from . import catalog, state

        self.config = config
        self.provider_ids: list[str] = sorted(set(config.providers) | set(catalog.presets()))
        self.provider_set = set(self.provider_ids) | set(_aliases())
        self.recent = [r for r in state.recent() if "/" in r]
        self.mine: list[str] = self._mine(config, extra_refs, current)
        entries: dict[str, _Entry] = {}
        by_provider: dict[str, list[_Entry]] = {}
        for pid in self.provider_ids:
            provider = self._provider(pid)
            if provider is None:
                continue
            infos = {m.id: m for m in catalog.catalog_models(provider.preset or provider.id)}
            live = state.known_models(pid, provider.base_url) or []
            rows = []
            for model in dict.fromkeys([*provider.favorites, *live, *infos]):
                info = infos.get(model)
                if info is None and (provider.local or not infos):
                    info = catalog.model_info(provider.preset or pid, model)
                entry = _Entry(pid, model, info)
                entries[entry.ref] = entry
                rows.append(entry)
            by_provider[pid] = rows
        self.listed: dict[str, list[_Entry]] = {pid: list(rows) for pid, rows in by_provider.items()}
        """Per provider, the models its live list, the catalog or its favourites name (not just recents)."""
        for ref in [*self.recent, *extra_refs]:
            pid, _, model = ref.partition("/")
            if ref not in entries and pid in by_provider and model:
                entry = _Entry(pid, model, catalog.model_info(pid, model))
                entries[ref] = entry
                by_provider[pid].append(entry)
        self.entries = entries
        self.by_provider = by_provider
        self.mine_entries = [e for pid in self.mine for e in by_provider.get(pid, ())]
        # prefix tables (lower-case key, completion text), sorted by key
        self._refs = sorted((e.ref_l, e.ref) for e in entries.values())
        self._ref_keys = [k for k, _ in self._refs]
        bare: dict[str, str] = {}
        for e in self.mine_entries or entries.values():
            head = e.model.split("/", 1)[0]
            if "/" in e.model and head.lower() in self.provider_set:
                continue  # "anthropic/claude…" would read as provider anthropic: complete the full ref instead
            bare.setdefault(e.model_l, e.model)
        self._bare = sorted(bare.items())
        self._bare_keys = [k for k, _ in self._bare]
        self._providers = sorted((p.lower(), p + "/") for p in self.provider_ids)
        self._provider_keys = [k for k, _ in self._providers]

    def _provider(self, pid: str) -> ProviderConfig | None:
        from .config import UnknownProvider

        try:
            return self.config.provider(pid)
        except UnknownProvider:
            return None

    def _mine(self, config: Config, extra_refs: Iterable[str], current: str | None) -> list[str]:
        from . import catalog, keys, state

        found: dict[str, None] = {}
        if current:
            found[current.partition("/")[0]] = None
        for pid in config.providers:
            found[pid] = None
        try:
            for sel in _selection.read_all().values():
                found[sel.provider] = None
        except SelectionError:
            pass
        for ref in [*extra_refs, *self.recent]:
            found[ref.partition("/")[0]] = None
        models_dir = _models_cache_dir()
        try:
            cached = sorted(p.stem for p in models_dir.iterdir() if p.suffix == ".json")
        except OSError:
            cached = []
        for pid in cached:
            provider = self._provider(pid)
            if provider is not None and state.known_models(pid, provider.base_url):
                found[pid] = None
        for pid, preset in catalog.presets().items():
            if preset.local:
                continue
            if os.environ.get(keys.override_var(pid)) or any(os.environ.get(v) for v in preset.key_env):
                found[pid] = None
        return [pid for pid in found if pid in self.provider_set]

    # -- search
    def search(self, query: str, *, everywhere: bool = False, prefer: str | None = None) -> tuple[int, list[Match]]:
        """(tier, matches) for ``query``: tier 0 exact, 1 prefix, 2 substring, 3 words; -1 none.

        Looks among your providers; ``everywhere`` searches the whole catalog.
        Matches are ordered: ``prefer``'s provider first, then recent, then short ids.
        """
        pool = self.entries.values() if everywhere or not self.mine_entries else self.mine_entries
        return _search(pool, query, prefer, self.recent, loose=not everywhere)

    def did_you_mean(self, query: str, n: int = 3) -> list[str]:
        """Close refs (or provider ids) for a query that matched nothing."""
        q = query.lower().strip()
        pool = self.mine_entries or list(self.entries.values())
        names: dict[str, str] = {}
        for e in pool:
            names.setdefault(e.tail_l, e.ref)
            names.setdefault(e.model_l, e.ref)
        close = difflib.get_close_matches(q, list(names), n=n, cutoff=0.6)
        if not close:  # a mistyped provider id, then
            names = {pid: pid + "/" for pid in self.provider_ids}
            close = difflib.get_close_matches(q.rstrip("/"), list(names), n=n, cutoff=0.75)
        return list(dict.fromkeys(names[c] for c in close))

    def models_of(self, provider: str) -> list[Match]:
        return [e.match() for e in self.by_provider.get(provider, ())]

    def info(self, ref: str) -> ModelInfo | None:
        entry = self.entries.get(ref)
        return entry.info if entry is not None else None

    # -- completion
    def complete_word(self, word: str, prefer: str | None = None) -> list[str]:
        """Completions for one argument word; every one starts with ``word`` (case-insensitively)."""
        w = word.lower()
        out: list[str] = []
        out += [r for r in self.recent if r.lower().startswith(w)]
        head, slash, _ = w.partition("/")
        if slash and head in self.provider_set:
            out += _prefix(self._refs, self._ref_keys, w)
        else:
            out += _prefix(self._providers, self._provider_keys, w)
            bare = _prefix(self._bare, self._bare_keys, w)
            if prefer:  # the current provider's models first
                own = {e.model for e in self.by_provider.get(prefer, ())}
                bare.sort(key=lambda m: m not in own)
            out += bare
        return list(dict.fromkeys(out))[:COMPLETION_LIMIT]


def _prefix(table: list[tuple[str, str]], keys: list[str], prefix: str) -> list[str]:
    out = []
    for i in range(bisect.bisect_left(keys, prefix), len(keys)):
        if not keys[i].startswith(prefix):
            break
        out.append(table[i][1])
        if len(out) >= COMPLETION_LIMIT:
            break
    return out


def _aliases() -> list[str]:
    from . import catalog

    names = ["lmstudio"]
    for preset in catalog.presets().values():
        names += preset.aliases
    return names


def _models_cache_dir():
    from . import paths

    return paths.cache_dir() / "models"


def _mtime(path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


# --- the switcher -------------------------------------------------------------------------------

def _fmt_tokens(value: int | None) -> str:
    if not value:
        return "-"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    return f"{value // 1000}k" if value >= 1000 else str(value)


def _fmt_price(info: ModelInfo | None) -> str:
    if info is None or info.input_price is None:
        return ""
    out = f"${info.input_price:g}/${info.output_price:g}" if info.output_price is not None else f"${info.input_price:g}"
    return out + " per M"


class ModelSwitcher:
    """Session-scope model choice per role, the ``/model`` commands, and completion.

    ``interactive`` (default: stdin and stdout are terminals) lets a bare
    ``/model`` open the picker (``picker(role) -> ref | None``, default
    :func:`llmswitch.app.pick` when it exists). ``probe_timeout`` bounds the
    check before a switch; ``None`` switches without checking.
    """

    def __init__(self, role: str = DEFAULT_ROLE, *, interactive: bool | None = None,
                 probe_timeout: float | None = PROBE_TIMEOUT, picker: Callable[[str], str | None] | None = None,
                 commands: Iterable[str] = COMMANDS) -> None:
        _selection.check_role(role)
        self.role = role
        self.interactive = interactive
        self.probe_timeout = probe_timeout
        self.picker = picker
        self.commands = tuple(commands)
        self.choices: tuple[str, ...] = ()
        """The refs of the last numbered list (``/model N`` picks from it)."""
        self._overrides: dict[str, ActiveSelection] = {}
        self._watchers: dict[str, Any] = {}
        self._seen: dict[str, str | None] = {}
        self._index: ModelIndex | None = None
        self._index_key: tuple | None = None
        self._index_lock = threading.Lock()
        self._completion_cache: tuple[str, list[str], str] | None = None

    # -- the selection and its scope
    def override(self, role: str | None = None) -> ActiveSelection | None:
        """The session choice for ``role``, or None when it follows active.toml."""
        return self._overrides.get(role or self.role)

    def saved(self, role: str | None = None) -> ActiveSelection:
        """What active.toml says for ``role`` (re-read only when the file changed)."""
        from .api import Watcher

        role = role or self.role
        watcher = self._watchers.get(role)
        if watcher is None:
            watcher = self._watchers[role] = Watcher(role)
        try:
            sel = watcher.current()
        except SelectionError:
            self._watchers[role] = Watcher(role)  # forget the stale copy: the next read raises again
            self._seen[role] = None
            raise
        self._seen.setdefault(role, sel.ref)
        return sel

    def selection(self, role: str | None = None) -> ActiveSelection:
        """The selection to use now: the session choice, else active.toml (raises NoSelection)."""
        role = role or self.role
        return self._overrides.get(role) or self.saved(role)

    def source(self, role: str | None = None) -> str:
        """``"session"`` or ``"active.toml"``: where :meth:`selection` comes from."""
        return "session" if (role or self.role) in self._overrides else "active.toml"

    def set_session(self, sel: ActiveSelection) -> None:
        """Make ``sel`` the session choice for its role (no checks; :meth:`handle` checks)."""
        self._overrides[sel.role] = sel

    def reset(self, role: str | None = None) -> bool:
        """Drop the session choice for ``role``; False when there was none."""
        return self._overrides.pop(role or self.role, None) is not None

    def poll(self) -> list[str]:
        """Notes about active.toml changes made elsewhere since the last look (one ``stat`` per role).

        A REPL calls this between turns. A role that follows the file simply
        follows it ("active.toml changed: now X"); a session choice stays and
        the note says how to follow the file again.
        """
        notes = []
        for role, watcher in list(self._watchers.items()):
            if not watcher.changed():
                continue
            before = self._seen.get(role)
            try:
                now: str | None = self.saved(role).ref
                problem = None
            except NoSelection:
                now, problem = None, f"active.toml no longer sets role {role}"
            except SelectionError as exc:
                now, problem = None, str(exc)
            self._seen[role] = now
            if now == before:
                continue
            who = "" if role == DEFAULT_ROLE else f"role {role} "
            kept = self._overrides.get(role)
            if problem:
                tail = f"; this session keeps {kept.ref}" if kept else " — pick one: /model PROVIDER/MODEL"
                notes.append(problem + tail)
            elif kept is not None:
                flag = "" if role == self.role else f" --role {role}"
                notes.append(f"active.toml changed {who}to {now}; this session keeps {kept.ref} "
                             f"(/model --reset{flag} to follow the file)")
            else:
                notes.append(f"active.toml changed: {who}now {now}" if who else f"active.toml changed: now using {now}")
        return notes

    # -- commands
    def handle(self, line: str) -> Reply | None:
        """Run a ``/model``/``/models`` line; ``None`` for any other line."""
        try:
            command = parse(line, [c for c in self.commands if c in COMMANDS])
        except CommandError as exc:
            return Reply(str(exc), ok=False)
        if command is None:
            return None
        try:
            if command.name == "/models":
                return self._list(command)
            return self._model(command)
        except _Refused as exc:
            return exc.reply

    def _config(self) -> Config:
        from .config import ConfigError, load

        try:
            return load()
        except ConfigError as exc:
            raise _Refused(Reply("the providers file has problems:\n  " + "\n  ".join(map(str, exc.problems)) +
                                 "\n(run: llmswitch config check)", ok=False)) from None

    def _current_ref(self, role: str) -> str | None:
        try:
            return self.selection(role).ref
        except SelectionError:
            return None

    def _model(self, c: Command) -> Reply:
        role = c.role or self.role
        if c.reset:
            return self._reset(role)
        if not c.query:
            if c.save:
                return self._save_session(role, c)
            return self._show_or_pick(role, c)
        if c.query.isdigit():
            n = int(c.query)
            if not self.choices:
                return Reply("no list to pick from — /models or /model QUERY shows one", ok=False)
            if not 1 <= n <= len(self.choices):
                return Reply(f"pick a number from 1 to {len(self.choices)}", ok=False)
            return self._switch(self.choices[n - 1], role, c)
        config = self._config()
        index = self.index(config)
        head, slash, model = c.query.partition("/")
        if slash and " " not in c.query and head in index.provider_set:
            return self._explicit(head, model, role, c, config, index)
        if " " not in c.query and self._exact_ref(c.query, index):
            return self._switch(c.query, role, c, config)
        return self._query(c.query, role, c, index)

    @staticmethod
    def _exact_ref(text: str, index: ModelIndex) -> bool:
        return text in index.entries

    def _explicit(self, provider_id: str, model: str, role: str, c: Command, config: Config,
                  index: ModelIndex) -> Reply:
        from . import catalog

        found = catalog.preset(provider_id)
        pid = provider_id if provider_id in config.providers or found is None else found.id
        ref = f"{pid}/{model}"
        known = index.listed.get(pid, [])
        ids = {e.model for e in known}
        if model and known and not c.force and model not in ids and f"{model}:latest" not in ids:
            _, matches = _search_in(known, model)
            if matches:
                return self._numbered(
                    f"{pid} lists no model {model!r}; did you mean:", matches, index,
                    footer=f"pick one: /model N — or /model --force {ref} to use the id as typed")
        whole = f"{provider_id}/{model}"
        elsewhere = [e.ref for e in index.mine_entries if e.model == whole and e.provider != pid][:2]
        hint = (f"did you mean {' or '.join(elsewhere)}? (the first part of PROVIDER/MODEL is the provider)"
                if elsewhere else None)
        return self._switch(ref, role, c, config, hint=hint)

    def _query(self, query: str, role: str, c: Command, index: ModelIndex) -> Reply:
        current = self._current_ref(role)
        prefer = current.partition("/")[0] if current else None
        tier, matches = index.search(query, prefer=prefer)
        if matches:
            clear = matches[0] if len(matches) == 1 else None
            if clear is None and tier == 0 and prefer:
                own = [m for m in matches if m.provider == prefer]
                clear = own[0] if len(own) == 1 else None
            if clear is not None:
                return self._switch(clear.ref, role, c)
            return self._numbered(f"{len(matches)} models match {query!r}:", matches, index,
                                  footer="pick one: /model N (or narrow the query)")
        unlisted = prefer is not None and not index.listed.get(prefer) and "/" not in query and " " not in query
        if index.mine_entries:
            tier, elsewhere = index.search(query, everywhere=True, prefer=prefer)
            if elsewhere:
                footer = "pick one: /model N (you may need its key: llmswitch key set PROVIDER)"
                if unlisted:
                    footer += (f"\n{prefer} has no model list yet — /model {prefer}/{query} uses the id as typed "
                               f"(llmswitch probe {prefer} fetches its list)")
                return self._numbered(f"none of your providers has {query!r}; in the catalog:", elsewhere, index,
                                      footer=footer)
        close = index.did_you_mean(query)
        hint = f"did you mean {', '.join(close)}?" if close else "see /models"
        if "/" not in query and " " not in query:
            if unlisted:
                hint = (f"{prefer} has no model list yet, so {query!r} was not looked up — to use it as typed: "
                        f"/model {prefer}/{query}")
            else:
                hint += f" (to use an id as typed: /model PROVIDER/{query})"
        return Reply(f"no model matches {query!r} — {hint}", ok=False)

    def _numbered(self, title: str, matches: list[Match], index: ModelIndex, footer: str,
                  role: str | None = None) -> Reply:
        shown = matches[:LIST_LIMIT]
        self.choices = tuple(m.ref for m in shown)
        current = self._current_ref(role or self.role)
        width = min(max(len(m.ref) for m in shown), 60)
        lines = [title]
        for n, m in enumerate(shown, start=1):
            info = m.info or index.info(m.ref)
            mark = "*" if m.ref == current else " "
            extra = f"ctx {_fmt_tokens(info.context):>5}  {_fmt_price(info)}" if info else ""
            lines.append(f"{mark}{n:>3}  {m.ref:<{width}}  {extra}".rstrip())
        if len(matches) > len(shown):
            lines.append(f"      … {len(matches) - len(shown)} more — narrow it: /models QUERY")
        lines.append(footer)
        return Reply("\n".join(lines), choices=self.choices)

    def _list(self, c: Command) -> Reply:
        config = self._config()
        index = self.index(config)
        role = c.role or self.role
        current = self._current_ref(role)
        q = c.query
        if not q:
            matches = [e.match() for e in index.mine_entries]
            if current and current not in {m.ref for m in matches}:
                pid, _, model = current.partition("/")
                matches.insert(0, Match(pid, model, "", index.info(current)))
            if not matches:
                return Reply("no providers of yours yet — add one: llmswitch providers add ID, or /models QUERY "
                             "searches the catalog", ok=False)
            recent = {r: i for i, r in enumerate(index.recent)}
            matches.sort(key=lambda m: (m.ref != current, recent.get(m.ref, len(recent)), m.provider, m.model))
            title = f"{len(matches)} models from your providers ({', '.join(index.mine) or '-'}):"
        elif q.rstrip("/") in index.provider_set and " " not in q:
            pid = q.rstrip("/")
            from . import catalog

            preset = catalog.preset(pid)
            pid = pid if pid in config.providers or preset is None else preset.id
            matches = index.models_of(pid)
            if not matches:
                return Reply(f"{pid}: no models known yet — run: llmswitch probe {pid}", ok=False)
            title = f"{pid}: {len(matches)} models:"
        else:
            head, slash, rest = q.partition("/")
            if slash and head in index.provider_set and " " not in q:
                _, matches = _search_in(index.by_provider.get(head, []), rest)
            else:
                _, matches = index.search(q, prefer=current.partition("/")[0] if current else None)
                if not matches:
                    _, matches = index.search(q, everywhere=True)
            if not matches:
                close = index.did_you_mean(q)
                return Reply(f"no model matches {q!r}" + (f" — did you mean {', '.join(close)}?" if close else ""),
                             ok=False)
            title = f"{len(matches)} models match {q!r}:"
        return self._numbered(title, matches, index, footer="switch: /model N (this session) · /model --save N",
                              role=role)

    def _show_or_pick(self, role: str, c: Command) -> Reply:
        interactive = self.interactive
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        if interactive:
            picker = self.picker
            if picker is None:
                try:
                    from .app import pick as picker  # type: ignore[attr-defined]
                except ImportError:
                    picker = None
            if picker is not None:
                try:
                    chosen = picker(role)
                except Exception as exc:  # noqa: BLE001 - the command still answers without the picker
                    return Reply(self.describe(role) + "\n" + USAGE,
                                 warnings=(f"the picker could not open ({type(exc).__name__}: {exc})",))
                if not chosen:
                    current = self._current_ref(role)
                    return Reply(f"kept {current}" if current else "nothing chosen")
                return self._switch(chosen, role, c)
        return Reply(self.describe(role) + "\n" + USAGE)

    def describe(self, role: str | None = None, *, label: bool = True) -> str:
        """One line: the role's selection and where it comes from (``label``: "role R: " before other roles)."""
        role = role or self.role
        who = "" if role == DEFAULT_ROLE or not label else f"role {role}: "
        kept = self._overrides.get(role)
        try:
            saved: str | None = self.saved(role).ref
            problem = None
        except NoSelection as exc:
            saved, problem = None, str(exc)
        except SelectionError as exc:
            saved, problem = None, str(exc)
        if kept is not None:
            file = f"active.toml has {saved}" if saved else "active.toml has none"
            return f"{who}{kept.ref} — this session only ({file}; /model --reset follows it, /model --save keeps it)"
        if saved:
            return f"{who}{saved} — from active.toml (saved; other tools use it too)"
        return f"{who}{problem}"

    def _reset(self, role: str) -> Reply:
        dropped = self._overrides.pop(role, None)
        who = "" if role == DEFAULT_ROLE else f" (role {role})"
        try:
            now = self.saved(role).ref
        except SelectionError as exc:
            return Reply(f"this session now follows active.toml{who}, which has no model — {exc}", ok=dropped is not None)
        if dropped is None:
            return Reply(f"this session already follows active.toml{who}: {now}")
        return Reply(f"this session follows active.toml again{who}: {now} (dropped {dropped.ref})",
                     selection=self.saved(role), scope="session")

    def _save_session(self, role: str, c: Command) -> Reply:
        kept = self._overrides.get(role)
        if kept is None:
            try:
                now = self.saved(role).ref
            except SelectionError as exc:
                return Reply(f"nothing to save — {exc}", ok=False)
            return Reply(f"nothing to save: this session already uses active.toml's {now}")
        return self._switch(kept.ref, role, c, checked=True)

    # -- switching
    def _switch(self, ref: str, role: str, c: Command, config: Config | None = None, *, checked: bool = False,
                hint: str | None = None) -> Reply:
        from . import switch as _switch
        from .config import plain_http_warning

        config = config or self._config()
        try:
            provider, model = _switch.parse_ref(ref, config)
        except _switch.SwitchError as exc:
            return Reply(str(exc), ok=False)
        ref = f"{provider.id}/{model}"
        before = self._current_ref(role)
        warnings: list[str] = []
        if not checked:
            refused, notes = self._check(provider, model, c.force)
            if refused:
                keep = f"still {before}" if before else "nothing selected"
                force = f"/model --force {'--save ' if c.save else ''}{ref}"
                extra = f"\n{hint}" if hint else ""
                return Reply(f"{refused}\nnot switched ({keep}) — {force} switches anyway{extra}", ok=False)
            warnings += notes
            if hint and notes:
                warnings.append(hint)
        if c.save:
            try:
                result = _switch.switch(ref, role, config, check_key=False)
            except _switch.SwitchError as exc:
                return Reply(str(exc), ok=False)
            self._overrides.pop(role, None)
            self._index = None
            try:
                self.saved(role)  # absorb our own write: poll() must not report it as a change elsewhere
            except SelectionError:
                pass
            self._seen[role] = result.selection.ref
            for w in result.warnings:
                if w not in warnings and not any(w in seen for seen in warnings):
                    warnings.append(w)
            who = "the default" if role == DEFAULT_ROLE else f"role {role}"
            return Reply(f"saved {ref} as {who} in active.toml — other tools and new sessions use it now",
                         selection=result.selection, scope="saved", warnings=tuple(warnings))
        sel = _switch.selection_for(provider, model, role)
        if not checked:
            http = plain_http_warning(provider)
            if http and provider.key_required:
                warnings.append(http)
        self._overrides[role] = sel
        from . import state

        try:
            state.add_recent(ref)
        except OSError:
            pass
        if role == DEFAULT_ROLE:
            text = f"switched this session to {ref} — not saved; /model --save makes it the default"
        else:
            text = (f"switched role {role} in this session to {ref} — not saved; "
                    f"/model --save --role {role} makes it the default")
        if before == ref:
            text = f"{ref} was already in use; " + text
        return Reply(text, selection=sel, scope="session", warnings=tuple(warnings))

    def _check(self, provider: ProviderConfig, model: str, force: bool) -> tuple[str | None, list[str]]:
        """(why not to switch or None, warnings): the key, then a short probe."""
        from . import switch as _switch

        notes: list[str] = []
        from .keys import KeyProblem, resolve_for

        try:
            resolve_for(provider).require()
        except KeyProblem as exc:
            if not force:
                return str(exc), []
            notes.append(str(exc))
        if self.probe_timeout is None:
            warning = _switch.model_warning(provider, model)
            return None, notes + ([warning] if warning else [])
        result = self._probe(provider, model)
        if result is None:
            return None, notes
        outcome = str(result.outcome)
        if result.models and outcome in ("ok", "keyless", "model_missing", "rate_limited"):
            self._remember(provider, result.models)
        if outcome in _UNREACHABLE or outcome in _KEY_REFUSED:
            if not force:
                return result.sentence(), []
            notes.append(result.sentence())
        elif outcome == "model_missing":
            if f"{model}:latest" not in result.models:
                notes.append(result.sentence())
        elif not result.usable and outcome != "cancelled":
            notes.append(result.sentence())
        return None, notes

    def _probe(self, provider: ProviderConfig, model: str):
        from . import probe as _probe_mod
        from .probe import targets

        target, _problem = targets.for_provider(provider, model, timeout=self.probe_timeout)
        return _run_async(_probe_mod.probe(target))

    def refresh(self, role: str | None = None) -> bool:
        """Fetch the model list of the role's provider when none is cached (for queries and completion).

        One probe with the switch timeout; quiet on failure. True when a list was stored.
        """
        from . import state
        from .config import ConfigError, UnknownProvider

        try:
            sel = self.selection(role)
            provider = self._config().provider(sel.provider)
        except (SelectionError, ConfigError, UnknownProvider, _Refused):
            return False
        if state.known_models(provider.id, provider.base_url) is not None or self.probe_timeout is None:
            return False
        try:
            result = self._probe(provider, sel.model)
        except Exception:  # noqa: BLE001 - a background nicety must never break the REPL
            return False
        if result is None or not result.models or str(result.outcome) not in ("ok", "keyless", "model_missing",
                                                                                "rate_limited"):
            return False
        self._remember(provider, result.models)
        return True

    def _remember(self, provider: ProviderConfig, models: Iterable[str]) -> None:
        from . import state

        try:
            state.remember_models(provider.id, provider.base_url or "", list(models))
        except OSError:
            return
        self._index = None

    # -- completion
    def index(self, config: Config | None = None) -> ModelIndex:
        """The (cached) model index; rebuilt when config.toml, the model cache or recents change."""
        from . import paths

        key = (_selection.file_state(paths.config_file()), _mtime(_models_cache_dir()),
               _mtime(paths.state_dir() / "recent.json"))
        with self._index_lock:
            if self._index is None or key != self._index_key:
                if config is None:
                    from .config import Config, ConfigError, load

                    try:
                        config = load()
                    except ConfigError:
                        config = Config(paths.config_file(), False, {})
                current = None
                try:
                    current = self.selection().ref
                except SelectionError:
                    pass
                self._index = ModelIndex(config, extra_refs=[o.ref for o in self._overrides.values()],
                                         current=current)
                self._index_key = key
            return self._index

    def warm(self) -> None:
        """Build the completion index now (e.g. in a background thread at start-up)."""
        try:
            self.index()
        except Exception:  # noqa: BLE001 - completion is a nicety; handle() reports real problems
            pass

    def complete(self, line: str) -> list[str]:
        """Completions for the last word of ``line`` (the text before the cursor). Offline, cached index."""
        words = line.split()
        word = "" if not words or line[-1:].isspace() else words[-1]
        done = words if not word else words[:-1]
        if not done:
            return [c for c in self.commands if c.startswith(word)] if word.startswith("/") or not word else []
        command = done[0]
        if command == "/role":
            return [r for r in self.roles() if r.startswith(word)]
        if command not in COMMANDS or command not in self.commands:
            return []
        if done[-1] == "--role":
            return [r for r in self.roles() if r.startswith(word)]
        if word.startswith("-"):
            flags = ("--role",) if command == "/models" else FLAGS
            return [f for f in flags if f.startswith(word) and f not in done]
        try:
            index = self.index()
        except Exception:  # noqa: BLE001 - never break the user's prompt
            return []
        current = self._current_ref(self.role)
        return index.complete_word(word, prefer=current.partition("/")[0] if current else None)

    def roles(self) -> list[str]:
        """Roles set in active.toml or in this session, and ``default``."""
        try:
            roles = set(_selection.read_all())
        except SelectionError:
            roles = set()
        return sorted(roles | set(self._overrides) | {DEFAULT_ROLE})

    def readline_completer(self, text: str, state: int) -> str | None:
        """For ``readline.set_completer`` (set the delimiters to whitespace: ids contain / - . :)."""
        if state == 0:
            import readline

            line = readline.get_line_buffer()[: readline.get_begidx()] + text
            found = self.complete(line)
            if len(found) == 1 and found[0].endswith("/"):  # readline would add a space after "openrouter/"
                more = self.complete(line[: len(line) - len(text)] + found[0])
                found = more if len(more) > 1 else found
            self._completion_cache = (text, found, line)
        cached = self._completion_cache
        if cached is None or state >= len(cached[1]):
            return None
        return cached[1][state]

    def prompt_toolkit_completer(self):
        """A ``prompt_toolkit.completion.Completer`` (prompt_toolkit is imported here, not before)."""
        from prompt_toolkit.completion import Completer, Completion

        switcher = self

        class ModelCompleter(Completer):
            def get_completions(self, document, complete_event):
                line = document.text_before_cursor
                words = line.split()
                word = "" if not words or line[-1:].isspace() else words[-1]
                found = switcher.complete(line)
                index = switcher._index
                for text in found:
                    meta = ""
                    if index is not None and "/" in text and not text.endswith("/"):
                        info = index.info(text)
                        if info is not None:
                            meta = f"ctx {_fmt_tokens(info.context)} {_fmt_price(info)}".strip()
                    yield Completion(text, start_position=-len(word), display_meta=meta)

        return ModelCompleter()


def _search_in(entries: list[_Entry], query: str) -> tuple[int, list[Match]]:
    return _search(entries, query, None, [])


def _search(pool: Iterable[_Entry], query: str, prefer: str | None, recent_refs: list[str], *,
            loose: bool = True) -> tuple[int, list[Match]]:
    """Best tier of matches: 0 exact id/name, 1 prefix, 2 substring, 3 all words (``loose``: or letters in order)."""
    q = " ".join(query.lower().split())
    if not q:
        return -1, []
    tokens = q.split()
    compact = _SEPARATORS.sub("", q)
    tiers: list[list[_Entry]] = [[], [], [], []]
    for e in pool:
        if q in (e.model_l, e.tail_l, e.name_l, e.ref_l):
            tiers[0].append(e)
        elif e.model_l.startswith(q) or e.tail_l.startswith(q) or (e.name_l and e.name_l.startswith(q)):
            tiers[1].append(e)
        elif q in e.hay:
            tiers[2].append(e)
        elif all(t in e.hay for t in tokens) or (loose and len(compact) >= 3 and compact in e.compact):
            tiers[3].append(e)
    recent = {ref: i for i, ref in enumerate(recent_refs)}
    for tier, found in enumerate(tiers):
        if found:
            found.sort(key=lambda e: (e.provider != prefer, recent.get(e.ref, len(recent)), len(e.model), e.ref_l))
            return tier, [e.match() for e in found]
    return -1, []


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def _run_async(coro):
    """Run a coroutine to completion from sync code, even when an event loop is running here."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: dict[str, Any] = {}

    def runner() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=runner, name="llmswitch-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


USAGE = ("/model QUERY · /model PROVIDER/MODEL · /model N · /models [QUERY] · "
         "--save (write active.toml) · --role R · --force · /model --reset")


# --- model names and errors ---------------------------------------------------------------------

def same_model(requested: str, reported: str | None) -> bool:
    """Whether the model a server reports is the one asked for, allowing for how servers name them.

    Same: ``gpt-4o-mini`` → ``gpt-4o-mini-2024-07-18`` (a dated snapshot), ``llama3`` →
    ``llama3:latest``, ``openai/gpt-4o`` → ``gpt-4o`` (vendor prefix), ``anthropic/claude-sonnet-4``
    → ``anthropic/claude-4-sonnet-20250522`` (OpenRouter's canonical slug). Not the same:
    ``gpt-4o`` → ``gpt-4o-mini``, or any other name.
    """
    if not reported:
        return True
    asked = _name_tokens(requested)
    got = _name_tokens(reported)
    for token in asked:
        if token not in got:
            return False
        got.remove(token)
    return all(re.fullmatch(r"\d{4,}|latest", token) for token in got)


def _name_tokens(model: str) -> list[str]:
    tail = re.sub(r"(\d{4})-(\d{2})-(\d{2})", r"\1\2\3", model.lower().rsplit("/", 1)[-1])  # one date token
    return [t for t in re.split(r"[-_.:@\s]+", tail) if t]


def explain_error(exc: BaseException, sel: ActiveSelection, key: str | None = None,
                  timeout: float | None = None) -> str:
    """One sentence (cause — fix) for an ``openai`` exception from a request made with ``sel``.

    Uses the probe's classification so a chat error reads like ``llmswitch probe``:
    ``ollama: no server on 127.0.0.1:11434 — start it: ollama serve``.
    """
    from dataclasses import replace

    from . import probe as _probe_mod
    from .probe import targets
    from .redact import scrub, terminal_safe

    target = targets.for_selection(sel, key)
    if timeout is not None:
        target = replace(target, timeout=timeout)
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    body = getattr(exc, "body", None)
    if status is None and body is not None and not _is_transport_error(exc):  # an error event inside the stream
        error = body.get("message") if isinstance(body, dict) else body
        said = terminal_safe(scrub(str(error or getattr(exc, "message", "")), key), 120)
        return _sentence(sel.provider, f'the server stopped the answer with an error ("{said}")', None, None,
                         "try again; if it keeps happening, look at the server's logs or pick another model: /models")
    if status is None or response is None:
        diagnose = _probe_mod.diagnose_error
        if diagnose is None:  # pragma: no cover
            return f"{sel.provider}: {terminal_safe(str(exc), 200)}"
        d = diagnose(exc, target, sel.base_url)
        return _sentence(sel.provider, d.summary, None, None, d.fix)
    try:
        body = response.content
    except Exception:  # noqa: BLE001 - a streamed response may be closed already
        body = b""
    d = _probe_mod.classify(status, dict(response.headers), body, target=replace(target, model=None))
    message = d.server_message
    outcome = str(d.outcome)
    text = (message or "").lower()
    if status in (400, 404, 422) and "model" in text and re.search(
            r"not found|does not exist|not exist|unknown|invalid model|no such|not available|unsupported|pull", text):
        fix = (f"run: ollama pull {sel.model}, or pick another: /models" if (sel.provider == "ollama")
               else "pick another: /models, or check the id with: llmswitch list " + sel.provider)
        return _sentence(sel.provider, f"model {terminal_safe(sel.model, 80)} not available", status, message, fix)
    if outcome == "not_found":
        return _sentence(sel.provider, "no chat endpoint at " + terminal_safe(sel.base_url, 120) + "/chat/completions",
                         status, message, "check base_url (OpenAI-compatible servers usually end in /v1)")
    if outcome == "ambiguous" and status == 400:
        return _sentence(sel.provider, "request refused", status, message,
                         "the server did not accept this request for " + terminal_safe(sel.model, 80))
    return _sentence(sel.provider, d.summary, status, message, d.fix)


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, openai.APIConnectionError)


def _sentence(provider: str, summary: str, status: int | None, message: str | None, fix: str | None) -> str:
    from .redact import terminal_safe

    text = f"{provider}: {summary}"
    if status is not None and status >= 300:
        text += f' (HTTP {status} "{terminal_safe(message, 80)}")' if message else f" (HTTP {status})"
    if fix:
        text += f" — {fix}"
    return text

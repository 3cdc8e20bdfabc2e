"""``connect`` never loses a byte of another tool's file: a model-based test per tool module (issue 19).

One hypothesis ``RuleBasedStateMachine`` runs over every tool in :data:`llmswitch.tools.connect.TOOLS`
(a new module is covered once it has a :data:`SPECS` row). Steps: ``connect``, ``use`` of another
model and of another provider (the real :func:`llmswitch.services.switch.switch`, which follows), the user
editing the file (adding, changing and deleting their own lines or members before, inside and
after our block, deleting one of our markers, changing one of our values, reformatting JSON), the
tool's location override changing (and, for opencode, an ``opencode.jsonc`` appearing),
``connect --repair``, ``disconnect`` and — in :class:`KillMachine` — a kill -9 of a real
``llmswitch`` process in the middle of a write.

After every step: every line or member the user has not deleted is still there (a user's line
carries the word ``uline``; displaced ones count), the tool's own parser reads each file
(tomllib, json, an independent JSONC reader for opencode, ``yaml.safe_load``), our part is whole or
absent unless the user broke it (then llmswitch wrote nothing), files llmswitch did not record are
untouched, no temp or lock file of ours is left in a tool's directory, and after ``disconnect``
the file is the user's content with our parts removed (byte for byte when nothing was edited).

CI runs a few hundred steps per tool in-process; ``LLMSWITCH_LONG_PROPERTIES=1`` runs thousands.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dotenv
import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from llmswitch.base.errors import LlmswitchError
from llmswitch.tools import connect as connect_pkg
from llmswitch.tools.connect import engine, textedit
from llmswitch.tools.connect._jsonmembers import ABSENT
from llmswitch.tools.connect.base import Protocol
from upstreams import Reply

LONG = os.environ.get("LLMSWITCH_LONG_PROPERTIES") == "1"
"""The long profile: thousands of steps per tool (minutes); CI runs the short one."""

MAIN = settings(max_examples=250 if LONG else 20, stateful_step_count=40 if LONG else 15, deadline=None,
                suppress_health_check=list(HealthCheck), database=None)
KILLS = settings(max_examples=30 if LONG else 3, stateful_step_count=12 if LONG else 6, deadline=None,
                 suppress_health_check=list(HealthCheck), database=None)

TOOL_VARS = ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "LLM_USER_PATH", "CONTINUE_GLOBAL_DIR", "PI_CODING_AGENT_DIR",
             "QWEN_HOME", "GEMINI_CLI_HOME", "MSWEA_GLOBAL_CONFIG_DIR")
"""The variables that move a tool's files (each machine sets its own tool's)."""

MINE = "uline"
"""Every line or member name the user writes carries this word; nothing llmswitch writes does."""
REFS = ["up/m1", "up/m2", "up/m3", "alt/a1", "alt/a2"]
DISPLACED = re.compile(r"^# llmswitch-displaced: \[[^\]]+\] ")
MARKER = re.compile(r"^\s*# (>>>|<<<) llmswitch ")
SIMPLE = re.compile(r"^(# uline note \d+|uline[-_]\d+\s*[=:]\s*\d+)$")


def loads_jsonc(text: str) -> Any:
    """A JSONC reader independent of llmswitch's: strings kept, comments and trailing commas dropped, then json."""
    token = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
    bare = token.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)
    strings: list[str] = []
    bare = re.sub(r'"(?:\\.|[^"\\])*"', lambda m: strings.append(m.group(0)) or f'"\x00{len(strings) - 1}"', bare)
    bare = re.sub(r",(\s*[}\]])", r"\1", bare)
    return json.loads(re.sub(r'"\x00(\d+)"', lambda m: strings[int(m.group(1))], bare))


@dataclass
class Spec:
    """How one tool's files look to its user: the override, the formats, what the user starts with and adds."""

    tool: str
    var: str
    """The env var that moves the tool's files (HOME for aider)."""
    formats: dict[str, str]
    """Label → toml | yaml | json | jsonc | text."""
    initial: dict[str, str]
    """Label → the user's file before llmswitch (when the example starts with one)."""
    setting: str = ""
    """A user's one-line setting (``{n}`` filled in), for text formats."""
    setting_anywhere: bool = False
    """The setting may go on any line (a YAML mapping of top-level keys), else only first or last."""
    unit: str = ""
    """A user's multi-line unit appended at the end (a TOML table, an llm model entry)."""
    nested: str = ""
    """JSON: the object where the user adds members of their own (env, provider)."""
    ours_changed: tuple[tuple[str, ...], ...] = ()
    """JSON: members llmswitch owns that a user might change or remove (in the first file, the one the user edits)."""
    preset: str = ""
    """The preset providers ``up`` and ``alt`` name (Gemini CLI connects only to one documented to serve its API)."""

    def location(self, root: Path) -> str:
        return str(root)


SPECS = {
    "codex": Spec("codex", "CODEX_HOME", {"config": "toml"},
                  {"config": '# uline settings of mine\nuline_0 = 0\nmodel = "uline-o3"\n[uline_t0]\nuline_t0_k = 1\n'},
                  setting="uline_{n} = {n}", unit="[uline_t{n}]\nuline_t{n}_k = {n}\n"),
    "aider": Spec("aider", "HOME", {"config": "yaml"}, {"config": "# uline options\nuline-0: 0\nmodel: uline-gpt-4\n"},
                  setting="uline-{n}: {n}", setting_anywhere=True),
    "llm": Spec("llm", "LLM_USER_PATH", {"models": "yaml", "default": "text"},
                {"models": "- model_id: uline-0\n  model_name: uline-0\n", "default": "uline-default\n"},
                unit="- model_id: uline-e{n}\n  model_name: uline-e{n}\n"),
    "continue-cli": Spec("continue-cli", "CONTINUE_GLOBAL_DIR", {"config": "yaml"},
                         {"config": "name: uline config\nversion: 1.0.0  # uline\nschema: v1  # uline\nmodels:  # uline\n"
                                    "  - name: uline-m\n    provider: ollama  # uline\n    model: uline-llama\n"},
                         setting="uline_{n}: {n}"),
    "claude-code": Spec("claude-code", "CLAUDE_CONFIG_DIR", {"settings": "json"},
                        {"settings": json.dumps({"uline_0": 0, "apiKeyHelper": "uline-helper", "env": {
                            "uline_env": "1"}, "permissions": {"uline_allow": ["Bash(ls)"]}}, indent=2) + "\n"},
                        nested="env", ours_changed=(("env", "ANTHROPIC_MODEL"), ("env", "ANTHROPIC_BASE_URL"),
                                                    ("apiKeyHelper",))),
    "opencode": Spec("opencode", "XDG_CONFIG_HOME", {"config": "jsonc"},
                     {"config": '{\n  "$schema": "https://opencode.ai/config.json",\n  // uline comment\n  "uline_0": 0,\n'
                                '  "model": "uline/x",\n  "provider": {"uline_p": {"npm": "uline-npm"}},\n}\n'},
                     nested="provider", ours_changed=(("model",), ("small_model",), ("provider", "llmswitch"))),
    "gptme": Spec("gptme", "HOME", {"config": "toml"},
                  {"config": '# uline gptme settings\nuline_0 = 0\nproviders = []  # uline\n[models]  # uline\n'
                             'default = "uline/m"\nfavorites = ["uline"]\n[uline_t0]\nuline_t0_k = 1\n'},
                  setting="uline_{n} = {n}", unit="[uline_t{n}]\nuline_t{n}_k = {n}\n"),
    "shell-gpt": Spec("shell-gpt", "HOME", {"config": "sgptrc"},
                      {"config": "# uline sgpt\nuline_0=0\nDEFAULT_MODEL=uline-gpt-4\nOPENAI_API_KEY=uline-sk\n"},
                      setting="uline_{n}={n}", setting_anywhere=True),
    "mini-swe-agent": Spec("mini-swe-agent", "MSWEA_GLOBAL_CONFIG_DIR", {"config": "dotenv"},
                           {"config": "# uline mini\nuline_0=0\nMSWEA_MODEL_NAME=uline/gpt\nOPENAI_API_KEY=uline-sk\n"},
                           setting="uline_{n}={n}", setting_anywhere=True),
    "kilo": Spec("kilo", "XDG_CONFIG_HOME", {"config": "json"},
                 {"config": json.dumps({"$schema": "https://app.kilo.ai/config.json", "uline_0": 0, "model": "uline/x",
                                        "provider": {"uline_p": {"npm": "uline-npm"}}}, indent=2) + "\n"},
                 nested="provider", ours_changed=(("model",), ("small_model",), ("provider", "llmswitch"))),
    "pi": Spec("pi", "PI_CODING_AGENT_DIR", {"settings": "json", "models": "json"},
               {"settings": json.dumps({"uline_0": 0, "defaultProvider": "uline-p", "defaultModel": "uline-m",
                                        "compaction": {"uline_c": 1}}, indent=2) + "\n",
                "models": json.dumps({"providers": {"uline_p": {"baseUrl": "http://uline", "apiKey": "ULINE_KEY",
                                                                 "models": [{"id": "uline-m"}]}}}, indent=2) + "\n"},
               nested="compaction", ours_changed=(("defaultProvider",), ("defaultModel",))),
    "qwen-code": Spec("qwen-code", "QWEN_HOME", {"settings": "json"},
                      {"settings": json.dumps({"$version": 4, "uline_0": 0, "model": {"name": "uline-q", "uline_m": 1},
                                               "security": {"auth": {"selectedType": "qwen-oauth"}},
                                               "modelProviders": {"openai": [{"id": "uline-q", "envKey": "ULINE"}],
                                                                  "uline_anthropic": []}}, indent=2) + "\n"},
                      nested="model", ours_changed=(("model", "name"), ("security", "auth", "selectedType"),
                                                    ("modelProviders", "openai"))),
    "gemini-cli": Spec("gemini-cli", "GEMINI_CLI_HOME", {"settings": "json", "env": "dotenv"},
                       {"settings": json.dumps({"uline_0": 0, "model": {"name": "uline-g", "uline_m": 1},
                                                "security": {"auth": {"selectedType": "oauth-personal"}}}, indent=2)
                        + "\n", "env": "# uline env\nuline_0=0\nGEMINI_API_KEY=uline-google-key\n"},
                       setting="uline_{n}={n}", setting_anywhere=True, nested="model",
                       ours_changed=(("model", "name"), ("security", "auth", "selectedType")), preset="litellm"),
}


def test_every_tool_module_has_a_model():
    assert set(SPECS) == set(connect_pkg.names())


# --- reading files the way the tools do --------------------------------------------------------

def parse(fmt: str, text: str) -> Any:
    if fmt == "toml":
        return tomllib.loads(text)
    if fmt == "yaml":
        return yaml.safe_load(text)
    if fmt == "json":
        return json.loads(text) if text.strip() else {}
    if fmt == "jsonc":
        return loads_jsonc(text) if text.strip() else {}
    if fmt == "sgptrc":
        return sgptrc(text)
    if fmt == "dotenv":
        return dotenv.dotenv_values(stream=io.StringIO(text))
    return text


def sgptrc(text: str) -> dict[str, str]:
    """shell-gpt's Config._read: each non-blank line not starting with # must be KEY=value (else it stops)."""
    values = {}
    for line in io.StringIO(text):
        if line.strip() and not line.startswith("#"):
            key, value = line.strip().split("=", 1)
            values[key] = value
    return values


def user_lines(text: str | None) -> list[str]:
    """The user's lines in order (a displaced line is the user's line it stands for)."""
    return [DISPLACED.sub("", line) for line in (text or "").splitlines(keepends=True)
            if MINE in DISPLACED.sub("", line)]


def user_members(data: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every member whose name is the user's, with its value."""
    found: dict[tuple[str, ...], Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if MINE in key:
                found[(*prefix, key)] = value
            else:
                found.update(user_members(value, (*prefix, key)))
    return found


def read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def get_path(data: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            return ABSENT
        data = data[name]
    return data


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set (or with ``ABSENT`` remove) a member; parents are created only to set one."""
    for name in path[:-1]:
        if value == ABSENT and not isinstance(data.get(name), dict):
            return
        data = data.setdefault(name, {})
    if value == ABSENT:
        data.pop(path[-1], None)
    else:
        data[path[-1]] = value


def without_new_empties(data: dict[str, Any], start: Any) -> dict[str, Any]:
    """``data`` without the objects that are empty now and were not in the file at the start (bottom up)."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        before = start.get(key) if isinstance(start, dict) else None
        if isinstance(value, dict):
            value = without_new_empties(value, before)
            if value == {} and not isinstance(before, dict):
                continue
        kept[key] = value
    return kept


def fmt_of(path: Path) -> str:
    """The format the tool reads this file in (opencode reads its .json as JSONC too)."""
    if path.suffix == ".toml":
        return "toml"
    if path.suffix in (".yml", ".yaml"):
        return "yaml"
    if path.suffix == ".jsonc" or path.name == "opencode.json":
        return "jsonc"
    if path.name in (".sgptrc", ".env"):
        return "sgptrc" if path.name == ".sgptrc" else "dotenv"
    return "json" if path.suffix == ".json" else "text"


# --- the machine ---------------------------------------------------------------------------------

@dataclass
class Cycle:
    """One connection: where (the site's files), what they held at connect, what llmswitch wrote last."""

    files: dict[str, Path]
    start: dict[str, str | None]
    edited: bool = False
    original_members: dict[tuple[str, ...], Any] = field(default_factory=dict)
    original_parents: set[str] = field(default_factory=set)


class ConnectMachine(RuleBasedStateMachine):
    spec: Spec
    root: Path
    server: Any

    def __init__(self) -> None:
        super().__init__()
        self.base = Path(tempfile.mkdtemp(dir=self.root))
        self.tool = connect_pkg.tool(self.spec.tool)
        self.n = 0
        self.sites = 0
        env = {"LLMSWITCH_STATE_DIR": self.base / "state", "LLMSWITCH_CONFIG_DIR": self.base / "config",
               "LLMSWITCH_CACHE_DIR": self.base / "cache", "HOME": self.base / "home",
               "XDG_CONFIG_HOME": self.base / "home" / ".config"}
        for name in TOOL_VARS:
            os.environ.pop(name, None)
        for name, value in env.items():
            os.environ[name] = str(value)
        os.environ["UP_KEY"] = "sk-test-lossless-0001"
        config = self.base / "config"
        config.mkdir(parents=True)
        preset = f'preset = "{self.spec.preset}"\n' if self.spec.preset else ""
        (config / "config.toml").write_text(
            f'[providers.up]\nbase_url = "{self.server.url}/v1"\nkey_source = "env:UP_KEY"\n{preset}'
            f'[providers.alt]\nbase_url = "{self.server.url}/alt/v1"\nkey_source = "none"\n{preset}')
        from llmswitch.services.switch import switch

        switch("up/m1", check_key=False)
        self.move_to(self.fresh_site())
        self.cycle: Cycle | None = None
        self.damage: str | None = None  # "markers" or "changed" while the user has broken our part
        self.ours: dict[str, Any] = {}  # what our parts held after llmswitch last wrote
        self.expect_user: dict[Path, list[str]] = {}
        self.expect_members: dict[Path, dict[tuple[str, ...], Any]] = {}
        self.final: dict[Path, Any] = {}  # JSON / default file: what the file holds once we are gone
        self.adopted: dict[Path, list[str]] = {}  # lines that were ours until the user changed and unmarked them

    def teardown(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------

    def fresh_site(self) -> Path:
        self.sites += 1
        return self.base / f"site{self.sites}"

    def move_to(self, site: Path) -> None:
        os.environ[self.spec.var] = str(site)

    def files(self) -> dict[str, Path]:
        return self.tool.files()

    def known_paths(self) -> set[Path]:
        """Every file in the tools' directories (llmswitch's own config and state dirs are not theirs)."""
        found = set()
        for top, dirs, names in os.walk(self.base):
            if top == str(self.base):
                dirs[:] = [d for d in dirs if d not in ("state", "config", "cache")]  # not walked at all
            found.update(Path(top, n) for n in names if not n.endswith(".tmp"))
        return {p for p in found if p.is_file()}

    def no_temps(self) -> None:
        temps = [p for p in self.base.rglob("*.tmp") if p.relative_to(self.base).parts[0] not in ("state", "config")]
        assert not temps, f"temp files left beside a tool's file: {temps}"

    def snapshot(self) -> dict[Path, str | None]:
        return {p: read(p) for p in self.known_paths()}

    def fmt(self, label: str) -> str:
        return self.spec.formats[label]

    def record_user(self, files: dict[str, Path]) -> None:
        """After the user's edit: what is theirs in these files (the model of their content)."""
        for label, path in files.items():
            text = read(path)
            if self.fmt(label) in ("json", "jsonc"):
                self.expect_members[path] = user_members(parse(fmt_of(path), text or "{}"))
            elif self.fmt(label) != "text":
                self.expect_user[path] = user_lines(text)

    def ours_now(self, files: dict[str, Path]) -> dict[str, Any]:
        """What our parts hold: block bodies and marker problems, our members, llm's default file."""
        found: dict[str, Any] = {}
        for label, path in files.items():
            text = read(path)
            for part in self.tool.blocks.get(label, ()):
                found[f"{label}:{part}"] = (textedit.block_body(text or "", part),
                                            textedit.marker_problems(text or "", part))
            if self.fmt(label) in ("json", "jsonc"):
                data = parse(fmt_of(path), text or "{}")
                for member in self.spec.ours_changed:
                    found[f"{label}:{'/'.join(member)}"] = get_path(data, member)
            if self.fmt(label) == "text":
                found[f"{label}:file"] = text
        return found

    def judge_damage(self) -> None:
        """Whether the user's edits broke our part (then llmswitch must not write until repaired)."""
        if self.cycle is None:
            self.damage = None
            return
        now = self.ours_now(self.cycle.files)
        orphans = [key for key, value in now.items() if isinstance(value, tuple) and value[0] is None
                   and self.ours.get(key, (None,))[0] and textedit.line_of_any(
                       read(self.cycle.files[key.partition(":")[0]]) or "", self.ours[key][0]) is not None]
        for key, value in now.items():  # our block gone, markers and all, its lines all changed: theirs now
            if isinstance(value, tuple) and value[0] is None and self.ours.get(key, (None,))[0] and key not in orphans:
                path = self.cycle.files[key.partition(":")[0]]
                self.adopted[path] = [line for line in self.outside_blocks(read(path) or "")
                                      if MINE not in line and not DISPLACED.match(line)]
        if orphans or any(problems for body_problems in now.values() if isinstance(body_problems, tuple)
                          for problems in body_problems[1:]):
            self.damage = "markers"
        elif now != self.ours:
            self.damage = "changed"
        else:
            self.damage = None

    def outside_blocks(self, text: str) -> list[str]:
        """The lines of ``text`` outside every llmswitch block (markers excluded)."""
        found, inside = [], False
        for line in text.splitlines(keepends=True):
            if MARKER.match(line):
                inside = ">>>" in line
            elif not inside:
                found.append(line)
        return found

    def after_write(self) -> None:
        """llmswitch wrote: remember what our parts hold now."""
        assert self.cycle is not None
        self.ours = self.ours_now(self.cycle.files)
        self.damage = None

    def check_gone(self, cycle: Cycle) -> None:
        """After disconnect (or a move): each file is the user's content without our parts."""
        for label, path in cycle.files.items():
            text = read(path)
            existed = cycle.start[label] is not None
            if not cycle.edited:
                assert text == cycle.start[label], (path, text, cycle.start[label])
                continue
            fmt = self.fmt(label)
            if fmt == "text":
                want = self.final.get(path, cycle.start[label])
                assert text == want, (path, text, want)
            elif fmt in ("json", "jsonc"):
                want = self.final.get(path)
                if want and label == self.edited_label():  # an object llmswitch created goes when it is empty again
                    want = without_new_empties(want, parse(fmt_of(path), cycle.start[label] or "{}"))
                if not existed and not want:
                    assert text is None, (path, text)
                else:
                    assert text is not None and parse(fmt_of(path), text) == (want or {}), (path, text, want)
            elif self.adopted.get(path):  # lines that were ours, changed and unmarked by the user: theirs
                assert text is not None and user_lines(text) == self.expect_user.get(path, []), (path, text)
                assert sorted(line for line in text.splitlines(keepends=True) if MINE not in line) == sorted(
                    self.adopted[path]), (path, text, self.adopted[path])
            else:
                want_text = "".join(self.expect_user.get(path, []))
                if not existed and not want_text:
                    assert text is None, (path, text)
                else:
                    assert text == want_text, (path, text, want_text)
            if fmt in ("toml", "yaml", "sgptrc", "dotenv"):
                assert text is None or "llmswitch" not in text, (path, text)

    def begin_cycle(self, files: dict[str, Path]) -> None:
        start = {label: read(path) for label, path in files.items()}
        cycle = Cycle(files, start)
        for label, path in files.items():
            fmt = self.fmt(label)
            if fmt in ("json", "jsonc"):
                data = parse(fmt_of(path), start[label] or "{}")
                self.final[path] = copy.deepcopy(data) if start[label] is not None else None
                if label == self.edited_label():
                    cycle.original_members = {m: get_path(data, m) for m in self.spec.ours_changed}
                    cycle.original_parents = set(data)
            elif fmt == "text":
                self.final[path] = start[label]
        self.cycle = cycle

    def user_edit(self, files: dict[str, Path], label: str, text: str | None) -> None:
        path = files[label]
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        if self.cycle is not None and path in self.cycle.files.values():
            self.cycle.edited = True
        self.record_user(files)
        self.judge_damage()

    def target(self) -> dict[str, Path]:
        """The files the user edits: the connected ones, else those the tool reads now."""
        return self.cycle.files if self.cycle is not None else self.files()

    def follows(self) -> None:
        """The connected tool reads the selection (unless a killed run left it one step behind)."""
        from llmswitch.store.config import load

        assert self.cycle is not None
        targets = engine.targets_for(self.tool, {"main": "default"}, load())
        key = self.tool.key_plan(targets["main"])
        texts = {label: read(path) for label, path in self.cycle.files.items()}
        assert self.tool.read_back(texts).get("main") == engine.expected(self.tool, targets, key)["main"], texts

    def untouched(self, before: dict[Path, str | None], allowed: set[Path]) -> None:
        for path, text in before.items():
            if path not in allowed:
                assert read(path) == text, f"llmswitch changed {path}, which it had not recorded"
        for path in self.known_paths() - set(before) - allowed:
            raise AssertionError(f"llmswitch created {path}, which it had not recorded")

    # -- steps: llmswitch -----------------------------------------------------------------------

    @initialize(exists=st.booleans())
    def begin(self, exists: bool) -> None:
        if exists:
            for label, path in self.files().items():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(self.spec.initial[label])
        self.record_user(self.files())

    @rule()
    def connect(self) -> None:
        before = self.snapshot()
        files = self.files()
        if self.cycle is not None and self.damage is not None and (files == self.cycle.files
                                                                    or self.damage == "markers"):
            with pytest.raises(engine.Damaged) as refused:
                engine.connect(self.spec.tool)
            assert re.search(r":\d+: |was removed", refused.value.cause), refused.value.sentence()
            assert "--repair" in refused.value.sentence() or "can read" in refused.value.sentence()
            self.untouched(before, set())
            self.no_temps()
            return
        moved = self.cycle is not None and files != self.cycle.files
        old = self.cycle
        if self.cycle is None or moved:
            self.begin_cycle(files)
        engine.connect(self.spec.tool)
        if moved:
            assert old is not None
            self.check_gone(old)
        self.untouched(before, set(files.values()) | (set(old.files.values()) if old else set()))
        self.no_temps()
        self.after_write()
        self.follows()

    @rule(ref=st.sampled_from(REFS))
    def use(self, ref: str) -> None:
        from llmswitch.services.switch import switch

        before = self.snapshot()
        result = switch(ref, check_key=False)
        self.no_temps()
        if self.cycle is None:
            self.untouched(before, set())
            return
        now = self.files()
        if now != self.cycle.files:
            moved = [w for w in result.warnings if "llmswitch connect " + self.spec.tool in w]
            assert any(str(p) in w for w in moved for p in now.values()), result.warnings
            assert any(str(p) in w for w in moved for p in self.cycle.files.values()), result.warnings
        if self.damage is not None:
            assert any(f"{self.spec.tool} was not updated" in w for w in result.warnings), result.warnings
            self.untouched(before, set())
            return
        assert not [w for w in result.warnings if "was not updated" in w], result.warnings
        self.untouched(before, set(self.cycle.files.values()))
        self.after_write()
        self.follows()

    @precondition(lambda self: self.cycle is not None and self.damage is not None
                  and self.files() == self.cycle.files)
    @rule()
    def repair(self) -> None:
        assert self.cycle is not None
        before = self.snapshot()
        shown: list[engine.Change] = []
        engine.connect(self.spec.tool, repair=True, approve=lambda changes: shown.extend(changes) or True)
        assert shown and all(c.path in self.cycle.files.values() for c in shown)
        self.untouched(before, set(self.cycle.files.values()))
        self.no_temps()
        for label, path in self.cycle.files.items():  # every part is llmswitch's again: disconnect restores all
            fmt = self.fmt(label)
            if fmt in ("json", "jsonc") and label == self.edited_label():
                final = self.final.get(path) or {}
                for member in self.spec.ours_changed:
                    set_path(final, member, self.cycle.original_members.get(member, ABSENT))
                for key in [k for k, v in final.items() if v == {} and k not in self.cycle.original_parents]:
                    del final[key]  # a parent llmswitch created goes when it is empty again
                self.final[path] = final
            elif fmt == "text":
                self.final[path] = self.cycle.start[label]
        self.cycle.edited = True
        self.after_write()
        self.follows()

    @rule()
    def disconnect(self) -> None:
        before = self.snapshot()
        if self.cycle is None:
            with pytest.raises(LlmswitchError):
                engine.disconnect(self.spec.tool)
            self.untouched(before, set())
            return

        if self.damage == "markers":
            with pytest.raises(engine.Damaged) as refused:
                engine.disconnect(self.spec.tool)
            assert re.search(r":\d+: ", refused.value.cause) and "--repair" in refused.value.sentence()
            self.untouched(before, set())
            self.no_temps()
            return
        engine.disconnect(self.spec.tool)
        self.untouched(before, set(self.cycle.files.values()))
        self.no_temps()
        self.check_gone(self.cycle)
        self.cycle, self.damage, self.ours = None, None, {}

    # -- steps: the environment -----------------------------------------------------------------

    @rule(back=st.booleans())
    def location_changes(self, back: bool) -> None:
        self.move_to(self.base / "site1" if back else self.fresh_site())
        self.record_user(self.files())

    @precondition(lambda self: self.spec.tool == "opencode")
    @rule()
    def a_jsonc_appears(self) -> None:
        path = self.files()["config"].parent / "opencode.jsonc"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text('{\n  // uline: my jsonc\n  "uline_jsonc": 1,\n}\n')
            self.record_user(self.files())

    # -- steps: the user ------------------------------------------------------------------------

    def next_n(self) -> int:
        self.n += 1
        return self.n

    def text_labels(self) -> list[str]:
        return [label for label, fmt in self.spec.formats.items() if fmt in ("toml", "yaml", "sgptrc", "dotenv")]

    def edited_label(self) -> str:
        """The file the user's JSON edits go to (the first); its members are :attr:`Spec.ours_changed`."""
        return next(iter(self.spec.formats))

    @rule(where=st.floats(0, 1))
    def user_adds_a_comment(self, where: float) -> None:
        files = self.target()
        for label in self.text_labels():
            lines = (read(files[label]) or "").splitlines(keepends=True)
            lines.insert(int(where * len(lines)), f"# uline note {self.next_n()}\n")
            self.user_edit(files, label, "".join(lines))

    @rule(where=st.floats(0, 1), last=st.booleans())
    def user_adds_a_setting(self, where: float, last: bool) -> None:
        if not self.spec.setting:
            return
        files = self.target()
        label = self.text_labels()[0]
        lines = (read(files[label]) or "").splitlines(keepends=True)
        at = int(where * len(lines)) if self.spec.setting_anywhere else len(lines) if last else 0
        if self.spec.tool in ("codex", "gptme") and at:
            at = 0  # a top-level TOML key goes before the first table
        lines.insert(at, self.spec.setting.format(n=self.next_n()) + "\n")
        self.user_edit(files, label, "".join(lines))

    @rule()
    def user_appends_a_unit(self) -> None:
        if not self.spec.unit:
            return
        files = self.target()
        label = self.text_labels()[0]
        self.user_edit(files, label, (read(files[label]) or "") + self.spec.unit.format(n=self.next_n()))

    @rule(pick=st.integers(0, 50), delete=st.booleans())
    def user_changes_or_deletes_a_line(self, pick: int, delete: bool) -> None:
        files = self.target()
        for label in self.text_labels():
            lines = (read(files[label]) or "").splitlines(keepends=True)
            simple = [i for i, line in enumerate(lines) if SIMPLE.match(DISPLACED.sub("", line).rstrip("\n"))]
            if not simple:
                continue
            i = simple[pick % len(simple)]
            if delete:
                del lines[i]
            else:
                lines[i] = re.sub(r"(\d+)$", lambda m: str(int(m.group(1)) + 1000), lines[i].rstrip("\n")) + "\n"
            self.user_edit(files, label, "".join(lines))

    @precondition(lambda self: self.cycle is not None)
    @rule(pick=st.integers(0, 50))
    def user_deletes_one_of_our_markers(self, pick: int) -> None:
        assert self.cycle is not None
        for label in self.text_labels():
            lines = (read(self.cycle.files[label]) or "").splitlines(keepends=True)
            markers = [i for i, line in enumerate(lines) if MARKER.match(line)]
            if markers:
                del lines[markers[pick % len(markers)]]
                self.user_edit(self.cycle.files, label, "".join(lines))
                return

    @precondition(lambda self: self.cycle is not None)
    @rule(pick=st.integers(0, 50))
    def user_changes_one_of_our_values(self, pick: int) -> None:
        assert self.cycle is not None
        for label in self.text_labels():
            lines = (read(self.cycle.files[label]) or "").splitlines(keepends=True)
            inside, ours = False, []
            for i, line in enumerate(lines):
                if MARKER.match(line):
                    inside = ">>>" in line
                elif inside and MINE not in line and ('"' in line or "=" in line):  # KEY=value files: no quotes
                    ours.append(i)
            if ours:
                i = ours[pick % len(ours)]
                if '"' in lines[i]:
                    lines[i] = re.sub(r'"[^"]*"', f'"changed-{self.next_n()}"', lines[i], count=1)
                else:
                    lines[i] = re.sub(r"=.*$", f"=changed-{self.next_n()}", lines[i].rstrip("\n")) + "\n"
                self.user_edit(self.cycle.files, label, "".join(lines))
                return

    @precondition(lambda self: "text" in self.spec.formats.values())
    @rule()
    def user_sets_another_default(self) -> None:
        files = self.target()
        text = f"uline-d{self.next_n()}\n"
        self.user_edit(files, "default", text)
        self.final[files["default"]] = text

    # JSON: the user edits with their own tools (parse, change, dump: a reformat too)

    def json_edit(self, change: Any, indent: int | None) -> None:
        files = self.target()
        label, fmt = next(iter(self.spec.formats.items()))
        if fmt not in ("json", "jsonc"):
            return
        path = files[label]
        data = parse(fmt_of(path), read(path) or "{}")
        change(data)
        if self.cycle is not None and path in self.cycle.files.values():
            final = self.final.get(path) or {}
            change(final)  # what disconnect will leave: the user's members, and ours they changed (theirs now)
            self.final[path] = final
        self.user_edit(files, label, json.dumps(data, indent=indent) + "\n")

    @rule(indent=st.sampled_from([None, 2, 4]), nested=st.booleans())
    def user_adds_a_member(self, indent: int | None, nested: bool) -> None:
        n = self.next_n()
        where = (self.spec.nested,) if nested and self.spec.nested else ()

        def add(data: dict[str, Any]) -> None:
            set_path(data, (*where, f"uline_{n}"), {"npm": f"uline-{n}"} if where == ("provider",) else str(n))

        self.json_edit(add, indent)

    @rule(indent=st.sampled_from([None, 2, 4]), pick=st.integers(0, 50), delete=st.booleans())
    def user_changes_or_deletes_a_member(self, indent: int | None, pick: int, delete: bool) -> None:
        def change(data: dict[str, Any]) -> None:
            mine = sorted(m for m in user_members(data) if not isinstance(get_path(data, m), dict | list))
            if mine:
                member = mine[pick % len(mine)]
                set_path(data, member, ABSENT if delete else f"uline-changed-{pick}")

        self.json_edit(change, indent)

    @rule(indent=st.sampled_from([None, 2, 4]))
    def user_reformats(self, indent: int | None) -> None:
        self.json_edit(lambda data: None, indent)

    @precondition(lambda self: self.cycle is not None)
    @rule(indent=st.sampled_from([None, 2, 4]), pick=st.integers(0, 50), delete=st.booleans())
    def user_changes_one_of_our_members(self, indent: int | None, pick: int, delete: bool) -> None:
        if not self.spec.ours_changed:
            return
        member = self.spec.ours_changed[pick % len(self.spec.ours_changed)]
        self.json_edit(lambda data: set_path(data, member, ABSENT if delete else f"changed-{pick}"), indent)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_user_line_and_member_is_still_there(self) -> None:
        for path, want in self.expect_user.items():
            assert user_lines(read(path)) == want, (path, read(path), want)
        for path, want in self.expect_members.items():
            text = read(path)
            assert user_members(parse(fmt_of(path), text or "{}")) == want, (path, text, want)

    @invariant()
    def the_tools_own_parser_reads_every_file(self) -> None:
        for path in self.known_paths():
            parse(fmt_of(path), read(path) or "")

    @invariant()
    def our_part_is_whole_or_absent_unless_the_user_broke_it(self) -> None:
        for path in self.known_paths():
            text = read(path) or ""
            if self.cycle is not None and self.damage == "markers" and path in self.cycle.files.values():
                continue
            for parts in self.tool.blocks.values():
                for part in parts:
                    assert not textedit.marker_problems(text, part), (path, text)

    @invariant()
    def no_lock_files_in_the_tools_directories(self) -> None:
        assert not [p for p in self.known_paths() if p.name.endswith(".lock")]


class KillMachine(ConnectMachine):
    """The same model with a kill -9 of a real ``llmswitch use`` / ``disconnect`` in the middle of a write."""

    @initialize(exists=st.booleans(), at=st.integers(0, 4), ref=st.sampled_from(REFS), leave=st.booleans())
    def begin(self, exists: bool, at: int, ref: str, leave: bool) -> None:  # every example gets to a kill
        super().begin(exists)
        self.connect()
        self.killed_mid_write(at, ref, leave)

    @precondition(lambda self: self.cycle is not None and self.damage is None and self.files() == self.cycle.files)
    @rule(at=st.integers(0, 4), ref=st.sampled_from(REFS), leave=st.booleans())
    def killed_mid_write(self, at: int, ref: str, leave: bool) -> None:
        """The child stops before its ``at``-th rename onto the registry or a tool file (temp written, target not
        yet replaced) and is killed: a registry write, then each tool file, then the registry again."""
        assert self.cycle is not None
        before = self.snapshot()
        argv = ["disconnect", self.spec.tool] if leave else ["use", ref]
        names = ",".join(["connections.json", *(p.name for p in self.cycle.files.values())])
        child = subprocess.Popen([sys.executable, "-m", "pause_at_replace", str(at), names, *argv],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        paused = False
        for line in child.stdout:
            if line.startswith("paused"):
                paused = True
                os.kill(child.pid, signal.SIGKILL)
                break
        child.wait(timeout=60)
        child.stdout.close()
        self.untouched(before, set(self.cycle.files.values()))
        if leave and not paused:
            self.check_gone(self.cycle)
            self.cycle, self.damage, self.ours = None, None, {}
            return
        if leave:
            self.cycle.edited = True  # a half-done disconnect: the next one removes our parts, no byte-exact promise
        self.after_write()  # each file is the old text or the new one, and either is ours


@pytest.fixture
def served(upstream, monkeypatch, tmp_path):
    """One fake upstream answering every route a tool needs, for provider ``up`` (/v1) and ``alt`` (/alt/v1)."""
    server = upstream()
    ok = Reply.json({"id": "x", "object": "response", "status": "completed", "output": [], "choices": [],
                     "type": "message", "role": "assistant", "content": [], "model": "m"})
    for prefix in ("/v1", "/alt/v1"):
        for route in ("/chat/completions", "/responses", "/messages"):
            server.post(prefix + route, ok)
    for ref in REFS:  # Google's Gemini API: at the root, the model in the path
        provider, _, model = ref.partition("/")
        server.post(Protocol.GEMINI.route("/v1" if provider == "up" else "/alt/v1", model), ok)
    for name in ("HOME", "XDG_CONFIG_HOME", "LLMSWITCH_STATE_DIR", "LLMSWITCH_CONFIG_DIR", "LLMSWITCH_CACHE_DIR",
                 "UP_KEY", *TOOL_VARS):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored after the test
    return server


def _machine(base: type[ConnectMachine], tool: str, root: Path, server: Any) -> type[ConnectMachine]:
    return type(f"{base.__name__}_{tool.replace('-', '_')}", (base,), {"spec": SPECS[tool], "root": root,
                                                                       "server": server})


@pytest.mark.parametrize("tool", sorted(SPECS))
def test_connect_never_loses_a_byte(tool, served, tmp_path):
    run_state_machine_as_test(_machine(ConnectMachine, tool, tmp_path, served), settings=MAIN)


@pytest.mark.parametrize("tool", sorted(SPECS))
def test_a_kill_9_mid_write_loses_nothing_and_the_next_run_sweeps(tool, served, tmp_path):
    run_state_machine_as_test(_machine(KillMachine, tool, tmp_path, served), settings=KILLS)


def test_a_file_the_user_made_again_after_a_killed_disconnect_survives_the_next_kill_and_disconnect(served, tmp_path):
    """Found by the kill machine: a disconnect killed after it deleted the file llmswitch had created; the user
    writes a file of their own there; a second disconnect, killed before it dropped the entry, recorded that file as
    "exact" (untouched since llmswitch wrote it), so the third disconnect deleted it."""
    machine = _machine(KillMachine, "shell-gpt", tmp_path, served)()
    machine.begin(exists=False, at=1, ref="up/m1", leave=True)  # connect, then a disconnect killed half-way
    machine.user_adds_a_comment(where=0.0)
    machine.killed_mid_write(at=1, ref="up/m1", leave=True)
    machine.disconnect()  # checks the user's comment is all the file holds
    machine.teardown()


@pytest.mark.parametrize("then", ["connect", "repair and disconnect"])
def test_our_block_with_markers_broken_after_a_killed_disconnect_is_still_ours(then, served, tmp_path):
    """Found by the kill machine's long profile: a disconnect killed before it rewrote the file left a pending
    removal; the user then broke our block's markers, so the block read as absent, and that was taken for the
    removal having reached the disk. A connect wrote a second block beside the unmarked old lines (no refusal), and
    a repair displaced our old lines as the user's, which disconnect then put back, still pointing at llmswitch."""
    machine = _machine(KillMachine, "mini-swe-agent", tmp_path, served)()
    machine.begin(exists=True, at=1, ref="up/m1", leave=True)  # connect, then a disconnect killed before the file
    machine.user_deletes_one_of_our_markers(pick=0)
    if then == "connect":
        machine.user_deletes_one_of_our_markers(pick=0)
        machine.connect()  # refused: the markers are broken
    else:
        machine.repair()
        machine.disconnect()  # checks the user's own lines are all the file holds
    machine.teardown()


def test_our_lines_around_a_line_the_user_put_among_them_all_go_when_both_markers_are_gone(served, tmp_path):
    """Found by the main machine's long profile: with both markers deleted and a setting of the user's put among our
    lines, the repair took only our lines before it as ours; the rest became the user's, and disconnect left them."""
    machine = _machine(ConnectMachine, "mini-swe-agent", tmp_path, served)()
    machine.begin(exists=False)
    machine.connect()
    machine.user_deletes_one_of_our_markers(pick=0)
    machine.user_deletes_one_of_our_markers(pick=0)
    machine.user_adds_a_setting(last=False, where=0.5)
    machine.repair()
    machine.disconnect()  # checks the user's setting is all the file holds
    machine.teardown()

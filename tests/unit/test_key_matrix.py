"""Every key fix works when it is followed: one row per (key source × outcome the person can fix).

Each row sets a provider up against a fake upstream that accepts exactly one key (GOOD),
runs the real CLI, and asserts the sentence's cause, its fix, the exit code — then
*follows the fix as written*: the variable, command, config line or ``llmswitch key set``
the sentence names is parsed out of it and done exactly (nothing in the fake changes),
and the next probe must find the provider usable. Server-side outcomes (no credit,
forbidden) get a true cause and the right place to act, without a follow.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from llmswitch.base.errors import Exit
from llmswitch.base.keyfix import can_store, missing_fix, no_key_phrase, rejected_fix, source_phrase
from llmswitch.base.keyorigin import ABSENT, COMMAND, ENV, KEYRING, NONE, OVERRIDE, KeyOrigin
from upstreams import Reply, bearer, models_body, openai_error

GOOD = "sk-test-good-key-0001"
BAD = "sk-test-wrong-key-0002"
KEY_SET = "llmswitch key set"

KEYRINGS = {  # PYTHON_KEYRING_BACKEND for each kind of unusable keyring, and a word of its cause
    "fail": ("keyring.backends.fail.Keyring", "no OS keyring is available"),
    "null": ("keyring.backends.null.Keyring", "disabled"),
    "plaintext": ("testkeyring.PlaintextKeyring", "plain file"),  # refused by its class name, like keyrings.alt's
    "locked": ("testkeyring.LockedKeyring", "locked"),
    "dismissed": ("testkeyring.DismissedKeyring", "dismissed"),
}


@dataclass
class Box:
    """One provider ``box`` against a fake upstream that accepts only GOOD."""

    url: str
    config: Path
    tmp: Path
    run: Callable[..., object]
    env: dict[str, str] = field(default_factory=dict)

    pid: str = "box"

    def write(self, body: str) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(f'[providers.{self.pid}]\nbase_url = "{self.url}/v1"\n{body}')

    def cli(self, *args: str, input: str | None = None):  # noqa: A002 - run_cli's name
        return self.run(*args, input=input, env=self.env)

    def probe(self) -> tuple[int, dict]:
        done = self.cli("probe", "--json", self.pid)
        return done.returncode, json.loads(done.stdout)[0]


def script(path: Path, key: str) -> None:
    path.write_text(f"#!{sys.executable}\nprint({key!r})\n")
    path.chmod(0o700)


# --- the follows: each reads the sentence and does what it says, nothing else -------------------

def follow_variable(box: Box, fix: str) -> None:
    """``put the right key in VAR`` / ``export VAR=<the key>``: set that variable in the child environment."""
    found = re.search(r"(?:put the right key in|export) ([A-Z][A-Z0-9_]*)", fix)
    assert found, fix
    box.env[found.group(1)] = GOOD


def follow_key_set(box: Box, fix: str) -> None:
    """``run: llmswitch key set P``: run exactly that, the key on stdin."""
    found = re.search(r"run: llmswitch (key set \S+)", fix)
    assert found, fix
    done = box.cli(*found.group(1).split(), input=GOOD + "\n")
    assert done.returncode == 0, done.stderr


def follow_command(box: Box, fix: str) -> None:
    """``make the key command (CMD) print the right key``: change that command's output."""
    found = re.search(r"make the key command \((\S+)\) print", fix)
    assert found, fix
    script(Path(found.group(1)), GOOD)


def follow_config(box: Box, fix: str) -> None:
    """``set key_source = "keyring" at FILE:LINE, then run: llmswitch key set P``: edit that line, run that."""
    found = re.search(r'set key_source = "keyring" at (\S+):(\d+), then run: llmswitch (key set \S+)', fix)
    assert found, fix
    path, line = Path(found.group(1)), int(found.group(2))
    lines = path.read_text().split("\n")
    assert lines[line - 1].startswith("key_source"), lines[line - 1]
    lines[line - 1] = 'key_source = "keyring"'
    path.write_text("\n".join(lines))
    done = box.cli(*found.group(3).split(), input=GOOD + "\n")
    assert done.returncode == 0, done.stderr


@dataclass(frozen=True)
class Cell:
    name: str
    config: str
    outcome: str
    cause: tuple[str, ...]
    fix: tuple[str, ...]
    follow: Callable[[Box, str], None] | None
    setup: Callable[[Box], object] = lambda box: None
    offers_key_set: bool = False
    pid: str = "box"
    """``groq``: a preset id, so the provider has a conventional env var (GROQ_API_KEY) after the keyring."""


def _keyring_bad(box: Box) -> None:
    assert box.cli("key", "set", "box", input=BAD).returncode == 0


def _override_bad_keyring_good(box: Box) -> None:
    assert box.cli("key", "set", "box", input=GOOD).returncode == 0  # `key set` already holds GOOD: changes nothing
    box.env["LLMSWITCH_KEY_BOX"] = BAD


def _command_bad(box: Box) -> None:
    script(box.tmp / "print-key", BAD)


def _unusable(kind: str) -> Callable[[Box], None]:
    def setup(box: Box) -> None:
        box.env.update(PYTHON_KEYRING_BACKEND=KEYRINGS[kind][0], XDG_DATA_HOME=str(box.tmp / "data"))
    return setup


REQUIRED = "key_required = true\n"
CELLS = [
    Cell("override rejected", REQUIRED, "auth_rejected", ("key rejected", "from env LLMSWITCH_KEY_BOX"),
         ("put the right key in LLMSWITCH_KEY_BOX", "wins over every other source"), follow_variable,
         _override_bad_keyring_good),
    Cell("keyring rejected", REQUIRED, "auth_rejected", ("key rejected",),  # the usual source: not in the short summary
         ("run: llmswitch key set box",), follow_key_set, _keyring_bad, offers_key_set=True),
    Cell("env var rejected", REQUIRED + 'key_source = "env:BOX_TOKEN"\n', "auth_rejected",
         ("key rejected", "from env BOX_TOKEN"), ("put the right key in BOX_TOKEN",),
         follow_variable, lambda box: box.env.update(BOX_TOKEN=BAD)),
    Cell("conventional env var rejected", "", "auth_rejected", ("key rejected", "from env GROQ_API_KEY"),
         ("put the right key in GROQ_API_KEY", "store it in the keyring, which is read before GROQ_API_KEY"),
         follow_variable, lambda box: box.env.update(GROQ_API_KEY=BAD), offers_key_set=True, pid="groq"),
    Cell("conventional env var rejected, keyring locked", "", "auth_rejected", ("from env GROQ_API_KEY",),
         ("put the right key in GROQ_API_KEY", "the keyring cannot hold it now (the keyring is locked"),
         follow_variable, lambda box: (_unusable("locked")(box), box.env.update(GROQ_API_KEY=BAD)), pid="groq"),
    Cell("command rejected", REQUIRED + 'key_source = "command:{tmp}/print-key"\n', "auth_rejected",
         ("key rejected", "from command {tmp}/print-key"), ("make the key command ({tmp}/print-key) print the right key",),
         follow_command, _command_bad),
    Cell("none but the server wants a key", 'key_source = "none"\n', "auth_missing",
         ('key_source = "none"', "the server wants one"), ('set key_source = "keyring" at {config}:3',),
         follow_config, offers_key_set=True),
    Cell("keyring missing", REQUIRED, "auth_missing", ("no key stored",), ("run: llmswitch key set box",),
         follow_key_set, offers_key_set=True),
    Cell("env var missing", REQUIRED + 'key_source = "env:BOX_TOKEN"\n', "auth_missing", ("BOX_TOKEN is not set",),
         ("export BOX_TOKEN=<the key>",), follow_variable),
    *(Cell(f"keyring {kind} missing", REQUIRED, "auth_missing", (KEYRINGS[kind][1],),
           ("export LLMSWITCH_KEY_BOX=<the key>", 'key_source = "env:VAR"', "to use the keyring:"), follow_variable,
           _unusable(kind)) for kind in KEYRINGS),
]


@pytest.fixture
def box(upstream, config_dir, tmp_path, run_cli) -> Box:
    server = upstream()
    server.get("/v1/models", bearer(GOOD, Reply.json(models_body(["m1"]))))
    return Box(server.url, config_dir / "config.toml", tmp_path, run_cli)


@pytest.mark.parametrize("cell", CELLS, ids=[c.name for c in CELLS])
def test_each_fix_works_when_followed(box, cell):
    fill = {"tmp": str(box.tmp), "config": str(box.config)}
    box.pid = cell.pid
    box.write(cell.config.format(**fill))
    cell.setup(box)
    code, result = box.probe()
    assert (code, result["outcome"]) == (Exit.CHECK, cell.outcome), result
    for part in cell.cause:
        assert part.format(**fill) in result["summary"], result["summary"]
    fix = result["fix"]
    for part in cell.fix:
        assert part.format(**fill) in fix, fix
    assert (f"run: {KEY_SET}" in fix) is cell.offers_key_set, fix
    assert GOOD not in json.dumps(result) and BAD not in json.dumps(result)
    if cell.outcome == "auth_missing" and "none" not in cell.name:  # key get (and exec, env) say the same fix
        got = box.cli("key", "get", box.pid)
        assert got.returncode == Exit.KEY and got.stdout == "" and fix in got.stderr, got.stderr
    cell.follow(box, fix)
    code, result = box.probe()
    assert (code, result["outcome"]) == (Exit.OK, "ok"), result


@pytest.mark.parametrize("kind", list(KEYRINGS))
def test_an_unusable_keyring_is_never_the_keyless_placeholder(box, kind):
    """Key optional (a loopback server): key get, env and exec refuse, say why and how out, exit 4 — then the way out works."""
    box.write("")
    _unusable(kind)(box)
    for args in (("key", "get", "box"), ("exec", "--", "true"), ("env", "--shell", "bash")):
        if args[0] != "key":
            assert box.cli("use", "box/m1").returncode == 0
        done = box.cli(*args)
        assert done.returncode == Exit.KEY, (args, done.stdout, done.stderr)
        assert "llmswitch-keyless" not in done.stdout + done.stderr and "OPENAI_API_KEY" not in done.stdout
        assert KEYRINGS[kind][1] in done.stderr and "no placeholder" in done.stderr, done.stderr
        assert f"run: {KEY_SET}" not in done.stderr and 'key_source = "none"' in done.stderr
    follow_variable(box, box.cli("key", "get", "box").stderr)
    got = box.cli("key", "get", "box")
    assert (got.returncode, got.stdout) == (0, GOOD + "\n")


def test_a_fix_is_followed_and_the_old_wrong_fix_would_not_have_helped(box):
    """The override case: the keyring already holds the good key, so `key set` (the old fix) changes nothing."""
    box.write(REQUIRED)
    _override_bad_keyring_good(box)
    assert box.cli("key", "set", "box", input=GOOD).returncode == 0
    assert box.probe()[1]["outcome"] == "auth_rejected"


def test_key_where_and_the_probe_name_the_same_source(box):
    box.write(REQUIRED)
    _override_bad_keyring_good(box)
    where = json.loads(box.cli("key", "where", "box", "--json").stdout)
    assert where["source"] == "env LLMSWITCH_KEY_BOX" and where["origin"]["kind"] == OVERRIDE
    assert "from env LLMSWITCH_KEY_BOX" in box.probe()[1]["summary"]
    box.env.pop("LLMSWITCH_KEY_BOX")
    # key optional (said in config.toml: what an earlier probe learned about this loopback server would
    # otherwise make it required): both say no key is sent by the probe
    box.write("key_required = false\n")
    box.cli("key", "rm", "box")
    text = box.cli("key", "where", "box").stdout
    assert "probe sends none" in text and "llmswitch-keyless" in text


# --- server-side outcomes: a true cause and the place to act, no follow -------------------------

@pytest.mark.parametrize(("status", "message", "outcome", "says"), [
    (402, "Insufficient credits", "no_credit", "add credit"),
    (403, "Your region is not allowed", "forbidden", "permissions, region or IP allow-list"),
])
def test_server_side_refusals_name_the_place_to_act(upstream, config_dir, run_cli, status, message, outcome, says):
    server = upstream()
    server.get("/v1/models", openai_error(message, status))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{server.url}/v1"\n{REQUIRED}'
                                            'key_source = "env:BOX_TOKEN"\n')
    done = run_cli("probe", "--json", "box", env={"BOX_TOKEN": BAD})
    result = json.loads(done.stdout)[0]
    assert (done.returncode, result["outcome"]) == (Exit.CHECK, outcome)
    assert says in result["fix"] and f"run: {KEY_SET}" not in result["fix"]
    if outcome == "no_credit":
        assert "put the right key in BOX_TOKEN" in result["fix"]  # another key goes where this one was read


# --- the computation, per cell (pure) ------------------------------------------------------------

def origin(kind: str, name: str = "", configured: str = KEYRING, problem: str | None = None) -> KeyOrigin:
    return KeyOrigin(kind, name, configured, problem, "unlock it" if problem else None, "LLMSWITCH_KEY_BOX", (),
                     "/c/config.toml:3")


@pytest.mark.parametrize(("made", "rejected", "missing", "storable"), [
    (origin(OVERRIDE, "LLMSWITCH_KEY_BOX"), "put the right key in LLMSWITCH_KEY_BOX", None, False),
    (origin(KEYRING, "llmswitch/box"), "run: llmswitch key set box", None, True),
    (origin(ENV, "BOX_TOKEN", ENV), "put the right key in BOX_TOKEN", "the key from env BOX_TOKEN cannot be sent",
     True),
    (origin(ABSENT, configured=COMMAND), "make the key command print the key", "no key from the key command",
     True),
    (origin(ENV, "BOX_TOKEN", KEYRING, "the keyring is locked"), "the keyring cannot hold it now", None, False),
    (origin(COMMAND, "pass show box", COMMAND), "make the key command (pass show box) print the right key", None,
     True),
    (origin(NONE, configured=NONE), 'set key_source = "keyring" at /c/config.toml:3', 'key_source = "none"', True),
    (origin(ABSENT), "run: llmswitch key set box", "no key stored", True),
    (origin(ABSENT, configured=ENV), "export VAR=<the key>", "VAR is not set", True),
    (origin(ABSENT, problem="the keyring is locked"), "export LLMSWITCH_KEY_BOX=<the key>",
     "the keyring is locked", False),
])
def test_the_fix_per_origin(made, rejected, missing, storable):
    assert rejected in rejected_fix(made, "box")
    assert (missing or "") in no_key_phrase(made)
    assert can_store(made) is storable
    if not storable or made.kind in (OVERRIDE, ENV, COMMAND) and made.configured != ENV:
        assert f"run: {KEY_SET}" not in rejected_fix(made, "box") + missing_fix(made, "box")
    if made.kind not in (NONE, ABSENT):
        assert source_phrase(made) == "from " + made.label()

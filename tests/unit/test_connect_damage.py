"""Issue 19 through the real CLI: recorded paths only, never through damage, --repair, per-cycle backups, the file stays the user's."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from upstreams import FAKE_KEY, Reply, openai_like


@pytest.fixture
def home(tool_home):
    return tool_home


@pytest.fixture
def provider(upstream, run_cli, home):
    server = openai_like(upstream())
    server.post("/v1/responses", Reply.json({"id": "resp_1", "object": "response", "status": "completed", "output": []}))
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "up", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    return server


def state() -> Path:
    return Path(os.environ["LLMSWITCH_STATE_DIR"])


def test_a_deleted_end_marker_is_a_sentence_and_an_untouched_file_until_repair(provider, run_cli, home):
    conf = home / ".aider.conf.yml"
    conf.write_text("dark-mode: true\n")
    assert run_cli("connect", "aider").returncode == 0
    lines = conf.read_text().splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines) if line.startswith("# <<< llmswitch aider"))
    broken = "".join(lines[:end] + lines[end + 1:]) + "auto-commits: false\n"
    conf.write_text(broken)
    done = run_cli("use", "up/gpt-4o-mini")
    assert done.returncode == 0, done.stderr
    assert f"aider was not updated: {conf}:{end - 2}: llmswitch's aider block has no end marker" in done.stderr
    assert "llmswitch connect aider --repair" in done.stderr
    assert conf.read_text() == broken  # nothing after our begin marker was eaten
    done = run_cli("connections")
    assert done.returncode == 1 and "aider: damaged" in done.stdout
    assert run_cli("connections", "--check").returncode == 1
    assert json.loads(run_cli("connections", "--json").stdout)[0]["state"] == "damaged"
    done = run_cli("disconnect", "aider")
    assert done.returncode == 1 and conf.read_text() == broken and "--repair" in done.stderr
    done = run_cli("connect", "aider", "--repair")  # not a terminal, no --yes: shown, not applied
    assert done.returncode == 1 and "+# <<< llmswitch aider <<<" in done.stdout and conf.read_text() == broken
    done = run_cli("connect", "aider", "--repair", "--yes")
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    assert 'model: "openai/gpt-4o-mini"' in text and "auto-commits: false" in text and "dark-mode: true" in text
    assert run_cli("connections").returncode == 0
    assert run_cli("disconnect", "aider").returncode == 0
    assert conf.read_text() == "dark-mode: true\nauto-commits: false\n"


def test_a_changed_json_member_of_ours_stops_follow_and_disconnect_keeps_the_users_value(provider, run_cli, home):
    path = home / ".config" / "opencode" / "opencode.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "theme": "x"\n}\n')
    assert run_cli("connect", "opencode").returncode == 0
    data = json.loads(path.read_text())
    data["model"] = "anthropic/mine"
    path.write_text(json.dumps(data, indent=4))
    done = run_cli("use", "up/gpt-4o-mini")
    assert f"{path}:" in done.stderr and "member model was changed" in done.stderr
    assert json.loads(path.read_text())["model"] == "anthropic/mine"
    assert run_cli("disconnect", "opencode").returncode == 0
    assert json.loads(path.read_text()) == {"theme": "x", "model": "anthropic/mine"}


def test_an_unreadable_file_is_refused_with_its_line(provider, run_cli, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('approval_policy = "never"\nmodel = \n')
    done = run_cli("connect", "codex")
    assert done.returncode == 1
    assert f"{config}:2: OpenAI Codex CLI cannot read it" in done.stderr and "fix it there" in done.stderr
    assert config.read_text() == 'approval_policy = "never"\nmodel = \n'
    assert not (state() / "connect-backups").exists()  # a refused connect leaves nothing behind


def test_follow_never_writes_where_the_override_now_points(provider, run_cli, home, tmp_path):
    assert run_cli("connect", "codex").returncode == 0
    recorded = home / ".codex" / "config.toml"
    elsewhere = tmp_path / "other-codex"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text('model = "o3"\n')
    done = run_cli("use", "up/gpt-4o-mini", env={"CODEX_HOME": str(elsewhere)})
    assert done.returncode == 0
    assert f"now reads {elsewhere / 'config.toml'}, not {recorded}" in done.stderr
    assert "llmswitch connect codex" in done.stderr
    assert (elsewhere / "config.toml").read_text() == 'model = "o3"\n'
    assert '"gpt-4o-mini"' in recorded.read_text()  # the recorded file still follows
    done = run_cli("disconnect", "codex", env={"CODEX_HOME": str(elsewhere)})
    assert done.returncode == 0
    assert (elsewhere / "config.toml").read_text() == 'model = "o3"\n' and not recorded.exists()


def test_connect_again_moves_the_connection(provider, run_cli, home, tmp_path):
    assert run_cli("connect", "codex").returncode == 0
    elsewhere = tmp_path / "other-codex"
    done = run_cli("connect", "codex", env={"CODEX_HOME": str(elsewhere)})
    assert done.returncode == 0, done.stderr
    assert "moved the connection here" in done.stdout
    assert not (home / ".codex" / "config.toml").exists()  # llmswitch had created it
    assert '"gpt-4o"' in (elsewhere / "config.toml").read_text()


def test_a_second_cycle_never_restores_the_first_cycles_backup(provider, run_cli, home):
    conf = home / ".aider.conf.yml"
    conf.write_text("dark-mode: true\n")
    assert run_cli("connect", "aider").returncode == 0
    conf.write_text(conf.read_text() + "auto-commits: false\n")
    assert run_cli("disconnect", "aider").returncode == 0  # edited: parts removed, the backup kept
    assert conf.read_text() == "dark-mode: true\nauto-commits: false\n"
    conf.write_text(conf.read_text() + "cache-prompts: true\n")
    assert run_cli("connect", "aider").returncode == 0
    assert run_cli("disconnect", "aider").returncode == 0  # untouched since: this cycle's backup
    assert conf.read_text() == "dark-mode: true\nauto-commits: false\ncache-prompts: true\n"


def test_a_refused_symlink_leaves_no_backup(provider, run_cli, home):
    real = home / "real.yml"
    real.write_text("dark-mode: true\n")
    (home / ".aider.conf.yml").symlink_to(real)
    done = run_cli("connect", "aider")
    assert done.returncode != 0 and "symlink" in done.stderr
    assert real.read_text() == "dark-mode: true\n"
    assert not (state() / "connect-backups").exists() and not (state() / "connections.json").exists()


def test_mode_is_kept_and_no_lock_or_temp_file_lands_in_the_tools_directory(provider, run_cli, home):
    conf = home / ".aider.conf.yml"
    conf.write_text("dark-mode: true\n")
    conf.chmod(0o644)
    assert run_cli("connect", "aider").returncode == 0
    assert run_cli("use", "up/gpt-4o-mini").returncode == 0
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644
    (home / "..aider.conf.yml.abcd1234.tmp").write_text("half")  # what a writer killed mid-write leaves
    assert run_cli("use", "up/gpt-4o").returncode == 0
    assert sorted(p.name for p in home.iterdir()) == [".aider.conf.yml"]
    assert run_cli("disconnect", "aider").returncode == 0
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644 and conf.read_text() == "dark-mode: true\n"


@pytest.mark.parametrize(("tool", "where", "make"), [
    ("aider", ".aider.conf.yml", "fifo"),
    ("aider", ".aider.conf.yml", "huge"),
    ("opencode", ".config/opencode/opencode.json", "deep"),
])
def test_a_tool_file_that_cannot_be_read_within_bounds_is_never_written(provider, run_cli, home, tool, where, make):
    """A FIFO would block the read forever, a huge file would be read whole, deep JSON would recurse: each is one
    sentence naming the file, and the file untouched (the bounded reader, bounded.TOOL_FILE)."""
    path = home / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if make == "fifo":
        os.mkfifo(path)
    elif make == "huge":
        path.write_text("dark-mode: true\n# " + "x" * (4 * 2**20) + "\n")
    else:
        path.write_text('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    before = None if make == "fifo" else path.read_bytes()
    done = run_cli("connect", tool, timeout=60)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr and done.stderr.count("\n") <= 2, done.stderr
    assert str(path) in done.stderr, done.stderr
    if before is not None:
        assert path.read_bytes() == before
    else:
        assert stat.S_ISFIFO(os.lstat(path).st_mode)

"""Files a path names are read only when regular and within their cap (issue 20, "unbounded local reads"),
and an untrusted ``.llmswitch.toml`` of any size, type or bytes changes nothing but one line.

Every case goes through the real CLI (``team add``/``team update``, ``import``, ``trust``, ``current``,
``env``, ``exec``, ``prompt``) or the real API (``active()``, ``client()``) in a child process, with a
timeout: a FIFO that blocked would fail the test by time, ``/dev/zero`` by memory or time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmswitch.base import bounded
from llmswitch.services.switch import switch
from llmswitch.store import overlay

TEAM = '[providers.corp-small]\nbase_url = "https://small.corp.example/v1"\nkey_source = "none"\n'
CONFIG = '[providers.p]\nbase_url = "http://127.0.0.1:9/p/v1"\nkey_source = "none"\n'


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _link(path: Path, target: str | Path) -> Path:
    path.symlink_to(target)
    return path


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


# Each maker puts something at the path and says what the one sentence names.
NOT_REGULAR = {
    "fifo": (lambda p, tmp: _fifo(p), "is a named pipe (FIFO), not a regular file"),
    "symlink to a fifo": (lambda p, tmp: _link(p, _fifo(tmp / "pipe")), "is a named pipe (FIFO), not a regular file"),
    "/dev/zero": (lambda p, tmp: _link(p, "/dev/zero"), "is a device, not a regular file"),
    "/dev/null": (lambda p, tmp: _link(p, "/dev/null"), "is a device, not a regular file"),
    "directory": (lambda p, tmp: p.mkdir() or p, "is a directory, not a regular file"),
}


def _over(cap: int) -> dict:
    return {"sparse, over the cap": (lambda p, tmp: _sparse(p, 50 * cap), f"is {50 * cap} bytes, over the"),
            "one byte over the cap": (lambda p, tmp: _sparse(p, cap + 1), f"is {cap + 1} bytes, over the")}


def _one_error_line(done: subprocess.CompletedProcess[str], *said: str) -> None:
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmswitch: "), done.stderr
    for words in said:
        assert words in lines[0], lines[0]


# --- team add PATH / team update ---------------------------------------------------------------------

@pytest.mark.parametrize("case", [*NOT_REGULAR, *_over(bounded.TEAM_FILE.cap)])
def test_team_add_refuses_what_is_not_a_regular_file_within_1_mib_in_one_sentence(case, tmp_path, config_dir,
                                                                                    run_cli):
    make, said = {**NOT_REGULAR, **_over(bounded.TEAM_FILE.cap)}[case]
    path = make(tmp_path / "team.toml", tmp_path)
    done = run_cli("team", "add", str(path), timeout=20)
    _one_error_line(done, said)
    assert str(tmp_path) in done.stderr or "/dev/" in done.stderr, "names the file (as given, or where the link goes)"
    assert "1 MiB" in done.stderr or case in NOT_REGULAR


def test_team_add_follows_a_symlink_to_a_regular_file_and_update_refuses_it_once_it_is_a_fifo(tmp_path, run_cli):
    real = tmp_path / "real-team.toml"
    real.write_text(TEAM)
    link = _link(tmp_path / "team.toml", real)
    done = run_cli("team", "add", str(link), timeout=20)
    assert done.returncode == 0 and "corp-small" in done.stdout, done.stderr
    real.unlink()
    _fifo(real)
    done = run_cli("team", "update", "--yes", timeout=20)
    _one_error_line(done, str(tmp_path), "is a named pipe (FIFO), not a regular file")


def test_team_add_refuses_toml_nested_deeper_than_the_bound(tmp_path, run_cli):
    path = tmp_path / "team.toml"
    path.write_text(TEAM + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    _one_error_line(run_cli("team", "add", str(path), timeout=20), "nests deeper than 64 levels")
    path.write_text(TEAM + "x = nan\n")
    _one_error_line(run_cli("team", "add", str(path), timeout=20), "holds nan")


# --- import: .env files and tool configs ---------------------------------------------------------------

@pytest.mark.parametrize("case", [*NOT_REGULAR, *_over(bounded.IMPORT_FILE.cap)])
def test_import_skips_such_an_env_file_with_one_line_and_still_reads_the_others(case, tmp_path, isolated, run_cli,
                                                                                  monkeypatch):
    make, said = {**NOT_REGULAR, **_over(bounded.IMPORT_FILE.cap)}[case]
    home = Path(os.environ["HOME"]) if "HOME" in os.environ else isolated
    project = tmp_path / "project"
    project.mkdir()
    make(project / ".env", tmp_path)
    own_home = tmp_path / "home-dir"
    own_home.mkdir()
    (own_home / ".env").write_text("GROQ_API_KEY=gsk-test-not-a-real-key-0001\n")
    monkeypatch.chdir(project)
    done = run_cli("import", "env", env={"HOME": str(own_home)}, timeout=20)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "groq" in done.stdout, "the readable .env is still found"
    lines = done.stderr.strip().splitlines()
    assert lines == [line for line in lines if line.startswith("llmswitch: import skips ")] and len(lines) == 1
    assert str(project / ".env") in lines[0] and said in lines[0]
    del home


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"env": {"ANTHROPIC_API_KEY": NaN}}',
                                  '{"env": ' * 3000 + "{}" + "}" * 3000, '{"x": 1e999}'],
                         ids=["deep arrays", "NaN", "deep objects", "1e999"])
def test_a_hostile_tool_config_is_skipped_without_a_traceback(body, tmp_path, run_cli):
    claude = tmp_path / "claude"
    claude.mkdir()
    (claude / "settings.json").write_text(body)
    done = run_cli("import", "claude-code", env={"CLAUDE_CONFIG_DIR": str(claude)}, timeout=20)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "nothing found" in done.stdout, done.stderr


def test_a_tool_config_that_is_a_fifo_is_skipped_with_one_line(tmp_path, run_cli):
    claude = tmp_path / "claude"
    claude.mkdir()
    _fifo(claude / "settings.json")
    done = run_cli("import", "claude-code", env={"CLAUDE_CONFIG_DIR": str(claude)}, timeout=20)
    assert done.returncode == 0 and "nothing found" in done.stdout
    assert done.stderr.strip() == (f"llmswitch: import skips {claude / 'settings.json'} is a named pipe (FIFO), not a "
                                   f"regular file — name the file itself (llmswitch reads only regular files (a "
                                   f"symlink to one is fine))")


# --- the project file: trust before size, type or bytes ------------------------------------------------

@pytest.fixture
def repo(config_dir, tmp_path, monkeypatch):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(CONFIG)
    switch("p/user-model", check_key=False)
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root / "src")
    return root


API = ("import llmswitch; print(llmswitch.active().ref); print(llmswitch.scope().scope); "
       "print(llmswitch.client().base_url)")
COMMANDS = {"current": ("current",), "current --json": ("current", "--json"), "env": ("env", "--shell", "bash"),
            "exec": ("exec", "--", "sh", "-c", 'echo "$OPENAI_BASE_URL $OPENAI_MODEL"'), "prompt": ("prompt",)}


def _everything(run_cli, run_cli_process) -> dict[str, tuple[int, str, str]]:
    seen = {name: (run_cli_process if name == "exec" else run_cli)(*args, timeout=30)  # exec replaces the process
            for name, args in COMMANDS.items()}
    api = subprocess.run([sys.executable, "-c", API], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "OPENAI_API_KEY": "unused"})
    return {**{n: (d.returncode, d.stdout, d.stderr) for n, d in seen.items()},
            "api": (api.returncode, api.stdout, api.stderr)}


OVERLAYS = {
    "empty": b"",
    "one byte": b"[",
    "exactly the cap, valid": b"[roles]\ndefault = \"p/proj\"\n" + b"#" * (overlay.MAX_BYTES - 28) + b"\n",
    "one byte over the cap": b"#" * (overlay.MAX_BYTES + 1),
    "5 MiB": b"[roles]\n" + b"#" * (5 * 2**20),
    "binary": bytes(range(256)) * 64,
    "escape sequences": b"\x1b]0;pwned\x07\x1b[2J[roles]\ndefault = \"p/proj\"\n",
    "not utf-8": b"[roles]\ndefault = \"p/\xff\xfe\"\n",
    "not toml": b"[roles\ndefault = = =\n",
    "forbidden keys": b'[roles]\ndefault = "p/proj"\nbase_url = "https://evil.example/v1"\n',
}


def test_an_untrusted_project_file_of_any_size_or_bytes_changes_nothing_but_one_line(repo, run_cli, run_cli_process):
    baseline = _everything(run_cli, run_cli_process)
    assert baseline["current"][0] == 0 and "p/user-model" in baseline["current"][1], baseline
    path = repo / overlay.PROJECT_FILE
    line = (f"llmswitch: ignoring {path} (not trusted yet) — to use it, read it, then run: cd {repo} && "
            f"llmswitch trust\n")
    for name, body in OVERLAYS.items():
        path.write_bytes(body)
        seen = _everything(run_cli, run_cli_process)
        for command, (code, stdout, stderr) in seen.items():
            was = baseline[command]
            if command == "prompt":  # the prompt's own mark is its one line (it prints nothing on stderr)
                was = (was[0], was[1].replace("\n", " (.llmswitch.toml ignored)\n"), was[2])
            assert (code, stdout) == was[:2], (name, command, stderr)
            said = stderr.replace(line, "", 1)
            assert said == was[2] and (command == "prompt" or line in stderr), (name, command, stderr)


@pytest.mark.parametrize("case", [*NOT_REGULAR, "dangling symlink", "symlink to a file others can write"])
def test_a_project_file_that_is_not_a_regular_file_of_yours_is_ignored_and_trust_refuses_it(case, repo, tmp_path,
                                                                                            run_cli):
    path = repo / overlay.PROJECT_FILE
    if case == "dangling symlink":
        _link(path, tmp_path / "nowhere")
    elif case == "symlink to a file others can write":
        shared = tmp_path / "shared.toml"
        shared.write_text('[roles]\ndefault = "p/proj"\n')
        shared.chmod(0o666)
        _link(path, shared)
    else:
        NOT_REGULAR[case][0](path, tmp_path)
    done = run_cli("current", timeout=20)
    assert done.returncode == 0 and "p/user-model" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"llmswitch: ignoring {path} ("), done.stderr
    assert "llmswitch trust" not in lines[0], "trusting would not help: nothing offers it"
    refused = run_cli("trust", timeout=20)
    _one_error_line(refused)


def test_a_trusted_file_grown_over_the_cap_is_changed_not_an_error(repo, run_cli):
    path = repo / overlay.PROJECT_FILE
    path.write_text('[roles]\ndefault = "p/proj"\n')
    assert run_cli("trust").returncode == 0
    assert run_cli("current").stdout.startswith("p/proj")
    with open(path, "a") as handle:
        handle.write("#" * (overlay.MAX_BYTES + 10))
    done = run_cli("current")
    assert done.returncode == 0 and "p/user-model" in done.stdout
    assert "(changed since you trusted it)" in done.stderr and len(done.stderr.splitlines()) == 1
    refused = run_cli("trust")
    _one_error_line(refused, "over the 64 KiB a project file (.llmswitch.toml) may be")


def test_the_read_path_opens_no_untrusted_file(repo, monkeypatch):
    path = repo / overlay.PROJECT_FILE
    path.write_bytes(b"#" * (overlay.MAX_BYTES * 4))
    opened: list[str] = []
    real_open = os.open

    def spy(name, *args, **kwargs):
        opened.append(os.fspath(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    found = overlay.load(str(path))
    assert found.status == "untrusted" and found.roles == {}
    assert str(path) not in opened

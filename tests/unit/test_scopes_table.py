"""Every combination of scopes, for each role, through each read path (issue 13).

Each scope names a different provider (u: user, s: shell, p: project, and the REPL's session
choice t), so the model a read path answers with says which scope won. The order is
session → shell → project → user; nothing set is NoSelection everywhere. The stdlib reader in
docs/tool-authors.md reads the user scope only, as that page says.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import sys
from pathlib import Path

import pytest

import llmswitch
from llmswitch.cli.main import main
from llmswitch.services.switch import switch
from llmswitch.store import overlay, scopes, selection

TOOL_AUTHORS = Path(__file__).resolve().parents[2] / "docs" / "tool-authors.md"
ROLES = ("default", "small")
SCOPES = ("shell", "project", "user")
COMBINATIONS = [set(c) for n in range(len(SCOPES) + 1) for c in itertools.combinations(SCOPES, n)]
PROVIDER = {"user": "u", "shell": "s", "project": "p", "session": "t"}


def model(scope: str, role: str) -> str:
    return f"{scope}-{role}"


def expected(present: set[str]) -> str | None:
    return next((s for s in ("session", *SCOPES) if s in present), None)


@pytest.fixture
def world(config_dir, tmp_path, monkeypatch):
    """config.toml with the four keyless providers; a project directory to work in."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("".join(
        f'[providers.{p}]\nbase_url = "http://127.0.0.1:9/{p}/v1"\nkey_source = "none"\n\n' for p in "uspt"))
    project = tmp_path / "repo"
    (project / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(project / "deep" / "er")  # the overlay is found walking up
    return project


def arrange(world: Path, monkeypatch, role: str, present: set[str]) -> None:
    if "user" in present:
        if role != "default":
            switch(f"u/{model('user', 'default')}", "default", check_key=False)
        switch(f"u/{model('user', role)}", role, check_key=False)
    if "project" in present:
        overlay.write(str(world), {role: f"p/{model('project', role)}"})
    if "shell" in present:
        monkeypatch.setenv(scopes.SHELL_VAR, f"{role}=s/{model('shell', role)}")


def cli(*args: str) -> tuple[int, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, buffer.getvalue()


CASES = [(role, frozenset(c)) for role in ROLES for c in COMBINATIONS]
IDS = [f"{role}-{'+'.join(sorted(c)) or 'nothing'}" for role, c in CASES]


@pytest.mark.parametrize(("role", "present"), CASES, ids=IDS)
def test_in_process_read_paths(world, monkeypatch, role, present):
    arrange(world, monkeypatch, role, set(present))
    winner = expected(set(present))
    if winner is None:
        for read in (lambda: llmswitch.active(role), lambda: llmswitch.client(role),
                     lambda: llmswitch.watch(role).current()):
            with pytest.raises(selection.NoSelection):
                read()
        assert cli("current", "--role", role)[0] == 3
        assert cli("prompt", "--role", role) == (0, "")  # a prompt stays clean
        return
    want = f"{PROVIDER[winner]}/{model(winner, role)}"
    assert llmswitch.active(role).ref == want
    resolved = llmswitch.scope(role)
    assert resolved.scope == winner and resolved.selection == llmswitch.active(role)
    assert resolved.origin == {"shell": scopes.SHELL_VAR, "project": str(world / overlay.PROJECT_FILE),
                               "user": selection.paths.active_path()}[winner]
    assert str(llmswitch.client(role).base_url) == f"http://127.0.0.1:9/{PROVIDER[winner]}/v1/"
    assert llmswitch.watch(role).current().ref == want
    code, text = cli("current", "--json", "--role", role)
    data = json.loads(text)
    assert (code, data["provider"] + "/" + data["model"], data["scope"]) == (0, want, winner)
    assert data["set_by"] == resolved.origin
    code, text = cli("current", "--role", role)
    assert f"scope     {winner} (" in text
    assert cli("prompt", "--role", role) == (0, want + ("" if winner == "user" else f" ({winner})") + "\n")
    code, text = cli("env", "--role", role, "--shell", "bash")
    assert code == 0 and f"export LLMSWITCH_MODEL={model(winner, role)}" in text
    assert f"export OPENAI_BASE_URL=http://127.0.0.1:9/{PROVIDER[winner]}/v1" in text


SESSION_CASES = [(role, frozenset(c) | s) for role in ROLES for c in COMBINATIONS for s in (set(), {"session"})]


@pytest.mark.parametrize(("role", "present"), SESSION_CASES,
                         ids=[f"{r}-{'+'.join(sorted(c)) or 'nothing'}" for r, c in SESSION_CASES])
def test_the_repl_and_chat_follow_the_same_order_with_the_session_on_top(world, monkeypatch, role, present):
    from llmswitch.repl import ModelSwitcher

    arrange(world, monkeypatch, role, set(present) - {"session"})
    switcher = ModelSwitcher(role, interactive=False, probe_timeout=None)
    if "session" in present:
        assert switcher.handle(f"/model t/{model('session', role)}").ok
    winner = expected(set(present))
    if winner is None:
        with pytest.raises(selection.NoSelection):
            switcher.selection()
        return
    assert switcher.selection().ref == f"{PROVIDER[winner]}/{model(winner, role)}"
    described = switcher.describe(role)
    if winner in ("shell", "project"):
        assert f"from the {winner} scope (" in described
    elif winner == "user":
        assert "from active.toml" in described


@pytest.mark.parametrize(("role", "present"), CASES, ids=IDS)
def test_exec_and_the_tools_it_starts(world, monkeypatch, role, present, run_cli_process):
    arrange(world, monkeypatch, role, set(present))
    winner = expected(set(present))
    show = [sys.executable, "-c", "import os, llmswitch; print(os.environ['LLMSWITCH_MODEL'], llmswitch.active("
            f"{role!r}).model, os.environ['OPENAI_BASE_URL'])"]
    done = run_cli_process("exec", "--role", role, "--", *show)
    if winner is None:
        assert done.returncode == 3, done.stderr
        return
    assert done.returncode == 0, done.stderr
    # the tool sees the selection in its environment, and its own llmswitch.active() agrees
    assert done.stdout.split() == [model(winner, role), model(winner, role), f"http://127.0.0.1:9/{PROVIDER[winner]}/v1"]
    said = f"llmswitch: {role} → {PROVIDER[winner]}/{model(winner, role)} from the {winner} scope"
    assert (said in done.stderr) == (winner != "user")


def readme_reader() -> str:
    section = TOOL_AUTHORS.read_text()
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    said = section[:section.index(code)][-300:]
    assert "def llmswitch_selection" in code and ("user scope" in said or "user-level" in said)
    return code


@pytest.mark.parametrize(("role", "present"), CASES, ids=IDS)
def test_the_readme_stdlib_reader_reads_the_user_scope_only(world, monkeypatch, role, present):
    arrange(world, monkeypatch, role, set(present))
    namespace: dict[str, object] = {}
    exec(readme_reader(), namespace)  # noqa: S102 - the docs' own example, as a tool author copies it
    reader = namespace["llmswitch_selection"]
    if "user" not in present:
        with pytest.raises((KeyError, FileNotFoundError)):
            reader(role)  # type: ignore[operator]
        return
    base_url, model_id, key, headers = reader(role)  # type: ignore[operator]
    assert (base_url, model_id, key) == ("http://127.0.0.1:9/u/v1", model("user", role), "llmswitch-keyless")


def test_every_combination_is_in_the_table():
    assert len(COMBINATIONS) == 8 and len(CASES) == 16 and len(SESSION_CASES) == 32
    assert os.environ.get(scopes.SHELL_VAR) is None  # conftest keeps the shell running the tests out

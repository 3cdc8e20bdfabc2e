"""``llmswitch prompt --init bash|zsh|fish``: ``llmswitch_prompt`` prints exactly what ``llmswitch prompt`` prints.

Each case runs the real shell: it sources the generated function, goes to the case's directory
with the case's ``$LLMSWITCH_USE``, and prints ``llmswitch_prompt``'s output and status, then
``llmswitch prompt``'s. They must be identical in every scope: none, user, shell (a provider with
a role in active.toml, one without, a malformed value), project (trusted, untrusted, changed),
a hand-edited active.toml, a working directory reached through a symlink. ``llmswitch`` on PATH
is a wrapper that logs each start, so the cases that must not start Python are checked too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from runcli import cli_command

from llmswitch.services.switch import switch
from llmswitch.store import overlay

SHELLS = ("bash", "zsh", "fish")
SEPARATOR = "--- llmswitch prompt ---"


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        message = f"{program} is not installed — apt-get install -y {program} to run this test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def world(config_dir, tmp_path, monkeypatch):
    """A user selection, a repo two levels deep, and `llmswitch` on PATH logging every start."""
    switch("ollama/user-model", check_key=False)
    switch("llamacpp/small-model", role="small", check_key=False)
    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "python-starts"
    wrapper = bindir / "llmswitch"
    wrapper.write_text(f"#!/bin/sh\necho \"$@\" >> '{log}'\nexec "
                       + " ".join(f"'{part}'" for part in cli_command()) + ' "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    return {"repo": repo, "deep": repo / "src" / "pkg", "log": log, "inits": _Inits(wrapper, tmp_path), "tmp": tmp_path}


class _Inits(dict[str, Path]):
    """``llmswitch prompt --init SHELL`` written to a file, made by the real CLI when a case first needs that shell."""

    def __init__(self, wrapper: Path, folder: Path) -> None:
        super().__init__()
        self.wrapper, self.folder = wrapper, folder

    def __missing__(self, shell: str) -> Path:
        done = subprocess.run([str(self.wrapper), "prompt", "--init", shell], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        self[shell] = self.folder / f"init.{shell}"
        self[shell].write_text(done.stdout)
        return self[shell]


def both(world, shell: str, cwd: Path, use: str | None = None) -> tuple[str, str, int]:
    """(llmswitch_prompt's output and status, llmswitch prompt's, Python starts by llmswitch_prompt)."""
    need(shell)
    init = world["inits"][shell]
    if shell == "fish":
        script = (f"source {init}; llmswitch_prompt; echo \"status $status\"; echo '{SEPARATOR}'; "
                  "command llmswitch prompt; echo \"status $status\"")
        argv = [shell, "--no-config", "-c", script]
    else:
        script = (f"source {init}; llmswitch_prompt; echo \"status $?\"; echo '{SEPARATOR}'; "
                  "command llmswitch prompt; echo \"status $?\"")
        argv = [shell, "-f", "-c", script] if shell == "zsh" else [shell, "--noprofile", "--norc", "-c", script]
    env = dict(os.environ)
    env.pop("LLMSWITCH_USE", None)
    env["PWD"] = str(cwd)  # the shell's logical directory: for a symlink, not what the OS reports
    if use is not None:
        env["LLMSWITCH_USE"] = use
    log: Path = world["log"]
    log.unlink(missing_ok=True)
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ours, _, theirs = done.stdout.partition(SEPARATOR + "\n")
    starts = log.read_text().count("prompt") - 1 if log.exists() else -1  # the comparison's own start excluded
    return ours, theirs, starts


@pytest.mark.parametrize("shell", SHELLS)
def test_user_scope_without_python(world, shell):
    ours, theirs, starts = both(world, shell, world["deep"])
    assert ours == theirs == "ollama/user-model\nstatus 0\n"
    assert starts == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_no_selection_prints_nothing(world, shell, config_dir):
    for name in ("active.toml", ".active.toml.cache", ".active.toml.prompt"):
        (config_dir / name).unlink()
    ours, theirs, starts = both(world, shell, world["deep"])
    assert ours == theirs == "status 0\n" and starts == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_scope_without_python(world, shell):
    ours, theirs, starts = both(world, shell, world["deep"], use="default=llamacpp/other-model;small=ollama/x")
    assert ours == theirs == "llamacpp/other-model (shell)\nstatus 0\n"
    assert starts == 0


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("use", ["default=groq/llama-3.1-8b-instant",  # a provider with no role in active.toml
                                 "small=llamacpp/x",  # the default role not set in the shell: the user's
                                 "default=nosuch/model",  # unknown provider: llmswitch?
                                 "default=ollama/bad$(id)",  # unsafe: llmswitch?
                                 " default = ollama/spaced ",  # unusual spelling: Python judges it
                                 ";;default=ollama/a;;"])
def test_shell_scope_edge_cases_match(world, shell, use):
    ours, theirs, _ = both(world, shell, world["deep"], use=use)
    assert ours == theirs, (ours, theirs)


@pytest.mark.parametrize("shell", SHELLS)
def test_trusted_project(world, shell):
    overlay.write(str(world["repo"]), {"default": "llamacpp/proj-model"})
    ours, theirs, starts = both(world, shell, world["deep"])
    assert ours == theirs == "llamacpp/proj-model (project)\nstatus 0\n" and starts == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_scope_beats_the_project(world, shell):
    overlay.write(str(world["repo"]), {"default": "llamacpp/proj-model"})
    ours, theirs, _ = both(world, shell, world["deep"], use="default=ollama/shell-model")
    assert ours == theirs == "ollama/shell-model (shell)\nstatus 0\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_untrusted_and_changed_projects_are_ignored_alike(world, shell):
    project = world["repo"] / ".llmswitch.toml"
    project.write_text('[roles]\ndefault = "llamacpp/never-trusted"\n')
    ours, theirs, _ = both(world, shell, world["deep"])
    assert ours == theirs == "ollama/user-model (.llmswitch.toml ignored)\nstatus 0\n"
    overlay.write(str(world["repo"]), {"default": "llamacpp/proj-model"})
    project.write_text(project.read_text().replace("proj-model", "changed-model"))
    ours, theirs, _ = both(world, shell, world["deep"])
    assert ours == theirs == "ollama/user-model (.llmswitch.toml ignored)\nstatus 0\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_project_file_above_home_is_not_looked_for(world, shell, monkeypatch):
    home = world["repo"] / "src"
    monkeypatch.setenv("HOME", str(home))
    overlay.write(str(world["repo"]), {"default": "llamacpp/proj-model"})  # above $HOME: not looked for
    ours, theirs, starts = both(world, shell, world["deep"])
    assert ours == theirs == "ollama/user-model\nstatus 0\n" and starts == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_a_hand_edited_active_toml_is_read_by_llmswitch(world, shell, config_dir):
    active = config_dir / "active.toml"
    os.utime(config_dir / ".active.toml.prompt", ns=(1, 1))  # as if written long before the edit
    active.write_text(active.read_text().replace("user-model", "edited-model"))
    ours, theirs, starts = both(world, shell, world["deep"])
    assert ours == theirs == "ollama/edited-model\nstatus 0\n" and starts == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_a_broken_active_toml_is_the_same_question_mark(world, shell, config_dir):
    os.utime(config_dir / ".active.toml.prompt", ns=(1, 1))
    (config_dir / "active.toml").write_text("this is = = not toml")
    ours, theirs, _ = both(world, shell, world["deep"])
    assert ours == theirs == "llmswitch?\nstatus 1\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_symlinked_working_directory_is_walked_as_llmswitch_walks_it(world, shell):
    """The OS's working directory (physical), not the shell's $PWD: a project above the link target counts."""
    overlay.write(str(world["repo"]), {"default": "llamacpp/proj-model"})
    link = world["tmp"] / "elsewhere" / "link"
    link.parent.mkdir()
    link.symlink_to(world["deep"])
    ours, theirs, _ = both(world, shell, link)
    assert ours == theirs == "llamacpp/proj-model (project)\nstatus 0\n"


def test_the_segment_is_written_by_every_switch(world, config_dir):
    segment = config_dir / ".active.toml.prompt"
    assert segment.read_text() == "ollama/user-model\nllamacpp ollama\n"
    switch("llamacpp/next", check_key=False)
    assert segment.read_text() == "llamacpp/next\nllamacpp\n"
    assert oct(segment.stat().st_mode & 0o777) == "0o600"

"""The prompt snippets in docs/scopes.md (starship, tmux, bash/zsh PS1, fish), each run for real.

Each runs inside a project whose trusted ``.llmswitch.toml`` sets the model, so the segment must
show it with its scope mark. Shells and tmux run in a real terminal (a tmux pane, captured as a
person would see it); starship itself is not needed: the test runs the command its custom module
runs, the way it runs it (``shell = ["sh", "-c"]``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from runcli import cli_command

from llmswitch.services.switch import switch
from llmswitch.store import overlay

STARSHIP = '''\
# ~/.config/starship.toml
[custom.llmswitch]
command = "llmswitch prompt"
when = true
shell = ["sh", "-c"]
format = "[($output )]($style)"
style = "bold purple"
'''
TMUX = '''\
# ~/.tmux.conf: the model of the active pane's directory, refreshed every 5 s
set -g status-right '#(cd "#{pane_current_path}" && llmswitch prompt) %H:%M'
set -g status-interval 5
'''
BASH = '''\
# ~/.bashrc
PS1='$(llmswitch prompt --format "[{ref}{mark}] ")'"$PS1"
'''
ZSH = '''\
# ~/.zshrc
setopt PROMPT_SUBST
PS1='$(llmswitch prompt --format "[{ref}{mark}] ")'"$PS1"
'''
FISH = '''\
# ~/.config/fish/functions/fish_right_prompt.fish
function fish_right_prompt
    llmswitch prompt
end
'''
SEGMENT = "llamacpp/proj-model (project)"


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        message = f"{program} is not installed — apt-get install -y {program} to run this test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def here(config_dir, tmp_path, monkeypatch):
    """A trusted project two levels up, `llmswitch` on PATH (this source tree), and a clean terminal env."""
    switch("ollama/user-model", check_key=False)
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    overlay.write(str(root), {"default": "llamacpp/proj-model"})
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "llmswitch"
    wrapper.write_text("#!/bin/sh\nexec " + " ".join(f"'{part}'" for part in cli_command()) + ' "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.chdir(root / "src" / "pkg")
    return root / "src" / "pkg"


def screen(argv: list[str], cwd: Path, tmp_path: Path, until: str, *, keys: str | None = None) -> str:
    """Run ``argv`` in a real terminal (a tmux pane) and return what is on it once ``until`` shows."""
    tmux = need("tmux")
    sock = str(tmp_path / "tmux.sock")
    subprocess.run([tmux, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "12", "-c",
                    str(cwd), *argv], check=True, timeout=30)
    try:
        shown = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if keys:
                subprocess.run([tmux, "-S", sock, "send-keys", keys], timeout=10)
                keys = None
            shown = subprocess.run([tmux, "-S", sock, "capture-pane", "-p"], capture_output=True, text=True,
                                   timeout=10).stdout
            if until in shown:
                return shown
            time.sleep(0.3)
        return shown
    finally:
        subprocess.run([tmux, "-S", sock, "kill-server"], capture_output=True, timeout=10)


def test_starship_custom_module_command(here):
    module = tomllib.loads(STARSHIP)["custom"]["llmswitch"]
    done = subprocess.run([*module["shell"], module["command"]], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, SEGMENT + "\n", "")
    assert module["when"] is True and "($output )" in module["format"]  # an empty segment hides the module


def test_bash_ps1(here, tmp_path):
    rc = tmp_path / "bashrc"
    rc.write_text("PS1='me$ '\n" + BASH)
    shown = screen([need("bash"), "--noprofile", "--rcfile", str(rc), "-i"], here, tmp_path, "me$")
    assert f"[{SEGMENT}] me$" in shown, shown


def test_zsh_ps1(here, tmp_path):
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text("PS1='me%% '\n" + ZSH)
    shown = screen(["env", f"ZDOTDIR={zdot}", need("zsh"), "-i"], here, tmp_path, "me%")
    assert f"[{SEGMENT}] me%" in shown, shown


def test_fish_right_prompt(here, tmp_path):
    functions = tmp_path / "fish-functions.fish"
    functions.write_text(FISH)
    shown = screen([need("fish"), "--no-config", "-C", f"source {functions}"], here, tmp_path, SEGMENT)
    assert SEGMENT in shown, shown


def test_tmux_status_line(here, tmp_path):
    tmux = need("tmux")
    conf = tmp_path / "tmux.conf"
    conf.write_text(TMUX.replace("status-interval 5", "status-interval 1"))
    inner = str(tmp_path / "inner.sock")
    try:  # the inner tmux's status line, drawn in the outer one's pane, as a person sees it
        shown = screen(["env", "-u", "TMUX", tmux, "-S", inner, "-f", str(conf), "new-session", "-c", str(here)],
                       here, tmp_path, SEGMENT)
    finally:
        subprocess.run([tmux, "-S", inner, "kill-server"], capture_output=True, timeout=10)
    assert SEGMENT in shown, shown

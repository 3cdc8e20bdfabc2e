"""The prompt snippets in docs/scopes.md (starship, tmux, bash/zsh PS1, fish), each run for real.

Each snippet uses ``llmswitch_prompt`` (``llmswitch prompt --init``) and runs in two places: inside a
project whose trusted ``.llmswitch.toml`` sets the model (the segment shows it with its scope mark), and
in a plain directory (the user's model, and no Python started). Shells and tmux run in a real terminal
(a tmux pane, captured as a person would see it); starship itself is not needed: the test runs its
custom module's command the way starship does (the module's shell, the command on its stdin).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
from runcli import cli_command

from llmswitch.services.switch import switch
from llmswitch.store import overlay

SAVE = "llmswitch prompt --init bash > ~/.config/llmswitch/prompt.bash"  # once: starship and tmux source it
STARSHIP = '''\
# ~/.config/starship.toml
[custom.llmswitch]
command = ". ~/.config/llmswitch/prompt.bash && llmswitch_prompt"
when = true
shell = ["bash", "--noprofile", "--norc"]
use_stdin = true
format = "[($output )]($style)"
style = "bold purple"
'''
TMUX = '''\
# ~/.tmux.conf: the model of the active pane's directory, refreshed every 5 s
set -g status-right '#(cd "#{pane_current_path}" && bash -c ". ~/.config/llmswitch/prompt.bash && llmswitch_prompt") %H:%M'
set -g status-interval 5
'''
BASH = '''\
# ~/.bashrc
eval "$(llmswitch prompt --init bash)"
PS1='$(s=$(llmswitch_prompt); [ -n "$s" ] && printf "[%s] " "$s")'"$PS1"
'''
ZSH = '''\
# ~/.zshrc
eval "$(llmswitch prompt --init zsh)"
setopt PROMPT_SUBST
PS1='$(s=$(llmswitch_prompt); [ -n "$s" ] && printf "[%s] " "$s")'"$PS1"
'''
FISH = '''\
# ~/.config/fish/config.fish
llmswitch prompt --init fish | source
function fish_right_prompt
    llmswitch_prompt
end
'''
SEGMENTS = {"project": "llamacpp/proj-model (project)", "user": "ollama/user-model"}


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        message = f"{program} is not installed — apt-get install -y {program} to run this test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(params=list(SEGMENTS))
def here(request, config_dir, tmp_path, monkeypatch):
    """The directory of the scope under test, in a world of: a user selection, a trusted project two levels
    up from ``repo/src/pkg``, a plain directory elsewhere, `llmswitch` on PATH (this source tree, logging each
    start), HOME with the saved bash function, and a clean terminal env."""
    switch("ollama/user-model", check_key=False)
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    overlay.write(str(root), {"default": "llamacpp/proj-model"})
    (tmp_path / "elsewhere").mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "python-starts"
    wrapper = bindir / "llmswitch"
    wrapper.write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexec "
                       + " ".join(f"'{part}'" for part in cli_command()) + ' "$@"\n')
    wrapper.chmod(0o755)
    home = tmp_path / "home"
    (home / ".config" / "llmswitch").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    subprocess.run([need("bash"), "--noprofile", "--norc", "-c", SAVE], check=True, timeout=60)
    cwd = root / "src" / "pkg" if request.param == "project" else tmp_path / "elsewhere"
    monkeypatch.chdir(cwd)
    return Here(cwd, SEGMENTS[request.param], request.param, log)


class Here(NamedTuple):
    cwd: Path
    segment: str  # what `llmswitch prompt` prints there
    scope: str
    log: Path  # one line per start of `llmswitch` (Python), with its arguments

    def check_python_starts(self) -> None:
        """Outside a project, the prompt never starts Python (``--init`` in an rc file starts it once)."""
        starts = self.log.read_text().splitlines() if self.log.exists() else []
        prompts = [line for line in starts if line == "prompt"]
        assert (self.scope, prompts) == ("user", []) or (self.scope == "project" and prompts), starts


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
    assert module["use_stdin"] is True and len(module["shell"]) > 1  # as starship runs it: the shell, the command on stdin
    here.log.unlink(missing_ok=True)
    done = subprocess.run(module["shell"], input=module["command"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, here.segment + "\n", "")
    assert module["when"] is True and "($output )" in module["format"]  # an empty segment hides the module
    here.check_python_starts()


def test_bash_ps1(here, tmp_path):
    rc = tmp_path / "bashrc"
    rc.write_text("PS1='me$ '\n" + BASH)
    shown = screen([need("bash"), "--noprofile", "--rcfile", str(rc), "-i"], here.cwd, tmp_path, "me$")
    assert f"[{here.segment}] me$" in shown, shown
    here.check_python_starts()


def test_zsh_ps1(here, tmp_path):
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text("PS1='me%% '\n" + ZSH)
    shown = screen(["env", f"ZDOTDIR={zdot}", need("zsh"), "-i"], here.cwd, tmp_path, "me%")
    assert f"[{here.segment}] me%" in shown, shown
    here.check_python_starts()


def test_fish_right_prompt(here, tmp_path):
    config = tmp_path / "config.fish"
    config.write_text(FISH)
    shown = screen([need("fish"), "--no-config", "-C", f"source {config}"], here.cwd, tmp_path, here.segment)
    assert here.segment in shown, shown
    here.check_python_starts()


def test_tmux_status_line(here, tmp_path):
    tmux = need("tmux")
    conf = tmp_path / "tmux.conf"
    conf.write_text(TMUX.replace("status-interval 5", "status-interval 1"))
    inner = str(tmp_path / "inner.sock")
    here.log.unlink(missing_ok=True)
    try:  # the inner tmux's status line, drawn in the outer one's pane, as a person sees it
        shown = screen(["env", "-u", "TMUX", tmux, "-S", inner, "-f", str(conf), "new-session", "-c",
                        str(here.cwd)], here.cwd, tmp_path, here.segment)
    finally:
        subprocess.run([tmux, "-S", inner, "kill-server"], capture_output=True, timeout=10)
    assert here.segment in shown, shown
    here.check_python_starts()

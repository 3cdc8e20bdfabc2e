"""Hardening of the CLI and the read path (issue 11): trust only what the user owns, re-validate on read,
inert shell output, no stale variables, and honest sentences for odd inputs. Each test fails on the old code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import llmswitch
from llmswitch.base import files
from llmswitch.services.switch import switch
from llmswitch.store import keys, selection

FAKE = "sk-test-not-a-real-key-0111"
PROBE_ENV = "import json, os, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"


def child_env(run, *names: str, env: dict[str, str] | None = None, role: str = "default") -> dict[str, str | None]:
    done = run("exec", "--role", role, "--", sys.executable, "-c", PROBE_ENV, *names, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_sentence(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmswitch: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def python_api(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


# --- item 1: an active.toml others can write (or that is not ours) is never used ------------------

READERS = [("current",), ("current", "--json"), ("current", "--field", "base_url"), ("env",), ("exec", "--", "true"),
           ("chat",), ("key", "get", "--role", "default")]


@pytest.mark.parametrize("args", READERS)
@pytest.mark.parametrize("how", ["group-writable", "world-writable", "another-owner", "directory-777"])
def test_an_active_toml_others_can_write_is_refused_everywhere(run_cli, config_dir, args, how):
    run_cli("key", "set", "groq", input=FAKE)
    assert run_cli("use", "groq/llama-3.1-8b-instant").returncode == 0
    active = config_dir / "active.toml"
    target, fix = (config_dir, f"chmod 700 {config_dir}") if how == "directory-777" else (active, f"chmod 600 {active}")
    if how == "group-writable":
        os.chmod(active, 0o620)
    elif how == "world-writable":
        os.chmod(active, 0o606)
    elif how == "another-owner":
        os.chown(active, 65534, 65534)
        fix = f"cp {active} {active}.new && mv {active}.new {active}"
    else:
        os.chmod(config_dir, 0o777)
    done = run_cli(*args, input="hi\n")
    assert done.returncode == 2, (done.stdout, done.stderr)
    one_sentence(done.stderr, str(target), "will not use it", fix)
    assert FAKE not in done.stdout + done.stderr


@pytest.mark.parametrize("code", ["import llmswitch; llmswitch.active()", "import llmswitch; llmswitch.client()",
                                  "import llmswitch; llmswitch.watch().current()"])
def test_the_python_api_refuses_it_too(config_dir, code):
    keys.store("groq", FAKE)
    switch("groq/llama-3.1-8b-instant")
    os.chmod(config_dir / "active.toml", 0o666)
    done = python_api(code + "\n")
    assert done.returncode == 1 and "UntrustedSelection" in done.stderr and "chmod 600" in done.stderr
    with pytest.raises(llmswitch.SelectionError, match="writable by other users"):
        llmswitch.active()
    with pytest.raises(files.UnsafeFileError, match="chmod 600"):  # either class catches it
        llmswitch.active()


TAMPERED = [
    ('key_source = "keyring"', 'key_source = "command"\nkey_command = "touch {marker}"'),
    ('key_source = "keyring"', 'key_source = "env"'),
    ('key_env = [\n    "GROQ_API_KEY",\n]', 'key_env = [\n    "GITHUB_TOKEN",\n]'),
    ('keyring_username = "groq"', 'keyring_username = "openai"'),
]


@pytest.mark.parametrize(("old", "new"), TAMPERED)
def test_the_key_source_comes_from_config_not_active_toml(run_cli, run_cli_process, config_dir, tmp_path, old, new):
    run_cli("key", "set", "groq", input=FAKE)
    run_cli("key", "set", "openai", input="sk-test-the-openai-key-0000")
    assert run_cli("use", "groq/llama-3.1-8b-instant").returncode == 0
    marker = tmp_path / "key-command-ran"
    active = config_dir / "active.toml"
    text = active.read_text()
    assert old in text
    active.write_text(text.replace(old, new.format(marker=marker)))
    env = {"GITHUB_TOKEN": "ghp_not_a_real_token_but_secret_0000000000"}
    for args in (("exec", "--", "true"), ("env",), ("key", "get", "--role", "default")):
        done = run_cli(*args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        one_sentence(done.stderr, "the key reference in active.toml does not match config.toml for groq",
                     "llmswitch use --role default groq/llama-3.1-8b-instant")
        assert "ghp_" not in done.stdout and "sk-test" not in done.stdout
    done = python_api("import llmswitch; llmswitch.client()")
    assert done.returncode == 1 and "does not match config.toml" in done.stderr
    assert not marker.exists()  # the tampered command never ran
    report = json.loads(run_cli("config", "check", "--json").stdout)
    assert not report["ok"]
    assert any(p["key"] == "roles.default" and "does not match config.toml" in p["cause"] for p in report["problems"])
    assert run_cli("current").returncode == 0  # other readers still see the file (the reference is theirs)
    assert run_cli("use", "groq/llama-3.1-8b-instant").returncode == 0  # the fix, followed
    assert child_env(run_cli_process, "OPENAI_API_KEY") == {"OPENAI_API_KEY": FAKE}


def test_a_config_change_after_use_is_drift_too(run_cli, run_cli_process, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n'
                                            'key_source = "env:BOX_KEY"\n')
    assert run_cli("use", "box/m1").returncode == 0
    assert child_env(run_cli_process, "OPENAI_API_KEY", env={"BOX_KEY": FAKE}) == {"OPENAI_API_KEY": FAKE}
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n'
                                            'key_source = "env:OTHER_KEY"\n')
    done = run_cli("exec", "--", "true", env={"BOX_KEY": FAKE, "OTHER_KEY": FAKE})
    assert done.returncode == 2
    one_sentence(done.stderr, "key_source 'env:BOX_KEY' there, 'env:OTHER_KEY' in config.toml")


# --- item 10: selection values are re-validated on read ---------------------------------------------

@pytest.mark.parametrize(("edit", "fragment"), [
    (("https://api.groq.com/openai/v1", "file:///etc/passwd"), "base_url is not an http:// or https:// URL"),
    (("https://api.groq.com/openai/v1", "https://user:pw@evil.example/v1"), "base_url has credentials in it"),
    (("https://api.groq.com/openai/v1", "http:///v1"), "base_url has no host"),
    (("https://api.groq.com/openai/v1", "https://api.groq.com/\\u001b[2Jv1"), "base_url contains control characters"),
    (('model = "llama-3.1-8b-instant"', 'model = "llama\\u0007"'), "model contains control characters"),
    (("version = 1", "version = true"), "schema version True is not 1"),
    (("version = 1", "version = 1.0"), "schema version 1.0 is not 1"),
])
def test_tampered_values_are_refused_on_read(run_cli, config_dir, edit, fragment):
    assert run_cli("use", "groq/llama-3.1-8b-instant").returncode == 0
    active = config_dir / "active.toml"
    text = active.read_text()
    assert edit[0] in text
    active.write_text(text.replace(edit[0], edit[1], 1))
    for args in (("current",), ("current", "--json"), ("env",), ("exec", "--", "true")):
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stdout)
        one_sentence(done.stderr, fragment)
        assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    with pytest.raises(llmswitch.SelectionError, match="llmswitch use"):
        llmswitch.active()


def test_a_role_whose_provider_is_gone_is_an_error_for_that_role(run_cli, run_cli_process, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    assert run_cli("use", "ollama/llama3").returncode == 0
    assert run_cli("use", "--role", "small", "box/m1").returncode == 0
    assert run_cli("providers", "rm", "box").returncode == 0
    for args in (("exec", "--role", "small", "--", "true"), ("env", "--role", "small")):
        done = run_cli(*args)
        assert done.returncode == 3
        one_sentence(done.stderr, "role small uses provider 'box', which is no longer configured",
                     "llmswitch use --role small PROVIDER/MODEL")
    assert child_env(run_cli_process, "OPENAI_MODEL") == {"OPENAI_MODEL": "llama3"}  # the other role is fine
    assert run_cli("current", "--role", "small").returncode == 0  # readers may still see it
    check = run_cli("config", "check")
    assert check.returncode == 1 and "no longer configured" in check.stdout


# --- item 8: env output is inert; model ids with shell metacharacters are refused where they enter --

HOSTILE_MODELS = ["$(touch {marker})", "`touch {marker}`", "${{HOME}}x", "a;touch {marker}", "x|y", 'q"uote',
                  "back\\slash", "it's"]


@pytest.mark.parametrize("model", HOSTILE_MODELS)
def test_use_refuses_shell_metacharacters_in_model_ids(run_cli, config_dir, tmp_path, model):
    done = run_cli("use", "ollama/" + model.format(marker=tmp_path / "ran"))
    assert done.returncode == 2
    one_sentence(done.stderr, "the model id contains", "which a shell would run or expand")
    assert not (config_dir / "active.toml").exists()


def test_real_model_ids_are_not_refused(run_cli):
    for model in ("~anthropic/claude-sonnet-latest", "Llama-3.3+(3.1v3.3)-70B-Hanami-x1", "hf.co/u/r:Q4_K_M",
                  "gpt-4o:online", "@cf/meta/llama-3.1-8b-instruct"):
        assert run_cli("use", f"openrouter/{model}").returncode == 0, model


def write_hostile(model: str, headers: dict[str, str] | None = None) -> None:
    """A selection with a model id `use` would refuse (a hand edit, or an older llmswitch wrote it)."""
    selection.write(selection.ActiveSelection(role="default", provider="ollama", model=model,
                                              base_url="http://localhost:11434/v1", key_source="keyring",
                                              keyring_service="llmswitch", keyring_username="ollama",
                                              key_env=("OLLAMA_API_KEY",), key_required=False,
                                              headers=headers or {}))


INERT = ["$(touch {marker})", "`touch {marker}`", "$HOME-$PATH", 'dq"x', "semi;touch {marker}", "a b  c",
         "#not-a-comment", "~/x", "!!"]


@pytest.mark.parametrize("model", INERT)
def test_dotenv_output_is_inert_for_sh_and_read_identically_by_python_dotenv(run_cli, tmp_path, model):
    dotenv = pytest.importorskip("dotenv")
    marker = tmp_path / "ran"
    model = model.format(marker=marker)
    write_hostile(model, headers={"X-Title": "a $(touch " + str(marker) + ") b"})
    done = run_cli("env", "--shell", "dotenv")
    assert done.returncode == 0, done.stderr
    env_file = tmp_path / "llm.env"
    env_file.write_text(done.stdout)
    script = f'set -a; . "{env_file}"; printf "%s\\n%s" "$OPENAI_MODEL" "$LLMSWITCH_HEADERS"'
    sourced = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                             env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert sourced.returncode == 0, sourced.stderr
    headers = json.dumps({"X-Title": "a $(touch " + str(marker) + ") b"}, separators=(",", ":"))
    assert sourced.stdout == f"{model}\n{headers}"
    assert not marker.exists()
    values = dotenv.dotenv_values(env_file, interpolate=True)  # python-dotenv's default
    assert values["OPENAI_MODEL"] == model and values["LLMSWITCH_HEADERS"] == headers
    assert values["OPENAI_API_KEY"] == keys.KEYLESS_PLACEHOLDER


@pytest.mark.parametrize("model", ["it's", "back\\slash", "${HOME}", "x${PATH:-y}"])
def test_dotenv_refuses_what_it_cannot_write_the_same_way_for_both_readers(run_cli, model):
    write_hostile(model)
    done = run_cli("env", "--shell", "dotenv")
    assert done.returncode == 2 and done.stdout == ""
    one_sentence(done.stderr, "OPENAI_MODEL contains", "use --shell bash (or exec)")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_reads_hostile_values_back_literally(run_cli, tmp_path, shell):
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed")
    marker = tmp_path / "ran"
    model = f"$(touch {marker}) `touch {marker}` it's \\ back\\\\slash ${{HOME}}"
    write_hostile(model)
    lines = run_cli("env", "--shell", shell).stdout
    script = lines + '\nprintf "%s" "$OPENAI_MODEL"\n'
    done = subprocess.run([shell, "-c", script], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert done.stdout == model, done.stderr
    assert not marker.exists()


# --- item 11: exec sets or clears every variable it owns -------------------------------------------

def test_exec_clears_what_an_earlier_env_of_another_provider_left(run_cli, run_cli_process, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        '[providers.gateway]\nbase_url = "https://gw.example.com/v1"\nkey_source = "none"\n'
        '[providers.gateway.headers]\n"X-Title" = "my tools"\n'
        '[providers.az]\npreset = "azure"\nbase_url = "https://r.openai.azure.com/openai"\n'
        'api_version = "2024-10-21"\nkey_source = "none"\n')
    assert run_cli("use", "gateway/m1").returncode == 0
    assert run_cli("use", "--role", "small", "ollama/llama3").returncode == 0
    assert run_cli("use", "--role", "azure", "az/gpt-4o").returncode == 0
    script = ('eval "$(llmswitch env --role azure)"; eval "$(llmswitch env)"; '
              'export OPENAI_ORG_ID=org-stale OPENAI_ORGANIZATION=org-stale; env')
    bin_dir = str(Path(sys.executable).parent)
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]})
    stale = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert stale["LLMSWITCH_HEADERS"] == '{"X-Title":"my tools"}' and stale["OPENAI_ORG_ID"] == "org-stale"
    assert "OPENAI_API_TYPE" not in stale  # the second eval already cleared the azure one
    stale["OPENAI_API_TYPE"], stale["OPENAI_API_VERSION"] = "azure", "2023-05-15"
    names = ("LLMSWITCH_HEADERS", "OPENAI_API_TYPE", "OPENAI_API_VERSION", "OPENAI_ORG_ID", "OPENAI_ORGANIZATION",
             "OPENAI_MODEL", "LLMSWITCH_PROVIDER")
    small = child_env(run_cli_process, *names, env=stale, role="small")
    assert small == {"LLMSWITCH_HEADERS": None, "OPENAI_API_TYPE": None, "OPENAI_API_VERSION": None,
                     "OPENAI_ORG_ID": None, "OPENAI_ORGANIZATION": None, "OPENAI_MODEL": "llama3",
                     "LLMSWITCH_PROVIDER": "ollama"}
    azure = child_env(run_cli_process, *names, env=stale, role="azure")
    assert azure["OPENAI_API_TYPE"] == "azure" and azure["OPENAI_API_VERSION"] == "2024-10-21"
    assert azure["LLMSWITCH_HEADERS"] is None and azure["OPENAI_ORG_ID"] is None


def test_openai_keeps_its_organisation(run_cli, run_cli_process):
    run_cli("key", "set", "openai", input=FAKE)
    assert run_cli("use", "openai/gpt-4o-mini").returncode == 0
    got = child_env(run_cli_process, "OPENAI_ORG_ID", env={"OPENAI_ORG_ID": "org-mine"})
    assert got == {"OPENAI_ORG_ID": "org-mine"}


def test_env_output_unsets_what_it_does_not_set(run_cli):
    assert run_cli("use", "ollama/llama3").returncode == 0
    bash = run_cli("env", "--shell", "bash").stdout.splitlines()
    assert bash[0].startswith("unset ") and "LLMSWITCH_HEADERS" in bash[0] and "OPENAI_API_TYPE" in bash[0]
    assert "set -e LLMSWITCH_HEADERS" in run_cli("env", "--shell", "fish").stdout
    assert "Remove-Item Env:LLMSWITCH_HEADERS" in run_cli("env", "--shell", "powershell").stdout


# --- low items ----------------------------------------------------------------------------------

def test_deeply_nested_toml_is_one_sentence(run_cli, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "active.toml").write_text("version = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    for args in (("current",), ("env",), ("exec", "--", "true"), ("current", "--json")):
        done = run_cli(*args)
        assert done.returncode == 2
        one_sentence(done.stderr, "nests tables or arrays too deeply to read")
    done = python_api("import llmswitch; llmswitch.active()")
    assert "SelectionError" in done.stderr and "RecursionError" not in done.stderr


def test_a_bom_is_named(run_cli, config_dir):
    assert run_cli("use", "ollama/llama3").returncode == 0
    active = config_dir / "active.toml"
    active.write_bytes(b"\xef\xbb\xbf" + active.read_bytes())
    one_sentence(run_cli("current").stderr, "byte-order mark (BOM)")


def test_a_huge_key_gets_its_real_cause_from_exec(run_cli, tmp_path):
    # `key set` refuses such a key on entry; a key command (or another tool's keyring entry) can still yield one
    script = tmp_path / "huge-key.py"
    script.write_text("print('k' * (200 * 1024))\n")
    added = run_cli("providers", "add", "groq", "--key-source", f"command:{sys.executable} {script}")
    assert added.returncode == 0, added.stderr
    assert run_cli("use", "groq/llama-3.1-8b-instant").returncode == 0
    done = run_cli("exec", "--", "true")
    assert done.returncode == 4
    # refused where it enters (the key command), before exec could hit the kernel's 128 KiB limit
    one_sentence(done.stderr, "is 204,800 characters long", "make the command print only the key")
    assert "permission" not in done.stderr


def test_stale_temp_files_of_ours_are_swept_on_the_next_write(config_dir):
    switch("ollama/llama3")
    old = time.time() - 2 * files.STALE_TEMP_SECONDS
    stale = config_dir / ".active.toml.k1ll3d_x.tmp"
    fresh = config_dir / ".active.toml.inflight.tmp"  # a concurrent writer's: too new to touch
    foreign = config_dir / ".active.toml.notours.tmp.bak"
    theirs = config_dir / ".active.toml.otheruid.tmp"
    unrelated = config_dir / ".config.toml.abcdefgh.tmp"  # another file's (swept by that file's writer)
    for path in (stale, fresh, foreign, theirs, unrelated):
        path.write_text("partial")
    for path in (stale, foreign, theirs, unrelated):
        os.utime(path, (old, old))
    os.chown(theirs, 65534, 65534)
    switch("ollama/qwen2.5:7b")
    assert not stale.exists()
    assert fresh.exists() and foreign.exists() and theirs.exists() and unrelated.exists()
    assert selection.read().model == "qwen2.5:7b"


def test_a_world_writable_directory_is_refused_for_writes_too(run_cli, config_dir):
    assert run_cli("use", "ollama/llama3").returncode == 0
    os.chmod(config_dir, 0o777)
    done = run_cli("use", "ollama/qwen2.5:7b")
    assert done.returncode == 2
    one_sentence(done.stderr, f"{config_dir} is writable by other users (mode 777)", f"chmod 700 {config_dir}")
    os.chmod(config_dir, 0o700)
    assert json.loads(run_cli("current", "--json").stdout)["model"] == "llama3"


def test_errors_of_json_commands_come_as_data_too(run_cli):
    done = run_cli("current", "--json")
    assert done.returncode == 3
    data = json.loads(done.stdout)
    assert data["error"] == "NoSelection" and data["exit_code"] == 3
    assert data["fix"] == "run: llmswitch use PROVIDER/MODEL" and data["cause"].startswith("no model selected yet")
    assert done.stderr.strip() == f"llmswitch: {data['sentence']}"

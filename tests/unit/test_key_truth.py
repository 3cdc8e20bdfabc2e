"""One key truth from the first run to every reader (issue 21).

Each writer (``add URL``, ``providers add``, ``import --add``, ``use`` of a preset with no config; the
wizard and the editor are in tests/app/test_key_truth_app.py) is run against a real server on
127.0.0.1 that wants a key (a LiteLLM-like proxy) or none (a llama.cpp-like server), with a keyring
that works or none at all. Every cell asserts what :mod:`llmswitch.store.keydecision` decides is what
config.toml says, that active.toml's copy agrees, that the readers (``key get``, ``env``, ``exec``,
``client()``, ``chat``, ``/model``) tell the truth — never the keyless placeholder for a server that
wants a key — and that the fix they print, followed literally once, makes the next command work.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from llmswitch.base import paths
from llmswitch.base.errors import Exit
from llmswitch.store.keydecision import decide, default_variable, key_fields
from upstreams import FAKE_KEY, Reply, bearer, litellm_like, llamacpp_like, models_body

GOOD = FAKE_KEY
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
PLACEHOLDER = "llmswitch-keyless"
PRINT_KEY = [sys.executable, "-c", "import os; print(os.environ['OPENAI_API_KEY'])"]


@dataclass
class Shell:
    """One person's shell: the environment every command of a cell runs with."""

    run: Callable[..., object]
    run_process: Callable[..., object]
    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, input: str | None = None):  # noqa: A002 - run_cli's name
        run = self.run_process if args[:1] == ("exec",) else self.run  # exec replaces the process: a real one
        return run(*args, input=input, env=self.env)


def written(pid: str) -> dict:
    data = tomllib.loads(paths.config_file().read_text())
    return data["providers"][pid]


def agree() -> None:
    """active.toml's key facts are config.toml's, for every role (read in this process, as a tool would)."""
    from llmswitch.store import selection
    from llmswitch.store.config import load

    config = load()
    for sel in selection.read_all().values():
        wanted = key_fields(config.provider(sel.provider))
        assert {name: getattr(sel, name) for name in wanted} == wanted, (sel, wanted)


def follow(shell: Shell, fix: str) -> None:
    """Do the first thing the fix says, exactly: ``run: llmswitch key set P``, or ``export VAR=<the key>``, or
    ``set key_source = "…" at FILE:LINE`` (then what follows it)."""
    edit = re.match(r'set key_source = "([^"]+)" at (\S+):(\d+), then ', fix)
    if edit:
        path, line = Path(edit.group(2)), int(edit.group(3))
        lines = path.read_text().split("\n")
        assert lines[line - 1].startswith("key_source"), lines[line - 1]
        lines[line - 1] = f'key_source = "{edit.group(1)}"'
        path.write_text("\n".join(lines))
        fix = fix[edit.end():]
    key_set = re.match(r"run: llmswitch (key set \S+)", fix)
    export = re.match(r"(?:for this shell: )?export ([A-Z][A-Z0-9_]*)=<the key>", fix)
    assert key_set or export, f"the fix does not start with a step: {fix}"
    if key_set:
        done = shell(*key_set.group(1).split(), input=GOOD + "\n")
        assert done.returncode == 0, done.stderr
    else:
        shell.env[export.group(1)] = GOOD


def fix_of(stderr: str) -> str:
    """The fix part of an error sentence (``P: cause — fix``)."""
    assert " — " in stderr, stderr
    return stderr.strip().splitlines()[-1].split(" — ", 1)[1]


def readers_refuse_then_work(shell: Shell, pid: str) -> None:
    """A server that wants a key, and no key: every reader exits 4 with the same fix; followed once, all work."""
    got = shell("key", "get", pid)
    assert got.returncode == Exit.KEY and got.stdout == "" and PLACEHOLDER not in got.stderr, got.stderr
    fix = fix_of(got.stderr)
    assert "llmswitch key set" not in fix or "PYTHON_KEYRING_BACKEND" not in shell.env, fix  # never offered here
    for args in (("env", "--shell", "bash"), ("exec", "--", *PRINT_KEY)):
        done = shell(*args)
        assert done.returncode == Exit.KEY and PLACEHOLDER not in done.stdout, (args, done.stdout, done.stderr)
        assert fix in done.stderr, (args, done.stderr)
    follow(shell, fix)
    got = shell("key", "get", pid)
    assert (got.returncode, got.stdout) == (0, GOOD + "\n"), got.stderr
    done = shell("exec", "--", *PRINT_KEY)
    assert (done.returncode, done.stdout) == (0, GOOD + "\n"), done.stderr
    agree()


def readers_run_keyless(shell: Shell, pid: str) -> None:
    """A server that answered without a key: the readers hand out the placeholder, and nothing says to export."""
    got = shell("key", "get", pid)
    assert (got.returncode, got.stdout) == (0, PLACEHOLDER + "\n"), got.stderr
    done = shell("exec", "--", *PRINT_KEY)
    assert (done.returncode, done.stdout) == (0, PLACEHOLDER + "\n"), done.stderr
    assert "export" not in done.stderr
    agree()


# --- the decision itself (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize(("chosen", "hosted", "learned", "keyring_ok", "source", "required"), [
    (None, False, True, True, "keyring", True),            # a proxy that refused without a key
    (None, False, True, False, "env:BOX_API_KEY", True),   # … on a machine without a keyring
    (None, False, False, True, "none", False),             # a server that answered without a key
    (None, False, False, False, "none", False),
    (None, False, None, True, "keyring", False),           # not known yet: the config's rule (here: optional)
    (None, False, None, False, "env:BOX_API_KEY", False),
    ("env:MINE", False, True, True, "env:MINE", True),     # a variable named is kept
    ("keyring", False, True, False, "env:BOX_API_KEY", True),  # the keyring, where none works: the variable
    ("command:pass box", False, False, True, "command:pass box", False),
    (None, True, False, True, "keyring", True),             # a hosted provider always wants one
])
def test_the_decision(chosen, hosted, learned, keyring_ok, source, required):
    made = decide(chosen=chosen, default_required=hosted, hosted=hosted, learned=learned, keyring_ok=keyring_ok,
                  variable="BOX_API_KEY")
    assert (made.source, made.required) == (source, required)
    assert made.settings()["key_source"] == source
    assert made.settings().get("key_required", hosted) == (required if source != "none" else hosted)


def test_the_proposed_variable():
    assert default_variable("openrouter") == "OPENROUTER_API_KEY"
    assert default_variable("litellm") == "LITELLM_API_KEY"
    assert default_variable("gpu-box") == "GPU_BOX_API_KEY"
    assert default_variable("local-8000") == "LOCAL_8000_API_KEY"


# --- the writers, per situation, each followed by the readers ---------------------------------------

KEYRING = {"keyring": {}, "no keyring": NO_KEYRING}


@pytest.fixture
def shell(run_cli, run_cli_process) -> Shell:
    return Shell(run_cli, run_cli_process)


@pytest.mark.parametrize("keyring", list(KEYRING))
def test_add_a_keyed_proxy(upstream, shell, keyring):
    server = litellm_like(upstream())
    shell.env.update(KEYRING[keyring])
    done = shell("add", f"{server.url}/v1")
    assert done.returncode == 0, done.stderr
    table = written("litellm")
    want = "keyring" if keyring == "keyring" else "env:LITELLM_API_KEY"
    assert (table["key_source"], table["key_required"]) == (want, True), table
    if keyring == "no keyring":
        assert "llmswitch key set" not in done.stdout + done.stderr
        assert "export LITELLM_API_KEY=<the key>" in done.stdout + done.stderr
    assert shell("use", "litellm/gpt-4o-mini").returncode == 0
    agree()
    readers_refuse_then_work(shell, "litellm")


@pytest.mark.parametrize("keyring", list(KEYRING))
def test_add_a_keyless_server(upstream, shell, keyring):
    server = llamacpp_like(upstream())
    shell.env.update(KEYRING[keyring])
    done = shell("add", f"{server.url}/v1")
    assert done.returncode == 0, done.stderr
    assert written("llamacpp")["key_source"] == "none"
    assert "export" not in done.stdout + done.stderr and "key set" not in done.stdout + done.stderr
    assert shell("use", "llamacpp/tiny.gguf").returncode == 0
    readers_run_keyless(shell, "llamacpp")


@pytest.mark.parametrize("keyring", list(KEYRING))
def test_providers_add_asks_a_server_here_once(upstream, shell, keyring):
    keyed, keyless = litellm_like(upstream()), llamacpp_like(upstream())
    shell.env.update(KEYRING[keyring])
    assert shell("providers", "add", "proxy", "--base-url", f"{keyed.url}/v1").returncode == 0
    assert shell("providers", "add", "box", "--base-url", f"{keyless.url}/v1").returncode == 0
    want = "keyring" if keyring == "keyring" else "env:PROXY_API_KEY"
    assert (written("proxy")["key_source"], written("proxy")["key_required"]) == (want, True)
    assert written("box")["key_source"] == "none"
    assert shell("use", "box/tiny.gguf").returncode == 0
    readers_run_keyless(shell, "box")
    assert shell("use", "proxy/gpt-4o-mini").returncode == 0
    agree()
    readers_refuse_then_work(shell, "proxy")


def test_import_add_without_a_keyring_names_the_variable(upstream, shell, tmp_path):
    """A plaintext key in ~/.env, no keyring: the provider reads an env var, and the note says which."""
    server = litellm_like(upstream())
    home = tmp_path / "person"
    home.mkdir()
    (home / ".env").write_text(f"OPENAI_BASE_URL={server.url}/v1\nOPENAI_API_KEY={GOOD}\n")
    shell.env.update(NO_KEYRING, HOME=str(home))
    done = shell("import", "env", "--add")
    assert done.returncode == 0, done.stderr
    assert written("local")["key_source"] == "env:LOCAL_API_KEY"
    assert "llmswitch key set" not in done.stdout and "export LOCAL_API_KEY=<the key>" in done.stdout, done.stdout
    assert GOOD not in done.stdout + done.stderr
    shell.env["LOCAL_API_KEY"] = GOOD  # the note, followed
    assert shell("use", "local/gpt-4o-mini").returncode == 0
    agree()
    got = shell("key", "get", "local")
    assert (got.returncode, got.stdout) == (0, GOOD + "\n"), got.stderr


@pytest.mark.parametrize("keyring", list(KEYRING))
def test_use_of_a_preset_writes_what_was_learned(upstream, shell, keyring):
    """``use`` of a preset with no config entry: a server probed keyless gets ``none``, a proxy that asked for a
    key gets ``key_required``, and without a keyring the variable — config.toml is created for it."""
    keyless, keyed = llamacpp_like(upstream()), litellm_like(upstream())
    shell.env.update(KEYRING[keyring], LLAMACPP_BASE_URL=f"{keyless.url}/v1", LITELLM_PROXY_URL=f"{keyed.url}/v1")
    assert shell("probe", "llamacpp").returncode == 0
    assert shell("probe", "litellm").returncode != 0
    assert shell("use", "llamacpp/tiny.gguf").returncode == 0
    assert written("llamacpp") == {"key_source": "none"}
    readers_run_keyless(shell, "llamacpp")
    assert shell("use", "litellm/gpt-4o-mini").returncode == 0
    want = "keyring" if keyring == "keyring" else "env:LITELLM_API_KEY"
    assert written("litellm") == {"key_source": want, "key_required": True}
    agree()
    readers_refuse_then_work(shell, "litellm")


def test_use_of_a_local_preset_without_a_keyring_is_usable(upstream, shell):
    """Headless, never probed: the preset's variable is the source (optional), so the readers run keyless."""
    server = llamacpp_like(upstream())
    shell.env.update(NO_KEYRING, LLAMACPP_BASE_URL=f"{server.url}/v1")
    assert shell("use", "llamacpp/tiny.gguf").returncode == 0
    assert written("llamacpp") == {"key_source": "env:LLAMACPP_API_KEY"}
    readers_run_keyless(shell, "llamacpp")


def test_a_probe_that_learns_a_key_is_wanted_refreshes_active_toml(upstream, shell):
    """Added while it answered keyless-or-nothing; later it asks for a key: the probe learns it, active.toml's
    copy follows at once (not a switch), and the readers refuse with the fix that works."""
    server = upstream()
    wants = {"key": False}
    keyed = bearer(GOOD, Reply.json(models_body(["m1"])))

    def models(request):
        return keyed(request) if wants["key"] else Reply.json(models_body(["m1"]))

    server.get("/v1/models", models)
    assert shell("providers", "add", "box", "--base-url", f"{server.url}/v1", "--key-source", "keyring").returncode == 0
    assert shell("use", "box/m1").returncode == 0
    before = paths.active_file().read_bytes()
    assert shell("probe", "box").returncode == 0  # keyless: it learns nothing new for the selection
    assert paths.active_file().read_bytes() == before  # not rewritten: watchers see nothing
    wants["key"] = True
    assert shell("probe", "box").returncode == Exit.CHECK
    from llmswitch.store import selection

    assert selection.read().key_required is True
    agree()
    readers_refuse_then_work(shell, "box")


def test_none_that_now_wants_a_key_is_never_the_placeholder(upstream, shell):
    server = upstream()
    server.get("/v1/models", bearer(GOOD, Reply.json(models_body(["m1"]))))
    shell.env.update(NO_KEYRING)
    assert shell("providers", "add", "box", "--base-url", f"{server.url}/v1", "--key-source", "none").returncode == 0
    assert shell("use", "box/m1").returncode == 0
    assert shell("probe", "box").returncode == Exit.CHECK  # refused without a key: learned
    got = shell("key", "get", "box")
    assert got.returncode == Exit.KEY and PLACEHOLDER not in got.stdout, got.stdout
    fix = fix_of(got.stderr)
    assert fix.startswith('set key_source = "env:BOX_API_KEY" at ') and "key set" not in fix, fix
    follow(shell, fix)
    got = shell("key", "get", "box")
    assert (got.returncode, got.stdout) == (0, GOOD + "\n"), got.stderr
    assert json.loads(shell("probe", "--json", "box").stdout)[0]["outcome"] == "ok"


# --- the in-process readers: client() and chat ------------------------------------------------------

def test_client_and_chat_refuse_a_keyed_proxy_without_its_key(upstream, shell, monkeypatch):
    import llmswitch
    from llmswitch.store.keys import MissingKey

    server = litellm_like(upstream())
    shell.env.update(NO_KEYRING)
    assert shell("add", f"{server.url}/v1").returncode == 0
    assert shell("use", "litellm/gpt-4o-mini").returncode == 0
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING["PYTHON_KEYRING_BACKEND"])
    import keyring.backends.fail

    import keyring

    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    with pytest.raises(MissingKey) as caught:
        llmswitch.client()
    assert "export LITELLM_API_KEY=<the key>" in caught.value.fix and PLACEHOLDER not in str(caught.value)
    chat = shell("chat", input="hello\n")
    assert chat.returncode == Exit.KEY and "export LITELLM_API_KEY=<the key>" in chat.stderr, chat.stderr
    monkeypatch.setenv("LITELLM_API_KEY", GOOD)  # the fix, followed
    shell.env["LITELLM_API_KEY"] = GOOD
    assert llmswitch.client().api_key == GOOD
    chat = shell("chat", input="hello\n")
    assert chat.returncode == 0 and "OK" in chat.stdout, chat.stderr


def test_chat_model_switch_to_a_keyed_proxy_says_the_fix(upstream, shell):
    """``/model`` in chat to a provider that wants a key and has none: the same fix, not the placeholder."""
    keyless, keyed = llamacpp_like(upstream()), litellm_like(upstream())
    shell.env.update(NO_KEYRING)
    assert shell("add", f"{keyless.url}/v1").returncode == 0
    assert shell("add", f"{keyed.url}/v1").returncode == 0
    assert shell("use", "llamacpp/tiny.gguf").returncode == 0
    chat = shell("chat", input="/model litellm/gpt-4o-mini\nhello\n")
    assert "export LITELLM_API_KEY=<the key>" in chat.stdout + chat.stderr, chat.stdout + chat.stderr
    assert PLACEHOLDER not in chat.stdout + chat.stderr
    shell.env["LITELLM_API_KEY"] = GOOD
    chat = shell("chat", input="/model litellm/gpt-4o-mini\nhello\n")
    assert chat.returncode == 0 and "OK" in chat.stdout, chat.stdout + chat.stderr


def test_explain_names_the_variable_for_a_proxy_that_refuses_with_400(upstream, shell, monkeypatch):
    """A LiteLLM proxy refuses a wrong key with 400 "No connected db.": the fix names the env var the key
    came from (as the probe does), never `key set`."""
    from llmswitch.repl.explain import explain_error
    from llmswitch.store import selection

    server = litellm_like(upstream())
    assert shell("providers", "add", "proxy", "--base-url", f"{server.url}/v1",
                 "--key-source", "env:PROXY_TOKEN").returncode == 0
    shell.env["PROXY_TOKEN"] = "sk-wrong-0002"
    assert shell("use", "proxy/gpt-4o-mini").returncode == 0
    monkeypatch.setenv("PROXY_TOKEN", "sk-wrong-0002")
    import openai

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-wrong-0002", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.models.list()
    said = explain_error(caught.value, selection.read(), "sk-wrong-0002")
    probe = json.loads(shell("probe", "--json", "proxy").stdout)[0]
    assert "PROXY_TOKEN" in said and "llmswitch key set" not in said.split("switch the source")[0], said
    assert probe["fix"].split(",")[0] in said, (said, probe["fix"])

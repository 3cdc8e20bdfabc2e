"""One key truth (issue 21) against a real llama.cpp ``llama-server``: keyless it is recorded as
``key_source = "none"`` and every reader runs; started with ``--api-key`` it is recorded as wanting a key,
the readers refuse without it, and the fix they print, followed once, works. With a keyring and without.

Opt-in: ``pytest -m integration``; the fixtures ``llamacpp`` and ``llamacpp_keyed`` (tests/integration/
conftest.py) each yield an object with ``.url`` (``http://127.0.0.1:PORT/v1``), ``.model`` and ``.key``.
"""

from __future__ import annotations

import re
import sys
import tomllib

import pytest

from llmswitch.base import paths
from llmswitch.store.keydecision import default_variable

pytestmark = pytest.mark.integration

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
PRINT_KEY = [sys.executable, "-c", "import os; print(os.environ['OPENAI_API_KEY'])"]
KEYRINGS = {"keyring": {}, "no keyring": NO_KEYRING}


def written(pid: str) -> dict:
    return tomllib.loads(paths.config_file().read_text())["providers"][pid]


def added_id(stdout: str) -> str:
    found = re.search(r"^added (\S+)", stdout, re.M)
    assert found, stdout
    return found.group(1)


@pytest.mark.parametrize("keyring", list(KEYRINGS))
def test_keyless_llama_server_is_none_and_every_reader_runs(llamacpp, run_cli, keyring):
    env = dict(KEYRINGS[keyring])
    done = run_cli("add", llamacpp.url, env=env)
    assert done.returncode == 0, done.stderr
    pid = added_id(done.stdout)
    assert written(pid)["key_source"] == "none"
    assert "export" not in done.stdout + done.stderr and "key set" not in done.stdout + done.stderr
    assert run_cli("use", f"{pid}/{llamacpp.model}", env=env).returncode == 0
    got = run_cli("key", "get", pid, env=env)
    assert (got.returncode, got.stdout) == (0, "llmswitch-keyless\n"), got.stderr
    done = run_cli("exec", "--", *PRINT_KEY, env=env)
    assert (done.returncode, done.stdout) == (0, "llmswitch-keyless\n"), done.stderr
    chat = run_cli("chat", input="Say OK.\n", env=env, timeout=180)
    assert chat.returncode == 0, chat.stderr


@pytest.mark.parametrize("keyring", list(KEYRINGS))
def test_keyed_llama_server_wants_its_key_and_the_fix_works(llamacpp_keyed, run_cli, keyring):
    env = dict(KEYRINGS[keyring])
    done = run_cli("add", llamacpp_keyed.url, env=env)
    assert done.returncode == 0, done.stderr
    pid = added_id(done.stdout)
    table = written(pid)
    assert table.get("key_required") is True, table
    assert table["key_source"] == ("keyring" if keyring == "keyring" else f"env:{default_variable(pid)}"), table
    assert run_cli("use", f"{pid}/{llamacpp_keyed.model}", env=env).returncode == 0
    refused = run_cli("key", "get", pid, env=env)
    assert refused.returncode == 4 and refused.stdout == "", refused.stdout
    fix = refused.stderr.strip().splitlines()[-1].split(" — ", 1)[1]
    key_set = re.match(r"run: llmswitch (key set \S+)", fix)
    export = re.match(r"(?:for this shell: )?export ([A-Z_]+)=<the key>", fix)
    assert key_set or export, fix
    if key_set:
        assert run_cli(*key_set.group(1).split(), input=llamacpp_keyed.key + "\n", env=env).returncode == 0
    else:
        env[export.group(1)] = llamacpp_keyed.key
    done = run_cli("exec", "--", *PRINT_KEY, env=env)
    assert (done.returncode, done.stdout) == (0, llamacpp_keyed.key + "\n"), done.stderr
    assert run_cli("probe", pid, env=env).returncode == 0

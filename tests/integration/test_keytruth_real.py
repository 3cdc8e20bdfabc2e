"""One key truth (issue 21) against the real LiteLLM proxy: ``add URL`` records that it wants a key, with a
keyring or without one, and the readers refuse without it — the fix they print, followed once, works.

Opt-in: ``pytest -m integration`` (see tests/integration/conftest.py).
"""

from __future__ import annotations

import re
import sys
import tomllib

import pytest

from llmswitch.base import paths

pytestmark = pytest.mark.integration

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
PRINT_KEY = [sys.executable, "-c", "import os; print(os.environ['OPENAI_API_KEY'])"]


@pytest.mark.parametrize("keyring", ["keyring", "no keyring"])
def test_add_then_every_reader_then_the_fix(real_server, run_cli, keyring):
    env = dict(NO_KEYRING) if keyring == "no keyring" else {}
    done = run_cli("add", real_server.url + "/v1", env=env)
    assert done.returncode == 0, done.stderr
    table = tomllib.loads(paths.config_file().read_text())["providers"]["litellm"]
    assert table["key_required"] is True
    assert table["key_source"] == ("keyring" if keyring == "keyring" else "env:LITELLM_API_KEY")
    assert run_cli("use", f"litellm/{real_server.model}", env=env).returncode == 0
    for args in (("key", "get", "litellm"), ("exec", "--", *PRINT_KEY), ("env", "--shell", "bash")):
        refused = run_cli(*args, env=env)
        assert refused.returncode == 4 and "llmswitch-keyless" not in refused.stdout, (args, refused.stdout)
    fix = refused.stderr.strip().splitlines()[-1].split(" — ", 1)[1]
    key_set = re.match(r"run: llmswitch (key set litellm)", fix)
    export = re.match(r"(?:for this shell: )?export ([A-Z_]+)=<the key>", fix)
    assert key_set or export, fix
    if key_set:
        assert run_cli(*key_set.group(1).split(), input=real_server.key + "\n", env=env).returncode == 0
    else:
        env[export.group(1)] = real_server.key
    done = run_cli("exec", "--", *PRINT_KEY, env=env)
    assert (done.returncode, done.stdout) == (0, real_server.key + "\n"), done.stderr
    assert run_cli("probe", "litellm", env=env).returncode == 0

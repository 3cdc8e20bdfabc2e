"""``llmswitch key get P``'s hot path: the same answer as the full path, without config.toml's module.

The first ``key get`` caches the provider's key reference; later ones read it, and read the key
from the env var, the override, or the command, loading neither argparse, the config module
nor keyring. Anything the cache cannot vouch for (an edited or loosened config.toml, a refused
value, no key) takes the full path, which says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from llmswitch.boundaries import KEY_GET_FORBIDDEN, violations


def key_get(provider: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``key get`` through the CLI's entry point; the process and which forbidden modules it loaded."""
    code = ("import sys, json; from llmswitch.cli.main import main; code = main(['key', 'get', sys.argv[1]]); "
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, provider], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    *said, modules = done.stderr.strip().splitlines() or [""]
    loaded = json.loads(modules) if modules.startswith("[") else []
    done.stderr = "\n".join(said)
    return done, [m for m in KEY_GET_FORBIDDEN if violations(loaded, (m,))]


@pytest.fixture
def box(config_dir):
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "config.toml"

    def write(source: str) -> None:
        config.write_text(f'[providers.box]\nbase_url = "https://llm.example.com/v1"\nkey_source = "{source}"\n')
        config.chmod(0o600)

    write("env:BOX_API_KEY")
    return write


def test_env_source_second_call_is_the_hot_path(box):
    env = {"BOX_API_KEY": "sk-test-box-0001"}
    first, loaded = key_get("box", env)
    assert (first.returncode, first.stdout) == (0, "sk-test-box-0001\n") and "llmswitch.store.config" in loaded
    again, loaded = key_get("box", env)
    assert (again.returncode, again.stdout) == (0, "sk-test-box-0001\n")
    assert loaded == [], f"the hot path loaded {loaded}"


def test_the_override_wins_on_the_hot_path(box):
    key_get("box", {"BOX_API_KEY": "sk-test-box-0001"})
    done, loaded = key_get("box", {"BOX_API_KEY": "sk-test-box-0001", "LLMSWITCH_KEY_BOX": "sk-test-override-02"})
    assert done.stdout == "sk-test-override-02\n" and loaded == []


def test_command_source_runs_once_on_the_hot_path(box, tmp_path):
    log = tmp_path / "ran"
    script = tmp_path / "print_key.py"
    script.write_text(f"open({str(log)!r}, 'a').write('x')\nprint('sk-test-from-command-03')\n")
    box(f"command:{sys.executable} {script}")
    assert key_get("box")[0].stdout == "sk-test-from-command-03\n"
    log.unlink()
    done, loaded = key_get("box")
    assert done.stdout == "sk-test-from-command-03\n" and loaded == [] and log.read_text() == "x"


def test_a_failing_command_says_so_once(box, tmp_path):
    log = tmp_path / "ran"
    script = tmp_path / "fail.py"
    script.write_text(f"import sys\nopen({str(log)!r}, 'a').write('x')\nsys.exit(3)\n")
    box(f"command:{sys.executable} {script}")
    slow = key_get("box")[0]
    log.unlink()
    fast = key_get("box")[0]
    assert fast.returncode == slow.returncode == 4 and fast.stderr == slow.stderr and "exited with 3" in fast.stderr
    assert log.read_text() == "x"


def test_an_edited_config_is_read_again(box):
    env = {"BOX_API_KEY": "sk-test-box-0001", "OTHER_KEY": "sk-test-other-0004"}
    key_get("box", env)
    box("env:OTHER_KEY")
    done, loaded = key_get("box", env)
    assert done.stdout == "sk-test-other-0004\n" and "llmswitch.store.config" in loaded
    assert key_get("box", env)[1] == []


def test_a_config_others_can_write_is_refused_even_after_caching(box, config_dir):
    env = {"BOX_API_KEY": "sk-test-box-0001"}
    key_get("box", env)
    (config_dir / "config.toml").chmod(0o666)
    done, _ = key_get("box", env)
    assert done.returncode != 0 and done.stdout == "" and "writable by" in done.stderr


def test_a_refused_value_gets_the_full_paths_sentence(box):
    key_get("box", {"BOX_API_KEY": "sk-test-box-0001"})
    done, _ = key_get("box", {"BOX_API_KEY": "sk-test\u200bbox"})
    assert done.returncode == 4 and done.stdout == "" and "U+200B" in done.stderr


def test_no_key_gets_the_full_paths_sentence(box):
    key_get("box", {"BOX_API_KEY": "sk-test-box-0001"})
    done, loaded = key_get("box")
    assert done.returncode == 4 and "BOX_API_KEY" in done.stderr and "llmswitch.store.config" in loaded


def test_a_tampered_reference_cache_is_not_used(box):
    env = {"BOX_API_KEY": "sk-test-box-0001"}
    key_get("box", env)
    cache = os.path.join(os.environ["LLMSWITCH_CACHE_DIR"], "key-references")
    with open(cache, "ab") as f:
        f.write(b"garbage")
    assert key_get("box", env)[0].stdout == "sk-test-box-0001\n"
    os.chmod(cache, 0o666)  # others could have written it: not trusted
    done, loaded = key_get("box", env)
    assert done.stdout == "sk-test-box-0001\n" and "llmswitch.store.config" in loaded


def test_a_failing_command_then_the_conventional_env_var(config_dir, tmp_path):
    """As the full path: a command that fails is passed over for the provider's own env var, and run once."""
    log = tmp_path / "ran"
    script = tmp_path / "fail.py"
    script.write_text(f"import sys\nopen({str(log)!r}, 'a').write('x')\nsys.exit(3)\n")
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.groq]\nkey_source = "command:{sys.executable} {script}"\n')
    (config_dir / "config.toml").chmod(0o600)
    env = {"GROQ_API_KEY": "gsk_test_from_env_0005"}
    slow, _ = key_get("groq", env)
    log.unlink()
    fast, loaded = key_get("groq", env)
    assert (slow.returncode, slow.stdout) == (fast.returncode, fast.stdout) == (0, "gsk_test_from_env_0005\n")
    assert log.read_text() == "x" and "llmswitch.store.config" not in loaded

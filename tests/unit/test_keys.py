"""Keys: resolution order, honest keyring errors, never a silent plaintext fallback."""

from __future__ import annotations

import sys

import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backends.chainer import ChainerBackend
from keyring.errors import InitError, KeyringLocked
from keyrings.alt.file import PlaintextKeyring
from testkeyring import MemoryKeyring

import keyring
from llmswitch import keys
from llmswitch.keys import KeyringUnavailable, MissingKey

FAKE = "sk-test-not-a-real-key-0001"


@pytest.fixture
def memory():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


class Locked(MemoryKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")


class Dismissed(MemoryKeyring):
    def get_password(self, service, username):
        raise InitError("Failed to create the collection: Prompt dismissed..")

    def set_password(self, service, username, password):
        raise InitError("Failed to create the collection: Prompt dismissed..")


def test_store_fetch_delete_roundtrip(memory):
    keys.store("groq", f"  {FAKE}\n")
    assert memory.store[("llmswitch", "groq")] == FAKE
    assert keys.stored("groq") == FAKE
    assert keys.delete("groq") is True
    assert keys.delete("groq") is False


@pytest.mark.parametrize("bad", ["", "   \n", "two words", "tab\there"])
def test_store_refuses_empty_or_mangled_keys(memory, bad):
    with pytest.raises(keys.KeyProblem):
        keys.store("groq", bad)
    assert memory.store == {}


def test_resolution_order_override_then_keyring_then_env(memory):
    environ = {"GROQ_API_KEY": "from-env", "LLMSWITCH_KEY_GROQ": "from-override"}
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ=environ)
    assert (found.key, found.source) == ("from-override", "env LLMSWITCH_KEY_GROQ")
    del environ["LLMSWITCH_KEY_GROQ"]
    keys.store("groq", FAKE)
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ=environ)
    assert (found.key, found.source) == (FAKE, "keyring llmswitch/groq")
    keys.delete("groq")
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ=environ)
    assert (found.key, found.source) == ("from-env", "env GROQ_API_KEY")
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ={})
    assert found.key is None and [s.source for s in found.steps] == [
        "env LLMSWITCH_KEY_GROQ", "keyring llmswitch/groq", "env GROQ_API_KEY"]
    with pytest.raises(MissingKey, match="run: llmswitch key set groq"):
        found.require()


def test_key_never_in_repr_or_str(memory):
    keys.store("groq", FAKE)
    found = keys.resolve("groq")
    assert FAKE not in repr(found) and FAKE not in str(found)


def test_keyless_and_optional_keys():
    none = keys.resolve("ollama", source="none")
    assert none.key is None and none.require() is None
    optional = keys.resolve("vllm", env=("VLLM_API_KEY",), required=False, environ={})
    assert optional.require() is None


def test_override_var_names():
    assert keys.override_var("openai-compat") == "LLMSWITCH_KEY_OPENAI_COMPAT"
    assert keys.override_var("lm_studio") == "LLMSWITCH_KEY_LM_STUDIO"


def test_env_source_skips_the_keyring(memory):
    keys.store("box", "from-keyring")
    found = keys.resolve("box", source="env", env=("BOX_TOKEN",), environ={"BOX_TOKEN": "from-env"})
    assert found.source == "env BOX_TOKEN"


def test_command_source(tmp_path):
    script = tmp_path / "print-key"
    script.write_text(f"#!{sys.executable}\nprint('{FAKE}')\n")
    script.chmod(0o700)
    found = keys.resolve("box", source="command", command=str(script), environ={})
    assert (found.key, found.source) == (FAKE, f"command {script}")
    failing = keys.resolve("box", source="command", command="false", environ={})
    assert failing.key is None and "exited with 1" in failing.problems[0]
    missing = keys.resolve("box", source="command", command="no-such-llmswitch-helper", environ={})
    assert "not found" in missing.problems[0]


def test_command_failure_never_echoes_what_it_printed(tmp_path):
    script = tmp_path / "leaky"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint('{FAKE}'); print('{FAKE}', file=sys.stderr); sys.exit(3)\n")
    script.chmod(0o700)
    found = keys.resolve("box", source="command", command=str(script), environ={})
    assert found.key is None and FAKE not in " ".join(found.problems)


@pytest.mark.parametrize(
    ("backend", "fragment"),
    [
        (keyring.backends.fail.Keyring(), "no OS keyring is available"),
        (keyring.backends.null.Keyring(), "disabled"),
        (PlaintextKeyring(), "plain file"),
        (Locked(), "locked"),
        (Dismissed(), "prompt was dismissed"),
    ],
    ids=["fail", "null", "plaintext", "locked", "dismissed"],
)
def test_honest_keyring_errors(backend, fragment, isolated):
    keyring.set_keyring(backend)
    with pytest.raises(KeyringUnavailable) as caught:
        keys.store("groq", FAKE)
    message = str(caught.value)
    assert fragment in message and "\n" not in message
    assert 'key_source = "env:VAR"' in message  # the way out that needs no keyring
    assert FAKE not in message
    resolution = keys.resolve("groq", env=("GROQ_API_KEY",), environ={})
    assert resolution.key is None and fragment in resolution.problems[0]
    with pytest.raises(MissingKey) as missing:
        resolution.require()
    assert fragment in str(missing.value)


def test_plaintext_backend_is_never_written(isolated, tmp_path):
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    with pytest.raises(KeyringUnavailable):
        keys.store("groq", FAKE)
    from pathlib import Path

    assert not Path(plain.file_path).exists()


def test_chainer_skips_plaintext_and_uses_the_real_store():
    real = MemoryKeyring()

    class Chain(ChainerBackend):
        backends = [PlaintextKeyring(), real]

    keyring.set_keyring(Chain())
    keys.store("groq", FAKE)
    assert real.store[("llmswitch", "groq")] == FAKE

    class PlainOnly(ChainerBackend):
        backends = [PlaintextKeyring()]

    keyring.set_keyring(PlainOnly())
    with pytest.raises(KeyringUnavailable, match="plain file"):
        keys.store("groq", FAKE)


def test_a_failing_key_command_is_an_error_even_where_a_key_is_optional():
    found = keys.resolve("box", source="command", command="no-such-llmswitch-helper", required=False, environ={})
    with pytest.raises(keys.KeyCommandFailed, match="not found"):
        found.require()


def test_keyring_trouble_names_the_env_var_way_out():
    keyring.set_keyring(keyring.backends.fail.Keyring())
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ={})
    with pytest.raises(MissingKey) as caught:
        found.require()
    assert "export GROQ_API_KEY" in str(caught.value) and "\n" not in str(caught.value)

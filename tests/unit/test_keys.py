"""Keys: resolution order, honest keyring errors, never a silent plaintext fallback."""

from __future__ import annotations

import sys

import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backends.chainer import ChainerBackend
from keyring.errors import InitError, KeyringLocked
from testkeyring import MemoryKeyring, PlaintextKeyring

import keyring
from llmswitch.store import keys
from llmswitch.store.keys import KeyringUnavailable, MissingKey

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


# --- errors as fields; characters no server accepts; a backend that cannot load; header secrets ---------------

def test_key_problems_carry_cause_and_fix_as_fields(memory):
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ={})
    with pytest.raises(MissingKey) as caught:
        found.require()
    exc = caught.value
    assert exc.subject == "groq" and exc.cause.startswith("no API key found (tried")
    assert exc.fix == "run: llmswitch key set groq" and exc.exit_code == 4
    assert str(exc) == f"groq: {exc.cause} — {exc.fix}"


def test_stored_is_the_keyring_read(memory):
    keys.store("groq", FAKE)
    assert keys.stored("groq") == FAKE and keys.stored("nobody") is None
    assert not hasattr(keys, "fetch")  # the old name read as HTTP; every caller uses stored()


@pytest.mark.parametrize(("pasted", "named"), [
    (FAKE[:10] + "\u200b" + FAKE[10:], "U+200B ZERO WIDTH SPACE at character 11"),
    ("\ufeff" + FAKE, "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
    (FAKE[:5] + "\u00a0" + FAKE[5:], "U+00A0 NO-BREAK SPACE at character 6"),
    (FAKE + "é", f"U+00E9 LATIN SMALL LETTER E WITH ACUTE at character {len(FAKE) + 1}"),
    (FAKE[:4] + "\x1b" + FAKE[4:], "U+001B (a control character) at character 5"),
])
def test_store_refuses_a_character_no_server_accepts_naming_it(memory, pasted, named):
    with pytest.raises(keys.UnusableKey) as caught:
        keys.store("groq", pasted)
    sentence = caught.value.sentence()
    assert named in sentence and "nothing was stored" in sentence and "\n" not in sentence
    assert FAKE not in sentence and FAKE[:12] not in sentence and memory.store == {}


@pytest.mark.parametrize("variable", ["LLMSWITCH_KEY_GROQ", "GROQ_API_KEY"])
def test_an_env_key_with_an_invisible_character_is_reported_by_resolution(memory, variable):
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ={variable: "\ufeff" + FAKE})
    assert found.key is None
    assert found.steps[-1].source == f"env {variable}" and found.steps[-1].note == "refused: not a usable key"
    with pytest.raises(keys.UnusableKey) as caught:
        found.require()
    sentence = caught.value.sentence()
    assert f"the key from env {variable} contains U+FEFF" in sentence and f"set {variable} to the key alone" in sentence
    assert FAKE not in sentence and FAKE not in " ".join(found.problems)


def test_a_refused_key_blocks_even_where_a_key_is_optional(memory):
    found = keys.resolve("vllm", env=("VLLM_API_KEY",), required=False, environ={"VLLM_API_KEY": "a\u200bb"})
    with pytest.raises(keys.UnusableKey):
        found.require()


def test_a_stored_key_with_a_bad_character_says_to_store_it_again(memory):
    memory.store[("llmswitch", "groq")] = FAKE + "\u200b"  # stored by an older llmswitch
    with pytest.raises(keys.UnusableKey, match="store it again: llmswitch key set groq"):
        keys.resolve("groq", environ={}).require()


def test_a_pasted_file_is_not_a_key(memory):
    with pytest.raises(keys.UnusableKey, match="far longer than any API key"):
        keys.store("groq", "a" * 200_000)


@pytest.fixture
def unloaded(monkeypatch):
    """keyring as a fresh process sees it: nothing chosen yet, so PYTHON_KEYRING_BACKEND is read."""
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


@pytest.mark.parametrize("name", ["keyring.backends.Nope.Keyring", "keyring.backends.SecretService.Keyrnig", "nope", ""])
def test_a_backend_that_cannot_load_is_a_sentence_with_the_fix(unloaded, monkeypatch, name):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    with pytest.raises(KeyringUnavailable) as caught:
        keys.store("groq", FAKE)
    exc = caught.value
    assert "names a keyring backend that cannot be loaded" in exc.cause and "\n" not in exc.sentence()
    assert exc.fix.startswith("unset PYTHON_KEYRING_BACKEND, or set it to an installed backend")
    found = keys.resolve("groq", env=("GROQ_API_KEY",), environ={})  # reported as a step, not raised
    assert found.steps[1].note == "keyring unavailable" and "PYTHON_KEYRING_BACKEND" in found.problems[0]


def test_a_backend_typo_gives_sentences_not_tracebacks_in_the_cli(run_cli):
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyrnig"}
    stored = run_cli("key", "set", "groq", input=FAKE, env=env)
    assert stored.returncode == 4 and "Traceback" not in stored.stderr
    assert "cannot be loaded" in stored.stderr and len(stored.stderr.strip().splitlines()) == 1
    doctor = run_cli("doctor", "--no-probe", env=env)
    assert "Traceback" not in doctor.stderr and "unset PYTHON_KEYRING_BACKEND" in doctor.stdout
    where = run_cli("key", "where", "groq", env=env)
    assert where.returncode == 0 and "Traceback" not in where.stderr


def _gateway(**sources):
    from llmswitch.store.config import HeaderSource, ProviderConfig

    return ProviderConfig(id="gw", name="gw", base_url="https://gw.example/v1", headers={"X-Title": "me"},
                          header_sources=tuple(HeaderSource(name, **spec) for name, spec in sources.items()))


def test_headers_for_resolves_secret_headers_from_env_and_keyring(memory):
    provider = _gateway(**{"Helicone-Auth": {"env": "HELICONE_API_KEY", "prefix": "Bearer "},
                           "cf-aig-authorization": {"keyring": "gw:gateway"}})
    keys.store("gw:gateway", "cf-secret-0001")
    headers = keys.headers_for(provider, environ={"HELICONE_API_KEY": " sk-helicone-0001\n"})
    assert headers == {"X-Title": "me", "Helicone-Auth": "Bearer sk-helicone-0001",
                       "cf-aig-authorization": "cf-secret-0001"}
    assert provider.headers == {"X-Title": "me"}  # the provider itself never holds the secret


def test_headers_for_names_what_is_missing_or_unusable_never_the_value(memory):
    provider = _gateway(**{"Helicone-Auth": {"env": "HELICONE_API_KEY"}})
    with pytest.raises(MissingKey) as missing:
        keys.headers_for(provider, environ={})
    assert missing.value.fix == "export HELICONE_API_KEY with the value in this shell"
    with pytest.raises(keys.UnusableKey) as unusable:
        keys.headers_for(provider, environ={"HELICONE_API_KEY": "sk-helicone\u200b-0001"})
    assert "U+200B" in unusable.value.cause and "sk-helicone" not in unusable.value.sentence()
    in_keyring = _gateway(**{"cf-aig-authorization": {"keyring": "gw:gateway"}})
    with pytest.raises(MissingKey, match="python -m keyring set llmswitch gw:gateway"):
        keys.headers_for(in_keyring, environ={})


def test_the_cli_refuses_a_pasted_zero_width_space_in_one_sentence(run_cli):
    stored = run_cli("key", "set", "groq", input=FAKE[:10] + "\u200b" + FAKE[10:] + "\n")
    assert stored.returncode == 4 and "U+200B ZERO WIDTH SPACE" in stored.stderr
    assert FAKE[:10] not in stored.stderr + stored.stdout and len(stored.stderr.strip().splitlines()) == 1
    run_cli("use", "ollama/llama3")
    ran = run_cli("exec", "--", "true", env={"LLMSWITCH_KEY_OLLAMA": "\ufeff" + FAKE})
    assert ran.returncode == 4 and "env LLMSWITCH_KEY_OLLAMA contains U+FEFF" in ran.stderr
    assert "Traceback" not in ran.stderr and FAKE not in ran.stderr

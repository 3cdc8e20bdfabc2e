"""Keys against a real Secret Service (gnome-keyring on a private D-Bus session).

Run by `scripts/test.sh` inside `scripts/with-secret-service.sh`; elsewhere these
tests skip, saying how to run them (and under CI they are required, not skipped).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from unlock_keyring import unlock_default_collection

pytestmark = pytest.mark.secretservice
FAKE = "sk-test-not-a-real-key-5150"


@pytest.fixture(autouse=True)
def secret_service(monkeypatch):
    if not os.environ.get("LLMSWITCH_SECRET_SERVICE"):
        message = "no Secret Service here — run: scripts/with-secret-service.sh python -m pytest tests/keyring"
        if os.environ.get("LLMSWITCH_REQUIRE_SECRET_SERVICE"):
            pytest.fail("the Secret Service tier is required here but did not start — " + message)
        pytest.skip(message)
    from keyring.backends import SecretService

    import keyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    backend = SecretService.Keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    for provider in ("groq", "box"):
        try:
            backend.delete_password("llmswitch", provider)
        except Exception:
            pass
    keyring.set_keyring(previous)


def test_backend_is_the_real_secret_service():
    from llmswitch.store import keys

    assert keys.backend_name() == "keyring.backends.SecretService.Keyring"


def test_cli_stores_in_the_secret_service_and_nowhere_else(run_cli, secret_service, config_dir):
    done = run_cli("key", "set", "groq", input=FAKE + "\n")
    assert done.returncode == 0, done.stderr
    assert "SecretService" in done.stdout
    assert secret_service.get_password("llmswitch", "groq") == FAKE
    assert run_cli("key", "get", "groq").stdout.strip() == FAKE
    assert "keyring llmswitch/groq" in run_cli("key", "where", "groq").stdout
    run_cli("use", "groq/llama-3.1-8b-instant")
    import llmswitch

    assert llmswitch.client().api_key == FAKE
    data_home = Path(os.environ["LLMSWITCH_SECRET_SERVICE_DATA"])
    written = [p for root in (data_home, config_dir) for p in root.rglob("*") if p.is_file()]
    assert written  # gnome-keyring wrote its (encrypted) store
    for path in written:
        assert FAKE.encode() not in path.read_bytes(), path
    assert run_cli("key", "rm", "groq").returncode == 0
    assert secret_service.get_password("llmswitch", "groq") is None


def test_a_locked_collection_gives_the_honest_message(run_cli, secret_service):
    import secretstorage

    from llmswitch.store import keys

    connection = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    try:
        assert collection.is_locked()
        with pytest.raises(keys.KeyringUnavailable) as caught:
            keys.store("box", FAKE)
        message = str(caught.value)
        assert ("locked" in message or "dismissed" in message) and 'env:VAR' in message
        assert FAKE not in message
        done = run_cli("key", "set", "groq", input=FAKE)
        assert done.returncode == 4 and FAKE not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    finally:
        unlock_default_collection()  # collection.unlock() needs a prompt, which a headless machine dismisses


def test_a_locked_collection_never_becomes_the_keyless_placeholder(run_cli, config_dir, secret_service):
    """A provider whose key is optional: a locked keyring is said, with the way out, exit 4 — never llmswitch-keyless."""
    import secretstorage

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    collection = secretstorage.get_default_collection(secretstorage.dbus_init())
    collection.lock()
    try:
        done = run_cli("key", "get", "box")
        assert done.returncode == 4 and done.stdout == "" and "llmswitch-keyless" not in done.stderr
        assert ("locked" in done.stderr or "dismissed" in done.stderr) and "no placeholder" in done.stderr
        assert "export LLMSWITCH_KEY_BOX=<the key>" in done.stderr and "run: llmswitch key set" not in done.stderr
        followed = run_cli("key", "get", "box", env={"LLMSWITCH_KEY_BOX": FAKE})  # the way out the sentence names
        assert (followed.returncode, followed.stdout) == (0, FAKE + "\n")
    finally:
        unlock_default_collection()  # collection.unlock() needs a prompt, which a headless machine dismisses

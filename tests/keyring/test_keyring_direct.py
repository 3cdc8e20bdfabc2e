"""``key get``'s direct Secret Service path agrees with the ``keyring`` package both ways (real gnome-keyring).

llmswitch remembers the backend keyring chose and next time talks to the Secret Service itself
(``secretstorage``/``jeepney``, no ``keyring`` import). These tests store with one and read with
the other, compare the items each writes, and check that keyring's own configuration still wins.
Run inside scripts/with-secret-service.sh (as scripts/test.sh does); elsewhere they skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runcli import cli_command
from unlock_keyring import unlock_default_collection

from llmswitch.boundaries import KEY_GET_FORBIDDEN, violations

pytestmark = pytest.mark.secretservice
SUPPORT = Path(__file__).parents[1] / "support"
KEYS = ("sk-test-direct-0001", "sk-or-v1-" + "0123456789abcdef" * 4, "gsk_!#$%&'()*+,-./:;<=>?@[]^_`{|}~x")


@pytest.fixture(autouse=True)
def secret_service(monkeypatch, tmp_path):
    if not os.environ.get("LLMSWITCH_SECRET_SERVICE"):
        message = "no Secret Service here — run: scripts/with-secret-service.sh python -m pytest tests/keyring"
        if os.environ.get("LLMSWITCH_REQUIRE_SECRET_SERVICE"):
            pytest.fail("the Secret Service tier is required here but did not start — " + message)
        pytest.skip(message)
    from keyring.backends import SecretService

    unlock_default_collection()  # a test elsewhere may have locked it (no prompt can unlock it here)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)  # keyring chooses by itself, as on a desktop
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # no keyringrc.cfg unless a test writes one
    backend = SecretService.Keyring()
    yield backend
    for provider in ("groq", "openrouter", "box"):
        try:
            backend.delete_password("llmswitch", provider)
        except Exception:
            pass


def cli(*args: str, input: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli_command(), *args], input=input, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def key_get_loading(provider: str, env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """``llmswitch key get PROVIDER`` through the CLI's entry point; (stdout, the forbidden modules it loaded)."""
    code = ("import sys, json; from llmswitch.cli.main import main; code = main(['key', 'get', sys.argv[1]]); "
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, provider], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, [m for m in KEY_GET_FORBIDDEN if violations(loaded, (m,))]


def items(service: str, username: str) -> list[tuple[str, dict[str, str]]]:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        return [(item.get_label(), item.get_attributes())
                for item in collection.search_items({"service": service, "username": username})]
    finally:
        connection.close()


@pytest.mark.parametrize("key", KEYS)
def test_keyring_writes_and_the_direct_path_reads(secret_service, key):
    secret_service.set_password("llmswitch", "groq", key)
    first, _ = key_get_loading("groq")  # keyring chooses; its choice and groq's key reference are remembered
    assert first == key + "\n"
    assert (Path(os.environ["LLMSWITCH_STATE_DIR"]) / "keyring-backend").read_text().strip() == \
        "keyring.backends.SecretService.Keyring"
    again, loaded = key_get_loading("groq")
    assert again == key + "\n"
    assert loaded == [], f"the direct path loaded {loaded}"


def test_the_direct_path_writes_what_keyring_writes(secret_service):
    secret_service.set_password("llmswitch", "openrouter", KEYS[0])  # keyring's own item, for comparison
    cli("key", "get", "openrouter")  # remembers the Secret Service
    from llmswitch.store import keys

    assert type(keys.backend()).__name__ == "SecretServiceKeyring"  # llmswitch's direct client from now on
    done = cli("key", "set", "groq", input=KEYS[1] + "\n")
    assert done.returncode == 0 and "SecretService.Keyring" in done.stdout, done.stderr
    assert secret_service.get_password("llmswitch", "groq") == KEYS[1]  # keyring reads what llmswitch wrote
    [(label, attributes)] = items("llmswitch", "groq")
    [(their_label, theirs)] = items("llmswitch", "openrouter")
    assert label == their_label.replace("openrouter", "groq")
    assert attributes.pop("xdg:schema") == "org.freedesktop.Secret.Generic"  # libsecret readers search with it
    assert attributes == {k: v for k, v in {**theirs, "username": "groq"}.items() if k != "xdg:schema"}
    assert cli("key", "set", "groq", input=KEYS[2] + "\n").returncode == 0  # replaced, not a second item
    assert len(items("llmswitch", "groq")) == 1 and secret_service.get_password("llmswitch", "groq") == KEYS[2]
    assert cli("key", "rm", "groq").returncode == 0
    assert secret_service.get_password("llmswitch", "groq") is None and items("llmswitch", "groq") == []


def test_a_key_keyring_removed_is_gone_for_the_direct_path(secret_service):
    secret_service.set_password("llmswitch", "groq", KEYS[0])
    assert key_get_loading("groq")[0] == KEYS[0] + "\n"
    secret_service.delete_password("llmswitch", "groq")
    done = cli("key", "get", "groq")
    assert done.returncode == 4 and done.stdout == "" and "no API key" in done.stderr, done.stderr


def test_the_three_readers_agree(secret_service):
    from llmswitch.store.secret_service import SecretServiceKeyring, quick_password

    direct = SecretServiceKeyring()
    for key in KEYS:
        secret_service.set_password("llmswitch", "box", key)
        assert quick_password("llmswitch", "box") == direct.get_password("llmswitch", "box") == key
        direct.set_password("llmswitch", "box", key[::-1])
        assert secret_service.get_password("llmswitch", "box") == quick_password("llmswitch", "box") == key[::-1]
    assert direct.delete_password("llmswitch", "box") is True and direct.delete_password("llmswitch", "box") is False
    assert quick_password("llmswitch", "box") is None and secret_service.get_password("llmswitch", "box") is None


def test_python_keyring_backend_still_wins(secret_service, tmp_path):
    secret_service.set_password("llmswitch", "groq", KEYS[0])
    assert key_get_loading("groq")[0] == KEYS[0] + "\n"  # the Secret Service is remembered
    elsewhere = {"PYTHON_KEYRING_BACKEND": "testkeyring.FileKeyring", "LLMSWITCH_TEST_KEYRING_FILE":
                 str(tmp_path / "file-keyring.json"), "PYTHONPATH": str(SUPPORT)}
    (tmp_path / "file-keyring.json").write_text(json.dumps({"llmswitch\0groq": KEYS[1]}))
    out, loaded = key_get_loading("groq", env=elsewhere)
    assert out == KEYS[1] + "\n" and "keyring" in loaded


def test_keyringrc_cfg_still_wins(secret_service, tmp_path):
    secret_service.set_password("llmswitch", "groq", KEYS[0])
    key_get_loading("groq")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring = testkeyring.FileKeyring\n")
    (tmp_path / "file-keyring.json").write_text(json.dumps({"llmswitch\0groq": KEYS[2]}))
    out, loaded = key_get_loading("groq", env={"LLMSWITCH_TEST_KEYRING_FILE": str(tmp_path / "file-keyring.json"),
                                               "PYTHONPATH": str(SUPPORT)})
    assert out == KEYS[2] + "\n" and "keyring" in loaded


def test_a_locked_collection_on_the_direct_path_says_so(secret_service):
    import secretstorage

    secret_service.set_password("llmswitch", "groq", KEYS[0])
    key_get_loading("groq")  # remembered, reference cached: the next call takes the direct path
    connection = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    try:
        done = cli("key", "get", "groq")
        assert done.returncode == 4 and done.stdout == "" and KEYS[0] not in done.stderr
        assert "locked" in done.stderr or "dismissed" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    finally:
        connection.close()
        unlock_default_collection()

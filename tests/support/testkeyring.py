"""Keyring backends for tests only.

``MemoryKeyring`` lives in one process. ``FileKeyring`` keeps secrets in the
JSON file named by ``LLMSWITCH_TEST_KEYRING_FILE`` (always under the test's
tmp_path) so CLI subprocesses share it; it is selected with
``PYTHON_KEYRING_BACKEND=testkeyring.FileKeyring``. ``LockedKeyring`` and
``DismissedKeyring`` fail every call the way a locked Secret Service does (select them the
same way). None ships with llmswitch; the real-Secret-Service tier runs against gnome-keyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class FileKeyring(KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ["LLMSWITCH_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}\0{username}"] = password
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.path.write_text(json.dumps(data))



class _Refusing(KeyringBackend):
    """A backend every call of which raises ``error()``: how a real Secret Service fails."""

    priority = 1

    def error(self) -> Exception:
        raise NotImplementedError

    def get_password(self, service, username):
        raise self.error()

    def set_password(self, service, username, password):
        raise self.error()

    def delete_password(self, service, username):
        raise self.error()


class LockedKeyring(_Refusing):
    """A collection that stays locked (wrong unlock password): ``KeyringLocked``, as SecretService raises it."""

    def error(self) -> Exception:
        from keyring.errors import KeyringLocked

        return KeyringLocked("Failed to unlock the collection!")


class DismissedKeyring(_Refusing):
    """A bus but no display for the unlock prompt: ``InitError`` "Prompt dismissed", as SecretService raises it."""

    def error(self) -> Exception:
        from keyring.errors import InitError

        return InitError("Failed to create the collection: Prompt dismissed..")

class PlaintextKeyring(FileKeyring):
    """A stand-in for ``keyrings.alt.file.PlaintextKeyring`` (keys in a plain file under the data dir), so the
    tests of "llmswitch refuses a plaintext keyring" need no package that would change a user's keyring.

    As the original: priority 0.5, a ``file_path`` under ``XDG_DATA_HOME`` (``python_keyring/keyring_pass.cfg``),
    the secret written as it is. llmswitch refuses it by its class name (it never writes to it).
    """

    priority = 0.5

    @property
    def file_path(self) -> str:
        root = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        return os.path.join(root, "python_keyring", "keyring_pass.cfg")

    @property
    def path(self) -> Path:
        return Path(self.file_path)

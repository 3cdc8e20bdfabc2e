"""The Secret Service (gnome-keyring, KeePassXC) spoken to directly, without importing the ``keyring`` package.

It reads and writes exactly the items ``keyring``'s own ``keyring.backends.SecretService.Keyring``
does, through the same library (``secretstorage``, on ``jeepney``): the default collection,
attributes ``service`` and ``username`` (plus ``application = "Python keyring library"`` on the
items it creates), the label ``Password for 'USER' on 'SERVICE'``, the secret as UTF-8 over an
encrypted session. So ``keyring get llmswitch groq`` and ``llmswitch key get groq`` agree both ways
(tests/keyring/test_keyring_direct.py). Importing ``keyring`` costs ~110–140 ms and choosing its
backend ~100 ms more; this costs the import of ``secretstorage`` alone.

:mod:`llmswitch.store.keyget` decides when to use it (the Secret Service worked last time and
keyring's own configuration does not say otherwise). A Secret Service that is not there raises
:class:`Gone` (the caller asks ``keyring`` to choose again); one that refuses (locked, prompt
dismissed) raises :class:`Refused`, which :mod:`llmswitch.store.keys` turns into the sentence keyring's
error would have got.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "keyring.backends.SecretService.Keyring"
"""The keyring backend whose items these are (what ``python -m keyring --list-backends`` names)."""
APPID = "Python keyring library"
"""The ``application`` attribute keyring writes on the items it creates."""
SCHEMA = "org.freedesktop.Secret.Generic"
"""The ``xdg:schema`` of keyring's items (gnome-keyring records it from the item type; libsecret-based readers,
keyring's ``libsecret`` backend among them, search with it)."""


class Gone(Exception):
    """No Secret Service answers on this session bus (no bus, no daemon, nothing activatable)."""


class Refused(Exception):
    """The Secret Service answered no: ``locked`` (a collection or item stayed locked) or ``start`` (no collection).

    :func:`llmswitch.store.keys._translate` gives it the sentence keyring's error would have got;
    ``key get``'s hot path hands it to the full path without importing that module.
    """

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind


BUS_NAME = "org.freedesktop.secrets"
_SECRET = "org.freedesktop.Secret."


class Unsure(Exception):
    """:func:`quick_password` met something only the full client handles (a locked collection, no default one)."""


def load_quick() -> None:
    """Import what :func:`quick_password` needs, in the caller's thread (see :meth:`SecretServiceKeyring.load`)."""
    import jeepney.io.blocking  # noqa: F401


def quick_password(service: str, username: str) -> str | None:
    """The secret :meth:`SecretServiceKeyring.get_password` returns, read with ``jeepney`` alone; None: no such item.

    The hot path of ``key get``: no ``secretstorage`` (whose import brings ``cryptography``, ~15 ms)
    and no Diffie-Hellman session. The secret comes over a ``plain`` session (an algorithm of
    the Secret Service API): on the user's own session bus, which only processes of this user
    can reach — and any of those could ask the Secret Service for the same secret itself, so an
    encrypted session would hide it from nobody who could see it. Raises :class:`Unsure` for
    anything out of the ordinary (a locked collection or item, no default collection, an
    unexpected answer): :meth:`SecretServiceKeyring.get_password` then does what keyring does.
    """
    from jeepney import DBusAddress, DBusErrorResponse, MessageType, Properties, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    try:
        connection = open_dbus_connection(bus="SESSION")
    except (KeyError, OSError, ValueError) as exc:  # no bus address, no socket, a malformed address
        raise Gone(str(exc)) from None

    def call(message: Any) -> Any:
        reply = connection.send_and_get_reply(message)
        if reply.header.message_type == MessageType.error:
            error = DBusErrorResponse(reply)
            if error.name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NoReply",
                              "org.freedesktop.DBus.Error.Spawn.ExecFailed"):
                raise Gone(error.name)
            raise Unsure(error.name)
        return reply.body

    def locked(path: str, interface: str) -> bool:
        (signature, value), = call(Properties(DBusAddress(path, BUS_NAME, _SECRET + interface)).get("Locked"))
        return signature != "b" or bool(value)

    with connection:
        secrets = DBusAddress("/org/freedesktop/secrets", BUS_NAME, _SECRET + "Service")
        collection, = call(new_method_call(secrets, "ReadAlias", "s", ("default",)))
        if collection == "/" or locked(collection, "Collection"):
            raise Unsure("no unlocked default collection")
        found, = call(new_method_call(DBusAddress(collection, BUS_NAME, _SECRET + "Collection"), "SearchItems",
                                      "a{ss}", ({"username": username, "service": service},)))
        if not found:
            return None
        if locked(found[0], "Item"):
            raise Unsure("a locked item")
        _, session = call(new_method_call(secrets, "OpenSession", "sv", ("plain", ("s", ""))))
        (_, _, value, content_type), = call(new_method_call(DBusAddress(found[0], BUS_NAME, _SECRET + "Item"),
                                                            "GetSecret", "o", (session,)))
        return bytes(value).decode("utf-8")


class SecretServiceKeyring:
    """``get_password``/``set_password``/``delete_password`` as keyring's backend has them; one connection per call."""

    label = NAME

    @staticmethod
    def load() -> None:
        """Import what the calls need, in the caller's thread: loading modules (slow on a busy machine) is not
        the Secret Service answering, so it stays outside :func:`llmswitch.store.keyget.bounded`."""
        import secretstorage  # noqa: F401

    def available(self) -> None:
        """Raise :class:`Gone` unless a Secret Service is running or activatable (what keyring checks to pick it)."""
        import secretstorage

        with self._connection() as connection:
            try:
                if not secretstorage.check_service_availability(connection):
                    raise Gone("The Secret Service daemon is neither running nor activatable through D-Bus")
            except secretstorage.exceptions.SecretStorageException as exc:
                raise Gone(str(exc)) from None

    def get_password(self, service: str, username: str) -> str | None:
        with self._connection() as connection:
            collection = self._collection(connection)
            for item in self._call(collection.search_items, {"username": username, "service": service}):
                self._unlock(item)
                secret: bytes = self._call(item.get_secret)
                return secret.decode("utf-8")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._connection() as connection:
            collection = self._collection(connection)
            attributes = {"username": username, "service": service, "application": APPID, "xdg:schema": SCHEMA}
            # one entry per service and username, whatever other attributes an older item carries (the Secret
            # Service replaces only an item whose attributes are all equal, and readers take the first match)
            for item in self._call(collection.search_items, {"username": username, "service": service}):
                self._call(item.delete)
            self._call(collection.create_item, f"Password for '{username}' on '{service}'", attributes,
                       password.encode("utf-8"), True)

    def delete_password(self, service: str, username: str) -> bool:
        """Delete the first matching item; False when there was none."""
        with self._connection() as connection:
            collection = self._collection(connection)
            for item in self._call(collection.search_items, {"username": username, "service": service}):
                self._call(item.delete)
                return True
        return False

    # --- the steps keyring's backend takes, with its outcomes -------------------------------------

    def _connection(self) -> Any:
        from contextlib import closing

        import secretstorage

        try:
            return closing(secretstorage.dbus_init())
        except secretstorage.exceptions.SecretServiceNotAvailableException as exc:
            raise Gone(str(exc)) from None

    def _collection(self, connection: Any) -> Any:
        import secretstorage

        try:
            collection = secretstorage.get_default_collection(connection)
        except secretstorage.exceptions.SecretServiceNotAvailableException as exc:
            raise Gone(str(exc)) from None
        except secretstorage.exceptions.SecretStorageException as exc:
            raise Refused("start", f"Failed to create the collection: {exc}.") from None
        if self._call(collection.is_locked):
            self._call(collection.unlock)
            if self._call(collection.is_locked):
                raise Refused("locked", "Failed to unlock the collection!")
        return collection

    def _unlock(self, item: Any) -> None:
        self._call(item.unlock)
        if self._call(item.is_locked):
            raise Refused("locked", "Failed to unlock the item!")

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        """``method(*args)``, its secretstorage errors as keyring's backend would have raised them."""
        import secretstorage

        errors = secretstorage.exceptions
        try:
            return method(*args)
        except errors.SecretServiceNotAvailableException as exc:
            raise Gone(str(exc)) from None
        except errors.PromptDismissedException:
            raise Refused("start", "Prompt dismissed.") from None
        except errors.LockedException as exc:
            raise Refused("locked", str(exc)) from None

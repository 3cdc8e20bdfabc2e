"""Unlock the throw-away test keyring again after a test locked it (no prompt can be shown on a headless machine).

scripts/with-secret-service.sh starts gnome-keyring with a password it exports as
``LLMSWITCH_SECRET_SERVICE_PASSWORD``; gnome-keyring's own interface unlocks a collection with it,
as its unlock prompt would. Only for that keyring: it never touches a real one.
"""

from __future__ import annotations

import os


def unlock_default_collection() -> None:
    """Unlock the default collection if it is locked; raises when it cannot be (so a test says why)."""
    import secretstorage
    from jeepney import DBusAddress, new_method_call
    from secretstorage.util import format_secret, open_session

    password = os.environ["LLMSWITCH_SECRET_SERVICE_PASSWORD"]
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        if not collection.is_locked():
            return
        secret = format_secret(open_session(connection), password.encode(), "text/plain")
        internal = DBusAddress("/org/freedesktop/secrets", "org.freedesktop.secrets",
                               "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
        connection.send_and_get_reply(new_method_call(internal, "UnlockWithMasterPassword", "o(oayays)",
                                                      (collection.collection_path, secret)))
        if collection.is_locked():
            raise RuntimeError("the test keyring stayed locked")
    finally:
        connection.close()

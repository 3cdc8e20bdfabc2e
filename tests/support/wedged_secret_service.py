"""A Secret Service that owns ``org.freedesktop.secrets`` on the session bus and never answers.

What a wedged gnome-keyring looks like to a client: the name is on the bus (so keyring picks the
Secret Service, and ``NameHasOwner`` says yes), and every call to it waits forever. This process
takes the name, prints ``ready``, and then never reads a message.

    DBUS_SESSION_BUS_ADDRESS=... python tests/support/wedged_secret_service.py
"""

from __future__ import annotations

import sys
import time

from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection


def main() -> int:
    connection = open_dbus_connection(bus="SESSION")
    reply = connection.send_and_get_reply(message_bus.RequestName("org.freedesktop.secrets", 0x4))  # DO_NOT_QUEUE
    if reply.body != (1,):  # 1: primary owner
        print(f"could not own org.freedesktop.secrets ({reply.body})", flush=True)
        return 1
    print("ready", flush=True)
    while True:  # the calls pile up unread on the socket
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())

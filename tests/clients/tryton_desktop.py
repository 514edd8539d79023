"""Runs the real Tryton desktop client's bus listener (`tryton.bus`, PyPI
package `tryton`) against a Herald gateway, unchanged.

Only `gi` (GTK) is stubbed: GLib.idle_add calls its function at once. Prints
`ready <client-id>` once listening, then one JSON line per message handled.

usage: tryton_desktop.py <base-url> <database> <login> <uid> <token> [channel ...]
(the channels after the token are listened to as well: `notification:<uid>`,
or another user's channels a test asks for)
"""
import json
import sys
import time
import types
from unittest import mock


def stub_gi():
    gi = types.ModuleType("gi")
    gi.require_version = lambda *args, **kwargs: None
    gi.require_foreign = lambda *args, **kwargs: None
    repository = types.ModuleType("gi.repository")

    class GLib:
        @staticmethod
        def idle_add(function, *args):
            function(*args)
            return 0

    repository.GLib = GLib
    repository.__getattr__ = lambda name: mock.MagicMock(name=name)
    gi.repository = repository
    sys.modules["gi"] = gi
    sys.modules["gi.repository"] = repository


def main():
    base_url, database, login, uid, token = sys.argv[1:6]
    stub_gi()
    from tryton.config import CONFIG
    from tryton import bus

    CONFIG["thread"] = True
    CONFIG["client.bus_timeout"] = 60

    def handled(channel):
        def callback(message):
            print(json.dumps({"channel": channel, "message": message}), flush=True)
        return callback

    Bus = bus.Bus
    client_channel = f"client:{Bus.ID}"
    # The popup needs a GTK window; listen on the same channels with our callback.
    Bus.unregister(client_channel, bus.popup_notification)
    Bus.register(client_channel, handled(client_channel))
    Bus.register(f"user:{uid}", handled(f"user:{uid}"))
    for channel in sys.argv[6:]:
        Bus.register(channel, handled(channel))

    connection = types.SimpleNamespace(session=f"{login}:{uid}:{token}", _database=database)
    Bus.listen(connection, base_url.rstrip("/") + "/")
    print(f"ready {Bus.ID}", flush=True)
    # The listener is a daemon thread; stop when the test closes stdin.
    sys.stdin.read()


if __name__ == "__main__":
    main()

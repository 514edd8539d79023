"""moto server for Herald's tests, with one change: requests are handled one at
a time.

moto checks a TransactWriteItems condition and applies the writes without a
lock, so two concurrent transactions can both pass `seq = n` and both commit,
which real DynamoDB never allows. Serialising requests makes moto keep
DynamoDB's atomicity, so the bus's concurrency tests test Herald, not moto.

usage: python scripts/moto_server.py <port>
"""
import sys
import threading

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            # Consume the whole response inside the lock.
            return list(app(environ, start_response))

    return handle


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

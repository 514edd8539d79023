"""What a committed transaction gives Herald: its bus messages and session
changes, sent by one thread per process in commit order, so that neither
the committed transaction nor the caller's answer waits on Herald (a login
waits for its own session, a bounded time: see HeraldDataManager)."""
import atexit
import json
import logging
import os
import queue
import threading

from trytond.protocols.jsonrpc import JSONEncoder

from .client import (
    MAX_BATCH_MESSAGES, MAX_REQUEST_BYTES, MAX_SESSIONS_PER_REQUEST,
    HeraldError, Settings, call, tenant_path)

logger = logging.getLogger(__name__)

# Committed work waiting for Herald; past this a transaction's work is
# dropped (and logged) rather than holding memory while Herald is away.
MAX_PENDING = 10_000
# Room kept in a request body for the envelope around the messages.
_ENVELOPE_BYTES = 1024


def encode_message(message):
    "A bus message as JSON values, encoded as trytond encodes its own."
    return json.loads(json.dumps(message, cls=JSONEncoder))


def batches(messages):
    """Splits (channel, message) pairs into publish bodies within Herald's
    limits, in order, each message with its message_id as Herald's `id`; a
    message too large for any request is logged and left out."""
    batch, size = [], _ENVELOPE_BYTES
    for channel, message in messages:
        item = {'channel': channel, 'message': message}
        if message.get('message_id'):
            # Herald publishes an id once per channel: a batch sent again
            # after a failure publishes only what was missing.
            item['id'] = message['message_id']
        item_size = len(json.dumps(item, separators=(',', ':'))) + 1
        if item_size + _ENVELOPE_BYTES > MAX_REQUEST_BYTES:
            logger.error(
                'herald: a message of %d bytes on %s is over the limit; '
                'not sent', item_size, channel)
            continue
        if batch and (len(batch) == MAX_BATCH_MESSAGES
                or size + item_size > MAX_REQUEST_BYTES):
            yield {'messages': batch}
            batch, size = [], _ENVELOPE_BYTES
        batch.append(item)
        size += item_size
    if batch:
        yield {'messages': batch}


class Work:
    "One committed transaction's part for Herald."

    def __init__(self, settings, database, messages, mirrored, removed):
        self.settings = settings
        self.database = database
        self.messages = messages
        self.mirrored = mirrored
        self.removed = removed
        self.done = threading.Event()

    def send(self):
        settings, database = self.settings, self.database
        for start in range(0, len(self.mirrored), MAX_SESSIONS_PER_REQUEST):
            call(settings, 'PUT', tenant_path(database, 'tryton', 'sessions'),
                {'sessions': self.mirrored[
                        start:start + MAX_SESSIONS_PER_REQUEST]})
        for body in batches(self.messages):
            call(settings, 'POST', tenant_path(database, 'bus', 'messages'),
                body)
        for start in range(0, len(self.removed), MAX_SESSIONS_PER_REQUEST):
            call(settings, 'POST',
                tenant_path(database, 'tryton', 'sessions', 'remove'),
                {'sessions': self.removed[
                        start:start + MAX_SESSIONS_PER_REQUEST]})


class Sender:
    "The process's sending thread (started again in a forked child)."

    def __init__(self):
        self._lock = threading.Lock()
        self._queue = None
        self._pid = None

    def put(self, work):
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue(MAX_PENDING)
                self._pid = os.getpid()
                threading.Thread(
                    target=self._run, args=(self._queue,),
                    name='herald-sender', daemon=True).start()
            pending = self._queue
        try:
            pending.put_nowait(work)
        except queue.Full:
            logger.error(
                'herald: %d transactions wait for Herald; '
                "this one's %d messages are dropped",
                MAX_PENDING, len(work.messages))
            work.done.set()

    def flush(self, timeout=None):
        "Waits until what was put is sent (or failed); False on timeout."
        with self._lock:
            pending = self._queue if self._pid == os.getpid() else None
        if pending is None:
            return True
        marker = Work(None, None, [], [], [])
        try:
            pending.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    @staticmethod
    def _run(pending):
        while True:
            work = pending.get()
            try:
                if work.settings is not None:
                    work.send()
            except HeraldError as e:
                logger.error('herald: not sent to %s: %s', work.database, e)
            except Exception:
                logger.exception('herald: not sent to %s', work.database)
            finally:
                work.done.set()


SENDER = Sender()


@atexit.register
def _flush_at_exit():
    settings = Settings.from_config()
    timeout = settings.timeout * (settings.retries + 1) if settings else 1
    if not SENDER.flush(timeout):
        logger.error('herald: exiting with work not sent')


class HeraldDataManager:
    """Joined to a transaction (as trytond's SMTPDataManager): collects its
    bus messages and session changes, hands them to the sender once the
    transaction committed, forgets them if it rolls back."""

    def __init__(self, database):
        self.database = database
        self._clear()

    def __eq__(self, other):
        if not isinstance(other, HeraldDataManager):
            return NotImplemented
        return self.database == other.database

    def __hash__(self):
        return hash(self.database)

    def _clear(self):
        self.messages = []
        self.mirrored = []
        self.removed = []

    def put_message(self, channel, message):
        self.messages.append((channel, message))

    def mirror_session(self, session):
        self.mirrored.append(session)

    def remove_session(self, session):
        self.removed.append(session)

    def abort(self, trans):
        self._clear()

    def tpc_begin(self, trans):
        pass

    def commit(self, trans):
        pass

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        work = Work(
            Settings.from_config(), self.database,
            self.messages, self.mirrored, self.removed)
        self._clear()
        if work.settings is None:
            if work.messages or work.mirrored or work.removed:
                logger.warning(
                    'herald: no [herald] url in the configuration; '
                    'nothing sent')
            return
        if not (work.messages or work.mirrored or work.removed):
            return
        SENDER.put(work)
        if work.mirrored:
            # A client polls Herald as soon as its login answers: let the
            # session be there first, waiting one attempt's time at most.
            work.done.wait(work.settings.timeout)

    def tpc_abort(self, trans):
        self._clear()

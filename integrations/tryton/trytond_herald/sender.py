"""What a committed transaction gives Herald: its bus messages and session
changes, sent by one thread per process in the order the transactions
finished committing (`tpc_finish`), so that neither
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
        """Removals first (a logout must not wait behind anything), then
        logins, then messages; each part on its own, so one failing does not
        keep the others back. Raises the first failure once all were tried."""
        settings, database = self.settings, self.database
        removed = {(s['user'], s['key_sha256']) for s in self.removed}
        mirrored = [s for s in self.mirrored
            if (s['user'], s['key_sha256']) not in removed]
        parts = [
            ('session removals', self.removed, MAX_SESSIONS_PER_REQUEST,
                'POST', ('tryton', 'sessions', 'remove'), 'sessions'),
            ('sessions', mirrored, MAX_SESSIONS_PER_REQUEST,
                'PUT', ('tryton', 'sessions'), 'sessions'),
            ]
        failure = None
        for name, items, size, method, path, key in parts:
            for start in range(0, len(items), size):
                try:
                    call(settings, method, tenant_path(database, *path),
                        {key: items[start:start + size]})
                except HeraldError as e:
                    logger.error('herald: %s not sent to %s: %s',
                        name, database, e)
                    failure = failure or e
        for body in batches(self.messages):
            try:
                call(settings, 'POST',
                    tenant_path(database, 'bus', 'messages'), body)
            except HeraldError as e:
                logger.error('herald: %d messages not sent to %s: %s',
                    len(body['messages']), database, e)
                failure = failure or e
        if failure is not None:
            raise failure


class Sender:
    "The process's sending thread (started again in a forked child)."

    def __init__(self):
        self._reset()
        if hasattr(os, 'register_at_fork'):
            # A child must not inherit a lock another thread held, nor a
            # queue whose reader did not follow it.
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._lock = threading.Lock()
        self._queue = None
        self._pid = None

    def put(self, work):
        """Hands committed work to the thread; True when nothing was waiting
        before it (the thread is keeping up)."""
        with self._lock:
            if self._pid != os.getpid():
                pending = queue.Queue(MAX_PENDING)
                threading.Thread(
                    target=self._run, args=(pending,),
                    name='herald-sender', daemon=True).start()
                self._queue, self._pid = pending, os.getpid()
            pending = self._queue
        idle = pending.unfinished_tasks == 0
        try:
            pending.put_nowait(work)
        except queue.Full:
            logger.error(
                'herald: %d transactions wait for Herald; '
                "this one's %d messages and %d session changes are dropped",
                MAX_PENDING, len(work.messages),
                len(work.mirrored) + len(work.removed))
            work.done.set()
            return False
        return idle

    def flush(self, timeout=None):
        """Waits until what was put is sent (or failed); False on timeout
        (each of its two waits, for room and for the thread, takes at most
        `timeout`)."""
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
            except HeraldError:
                pass  # logged by send, part by part
            except Exception:
                logger.exception('herald: not sent to %s', work.database)
            finally:
                work.done.set()
                pending.task_done()


SENDER = Sender()


@atexit.register
def _flush_at_exit():
    settings = Settings.from_config()
    # One request's attempts (each `timeout`, pauses of at most 2 s between).
    timeout = (settings.timeout + 2) * (settings.retries + 1) if settings else 1
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
        # After the commit: nothing here may raise into trytond (it would
        # skip the data managers after this one).
        try:
            self._hand_over()
        except Exception:
            logger.exception('herald: not handed to the sender')
        finally:
            self._clear()

    def _hand_over(self):
        work = Work(
            Settings.from_config(), self.database,
            self.messages, self.mirrored, self.removed)
        if not (work.messages or work.mirrored or work.removed):
            return
        if work.settings is None:
            logger.warning(
                'herald: no [herald] url in the configuration; nothing sent')
            return
        idle = SENDER.put(work)
        if work.mirrored and idle:
            # A client polls Herald as soon as its login answers: let the
            # session be there first, waiting one attempt's time at most,
            # and only when the sender keeps up (Herald answering).
            work.done.wait(work.settings.timeout)

    def tpc_abort(self, trans):
        self._clear()

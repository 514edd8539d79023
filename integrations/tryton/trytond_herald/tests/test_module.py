"""The module with trytond's test framework on SQLite, against a recording
Herald (an HTTP server in this process that answers as Herald's routes do,
and can be told to fail). The end-to-end test with the real Herald and the
real clients is in Herald's suite (tests/tests/it/tryton_site.rs)."""
import hashlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from trytond import config

# trytond resolves `[bus] class` when it first imports trytond.bus.
if not config.has_section('bus'):
    config.add_section('bus')
config.set('bus', 'class', 'trytond_herald.bus.HeraldBus')
if not config.has_section('herald'):
    config.add_section('herald')

from trytond.bus import notify  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction  # noqa: E402

from trytond_herald import client, sender  # noqa: E402
from trytond_herald.bus import HeraldBus  # noqa: E402
from trytond_herald.command import push_sessions  # noqa: E402

TOKEN = 'admin-token-of-the-tenant'


class RecordingHerald:
    "Records each request; answers with the statuses queued in `fail`."

    def __init__(self):
        self.requests = []
        self.fail = []
        self.lock = threading.Lock()
        herald = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                with herald.lock:
                    herald.requests.append({
                            'method': self.command,
                            'path': self.path,
                            'authorization': self.headers['Authorization'],
                            'body': json.loads(body),
                            })
                    status = herald.fail.pop(0) if herald.fail else 200
                answer = herald.answer(self.path, json.loads(body))
                if status != 200:
                    answer = {'error': 'unavailable', 'message': 'try later'}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%s' % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path, body):
        if path.endswith('/tryton/sessions'):
            return {'mirrored': len(body['sessions']),
                'at': '2026-12-07T00:00:00Z'}
        if path.endswith('/prune'):
            return {'removed': 0, 'next': None}
        if path.endswith('/remove'):
            return {'removed': len(body['sessions'])}
        return {'published': []}

    def take(self, path_end=None):
        "Waits for the sender, returns (and forgets) the requests made."
        self.assertFlushed()
        with self.lock:
            requests, self.requests = self.requests, []
        if path_end is not None:
            requests = [r for r in requests if r['path'].endswith(path_end)]
        return requests

    def assertFlushed(self):
        assert sender.SENDER.flush(10), 'the sender did not finish'


class HeraldModuleTestCase(ModuleTestCase):
    "The module herald"
    module = 'herald'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.herald = RecordingHerald()
        config.set('herald', 'url', cls.herald.url)
        config.set('herald', 'token', TOKEN)
        config.set('herald', 'timeout', '2')
        config.set('herald', 'retries', '2')

    @classmethod
    def tearDownClass(cls):
        cls.herald.server.shutdown()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.herald.take()
        self.herald.fail = []

    def test_bus_class_is_herald(self):
        "[bus] class makes trytond.bus.Bus the Herald bus"
        import trytond.bus
        self.assertIs(trytond.bus.Bus, HeraldBus)

    @with_transaction()
    def test_commit_sends_the_transactions_messages_once_in_order(self):
        "A committed transaction's messages: one request, after commit"
        transaction = Transaction()
        notify('first', body='b', priority=2, user=1)
        notify('to a client', client='c-42')
        HeraldBus.publish('chat:ir.note,1', {'type': 'message'})
        self.assertEqual(self.herald.take(), [], 'sent before commit')

        transaction.commit()
        requests = self.herald.take()

        self.assertEqual(len(requests), 1)
        request, = requests
        self.assertEqual(request['method'], 'POST')
        self.assertEqual(request['path'], f'/{DB_NAME}/bus/messages'.replace(
                ':', '%3A'))
        self.assertEqual(request['authorization'], f'Bearer {TOKEN}')
        messages = request['body']['messages']
        self.assertEqual(
            [m['channel'] for m in messages],
            ['user:1', 'client:c-42', 'chat:ir.note,1'])
        self.assertEqual(messages[0]['message']['type'], 'notification')
        self.assertEqual(messages[0]['message']['title'], 'first')
        self.assertEqual(messages[0]['message']['priority'], 2)
        ids = {m['message']['message_id'] for m in messages}
        self.assertEqual(len(ids), 3, 'each message has its own message_id')
        self.assertEqual(
            [m['id'] for m in messages],
            [m['message']['message_id'] for m in messages],
            "Herald's id is the message_id: a retry is not published twice")

        # A second commit of the same transaction sends only what is new.
        notify('second', user=1)
        transaction.commit()
        request, = self.herald.take()
        self.assertEqual(
            [m['message']['title'] for m in request['body']['messages']],
            ['second'])

    @with_transaction()
    def test_rollback_sends_nothing(self):
        "A rolled-back transaction's messages are never sent"
        transaction = Transaction()
        notify('never', user=1)
        transaction.rollback()
        notify('after the rollback', user=1)
        transaction.commit()
        request, = self.herald.take()
        self.assertEqual(
            [m['message']['title'] for m in request['body']['messages']],
            ['after the rollback'])

    @with_transaction()
    def test_user_notification_goes_to_the_notification_channel(self):
        "A res.notification publishes on notification:<uid> at commit"
        pool = Pool()
        Notification = pool.get('res.notification')
        User = pool.get('res.user')
        user, = User.create([{'name': 'Ann', 'login': 'ann'}])
        Notification.create([{'user': user.id, 'label': 'Invoice 7 posted'}])
        Transaction().commit()
        request, = self.herald.take('/bus/messages')
        message, = request['body']['messages']
        self.assertEqual(message['channel'], f'notification:{user.id}')
        self.assertEqual(message['message']['type'], 'user-notification')
        self.assertEqual(message['message']['count'], 1)
        self.assertEqual(
            message['message']['content'], ['Invoice 7 posted'])

    @with_transaction()
    def test_a_failure_is_retried_and_never_raised(self):
        "Herald unavailable twice: sent on the third attempt"
        self.herald.fail = [503, 503]
        notify('retried', user=1)
        Transaction().commit()
        requests = self.herald.take()
        self.assertEqual(len(requests), 3)
        self.assertEqual(
            requests[2]['body']['messages'][0]['message']['title'],
            'retried')

    @with_transaction()
    def test_attempts_are_bounded_and_logged(self):
        "Herald failing: retries attempts, logged, commit unharmed"
        self.herald.fail = [503] * 10
        notify('lost', user=1)
        with self.assertLogs('trytond_herald.sender', logging.ERROR) as logs:
            Transaction().commit()
            requests = self.herald.take()
        self.assertEqual(len(requests), 3, '1 attempt + [herald] retries=2')
        self.assertIn('503', logs.output[0])
        self.herald.fail = []

    @with_transaction()
    def test_a_refusal_is_not_retried(self):
        "A 4xx is logged once, not retried"
        self.herald.fail = [400]
        notify('refused', user=1)
        with self.assertLogs('trytond_herald.sender', logging.ERROR):
            Transaction().commit()
            requests = self.herald.take()
        self.assertEqual(len(requests), 1)

    @with_transaction()
    def test_herald_unreachable_leaves_the_commit_alone(self):
        "Nobody listening at [herald] url: logged, commit done"
        pool = Pool()
        User = pool.get('res.user')
        url = config.get('herald', 'url')
        config.set('herald', 'url', 'http://127.0.0.1:9')
        config.set('herald', 'retries', '0')
        try:
            with self.assertLogs('trytond_herald.sender', logging.ERROR):
                User.create([{'name': 'Bo', 'login': 'bo'}])
                notify('nobody hears', user=1)
                Transaction().commit()
                self.herald.assertFlushed()
        finally:
            config.set('herald', 'url', url)
            config.set('herald', 'retries', '2')
        with Transaction().new_transaction(readonly=True):
            self.assertEqual(
                [u.login for u in User.search([('login', '=', 'bo')])],
                ['bo'], 'committed, seen from another transaction')

    @with_transaction()
    def test_a_wrong_configuration_never_breaks_a_login(self):
        "[herald] timeout not a number: logged, the session is created"
        Session = Pool().get('ir.session')
        config.set('herald', 'timeout', 'five')
        try:
            with self.assertLogs('trytond_herald.client', logging.ERROR):
                key = Session.new()
                Transaction().commit()
        finally:
            config.set('herald', 'timeout', '2')
        self.assertTrue(key)
        self.assertEqual(self.herald.take(), [])

    @with_transaction()
    def test_removals_go_first_and_alone(self):
        "A logout is sent before the messages, and a failure of one part keeps no other back"
        Session = Pool().get('ir.session')
        key = Session.new()
        Transaction().commit()
        self.herald.take()
        Session.remove(key)
        notify('after logout', user=1)
        self.herald.fail = [400]
        with self.assertLogs('trytond_herald.sender', logging.ERROR):
            Transaction().commit()
            requests = self.herald.take()
        self.assertEqual(
            [r['path'].rsplit('/', 1)[-1] for r in requests],
            ['remove', 'messages'], 'the refused removal kept nothing back')

    def test_batches_keep_herald_limits(self):
        "Over 100 messages or 64 KiB: several requests, in order"
        messages = [('user:1', {'n': n}) for n in range(250)]
        bodies = list(sender.batches(messages))
        self.assertEqual(
            [len(b['messages']) for b in bodies], [100, 100, 50])
        self.assertEqual(
            [m['message']['n'] for b in bodies for m in b['messages']],
            list(range(250)))
        large = [('user:1', {'text': 'x' * 20_000}) for _ in range(5)]
        bodies = list(sender.batches(large))
        self.assertTrue(all(
                len(json.dumps(b)) < client.MAX_REQUEST_BYTES
                for b in bodies))
        self.assertEqual(sum(len(b['messages']) for b in bodies), 5)
        with self.assertLogs('trytond_herald.sender', logging.ERROR):
            too_large = list(sender.batches(
                    [('user:1', {'text': 'x' * 70_000}), ('user:1', {})]))
        self.assertEqual(too_large, [{'messages': [
                        {'channel': 'user:1', 'message': {}}]}])

    @with_transaction()
    def test_sessions_are_mirrored_as_hashes(self):
        "A new session: its key's SHA-256 goes to Herald, never the key"
        pool = Pool()
        Session = pool.get('ir.session')
        key = Session.new()
        Transaction().commit()
        request, = self.herald.take()
        self.assertEqual(request['method'], 'PUT')
        self.assertTrue(request['path'].endswith('/tryton/sessions'))
        mirrored, = request['body']['sessions']
        self.assertEqual(
            mirrored['key_sha256'], hashlib.sha256(key.encode()).hexdigest())
        self.assertEqual(mirrored['user'], 1)
        self.assertEqual(
            mirrored['max_age'], config.getint('session', 'max_age'))
        self.assertEqual(mirrored['channels'], ['chat:*'])
        self.assertTrue(mirrored['created_at'].endswith('+00:00'))
        self.assertNotIn(key, json.dumps(request['body']))

        Session.remove(key)
        Transaction().commit()
        request, = self.herald.take()
        self.assertTrue(request['path'].endswith('/tryton/sessions/remove'))
        self.assertEqual(request['body'], {'sessions': [{
                        'user': 1,
                        'key_sha256': mirrored['key_sha256']}]})

    @with_transaction()
    def test_a_rolled_back_session_is_not_mirrored(self):
        "A session created then rolled back never reaches Herald"
        Session = Pool().get('ir.session')
        Session.new()
        transaction = Transaction()
        transaction.rollback()
        transaction.commit()
        self.assertEqual(self.herald.take(), [])

    @with_transaction()
    def test_mirroring_can_be_turned_off(self):
        "[herald] mirror_sessions = False: only the command mirrors"
        Session = Pool().get('ir.session')
        config.set('herald', 'mirror_sessions', 'False')
        try:
            Session.new()
            Transaction().commit()
        finally:
            config.set('herald', 'mirror_sessions', 'True')
        self.assertEqual(self.herald.take(), [])

    def test_push_sessions_mirrors_the_live_ones_then_prunes(self):
        "trytond-herald push-sessions: every live session, then a prune"
        with Transaction().start(DB_NAME, 1) as transaction:
            Session = Pool().get('ir.session')
            Session.delete(Session.search([]))
            keys = [Session.new() for _ in range(3)]
            transaction.commit()
        self.herald.take()

        count, pruned = push_sessions(DB_NAME)

        requests = self.herald.take()
        self.assertEqual(count, 3)
        self.assertEqual(
            [r['path'].rsplit('/', 1)[-1] for r in requests],
            ['sessions', 'sessions', 'prune'],
            "Herald's time first, then the sessions, then the prune")
        self.assertEqual(requests[0]['body'], {'sessions': []})
        self.assertEqual(
            {s['key_sha256'] for s in requests[1]['body']['sessions']},
            {hashlib.sha256(k.encode()).hexdigest() for k in keys})
        self.assertEqual(
            requests[2]['body'],
            {'mirrored_before': '2026-12-07T00:00:00Z'})


del ModuleTestCase

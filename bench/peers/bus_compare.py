#!/usr/bin/env python3
"""Compares long-polling buses with the real Tryton desktop client.

Every listener is tests/clients/tryton_desktop.py: the unchanged `tryton.bus`
listener of the desktop client (package `tryton`), one process per client. Run
this driver with a Python that has `tryton` installed (the repo's .venv,
which scripts/test builds):

    .venv/bin/python bench/peers/bus_compare.py trytond-single
    .venv/bin/python bench/peers/bus_compare.py trytond-workers --workers 4
    .venv/bin/python bench/peers/bus_compare.py herald --start-herald
    # trytond (one process) with its bus on Herald: the module herald
    # (integrations/tryton), herald-local started here; clients poll Herald
    # with the trytond sessions their logins answered
    .venv/bin/python bench/peers/bus_compare.py trytond-herald
    # herald-local --aws on the DynamoDB endpoint in AWS_ENDPOINT_URL (moto):
    .venv/bin/python bench/peers/bus_compare.py herald-dynamodb --start-herald
    .venv/bin/python bench/peers/bus_compare.py herald --base-url URL \\
        --admin-token T --user-token T [--uid 2] [--db demo]   # or HERALD_* env
    # any kind, with the compiled load client instead (cargo build -q --bin bus-load):
    .venv/bin/python bench/peers/bus_compare.py herald --start-herald --client rust

`--client rust` replaces the K Python processes with ONE `bus-load` process
(bench/src/bus_load.rs) running K clients, each its own kept-alive connection
(--connection-per-poll: a new one per poll, as urllib in tryton.bus), speaking
the same protocol as tryton.bus; its lines feed the same bookkeeping. Its
deliveries are time-stamped by bus-load when it read the answer (`t`), not when
this driver read the line, so the driver's own lag is not counted.

trytond kinds start bench/peers/trytond/serve.py themselves (setup.sh first)
and publish through bench/peers/trytond/publish.py (trytond's notify() in a
committed transaction). Herald is published to with
`POST {base}/{db}/notify` and `Authorization: Bearer <admin token>`.

Phases, each on a channel no earlier phase used (trytond: its own user
bench1.. created by setup.sh; Herald: its own tenant `<db>-<run>-p<i>`), so a
fresh client (last_message null, which both servers answer from the oldest
retained message) has no backlog to walk through:

  latency     1 client; M messages one at a time, each published only once
              the previous one arrived; publish start -> client output, p50/p99.
  throughput  for K in --clients (1,10,100): K clients on one user channel,
              M messages published back to back by one publisher; deliveries/s
              until every client has every message or --timeout; per client
              lost, duplicated and out-of-order deliveries.

Before measuring, a phase publishes `sync-N` markers once a second until every
client has received one, so every client's long poll (and trytond's lazily
started LISTEN thread, per worker process) is in place.

Writes target/bench/peers/bus-compare-<kind>.json (`--client rust`:
bus-compare-<kind>-rust[-per-poll].json) and prints a table. All
counts and times are bounded (see --help); only 127.0.0.1 is ever contacted.
"""
import argparse
import base64
import http.client
import json
import os
import queue
import re
import resource
import secrets
import selectors
import signal
import statistics
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
PEERS = os.environ.get('PEERS_DIR', os.path.join(REPO, 'target', 'bench', 'peers'))
VENV_PY = os.path.join(PEERS, 'trytond-venv', 'bin', 'python')
CLIENT = os.path.join(REPO, 'tests', 'clients', 'tryton_desktop.py')
MAX_CLIENTS = 200
MAX_RUST_CLIENTS = 1000  # bus-load's own cap: one process, one connection per client
MAX_MESSAGES = 2000
MAX_TIMEOUT = 300


def log(*args):
    print('[bus_compare]', *args, file=sys.stderr, flush=True)


def pdeathsig(sig=signal.SIGTERM):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def set_it():
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG: die with us
    return set_it


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ms(x):
    return None if x is None else round(x * 1000, 2)


def proc_tree_cpu(root_pid):
    """utime+stime (s) of root_pid and its live descendants, from /proc."""
    if not root_pid:
        return None
    tick = os.sysconf('SC_CLK_TCK')
    parents, cpu = {}, {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root_pid]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


# --- the clients ------------------------------------------------------------------

class Clients:
    """K tryton_desktop.py processes; one selector thread reads all their output
    and time-stamps each line as it arrives."""

    def __init__(self, python, base_url, database, login, uid, token, count, log_path):
        self._init_state(count, log_path)
        for _ in range(count):
            self.procs.append(subprocess.Popen(
                [python, CLIENT, base_url, database, login, str(uid), token],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
                preexec_fn=pdeathsig()))
        self._start_reader()

    def _init_state(self, count, log_path):
        self.count = count
        self.lock = threading.Condition()
        self.ready = [None] * count
        self.received = [[] for _ in range(count)]  # (time, seq:int)
        self.seen = [set() for _ in range(count)]  # distinct seqs per client
        self.target = None  # distinct seqs a client needs to be complete
        self.complete = 0  # clients that have `target` distinct seqs
        self.markers = [0] * count
        self.other = 0
        self.exited = [None] * count
        self.errlog = open(log_path, 'ab')
        self.procs = []

    def _start_reader(self):
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        selector = selectors.DefaultSelector()
        buffers = {}
        for i, proc in enumerate(self.procs):
            os.set_blocking(proc.stdout.fileno(), False)
            selector.register(proc.stdout.fileno(), selectors.EVENT_READ, i)
            buffers[i] = b''
        open_fds = len(self.procs)
        while open_fds:
            for key, _ in selector.select(timeout=1):
                i = key.data
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                now = time.time()
                if not chunk:
                    selector.unregister(key.fd)
                    open_fds -= 1
                    with self.lock:
                        self._exited(i, now)
                        self.lock.notify_all()
                    continue
                buffers[i] += chunk
                *lines, buffers[i] = buffers[i].split(b'\n')
                with self.lock:
                    for line in lines:
                        self._line(i, now, line.decode('utf-8', 'replace'))
                    self.lock.notify_all()
        selector.close()

    def _exited(self, i, now):
        """Output process i closed its stdout (called with the lock held)."""
        self.exited[i] = now

    def _line(self, i, now, line):
        """A line of client process i (one process per client here)."""
        if line.startswith('ready '):
            self.ready[i] = now
            return
        try:
            message = json.loads(line)['message']
        except (ValueError, KeyError, TypeError):
            self.other += 1
            return
        self._message(i, now, message)

    def _message(self, i, now, message):
        """Simulated client i handled `message` at `now` (called with the lock held)."""
        try:
            body = str(message.get('body'))
        except AttributeError:
            self.other += 1
            return
        if body.isdigit():
            seq = int(body)
            self.received[i].append((now, seq))
            if seq not in self.seen[i]:
                self.seen[i].add(seq)
                if self.target is not None and len(self.seen[i]) == self.target:
                    self.complete += 1
        elif body.startswith('sync-'):
            self.markers[i] += 1
        else:
            self.other += 1

    def wait(self, predicate, timeout):
        deadline = time.time() + timeout
        with self.lock:
            while not predicate():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.5))
            return True

    def all_ready(self, timeout):
        return self.wait(lambda: all(r is not None for r in self.ready)
            or any(e is not None for e in self.exited), timeout) and all(
            r is not None for r in self.ready)

    def stop(self):
        """Closes every client's stdin (the script then exits), reaps them and
        returns the CPU seconds the clients used (RUSAGE_CHILDREN delta)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for proc in self.procs:
            try:
                proc.stdin.close()
            except OSError:
                pass
        deadline = time.time() + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.thread.join(5)
        self.errlog.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class RustClients(Clients):
    """ONE bench/src/bus_load.rs process running `count` simulated clients (each
    its own connection, the tryton.bus protocol). Its stdout: `ready <count>`
    once all of them are about to poll, then one JSON line per delivery with
    the simulated client's index and bus-load's receive time `t`."""

    def __init__(self, binary, base_url, database, login, uid, token, count, log_path, threads,
            connection_per_poll):
        self._init_state(count, log_path)
        self.procs.append(subprocess.Popen(
            [binary, base_url, database, login, str(uid), token, '--clients', str(count),
                '--threads', str(threads), '--bus-timeout', '60']
            + (['--connection-per-poll'] if connection_per_poll else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
            preexec_fn=pdeathsig()))
        self._start_reader()

    def _exited(self, _proc, now):
        # the one process is every client
        self.exited = [now] * self.count

    def _line(self, _proc, now, line):
        if line.startswith('ready '):
            self.ready = [now] * self.count
            return
        try:
            data = json.loads(line)
            i, message = data['client'], data['message']
        except (ValueError, KeyError, TypeError):
            self.other += 1
            return
        if not isinstance(i, int) or not 0 <= i < self.count:
            self.other += 1
            return
        t = data.get('t')
        # bus-load's read time; same clock (CLOCK_REALTIME). Guard against nonsense.
        if not isinstance(t, (int, float)) or not now - 60 <= t <= now + 1:
            t = now
        self._message(i, t, message)


# --- servers and publishers ---------------------------------------------------------

class Publisher:
    """Publishes `seq` to a phase target, in submission order, one at a time.
    start[seq]: time the publish began; sent[seq]: time it returned.
    Subclasses take (seq, target) items, None to stop, from `self.items` in a
    thread of their own, so a burst never blocks the caller."""

    def __init__(self):
        self.start = {}
        self.sent = {}
        self.errors = 0
        self.cond = threading.Condition()
        self.items = queue.Queue()

    def submit(self, seq, target):
        self.items.put((str(seq), target))

    def _started(self, seq):
        with self.cond:
            self.start[seq] = time.time()

    def _sent(self, seq, at):
        with self.cond:
            self.sent[seq] = at
            self.cond.notify_all()

    def wait_sent(self, seqs, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while not all(s in self.sent for s in seqs):
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def reset(self):
        with self.cond:
            self.start.clear()
            self.sent.clear()


class TrytondPublisher(Publisher):
    def __init__(self, conf, database, default_uid):
        super().__init__()
        self.proc = subprocess.Popen(
            [VENV_PY, os.path.join(HERE, 'trytond', 'publish.py'), '-c', conf, '-d', database,
                '--user', str(default_uid)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            preexec_fn=pdeathsig())
        line = self.proc.stdout.readline()
        if line.strip() != 'ready':
            raise RuntimeError(f'publish.py did not start: {line!r}')
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            fields = line.split()
            if len(fields) == 3 and fields[0] == 'sent':
                self._sent(fields[1], float(fields[2]))

    def _write(self):
        while True:
            item = self.items.get()
            if item is None:
                return
            seq, target = item
            self._started(seq)
            self.proc.stdin.write(f'{seq} {target}\n')
            self.proc.stdin.flush()

    def close(self):
        self.items.put(None)
        time.sleep(0.1)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class HeraldPublisher(Publisher):
    def __init__(self, base_url, admin_token, uid):
        super().__init__()
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.prefix = parsed.path.rstrip('/')
        self.token = admin_token
        self.uid = uid
        self.last_error = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while True:
            item = self.items.get()
            if item is None:
                conn.close()
                return
            seq, tenant = item
            body = json.dumps({'title': f'bench {seq}', 'body': seq, 'user': self.uid})
            self._started(seq)
            for attempt in (1, 2):
                try:
                    conn.request('POST', f'{self.prefix}/{tenant}/notify', body=body, headers={
                        'Authorization': f'Bearer {self.token}',
                        'Content-Type': 'application/json'})
                    response = conn.getresponse()
                    data = response.read()
                    if response.status // 100 != 2:
                        self.errors += 1
                        self.last_error = f'{response.status} {data[:200]!r}'
                    break
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    if attempt == 2:
                        self.errors += 1
                        self.last_error = repr(error)
            self._sent(seq, time.time())

    def close(self):
        self.items.put(None)


class TrytondServer:
    def __init__(self, mode, workers, threads, database, herald=None):
        self.kind = 'trytond-single' if mode == 'single' else 'trytond-workers'
        if herald is not None:
            self.kind = 'trytond-herald'
        self.herald = herald
        self.database = database
        if not os.path.exists(os.path.join(PEERS, f'{database}.initialized')):
            sys.exit('run bench/peers/trytond/setup.sh first')
        cmd = [VENV_PY, os.path.join(HERE, 'trytond', 'serve.py'), mode]
        if mode == 'workers':
            cmd += [str(workers), '--threads', str(threads)]
        cmd += ['--db', database]
        env = None
        if herald is not None:
            cmd += ['--herald-url', herald.base_url]
            env = dict(os.environ, HERALD_ADMIN_TOKEN=herald.admin_token(database))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, preexec_fn=pdeathsig(), env=env)
        self.pid = self.proc.pid
        self.conf = self.base_url = self.pg_port = None
        deadline = time.time() + 240
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError('serve.py exited before it was ready')
            if line.startswith('config '):
                self.conf = line.split(' ', 1)[1].strip()
            elif line.startswith('postgres '):
                self.pg_port = int(line.rsplit(':', 1)[1])
            elif line.startswith('ready '):
                self.base_url = line.split(' ', 1)[1].strip()
                break
        if not self.base_url:
            raise RuntimeError('serve.py not ready in time')
        self.password = open(os.path.join(PEERS, 'secrets', 'admin-password')).read().strip()
        self.users = []
        for line in open(os.path.join(PEERS, f'{database}.users')):
            _, login, uid = line.split()
            self.users.append((login, int(uid)))
        self.publisher = None
        # Where clients poll: the bus_url_host of trytond's login answer.
        self.bus_url = self.base_url
        self.listeners = self.warm_up(workers) if mode == 'workers' else None
        self.server_info = {'mode': mode, 'workers': workers if mode == 'workers' else 1,
            'threads_per_worker': threads if mode == 'workers' else 'thread per request',
            'trytond': '8.2.1', 'long_polling_timeout_s': 20,
            'bus_listeners_after_warm_up': self.listeners}
        if herald is not None:
            self.server_info['bus'] = ('Herald (the module herald: trytond_herald.bus.HeraldBus, '
                'sessions mirrored)')
            self.server_info['herald'] = herald.server_info

    def count_listeners(self):
        """trytond processes whose bus listener runs: PostgreSQL sessions whose
        last statement is the listener's `LISTEN "bus"` or its keep-alive `SELECT 1`."""
        pgbin = open(os.path.join(PEERS, 'pgbin')).read().strip()
        env = dict(os.environ, PGPASSWORD=open(os.path.join(PEERS, 'secrets', 'pg-password')).read().strip())
        out = subprocess.run([os.path.join(pgbin, 'psql'), '-X', '-q', '-A', '-t', '-h', '127.0.0.1',
            '-p', str(self.pg_port), '-U', 'postgres', '-d', self.database, '-c',
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query IN ('LISTEN \"bus\"', 'SELECT 1')"],
            env=env, capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip() or 0)

    def warm_up(self, workers):
        """A long-running gunicorn has a bus listener in every worker (each starts
        its own at its first bus request and keeps it [database] timeout = 30 min);
        a fresh one has none, and a worker that starts its listener mid-phase has
        missed the earlier messages. Bring the fresh server to that steady state:
        rounds of concurrent polls (of the last bench user, which no phase uses),
        abandoned after 1.5 s, until every worker has its listener."""
        login, _ = self.users[-1]
        uid, session = self.login(login)
        auth = base64.b64encode(f'{login}:{uid}:{session}'.encode()).decode()
        url = f'{self.base_url}{self.database}/bus'

        def poll():
            request = urllib.request.Request(url, data=b'{"last_message": null, "channels": []}',
                headers={'Content-Type': 'application/json', 'Authorization': f'Session {auth}'})
            try:
                urllib.request.urlopen(request, timeout=1.5).read()
            except Exception:
                pass
        count = 0
        for _ in range(10):
            threads = [threading.Thread(target=poll) for _ in range(3 * workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.5)
            count = self.count_listeners()
            if count >= workers:
                break
        log(f'warm-up: {count} of {workers} workers have their bus listener')
        return count

    def login(self, login):
        body = json.dumps({'id': 1, 'method': 'common.db.login',
            'params': [login, {'password': self.password}, 'en']}).encode()
        request = urllib.request.Request(f'{self.base_url}{self.database}/rpc/', data=body,
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            result = json.load(response)['result']
        if result[2]:
            self.bus_url = result[2]
        return result[0], result[1]

    def phase(self, index):
        """(client args, publish target) for phase `index` (0-based)."""
        if index >= len(self.users) - 1:  # the last one is the warm-up's
            raise RuntimeError(f'only {len(self.users) - 1} bench users for phases: '
                'BENCH_USERS=N setup.sh (after removing target/bench/peers/bench.initialized)')
        login, uid = self.users[index]
        uid, session = self.login(login)
        if self.publisher is None:
            self.publisher = TrytondPublisher(self.conf, self.database, uid)
        return dict(database=self.database, login=login, uid=uid, token=session), uid

    def cpu_pids(self):
        return [self.pid] + ([self.herald.pid] if self.herald and self.herald.pid else [])

    def close(self):
        if self.publisher:
            self.publisher.close()
        try:
            self.proc.stdin.close()  # serve.py stops everything on stdin EOF
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(30)
        if self.herald:
            self.herald.close()


class HeraldServer:
    def __init__(self, args):
        # herald: the durable embedded store on a fresh data directory;
        # herald-memory: --memory; herald-dynamodb: herald-local --aws on the
        # DynamoDB endpoint of the environment (scripts/bench: moto, an emulator).
        self.kind = args.kind
        self.proc = None
        self.pid = args.server_pid
        data_dir = None
        base_url, admin, user = args.base_url, args.admin_token, args.user_token
        self.binary = os.path.abspath(args.herald_binary)
        if args.start_herald:
            binary = self.binary
            if not os.path.exists(binary):
                sys.exit(f'{binary} is missing: cargo build -q --bin herald-local')
            mail = os.path.join(PEERS, 'herald-mail')
            os.makedirs(mail, exist_ok=True)
            if self.kind == 'herald-dynamodb':
                store = ['--aws']
            elif self.kind == 'herald-memory':
                store = ['--memory']
            else:
                data_dir = os.path.join(PEERS, 'herald-data')
                shutil.rmtree(data_dir, ignore_errors=True)
                store = ['--data-dir', data_dir]
            if self.kind == 'herald-dynamodb' and not os.environ.get('AWS_ENDPOINT_URL'):
                sys.exit('herald-dynamodb needs AWS_ENDPOINT_URL (a moto server: scripts/bench starts one)')
            self.proc = subprocess.Popen([binary, '--port', '0', '--mail-dir', mail, *store],
                stdout=subprocess.PIPE, stderr=open(os.path.join(PEERS, 'herald-local.log'), 'ab'),
                stdin=subprocess.DEVNULL, text=True, cwd=PEERS, preexec_fn=pdeathsig(),
                env={k: v for k, v in os.environ.items() if k != 'HERALD_JWT_SECRET'})
            self.pid = self.proc.pid
            deadline = time.time() + 30
            while time.time() < deadline and not (base_url and admin and user):
                line = self.proc.stdout.readline()
                if not line:
                    break
                if m := re.search(r'listening on (http://\S+)', line):
                    base_url = m.group(1)
                elif m := re.match(r'\s*admin \(sub 1\): (\S+)', line):
                    admin = m.group(1)
                elif m := re.match(r'\s*user\s+\(sub 2\): (\S+)', line):
                    user = m.group(1)
            if not (base_url and admin and user):
                sys.exit('herald-local did not print its URL and tokens')
            # keep draining its stdout
            threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        if not (base_url and admin and user):
            sys.exit('herald needs --base-url, --admin-token and --user-token (or --start-herald)')
        host = urllib.parse.urlsplit(base_url).hostname
        if host not in ('127.0.0.1', 'localhost', '::1'):
            sys.exit(f'refusing a non-loopback Herald URL: {base_url}')
        self.base_url = base_url.rstrip('/') + '/'
        self.data_dir = data_dir
        self.user_token = user
        self.uid = args.uid
        self.db = args.db
        self.run = secrets.token_hex(3)
        self.publisher = HeraldPublisher(self.base_url, admin, self.uid)
        self.server_info = {'base_url': self.base_url, 'started_here': bool(self.proc),
            'store': {'herald-dynamodb': 'dynamodb (moto, an emulator)', 'herald-memory': 'embedded, in memory'}.get(self.kind, 'embedded, durable (SQLite)'),
            'tenant_prefix': f'{self.db}-{self.run}'}

    def admin_token(self, tenant):
        """An admin token of `tenant`, minted with the secret herald-local
        generated in its data directory (`herald token`)."""
        if not self.data_dir:
            sys.exit('an admin token for another tenant needs --start-herald (durable store)')
        cli = os.path.join(os.path.dirname(self.binary), 'herald')
        out = subprocess.run([cli, 'token', '--admin', '--db', tenant, '--tenant', tenant,
            '--data-dir', self.data_dir], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def cpu_pids(self):
        return [self.pid] if self.pid else []

    def phase(self, index):
        tenant = f'{self.db}-{self.run}-p{index + 1}'
        return dict(database=tenant, login='bench', uid=self.uid, token=self.user_token), tenant

    def close(self):
        self.publisher.close()
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- phases -----------------------------------------------------------------------------

def client_suffix(args):
    """File name part, so Python and Rust runs (and Rust's two connection modes)
    do not overwrite each other."""
    if args.client != 'rust':
        return ''
    return '-rust-per-poll' if args.connection_per_poll else '-rust'


def bus_url(server):
    """Where clients poll (trytond: its login answer's bus_url_host)."""
    return getattr(server, 'bus_url', server.base_url)


def server_cpu(server):
    """CPU seconds of the server's process trees (trytond-herald: trytond
    and PostgreSQL, and herald-local); None when one is unknown."""
    times = [proc_tree_cpu(pid) for pid in server.cpu_pids()]
    if not times or any(t is None for t in times):
        return None
    return sum(times)


def start_clients(server, index, count, args):
    client, target = server.phase(index)
    suffix = client_suffix(args)
    log_path = os.path.join(PEERS, f'bus-compare-{server.kind}{suffix}-clients.log')
    t0 = time.time()
    if args.client == 'rust':
        clients = RustClients(args.bus_load, bus_url(server), client['database'], client['login'],
            client['uid'], client['token'], count, log_path, args.load_threads,
            args.connection_per_poll)
    else:
        clients = Clients(args.client_python, bus_url(server), client['database'], client['login'],
            client['uid'], client['token'], count, log_path)
    ready_timeout = min(30 + count * 1.0, 240)
    if not clients.all_ready(ready_timeout):
        clients.stop()
        raise RuntimeError(f'{count} clients not ready in {ready_timeout:.0f}s (see {log_path})')
    started = time.time() - t0
    # sync: markers until every client has one (their polls are in place)
    t1 = time.time()
    n = 0
    synced = False
    while time.time() - t1 < args.sync_timeout:
        n += 1
        server.publisher.submit(f'sync-{n}', target)
        if clients.wait(lambda: all(m > 0 for m in clients.markers), 1.0):
            synced = True
            break
    if not synced:
        missing = sum(1 for m in clients.markers if m == 0)
        clients.stop()
        raise RuntimeError(f'{missing} of {count} clients got no sync marker in {args.sync_timeout}s')
    time.sleep(0.2)  # let late markers drain and the clients re-poll
    return clients, target, {'clients_start_s': round(started, 3),
        'sync_s': round(time.time() - t1, 3), 'sync_markers': n}


def latency_phase(server, index, args):
    clients, target, info = start_clients(server, index, 1, args)
    publisher = server.publisher
    publisher.reset()
    cpu0 = server_cpu(server)
    latencies, publish_times, from_commit, lost = [], [], [], 0
    t_begin = time.time()
    for seq in range(1, args.latency_messages + 1):
        publisher.submit(seq, target)
        ok = clients.wait(lambda: seq in clients.seen[0], args.message_timeout)
        publisher.wait_sent([str(seq)], 5)
        start = publisher.start.get(str(seq))
        if not ok or start is None:
            lost += 1
            continue
        received = next(t for t, s in clients.received[0] if s == seq)
        latencies.append(received - start)
        if str(seq) in publisher.sent:
            publish_times.append(publisher.sent[str(seq)] - start)
            from_commit.append(received - publisher.sent[str(seq)])
    elapsed = time.time() - t_begin
    cpu1 = server_cpu(server)
    client_cpu = clients.stop()
    result = dict(info, phase='latency', clients=1, messages=args.latency_messages,
        received=len(latencies), lost=lost, elapsed_s=round(elapsed, 3),
        p50_ms=ms(percentile(latencies, 50)), p90_ms=ms(percentile(latencies, 90)),
        p99_ms=ms(percentile(latencies, 99)), max_ms=ms(max(latencies) if latencies else None),
        mean_ms=ms(statistics.mean(latencies) if latencies else None),
        publish_p50_ms=ms(percentile(publish_times, 50)),
        from_commit_p50_ms=ms(percentile(from_commit, 50)),
        from_commit_p99_ms=ms(percentile(from_commit, 99)),
        client_cpu_s=round(client_cpu, 3),
        server_cpu_s=None if cpu0 is None else round(cpu1 - cpu0, 3),
        publish_errors=publisher.errors)
    return result


def throughput_phase(server, index, count, args):
    clients, target, info = start_clients(server, index, count, args)
    publisher = server.publisher
    publisher.reset()
    m = args.throughput_messages
    expected = set(range(1, m + 1))
    with clients.lock:
        # the phase's channel is new: nothing numeric can have arrived yet
        early = sum(len(r) for r in clients.received)
        clients.target = m
    if early:
        clients.stop()
        raise RuntimeError(f'{early} numbered messages arrived before the phase began')
    cpu0 = server_cpu(server)
    t_start = time.time()
    for seq in range(1, m + 1):
        publisher.submit(seq, target)

    done = clients.wait(lambda: clients.complete == count, args.timeout)
    t_end = time.time()
    publisher.wait_sent([str(m)], 5)
    cpu1 = server_cpu(server)
    with clients.lock:
        received = [list(r) for r in clients.received]
    client_cpu = clients.stop()

    per_client = []
    delays, last_unique = [], t_start
    unique_total = dup_total = ooo_total = lost_total = late_total = 0
    for r in received:
        seen, highest, dup, ooo = set(), 0, 0, 0
        for t, s in r:
            if s in seen:
                dup += 1
                continue
            if s < highest:
                ooo += 1
            highest = max(highest, s)
            seen.add(s)
            if s in expected:
                last_unique = max(last_unique, t)
                # from the end of the publish (trytond: after the commit, in
                # publish.py; Herald: notify's HTTP response): the publisher's
                # own queueing is not counted.
                sent = publisher.sent.get(str(s))
                if sent is not None:
                    delays.append(t - sent)
        missing = len(expected - seen)
        # A client that got something in the phase's last 2 s is still catching
        # up: its missing messages are `late` (the phase timed out first), not lost.
        behind = not done and r and r[-1][0] > t_end - 2
        lost = 0 if behind else missing
        late_total += missing if behind else 0
        per_client.append({'unique': len(seen & expected), 'lost': lost,
            'late': missing if behind else 0, 'dup': dup, 'ooo': ooo})
        unique_total += len(seen & expected)
        dup_total += dup
        ooo_total += ooo
        lost_total += lost
    span = last_unique - t_start
    sent_times = [publisher.sent[str(s)] for s in expected if str(s) in publisher.sent]
    publish_span = (max(sent_times) - t_start) if sent_times else None
    result = dict(info, phase='throughput', clients=count, messages=m, complete=done,
        timeout_s=args.timeout, elapsed_s=round(t_end - t_start, 3),
        delivery_span_s=round(span, 3),
        deliveries=unique_total, expected_deliveries=count * m,
        deliveries_per_s=round(unique_total / span, 1) if span > 0 else None,
        publish_s=None if publish_span is None else round(publish_span, 3),
        publishes_per_s=round(len(sent_times) / publish_span, 1) if publish_span else None,
        lost=lost_total, clients_with_loss=sum(1 for c in per_client if c['lost']),
        late=late_total, clients_still_receiving=sum(1 for c in per_client if c['late']),
        duplicated=dup_total, clients_with_dup=sum(1 for c in per_client if c['dup']),
        out_of_order=ooo_total, clients_with_ooo=sum(1 for c in per_client if c['ooo']),
        delay_p50_ms=ms(percentile(delays, 50)), delay_p99_ms=ms(percentile(delays, 99)),
        delay_max_ms=ms(max(delays) if delays else None),
        client_cpu_s=round(client_cpu, 3),
        server_cpu_s=None if cpu0 is None else round(cpu1 - cpu0, 3),
        publish_errors=publisher.errors,
        per_client=per_client if count <= 10 else None,
        # client 0's deliveries in arrival order: (seq, ms after the first publish)
        order_client0=[(seq, round((t - t_start) * 1000, 1)) for t, seq in received[0][:60]])
    return result


def table(results):
    rows = [('phase', 'K', 'M', 'done', 'time s', 'deliv/s', 'pub/s', 'lost', 'late', 'dup', 'ooo',
        'p50 ms', 'p99 ms', 'client cpu', 'server cpu')]
    for r in results:
        if r.get('error'):
            rows.append((r['phase'], str(r.get('clients', '')), '', 'ERROR', r['error'][:60]))
            continue
        if r['phase'] == 'latency':
            rows.append(('latency', '1', str(r['messages']), str(r['lost'] == 0), str(r['elapsed_s']),
                '', '', str(r['lost']), '', '', '', str(r['p50_ms']), str(r['p99_ms']),
                str(r['client_cpu_s']), str(r['server_cpu_s'])))
        else:
            rows.append(('throughput', str(r['clients']), str(r['messages']), str(r['complete']),
                str(r['delivery_span_s']), str(r['deliveries_per_s']), str(r['publishes_per_s']),
                str(r['lost']), str(r['late']), str(r['duplicated']), str(r['out_of_order']),
                str(r['delay_p50_ms']), str(r['delay_p99_ms']),
                str(r['client_cpu_s']), str(r['server_cpu_s'])))
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def main():
    parser = argparse.ArgumentParser(description='Tryton bus comparison with the real desktop client',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('kind', choices=['trytond-single', 'trytond-workers', 'trytond-herald', 'herald', 'herald-memory', 'herald-dynamodb'])
    parser.add_argument('--workers', type=int, default=4, help='trytond-workers: gunicorn workers (4)')
    parser.add_argument('--threads', type=int, default=100, help='trytond-workers: threads per worker (100)')
    parser.add_argument('--db', default=None, help="database/tenant (trytond: bench; herald: demo)")
    parser.add_argument('--latency-messages', type=int, default=100)
    parser.add_argument('--throughput-messages', type=int, default=200)
    parser.add_argument('--clients', default='1,10,100', help='throughput client counts (1,10,100)')
    parser.add_argument('--timeout', type=float, default=60, help='per throughput phase, s (60)')
    parser.add_argument('--message-timeout', type=float, default=10, help='per latency message, s (10)')
    parser.add_argument('--sync-timeout', type=float, default=30)
    parser.add_argument('--skip-latency', action='store_true')
    parser.add_argument('--client', choices=['python', 'rust'], default='python',
        help='python: one tests/clients/tryton_desktop.py process per client (default); '
        'rust: one bus-load process (bench/src/bus_load.rs) running all K clients')
    parser.add_argument('--client-python', default=os.path.join(REPO, '.venv', 'bin', 'python'),
        help='a Python with the tryton package (default: the repo .venv)')
    parser.add_argument('--bus-load', default=os.path.join(REPO, 'target', 'debug', 'bus-load'),
        help='--client rust: the bus-load binary (default target/debug/bus-load; '
        'cargo build -q --bin bus-load)')
    parser.add_argument('--load-threads', type=int, default=1,
        help='--client rust: bus-load runtime threads (1: the load takes at most one core)')
    parser.add_argument('--connection-per-poll', action='store_true',
        help='--client rust: a new connection for every poll, as urllib (tryton.bus) does; '
        'default: one kept-alive connection per client')
    parser.add_argument('--out', default=None, help='JSON path (target/bench/peers/bus-compare-<kind>.json, '
        '--client rust: bus-compare-<kind>-rust[-per-poll].json)')
    herald = parser.add_argument_group('herald')
    herald.add_argument('--base-url', default=os.environ.get('HERALD_BASE_URL'))
    herald.add_argument('--admin-token', default=os.environ.get('HERALD_ADMIN_TOKEN'))
    herald.add_argument('--user-token', default=os.environ.get('HERALD_USER_TOKEN'))
    herald.add_argument('--uid', type=int, default=int(os.environ.get('HERALD_UID', '2')))
    herald.add_argument('--start-herald', action='store_true',
        help='start target/debug/herald-local --port 0 and use its URL and tokens')
    herald.add_argument('--herald-binary', default=os.path.join(REPO, 'target', 'debug', 'herald-local'))
    herald.add_argument('--server-pid', type=int, default=None,
        help='an externally started server pid, to report its CPU time')
    args = parser.parse_args()

    counts = [int(c) for c in args.clients.split(',') if c.strip()]
    max_clients = MAX_RUST_CLIENTS if args.client == 'rust' else MAX_CLIENTS
    if any(c < 1 or c > max_clients for c in counts):
        sys.exit(f'client counts must be 1..{max_clients}')
    if not (1 <= args.latency_messages <= MAX_MESSAGES and 1 <= args.throughput_messages <= MAX_MESSAGES):
        sys.exit(f'message counts must be 1..{MAX_MESSAGES}')
    args.timeout = min(args.timeout, MAX_TIMEOUT)
    args.message_timeout = min(args.message_timeout, 60)
    args.sync_timeout = min(args.sync_timeout, 120)
    if args.client == 'python' and not os.path.exists(args.client_python):
        sys.exit(f'{args.client_python} is missing (scripts/test installs the repo .venv)')
    if args.client == 'rust':
        if not os.access(args.bus_load, os.X_OK):
            sys.exit(f'{args.bus_load} is missing: cargo build -q --bin bus-load')
        if not 1 <= args.load_threads <= 64:
            sys.exit('--load-threads must be 1..64')
    elif args.connection_per_poll:
        sys.exit('--connection-per-poll is for --client rust (the Python client always does it)')
    os.makedirs(PEERS, exist_ok=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.kind.startswith('herald'):
        args.db = args.db or 'demo'
        server = HeraldServer(args)
    elif args.kind == 'trytond-herald':
        args.db = args.db or 'bench'
        args.start_herald = True
        server = TrytondServer('single', args.workers, args.threads, args.db, herald=HeraldServer(args))
    else:
        mode = 'single' if args.kind == 'trytond-single' else 'workers'
        server = TrytondServer(mode, args.workers, args.threads, args.db or 'bench')
    log(f'{server.kind} at {server.base_url}')
    results = []
    started = time.time()
    load = os.getloadavg()
    try:
        index = 0
        if not args.skip_latency:
            log(f'latency: 1 client, {args.latency_messages} messages')
            try:
                results.append(latency_phase(server, index, args))
            except RuntimeError as error:
                results.append({'phase': 'latency', 'clients': 1, 'error': str(error)})
            index += 1
        for count in counts:
            log(f'throughput: {count} clients, {args.throughput_messages} messages')
            try:
                results.append(throughput_phase(server, index, count, args))
            except RuntimeError as error:
                log(f'error: {error}')
                results.append({'phase': 'throughput', 'clients': count, 'error': str(error)})
            index += 1
    finally:
        server.close()
    report = {
        'kind': server.kind,
        'server': server.server_info,
        'client_kind': args.client,
        'client': ('tests/clients/tryton_desktop.py (tryton.bus, one process per client)'
            if args.client == 'python' else
            'bench/src/bus_load.rs (bus-load: the tryton.bus protocol, all K clients in one process, '
            'one reqwest::Client and connection each)'),
        'client_binary': None if args.client == 'python' else {'path': args.bus_load,
            'mtime': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(os.path.getmtime(args.bus_load))),
            'threads': args.load_threads, 'connection_per_poll': args.connection_per_poll},
        'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started)),
        'duration_s': round(time.time() - started, 1),
        'machine': {'cpus': os.cpu_count(), 'loadavg_at_start': [round(x, 2) for x in load],
            'loadavg_at_end': [round(x, 2) for x in os.getloadavg()]},
        'notes': [
            'latency: publish start (driver) -> the client printed the message (driver read time)',
            'from_commit: the end of the publish (trytond: its commit returned; Herald: the HTTP answer) '
            '-> the client printed the message',
            'deliveries_per_s: unique (client, message) deliveries / (last one - first publish)',
            'throughput lost: messages a client never got although it had stopped receiving before the '
            'phase ended; late: messages missing at the timeout for clients still receiving in its last 2 s',
            'out_of_order: deliveries of a message older than one the client already had; '
            'duplicated: the same message delivered again to the same client',
            'delay_*: end of the publish (trytond: commit; Herald: HTTP response) -> delivery, over all deliveries of the phase',
            'client_cpu_s: CPU of the client processes of the phase (start to stop): the tryton_desktop.py '
            'processes, or the one bus-load process with --client rust',
            'with --client rust a delivery is time-stamped by bus-load when it read the answer; '
            'with python, when this driver read the client process\'s line',
            'server_cpu_s: CPU of the server process tree during the measurement (None if unknown)',
        ],
        'results': results,
    }
    suffix = client_suffix(args)
    out = args.out or os.path.join(PEERS, f'bus-compare-{server.kind}{suffix}.json')
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'{server.kind} ({server.base_url}), {args.client} clients, {report["duration_s"]} s, '
        f'load at start {load[0]:.2f}')
    print(table(results))
    print(f'written {out}')


if __name__ == '__main__':
    main()

"""A real trytond 8.2 site (SQLite) with the module `herald`, for the
end-to-end test (tests/tests/it/tryton_site.rs) and the bench. Runs under
the venv that has trytond and the module (.venv-trytond, scripts/test).

  tryton_site.py create <template-dir>
      a database `demo` with the module activated and the users ann and bob
      (password PASSWORD); prints `created`.
  HERALD_ADMIN_TOKEN=... tryton_site.py configure <dir> <port> <herald-url> [bus-url-host]
      writes <dir>/trytond.conf: trytond on 127.0.0.1:<port>, its bus on
      Herald (the lines of integrations/tryton/example.conf) with the
      tenant's admin token (from the environment: not on a command line).
  tryton_site.py publisher <dir>
      reads one JSON command a line, runs it in its own trytond transaction
      (as admin), answers `ok <json>` once the transaction ended and what it
      committed reached Herald:
        {"op": "notify", "title": t, "user": uid?, "client": id?, "rollback": bool?}
        {"op": "notification", "user": uid, "label": l}
        {"op": "users"}  -> {"ann": uid, "bob": uid}
        {"op": "commit_time", "title": t, "user": uid}  (bench: prints the
          wall-clock time of the commit)
"""
import json
import os
import shutil
import subprocess
import sys
import time

DATABASE = 'demo'
PASSWORD = 'herald-e2e-password-2026'
USERS = ('ann', 'bob')


def write_config(path, database_dir, port, herald_url, token, url_host):
    with open(path, 'w') as f:
        f.write(f"""[database]
uri = sqlite://
path = {database_dir}

[web]
listen = 127.0.0.1:{port}

[bus]
allow_subscribe = True
url_host = {url_host}
class = trytond_herald.bus.HeraldBus

[herald]
url = {herald_url}
token = {token}
timeout = 5
retries = 2
session_channels = chat:*

[password]
length = 8
""")


def create(template_dir):
    os.makedirs(template_dir, exist_ok=True)
    config_path = os.path.join(template_dir, 'trytond.conf')
    # No Herald while creating: nothing is published, no session opened.
    write_config(config_path, template_dir, 0, '', '', 'http://127.0.0.1:9/')
    open(os.path.join(template_dir, f'{DATABASE}.sqlite'), 'w').close()
    password_file = os.path.join(template_dir, 'admin-password')
    with open(password_file, 'w') as f:
        f.write(PASSWORD + '\n')
    admin = shutil.which('trytond-admin', path=os.path.dirname(sys.executable))
    subprocess.run(
        [admin, '-c', config_path, '-d', DATABASE, '--all',
            '--email', 'admin@example.com', '-u', 'herald',
            '--activate-dependencies'],
        check=True, env={**os.environ, 'TRYTONPASSFILE': password_file},
        stdout=subprocess.DEVNULL)
    os.environ['TRYTOND_CONFIG'] = config_path
    from trytond import config
    config.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(DATABASE)
    with Transaction().start(DATABASE, 0, readonly=True):
        pool.init()
    with Transaction().start(DATABASE, 0) as transaction:
        User = pool.get('res.user')
        User.create([{'name': login.title(), 'login': login, 'password': PASSWORD}
                for login in USERS])
        Module = pool.get('ir.module')
        module, = Module.search([('name', '=', 'herald')])
        assert module.state == 'activated', module.state
        transaction.commit()
    print('created', flush=True)


def publisher(site_dir):
    config_path = os.path.join(site_dir, 'trytond.conf')
    os.environ['TRYTOND_CONFIG'] = config_path
    from trytond import config
    config.update_etc(config_path)
    from trytond.bus import notify
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond_herald.sender import SENDER
    pool = Pool(DATABASE)
    with Transaction().start(DATABASE, 0, readonly=True):
        pool.init()
    print('ready', flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        answer = None
        with Transaction().start(DATABASE, 1) as transaction:
            op = command['op']
            if op in ('notify', 'commit_time'):
                notify(command['title'], body=command.get('body'),
                    priority=command.get('priority', 1),
                    user=command.get('user'), client=command.get('client'))
            elif op == 'notification':
                Notification = pool.get('res.notification')
                Notification.create([{
                            'user': command['user'],
                            'label': command['label']}])
            elif op == 'users':
                User = pool.get('res.user')
                answer = {u.login: u.id for u in User.search(
                        [('login', 'in', USERS)])}
            if command.get('rollback'):
                transaction.rollback()
            else:
                transaction.commit()
                answer = answer or {'committed_at': time.time()}
        assert SENDER.flush(30), 'Herald did not answer'
        print('ok', json.dumps(answer), flush=True)


def main():
    command, *args = sys.argv[1:]
    if command == 'create':
        create(*args)
    elif command == 'configure':
        site_dir, port, herald_url, *url_host = args
        url_host = url_host[0] if url_host else herald_url.rstrip('/') + '/'
        write_config(os.path.join(site_dir, 'trytond.conf'), site_dir, port,
            herald_url, os.environ['HERALD_ADMIN_TOKEN'], url_host)
    elif command == 'publisher':
        publisher(*args)
    else:
        sys.exit(f'unknown command {command}')


if __name__ == '__main__':
    main()

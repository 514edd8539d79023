"""trytond-herald push-sessions -c trytond.conf -d DB

Mirrors every live session of the database to Herald, then removes from
Herald the sessions trytond no longer has (those the push did not name).
Run it once when the module is activated, and whenever the mirror may have
missed a login or logout (Herald unreachable)."""
import argparse
import datetime as dt
import logging
import sys

logger = logging.getLogger('trytond_herald')

PAGE = 1000


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog='trytond-herald')
    commands = parser.add_subparsers(dest='command', required=True)
    push = commands.add_parser(
        'push-sessions', help="mirror every live session, prune the rest")
    push.add_argument('-c', '--config', dest='configfile', required=True)
    push.add_argument('-d', '--database', dest='database', required=True)
    return parser.parse_args(argv)


def push_sessions(database):
    """Returns (mirrored, removed from Herald).

    Herald's time is taken before trytond's sessions are read, so a login
    that commits meanwhile (mirrored by the module after that time) is not
    pruned; a logout that commits meanwhile is removed again at the end."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from .client import MAX_SESSIONS_PER_REQUEST, HeraldError, Settings, call, tenant_path
    from .ir import mirrored

    settings = Settings.from_config()
    if settings is None:
        raise HeraldError('no [herald] url in the configuration')
    import trytond.config as config
    max_age = dt.timedelta(seconds=config.getint('session', 'max_age'))
    sessions_path = tenant_path(database, 'tryton', 'sessions')

    pool = Pool(database)
    with Transaction().start(database, 0, readonly=True):
        pool.init()
    began = call(settings, 'PUT', sessions_path, {'sessions': []})['at']
    count, pushed = 0, {}
    with Transaction().start(database, 0, readonly=True):
        Session = pool.get('ir.session')
        oldest = dt.datetime.now() - max_age
        last_id = 0
        while True:
            sessions = Session.search([
                    ('id', '>', last_id),
                    ('create_date', '>', oldest),
                    ('create_uid', '!=', None),
                    ], order=[('id', 'ASC')], limit=PAGE)
            if not sessions:
                break
            last_id = max(s.id for s in sessions)
            entries = [mirrored(s, settings) for s in sessions]
            pushed.update((s.id, e) for s, e in zip(sessions, entries))
            for start in range(0, len(entries), MAX_SESSIONS_PER_REQUEST):
                answer = call(settings, 'PUT', sessions_path, {
                        'sessions': entries[
                            start:start + MAX_SESSIONS_PER_REQUEST]})
                count += answer['mirrored']
    pruned, after = 0, None
    while True:
        body = {'mirrored_before': began}
        if after is not None:
            body['after'] = after
        answer = call(
            settings, 'POST',
            tenant_path(database, 'tryton', 'sessions', 'prune'), body)
        pruned += answer['removed']
        after = answer.get('next')
        if after is None:
            break
    # Sessions pushed that trytond deleted since it was read (a logout
    # during the push): removed again.
    with Transaction().start(database, 0, readonly=True):
        Session = pool.get('ir.session')
        ids = list(pushed)
        alive = set()
        for start in range(0, len(ids), PAGE):
            alive.update(s.id for s in Session.search(
                    [('id', 'in', ids[start:start + PAGE])]))
    gone = [{'user': e['user'], 'key_sha256': e['key_sha256']}
        for i, e in pushed.items() if i not in alive]
    for start in range(0, len(gone), MAX_SESSIONS_PER_REQUEST):
        answer = call(
            settings, 'POST',
            tenant_path(database, 'tryton', 'sessions', 'remove'),
            {'sessions': gone[start:start + MAX_SESSIONS_PER_REQUEST]})
        pruned += answer['removed']
    return count, pruned


def main(argv=None):
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO)
    from trytond import config
    config.update_etc(options.configfile)
    from .client import HeraldError
    try:
        count, pruned = push_sessions(options.database)
    except HeraldError as e:
        print(f'trytond-herald: {e}', file=sys.stderr)
        return 1
    print(f'{count} sessions mirrored, {pruned} removed from Herald')
    return 0


if __name__ == '__main__':
    sys.exit(main())

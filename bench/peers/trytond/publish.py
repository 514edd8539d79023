#!/usr/bin/env python3
"""Long-lived trytond publisher for the bus comparison. Run it with the scratch
venv's python (target/bench/peers/trytond-venv/bin/python):

    publish.py -c <run trytond.conf> [-d bench] --user UID

Publishes through trytond's own path: `trytond.bus.notify(title, body, user=...)`
inside a transaction that is then committed (`Bus.publish` sends
`SELECT pg_notify('bus', payload)`, which PostgreSQL delivers at commit to
every trytond process LISTENing on the database).

stdin, one line per message: `<seq> [uid]` (seq: any token without spaces;
uid defaults to --user). For each line it publishes a notification to
`user:<uid>` with title `bench <seq>` and body `<seq>`, then prints
`sent <seq> <time.time() after the commit>`. Prints `ready` once trytond is
loaded. Exits at end of stdin.
"""
import argparse
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-d', '--database', default='bench')
    parser.add_argument('--user', type=int, required=True)
    args = parser.parse_args()

    from trytond import config
    config.update_etc(args.config)
    from trytond.bus import notify
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    Pool(args.database).init()
    print('ready', flush=True)

    out = sys.stdout
    for line in sys.stdin:
        fields = line.split()
        if not fields:
            continue
        seq = fields[0]
        uid = int(fields[1]) if len(fields) > 1 else args.user
        # user 0 is trytond's root; notify() itself needs no context
        with Transaction().start(args.database, 0) as transaction:
            notify(f'bench {seq}', body=seq, user=uid)
            transaction.commit()
        out.write(f'sent {seq} {time.time():.6f}\n')
        out.flush()


if __name__ == '__main__':
    main()

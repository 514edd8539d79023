"""Creates the bench users (bench1 .. benchN) in the trytond database, one per
bench phase so each phase listens on a channel with no earlier messages.

Run with the scratch venv's python: make_users.py CONF DATABASE PASSWORD_FILE N
Idempotent: existing users get the password again.
"""
import sys


def main():
    conf, database, passfile, count = sys.argv[1:5]
    password = open(passfile).read().strip()
    from trytond import config
    config.update_etc(conf)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    Pool(database).init()
    with Transaction().start(database, 0) as transaction:
        User = Pool().get('res.user')
        logins = [f'bench{i}' for i in range(1, int(count) + 1)]
        existing = {u.login: u for u in User.search([('login', 'in', logins)])}
        to_create = [{'name': f'Bench {login}', 'login': login, 'password': password}
            for login in logins if login not in existing]
        if to_create:
            User.create(to_create)
        if existing:
            User.write(list(existing.values()), {'password': password})
        transaction.commit()
        for user in User.search([('login', 'in', logins)], order=[('login', 'ASC')]):
            print(f'user {user.login} {user.id}')


if __name__ == '__main__':
    main()

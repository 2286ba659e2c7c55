"""Signing in to the console (issue 19): local passwords (Argon2id) and sessions on the
admin API. A first-login password (jwtgated passwd --generate, jwtgated init at a
terminal, an administrator) gives a session that can only change it; sessions are
HttpOnly SameSite=Strict cookies (Secure and __Host- behind https), end on sign-out, after
being idle, on a password change and by an administrator, on the server; every change
through a session needs its X-CSRF-Token; wrong passwords are throttled per user and
address, so a guesser elsewhere does not lock the real user out; an unknown user gets
the same answer as a wrong password; no password, hash or session token is ever shown
after the fact or logged. Personal access tokens keep working beside sessions."""
import json
import os
import pty
import subprocess
import time
import unittest

from jgtest import Server, config


def run_passwd(srv, user, stdin=None, generate=False):
    argv = [config.JWTGATED, 'passwd', '--data-dir', srv.data, '--user', user] + srv.db_args
    if generate:
        argv.append('--generate')
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


def query(srv, sql):
    """The first column of the first row of a SELECT on the server's database."""
    if srv.db_url:
        return srv.pg.psql(sql, db=srv.db_url.rsplit('/', 1)[1]).splitlines()[0]
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.data, 'jwtgated.db'), timeout=10)
    try:
        return str(db.execute(sql).fetchone()[0])
    finally:
        db.close()


class Session:
    """A browser's view of one session: its cookie and CSRF token."""

    def __init__(self, srv, user, password, ip=None):
        self.srv, self.ip = srv, ip
        r = self.call('POST', '/session', {'user': user, 'password': password}, cookie=False)
        self.response = r
        self.cookie = None
        if r.status == 201:
            set_cookie = r.header('Set-Cookie')
            self.set_cookie = set_cookie
            self.cookie = set_cookie.split(';', 1)[0]
            self.doc = r.json()
            self.csrf = self.doc['csrf_token']

    def call(self, method, path, body=None, cookie=True, csrf=True, headers=None):
        h = dict(headers or {})
        if cookie and self.cookie:
            h['Cookie'] = self.cookie
        if csrf and cookie and self.cookie and method not in ('GET', 'HEAD'):
            h['X-CSRF-Token'] = self.csrf
        if self.ip:
            h['X-Forwarded-For'] = self.ip
        data = None
        if body is not None:
            h['Content-Type'] = 'application/json'
            data = json.dumps(body)
        return self.srv.request(method, '/admin/v1' + path, data, h)


class ConsoleAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server('--trusted-proxy', '127.0.0.1/32')

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def new_user(self, name, password='correct horse battery'):
        st, user = self.srv.admin('POST', '/users', {'name': name})
        self.assertEqual(st, 201, user)
        p = run_passwd(self.srv, name, stdin=password + '\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        return user

    def test_first_login_password_must_be_changed(self):
        self.srv.admin('POST', '/users', {'name': 'carol'}, expect=201)
        p = run_passwd(self.srv, 'carol', generate=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        first = p.stdout.strip()
        self.assertRegex(first, r'^[a-z2-9]{5}(-[a-z2-9]{5}){3}$')
        self.assertNotIn(first, p.stderr)
        s = Session(self.srv, 'carol', first)
        self.assertEqual(s.response.status, 201, s.response)
        self.assertTrue(s.doc['must_change_password'])
        self.assertEqual(s.doc['user']['name'], 'carol')
        r = s.call('GET', '/me')
        self.assertEqual(r.status, 403, r)
        self.assertIn('first-login password', r.json()['detail'])
        self.assertEqual(s.call('GET', '/session').status, 200)
        r = s.call('POST', '/me/password', {'current_password': 'wrong wrong wrong',
                                            'new_password': 'a much better one'})
        self.assertEqual(r.status, 403, r)
        r = s.call('POST', '/me/password', {'current_password': first,
                                            'new_password': 'a much better one'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.call('GET', '/me').status, 200)  # the same session, now whole
        self.assertFalse(s.call('GET', '/session').json()['must_change_password'])
        self.assertEqual(Session(self.srv, 'carol', first).response.status, 401)
        self.assertEqual(Session(self.srv, 'carol', 'a much better one').response.status, 201)

    def test_cookie_attributes(self):
        self.new_user('dave')
        s = Session(self.srv, 'dave', 'correct horse battery')
        attrs = [a.strip() for a in s.set_cookie.split(';')]
        self.assertTrue(attrs[0].startswith('jg_session=jgu_'), attrs)
        for a in ('HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=28800'):
            self.assertIn(a, attrs)
        self.assertNotIn('Secure', attrs)  # the issuer is http: a browser would drop it
        self.assertLessEqual(abs(s.doc['expires_at'] - (time.time() + 8 * 3600)), 10)
        self.assertLessEqual(abs(s.doc['idle_expires_at'] - (time.time() + 1800)), 10)
        self.assertEqual(s.call('GET', '/session').json()['csrf_token'], s.csrf)

    def test_secure_cookie_behind_https(self):
        with Server('--issuer', 'https://auth.example.test') as srv:
            srv.admin('POST', '/users', {'name': 'erin'}, expect=201)
            self.assertEqual(run_passwd(srv, 'erin', stdin='correct horse battery\n')
                             .returncode, 0)
            s = Session(srv, 'erin', 'correct horse battery')
            attrs = [a.strip() for a in s.set_cookie.split(';')]
            self.assertTrue(attrs[0].startswith('__Host-jg_session=jgu_'), attrs)
            self.assertIn('Secure', attrs)
            self.assertEqual(s.call('GET', '/me').status, 200)
            # the plain name is not ours there: a cookie set over http is not accepted
            plain = 'jg_session=' + s.cookie.split('=', 1)[1]
            r = srv.request('GET', '/admin/v1/me', headers={'Cookie': plain})
            self.assertEqual(r.status, 401)

    def test_csrf(self):
        self.new_user('frank')
        s = Session(self.srv, 'frank', 'correct horse battery')
        self.assertEqual(s.call('GET', '/me').status, 200)  # reads need no token
        r = s.call('POST', '/tenants', {'name': 'no-csrf'}, csrf=False)
        self.assertEqual(r.status, 403, r)
        self.assertIn('X-CSRF-Token', r.json()['detail'])
        r = s.call('POST', '/tenants', {'name': 'bad-csrf'}, csrf=False,
                   headers={'X-CSRF-Token': s.csrf[:-1] + ('A' if s.csrf[-1] != 'A' else 'B')})
        self.assertEqual(r.status, 403, r)
        other = Session(self.srv, 'frank', 'correct horse battery')
        r = s.call('POST', '/tokens', {'name': 'x'}, csrf=False,
                   headers={'X-CSRF-Token': other.csrf})  # another session's token
        self.assertEqual(r.status, 403, r)
        r = s.call('DELETE', '/session', csrf=False)
        self.assertEqual(r.status, 403, r)  # even signing out
        r = s.call('POST', '/tokens', {'name': 'from-the-console'})
        self.assertEqual(r.status, 201, r)  # frank may make his own token
        self.assertTrue(r.json()['token'].startswith('jgp_'))

    def test_sign_out_and_expiry(self):
        user = self.new_user('grace')
        s = Session(self.srv, 'grace', 'correct horse battery')
        r = s.call('DELETE', '/session')
        self.assertEqual(r.status, 204, r)
        self.assertIn('Max-Age=0', r.header('Set-Cookie'))
        r = s.call('GET', '/me')
        self.assertEqual(r.status, 401, r)
        self.assertIn('sign in again', r.json()['detail'])
        # idle: the server's clock, not the cookie's Max-Age, ends it
        s = Session(self.srv, 'grace', 'correct horse battery')
        self.srv.sql("UPDATE sessions SET seen_at = seen_at - 1801 WHERE user_id = '%s'"
                     % user['id'])
        self.assertEqual(s.call('GET', '/me').status, 401)
        s = Session(self.srv, 'grace', 'correct horse battery')
        self.srv.sql("UPDATE sessions SET expires_at = %d WHERE user_id = '%s'"
                     % (int(time.time()) - 1, user['id']))
        self.assertEqual(s.call('GET', '/me').status, 401)
        # a used session is kept alive
        s = Session(self.srv, 'grace', 'correct horse battery')
        self.srv.sql("UPDATE sessions SET seen_at = seen_at - 1700 WHERE user_id = '%s'"
                     % user['id'])
        self.assertEqual(s.call('GET', '/me').status, 200)
        self.assertEqual(s.call('GET', '/me').status, 200)
        self.assertLessEqual(abs(int(query(self.srv, "SELECT max(seen_at) FROM sessions WHERE "
                                           "user_id = '%s'" % user['id'])) - time.time()), 10)

    def test_password_change_ends_the_other_sessions(self):
        self.new_user('heidi')
        a = Session(self.srv, 'heidi', 'correct horse battery')
        b = Session(self.srv, 'heidi', 'correct horse battery')
        r = a.call('POST', '/me/password', {'current_password': 'correct horse battery',
                                            'new_password': 'heidi changed it'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(a.call('GET', '/me').status, 200)
        self.assertEqual(b.call('GET', '/me').status, 401)
        # rules for a new password
        for bad in ('short', 'heidi', 'x' * 1025, 'tab\there is bad'):
            r = a.call('POST', '/me/password', {'current_password': 'heidi changed it',
                                                'new_password': bad})
            self.assertEqual(r.status, 422, (bad, r))
        r = a.call('POST', '/me/password', {'new_password': 'no current one given'})
        self.assertEqual(r.status, 403, r)

    def test_administrator_resets_and_revokes(self):
        user = self.new_user('ivan')
        s = Session(self.srv, 'ivan', 'correct horse battery')
        self.assertEqual(s.call('PUT', '/users/%s/password' % user['id'], {}).status, 403)
        self.assertEqual(s.call('DELETE', '/users/%s/sessions' % user['id']).status, 403)
        st, doc = self.srv.admin('PUT', '/users/%s/password' % user['id'], {})
        self.assertEqual((st, doc['must_change_password']), (200, True), doc)
        self.assertEqual(s.call('GET', '/me').status, 401)  # a reset ends the sessions
        self.assertEqual(Session(self.srv, 'ivan', 'correct horse battery').response.status,
                         401)
        r = Session(self.srv, 'ivan', doc['password'])
        self.assertTrue(r.doc['must_change_password'])
        st, doc = self.srv.admin('PUT', '/users/%s/password' % user['id'],
                                 {'password': 'set by the admin'})
        self.assertEqual(st, 200)
        self.assertNotIn('password', doc)
        s = Session(self.srv, 'ivan', 'set by the admin')
        self.assertTrue(s.doc['must_change_password'])
        st, _ = self.srv.admin('DELETE', '/users/%s/sessions' % user['id'])
        self.assertEqual(st, 204)
        self.assertEqual(s.call('GET', '/session').status, 401)
        self.assertEqual(self.srv.admin('PUT', '/users/usr_nobody/password', {})[0], 404)
        _, audit = self.srv.admin('GET', '/audit?limit=1000')
        acts = [e['action'] for e in audit['items'] if e['target'] == user['id']]
        self.assertIn('user.password', acts)
        self.assertIn('user.sessions.revoke', acts)

    def test_throttled_without_locking_the_user_out(self):
        self.new_user('judy')
        guesser = '203.0.113.9'
        statuses, failures = [], 0
        while failures < 6:  # the sixth failure blocks that address for 2 s
            r = Session(self.srv, 'judy', 'guess %d guess' % failures, ip=guesser).response
            statuses.append(r.status)
            if r.status == 429:
                self.assertGreaterEqual(int(r.header('Retry-After')), 1)
                time.sleep(int(r.header('Retry-After')))
            else:
                self.assertEqual(r.status, 401, r)
                failures += 1
        self.assertEqual(statuses[:3], [401, 401, 401])
        self.assertIn(429, statuses)  # from the third failure on
        self.assertEqual(Session(self.srv, 'judy', 'guess', ip=guesser).response.status, 429)
        # judy at her own address is not locked out by the guesser
        s = Session(self.srv, 'judy', 'correct horse battery', ip='198.51.100.4')
        self.assertEqual(s.response.status, 201, s.response)
        # the right password from the guesser's address is not even checked
        s = Session(self.srv, 'judy', 'correct horse battery', ip=guesser)
        self.assertEqual(s.response.status, 429)

    def test_unknown_user_answers_like_a_wrong_password(self):
        self.new_user('ken')
        a = Session(self.srv, 'nobody-here', 'correct horse battery', ip='192.0.2.10')
        b = Session(self.srv, 'ken', 'not the password', ip='192.0.2.11')
        self.assertEqual((a.response.status, b.response.status), (401, 401))
        self.assertEqual(a.response.json()['detail'], b.response.json()['detail'])
        # and a user with no password set cannot sign in at all
        self.srv.admin('POST', '/users', {'name': 'nopass'}, expect=201)
        self.assertEqual(Session(self.srv, 'nopass', '', ip='192.0.2.12').response.status, 422)
        self.assertEqual(Session(self.srv, 'nopass', 'anything at all',
                                 ip='192.0.2.12').response.status, 401)

    def test_hostile_input(self):
        self.new_user('leo')
        s = Session(self.srv, 'leo', 'correct horse battery')
        for cookie in ('jg_session=', 'jg_session=garbage', 'jg_session=jgu_' + 'A' * 200,
                       s.cookie + '; ' + s.cookie, 'jg_session=jgu_\x7f', 'other=1'):
            r = self.srv.request('GET', '/admin/v1/me', headers={'Cookie': cookie})
            self.assertEqual(r.status, 401, (cookie, r))
        bodies = [{'user': 'leo'}, {'password': 'x'}, {'user': 'leo', 'password': 7},
                  {'user': 'leo', 'password': 'p' * 1025}, {'user': 'x' * 65, 'password': 'p'},
                  {'user': 'leo', 'password': 'p', 'extra': 1}, [], 'text']
        for body in bodies:
            r = self.srv.request('POST', '/admin/v1/session', json.dumps(body),
                                 {'Content-Type': 'application/json'})
            self.assertIn(r.status, (400, 422), (body, r))
        r = self.srv.request('POST', '/admin/v1/session', 'user=leo&password=x',
                             {'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertEqual(r.status, 415)  # a cross-site form cannot sign anyone in
        self.assertEqual(self.srv.request('GET', '/admin/v1/session').status, 401)
        # a PAT is not a session
        self.assertEqual(self.srv.admin('GET', '/session')[0], 404)

    def test_secrets_stay_secret(self):
        user = self.new_user('mallory', 'mallorys password')
        s = Session(self.srv, 'mallory', 'mallorys password')
        token = s.cookie.split('=', 1)[1]
        stored = query(self.srv, "SELECT hash FROM passwords WHERE user_id = '%s'" % user['id'])
        self.assertTrue(stored.startswith('$argon2id$v=19$m=19456,t=2,p=1$'), stored)
        self.assertNotIn(token, query(self.srv, 'SELECT count(*) FROM sessions') + '')
        self.assertEqual(query(self.srv, "SELECT count(*) FROM sessions WHERE id = '%s'"
                               % token), '0')  # only its hash is kept
        for path in ('/users', '/me', '/audit?limit=1000'):
            text = self.srv.admin('GET', path)[1]
            self.assertNotIn('argon2', json.dumps(text))
        s.call('POST', '/me/password', {'current_password': 'mallorys password',
                                        'new_password': 'mallorys next one'})
        log = self.srv.read_log()
        for secret in ('mallorys password', 'mallorys next one', token, stored):
            self.assertNotIn(secret, log)
        self.assertIn('console: "mallory" signed in', log)

    def test_pats_keep_working(self):
        self.new_user('nina')
        s = Session(self.srv, 'nina', 'correct horse battery')
        r = s.call('POST', '/tokens', {'name': 'cli'})
        pat = r.json()['token']
        st, me = self.srv.admin('GET', '/me', token=pat)
        self.assertEqual((st, me['name']), (200, 'nina'))
        # a PAT request never needs a CSRF token, a cookie beside it is not looked at
        r = self.srv.request('POST', '/admin/v1/tokens', json.dumps({'name': 'y'}),
                             {'Authorization': 'Bearer ' + pat, 'Cookie': 'jg_session=junk',
                              'Content-Type': 'application/json'})
        self.assertEqual(r.status, 201, r)

    def test_init_at_a_terminal_prints_a_first_login_password(self):
        # init on SQLite (no --db) in both runs of this suite: the code is the store's
        d = config.scratch('jwtgated-init-')
        master, slave = pty.openpty()
        try:
            p = subprocess.run([config.JWTGATED, 'init', '--data-dir', os.path.join(d, 'data'),
                                '--master-key-file', os.path.join(d, 'master.key')],
                               stdout=subprocess.PIPE, stderr=slave, timeout=60)
            os.close(slave)
            slave = None
            err = b''
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0, err)
        self.assertTrue(p.stdout.decode().startswith('jgp_'))  # stdout: the token, as before
        text = err.decode()
        self.assertIn('first-login password', text)
        first = text.split('first-login password ', 1)[1].split(' ', 1)[0]
        self.assertRegex(first, r'^[a-z2-9]{5}(-[a-z2-9]{5}){3}$')
        import sqlite3
        db = sqlite3.connect(os.path.join(d, 'data', 'jwtgated.db'))
        try:
            rows = db.execute('SELECT u.name, p.must_change, p.hash FROM passwords p '
                              'JOIN users u ON u.id = p.user_id').fetchall()
        finally:
            db.close()
        self.assertEqual([(r[0], r[1]) for r in rows], [('admin', 1)])
        self.assertTrue(rows[0][2].startswith('$argon2id$'))
        if not self.srv.db_url:  # sign in with it (a Server on that directory: SQLite)
            with Server(data_dir=d) as srv:
                s = Session(srv, 'admin', first)
                self.assertEqual(s.response.status, 201, s.response)
                self.assertTrue(s.doc['must_change_password'])
        # and not at a terminal (a script, a unit): no password, a hint instead
        d2 = config.scratch('jwtgated-init-')
        p = subprocess.run([config.JWTGATED, 'init', '--data-dir', os.path.join(d2, 'data'),
                            '--master-key-file', os.path.join(d2, 'master.key')],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn('first-login password', p.stderr)
        self.assertIn('jwtgated passwd', p.stderr)


if __name__ == '__main__':
    unittest.main()

"""End to end, while things change: revocation of a token and of a client seen by the gateway
within a second (cache on and off), key rotation, the snapshot replaced under load without a
failed request, and the gateway serving from its last snapshot when jwtgated is down."""
import http.client
import os
import threading
import time

from jgtest import StackTest, main


class Runtime(StackTest):
    workers = 2   # changes must reach every worker

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.stack
        cls.orders = s.api('orders')
        s.until(lambda: cls.gw.get('/orders/1').status == 401, timeout=3, streak=10)

    def ports(self):
        return (self.gw.port, self.gw.port_nocache)

    def client(self, name):
        app = self.stack.app(name)
        self.stack.subscribe(app, self.orders, ['orders:read'])
        return app

    def passes(self, tok, port=None):
        return self.gw.get('/orders/1', tok, port=port).status == 200

    def refused_within_a_second(self, tok, port):
        # every worker: 20 refusals in a row, the first within a second
        t = self.stack.until(lambda: self.gw.get('/orders/1', tok, port=port).status == 401,
                             timeout=1.0, streak=20)
        self.assertLess(t, 1.0)
        r = self.gw.get('/orders/1', tok, port=port)
        self.assertStatus(r, 401, 'invalid_token')
        return t

    # ---- revocation ----------------------------------------------------------------------------

    def test_token_revocation_within_a_second(self):
        s = self.stack
        app = self.client('revoke-token')
        victim, bystander = s.token(app), s.token(app)
        for port in self.ports():
            s.until(lambda: self.passes(victim, port), timeout=3, streak=10)
            self.passes(victim, port)   # cached now where the cache is on
        self.assertEqual(self.gw.get('/orders/1', victim).header('X-Cache'), 'HIT')
        s.revoke(app, victim)
        for port in self.ports():
            self.refused_within_a_second(victim, port)
            # another token of the same client still passes
            self.assertTrue(self.passes(bystander, port))

    def test_client_suspension_within_a_second(self):
        s = self.stack
        app = self.client('suspend')
        tok = s.token(app)
        for port in self.ports():
            s.until(lambda: self.passes(tok, port), timeout=3, streak=10)
        s.srv.admin('PATCH', '/tenants/%s/apps/%s' % (s.tenant, app['id']),
                    {'suspended': True}, expect=200)
        for port in self.ports():
            self.refused_within_a_second(tok, port)
        # resumed: the same token passes again (it was never revoked)
        s.srv.admin('PATCH', '/tenants/%s/apps/%s' % (s.tenant, app['id']),
                    {'suspended': False}, expect=200)
        for port in self.ports():
            s.until(lambda: self.passes(tok, port), timeout=3, streak=10)

    # ---- keys ----------------------------------------------------------------------------------

    def test_key_rotation(self):
        s = self.stack
        app = self.client('rotate')

        def kids(tok):
            import base64
            import json
            h = json.loads(base64.urlsafe_b64decode(tok.split('.')[0] + '=='))
            return h['kid']

        old = s.token(app)
        for port in self.ports():
            s.until(lambda: self.passes(old, port), timeout=3, streak=10)
        s.srv.admin('POST', '/keys/rotate', {'purpose': 'both'}, expect=200)
        first_retiring = {k['kid'] for k in s.srv.snapshot()['keys'] if k['state'] == 'retiring'}
        self.assertEqual(len(first_retiring), 2)   # the signing and the encryption key
        new = s.token(app)
        self.assertNotEqual(kids(old), kids(new))
        states = {k['kid']: k['state'] for k in s.srv.snapshot()['keys']}
        self.assertEqual(states[kids(old)], 'retiring')
        # tokens under the new keys pass as soon as jwtgated issues them: the gateway held
        # them as "next" keys already; tokens under the retiring keys still pass
        for port in self.ports():
            self.assertTrue(self.passes(new, port))
        # and after the gateway has surely loaded the rotated snapshot (100 ms checks)
        time.sleep(0.3)
        for port in self.ports():
            self.assertTrue(self.passes(old, port))
            self.assertTrue(self.passes(s.token(app), port))
        # a second rotation within the token lifetime keeps the first keys retiring
        s.srv.admin('POST', '/keys/rotate', {'purpose': 'both'}, expect=200)
        states = {k['kid']: k['state'] for k in s.srv.snapshot()['keys']}
        self.assertEqual(states[kids(old)], 'retiring')
        time.sleep(0.3)
        newer = s.token(app)
        for tok in (old, new, newer):
            for port in self.ports():
                self.assertTrue(self.passes(tok, port))
        # Until it retires: let the first keys have been retiring for longer than a token
        # lives (time travel: their retiring_at moved back in jwtgated's database), and the
        # next rotation retires them. The gateway drops them within a second, and with them
        # every token they made (which, without the time travel, would have expired by then);
        # tokens under the keys still retiring keep passing.
        import sqlite3
        db = sqlite3.connect(os.path.join(s.srv.data, 'jwtgated.db'), timeout=30)
        try:
            with db:
                for kid in first_retiring:
                    db.execute('UPDATE keys SET retiring_at = retiring_at - 100000 WHERE id = ?',
                               (kid,))
        finally:
            db.close()
        s.srv.admin('POST', '/keys/rotate', {'purpose': 'both'}, expect=200)
        snap = s.srv.snapshot()
        published = {k['kid'] for k in snap['decryption_keys']['keys']}
        published |= {k['kid'] for k in snap['verification_keys']['keys']}
        self.assertFalse(first_retiring & published)
        for port in self.ports():
            self.refused_within_a_second(old, port)
            for tok in (new, newer, s.token(app)):
                self.assertTrue(self.passes(tok, port))

    # ---- the snapshot replaced under load ------------------------------------------------------

    def test_snapshot_replaced_under_load(self):
        s = self.stack
        app = self.client('load')
        tokens = [s.token(app) for _ in range(4)]
        for port in self.ports():
            s.until(lambda: self.passes(tokens[0], port), timeout=3, streak=10)
        stop = threading.Event()
        results = []
        lock = threading.Lock()

        def load(port, tok):
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            ok = bad = 0
            last = None
            while not stop.is_set():
                try:
                    r = self.gw.get('/orders/1', tok, conn=conn)
                    if r.status == 200:
                        ok += 1
                    else:
                        bad += 1
                        last = r
                except (OSError, http.client.HTTPException) as e:
                    bad += 1
                    last = e
                    conn.close()
                    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            conn.close()
            with lock:
                results.append((port, ok, bad, last))

        threads = [threading.Thread(target=load, args=(port, tok))
                   for port in self.ports() for tok in tokens[:2]]
        for t in threads:
            t.start()
        v0 = s.snapshot_version()
        try:
            # every kind of change jwtgated makes, each one a new snapshot file
            for i in range(8):
                api = s.api('load%d' % i)
                other = s.app('load-other%d' % i)
                sub = s.subscribe(other, api, ['orders:read'])
                s.revoke(app, tokens[2 + i % 2]) if i < 2 else None
                s.sub_action(sub, 'revoke')
                s.lifecycle(api, 'deprecated', sunset=int(time.time()) + 86400)
                time.sleep(0.15)   # longer than the gateway's check interval (100 ms)
            s.srv.admin('POST', '/keys/rotate', {'purpose': 'both'}, expect=200)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        changes = s.snapshot_version() - v0
        self.assertGreaterEqual(changes, 40)
        total = sum(ok for _, ok, _, _ in results)
        failed = [(port, bad, last) for port, _, bad, last in results if bad]
        self.assertEqual(failed, [], 'failed requests while %d snapshots replaced' % changes)
        self.assertGreater(total, 200)
        print('\n    %d requests, none failed, while %d snapshots were written' % (total, changes))
        # the new state is in force: the revoked tokens are refused, the new APIs routed
        for port in self.ports():
            self.assertStatus(self.gw.get('/orders/1', tokens[2], port=port), 401,
                              'invalid_token')
            self.assertStatus(self.gw.get('/load7/1', port=port), 401)

    # ---- scopes and restores (issue 12) --------------------------------------------------------

    def test_removed_scope_refused_within_a_second(self):
        # A token issued with orders:write, then the API drops orders:write:
        # the gateway's jwtgate_scope orders:write location refuses that very
        # token within a second (the trimmed subscription and the API's
        # current scopes in the snapshot), while orders:read still passes.
        s = self.stack
        api = s.api('write', scopes=('orders:read', 'orders:write'))
        app = s.app('scope-removal')
        s.subscribe(app, api, ['orders:read', 'orders:write'])
        tok = s.token(app, resource=api['audience'])
        for port in (self.gw.port,):
            s.until(lambda: self.gw.get('/write/1', tok, port=port).status == 200, timeout=3,
                    streak=10)
        s.srv.admin('PATCH', '/tenants/%s/apis/%s' % (s.tenant, api['id']),
                    {'scopes': ['orders:read']}, expect=200)
        t = s.until(lambda: self.gw.get('/write/1', tok).status == 403, timeout=1.0, streak=20)
        self.assertLess(t, 1.0)
        r = self.gw.get('/write/1', tok)
        self.assertStatus(r, 403, 'insufficient_scope')
        self.assertEqual(self.gw.get('/write/other', tok).status, 403)  # location /write/
        # and a new token no longer carries it
        r = s.srv.token(app['client_id'], app['client_secret'], resource=api['audience'])
        self.assertEqual(r.json()['scope'], 'orders:read')

    def test_zy_restore_reaches_the_gateway(self):
        # A backup, a change after it, a restore: the gateway takes the
        # restored state (its version is above every published one) within
        # a second of jwtgated publishing it.
        import subprocess
        s = self.stack
        backup = os.path.join(s.tmp, 'backup.db')
        out = subprocess.run([os.environ['JWTGATED'], 'backup', '--data-dir', s.srv.data,
                              '--to', backup], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        api = s.api('afterbackup')
        app = s.app('after-backup')
        s.subscribe(app, api, ['orders:read'])
        tok = s.token(app)
        s.until(lambda: self.gw.get('/afterbackup/1', tok).status == 200, timeout=3, streak=10)
        before = s.srv.snapshot()['version']
        s.srv.stop()
        out = subprocess.run([os.environ['JWTGATED'], 'restore', '--data-dir', s.srv.data,
                              '--master-key-file', s.srv.master, '--from', backup],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        for _ in range(10):  # jwtgated down: the gateway serves from its last snapshot
            self.assertEqual(self.gw.get('/afterbackup/1', tok).status, 200)
        s.srv.start()
        t = s.until(lambda: self.gw.get('/afterbackup/1', tok).status == 404, timeout=1.5,
                    streak=20)
        self.assertLess(t, 1.5)
        self.assertGreater(s.srv.snapshot()['version'], before)
        fresh = s.token(self.client('after-restore'))  # the restored service works on
        s.until(lambda: self.passes(fresh), timeout=3, streak=10)

    # ---- jwtgated down -------------------------------------------------------------------------

    def test_gateway_serves_while_jwtgated_is_down(self):
        s = self.stack
        app = self.client('down')
        tok = s.token(app)
        revoked = s.token(app)
        s.revoke(app, revoked)
        for port in self.ports():
            s.until(lambda: self.passes(tok, port), timeout=3, streak=10)
            s.until(lambda: self.gw.get('/orders/1', revoked, port=port).status == 401,
                    timeout=3, streak=10)
        s.srv.stop()
        try:
            time.sleep(0.5)   # several check intervals without jwtgated
            for port in self.ports():
                for _ in range(20):
                    self.assertTrue(self.passes(tok, port))
                self.assertStatus(self.gw.get('/orders/1', revoked, port=port), 401,
                                  'invalid_token')
                self.assertStatus(self.gw.get('/orders/1', port=port), 401)
        finally:
            s.srv.start()
        # and follows it again once it is back
        s.revoke(app, tok)
        for port in self.ports():
            self.refused_within_a_second(tok, port)


if __name__ == '__main__':
    main()

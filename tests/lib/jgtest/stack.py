"""The whole stack for end-to-end tests: a real jwtgated (jgtest.jwtgated), a
real nginx with ngx_http_jwtgate_module reading jwtgated's snapshot
(Gateway: two gateway servers, with and without the verified-token cache),
and a real upstream (ECHO_JSON, a server block of the same nginx), with the
admin calls the tests need (Stack) and a test case with one stack per class
(StackTest)."""
import json
import os
import shutil
import sqlite3
import time
import unittest

from . import config, nginx, tokens
from .jwtgated import Server

GATEWAY_HTTP = r"""
    keepalive_requests 100000;

    jwtgate_cache zone=e2e_tokens:2m;

    # the gateway with the verified-token cache
    server {
        listen 127.0.0.1:%(port)d;
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_snapshot %(snapshot)s interval=100ms;
        jwtgate e2e;
        jwtgate_type nested;
        jwtgate_forward_claim X-Client-Id client_id;
        location / {
            proxy_pass $jwtgate_api_upstream;
        }
        location /write/ {
            jwtgate_scope orders:write;
            proxy_pass $jwtgate_api_upstream;
        }
    }

    # the same without the cache
    server {
        listen 127.0.0.1:%(port_nocache)d;
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_snapshot %(snapshot)s interval=100ms;
        jwtgate e2e;
        jwtgate_type nested;
        jwtgate_cache off;
        jwtgate_forward_claim X-Client-Id client_id;
        location / {
            proxy_pass $jwtgate_api_upstream;
        }
    }
""" + nginx.ECHO_JSON


class Gateway(nginx.Nginx):
    """nginx with the module in `tmp`/nginx, reading `snapshot`: self.port (cache on),
    self.port_nocache (cache off), self.port_up (the upstream of every API, its URL in
    self.upstream). Started at once; stop() raises if it crashed, a sanitizer reported
    or the error log holds an alert."""

    def __init__(self, tmp, snapshot, workers=1):
        super().__init__('nginx', server=None, http=GATEWAY_HTTP, workers=workers, echo=False,
                         ports_named=('nocache', 'up'), params={'snapshot': snapshot},
                         access_log=True, worker_connections=1024,
                         dir=os.path.join(tmp, 'nginx'))
        self.start()

    @property
    def upstream(self):
        return 'http://127.0.0.1:%d' % self.port_up

    def check_log(self):
        """No worker crashed, no sanitizer report, nothing logged as an alert or worse."""
        return self.crashes() + self.alerts()


class Stack:
    """jwtgated + nginx with the module + the upstream, and the admin calls the tests need."""

    def __init__(self, token_ttl=None, workers=1):
        self.tmp = config.scratch('e2e-')
        # A fixed issuer: jwtgated restarted on another port issues the same "iss".
        self.issuer = 'https://issuer.e2e.test'
        self.srv = Server('--issuer', self.issuer, token_ttl=token_ttl, data_dir=self.tmp,
                          keep=True)
        try:
            self.gw = Gateway(self.tmp, self.srv.snapshot_path, workers=workers)
        except BaseException:
            self.srv.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        _, ten = self.srv.admin('POST', '/tenants', {'name': 'e2e'}, expect=201)
        self.tenant = ten['id']
        self.n = 0

    def close(self):
        try:
            self.gw.stop()
        finally:
            self.srv.stop()
        problems = self.gw.check_log()
        if problems:
            raise AssertionError('nginx error log:\n' + '\n'.join(problems[:20]))
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- admin ---------------------------------------------------------------------------

    def api(self, name=None, scopes=('orders:read', 'orders:write'), state='published'):
        self.n += 1
        name = name or 'api%d' % self.n
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % self.tenant, {
            'name': name, 'version': 'v1', 'base_path': '/' + name,
            'upstream': self.gw.upstream, 'audience': 'https://api.example.com/' + name,
            'scopes': list(scopes), 'policy': 'manual'}, expect=201)
        for st in {'draft': (), 'published': ('published',),
                   'deprecated': ('published', 'deprecated'),
                   'retired': ('published', 'deprecated', 'retired')}[state]:
            api = self.lifecycle(api, st)
        return api

    def lifecycle(self, api, state, **extra):
        body = {'state': state}
        body.update(extra)
        _, out = self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (self.tenant, api['id']),
                                body, expect=200)
        api.update(out)
        return api

    def app(self, name='app'):
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.tenant, {'name': name},
                                expect=201)
        return app

    def subscribe(self, app, api, scopes=('orders:read',), decide='approve'):
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.tenant, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': list(scopes)}, expect=201)
        if decide:
            _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/%s' % (
                self.tenant, sub['id'], decide), {'reason': 'e2e'}, expect=200)
        return sub

    def sub_action(self, sub, action):
        return self.srv.admin('POST', '/tenants/%s/subscriptions/%s/%s' % (
            self.tenant, sub['id'], action), {'reason': 'e2e'}, expect=200)[1]

    def token(self, app, expect=200, **params):
        r = self.srv.token(app['client_id'], app['client_secret'], **params)
        if r.status != expect:
            raise AssertionError('token: expected %d, got %r' % (expect, r))
        return r.json().get('access_token') if expect == 200 else r

    def revoke(self, app, token):
        r = self.srv.post_form('/oauth2/revoke', {'token': token},
                               auth=(app['client_id'], app['client_secret']))
        assert r.status == 200, r

    # ---- tokens made here, with the issuer's own key (for claims jwtgated never issues) ----

    def issuer_keys(self):
        """(issuer signing key, gateway public encryption key) as JWK files: the active
        signing key is read from jwtgated's database and opened with the master key."""
        d = os.path.join(self.tmp, 'mint')
        os.makedirs(d, exist_ok=True)
        with open(self.srv.master) as f:
            master = {'kty': 'oct', 'k': f.read().strip(), 'alg': 'dir', 'kid': 'master'}
        mk = os.path.join(d, 'master.jwk')
        with open(mk, 'w') as f:
            json.dump(master, f)
        db = sqlite3.connect(os.path.join(self.srv.data, 'jwtgated.db'))
        try:
            (sealed,) = db.execute("SELECT private_jwe FROM keys WHERE purpose = 'signing' "
                                   "AND state = 'active'").fetchone()
        finally:
            db.close()
        try:
            sign = tokens.cli('jwe', 'decrypt', '--key', mk, '--alg', 'dir', stdin=sealed)
        finally:
            os.unlink(mk)
        snap = self.srv.snapshot()
        active = {k['kid'] for k in snap['keys'] if k['state'] == 'active'}
        enc = [k for k in snap['decryption_keys']['keys'] if k['kid'] in active][0]
        enc = {k: v for k, v in enc.items() if k != 'd'}
        paths = (os.path.join(d, 'issuer.jwk'), os.path.join(d, 'gateway.pub.jwk'))
        for path, text in zip(paths, (sign, json.dumps(enc))):
            with open(path, 'w') as f:
                f.write(text)
        return paths

    def mint(self, *args, sign_key=None, enc_key=None, **claims):
        """A nested token made by `jwtgate jwt seal`; args are its options."""
        if not hasattr(self, '_keys'):
            self._keys = self.issuer_keys()
        return tokens.cli('jwt', 'seal', '--sign-key', sign_key or self._keys[0],
                          '--enc-key', enc_key or self._keys[1], *args)

    def snapshot_version(self):
        return self.srv.snapshot()['version']

    # ---- waiting for the gateway ---------------------------------------------------------

    def until(self, fn, timeout=1.0, step=0.01, streak=1):
        """Seconds until fn() is true (polled) and stays true for `streak` calls in a row
        (with several workers, each picks a new snapshot up on its own timer), measured to
        the first call of that streak; raise if that is later than timeout seconds."""
        start = time.monotonic()
        first, run = None, 0
        while True:
            now = time.monotonic()
            last = fn()
            if last:
                if run == 0:
                    first = now
                run += 1
                if run >= streak:
                    return first - start
            else:
                run = 0
            if run == 0 and now - start > timeout:
                raise AssertionError('not within %.1f s (last: %r)' % (timeout, last))
            if run == 0:
                time.sleep(step)


class StackTest(unittest.TestCase):
    """One stack per test class (cls.stack, cls.gw); `token_ttl` and `workers` are class
    attributes."""

    token_ttl = None
    workers = 1

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(token_ttl=cls.token_ttl, workers=cls.workers)
        cls.gw = cls.stack.gw

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def assertStatus(self, r, status, error=None, msg=None):
        self.assertEqual(r.status, status, msg or r)
        if error is not None:
            ch = r.challenge()
            self.assertIsNotNone(ch, r)
            self.assertEqual(ch.get('error'), error, r.header('WWW-Authenticate'))

"""ngx_http_jwtgate_module with a jwtgated snapshot (docs/snapshot.md),
written by hand here: API lifecycle, subscriptions, revocation, scopes; the
snapshot replaced while requests run (two workers); a broken snapshot; the
verified-token cache and its purging."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest
from email.utils import formatdate

from jgtest import NginxTest, config, nested, request
from jgtest.procs import wait_until

ISS = 'https://auth.example'
ORDERS = 'https://api.example/orders'
LEGACY = 'https://api.example/legacy'
ADMIN = 'https://api.example/orders-admin'
SHRUNK = 'https://api.example/shrunk'
NOW = int(time.time())
SUNSET = NOW + 30 * 86400


def api(id, base, aud, state, scopes=(), sunset=None):
    return {'id': id, 'tenant_id': 'ten_1', 'name': id, 'version': 'v1', 'base_path': base,
            'upstream': 'http://127.0.0.1:1', 'audience': aud, 'scopes': list(scopes),
            'state': state, 'sunset': sunset}


APIS = [
    api('api_orders', '/orders', ORDERS, 'published', ['orders:read', 'orders:write']),
    api('api_admin', '/orders/admin/', ADMIN, 'published', ['admin']),
    api('api_legacy', '/legacy', LEGACY, 'deprecated', ['legacy'], SUNSET),
    api('api_gone', '/gone', 'https://api.example/gone', 'deprecated', [], NOW - 60),
    api('api_draft', '/draft', 'https://api.example/draft', 'draft'),
    api('api_retired', '/retired', 'https://api.example/retired', 'retired'),
    api('api_open', '/open', 'https://api.example/open', 'published', []),
    # an API that dropped s:write while a subscription still lists it
    api('api_shrunk', '/shrunk', SHRUNK, 'published', ['s:read']),
]

SUBS = [
    {'id': 'sub_1', 'client_id': 'app1', 'api_id': 'api_orders', 'audience': ORDERS,
     'scopes': ['orders:read']},
    {'id': 'sub_2', 'client_id': 'app1', 'api_id': 'api_legacy', 'audience': LEGACY,
     'scopes': ['legacy']},
    {'id': 'sub_3', 'client_id': 'app2', 'api_id': 'api_orders', 'audience': ORDERS,
     'scopes': ['orders:read', 'orders:write']},
    {'id': 'sub_4', 'client_id': 'app2', 'api_id': 'api_admin', 'audience': ADMIN,
     'scopes': ['admin']},
    {'id': 'sub_5', 'client_id': 'app2', 'api_id': 'api_open', 'audience': ADMIN,
     'scopes': []},
    {'id': 'sub_6', 'client_id': 'app2', 'api_id': 'api_shrunk', 'audience': SHRUNK,
     'scopes': ['s:read', 's:write']},
]


class SnapshotWriter:
    """Writes snapshots as jwtgated does: a temporary file renamed over."""

    def __init__(self, keys, path):
        self.keys = keys
        self.path = path
        self.version = 0

    def doc(self, apis=None, subs=None, revoked=(), suspended=(), dec=('gateway',),
            ver=('issuer',), issuer=ISS):
        self.version += 1
        d = json.load(open(self.keys.jwks_file('dec', *dec)))
        v = json.load(open(self.keys.jwks_file('ver', *ver, public=True)))
        return {'format': 'jwtgate-snapshot', 'format_version': 1, 'version': self.version,
                'generated_at': int(time.time()), 'issuer': issuer, 'token_ttl': 900,
                'decryption_keys': d, 'verification_keys': v, 'keys': [],
                'apis': APIS if apis is None else apis,
                'subscriptions': SUBS if subs is None else subs,
                'revoked_jti': [{'jti': j, 'exp': NOW + 3600} for j in revoked],
                'suspended_clients': list(suspended), 'future_member': {'ignored': True}}

    def write_bytes(self, data):
        tmp = self.path + '.tmp'
        with open(tmp, 'wb') as f:
            f.write(data)
        os.rename(tmp, self.path)

    def write_text(self, text):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.path)

    def write(self, **kw):
        self.write_text(json.dumps(self.doc(**kw)))
        return self.version

    def compiled(self, doc):
        """The compiled form (format 2) of a document: `jwtgate snapshot compile`."""
        return subprocess.run([config.JWTGATE_CLI, 'snapshot', 'compile'],
                              input=json.dumps(doc).encode(), stdout=subprocess.PIPE,
                              check=True, timeout=120).stdout

    def write_compiled(self, **kw):
        """As jwtgated writes it by default; returns the version."""
        doc = self.doc(**kw)
        self.write_bytes(self.compiled(doc))
        return doc['version']


def many_subscriptions(n):
    """`n` subscriptions of other clients to /orders, besides SUBS."""
    return SUBS + [{'id': 'sub_x%d' % i, 'client_id': 'bulk%d' % i, 'api_id': 'api_orders',
                    'audience': ORDERS, 'scopes': ['orders:read']} for i in range(n)]


def token(keys, client, aud, scope='', jti=None, **kw):
    kw.setdefault('iss', ISS)
    claims = {'client_id': client, 'scope': scope}
    return nested(keys, aud=aud, sub=client, jti=jti, claims=claims, **kw)


SERVER = '''
        jwtgate api;
        jwtgate_snapshot %(dir)s/snapshot.json;
        add_header X-Api $jwtgate_api_id always;
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_forward_claim X-Client client_id;

        location / {
            # the routed API's upstream (the snapshot names the echo server)
            proxy_pass $jwtgate_api_upstream;
        }
        location /cached/ {
            jwtgate_cache zone=jwt:1m;
            rewrite ^/cached(/.*)$ $1 break;
            proxy_pass http://echo;
        }
        location = /__ping__ {
            jwtgate off;
            proxy_pass http://echo;
        }
'''


# "jwtgate" on the server, the snapshot named by the locations
SERVER_LOCATIONS = '''
        jwtgate api;
        add_header X-Api $jwtgate_api_id always;
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_forward_claim X-Client client_id;

        location / {
            jwtgate_snapshot %(dir)s/snapshot.json;
            # the routed API's upstream (the snapshot names the echo server)
            proxy_pass $jwtgate_api_upstream;
        }
        location /cached/ {
            jwtgate_snapshot %(dir)s/snapshot.json;
            jwtgate_cache zone=jwt:1m;
            rewrite ^/cached(/.*)$ $1 break;
            proxy_pass http://echo;
        }
        location /nokeys/ {
            proxy_pass http://echo;
        }
        location /shrunk/write/ {
            jwtgate_snapshot %(dir)s/snapshot.json;
            jwtgate_scope s:write;
            proxy_pass $jwtgate_api_upstream;
        }
        location = /__ping__ {
            jwtgate off;
            proxy_pass http://echo;
        }
'''


class Policy(NginxTest):
    """The API policy of one snapshot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from jgtest import Nginx
        cls.ng = Nginx(cls.__name__ + '-policy', SERVER_LOCATIONS)
        cls.snap = SnapshotWriter(cls.keys, os.path.join(cls.ng.dir, 'snapshot.json'))
        apis = [dict(a, upstream='http://127.0.0.1:%d' % cls.ng.uport) for a in APIS]
        cls.snap.write(apis=apis, revoked=['revoked-jti'], suspended=['app-suspended'])
        cls.ng.start()
        cls.servers.append(cls.ng)

    def tok(self, client='app1', aud=ORDERS, scope='orders:read', **kw):
        return token(self.keys, client, aud, scope, **kw)

    def test_published(self):
        r = self.ng.get('/orders/42', self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('X-Api'), 'api_orders')
        self.assertEqual(r.echoed()['x-client'], 'app1')
        # proxied to $jwtgate_api_upstream with the request's URI
        self.assertEqual(r.echoed()['uri'], '/orders/42')
        self.assertIsNone(r.header('Deprecation'))
        self.assertEqual(self.ng.get('/orders', self.tok()).status, 200)

    def test_route_by_base_path(self):
        # longest base path on a segment boundary
        t = self.tok('app2', ADMIN, 'admin')
        r = self.ng.get('/orders/admin/users', t)
        self.assertEqual((r.status, r.header('X-Api')), (200, 'api_admin'), r)
        # "/ordersx" is not under "/orders"
        r = self.ng.get('/ordersx', self.tok())
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.ng.get('/nothing', self.tok()).status, 404)
        # the token for /orders is not one for /orders/admin
        r = self.ng.get('/orders/admin', self.tok('app2', ORDERS, 'orders:read'))
        self.assertChallenge(r, 401, 'invalid_token',
                             'the access token is not meant for this API')

    def test_lifecycle(self):
        t = self.tok()
        self.assertEqual(self.ng.get('/draft/x', t).status, 404)
        self.assertEqual(self.ng.get('/retired/x', t).status, 410)
        self.assertEqual(self.ng.get('/gone/x', t).status, 410)
        # before the token: no token needed to learn that
        self.assertEqual(self.ng.get('/draft/x').status, 404)
        self.assertEqual(self.ng.get('/retired/x').status, 410)

    def test_deprecated(self):
        r = self.ng.get('/legacy/x', self.tok(aud=LEGACY, scope='legacy'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Deprecation'), 'true')
        self.assertEqual(r.header('Sunset'), formatdate(SUNSET, usegmt=True))
        # refusals say it too
        r = self.ng.get('/legacy/x')
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header('Sunset'), formatdate(SUNSET, usegmt=True))

    def test_audience(self):
        r = self.ng.get('/orders/x', self.tok(aud=LEGACY))
        self.assertChallenge(r, 401, 'invalid_token',
                             'the access token is not meant for this API')

    def test_subscription(self):
        # app3 has no approved subscription (pending ones are not in the snapshot)
        r = self.ng.get('/orders/x', self.tok('app3'))
        self.assertChallenge(r, 401, 'invalid_token',
                             'the client has no approved subscription to this API')
        # app1 is subscribed to orders, not to admin
        r = self.ng.get('/orders/admin/x', self.tok('app1', ADMIN, 'admin'))
        self.assertChallenge(r, 401, 'invalid_token',
                             'the client has no approved subscription to this API')

    def test_scope(self):
        # the token holds orders:write, the subscription approves orders:read only
        r = self.ng.get('/orders/x', self.tok(scope='orders:write'))
        self.assertChallenge(r, 403, 'insufficient_scope',
                             'the access token holds no approved scope of this API',
                             scope='orders:read orders:write')
        r = self.ng.get('/orders/x', self.tok(scope='profile'))
        self.assertChallenge(r, 403, 'insufficient_scope', scope='orders:read orders:write')
        self.assertEqual(self.ng.get('/orders/x', self.tok('app2', scope='orders:write')).status,
                         200)
        # an API without scopes needs none
        self.assertEqual(self.ng.get('/open/x', self.tok('app2', ADMIN, '')).status, 401)
        r = self.ng.get('/open/x', self.tok('app2', 'https://api.example/open', ''))
        self.assertEqual(r.status, 200, r)

    def test_scope_the_api_no_longer_defines(self):
        # The token and the subscription both hold s:write, the API does not
        # define it any more: the gateway grants only the API's current
        # scopes (a second line behind jwtgated, which trims subscriptions).
        tok = self.tok('app2', SHRUNK, 's:read s:write')
        self.assertEqual(self.ng.get('/shrunk/x', tok).status, 200)
        r = self.ng.get('/shrunk/write/x', tok)
        self.assertChallenge(r, 403, 'insufficient_scope',
                             'the access token lacks a scope this resource requires',
                             scope='s:write')
        r = self.ng.get('/shrunk/x', self.tok('app2', SHRUNK, 's:write'))
        self.assertChallenge(r, 403, 'insufficient_scope', scope='s:read')

    def test_revoked_and_suspended(self):
        r = self.ng.get('/orders/x', self.tok(jti='revoked-jti'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token was revoked')
        r = self.ng.get('/orders/x', self.tok('app-suspended'))
        self.assertChallenge(r, 401, 'invalid_token', 'the client is suspended')

    def test_keys_and_issuer(self):
        r = self.ng.get('/orders/x', self.tok(iss='https://evil.example'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is from another issuer')
        r = self.ng.get('/orders/x', token(self.keys, 'app1', ORDERS, 'orders:read',
                                           sign='stranger'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is invalid')
        r = self.ng.get('/orders/x', token(self.keys, 'app1', ORDERS, 'orders:read',
                                           enc='gateway2'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is invalid')

    def test_no_token(self):
        self.assertChallenge(self.ng.get('/orders/x'), 401)

    def test_no_keys_fails_closed(self):
        self.assertEqual(self.ng.get('/nokeys/x', self.tok()).status, 500)
        self.assertTrue(self.ng.wait_log('jwtgate: no keys here'))

    def test_cache(self):
        t = self.tok(jti='cache-1')
        self.assertEqual(self.ng.get('/orders/x', t).header('X-Cache'), 'BYPASS')
        r1 = self.ng.get('/cached/orders/x', t)
        r2 = self.ng.get('/cached/orders/x', t)
        self.assertEqual((r1.status, r1.header('X-Cache')), (200, 'MISS'), r1)
        self.assertEqual((r2.status, r2.header('X-Cache')), (200, 'HIT'), r2)
        self.assertEqual(r2.echoed()['x-client'], 'app1')
        # the policy is checked on a hit as well
        r = self.ng.get('/cached/orders/x', self.tok(scope='orders:write', jti='cache-2'))
        r = self.ng.get('/cached/orders/x', self.tok(scope='orders:write', jti='cache-2'))
        self.assertEqual(r.status, 403)
        # tokens that fail are not cached
        bad = token(self.keys, 'app1', ORDERS, 'orders:read', sign='stranger')
        for _ in range(2):
            r = self.ng.get('/cached/orders/x', bad)
            self.assertEqual((r.status, r.header('X-Cache')), (401, 'MISS'))


class Compiled(NginxTest):
    """The compiled snapshot (format 2) that jwtgated writes: mapped, its checksum
    verified a slice per event-loop turn, looked up in place."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from jgtest import Nginx
        cls.ng = Nginx(cls.__name__ + '-compiled', SERVER, workers=2)
        cls.snap = SnapshotWriter(cls.keys, os.path.join(cls.ng.dir, 'snapshot.json'))
        cls.apis = [dict(a, upstream='http://127.0.0.1:%d' % cls.ng.uport) for a in APIS]
        cls.snap.write_compiled(apis=cls.apis)
        cls.ng.start()
        cls.servers.append(cls.ng)

    def wait_status(self, path, tok, status):
        deadline = time.time() + 10
        while time.time() < deadline:
            if all(self.ng.get(path, tok).status == status for _ in range(20)):
                return
            time.sleep(0.05)
        self.fail('%s did not answer %d' % (path, status))

    def test_served_from_the_compiled_file(self):
        with open(self.snap.path, 'rb') as f:
            self.assertEqual(f.read(8), b'JGSNAP\r\n')
        self.snap.write_compiled(apis=self.apis, revoked=['c-revoked'], suspended=['app1'])
        self.wait_status('/orders/x', token(self.keys, 'app1', ORDERS, 'orders:read'), 401)
        self.wait_status('/orders/x', token(self.keys, 'app2', ORDERS, 'orders:read'), 200)
        self.wait_status('/orders/x', token(self.keys, 'app2', ORDERS, 'orders:read',
                                            jti='c-revoked'), 401)
        # the subscription is looked up in the mapping: app2 has none to /legacy
        self.wait_status('/legacy/x', token(self.keys, 'app2', LEGACY, 'legacy'), 401)
        self.assertTrue(self.ng.wait_log('checksum verified in'))

    def test_a_large_file_is_verified_in_slices(self):
        version = self.snap.write_compiled(apis=self.apis, subs=many_subscriptions(60000))
        self.assertGreater(os.path.getsize(self.snap.path), 3 * 1024 * 1024)
        line = 'version %d loaded' % version
        self.assertTrue(self.ng.wait_log(line, timeout=20), line)
        steps = [int(m) for m in re.findall(r'version %d loaded .* verified in (\d+) steps'
                                            % version, self.ng.logs())]
        self.assertTrue(steps and min(steps) >= 12, steps)  # 256 KiB a turn
        # a subscription deep in the set, found by its hash
        bulk = token(self.keys, 'bulk59999', ORDERS, 'orders:read')
        self.wait_status('/orders/x', bulk, 200)
        self.wait_status('/orders/x', token(self.keys, 'bulk60000', ORDERS, 'orders:read'),
                         401)

    def test_many_apis_are_routed_in_parts_with_the_keys_kept(self):
        # more APIs than a turn takes (512): the routing table is made over several turns,
        # and the keys, the same bytes as the snapshot in use, are not parsed again
        extra = [api('api_n%d' % i, '/n/%d' % i, 'https://api.example/n/%d' % i, 'published',
                     ['n:read']) for i in range(3000)]
        extra[-1]['upstream'] = self.apis[0]['upstream']
        version = self.snap.write_compiled(apis=self.apis + extra, subs=SUBS + [{
            'id': 'sub_last', 'client_id': 'app2', 'api_id': 'api_n2999',
            'audience': 'https://api.example/n/2999', 'scopes': ['n:read']}])

        def notices():
            return re.findall(r'version %d loaded .*: (\d+) APIs; .* keys (\w+) and routes'
                              % version, self.ng.logs())
        # both workers (each in its own time: one line is not the other's)
        wait_until(lambda: len(notices()) >= 2, 20, what='both workers loaded %d' % version)
        self.assertEqual(notices(), [(str(len(self.apis) + 3000), 'kept')] * 2)
        self.wait_status('/n/2999/x', token(self.keys, 'app2', 'https://api.example/n/2999',
                                            'n:read'), 200)

    def test_torn_or_corrupted_file_keeps_the_old_one(self):
        good = self.snap.write_compiled(apis=self.apis, revoked=['c-torn'])
        tok = token(self.keys, 'app2', ORDERS, 'orders:read', jti='c-torn')
        self.wait_status('/orders/x', tok, 401)
        # a newer file that would let c-torn through again, torn or corrupted
        data = self.snap.compiled(self.snap.doc(apis=self.apis))
        for bad, why in ((data[:-100], 'not a valid compiled snapshot'),
                         (data[:-40] + bytes([data[-40] ^ 1]) + data[-39:],
                          'checksum mismatch')):
            self.snap.write_bytes(bad)
            self.assertTrue(self.ng.wait_log(why), why)
            self.assertTrue(self.ng.wait_log('not loaded, serving from version %d' % good))
            for _ in range(20):
                self.assertEqual(self.ng.get('/orders/x', tok).status, 401)
        self.snap.write_compiled(apis=self.apis)
        self.wait_status('/orders/x', tok, 200)


class Reload(NginxTest):
    """The snapshot replaced under two workers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from jgtest import Nginx
        cls.ng = Nginx(cls.__name__ + '-reload', SERVER, workers=2)
        cls.snap = SnapshotWriter(cls.keys, os.path.join(cls.ng.dir, 'snapshot.json'))
        APIS[:] = [dict(a, upstream='http://127.0.0.1:%d' % cls.ng.uport) for a in APIS]
        cls.snap.write()
        cls.ng.start()
        cls.servers.append(cls.ng)

    def wait_state(self, path, tok, status, since, consecutive=40):
        """Seconds from `since` until `consecutive` requests in a row (new
        connections, so both workers answer) give `status`."""
        run_start = None
        run = 0
        while time.time() - since < 5:
            t = time.time()
            if self.ng.get(path, tok).status == status:
                run_start = run_start or t
                run += 1
                if run >= consecutive:
                    return run_start - since
            else:
                run_start, run = None, 0
        self.fail('state %d not reached in 5 s' % status)

    def test_replaced_under_load(self):
        good = token(self.keys, 'app2', ORDERS, 'orders:read')
        victim = token(self.keys, 'app1', ORDERS, 'orders:read', jti='victim')
        stop = threading.Event()
        failures, count = [], [0]

        def load():
            while not stop.is_set():
                for path in ('/orders/x', '/cached/orders/x'):
                    try:
                        r = request(self.ng.port, path, good)
                        if r.status != 200:
                            failures.append(r)
                    except OSError as e:
                        failures.append(e)
                    count[0] += 1

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            delays = []
            for i in range(6):
                revoked = ['victim'] if i % 2 == 0 else []
                t0 = time.time()
                self.snap.write(revoked=revoked)
                for path in ('/orders/x', '/cached/orders/x'):
                    delays.append(self.wait_state(path, victim, 401 if revoked else 200, t0))
        finally:
            stop.set()
            for t in threads:
                t.join()
        print('\nsnapshot replaced 6 times under load: %d requests, %d failed, new state '
              'seen by every worker after at most %.3f s' % (count[0], len(failures),
                                                             max(delays)))
        self.assertEqual(failures, [])
        self.assertGreater(count[0], 100)
        self.assertLess(max(delays), 1.0, delays)
        # every worker loaded every version, without a reload of nginx
        logs = self.ng.logs()
        for pid in self.ng.worker_pids():
            self.assertIn('%d#' % pid, logs)
            mine = [line for line in logs.splitlines() if ('[notice] %d#' % pid) in line
                    and 'loaded' in line]
            self.assertGreaterEqual(len(mine), 6, mine)
        self.assertIn('entries purged from cache', logs)

    def test_broken_snapshot_keeps_the_old_one(self):
        tok = token(self.keys, 'app1', ORDERS, 'orders:read', jti='broken-1')
        self.snap.write(revoked=['broken-1'])
        self.wait_state('/orders/x', tok, 401, time.time())
        good = self.snap.version
        for text, why in (('{"format": "jwtgate-snapshot", "format_version": 1, ',
                           'malformed JSON'),
                          (json.dumps(dict(self.snap.doc(), decryption_keys={'keys': [{}]})),
                           'decryption_keys'),
                          (json.dumps(dict(self.snap.doc(), format_version=2)),
                           'format_version'),
                          (json.dumps(dict(self.snap.doc(), apis=[{'id': 'x'}])),
                           'apis[0]: "base_path" is missing'),
                          ('', 'not a file of 1 byte')):
            self.snap.write_text(text)
            self.assertTrue(self.ng.wait_log(why), why)
            self.assertTrue(self.ng.wait_log('not loaded, serving from version %d' % good))
            for _ in range(20):
                self.assertEqual(self.ng.get('/orders/x', tok).status, 401)
        # a good file again
        self.snap.write()
        self.wait_state('/orders/x', tok, 200, time.time())

    def test_older_snapshot_is_not_installed(self):
        # A snapshot older than the one in use (a second writer, a database
        # restored by hand) would bring revoked tokens back: refused, logged.
        tok = token(self.keys, 'app1', ORDERS, 'orders:read', jti='older-1')
        self.snap.write(revoked=['older-1'])
        self.wait_state('/orders/x', tok, 401, time.time())
        current = self.snap.version
        self.snap.write_text(json.dumps(dict(self.snap.doc(), version=current - 1)))
        self.assertTrue(self.ng.wait_log('version %d is older than version %d in use: not '
                                         'installed' % (current - 1, current)))
        for _ in range(40):
            self.assertEqual(self.ng.get('/orders/x', tok).status, 401)
        # The same version again is taken (jwtgated restarted with another
        # --issuer rewrites its snapshot under the same version)...
        self.snap.write_text(json.dumps(dict(self.snap.doc(), version=current)))
        self.wait_state('/orders/x', tok, 200, time.time())
        # ... and a newer one, of course.
        self.snap.write(revoked=['older-1'])
        self.wait_state('/orders/x', tok, 401, time.time())

    def test_snapshot_of_another_database_is_not_installed(self):
        # Every jwtgated snapshot names its database; one from another database (a
        # second jwtgated writing the same file) is refused whatever its version, and
        # the gateway keeps enforcing what its own database says.
        ours, theirs = 'a1' * 16, 'b2' * 16
        tok = token(self.keys, 'app1', ORDERS, 'orders:read', jti='otherdb-1')
        self.snap.write_text(json.dumps(dict(self.snap.doc(revoked=['otherdb-1']), db_id=ours)))
        self.wait_state('/orders/x', tok, 401, time.time())
        self.snap.write_text(json.dumps(dict(self.snap.doc(), db_id=theirs)))
        self.assertTrue(self.ng.wait_log('version %d is from another database (%s, the one in '
                                         'use is %s): not installed'
                                         % (self.snap.version, theirs, ours)))
        for _ in range(40):
            self.assertEqual(self.ng.get('/orders/x', tok).status, 401)
        # its own database's next snapshot is taken, and one without an identity
        # (hand-written) goes by its version alone
        self.snap.write_text(json.dumps(dict(self.snap.doc(), db_id=ours)))
        self.wait_state('/orders/x', tok, 200, time.time())
        self.snap.write(revoked=['otherdb-1'])
        self.wait_state('/orders/x', tok, 401, time.time())

    def test_cache_purged_on_revocation(self):
        tok = token(self.keys, 'app2', ORDERS, 'orders:read', jti='purge-1')
        sus = token(self.keys, 'app1', ORDERS, 'orders:read', jti='purge-2')
        self.snap.write()
        time.sleep(1.2)
        for t in (tok, sus):
            for _ in range(4):
                self.ng.get('/cached/orders/x', t)
            self.assertEqual(self.ng.get('/cached/orders/x', t).header('X-Cache'), 'HIT')
        self.snap.write(revoked=['purge-1'], suspended=['app1'])
        self.wait_state('/cached/orders/x', tok, 401, time.time())
        self.wait_state('/cached/orders/x', sus, 401, time.time())
        self.assertTrue(self.ng.wait_log('entries purged from cache "jwt"'))
        # once the revocation is lifted the token is opened again: the entry is gone
        self.snap.write()
        self.wait_state('/cached/orders/x', tok, 200, time.time(), consecutive=1)
        self.snap.write()
        time.sleep(1.2)

    def test_snapshot_removed_keeps_serving(self):
        tok = token(self.keys, 'app2', ORDERS, 'orders:read')
        self.snap.write()
        self.wait_state('/orders/x', tok, 200, time.time(), consecutive=5)
        os.unlink(self.snap.path)
        self.assertTrue(self.ng.wait_log('serving from the last one read'))
        for _ in range(20):
            self.assertEqual(self.ng.get('/orders/x', tok).status, 200)
        self.snap.write(suspended=['app2'])
        self.wait_state('/orders/x', tok, 401, time.time())
        self.snap.write()
        self.wait_state('/orders/x', tok, 200, time.time())

    def test_graceful_shutdown_is_not_held_by_the_timer(self):
        from jgtest import Nginx
        ng = Nginx('Reload-quit', SERVER, workers=2)
        SnapshotWriter(self.keys, os.path.join(ng.dir, 'snapshot.json')).write()
        ng.start()
        try:
            started = time.time()
            ng.proc.send_signal(signal.SIGQUIT)
            ng.proc.wait(10)
            self.assertLess(time.time() - started, 5)
        finally:
            ng.stop()
        self.assertEqual(ng.crashes(), [])

    def test_key_rotation_invalidates_cache(self):
        tok = token(self.keys, 'app2', ORDERS, 'orders:read')
        self.snap.write()
        time.sleep(1.2)
        self.ng.get('/cached/orders/x', tok)
        self.ng.get('/cached/orders/x', tok)
        self.assertEqual(self.ng.get('/cached/orders/x', tok).header('X-Cache'), 'HIT')
        # the signing key leaves the snapshot: the cached claims no longer count
        self.snap.write(ver=('stranger',))
        self.wait_state('/cached/orders/x', tok, 401, time.time())
        # both keys (a rotation): verified again, then cached again
        self.snap.write(ver=('stranger', 'issuer'), dec=('gateway2', 'gateway'))
        self.wait_state('/cached/orders/x', tok, 200, time.time())
        self.assertEqual(self.ng.get('/cached/orders/x', tok).header('X-Cache'), 'HIT')
        self.snap.write()
        time.sleep(1.2)


if __name__ == '__main__':
    unittest.main(verbosity=2)

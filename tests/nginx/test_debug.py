"""The module's debug log (error_log ... debug; Debian's nginx and therefore
the module are built --with-debug): each decision is logged with its reason
(a refusal, the cache's hit, miss and store, a key that does not fit, a
snapshot swap), and no line of the module holds a token or key material.

nginx's own debug lines record every request header, Authorization
included: the search for token text is checked against them (it must find
the token there, or it could not find it anywhere), then run on the
module's lines."""
import json
import os
import signal
import time
import unittest

from jgtest import Nginx, NginxTest, signed
import test_snapshot

ISS = 'https://issuer.example'
AUD = 'https://api.example'


class DebugNginx(Nginx):
    """An nginx whose error log takes debug lines (level: "debug", or
    "info" as the harness has it)."""

    level = 'debug'

    def conf_text(self):
        text = super().conf_text()
        line = 'error_log %s/error.log info;' % self.dir
        assert line in text, 'the harness changed its error_log line'
        return text.replace(line, 'error_log %s/error.log %s;' % (self.dir, self.level))


def module_lines(text):
    return [line for line in text.splitlines() if 'jwtgate:' in line]


def secrets_of(token):
    """What of a token must not be logged: the whole of it and each part
    long enough not to occur by chance (a JWS header is common to many)."""
    return [token] + [p for p in token.split('.')[1:] if len(p) >= 16]


class Debug(NginxTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        k = cls.keys
        pub = k.jwks_file('issuer-pub', 'issuer', public=True)
        cls.ng = DebugNginx(cls.__name__ + '-keys', '''
        jwtgate api;
        jwtgate_key_file %s;
        jwtgate_type signed;
        jwtgate_algorithms ES256;
        jwtgate_issuer %s;
        jwtgate_audience %s;
        add_header X-Cache $jwtgate_cache_status always;

        location /plain/ {
            proxy_pass http://echo;
        }
        location /cached/ {
            jwtgate_cache zone=debug:1m;
            proxy_pass http://echo;
        }
        location = /__ping__ {
            jwtgate off;
            proxy_pass http://echo;
        }
''' % (pub, ISS, AUD))
        cls.ng.start()
        cls.servers.append(cls.ng)

    def tok(self, key='issuer', **kw):
        kw.setdefault('iss', ISS)
        kw.setdefault('aud', AUD)
        kw.setdefault('sub', 'alice')
        return signed(self.keys, key, **kw)

    def wait(self, text):
        self.assertTrue(self.ng.wait_log(text), 'no debug line %r in:\n%s'
                        % (text, '\n'.join(module_lines(self.ng.logs())[-40:])))

    def assertNoSecret(self, secrets):
        lines = module_lines(self.ng.logs())
        self.assertTrue(lines)
        for line in lines:
            for s in secrets:
                self.assertNotIn(s, line)

    def test_refused(self):
        r = self.ng.get('/plain/a')
        self.assertEqual(r.status, 401)
        self.wait('jwtgate: refused with 401 (no error code): no bearer token')

        expired = self.tok(exp='@%d' % (int(time.time()) - 600), jti='expired-1')
        self.assertEqual(self.ng.get('/plain/b', expired).status, 401)
        self.wait('jwtgate: refused with 401 (invalid_token): token has expired')

        self.assertEqual(self.ng.get('/plain/c', 'a.b!c').status, 400)
        self.wait('jwtgate: refused with 400 (invalid_request): malformed bearer token')

        self.assertNoSecret(secrets_of(expired))

    def test_key_does_not_fit(self):
        # signed by a key the location does not hold: the header's kid, and
        # what the set offered (kid, alg, kty; never a key's parameters)
        stranger = self.tok('stranger', jti='stranger-1')
        self.assertEqual(self.ng.get('/plain/k', stranger).status, 401)
        kid = self.keys.jwk('stranger')['kid']
        self.wait('jwtgate: no key fits the token (JG_ERR_KEY_NOT_FOUND): its header names '
                  'alg "ES256", kid "%s"' % kid)
        self.wait('jwtgate: jwtgate_key_file keys: 1')
        self.wait('jwtgate: jwtgate_key_file key 0: kid "%s", alg ES256, kty EC'
                  % self.keys.jwk('issuer')['kid'])
        text = self.ng.logs()
        for name in ('issuer', 'stranger'):
            self.assertNotIn(self.keys.jwk(name)['d'], text)
        self.assertNoSecret(secrets_of(stranger))

    def test_cache(self):
        t = self.tok(jti='cached-1')
        r = self.ng.get('/cached/1', t)
        self.assertEqual((r.status, r.header('X-Cache')), (200, 'MISS'), r)
        self.wait('jwtgate: cache "debug": miss')
        self.wait('jwtgate: cache "debug": stored ')
        r = self.ng.get('/cached/2', t)
        self.assertEqual((r.status, r.header('X-Cache')), (200, 'HIT'), r)
        # the same worker: from its recent tokens, without the zone
        self.wait('jwtgate: cache "debug": hit (a recent token of this worker)')
        self.wait('jwtgate: access granted')
        self.assertNoSecret(secrets_of(t))

    def test_search_finds_tokens(self):
        # the positive control: nginx itself logs the Authorization header,
        # and the same search finds the token there
        t = self.tok(jti='control-1')
        self.assertEqual(self.ng.get('/plain/control', t).status, 200)
        self.wait('jwtgate: access granted')
        core = [line for line in self.ng.logs().splitlines() if 'jwtgate:' not in line]
        self.assertTrue(any(t in line for line in core),
                        'nginx no longer logs the Authorization header at debug level')
        self.assertNoSecret(secrets_of(t))


class DebugSnapshot(NginxTest):
    """A snapshot swap in the debug log: from which version to which, and the
    old snapshot freed once no request holds it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ng = DebugNginx(cls.__name__, test_snapshot.SERVER)
        cls.snap = test_snapshot.SnapshotWriter(cls.keys,
                                                os.path.join(cls.ng.dir, 'snapshot.json'))
        cls.apis = [dict(a, upstream='http://127.0.0.1:%d' % cls.ng.uport)
                    for a in test_snapshot.APIS]
        cls.snap.write(apis=cls.apis)
        cls.ng.start()
        cls.servers.append(cls.ng)

    def test_swap(self):
        t = test_snapshot.token(self.keys, 'app1', test_snapshot.ORDERS, 'orders:read',
                                jti='swap-1')
        self.assertEqual(self.ng.get('/orders/1', t).status, 200)
        self.assertTrue(self.ng.wait_log('jwtgate: snapshot version 1 routes to API '
                                         '"api_orders" at "/orders", published'))
        v = self.snap.write(apis=self.apis, revoked=['swap-1'])
        self.assertTrue(self.ng.wait_log('jwtgate: snapshot "%s" swapped: version 1 -> %d'
                                         % (self.snap.path, v)), self.ng.logs()[-3000:])
        self.assertTrue(self.ng.wait_log('jwtgate: snapshot version 1 freed'))
        # the new snapshot decides: the token is now revoked
        r = self.ng.get('/orders/2', t)
        self.assertEqual(r.status, 401)
        self.assertTrue(self.ng.wait_log('jwtgate: refused with 401 (invalid_token): '
                                         'the token is revoked'))
        # no line of the module holds the token or a decryption key
        gw = self.keys.jwk('gateway')
        for line in module_lines(self.ng.logs()):
            for s in secrets_of(t) + [gw['d'], json.dumps(gw)]:
                self.assertNotIn(s, line)


class DebugReload(NginxTest):
    """A snapshot read while a reload reads the configuration belongs to the
    new cycle: its log is the new cycle's (here the one with debug lines),
    not the previous cycle's, which nginx frees after the reload."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ng = DebugNginx(cls.__name__, test_snapshot.SERVER)
        cls.ng.level = 'info'
        cls.snap = test_snapshot.SnapshotWriter(cls.keys,
                                                os.path.join(cls.ng.dir, 'snapshot.json'))
        cls.apis = [dict(a, upstream='http://127.0.0.1:%d' % cls.ng.uport)
                    for a in test_snapshot.APIS]
        cls.snap.write(apis=cls.apis)
        cls.ng.start()
        cls.servers.append(cls.ng)

    def test_reload(self):
        ng = self.ng
        self.assertNotIn('[debug]', ng.logs())
        v2 = self.snap.write(apis=self.apis)
        ng.level = 'debug'
        ng.file('nginx.conf', ng.conf_text())
        ng.proc.send_signal(signal.SIGHUP)
        t = test_snapshot.token(self.keys, 'app1', test_snapshot.ORDERS, 'orders:read')
        routed = 'jwtgate: snapshot version %d routes to API "api_orders"' % v2
        deadline = time.time() + 20
        while routed not in ng.logs() and time.time() < deadline:
            # answered by an old worker until the new ones take over
            self.assertEqual(ng.get('/orders/1', t).status, 200)
            time.sleep(0.1)
        self.assertIn(routed, ng.logs())
        # the new worker swaps the snapshot the reload read for the next one
        v3 = self.snap.write(apis=self.apis)
        self.assertTrue(ng.wait_log('swapped: version %d -> %d' % (v2, v3)), ng.logs()[-3000:])
        self.assertTrue(ng.wait_log('jwtgate: snapshot version %d freed' % v2),
                        ng.logs()[-3000:])


if __name__ == '__main__':
    unittest.main(verbosity=2)

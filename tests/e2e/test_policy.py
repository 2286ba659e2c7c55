"""End to end: API lifecycle, subscription states, RFC 6750 errors, with and without the
verified-token cache. Real jwtgated, real nginx with the module, real upstream."""
import subprocess
import time

import jgtest
from jgtest import StackTest, main


class Policy(StackTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.stack
        cls.orders = s.api('orders')
        cls.app = s.app('shop')
        s.subscribe(cls.app, cls.orders, ['orders:read'])
        cls.tok = s.token(cls.app)
        s.until(lambda: cls.gw.get('/orders/1', cls.tok).status == 200, timeout=3)

    def ports(self):
        return (self.gw.port, self.gw.port_nocache)

    def wait_status(self, path, token, status, port=None):
        if port is None:
            return max(self.wait_status(path, token, status, p) for p in self.ports())
        return self.stack.until(lambda: self.gw.get(path, token, port=port).status == status,
                                timeout=3)

    # ---- the happy path, both gateways -------------------------------------------------------

    def test_published_api_passes_and_claims_reach_upstream(self):
        for port in self.ports():
            r = self.gw.get('/orders/42?x=1', self.tok, port=port)
            self.assertStatus(r, 200)
            body = r.json()
            self.assertEqual(body['uri'], '/orders/42?x=1')
            self.assertEqual(body['client_id'], self.app['client_id'])
            # the token goes on to the upstream unless jwtgate_strip_authorization is on
            self.assertTrue(body['authorization'].startswith('Bearer '))

    def test_cache_on_and_off(self):
        s = self.stack
        tok = s.token(self.app)   # a token no test has shown the gateway yet
        r1 = self.gw.get('/orders/1', tok)
        r2 = self.gw.get('/orders/1', tok)
        self.assertEqual((r1.status, r2.status), (200, 200))
        self.assertEqual((r1.header('X-Cache'), r2.header('X-Cache')), ('MISS', 'HIT'))
        for _ in range(2):
            r = self.gw.get('/orders/1', tok, port=self.gw.port_nocache)
            self.assertStatus(r, 200)
            self.assertEqual(r.header('X-Cache'), 'BYPASS')
        # a tampered copy of a cached token is another cache key: opened, and refused
        bad = tok[:-4] + ('AAAA' if not tok.endswith('AAAA') else 'BBBB')
        for port in self.ports():
            self.assertStatus(self.gw.get('/orders/1', bad, port=port), 401, 'invalid_token')

    # ---- lifecycle ---------------------------------------------------------------------------

    def test_lifecycle_states(self):
        s = self.stack
        api = s.api('life', state='draft')
        app = s.app('life-app')
        s.api('life-marker')   # once the gateway routes this one, it has seen the draft
        self.wait_status('/life-marker/x', None, 401)
        for port in self.ports():   # a draft is not routed at all
            self.assertStatus(self.gw.get('/life/x', self.tok, port=port), 404)
        s.lifecycle(api, 'published')
        s.subscribe(app, api, ['orders:read'])
        tok = s.token(app, resource=api['audience'])
        for port in self.ports():
            self.wait_status('/life/x', tok, 200, port)
            r = self.gw.get('/life/x', tok, port=port)
            self.assertIsNone(r.header('Deprecation'))
            self.assertIsNone(r.header('Sunset'))
        sunset = int(time.time()) + 90 * 86400
        s.lifecycle(api, 'deprecated', sunset=sunset)
        for port in self.ports():
            self.stack.until(lambda: self.gw.get('/life/x', tok, port=port).header('Sunset'),
                             timeout=3)
            r = self.gw.get('/life/x', tok, port=port)
            self.assertStatus(r, 200)
            self.assertEqual(r.header('Sunset'),
                             time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(sunset)))
            # RFC 9745: when it was deprecated, a structured date
            self.assertEqual(r.header('Deprecation'), '@%d' % api['deprecated_at'], r.headers)
            # a refusal on a deprecated API carries the headers too
            r = self.gw.get('/life/x', port=port)
            self.assertStatus(r, 401)
        s.lifecycle(api, 'retired')
        for port in self.ports():
            self.wait_status('/life/x', tok, 410, port)
            # retired: gone whoever asks, without looking at the token
            self.assertStatus(self.gw.get('/life/x', port=port), 410)

    def test_deprecated_past_sunset_is_gone(self):
        s = self.stack
        api = s.api('dusk')
        app = s.app('dusk-app')
        s.subscribe(app, api, ['orders:read'])
        tok = s.token(app, resource=api['audience'])
        s.lifecycle(api, 'deprecated', sunset=int(time.time()) + 2)
        self.wait_status('/dusk/x', tok, 200)
        self.stack.until(lambda: self.gw.get('/dusk/x', tok).status == 410, timeout=4)

    def test_unknown_path(self):
        for port in self.ports():
            self.assertStatus(self.gw.get('/nowhere', self.tok, port=port), 404)
            self.assertStatus(self.gw.get('/ordersX/1', self.tok, port=port), 404)
            self.assertStatus(self.gw.get('/', port=port), 404)

    # ---- subscriptions -----------------------------------------------------------------------

    def test_subscription_states(self):
        s = self.stack
        api = s.api('subs')
        app = s.app('subs-app')
        # pending: no token for the API at all; a token for another API does not open this one
        s.subscribe(app, self.orders, ['orders:read'])
        self.wait_status('/subs/1', None, 401)
        sub = s.subscribe(app, api, ['orders:read'], decide=None)
        self.assertEqual(sub['state'], 'pending')
        s.token(app, expect=400, resource=api['audience'])
        other = s.token(app)
        for port in self.ports():
            self.assertStatus(self.gw.get('/subs/1', other, port=port), 401, 'invalid_token')
        # rejected: the same
        s.sub_action(sub, 'reject')
        s.token(app, expect=400, resource=api['audience'])
        # approved (a new request): a token for it passes
        sub = s.subscribe(app, api, ['orders:read'])
        tok = s.token(app, resource=api['audience'])
        for port in self.ports():
            self.wait_status('/subs/1', tok, 200, port)
        # revoked: the token still carries the audience, the gateway refuses it within a second
        s.sub_action(sub, 'revoke')
        for port in self.ports():
            t = self.wait_status('/subs/1', tok, 401, port)
            self.assertLess(t, 1.0)
            r = self.gw.get('/subs/1', tok, port=port)
            self.assertStatus(r, 401, 'invalid_token')
        # other subscriptions of the same client are untouched
        self.assertStatus(self.gw.get('/orders/1', other), 200)

    # ---- RFC 6750 ----------------------------------------------------------------------------

    def test_no_token_no_error_code(self):
        for port in self.ports():
            for headers in ({}, {'Authorization': 'Basic dXNlcjpwYXNz'}):
                r = self.gw.get('/orders/1', headers=headers, port=port)
                self.assertStatus(r, 401)
                ch = r.challenge()
                self.assertEqual(ch, {'': 'Bearer', 'realm': 'e2e'}, r.header('WWW-Authenticate'))

    def test_invalid_request(self):
        for port in self.ports():
            for value in ('Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer ==a'):
                r = self.gw.get('/orders/1', headers={'Authorization': value}, port=port)
                self.assertStatus(r, 400, 'invalid_request', msg=value)
                self.assertEqual(r.challenge()['realm'], 'e2e')

    def test_invalid_token(self):
        tok = self.tok
        parts = tok.split('.')
        flipped = parts[:]
        flipped[3] = ('B' if parts[3][0] == 'A' else 'A') + parts[3][1:]
        cases = {
            'garbage': 'abc',
            'three parts': 'a.b.c',
            'tampered ciphertext': '.'.join(flipped),
            'truncated': tok[:-10],
            'unsigned JWT': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        }
        for port in self.ports():
            for name, t in cases.items():
                r = self.gw.get('/orders/1', t, port=port)
                self.assertStatus(r, 401, 'invalid_token', msg=name)
                ch = r.challenge()
                self.assertEqual(ch['realm'], 'e2e')
                self.assertTrue(ch.get('error_description'), name)
                self.assertNotIn(t[:20], r.header('WWW-Authenticate'))

    def test_token_for_another_api(self):
        s = self.stack
        s.api('aud')
        self.wait_status('/aud/1', None, 401)
        for port in self.ports():
            r = self.gw.get('/aud/1', self.tok, port=port)
            self.assertStatus(r, 401, 'invalid_token')

    def test_insufficient_scope(self):
        s = self.stack
        app = s.app('scope-app')
        # the gateway's location /write/ says jwtgate_scope orders:write
        api = s.api('write', scopes=('orders:read', 'orders:write'))
        s.subscribe(app, api, ['orders:read', 'orders:write'])
        read = s.token(app, scope='orders:read', resource=api['audience'])
        write = s.token(app, scope='orders:write', resource=api['audience'])
        self.wait_status('/write/1', write, 200)
        r = self.gw.get('/write/1', read)
        self.assertStatus(r, 403, 'insufficient_scope')
        self.assertEqual(r.challenge().get('scope'), 'orders:write')

    def test_claims_and_keys(self):
        """Tokens made with the issuer's own key: only the claim under test is wrong."""
        s = self.stack
        now = int(time.time())
        cid = self.app['client_id']
        base = ['--iss', s.issuer, '--sub', cid, '--aud', self.orders['audience'],
                '--claim', 'client_id=' + cid, '--claim', 'scope=orders:read']
        tmp = s.tmp
        foreign_sig = tmp + '/foreign-sig.jwk'
        foreign_enc = tmp + '/foreign-enc.jwk'
        for path, alg in ((foreign_sig, 'ES256'), (foreign_enc, 'ECDH-ES+A256KW')):
            out = subprocess.run([jgtest.JWTGATE_CLI, 'key', 'generate', '--alg', alg],
                                 capture_output=True, text=True, check=True).stdout
            with open(path, 'w') as f:
                f.write(out)
        good = s.mint(*base, '--exp', '5m')
        for port in self.ports():
            self.assertStatus(self.gw.get('/orders/1', good, port=port), 200)
        cases = {
            'expired': s.mint(*base, '--exp', '@%d' % (now - 10)),
            'not yet valid': s.mint(*base, '--nbf', '@%d' % (now + 3600)),
            'another issuer': s.mint('--iss', 'https://evil.example', *base[2:]),
            'typ JWT': s.mint(*base, '--typ', 'JWT'),
            'unknown signing key': s.mint(*base, sign_key=foreign_sig),
            'unknown encryption key': s.mint(*base, enc_key=foreign_enc),
            'no client_id': s.mint('--iss', s.issuer, '--sub', cid, '--aud',
                                   self.orders['audience'], '--claim', 'scope=orders:read'),
        }
        for port in self.ports():
            for name, tok in cases.items():
                r = self.gw.get('/orders/1', tok, port=port)
                self.assertStatus(r, 401, 'invalid_token', msg=name)
                self.assertNotEqual(r.header('X-Cache'), 'HIT', name)


if __name__ == '__main__':
    main()

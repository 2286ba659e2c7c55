"""End to end, issue 17: a DPoP-bound token from jwtgated (its token request proven with
a python3-jwcrypto proof, or one of `jwtgate dpop proof`) works through the gateway with
a fresh proof per request, with and without the verified-token cache; the same token
with no proof, a proof for another URL or method, a replayed proof, a proof by another
key, or as Bearer gets the right 401 each; an API whose require_binding is "dpop" (in
the snapshot) refuses bearer tokens and takes the bound one."""
import hashlib
import json
import os
import time
import uuid

from jwcrypto import jwk, jws

from jgtest import StackTest, b64, cli, main


def proof(key, htm, htu, token=None, iat=None, jti=None):
    claims = {'jti': jti or uuid.uuid4().hex, 'htm': htm, 'htu': htu,
              'iat': int(time.time()) if iat is None else iat}
    if token is not None:
        claims['ath'] = b64(hashlib.sha256(token.encode()).digest())
    s = jws.JWS(json.dumps(claims).encode())
    s.add_signature(key, None, json.dumps({'typ': 'dpop+jwt', 'alg': 'ES256',
                                           'jwk': key.export_public(as_dict=True)}))
    return s.serialize(compact=True)


class DPoPGateway(StackTest):

    workers = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.setUpWorld()
        except BaseException:
            # tearDownClass does not run when setUpClass fails: no jwtgated or nginx left
            cls.stack.close()
            raise

    @classmethod
    def setUpWorld(cls):
        s = cls.stack
        cls.orders = s.api('orders')
        cls.vault = s.api('vault')
        s.srv.admin('PATCH', '/tenants/%s/apis/%s' % (s.tenant, cls.vault['id']),
                    {'require_binding': 'dpop'}, expect=200)
        cls.app = s.app('shop')
        s.subscribe(cls.app, cls.orders, ['orders:read'])
        s.subscribe(cls.app, cls.vault, ['orders:read'])
        cls.key = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.other = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.tok = cls.dpop_token(proof(cls.key, 'POST', s.issuer + '/oauth2/token'))
        cls.bearer = s.token(cls.app)
        s.until(lambda: cls.gw.get('/orders/1', cls.bearer).status == 200, timeout=3,
                streak=4)
        # the snapshot with the vault's binding reached both workers
        s.until(lambda: cls.gw.get('/vault/1', cls.bearer).status == 401, timeout=3,
                streak=4)

    @classmethod
    def dpop_token(cls, prf):
        r = cls.stack.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                                    auth=(cls.app['client_id'], cls.app['client_secret']),
                                    headers={'DPoP': prf})
        assert r.status == 200, r
        assert r.json()['token_type'] == 'DPoP', r.json()
        return r.json()['access_token']

    def ports(self):
        return (self.gw.port, self.gw.port_nocache)

    def url(self, port, path):
        return 'http://127.0.0.1:%d%s' % (port, path)

    def send(self, port, path, token, prf=None, scheme='DPoP', method='GET'):
        h = {'Authorization': '%s %s' % (scheme, token)}
        if prf is not None:
            h['DPoP'] = prf
        return self.gw.request(method, path, headers=h, port=port)

    def assertDPoPError(self, r, error, bearer=True):
        self.assertEqual(r.status, 401, r)
        ch = [v for k, v in r.headers if k.lower() == 'www-authenticate']
        d = [c for c in ch if c.startswith('DPoP ')]
        self.assertEqual(len(d), 1, ch)
        self.assertTrue(d[0].startswith('DPoP error="%s"' % error), d)
        self.assertIn(', algs="', d[0])
        self.assertEqual(any(c.startswith('Bearer ') for c in ch), bearer, ch)

    # ---- it works -----------------------------------------------------------------------

    def test_fresh_proofs_pass_both_gateways(self):
        for port in self.ports():
            for i in range(4):
                # htu without the query (RFC 9449 section 4.2)
                path = '/orders/%d' % i
                r = self.send(port, path + '?page=%d' % i, self.tok,
                              proof(self.key, 'GET', self.url(port, path), self.tok))
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.json()['authorization'].startswith('DPoP '))

    def test_token_requested_with_a_cli_proof(self):
        s = self.stack
        d = os.path.join(s.tmp, 'cli-dpop')
        os.makedirs(d, exist_ok=True)
        kf = os.path.join(d, 'client.jwk')
        with open(kf, 'w') as f:
            f.write(cli('key', 'generate', '--alg', 'ES256'))
        tok = self.dpop_token(cli('dpop', 'proof', '--key', kf, '--htm', 'POST', '--htu',
                                  s.issuer + '/oauth2/token'))
        tf = os.path.join(d, 'token')
        with open(tf, 'w') as f:
            f.write(tok)
        url = self.url(self.gw.port, '/orders/7')
        p = cli('dpop', 'proof', '--key', kf, '--htm', 'GET', '--htu', url, '--token', tf)
        self.assertEqual(self.send(self.gw.port, '/orders/7', tok, p).status, 200)

    def test_bound_api_takes_the_bound_token(self):
        for port in self.ports():
            r = self.send(port, '/vault/1', self.tok,
                          proof(self.key, 'GET', self.url(port, '/vault/1'), self.tok))
            self.assertEqual(r.status, 200, r)

    # ---- the refusals ---------------------------------------------------------------------

    def test_no_proof(self):
        for port in self.ports():
            self.assertDPoPError(self.send(port, '/orders/1', self.tok), 'invalid_dpop_proof')

    def test_proof_for_another_url_or_method(self):
        for port in self.ports():
            for htm, path in (('GET', '/orders/2'), ('POST', '/orders/1'),
                              ('GET', '/vault/1')):
                p = proof(self.key, htm, self.url(port, path), self.tok)
                self.assertDPoPError(self.send(port, '/orders/1', self.tok, p),
                                     'invalid_dpop_proof')

    def test_replayed_proof(self):
        for port in self.ports():
            p = proof(self.key, 'GET', self.url(port, '/orders/1'), self.tok)
            self.assertEqual(self.send(port, '/orders/1', self.tok, p).status, 200)
            for _ in range(4):
                self.assertDPoPError(self.send(port, '/orders/1', self.tok, p),
                                     'invalid_dpop_proof')

    def test_proof_by_another_key(self):
        for port in self.ports():
            p = proof(self.other, 'GET', self.url(port, '/orders/1'), self.tok)
            self.assertDPoPError(self.send(port, '/orders/1', self.tok, p),
                                 'invalid_dpop_proof')

    def test_bound_token_as_bearer(self):
        for port in self.ports():
            r = self.send(port, '/orders/1', self.tok,
                          proof(self.key, 'GET', self.url(port, '/orders/1'), self.tok),
                          scheme='Bearer')
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.challenge()[''], 'Bearer')
            self.assertEqual(r.challenge()['error'], 'invalid_token')

    def test_bearer_token_on_a_dpop_api(self):
        for port in self.ports():
            r = self.gw.get('/vault/1', self.bearer, port=port)
            self.assertDPoPError(r, 'invalid_token', bearer=False)
            self.assertEqual(self.gw.get('/orders/1', self.bearer, port=port).status, 200)


if __name__ == '__main__':
    main()

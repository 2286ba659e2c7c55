"""DPoP at the token endpoint (RFC 9449, issue 17): a request with a valid proof gets a
token bound to the proof's key (token_type DPoP, cnf.jkt in the claims, shown by
introspection); proofs made by an independent implementation (python3-jwcrypto) and by
`jwtgate dpop proof` are accepted; a replayed proof, one for another URL or method, a
stale one, one whose jwk holds the private key, an HMAC one and garbage are refused with
400 invalid_dpop_proof and nothing issued; the metadata lists the proof algorithms; an
application's token_binding (dpop_optional, dpop_required, none) decides what a request
without or with a proof gets."""
import base64
import hashlib
import json
import os
import subprocess
import time
import unittest
import uuid

from jwcrypto import jwk, jws

from jgtest import Server, World, config


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def proof(key, htu, htm='POST', iat=None, jti=None, alg='ES256', typ='dpop+jwt',
          header_jwk=None):
    """A DPoP proof made by jwcrypto."""
    claims = {'jti': jti or uuid.uuid4().hex, 'htm': htm, 'htu': htu,
              'iat': int(time.time()) if iat is None else iat}
    tok = jws.JWS(json.dumps(claims).encode())
    hdr = {'typ': typ, 'alg': alg,
           'jwk': header_jwk if header_jwk is not None else key.export_public(as_dict=True)}
    tok.add_signature(key, alg=alg, protected=json.dumps(hdr))
    return tok.serialize(compact=True)


def thumbprint(key):
    pub = key.export_public(as_dict=True)
    members = {k: pub[k] for k in ('crv', 'kty', 'x', 'y') if k in pub}
    return b64(hashlib.sha256(json.dumps(members, separators=(',', ':'),
                                         sort_keys=True).encode()).digest())


class DPoP(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.w.subscribe('a', 'a', ['orders:read'])
        cls.key = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.htu = cls.srv.token_endpoint

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def request(self, dpop=None):
        h = {'DPoP': dpop} if dpop is not None else {}
        return self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                                  auth=self.w.client('a'), headers=h)

    def introspect(self, token):
        return self.srv.post_form('/oauth2/introspect', {'token': token},
                                  auth=self.w.client('a')).json()

    def assertRefused(self, r, why=None):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()['error'], 'invalid_dpop_proof', r.json())
        if why:
            self.assertIn(why, r.json()['error_description'])

    def test_a_proof_binds_the_token_to_its_key(self):
        r = self.request(proof(self.key, self.htu))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()['token_type'], 'DPoP')
        info = self.introspect(r.json()['access_token'])
        self.assertTrue(info['active'])
        self.assertEqual(info['token_type'], 'DPoP')
        self.assertEqual(info['cnf'], {'jkt': thumbprint(self.key)})

    def test_without_a_proof_the_token_is_a_bearer_token(self):
        r = self.request()
        self.assertEqual(r.json()['token_type'], 'Bearer')
        info = self.introspect(r.json()['access_token'])
        self.assertEqual(info['token_type'], 'Bearer')
        self.assertNotIn('cnf', info)

    def test_a_proof_made_by_the_cli_is_accepted(self):
        d = config.scratch('dpop-')
        try:
            kf = os.path.join(d, 'client.jwk')
            with open(kf, 'w') as f:
                f.write(subprocess.run([config.JWTGATE_CLI, 'key', 'generate', '--alg', 'ES384'],
                                       capture_output=True, text=True, check=True).stdout)
            p = subprocess.run([config.JWTGATE_CLI, 'dpop', 'proof', '--key', kf, '--htm',
                                'POST', '--htu', self.htu], capture_output=True, text=True,
                               check=True).stdout.strip()
            jkt = subprocess.run([config.JWTGATE_CLI, 'key', 'thumbprint'], input=open(kf).read(),
                                 capture_output=True, text=True, check=True).stdout.strip()
        finally:
            subprocess.run(['rm', '-rf', d])
        r = self.request(p)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.introspect(r.json()['access_token'])['cnf'], {'jkt': jkt})

    def test_a_replayed_proof_is_refused(self):
        p = proof(self.key, self.htu)
        self.assertEqual(self.request(p).status, 200)
        self.assertRefused(self.request(p), 'used before')

    def test_a_proof_for_another_url_or_method_is_refused(self):
        self.assertRefused(self.request(proof(self.key, self.htu + '/x')))
        self.assertRefused(self.request(proof(self.key, 'https://elsewhere.example/oauth2/token')))
        self.assertRefused(self.request(proof(self.key, self.htu, htm='GET')))
        self.assertRefused(self.request(proof(self.key, self.htu + '?a=1')))

    def test_a_stale_or_future_proof_is_refused(self):
        self.assertRefused(self.request(proof(self.key, self.htu, iat=int(time.time()) - 600)))
        self.assertRefused(self.request(proof(self.key, self.htu, iat=int(time.time()) + 600)))

    def test_a_private_key_in_the_header_is_refused(self):
        p = proof(self.key, self.htu, header_jwk=json.loads(self.key.export_private()))
        self.assertRefused(self.request(p))

    def test_hmac_wrong_typ_and_garbage_are_refused(self):
        sym = jwk.JWK.generate(kty='oct', size=256)
        self.assertRefused(self.request(proof(sym, self.htu, alg='HS256',
                                              header_jwk={'kty': 'oct'})))
        self.assertRefused(self.request(proof(self.key, self.htu, typ='JWT')))
        self.assertRefused(self.request('not a proof'))
        self.assertRefused(self.request('a' * 20000))

    def test_a_refused_proof_issues_nothing(self):
        issued = self.srv.request('GET', '/metrics').body.decode()
        before = [ln for ln in issued.splitlines() if ln.startswith('jwtgated_tokens_issued_total')]
        self.assertRefused(self.request(proof(self.key, self.htu, htm='GET')))
        after = [ln for ln in self.srv.request('GET', '/metrics').body.decode().splitlines()
                 if ln.startswith('jwtgated_tokens_issued_total')]
        self.assertEqual(before, after)
        text = self.srv.request('GET', '/metrics').body.decode()
        self.assertIn('reason="invalid_dpop_proof"', text)

    def test_the_metadata_lists_the_proof_algorithms(self):
        meta = self.srv.request('GET', '/.well-known/oauth-authorization-server').json()
        algs = meta['dpop_signing_alg_values_supported']
        self.assertIn('ES256', algs)
        self.assertIn('EdDSA', algs)
        self.assertFalse([a for a in algs if a.startswith('HS') or a == 'none'])


class Binding(unittest.TestCase):
    """An application's token_binding: dpop_optional (the default), dpop_required (no
    token without a proof), none (the DPoP header ignored: a bearer token)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.w.subscribe('a', 'a', ['orders:read'])
        cls.key = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.path = '/tenants/%s/apps/%s' % (cls.w.tenants['a'], cls.w.apps['a']['id'])

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def token(self, with_proof):
        h = {'DPoP': proof(self.key, self.srv.token_endpoint)} if with_proof else {}
        return self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                                  auth=self.w.client('a'), headers=h)

    def bind(self, value, expect=200):
        return self.srv.admin('PATCH', self.path, {'token_binding': value}, expect=expect)[1]

    def test_the_default_is_optional(self):
        _, app = self.srv.admin('GET', self.path, expect=200)
        self.assertEqual(app['token_binding'], 'dpop_optional')

    def test_required_refuses_a_request_without_a_proof(self):
        self.assertEqual(self.bind('dpop_required')['token_binding'], 'dpop_required')
        try:
            r = self.token(False)
            self.assertEqual((r.status, r.json()['error']), (400, 'invalid_dpop_proof'))
            r = self.token(True)
            self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'))
        finally:
            self.bind('dpop_optional')

    def test_none_ignores_the_header(self):
        self.bind('none')
        try:
            r = self.token(True)
            self.assertEqual((r.status, r.json()['token_type']), (200, 'Bearer'))
            info = self.srv.post_form('/oauth2/introspect', {'token': r.json()['access_token']},
                                      auth=self.w.client('a')).json()
            self.assertNotIn('cnf', info)
        finally:
            self.bind('dpop_optional')

    def test_bad_values_are_refused_and_new_apps_can_choose(self):
        self.bind('mtls', expect=422)
        self.bind(7, expect=422)
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.w.tenants['a'],
                                {'name': 'strict', 'token_binding': 'dpop_required'},
                                expect=201)
        self.assertEqual(app['token_binding'], 'dpop_required')
        self.srv.admin('POST', '/tenants/%s/apps' % self.w.tenants['a'],
                       {'name': 'odd', 'token_binding': 'sometimes'}, expect=422)


if __name__ == '__main__':
    unittest.main(verbosity=2)

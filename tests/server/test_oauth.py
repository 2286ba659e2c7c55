"""OAuth 2.0 conformance of jwtgated: the token endpoint (RFC 6749 4.4 and 5.2,
RFC 8707, RFC 9068), client authentication (RFC 6749 2.3, RFC 7523),
introspection (RFC 7662), revocation (RFC 7009), metadata (RFC 8414), the JWKS,
health, readiness and metrics; tokens opened by three independent
implementations."""
import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid

from jwcrypto import jwe, jwk, jws, jwt

import jgtest
from jgtest import Server, World

ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'


def open_with_jwcrypto(srv, token):
    """Decrypt with the snapshot's gateway keys, verify with the published JWKS."""
    snap = srv.snapshot()
    dec = jwk.JWKSet.from_json(json.dumps(snap['decryption_keys']))
    published = jwk.JWKSet.from_json(srv.request('GET', '/.well-known/jwks.json').body.decode())
    outer = jwe.JWE()
    outer.deserialize(token)
    outer.decrypt(dec.get_key(outer.jose_header['kid']))
    inner = jws.JWS()
    inner.deserialize(outer.payload.decode())
    inner.verify(published.get_key(inner.jose_header['kid']), alg='ES256')
    header = inner.jose_header
    return outer.jose_header, header, json.loads(inner.payload)


class OAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.w.subscribe('a', 'a', ['orders:read', 'orders:write'])
        cls.w.subscribe('a', 'b', ['orders:read'])  # cross-tenant, approved by b
        cls.aud_a = cls.w.apis['a']['audience']
        cls.aud_b = cls.w.apis['b']['audience']

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def new_app(self, tenant='a', body=None):
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.w.tenants[tenant],
                                body or {'name': 'app-' + uuid.uuid4().hex[:8]}, expect=201)
        return app

    def assert_error(self, r, status, error):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()['error'], error, r)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        self.assertTrue(r.header('Content-Type').startswith('application/json'))

    def issue(self, **params):
        r = self.srv.token(*self.w.client('a'), **params)
        self.assertEqual(r.status, 200, r)
        return r.json()

    # ---- Issuing ------------------------------------------------------------------

    def test_token_response_and_claims(self):
        r = self.srv.token(*self.w.client('a'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        self.assertEqual(r.header('Pragma'), 'no-cache')
        doc = r.json()
        self.assertEqual(doc['token_type'], 'Bearer')
        self.assertEqual(doc['expires_in'], 900)
        self.assertEqual(sorted(doc['scope'].split()), ['orders:read', 'orders:write'])
        outer, inner, claims = open_with_jwcrypto(self.srv, doc['access_token'])
        self.assertEqual(outer['alg'], 'ECDH-ES+A256KW')
        self.assertEqual(outer['enc'], 'A256GCM')
        self.assertEqual(outer['cty'], 'JWT')
        self.assertEqual(inner['typ'], 'at+jwt')
        self.assertEqual(inner['alg'], 'ES256')
        snap = self.srv.snapshot()
        active = {k['purpose']: k['kid'] for k in snap['keys'] if k['state'] == 'active'}
        self.assertEqual(outer['kid'], active['encryption'])
        self.assertEqual(inner['kid'], active['signing'])
        cid = self.w.apps['a']['client_id']
        self.assertEqual(claims['iss'], self.srv.issuer)
        self.assertEqual(claims['sub'], cid)
        self.assertEqual(claims['client_id'], cid)
        self.assertEqual(sorted(claims['aud']), sorted([self.aud_a, self.aud_b]))
        self.assertEqual(claims['tenant'], self.w.tenants['a'])
        self.assertEqual(claims['exp'] - claims['iat'], 900)
        self.assertLessEqual(abs(claims['iat'] - time.time()), 5)
        self.assertEqual(sorted(claims['scope'].split()), ['orders:read', 'orders:write'])
        self.assertGreaterEqual(len(claims['jti']), 16)
        other = open_with_jwcrypto(self.srv, self.issue()['access_token'])[2]
        self.assertNotEqual(other['jti'], claims['jti'])

    def test_client_secret_post(self):
        cid, secret = self.w.client('a')
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                                 'client_id': cid, 'client_secret': secret})
        self.assertEqual(r.status, 200, r)

    def test_scope_is_intersection(self):
        doc = self.issue(scope='orders:read orders:delete')
        self.assertEqual(doc['scope'], 'orders:read')
        claims = open_with_jwcrypto(self.srv, doc['access_token'])[2]
        self.assertEqual(claims['scope'], 'orders:read')

    def test_scope_selects_apis(self):
        claims = open_with_jwcrypto(self.srv, self.issue(scope='orders:write')['access_token'])[2]
        self.assertEqual(claims['aud'], [self.aud_a])  # b approved read only

    def test_scope_errors(self):
        self.assert_error(self.srv.token(*self.w.client('a'), scope='orders:delete'), 400,
                          'invalid_scope')
        self.assert_error(self.srv.token(*self.w.client('a'), scope='bad"scope'), 400,
                          'invalid_scope')
        self.assert_error(self.srv.token(*self.w.client('a'), scope='  '), 400, 'invalid_scope')

    def test_resource_indicators(self):
        claims = open_with_jwcrypto(self.srv,
                                    self.issue(resource=self.aud_b)['access_token'])[2]
        self.assertEqual(claims['aud'], [self.aud_b])
        self.assertEqual(claims['scope'], 'orders:read')
        claims = open_with_jwcrypto(
            self.srv, self.issue(resource=[self.aud_a, self.aud_b])['access_token'])[2]
        self.assertEqual(sorted(claims['aud']), sorted([self.aud_a, self.aud_b]))
        self.assert_error(self.srv.token(*self.w.client('a'), resource=self.aud_b,
                                         scope='orders:write'), 400, 'invalid_scope')
        for bad in ('https://api.example.com/unknown', 'not-a-uri', '/relative',
                    self.aud_a + '#frag'):
            self.assert_error(self.srv.token(*self.w.client('a'), resource=bad), 400,
                              'invalid_target')

    def test_grant_type_errors(self):
        cid, secret = self.w.client('a')
        r = self.srv.post_form('/oauth2/token', {'scope': 'orders:read'}, auth=(cid, secret))
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'password'}, auth=(cid, secret))
        self.assert_error(r, 400, 'unsupported_grant_type')
        r = self.srv.post_form('/oauth2/token', [('grant_type', 'client_credentials')] * 2,
                               auth=(cid, secret))
        self.assert_error(r, 400, 'invalid_request')

    def test_client_authentication_errors(self):
        cid, secret = self.w.client('a')
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'})
        self.assert_error(r, 401, 'invalid_client')
        self.assertIn('Basic', r.header('WWW-Authenticate'))
        app = self.new_app()  # its own throttle slot
        r = self.srv.token(app['client_id'], app['client_secret'] + 'x')
        self.assert_error(r, 401, 'invalid_client')
        r = self.srv.token('jgc_unknown', secret)
        self.assert_error(r, 401, 'invalid_client')
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                                 'client_id': cid, 'client_secret': secret},
                               auth=(cid, secret))
        self.assert_error(r, 400, 'invalid_request')  # two methods
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                                 'client_id': 'other'}, auth=(cid, secret))
        self.assert_error(r, 401, 'invalid_client')
        r = self.srv.request('POST', '/oauth2/token', 'grant_type=client_credentials',
                             {'Content-Type': 'application/x-www-form-urlencoded',
                              'Authorization': 'Basic !!!'})
        self.assert_error(r, 401, 'invalid_client')

    def test_request_shape_errors(self):
        cid, secret = self.w.client('a')
        r = self.srv.request('GET', '/oauth2/token')
        self.assert_error(r, 405, 'invalid_request')
        self.assertEqual(r.header('Allow'), 'POST')
        r = self.srv.request('POST', '/oauth2/token', '{"grant_type":"client_credentials"}',
                             {'Content-Type': 'application/json',
                              'Authorization': jgtest.basic(cid, secret)})
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.request('POST', '/oauth2/token?client_secret=x',
                             'grant_type=client_credentials',
                             {'Content-Type': 'application/x-www-form-urlencoded',
                              'Authorization': jgtest.basic(cid, secret)})
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.request('POST', '/oauth2/token', 'grant_type=%zz',
                             {'Content-Type': 'application/x-www-form-urlencoded',
                              'Authorization': jgtest.basic(cid, secret)})
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.request('POST', '/oauth2/token', 'x=' + 'a' * 70000,
                             {'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertEqual(r.status, 413)
        self.assertEqual(r.header('Content-Type'), 'application/problem+json')

    def test_failed_authentication_is_slowed(self):
        app = self.new_app()
        self.srv.admin('POST', '/tenants/%s/subscriptions' % self.w.tenants['a'], {
            'app_id': app['id'], 'api_id': self.w.apis['a']['id'], 'scopes': ['orders:read']},
            expect=201)
        # Failures 3 and 4 open windows of 0.25 s and 0.5 s (refused with 429
        # when they land inside one); after the fifth the window is 1 s.
        failures = 0
        while failures < 5:
            r = self.srv.token(app['client_id'], 'wrong')
            self.assertIn(r.status, (401, 429), r)
            failures += r.status == 401
            if r.status == 429:
                time.sleep(0.6)
        r = self.srv.token(app['client_id'], app['client_secret'])
        self.assert_error(r, 429, 'invalid_client')  # even the right secret waits
        self.assertGreaterEqual(int(r.header('Retry-After')), 1)
        time.sleep(1.2)
        r = self.srv.token(app['client_id'], app['client_secret'])
        self.assertIn(r.status, (200, 400), r)  # checked again (pending subscription: 400)
        self.assertNotEqual(r.json()['error'] if r.status != 200 else '', 'invalid_client')

    def test_suspended_client(self):
        app = self.new_app()
        path = '/tenants/%s/apps/%s' % (self.w.tenants['a'], app['id'])
        self.srv.admin('PATCH', path, {'suspended': True}, expect=200)
        self.assertIn(app['client_id'], self.srv.snapshot()['suspended_clients'])
        self.assert_error(self.srv.token(app['client_id'], app['client_secret']), 400,
                          'unauthorized_client')
        self.srv.admin('PATCH', path, {'suspended': False}, expect=200)
        self.assertNotIn(app['client_id'], self.srv.snapshot()['suspended_clients'])

    def test_no_subscription(self):
        app = self.new_app()
        self.assert_error(self.srv.token(app['client_id'], app['client_secret']), 400,
                          'invalid_scope')

    def test_secret_rotation(self):
        app = self.new_app()
        tid = self.w.tenants['a']
        self.srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': app['id'], 'api_id': self.w.apis['a']['id'], 'scopes': ['orders:read']},
            expect=201)
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (
            tid, self.srv.admin('GET', '/tenants/%s/subscriptions' % tid)[1]['items'][-1]['id']),
            expect=200)
        _, second = self.srv.admin('POST', '/tenants/%s/apps/%s/secrets' % (tid, app['id']), {},
                                   expect=201)
        self.assertTrue(second['client_secret'].startswith('jgs_'))
        self.assertNotIn('hash', second)
        self.assertEqual(self.srv.token(app['client_id'], app['client_secret']).status, 200)
        self.assertEqual(self.srv.token(app['client_id'], second['client_secret']).status, 200)
        self.srv.admin('DELETE', '/tenants/%s/apps/%s/secrets/%s' % (tid, app['id'],
                                                                     app['secret_id']),
                       expect=204)
        self.assert_error(self.srv.token(app['client_id'], app['client_secret']), 401,
                          'invalid_client')
        self.assertEqual(self.srv.token(app['client_id'], second['client_secret']).status, 200)

    def test_deprecated_api_until_sunset(self):
        tid = self.w.tenants['b']
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % tid, {
            'name': 'sunny', 'version': 'v1', 'base_path': '/sunny', 'upstream': 'http://x.test',
            'audience': 'https://sunny.test', 'scopes': ['s'], 'policy': 'automatic'}, expect=201)
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (tid, api['id']),
                       {'state': 'published'}, expect=200)
        app = self.new_app('b')
        self.srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['s']}, expect=201)
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (tid, api['id']),
                       {'state': 'deprecated', 'sunset': int(time.time()) + 3}, expect=200)
        self.assertEqual(self.srv.token(app['client_id'], app['client_secret']).status, 200)
        time.sleep(4)
        self.assert_error(self.srv.token(app['client_id'], app['client_secret']), 400,
                          'invalid_scope')

    # ---- private_key_jwt (RFC 7523) --------------------------------------------------

    def pkjwt_app(self):
        key = jwk.JWK.generate(kty='EC', crv='P-256', kid='client-key-1')
        pub = json.loads(key.export_public())
        app = self.new_app(body={'name': 'pk-' + uuid.uuid4().hex[:8],
                                 'auth_method': 'private_key_jwt', 'jwks': {'keys': [pub]}})
        self.assertNotIn('client_secret', app)
        tid = self.w.tenants['a']
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': app['id'], 'api_id': self.w.apis['a']['id'], 'scopes': ['orders:read']},
            expect=201)
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tid, sub['id']),
                       expect=200)
        return app, key

    def assertion(self, key, client_id, **over):
        now = int(time.time())
        claims = {'iss': client_id, 'sub': client_id, 'aud': self.srv.token_endpoint,
                  'jti': uuid.uuid4().hex, 'exp': now + 60, 'iat': now}
        claims.update(over)
        claims = {k: v for k, v in claims.items() if v is not None}
        t = jwt.JWT(header={'alg': 'ES256', 'kid': key.kid}, claims=claims)
        t.make_signed_token(key)
        return t.serialize()

    def pk_token(self, assertion, client_id=None):
        fields = {'grant_type': 'client_credentials', 'client_assertion_type': ASSERTION_TYPE,
                  'client_assertion': assertion}
        if client_id:
            fields['client_id'] = client_id
        return self.srv.post_form('/oauth2/token', fields)

    def test_private_key_jwt(self):
        app, key = self.pkjwt_app()
        cid = app['client_id']
        a = self.assertion(key, cid)
        r = self.pk_token(a, cid)
        self.assertEqual(r.status, 200, r)
        claims = open_with_jwcrypto(self.srv, r.json()['access_token'])[2]
        self.assertEqual(claims['client_id'], cid)
        # Body-based methods are answered 400 invalid_client, without a
        # challenge (RFC 6749 5.2: the 401 is for the Authorization header).
        r = self.pk_token(a)
        self.assert_error(r, 400, 'invalid_client')  # replayed jti
        self.assertIsNone(r.header('WWW-Authenticate'))
        bad_cases = (
            lambda k, c: self.assertion(k, c, aud=self.srv.issuer + '/elsewhere'),
            # Long-lived without iat: the ten-minute cap cannot be applied.
            lambda k, c: self.assertion(k, c, exp=int(time.time()) + 3600, iat=None),
            # iat eleven minutes ago: past its ten minutes whatever exp says.
            lambda k, c: self.assertion(k, c, exp=int(time.time()) + 3600,
                                        iat=int(time.time()) - 660),
            lambda k, c: self.assertion(k, c, exp=int(time.time()) - 120),  # expired
            # iat two minutes in our future: beyond the leeway.
            lambda k, c: self.assertion(k, c, iat=int(time.time()) + 120,
                                        exp=int(time.time()) + 3600),
            lambda k, c: self.assertion(k, c, jti=None),
            lambda k, c: self.assertion(k, c, exp=None),
            lambda k, c: self.assertion(k, c, iss='someone-else'),
            lambda k, c: self.assertion(
                jwk.JWK.generate(kty='EC', crv='P-256', kid='client-key-1'), c))
        for make in bad_cases:  # a fresh client each: failures are throttled per client
            app2, key2 = self.pkjwt_app()
            self.assert_error(self.pk_token(make(key2, app2['client_id'])), 400,
                              'invalid_client')
        # The audience may be the issuer identifier (RFC 7523 3, panva's
        # clients), the token endpoint, or the endpoint called; an hour-long
        # assertion with a fresh iat is honoured (Authlib's default).
        for aud in (self.srv.issuer, self.srv.token_endpoint, [self.srv.issuer, 'x:y']):
            r = self.pk_token(self.assertion(key, cid, aud=aud))
            self.assertEqual(r.status, 200, (aud, r))
        r = self.pk_token(self.assertion(key, cid, exp=int(time.time()) + 3600))
        self.assertEqual(r.status, 200, r)
        # A client clock 20 s ahead (within the 30 s leeway) signing an
        # hour-long assertion: its window ends 10 min 20 s from our now.
        ahead = int(time.time()) + 20
        r = self.pk_token(self.assertion(key, cid, iat=ahead, exp=ahead + 3600))
        self.assertEqual(r.status, 200, r)
        r = self.srv.post_form('/oauth2/introspect', {
            'token': 'x', 'client_assertion_type': ASSERTION_TYPE,
            'client_assertion': self.assertion(key, cid, aud=self.srv.issuer +
                                               '/oauth2/introspect')})
        self.assertEqual(r.status, 200, r)
        r = self.srv.post_form('/oauth2/token', {
            'grant_type': 'client_credentials', 'client_assertion_type': 'urn:other',
            'client_assertion': self.assertion(key, cid)})
        self.assert_error(r, 400, 'invalid_client')
        self.assert_error(self.pk_token('not.a.jwt'), 400, 'invalid_client')
        # A private_key_jwt client cannot use a secret, and the reverse.
        r = self.srv.token(cid, 'jgs_guess')
        self.assert_error(r, 401, 'invalid_client')  # Basic: 401 with its challenge
        self.assertIn('Basic', r.header('WWW-Authenticate'))
        self.assert_error(self.pk_token(self.assertion(key, self.w.apps['a']['client_id'])),
                          400, 'invalid_client')

    def test_registered_keys_are_checked(self):
        key = jwk.JWK.generate(kty='EC', crv='P-256')
        tid = self.w.tenants['a']
        for jwks in ({'keys': [json.loads(key.export_private())]},  # private part
                     {'keys': [{'kty': 'oct', 'k': 'AAAA'}]},
                     {'keys': []}, 'text', {'kty': 'EC', 'crv': 'P-256', 'x': 'AA', 'y': 'AA'}):
            st, body = self.srv.admin('POST', '/tenants/%s/apps' % tid, {
                'name': 'bad-' + uuid.uuid4().hex[:6], 'auth_method': 'private_key_jwt',
                'jwks': jwks})
            self.assertEqual(st, 422, (jwks, body))
        # A key refused by policy (1024-bit RSA) next to a good one: named, not dropped.
        weak = json.loads(jwk.JWK.generate(kty='RSA', size=1024, kid='old-1024').export_public())
        good = json.loads(key.export_public())
        st, body = self.srv.admin('POST', '/tenants/%s/apps' % tid, {
            'name': 'weak-' + uuid.uuid4().hex[:6], 'auth_method': 'private_key_jwt',
            'jwks': {'keys': [good, weak]}})
        self.assertEqual(st, 422, body)
        self.assertIn('key 1 (kid \\"old-1024\\"): key is too weak', json.dumps(body))

    # ---- Introspection and revocation ----------------------------------------------

    def introspect(self, token, client):
        return self.srv.post_form('/oauth2/introspect', {'token': token}, auth=client)

    def test_introspection(self):
        doc = self.issue()
        r = self.introspect(doc['access_token'], self.w.client('a'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        info = r.json()
        self.assertIs(info['active'], True)
        self.assertEqual(info['client_id'], self.w.apps['a']['client_id'])
        self.assertEqual(info['token_type'], 'Bearer')
        self.assertEqual(info['iss'], self.srv.issuer)
        for k in ('exp', 'iat', 'sub', 'aud', 'jti', 'scope'):
            self.assertIn(k, info)
        # b's client owns an audience of the token: it may see it.
        self.assertIs(self.introspect(doc['access_token'], self.w.client('b')).json()['active'],
                      True)
        # A token only for a's API is none of b's business.
        only_a = self.issue(resource=self.aud_a)['access_token']
        self.assertEqual(self.introspect(only_a, self.w.client('b')).json(), {'active': False})
        self.assertEqual(self.introspect('garbage', self.w.client('a')).json(),
                         {'active': False})
        r = self.srv.post_form('/oauth2/introspect', {}, auth=self.w.client('a'))
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.post_form('/oauth2/introspect', {'token': doc['access_token']})
        self.assert_error(r, 401, 'invalid_client')
        self.assert_error(self.srv.request('GET', '/oauth2/introspect'), 405, 'invalid_request')

    def test_revocation(self):
        doc = self.issue()
        claims = open_with_jwcrypto(self.srv, doc['access_token'])[2]
        r = self.srv.post_form('/oauth2/revoke', {'token': doc['access_token'],
                                                  'token_type_hint': 'access_token'},
                               auth=self.w.client('a'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.introspect(doc['access_token'], self.w.client('a')).json(),
                         {'active': False})
        revoked = {e['jti']: e['exp'] for e in self.srv.snapshot()['revoked_jti']}
        self.assertEqual(revoked.get(claims['jti']), claims['exp'])
        # Again, and an invalid token: both 200 (RFC 7009 2.2).
        self.assertEqual(self.srv.post_form('/oauth2/revoke', {'token': doc['access_token']},
                                            auth=self.w.client('a')).status, 200)
        self.assertEqual(self.srv.post_form('/oauth2/revoke', {'token': 'garbage'},
                                            auth=self.w.client('a')).status, 200)
        # Someone else's token is refused.
        other = self.issue()['access_token']
        r = self.srv.post_form('/oauth2/revoke', {'token': other}, auth=self.w.client('b'))
        self.assert_error(r, 400, 'unauthorized_client')
        self.assertIs(self.introspect(other, self.w.client('a')).json()['active'], True)
        r = self.srv.post_form('/oauth2/revoke', {}, auth=self.w.client('a'))
        self.assert_error(r, 400, 'invalid_request')
        r = self.srv.post_form('/oauth2/revoke', {'token': other})
        self.assert_error(r, 401, 'invalid_client')
        # Audited, in the client's tenant.
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.w.tenants['a'])
        self.assertIn(claims['jti'], [e['target'] for e in audit['items']
                                      if e['action'] == 'token.revoke'])

    # ---- Discovery, health, metrics ----------------------------------------------------

    def test_metadata(self):
        r = self.srv.request('GET', '/.well-known/oauth-authorization-server')
        self.assertEqual(r.status, 200)
        m = r.json()
        self.assertEqual(m['issuer'], self.srv.issuer)
        self.assertEqual(m['token_endpoint'], self.srv.token_endpoint)
        self.assertEqual(m['jwks_uri'], self.srv.issuer + '/.well-known/jwks.json')
        self.assertEqual(m['introspection_endpoint'], self.srv.issuer + '/oauth2/introspect')
        self.assertEqual(m['revocation_endpoint'], self.srv.issuer + '/oauth2/revoke')
        self.assertEqual(m['grant_types_supported'], ['client_credentials'])
        self.assertEqual(sorted(m['token_endpoint_auth_methods_supported']),
                         ['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
        # RFC 8705 needs a --trusted-proxy to forward certificates (test_mtls.py)
        self.assertNotIn('tls_client_certificate_bound_access_tokens', m)
        self.assertIn('ES256', m['token_endpoint_auth_signing_alg_values_supported'])
        self.assertIn('orders:read', m['scopes_supported'])
        self.assertIn('response_types_supported', m)
        self.assertEqual(self.srv.request('POST', '/.well-known/oauth-authorization-server')
                         .status, 405)

    def test_jwks(self):
        r = self.srv.request('GET', '/.well-known/jwks.json')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('Content-Type'), 'application/jwk-set+json')
        keys = r.json()['keys']
        self.assertGreaterEqual(len(keys), 2)  # active and next
        for k in keys:
            self.assertNotIn('d', k)
            self.assertEqual((k['alg'], k['use'], k['kty']), ('ES256', 'sig', 'EC'))
        states = {k['kid']: k['state'] for k in self.srv.snapshot()['keys']}
        self.assertTrue(all(states[k['kid']] in ('next', 'active', 'retiring') for k in keys))

    def test_health_ready_metrics(self):
        self.assertEqual(self.srv.request('GET', '/healthz').status, 200)
        self.assertEqual(self.srv.request('GET', '/readyz').status, 200)
        self.issue()
        self.srv.token('jgc_nobody', 'x')
        m = self.srv.request('GET', '/metrics')
        self.assertEqual(m.status, 200)
        self.assertTrue(m.header('Content-Type').startswith('text/plain; version=0.0.4'))
        text = m.body.decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith('#'):
                name, value = line.rsplit(' ', 1)
                values[name] = float(value)
        self.assertGreater(values['jwtgated_tokens_issued_total'], 0)
        self.assertGreater(values['jwtgated_token_refusals_total{reason="invalid_client"}'], 0)
        self.assertEqual(values['jwtgated_token_request_duration_seconds_bucket{le="+Inf"}'],
                         values['jwtgated_token_request_duration_seconds_count'])
        self.assertGreater(values['jwtgated_token_request_duration_seconds_count'], 0)
        self.assertEqual(values['jwtgated_snapshot_ok'], 1)
        self.assertEqual(self.srv.request('GET', '/nope').status, 404)
        self.assertEqual(self.srv.request('POST', '/healthz').status, 405)

    # ---- Three independent implementations open the token ----------------------------

    def token_files(self, d, token):
        snap = self.srv.snapshot()
        paths = {}
        for name, content in (('dec.json', json.dumps(snap['decryption_keys'])),
                              ('jwks.json', self.srv.request('GET', '/.well-known/jwks.json')
                               .body.decode()),
                              ('token', token)):
            paths[name] = os.path.join(d, name)
            with open(paths[name], 'w') as f:
                f.write(content)
        return paths

    def test_opens_with_jwtgate_cli(self):
        token = self.issue(resource=self.aud_a)['access_token']
        with tempfile.TemporaryDirectory() as d:
            p = self.token_files(d, token)
            with open(p['token']) as stdin:
                out = subprocess.run([jgtest.JWTGATE_CLI, 'jwt', 'open', '--decrypt-key',
                                      p['dec.json'], '--verify-key', p['jwks.json'], '--iss',
                                      self.srv.issuer, '--aud', self.aud_a], stdin=stdin,
                                     capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)['client_id'], self.w.apps['a']['client_id'])
            with open(p['token']) as stdin:  # the wrong audience is refused
                out = subprocess.run([jgtest.JWTGATE_CLI, 'jwt', 'open', '--decrypt-key',
                                      p['dec.json'], '--verify-key', p['jwks.json'], '--iss',
                                      self.srv.issuer, '--aud', self.aud_b], stdin=stdin,
                                     capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 1)

    def test_opens_with_npm_jose(self):
        script = os.path.join(jgtest.REPO, 'tests', 'interop', 'open_access_token.mjs')
        modules = os.path.join(jgtest.REPO, 'tests', 'interop', 'node_modules', 'jose')
        if not os.path.isdir(modules):
            self.skipTest('npm jose not installed (scripts/test runs npm ci in tests/interop)')
        token = self.issue()['access_token']
        snap = self.srv.snapshot()
        with tempfile.TemporaryDirectory() as d:
            req = os.path.join(d, 'req.json')
            with open(req, 'w') as f:
                json.dump({'token': token, 'decryption_jwks': snap['decryption_keys'],
                           'jwks': self.srv.request('GET', '/.well-known/jwks.json').json(),
                           'issuer': self.srv.issuer, 'audience': self.aud_b}, f)
            out = subprocess.run(['node', script, req], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        res = json.loads(out.stdout)
        self.assertEqual(res['header']['typ'], 'at+jwt')
        self.assertEqual(res['claims']['client_id'], self.w.apps['a']['client_id'])

    def test_no_secret_in_log(self):
        # Stands alone: it makes every secret pass through the service itself (in
        # headers, form bodies and the admin API) before it reads the log.
        cid, secret = self.w.client('a')
        token = self.issue()['access_token']
        self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                             'client_id': cid, 'client_secret': secret})
        self.srv.post_form('/oauth2/introspect', {'token': token}, auth=(cid, secret))
        self.srv.request('GET', '/admin/v1/me', headers={'Authorization': 'Bearer ' + token})
        self.srv.admin('GET', '/me', expect=200)
        self.srv.admin('GET', '/me', token=self.w.tokens['a-owner'], expect=200)
        # each line is logged once the answer is on its way: wait for a last one
        marker = '/nope-' + uuid.uuid4().hex
        self.srv.request('GET', marker)
        jgtest.wait_until(lambda: marker in self.srv.read_log(), 10, what='the access log')
        log = self.srv.read_log()
        self.assertIn('/oauth2/token', log)
        for s in (secret, token[:40], self.srv.admin_token, self.w.tokens['a-owner']):
            self.assertNotIn(s, log)


class ServiceTest(unittest.TestCase):
    """Readiness, connection limits and timeouts, and tokens issued while the
    state changes under them."""

    def test_refuses_to_start_without_a_snapshot_directory(self):
        # A snapshot directory that does not exist is a configuration error:
        # refused at start, with the path named (a directory that turns
        # unwritable later is a readiness matter: test_faults.py).
        with self.assertRaises(RuntimeError) as cm:
            Server('--snapshot', '/nonexistent-dir/snapshot.json')
        self.assertIn('/nonexistent-dir/snapshot.json', str(cm.exception))

    def test_idle_connections_time_out(self):
        import socket
        srv = Server('--timeout', '1')
        try:
            s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
            s.sendall(b'POST /oauth2/token HTTP/1.1\r\nHost: x\r\n')  # and then nothing
            t0 = time.time()
            data = s.recv(4096)
            self.assertEqual(data, b'')  # closed by the server
            self.assertLess(time.time() - t0, 5)
            s.close()
            s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n' + b'X-Pad: ' + b'a' * 70000 +
                      b'\r\n\r\n')
            resp = b''
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    resp += chunk
            except ConnectionResetError:
                pass
            self.assertFalse(resp.startswith(b'HTTP/1.1 200'), resp[:100])  # headers bounded
            s.close()
            self.assertEqual(srv.request('GET', '/healthz').status, 200)
        finally:
            srv.close()

    def test_tokens_while_state_changes(self):
        import threading
        srv = Server()
        try:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            results, errors = [], []

            def client():
                for _ in range(25):
                    r = srv.token(*w.client('a'))
                    (results if r.status == 200 else errors).append(r)

            def admin():
                for i in range(5):
                    srv.admin('POST', '/keys/rotate', {}, expect=200)
                    srv.admin('POST', '/tenants/%s/apis' % w.tenants['b'], {
                        'name': 'c%d' % i, 'version': 'v1', 'base_path': '/c/%d' % i,
                        'upstream': 'https://c.test', 'audience': 'https://c.test/%d' % i},
                        expect=201)
            threads = [threading.Thread(target=client) for _ in range(4)]
            threads.append(threading.Thread(target=admin))
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            self.assertEqual(errors, [])
            self.assertEqual(len(results), 100)
            # Every token opens with the keys published now (retiring keys stay).
            for r in results[::10]:
                claims = open_with_jwcrypto(srv, r.json()['access_token'])[2]
                self.assertEqual(claims['client_id'], w.apps['a']['client_id'])
        finally:
            srv.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)

"""What trials of the stack found at the OAuth and admin endpoints (issue 12,
items 1, 2 and 6-10), one test per finding; each fails against a jwtgated
without its fix. Independent client libraries are in tests/clients."""
import json
import time
import unittest
import uuid

import jgtest
from jgtest import Server, World

ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'


def claims_of(srv, token):
    """The inner claims of an access token, opened with the CLI and the
    snapshot's keys (as a gateway would)."""
    import subprocess
    import tempfile
    snap = srv.snapshot()
    with tempfile.NamedTemporaryFile('w', suffix='.json') as dk, \
            tempfile.NamedTemporaryFile('w', suffix='.json') as vk:
        json.dump(snap['decryption_keys'], dk)
        dk.flush()
        json.dump(snap['verification_keys'], vk)
        vk.flush()
        out = subprocess.run([jgtest.JWTGATE_CLI, 'jwt', 'open', '--decrypt-key', dk.name,
                              '--verify-key', vk.name, '--iss', srv.issuer],
                             input=token, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


class Scopes(unittest.TestCase):
    """Item 1: a scope removed from an API is gone from every grant."""

    def test_removed_scope_is_not_grantable(self):
        srv = Server()
        try:
            w = World(srv)
            sub = w.subscribe('a', 'a', ['orders:read', 'orders:write'])
            tid, api = w.tenants['a'], w.apis['a']['id']
            pending_app = srv.admin('POST', '/tenants/%s/apps' % tid, {'name': 'later'},
                                    expect=201)[1]
            pending = srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
                'app_id': pending_app['id'], 'api_id': api,
                'scopes': ['orders:read', 'orders:write']}, expect=201)[1]
            r = srv.token(*w.client('a'))
            self.assertEqual(r.json()['scope'], 'orders:read orders:write')
            st, _ = srv.admin('PATCH', '/tenants/%s/apis/%s' % (tid, api),
                              {'scopes': ['orders:read']})
            self.assertEqual(st, 200)
            # Issuance: never the removed scope, asked for or not.
            r = srv.token(*w.client('a'))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()['scope'], 'orders:read')
            self.assertEqual(claims_of(srv, r.json()['access_token'])['scope'], 'orders:read')
            r = srv.token(*w.client('a'), scope='orders:write')
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json()['error'], 'invalid_scope')
            # The snapshot: the subscription carries only what the API defines.
            snap = [s for s in srv.snapshot()['subscriptions'] if s['id'] == sub['id']]
            self.assertEqual(snap[0]['scopes'], ['orders:read'])
            # The stored subscriptions were trimmed (approved and pending), audited
            # in the change that removed the scope.
            for s in (sub, pending):
                _, row = srv.admin('GET', '/tenants/%s/subscriptions/%s' % (tid, s['id']))
                self.assertEqual(row['scopes'], ['orders:read'])
            _, audit = srv.admin('GET', '/tenants/%s/audit?limit=1000' % tid)
            trims = [e for e in audit['items'] if e['action'] == 'subscription.scopes_trimmed']
            self.assertEqual(sorted(e['target'] for e in trims),
                             sorted([sub['id'], pending['id']]))
            self.assertEqual(trims[0]['before']['scopes'], ['orders:read', 'orders:write'])
            self.assertEqual(trims[0]['after']['scopes'], ['orders:read'])
            # Putting the scope back does not give it back: that takes a new
            # request and its approval.
            srv.admin('PATCH', '/tenants/%s/apis/%s' % (tid, api),
                      {'scopes': ['orders:read', 'orders:write']}, expect=200)
            self.assertEqual(srv.token(*w.client('a')).json()['scope'], 'orders:read')
        finally:
            srv.close()


class Throttle(unittest.TestCase):
    """Item 2: a third party cannot lock a client out."""

    def setUp(self):
        self.srv = Server('--trusted-proxy', '127.0.0.1/32')
        self.w = World(self.srv)
        self.w.subscribe('a', 'a', ['orders:read'])

    def tearDown(self):
        self.srv.close()

    def test_guesses_from_elsewhere_do_not_block_the_client(self):
        cid, secret = self.w.client('a')
        # Behind the proxy everyone arrives from 127.0.0.1; the proxy says who.
        attacker = {'X-Forwarded-For': '203.0.113.66'}
        victim = {'X-Forwarded-For': '198.51.100.7'}
        for _ in range(8):
            r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                                   auth=(cid, 'jgs_wrong'), headers=attacker)
            self.assertIn(r.status, (401, 429))
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                               auth=(cid, 'jgs_wrong'), headers=attacker)
        self.assertEqual(r.status, 429, r)  # the guesser is slowed
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                               auth=(cid, secret), headers=victim)
        self.assertEqual(r.status, 200, r)  # the client is not
        # The header is the proxy's last hop: what a client puts before it
        # (spoofing) does not move the key.
        r = self.srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                               auth=(cid, 'jgs_wrong'),
                               headers={'X-Forwarded-For': '198.51.100.7, 203.0.113.66'})
        self.assertEqual(r.status, 429, r)
        self.assertIn('203.0.113.66 POST /oauth2/token', self.srv.read_log())

    def test_untrusted_peer_cannot_pick_its_address(self):
        srv = Server()  # no trusted proxy: X-Forwarded-For is ignored
        try:
            w = World(srv)
            cid = w.client('a')[0]
            for i in range(8):
                srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                              auth=(cid, 'jgs_wrong'),
                              headers={'X-Forwarded-For': '10.0.0.%d' % i})
            r = srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                              auth=(cid, 'jgs_wrong'), headers={'X-Forwarded-For': '10.9.9.9'})
            self.assertEqual(r.status, 429, r)
        finally:
            srv.close()

    def test_forwarded_header(self):
        srv = Server('--trusted-proxy', '127.0.0.0/8', '--real-ip-header', 'Forwarded')
        try:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            cid, secret = w.client('a')
            for _ in range(9):
                srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                              auth=(cid, 'jgs_wrong'),
                              headers={'Forwarded': 'for="[2001:db8::66]:4711";proto=https'})
            r = srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                              auth=(cid, secret), headers={'Forwarded': 'for=192.0.2.60'})
            self.assertEqual(r.status, 200, r)
            self.assertIn('2001:db8::66 POST', srv.read_log())
        finally:
            srv.close()


class TokenRequests(unittest.TestCase):
    """Items 6 (scope syntax, a bare grant_type) and 8 (empty parameters)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.w.subscribe('a', 'a', ['orders:read', 'orders:write'])

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def form(self, body, auth=True, headers=None):
        h = {'Content-Type': 'application/x-www-form-urlencoded'}
        if auth:
            h['Authorization'] = jgtest.basic(*self.w.client('a'))
        h.update(headers or {})
        return self.srv.request('POST', '/oauth2/token', body, h)

    def test_scope_is_single_space_delimited(self):
        for scope in ('orders:read%20%20orders:write', '%20orders:read', 'orders:read%20',
                      'orders:read%09orders:write'):
            r = self.form('grant_type=client_credentials&scope=' + scope)
            self.assertEqual(r.status, 400, (scope, r))
            self.assertEqual(r.json()['error'], 'invalid_scope')
        r = self.form('grant_type=client_credentials&scope=orders:read%20orders:write')
        self.assertEqual(r.status, 200, r)

    def test_bare_grant_type_is_missing(self):
        for body in ('grant_type', 'grant_type=', 'grant_type&scope=orders:read'):
            r = self.form(body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json()['error'], 'invalid_request', (body, r))

    def test_empty_parameters_are_omitted(self):
        cid, secret = self.w.client('a')
        for body in ('grant_type=client_credentials&scope=',
                     'grant_type=client_credentials&resource=',
                     'grant_type=client_credentials&client_id=',
                     'grant_type=client_credentials&client_secret=',
                     'grant_type=client_credentials&scope=&resource=&client_id=&client_secret='):
            r = self.form(body)
            self.assertEqual(r.status, 200, (body, r))
            self.assertEqual(r.json()['scope'], 'orders:read orders:write', body)
        # client_secret_post with an empty client_assertion beside it.
        r = self.form('grant_type=client_credentials&client_id=%s&client_secret=%s'
                      '&client_assertion=&client_assertion_type=' % (cid, secret), auth=False)
        self.assertEqual(r.status, 200, r)

    def test_basic_and_body_client_authentication_answers(self):
        cid, secret = self.w.client('a')
        app = self.srv.admin('POST', '/tenants/%s/apps' % self.w.tenants['a'],
                             {'name': 'other-' + uuid.uuid4().hex[:6]}, expect=201)[1]
        # Item 10: the Basic challenge only for the Authorization header.
        r = self.form('grant_type=client_credentials&client_id=%s&client_secret=wrong'
                      % app['client_id'], auth=False)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()['error'], 'invalid_client')
        self.assertIsNone(r.header('WWW-Authenticate'))
        r = self.form('grant_type=client_credentials', auth=False,
                      headers={'Authorization': jgtest.basic(app['client_id'], 'wrong')})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header('WWW-Authenticate'), 'Basic realm="jwtgated"')
        r = self.form('grant_type=client_credentials', auth=False)
        self.assertEqual(r.status, 401, r)  # no credentials at all: tell it how
        self.assertIn('Basic', r.header('WWW-Authenticate'))


class Assertions(unittest.TestCase):
    """Item 7: private_key_jwt with the issuer identifier as audience."""

    def test_issuer_audience_and_lifetime(self):
        from jwcrypto import jwk, jwt
        srv = Server()
        try:
            w = World(srv)
            key = jwk.JWK.generate(kty='EC', crv='P-256', kid='k1')
            tid = w.tenants['a']
            app = srv.admin('POST', '/tenants/%s/apps' % tid, {
                'name': 'pk', 'auth_method': 'private_key_jwt',
                'jwks': {'keys': [json.loads(key.export_public())]}}, expect=201)[1]
            sub = srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
                'app_id': app['id'], 'api_id': w.apis['a']['id'], 'scopes': ['orders:read']},
                expect=201)[1]
            srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tid, sub['id']),
                      expect=200)
            cid = app['client_id']

            def token(**claims):
                now = int(time.time())
                c = {'iss': cid, 'sub': cid, 'aud': srv.issuer, 'jti': uuid.uuid4().hex,
                     'iat': now, 'exp': now + 3600}
                c.update(claims)
                t = jwt.JWT(header={'alg': 'ES256', 'kid': 'k1'},
                            claims={k: v for k, v in c.items() if v is not None})
                t.make_signed_token(key)
                return srv.post_form('/oauth2/token', {
                    'grant_type': 'client_credentials', 'client_assertion_type': ASSERTION_TYPE,
                    'client_assertion': t.serialize()})
            self.assertEqual(token().status, 200)  # issuer as aud, one hour, fresh iat
            self.assertEqual(token(aud=srv.token_endpoint).status, 200)
            self.assertEqual(token(aud='https://elsewhere.example').status, 400)
            self.assertEqual(token(aud=srv.issuer + '/oauth2/revoke').status, 400)
        finally:
            srv.close()


class Metadata(unittest.TestCase):
    """Items 9 and 10: RFC 8414 without empty arrays, also where OpenID clients look."""

    def test_fresh_service(self):
        srv = Server()
        try:
            for path in ('/.well-known/oauth-authorization-server',
                         '/.well-known/openid-configuration'):
                r = srv.request('GET', path)
                self.assertEqual(r.status, 200, path)
                doc = r.json()
                self.assertNotIn('scopes_supported', doc)  # no API published yet
                self.assertEqual(doc['response_types_supported'], ['none'])
                for k, v in doc.items():
                    self.assertFalse(isinstance(v, list) and not v, (path, k))
                self.assertEqual(doc['issuer'], srv.issuer)
            w = World(srv)
            doc = srv.request('GET', '/.well-known/oauth-authorization-server').json()
            self.assertEqual(sorted(doc['scopes_supported']), ['orders:read', 'orders:write'])
            self.assertIsNotNone(w)
        finally:
            srv.close()


class AdminOrder(unittest.TestCase):
    """Item 6: 403 before 422; no approval once an API is deprecated."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_rights_before_validation(self):
        t = self.w.tenants['a']
        api, app = self.w.apis['a']['id'], self.w.apps['a']['id']
        bad = {'no_such_member': 1, 'scopes': 'not-a-list'}
        for who in ('a-viewer', 'b-owner', 'outsider'):
            for method, path in (('PATCH', '/tenants/%s/apis/%s' % (t, api)),
                                 ('POST', '/tenants/%s/apis' % t),
                                 ('POST', '/tenants/%s/apis/%s/lifecycle' % (t, api)),
                                 ('PATCH', '/tenants/%s/apps/%s' % (t, app)),
                                 ('POST', '/tenants/%s/apps' % t),
                                 ('POST', '/tenants/%s/subscriptions' % t),
                                 ('POST', '/tenants/%s/members' % t)):
                st, body = self.srv.admin(method, path, bad, token=self.w.tokens[who])
                self.assertEqual(st, 403, (who, method, path, body))
        # With the rights, the same body is what is wrong.
        st, _ = self.srv.admin('PATCH', '/tenants/%s/apis/%s' % (t, api), bad,
                               token=self.w.tokens['a-admin'])
        self.assertEqual(st, 422)

    def test_no_approval_after_deprecation(self):
        t = self.w.tenants['b']
        api = self.srv.admin('POST', '/tenants/%s/apis' % t, {
            'name': 'dep', 'version': 'v1', 'base_path': '/dep', 'upstream': 'http://127.0.0.1:9',
            'audience': 'https://api.example.com/dep', 'scopes': ['d']}, expect=201)[1]
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (t, api['id']),
                       {'state': 'published'}, expect=200)
        sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.w.tenants['a'], {
            'app_id': self.w.apps['a']['id'], 'api_id': api['id'], 'scopes': ['d']},
            expect=201)[1]
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (t, api['id']),
                       {'state': 'deprecated', 'sunset': int(time.time()) + 86400}, expect=200)
        st, body = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (t, sub['id']))
        self.assertEqual(st, 409, body)
        self.assertIn('reject', body['detail'])
        st, body = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/reject' % (t, sub['id']),
                                  {'reason': 'deprecated'})
        self.assertEqual(st, 200, body)
        self.assertEqual(body['state'], 'rejected')


if __name__ == '__main__':
    unittest.main(verbosity=2)

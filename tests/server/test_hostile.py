"""Hostile input against a live jwtgated: random and malformed form bodies,
credentials, client assertions and tokens at the OAuth endpoints, malformed
JSON and wrong types at the admin API, odd paths and methods. Every answer
must be a 4xx (or 2xx where the input happens to be valid), never a 5xx or a
dropped connection; the service must still answer afterwards, and (under
ASan) exit cleanly. Deterministic: the seed is fixed unless JG_SEED is set."""
import base64
import json
import os
import random
import unittest

from jgtest import Server, World

SEED = int(os.environ.get('JG_SEED', '20261128'))
N = int(os.environ.get('JG_HOSTILE_N', '300'))


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        # The admin half aims at tenant a (and may delete its app): the OAuth
        # half uses tenant b's client.
        cls.w.subscribe('b', 'b', ['orders:read'])
        cls.rng = random.Random(SEED)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def junk(self, n=None):
        r = self.rng
        n = r.randint(0, 200) if n is None else n
        alphabet = 'abc=&%+ .:/_-"\\\'{}[]\x00\x7f\u00e9\ud7ff' + '%00%zz%2'
        return ''.join(r.choice(alphabet) for _ in range(n))

    def fake_jwt(self, parts):
        r = self.rng
        segs = []
        for _ in range(parts):
            kind = r.randint(0, 3)
            if kind == 0:
                segs.append(b64(json.dumps({'alg': r.choice(['none', 'ES256', 'HS256', 'dir',
                                                             'ECDH-ES+A256KW', 'RSA1_5']),
                                            'kid': self.junk(5), 'enc': 'A256GCM',
                                            'typ': 'at+jwt', 'crit': ['x'],
                                            'epk': {'kty': 'EC', 'crv': 'P-256', 'x': 'AA',
                                                    'y': 'AA'}}).encode()))
            elif kind == 1:
                segs.append(b64(os.urandom(r.randint(0, 64))))
            elif kind == 2:
                segs.append(self.junk(r.randint(0, 30)))
            else:
                segs.append(b64(json.dumps({'iss': self.junk(3), 'sub': 1, 'exp': 'x',
                                            'aud': [None]}).encode()))
        return '.'.join(segs)

    def check(self, r, what):
        self.assertTrue(200 <= r.status < 500 and r.status != 500, (what, r))

    def test_oauth_endpoints(self):
        r_ = self.rng
        cid, secret = self.w.client('b')
        for i in range(N):
            path = r_.choice(['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'])
            kind = r_.randint(0, 5)
            headers = {'Content-Type': r_.choice(['application/x-www-form-urlencoded',
                                                  'application/x-www-form-urlencoded; charset=x',
                                                  'text/plain', ''])}
            if kind == 0:  # junk body
                body = self.junk()
            elif kind == 1:  # junk Basic credentials
                headers['Authorization'] = 'Basic ' + r_.choice([
                    base64.b64encode(self.junk(20).encode('utf-8', 'surrogatepass')).decode(),
                    self.junk(10).encode('ascii', 'replace').decode().replace('\x00', ''),
                    '', '====', 'Og=='])
                body = 'grant_type=client_credentials'
            elif kind == 2:  # forged client assertions
                body = 'grant_type=client_credentials&client_assertion_type=' \
                       'urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer' \
                       '&client_assertion=' + self.fake_jwt(r_.choice([1, 3, 3, 5]))
            elif kind == 3:  # forged tokens, authenticated caller
                headers['Authorization'] = 'Basic ' + base64.b64encode(
                    ('%s:%s' % (cid, secret)).encode()).decode()
                body = 'token=' + self.fake_jwt(r_.choice([3, 5, 5, 7]))
            elif kind == 4:  # odd but well-formed parameters
                headers['Authorization'] = 'Basic ' + base64.b64encode(
                    ('%s:%s' % (cid, secret)).encode()).decode()
                body = '&'.join('%s=%s' % (r_.choice(['scope', 'resource', 'grant_type', 'x',
                                                      'client_id']), self.junk(15))
                                for _ in range(r_.randint(0, 40)))
            else:  # long values
                body = 'grant_type=' + 'a' * r_.randint(1000, 60000)
            if not headers['Content-Type']:
                del headers['Content-Type']
            r = self.srv.request('POST', path, body.encode('utf-8', 'surrogatepass'), headers)
            self.check(r, (path, kind))
        self.assertEqual(self.srv.request('GET', '/healthz').status, 200)
        self.assertEqual(self.srv.token(cid, secret).status, 200)

    def test_admin_endpoints(self):
        r_ = self.rng
        t = self.w.tenants['a']
        targets = ['/tenants', '/users', '/tokens', '/tenants/%s/apis' % t,
                   '/tenants/%s/apps' % t, '/tenants/%s/subscriptions' % t,
                   '/tenants/%s/members' % t, '/keys/rotate',
                   '/tenants/%s/apis/%s/lifecycle' % (t, self.w.apis['a']['id']),
                   '/tenants/%s/apps/%s' % (t, self.w.apps['a']['id'])]
        values = [None, True, 1, -1, 2 ** 63, 1.5, '', 'x' * 3000, [], {}, [[[]]],
                  {'keys': [{'kty': 'EC'}]}, ['a', 'a'], '\u0000', 'ok']
        keys = ['name', 'version', 'base_path', 'upstream', 'audience', 'scopes', 'policy',
                'state', 'sunset', 'auth_method', 'jwks', 'app_id', 'api_id', 'user', 'role',
                'owner', 'expires_in', 'suspended', 'purpose', 'system_admin', 'user_id']
        for i in range(N):
            path = r_.choice(targets)
            method = r_.choice(['POST', 'POST', 'PATCH', 'PUT', 'DELETE', 'GET'])
            if r_.random() < 0.2:
                raw = self.junk().encode('utf-8', 'surrogatepass')
            else:
                doc = {r_.choice(keys): r_.choice(values) for _ in range(r_.randint(0, 6))}
                raw = json.dumps(doc).encode()
            r = self.srv.request(method, '/admin/v1' + path, raw, {
                'Authorization': 'Bearer ' + self.srv.admin_token,
                'Content-Type': 'application/json'})
            self.check(r, (method, path, raw[:80]))
        for path in ('/admin/v1/../../etc/passwd', '/admin/v1/tenants/%00', '/admin/v1/' +
                     'a/' * 50, '/admin/v1/tenants/' + 'x' * 5000, '/%2e%2e/admin/v1/me',
                     '/admin/v1/me?' + 'a=b&' * 500):
            r = self.srv.request('GET', path, None,
                                 {'Authorization': 'Bearer ' + self.srv.admin_token})
            self.check(r, path)
        self.assertEqual(self.srv.admin('GET', '/me')[0], 200)


if __name__ == '__main__':
    unittest.main(verbosity=2)

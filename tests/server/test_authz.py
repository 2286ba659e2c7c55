"""Authorization matrix of the admin API: every role (system administrator,
owner, admin, developer, viewer, a user of no tenant) x every endpoint x the
caller's own tenant and another tenant. An allowed call must succeed (2xx)
on a fresh target; a refused one must be 403 and change nothing."""
import unittest
import uuid

from jgtest import Server, World

RANK = {'viewer': 1, 'developer': 2, 'admin': 3, 'owner': 4}


class Matrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.rows = []

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    # Fresh targets, made by the system administrator.
    def sa(self, method, path, body=None, expect=None):
        return self.srv.admin(method, path, body, expect=expect)[1]

    def fresh_api(self, t, publish=False):
        n = uuid.uuid4().hex[:10]
        api = self.sa('POST', '/tenants/%s/apis' % t, {
            'name': 'm' + n, 'version': 'v1', 'base_path': '/m/' + n,
            'upstream': 'https://m.test', 'audience': 'https://m.test/' + n,
            'scopes': ['r'], 'policy': 'manual'}, expect=201)
        if publish:
            self.sa('POST', '/tenants/%s/apis/%s/lifecycle' % (t, api['id']),
                    {'state': 'published'}, expect=200)
        return api

    def fresh_app(self, t):
        return self.sa('POST', '/tenants/%s/apps' % t, {'name': 'm' + uuid.uuid4().hex[:10]},
                       expect=201)

    def other(self, t):
        return self.w.tenants['b'] if t == self.w.tenants['a'] else self.w.tenants['a']

    def pending_sub(self, provider):
        consumer = self.other(provider)
        app = self.fresh_app(consumer)
        api = self.fresh_api(provider, publish=True)
        return self.sa('POST', '/tenants/%s/subscriptions' % consumer,
                       {'app_id': app['id'], 'api_id': api['id'], 'scopes': ['r']}, expect=201)

    def fresh_member(self, t):
        name = 'm' + uuid.uuid4().hex[:10]
        u = self.sa('POST', '/users', {'name': name}, expect=201)
        self.sa('POST', '/tenants/%s/members' % t, {'user': name, 'role': 'viewer'}, expect=201)
        return u

    def cases(self):
        """(name, needed, make) with make(t) -> (method, path, body). needed is a
        role name, 'any' (every authenticated user) or 'sysadmin'."""
        W = self.w

        def api(t):
            return W.apis['a' if t == W.tenants['a'] else 'b']

        def app(t):
            return W.apps['a' if t == W.tenants['a'] else 'b']

        def u():
            return uuid.uuid4().hex[:10]

        return [
            ('me', 'any', lambda t: ('GET', '/me', None)),
            ('catalog', 'any', lambda t: ('GET', '/catalog', None)),
            ('tokens.list', 'any', lambda t: ('GET', '/tokens', None)),
            ('tokens.create', 'any', lambda t: ('POST', '/tokens', {'name': 'x'})),
            ('tenants.list', 'any', lambda t: ('GET', '/tenants', None)),
            ('tenants.create', 'sysadmin', lambda t: ('POST', '/tenants', {'name': 't' + u()})),
            ('users.list', 'sysadmin', lambda t: ('GET', '/users', None)),
            ('users.create', 'sysadmin', lambda t: ('POST', '/users', {'name': 'u' + u()})),
            ('keys.list', 'sysadmin', lambda t: ('GET', '/keys', None)),
            ('keys.rotate', 'sysadmin', lambda t: ('POST', '/keys/rotate', {})),
            ('audit.all', 'sysadmin', lambda t: ('GET', '/audit', None)),
            ('tenant.get', 'viewer', lambda t: ('GET', '/tenants/' + t, None)),
            ('members.list', 'viewer', lambda t: ('GET', '/tenants/%s/members' % t, None)),
            ('members.add', 'owner', lambda t: ('POST', '/tenants/%s/members' % t, {
                'user': self.sa('POST', '/users', {'name': 'u' + u()}, expect=201)['name'],
                'role': 'viewer'})),
            ('members.set', 'owner', lambda t: ('PUT', '/tenants/%s/members/%s' % (
                t, self.fresh_member(t)['id']), {'role': 'developer'})),
            ('members.remove', 'owner', lambda t: ('DELETE', '/tenants/%s/members/%s' % (
                t, self.fresh_member(t)['id']), None)),
            ('apis.list', 'viewer', lambda t: ('GET', '/tenants/%s/apis' % t, None)),
            ('apis.get', 'viewer', lambda t: ('GET', '/tenants/%s/apis/%s' % (t, api(t)['id']),
                                              None)),
            ('apis.create', 'admin', lambda t: ('POST', '/tenants/%s/apis' % t, {
                'name': 'c' + u(), 'version': 'v1', 'base_path': '/c/' + u(),
                'upstream': 'https://c.test', 'audience': 'https://c.test/' + u()})),
            ('apis.update', 'admin', lambda t: ('PATCH', '/tenants/%s/apis/%s' % (
                t, self.fresh_api(t)['id']), {'upstream': 'https://n.test'})),
            ('apis.delete', 'admin', lambda t: ('DELETE', '/tenants/%s/apis/%s' % (
                t, self.fresh_api(t)['id']), None)),
            ('apis.lifecycle', 'admin', lambda t: ('POST', '/tenants/%s/apis/%s/lifecycle' % (
                t, self.fresh_api(t)['id']), {'state': 'published'})),
            ('apps.list', 'viewer', lambda t: ('GET', '/tenants/%s/apps' % t, None)),
            ('apps.get', 'viewer', lambda t: ('GET', '/tenants/%s/apps/%s' % (t, app(t)['id']),
                                              None)),
            ('apps.create', 'developer', lambda t: ('POST', '/tenants/%s/apps' % t,
                                                    {'name': 'a' + u()})),
            ('apps.suspend', 'admin', lambda t: ('PATCH', '/tenants/%s/apps/%s' % (
                t, self.fresh_app(t)['id']), {'suspended': True})),
            ('apps.delete', 'admin', lambda t: ('DELETE', '/tenants/%s/apps/%s' % (
                t, self.fresh_app(t)['id']), None)),
            ('secrets.list', 'viewer', lambda t: ('GET', '/tenants/%s/apps/%s/secrets' % (
                t, app(t)['id']), None)),
            ('secrets.add', 'developer', lambda t: ('POST', '/tenants/%s/apps/%s/secrets' % (
                t, self.fresh_app(t)['id']), {})),
            ('secrets.delete', 'developer', lambda t: (lambda a: (
                'DELETE', '/tenants/%s/apps/%s/secrets/%s' % (t, a['id'], a['secret_id']),
                None))(self.fresh_app(t))),
            ('subs.list', 'viewer', lambda t: ('GET', '/tenants/%s/subscriptions' % t, None)),
            ('subs.get', 'viewer', lambda t: ('GET', '/tenants/%s/subscriptions/%s' % (
                t, self.pending_sub(t)['id']), None)),
            ('subs.request', 'developer', lambda t: ('POST', '/tenants/%s/subscriptions' % t, {
                'app_id': self.fresh_app(t)['id'], 'api_id': W.apis['a']['id'],
                'scopes': ['orders:read']})),
            ('subs.approve', 'admin', lambda t: ('POST', '/tenants/%s/subscriptions/%s/approve'
                                                 % (t, self.pending_sub(t)['id']), {})),
            ('subs.reject', 'admin', lambda t: ('POST', '/tenants/%s/subscriptions/%s/reject'
                                                % (t, self.pending_sub(t)['id']), {})),
            ('subs.revoke', 'admin', lambda t: (lambda s: (
                'POST', '/tenants/%s/subscriptions/%s/revoke' % (t, s['id']), {}))(
                self.sa('POST', '/tenants/%s/subscriptions/%s/approve' % (
                    t, self.pending_sub(t)['id']), {}, expect=200))),
            ('audit.tenant', 'admin', lambda t: ('GET', '/tenants/%s/audit' % t, None)),
        ]

    def allowed(self, caller, needed, scope):
        """caller: 'sysadmin', 'outsider' or a role; scope: 'own' or 'other'."""
        if caller == 'sysadmin':
            return True
        if needed == 'any':
            return True
        if needed == 'sysadmin' or caller == 'outsider' or scope == 'other':
            return False
        return RANK[caller] >= RANK[needed]

    def test_matrix(self):
        callers = ['sysadmin', 'owner', 'admin', 'developer', 'viewer', 'outsider']
        checked = 0
        failures = []
        for name, needed, make in self.cases():
            for caller in callers:
                token = self.w.tokens['sysadmin' if caller == 'sysadmin' else
                                      'outsider' if caller == 'outsider' else 'a-' + caller]
                for scope in ('own', 'other'):
                    t = self.w.tenants['a' if scope == 'own' else 'b']
                    method, path, body = make(t)
                    before = self.srv.snapshot()['version']
                    st, doc = self.srv.admin(method, path, body, token=token)
                    want = self.allowed(caller, needed, scope)
                    ok = (200 <= st < 300) if want else st == 403
                    if not want and method != 'GET':
                        # A refused change leaves the state as it was.
                        ok = ok and self.srv.snapshot()['version'] == before
                    if not ok:
                        failures.append('%s as %s in %s tenant: %d %s' % (
                            name, caller, scope, st, doc))
                    checked += 1
        print('authorization matrix: %d cases, %d wrong' % (checked, len(failures)))
        self.assertEqual(failures, [])
        self.assertGreaterEqual(checked, 37 * 6 * 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)

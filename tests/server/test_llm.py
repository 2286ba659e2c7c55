"""LLM APIs in jwtgated (docs/ai-gateway.md): an API of kind llm, its providers (the
fallback chain) and their key pools — validation, authorization per role, audit, the
CLI, and that a provider key is sealed at rest, shown by its last 4 characters only
and never written to the log, the audit log or an answer."""
import json
import os
import sqlite3
import subprocess
import tempfile
import unittest
import uuid

import jgtest
from jgtest import Server, World

SECRET = 'sk-test-' + uuid.uuid4().hex  # unique: grep for it anywhere


class LlmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.ta = cls.w.tenants['a']

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def llm_api(self, tenant=None):
        n = uuid.uuid4().hex[:10]
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % (tenant or self.ta), {
            'name': 'chat' + n, 'version': 'v1', 'base_path': '/llm/' + n, 'kind': 'llm',
            'upstream': 'https://llm.test', 'audience': 'https://llm.test/' + n,
            'scopes': ['chat']}, expect=201)
        self.assertEqual(api['kind'], 'llm')
        return api

    def pv(self, api, suffix=''):
        return '/tenants/%s/apis/%s/providers%s' % (api['tenant_id'], api['id'], suffix)

    def add_provider(self, api, name='openai', fmt='openai', **kw):
        body = {'name': name, 'format': fmt, 'base_url': 'https://api.openai.test/v1',
                'models': {'gpt-4o': 'gpt-4o-2024-08-06'}}
        body.update(kw)
        return self.srv.admin('POST', self.pv(api), body, expect=201)[1]

    def test_kind(self):
        self.assertEqual(self.w.apis['a']['kind'], 'http')
        st, doc = self.srv.admin('POST', '/tenants/%s/apis' % self.ta, {
            'name': 'x', 'version': 'v1', 'base_path': '/x' + uuid.uuid4().hex[:8],
            'kind': 'grpc', 'upstream': 'https://x.test', 'audience': 'https://x.test/'})
        self.assertEqual(st, 422, doc)
        self.assertIn('kind', doc['detail'])
        # kind is fixed at creation
        api = self.llm_api()
        st, _ = self.srv.admin('PATCH', '/tenants/%s/apis/%s' % (self.ta, api['id']),
                               {'kind': 'http'})
        self.assertEqual(st, 422)
        # an http API has no providers
        st, doc = self.srv.admin('GET', self.pv(self.w.apis['a']))
        self.assertEqual(st, 409, doc)
        st, doc = self.srv.admin('POST', self.pv(self.w.apis['a']), {
            'name': 'p', 'format': 'openai', 'base_url': 'https://p.test', 'models': {'a': 'b'}})
        self.assertEqual(st, 409, doc)

    def test_providers_chain(self):
        api = self.llm_api()
        p1 = self.add_provider(api)
        self.assertEqual(p1['priority'], 0)
        self.assertEqual(p1['timeout_ms'], 60000)
        self.assertEqual(p1['models'], {'gpt-4o': 'gpt-4o-2024-08-06'})
        p2 = self.add_provider(api, 'claude', 'anthropic',
                               base_url='http://127.0.0.1:8081/anthropic',
                               models={'gpt-4o': 'claude-sonnet-4', 'claude': 'claude-opus-4'},
                               timeout_ms=5000)
        self.assertEqual(p2['priority'], 1)  # appended to the chain
        p0 = self.add_provider(api, 'local', base_url='http://127.0.0.1:11434/v1', priority=0,
                               models={'llama': 'llama3.1:8b'})
        _, doc = self.srv.admin('GET', self.pv(api), expect=200)
        # the fallback order: priority, then the order of creation
        self.assertEqual([p['name'] for p in doc['items']], ['openai', 'local', 'claude'])
        self.srv.admin('PATCH', self.pv(api, '/claude'), {'priority': 0}, expect=200)
        self.srv.admin('PATCH', self.pv(api, '/openai'), {'priority': 5}, expect=200)
        _, doc = self.srv.admin('GET', self.pv(api), expect=200)
        self.assertEqual([p['name'] for p in doc['items']], ['claude', 'local', 'openai'])
        _, got = self.srv.admin('GET', self.pv(api, '/local'), expect=200)
        self.assertEqual(got['id'], p0['id'])
        _, upd = self.srv.admin('PATCH', self.pv(api, '/local'),
                                {'models': {'llama': 'llama3.2'}, 'timeout_ms': 100}, expect=200)
        self.assertEqual(upd['models'], {'llama': 'llama3.2'})
        self.assertEqual(upd['timeout_ms'], 100)
        # same name twice
        st, _ = self.srv.admin('POST', self.pv(api), {
            'name': 'local', 'format': 'openai', 'base_url': 'https://x.test',
            'models': {'a': 'b'}})
        self.assertEqual(st, 409)
        self.srv.admin('DELETE', self.pv(api, '/local'), expect=204)
        self.srv.admin('GET', self.pv(api, '/local'), expect=404)
        self.srv.admin('GET', self.pv(api, '/nope/keys'), expect=404)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        actions = [(e['action'], e['target']) for e in audit['items']]
        for action, target in (('llm_provider.create', p1['id']),
                               ('llm_provider.update', p0['id']),
                               ('llm_provider.delete', p0['id'])):
            self.assertIn((action, target), actions)

    def test_provider_validation(self):
        api = self.llm_api()
        good = {'name': 'p', 'format': 'openai', 'base_url': 'https://p.test/v1',
                'models': {'m': 'n'}}
        bad = [
            {'name': 'a b'}, {'name': 'x' * 33}, {'format': 'gemini'},
            {'base_url': 'ftp://p.test'}, {'base_url': 'https://user:pw@p.test/v1'},
            {'base_url': 'https://p.test/v1?key=1'}, {'base_url': 'https://p.test/v1#f'},
            {'base_url': 'https://p.test/'}, {'base_url': 'https:///v1'},
            {'base_url': 'p.test'}, {'base_url': 'https://' + 'a' * 2050},
            {'models': {}}, {'models': []}, {'models': {'m': 3}},
            {'models': {'m n': 'x'}}, {'models': {'m': 'a"b'}}, {'models': {'m': 'x' * 129}},
            {'models': {'m%d' % i: 'x' for i in range(65)}},
            {'timeout_ms': 99}, {'timeout_ms': 600001}, {'priority': -1},
            {'extra': 1},
        ]
        for change in bad:
            body = dict(good)
            body.update(change)
            st, doc = self.srv.admin('POST', self.pv(api), body)
            self.assertEqual(st, 422, (change, doc))
        for missing in ('name', 'format', 'base_url', 'models'):
            body = {k: v for k, v in good.items() if k != missing}
            st, _ = self.srv.admin('POST', self.pv(api), body)
            self.assertEqual(st, 422, missing)
        self.srv.admin('POST', self.pv(api), good, expect=201)
        st, _ = self.srv.admin('PATCH', self.pv(api, '/p'), {'format': 'anthropic'})
        self.assertEqual(st, 422)  # the format is the provider's identity: a new provider
        st, _ = self.srv.admin('PATCH', self.pv(api, '/p'), {})
        self.assertEqual(st, 422)
        for i in range(15):
            self.add_provider(api, 'q%d' % i)
        st, doc = self.srv.admin('POST', self.pv(api), dict(good, name='one-too-many'))
        self.assertEqual(st, 409, doc)

    def stored_sealed(self, key_id):
        if self.srv.db_url:
            out = self.srv.pg.psql("SELECT sealed FROM llm_keys WHERE id = '%s'" % key_id,
                                   db=self.srv.db_url.rsplit('/', 1)[1])
            return out
        db = sqlite3.connect(os.path.join(self.srv.data, 'jwtgated.db'))
        try:
            return db.execute('SELECT sealed FROM llm_keys WHERE id = ?',
                              (key_id,)).fetchone()[0]
        finally:
            db.close()

    def test_keys(self):
        api = self.llm_api()
        self.add_provider(api)
        st, k = self.srv.admin('POST', self.pv(api, '/openai/keys'), {'key': SECRET})
        self.assertEqual(st, 201, k)
        self.assertEqual(k['hint'], SECRET[-4:])
        self.assertEqual(k['state'], 'active')
        self.assertTrue(k['id'].startswith('pk_'))
        self.assertNotIn('sealed', k)
        self.assertNotIn(SECRET, json.dumps(k))
        k2 = self.srv.admin('POST', self.pv(api, '/openai/keys'),
                            {'key': 'sk-second-' + 'x' * 20 + 'abcd'}, expect=201)[1]
        _, lst = self.srv.admin('GET', self.pv(api, '/openai/keys'), expect=200)
        self.assertEqual([x['id'] for x in lst['items']], [k['id'], k2['id']])
        for x in lst['items']:
            self.assertEqual(set(x), {'id', 'provider_id', 'api_id', 'tenant_id', 'hint',
                                      'state', 'created_at', 'disabled_at'})
        _, one = self.srv.admin('GET', self.pv(api, '/openai/keys/' + k['id']), expect=200)
        self.assertNotIn('sealed', one)
        # at rest: a compact JWE (dir, A256GCM) bound to the API and the key id
        sealed = self.stored_sealed(k['id'])
        self.assertNotIn(SECRET, sealed)
        self.assertEqual(sealed.strip().count('.'), 4)
        # rotation: disable the old one, enable again, delete
        _, d = self.srv.admin('PATCH', self.pv(api, '/openai/keys/' + k['id']),
                              {'state': 'disabled'}, expect=200)
        self.assertEqual(d['state'], 'disabled')
        self.assertIsNotNone(d['disabled_at'])
        _, e = self.srv.admin('PATCH', self.pv(api, '/openai/keys/' + k['id']),
                              {'state': 'active'}, expect=200)
        self.assertIsNone(e['disabled_at'])
        st, _ = self.srv.admin('PATCH', self.pv(api, '/openai/keys/' + k['id']),
                               {'state': 'gone'})
        self.assertEqual(st, 422)
        self.srv.admin('DELETE', self.pv(api, '/openai/keys/' + k2['id']), expect=204)
        self.srv.admin('GET', self.pv(api, '/openai/keys/' + k2['id']), expect=404)
        # a key of another provider is not found under this one
        self.add_provider(api, 'other')
        self.srv.admin('GET', self.pv(api, '/other/keys/' + k['id']), expect=404)
        self.srv.admin('DELETE', self.pv(api, '/other/keys/' + k['id']), expect=404)
        for bad in ({'key': 'short'}, {'key': 'has space' + 'x' * 20}, {'key': 'x' * 513},
                    {'key': 5}, {}, {'key': SECRET, 'hint': 'x'}):
            st, doc = self.srv.admin('POST', self.pv(api, '/openai/keys'), bad)
            self.assertEqual(st, 422, (bad, doc))
        # audited, without the key
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        mine = [e for e in audit['items'] if e['target'] == k['id']]
        self.assertEqual(sorted(e['action'] for e in mine),
                         ['llm_key.create', 'llm_key.disable', 'llm_key.enable'])
        self.assertNotIn(SECRET, json.dumps(audit))
        # deleting the provider deletes its keys, each audited
        self.srv.admin('DELETE', self.pv(api, '/openai'), expect=204)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        self.assertIn(('llm_key.delete', k['id']),
                      [(e['action'], e['target']) for e in audit['items']])
        # never in the log (the access log is on in the tests)
        self.assertNotIn(SECRET, self.srv.read_log())

    def test_authorization(self):
        api = self.llm_api()
        self.add_provider(api)
        key = self.srv.admin('POST', self.pv(api, '/openai/keys'),
                             {'key': 'sk-authz-' + 'y' * 20}, expect=201)[1]
        reads = [self.pv(api), self.pv(api, '/openai'), self.pv(api, '/openai/keys'),
                 self.pv(api, '/openai/keys/' + key['id'])]
        writes = [
            ('POST', self.pv(api), {'name': 'n' + uuid.uuid4().hex[:6], 'format': 'openai',
                                    'base_url': 'https://n.test', 'models': {'a': 'b'}}),
            ('PATCH', self.pv(api, '/openai'), {'timeout_ms': 1000}),
            ('POST', self.pv(api, '/openai/keys'), {'key': 'sk-authz-' + 'z' * 20}),
            ('PATCH', self.pv(api, '/openai/keys/' + key['id']), {'state': 'disabled'}),
        ]
        for who in ('a-viewer', 'a-developer', 'a-admin', 'a-owner'):
            for path in reads:
                st, _ = self.srv.admin('GET', path, token=self.w.tokens[who])
                self.assertEqual(st, 200, (who, path))
        for who, ok in (('a-viewer', False), ('a-developer', False), ('b-owner', False),
                        ('outsider', False), ('a-admin', True)):
            for method, path, body in writes:
                # invalid bodies too: no 422 before the role is checked
                for b in (body, {'bogus': 1}):
                    st, _ = self.srv.admin(method, path, b, token=self.w.tokens[who])
                    if ok:
                        self.assertIn(st, (200, 201, 422), (who, method, path))
                    else:
                        self.assertIn(st, (403, 404), (who, method, path, b))
            if not ok:
                st, _ = self.srv.admin('DELETE', self.pv(api, '/openai'),
                                       token=self.w.tokens[who])
                self.assertIn(st, (403, 404), who)
        for who in ('b-owner', 'outsider'):
            for path in reads:
                st, _ = self.srv.admin('GET', path, token=self.w.tokens[who])
                self.assertIn(st, (403, 404), (who, path))

    def test_methods_and_paths(self):
        api = self.llm_api()
        self.add_provider(api)
        for method, suffix, allow in (('PUT', '', 'GET, POST'),
                                      ('DELETE', '', 'GET, POST'),
                                      ('POST', '/openai', 'GET, PATCH, DELETE'),
                                      ('PUT', '/openai/keys', 'GET, POST')):
            st, _ = self.srv.admin(method, self.pv(api, suffix), {})
            self.assertEqual(st, 405, (method, suffix))
            self.assertEqual(self.srv.last.header('Allow'), allow)
        for suffix in ('/openai/secrets', '/openai/keys/x/y'):
            st, _ = self.srv.admin('GET', self.pv(api, suffix))
            self.assertEqual(st, 404, suffix)

    # ---- limits and plans ---------------------------------------------------------------

    def llm_sub(self, approve_body=None):
        """A pending (or, with approve_body, approved) subscription of tenant b's app to a
        published llm API of tenant a."""
        api = self.llm_api()
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (self.ta, api['id']),
                       {'state': 'published'}, expect=200)
        tb = self.w.tenants['b']
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % tb,
                                {'name': 'c' + uuid.uuid4().hex[:8]}, expect=201)
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['chat']}, expect=201)
        if approve_body is not None:
            st, sub = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve'
                                     % (self.ta, sub['id']), approve_body)
            self.assertEqual(st, 200, sub)
        return api, sub

    def test_plans(self):
        limits = {'requests_per_minute': 60, 'tokens_per_minute': 10000,
                  'tokens_per_day': 1000000, 'input_weight': 1, 'output_weight': 4,
                  'models': {'gpt-4o': {'tokens_per_day': 50000}}}
        name = 'gold' + uuid.uuid4().hex[:6]
        _, plan = self.srv.admin('POST', '/tenants/%s/plans' % self.ta,
                                 {'name': name, 'limits': limits}, expect=201)
        self.assertEqual(plan['limits'], limits)
        st, _ = self.srv.admin('POST', '/tenants/%s/plans' % self.ta,
                               {'name': name, 'limits': {}})
        self.assertEqual(st, 409)
        _, lst = self.srv.admin('GET', '/tenants/%s/plans' % self.ta,
                                token=self.w.tokens['a-viewer'], expect=200)
        self.assertIn(plan['id'], [p['id'] for p in lst['items']])
        st, _ = self.srv.admin('GET', '/tenants/%s/plans/%s' % (self.w.tenants['b'], plan['id']))
        self.assertEqual(st, 404)
        for who in ('a-viewer', 'a-developer', 'b-admin'):
            st, _ = self.srv.admin('POST', '/tenants/%s/plans' % self.ta,
                                   {'name': 'x', 'limits': {}}, token=self.w.tokens[who])
            self.assertIn(st, (403, 404), who)
        bad = [{'requests_per_minute': 0}, {'tokens_per_day': 'x'}, {'input_weight': -1},
               {'output_weight': 1001}, {'burst': 3}, {'models': {'m': {'input_weight': 2}}},
               {'models': {'m': 5}}, {'models': {'': {}}}, [], {'tokens_per_minute': 1.5}]
        for b in bad:
            st, doc = self.srv.admin('POST', '/tenants/%s/plans' % self.ta,
                                     {'name': 'bad', 'limits': b})
            self.assertEqual(st, 422, (b, doc))
        _, upd = self.srv.admin('PATCH', '/tenants/%s/plans/%s' % (self.ta, plan['id']),
                                {'limits': {'requests_per_minute': 5}}, expect=200)
        self.assertEqual(upd['limits'], {'requests_per_minute': 5})
        # in use: not deleted
        _, sub = self.llm_sub({'plan_id': plan['id']})
        self.assertEqual(sub['plan_id'], plan['id'])
        st, _ = self.srv.admin('DELETE', '/tenants/%s/plans/%s' % (self.ta, plan['id']))
        self.assertEqual(st, 409)
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/revoke' % (self.ta, sub['id']),
                       {}, expect=200)
        self.srv.admin('DELETE', '/tenants/%s/plans/%s' % (self.ta, plan['id']), expect=204)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        acts = [(e['action'], e['target']) for e in audit['items']]
        for a in ('plan.create', 'plan.update', 'plan.delete'):
            self.assertIn((a, plan['id']), acts)

    def test_subscription_limits(self):
        inline = {'requests_per_minute': 10, 'tokens_per_minute': 500}
        api, sub = self.llm_sub({'reason': 'ok', 'limits': inline})
        self.assertEqual(sub['limits'], inline)
        self.assertIsNone(sub['plan_id'])
        path = '/tenants/%s/subscriptions/%s/limits' % (self.ta, sub['id'])
        _, plan = self.srv.admin('POST', '/tenants/%s/plans' % self.ta, {
            'name': 'p' + uuid.uuid4().hex[:6], 'limits': {'tokens_per_day': 100}}, expect=201)
        _, s2 = self.srv.admin('PUT', path, {'plan_id': plan['id'], 'limits': None}, expect=200)
        self.assertEqual(s2['plan_id'], plan['id'])
        self.assertIsNone(s2['limits'])
        # only the API owner's admins; the consumer sees but cannot set
        tb = self.w.tenants['b']
        st, _ = self.srv.admin('PUT', '/tenants/%s/subscriptions/%s/limits' % (tb, sub['id']),
                               {'limits': {}})
        self.assertEqual(st, 403)
        for who in ('a-developer', 'a-viewer', 'b-owner'):
            st, _ = self.srv.admin('PUT', path, {'limits': {}}, token=self.w.tokens[who])
            self.assertIn(st, (403, 404), who)
        _, seen = self.srv.admin('GET', '/tenants/%s/subscriptions/%s' % (tb, sub['id']),
                                 token=self.w.tokens['b-viewer'], expect=200)
        self.assertEqual(seen['plan_id'], plan['id'])
        # a plan of another tenant, a bad plan id, bad limits, nothing
        _, other = self.srv.admin('POST', '/tenants/%s/plans' % tb, {
            'name': 'o' + uuid.uuid4().hex[:6], 'limits': {}}, expect=201)
        for body in ({'plan_id': other['id']}, {'plan_id': 'pln_nope'}, {'plan_id': 5},
                     {'limits': {'requests_per_minute': -1}}, {}, {'x': 1}):
            st, doc = self.srv.admin('PUT', path, body)
            self.assertEqual(st, 422, (body, doc))
        # an http API's subscription has no limits
        _, hsub = self.srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': self.w.apps['b']['id'], 'api_id': self.w.apis['a']['id'],
            'scopes': ['orders:read']}, expect=201)
        st, doc = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve'
                                 % (self.ta, hsub['id']), {'limits': {}})
        self.assertEqual(st, 409, doc)
        st, _ = self.srv.admin('PUT', '/tenants/%s/subscriptions/%s/limits'
                               % (self.ta, hsub['id']), {'limits': {}})
        self.assertEqual(st, 409)
        # reject and revoke take no limits
        _, pending = self.llm_sub()
        st, _ = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/reject'
                               % (self.ta, pending['id']), {'limits': {}})
        self.assertEqual(st, 422)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % tb)
        self.assertIn(('subscription.limits', sub['id']),
                      [(e['action'], e['target']) for e in audit['items']])

    # ---- usage ----------------------------------------------------------------------------

    def gateway(self):
        return self.srv.register_gateway()

    def report(self, cred, body):
        r = self.srv.request('POST', '/gateway/v1/usage', json.dumps(body),
                             {'Authorization': 'Bearer ' + cred,
                              'Content-Type': 'application/json'})
        return r.status, (r.json() if r.body else None)

    def usage_setup(self):
        api, sub = self.llm_sub({})
        tb = self.w.tenants['b']
        _, app = self.srv.admin('GET', '/tenants/%s/apps/%s' % (tb, sub['app_id']), expect=200)
        return api, app

    def rec(self, api, app, minute, model='gpt-4o', status=200, req=1, inp=10, out=5):
        return {'minute': minute, 'client_id': app['client_id'], 'api': api['id'],
                'model': model, 'provider': 'openai', 'key_id': 'pk_x', 'requests': req,
                'input_tokens': inp, 'output_tokens': out, 'status': status}

    def test_usage_ingest_and_query(self):
        import time
        gw = self.gateway()
        api, app = self.usage_setup()
        hour = int(time.time()) // 3600 * 3600 - 3600  # the previous hour: two minutes in it
        m1, m2 = hour + 60, hour + 120
        batch = {'batch_id': 'b-' + uuid.uuid4().hex, 'records': [
            self.rec(api, app, m1, inp=100, out=50), self.rec(api, app, m1, inp=1, out=2),
            self.rec(api, app, m2, status=429, inp=0, out=0),
            self.rec(api, app, m2, model='fast', inp=7, out=3),
            dict(self.rec(api, app, m2), client_id='jgc_unknown')]}
        st, doc = self.report(gw['credential'], batch)
        self.assertEqual(st, 200, doc)
        self.assertEqual((doc['accepted'], doc['skipped'], doc['duplicate']), (4, 1, False))
        # the same batch again: acknowledged, not counted
        st, doc = self.report(gw['credential'], batch)
        self.assertEqual((st, doc['duplicate']), (200, True))
        q = '/usage?tenant=%s&api=%s&from=%d&to=%d' % (self.ta, api['id'], hour, hour + 3600)
        _, got = self.srv.admin('GET', q + '&step=minute', expect=200)
        rows = [(i['t'], i['model'], i['requests'], i['input_tokens'], i['output_tokens'])
                for i in got['items']]
        self.assertEqual(rows, [(m1, 'gpt-4o', 2, 101, 52), (m2, 'fast', 1, 7, 3),
                                (m2, 'gpt-4o', 1, 0, 0)])
        _, got = self.srv.admin('GET', q + '&step=hour', expect=200)
        self.assertEqual([(i['t'], i['model'], i['requests'], i['input_tokens'])
                          for i in got['items']], [(hour, 'fast', 1, 7), (hour, 'gpt-4o', 3, 101)])
        _, got = self.srv.admin('GET', q + '&step=hour&model=fast', expect=200)
        self.assertEqual(len(got['items']), 1)
        # the consumer's tenant sees its app's usage; others do not
        tb = self.w.tenants['b']
        _, got = self.srv.admin('GET', '/usage?tenant=%s&app=%s&from=%d&to=%d&step=day'
                                % (tb, app['id'], hour, hour + 3600),
                                token=self.w.tokens['b-viewer'], expect=200)
        self.assertEqual(sum(i['requests'] for i in got['items']), 4)
        st, _ = self.srv.admin('GET', '/usage?tenant=%s' % self.ta,
                               token=self.w.tokens['outsider'])
        self.assertEqual(st, 403)
        st, _ = self.srv.admin('GET', '/usage', token=self.w.tokens['a-owner'])
        self.assertEqual(st, 400)
        for bad in ('step=week', 'from=10&to=5', 'from=x', 'from=0&to=999999999&step=minute'):
            st, _ = self.srv.admin('GET', '/usage?tenant=%s&%s' % (self.ta, bad))
            self.assertEqual(st, 400, bad)
        # Prometheus: bounded labels, counted once
        text = self.srv.request('GET', '/metrics').body.decode()
        self.assertIn('jwtgated_llm_tokens_total{api="%s",model="gpt-4o",direction="input"} 101'
                      % api['id'], text)
        self.assertIn('jwtgated_llm_requests_total{api="%s",model="gpt-4o",status="429"} 1'
                      % api['id'], text)

    def test_usage_refusals(self):
        import time
        gw = self.gateway()
        api, app = self.usage_setup()
        now = int(time.time()) // 60 * 60
        good = {'batch_id': 'b-' + uuid.uuid4().hex, 'records': [self.rec(api, app, now)]}
        for cred in ('jgw_nope.secret', gw['credential'] + 'x', ''):
            st, _ = self.report(cred, good)
            self.assertEqual(st, 401, cred)
        bad_records = [dict(self.rec(api, app, now), minute=now + 1),
                       dict(self.rec(api, app, now), minute=now + 3600),
                       dict(self.rec(api, app, now), minute=now - 40 * 86400),
                       dict(self.rec(api, app, now), requests=-1),
                       dict(self.rec(api, app, now), status=42),
                       dict(self.rec(api, app, now), model='a b'),
                       dict(self.rec(api, app, now), extra=1), 'x']
        for r in bad_records:
            st, doc = self.report(gw['credential'], {'batch_id': 'x', 'records': [r]})
            self.assertEqual(st, 422, (r, doc))
        for body in ({'records': []}, {'batch_id': 'x'}, {'batch_id': 'x', 'records': {}},
                     {'batch_id': 'x', 'records': [self.rec(api, app, now)] * 501}):
            st, _ = self.report(gw['credential'], body)
            self.assertIn(st, (413, 422), body.keys())
        st, doc = self.report(gw['credential'], good)
        self.assertEqual(st, 200, doc)
        # revoked: 401, nothing stored
        self.srv.admin('POST', '/gateways/%s/revoke' % gw['id'], expect=200)
        good['batch_id'] = 'b-' + uuid.uuid4().hex
        st, _ = self.report(gw['credential'], good)
        self.assertEqual(st, 401)
        _, got = self.srv.admin('GET', '/usage?tenant=%s&api=%s&from=%d&to=%d&step=minute'
                                % (self.ta, api['id'], now, now + 60), expect=200)
        self.assertEqual(sum(i['requests'] for i in got['items']), 1)


class LlmCli(unittest.TestCase):
    """jwtgate admin api provider / api key."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def run_cli(self, *args, expect=0, stdin=None):
        env = dict(os.environ)
        env['JWTGATE_ADMIN_URL'] = self.srv.issuer
        env['JWTGATE_ADMIN_TOKEN'] = self.srv.admin_token
        out = subprocess.run([jgtest.JWTGATE_CLI, 'admin'] + list(args), capture_output=True,
                             text=True, timeout=60, env=env, input=stdin)
        self.assertEqual(out.returncode, expect, (args, out.stdout, out.stderr))
        return out

    def js(self, *args, **kw):
        return json.loads(self.run_cli('--json', *args, **kw).stdout)

    def test_cycle(self):
        help_text = self.run_cli('--help').stdout
        self.assertIn('api provider add', help_text)
        self.assertIn('api key disable', help_text)
        t = self.js('tenant', 'create', 'llm')['id']
        api = self.js('api', 'create', t, '--name', 'chat', '--version', 'v1', '--kind', 'llm',
                      '--base-path', '/chat', '--upstream', 'https://llm.test',
                      '--audience', 'https://llm.test/chat')
        self.assertEqual(api['kind'], 'llm')
        a = api['id']
        p = self.js('api', 'provider', 'add', t, a, 'openai', '--format', 'openai',
                    '--base-url', 'https://api.openai.test/v1', '--model', 'gpt-4o=gpt-4o-mini',
                    '--model', 'fast=gpt-4.1-nano', '--timeout-ms', '30000')
        self.assertEqual(p['models'], {'gpt-4o': 'gpt-4o-mini', 'fast': 'gpt-4.1-nano'})
        self.assertEqual(p['timeout_ms'], 30000)
        self.js('api', 'provider', 'add', t, a, 'claude', '--format', 'anthropic',
                '--base-url', 'https://api.anthropic.test/v1', '--model', 'gpt-4o=claude-x')
        table = self.run_cli('api', 'provider', 'list', t, a).stdout.splitlines()
        self.assertEqual(table[0].split()[:3], ['NAME', 'PRIORITY', 'FORMAT'])
        self.assertEqual([ln.split()[0] for ln in table[1:]], ['openai', 'claude'])
        self.assertEqual(self.js('api', 'provider', 'update', t, a, 'claude', '--priority',
                                 '0')['priority'], 0)
        self.run_cli('api', 'provider', 'add', t, a, 'bad', '--format', 'openai',
                     '--base-url', 'https://x.test', '--model', 'nomap', expect=2)
        secret = 'sk-cli-' + uuid.uuid4().hex
        with tempfile.NamedTemporaryFile('w', suffix='.key') as f:
            f.write(secret + '\n')
            f.flush()
            k = self.js('api', 'key', 'add', t, a, 'openai', '--key-file', f.name)
        self.assertEqual(k['hint'], secret[-4:])
        k2 = self.js('api', 'key', 'add', t, a, 'openai', '--key-file', '-',
                     stdin='sk-stdin-' + 'q' * 20 + '\n')
        self.assertEqual(k2['hint'], 'qqqq')
        out = self.run_cli('api', 'key', 'list', t, a, 'openai').stdout
        self.assertIn(secret[-4:], out)
        self.assertNotIn(secret, out)
        self.assertEqual(self.js('api', 'key', 'disable', t, a, 'openai', k['id'])['state'],
                         'disabled')
        self.assertEqual(self.js('api', 'key', 'enable', t, a, 'openai', k['id'])['state'],
                         'active')
        self.run_cli('api', 'key', 'delete', t, a, 'openai', k2['id'])
        self.run_cli('api', 'provider', 'delete', t, a, 'claude')
        self.assertEqual(len(self.js('api', 'provider', 'list', t, a)['items']), 1)
        self.run_cli('api', 'provider', 'get', t, a, 'claude', expect=1)
        self.assertNotIn(secret, self.srv.read_log())

    def test_plans_and_limits(self):
        t = self.js('tenant', 'create', 'llm2')['id']
        c = self.js('tenant', 'create', 'consumer')['id']
        a = self.js('api', 'create', t, '--name', 'chat', '--version', 'v1', '--kind', 'llm',
                    '--base-path', '/chat2', '--upstream', 'https://llm.test',
                    '--audience', 'https://llm.test/chat2', '--scope', 'chat')['id']
        self.js('api', 'publish', t, a)
        plan = self.js('plan', 'create', t, 'gold', '--limits',
                       '{"tokens_per_minute": 10000, "output_weight": 3}')
        self.assertEqual(plan['limits'], {'tokens_per_minute': 10000, 'output_weight': 3})
        self.run_cli('plan', 'create', t, 'bad', '--limits', '{nope', expect=2)
        self.run_cli('plan', 'create', t, 'bad', '--limits', '{"rpm": 1}', expect=1)
        self.assertIn('gold', self.run_cli('plan', 'list', t).stdout)
        with tempfile.NamedTemporaryFile('w', suffix='.json') as f:
            json.dump({'requests_per_minute': 7}, f)
            f.flush()
            self.assertEqual(self.js('plan', 'update', t, plan['id'], '--limits-file',
                                     f.name)['limits'], {'requests_per_minute': 7})
        app = self.js('app', 'create', c, 'shop')
        sub = self.js('subscription', 'request', c, '--app', app['id'], '--api', a,
                      '--scope', 'chat')
        got = self.js('subscription', 'approve', t, sub['id'], '--plan', plan['id'])
        self.assertEqual(got['plan_id'], plan['id'])
        got = self.js('subscription', 'limits', t, sub['id'], '--no-plan', '--limits',
                      '{"tokens_per_day": 99}')
        self.assertIsNone(got['plan_id'])
        self.assertEqual(got['limits'], {'tokens_per_day': 99})
        self.run_cli('plan', 'delete', t, plan['id'])
        self.run_cli('plan', 'get', t, plan['id'], expect=1)

    def test_usage(self):
        import time
        from jwcrypto import jwk
        t = self.js('tenant', 'create', 'llm3')['id']
        a = self.js('api', 'create', t, '--name', 'chat', '--version', 'v1', '--kind', 'llm',
                    '--base-path', '/chat3', '--upstream', 'https://llm.test',
                    '--audience', 'https://llm.test/chat3', '--scope', 'chat')['id']
        self.js('api', 'publish', t, a)
        app = self.js('app', 'create', t, 'own')
        sub = self.js('subscription', 'request', t, '--app', app['id'], '--api', a,
                      '--scope', 'chat')
        self.js('subscription', 'approve', t, sub['id'])
        key = jwk.JWK.generate(kty='EC', crv='P-256')
        _, gw = self.srv.admin('POST', '/gateways', {'name': 'gw-cli',
                                                     'jwk': json.loads(key.export_public())},
                               expect=201)
        minute = int(time.time()) // 60 * 60 - 120
        r = self.srv.request('POST', '/gateway/v1/usage', json.dumps({
            'batch_id': 'cli-1', 'records': [{
                'minute': minute, 'client_id': app['client_id'], 'api': a, 'model': 'gpt-4o',
                'provider': 'openai', 'key_id': 'pk_1', 'requests': 3, 'input_tokens': 30,
                'output_tokens': 12, 'status': 200}]}),
            {'Authorization': 'Bearer ' + gw['credential']})
        self.assertEqual(r.status, 200, r)
        args = ('usage', 'query', '--tenant', t, '--step', 'minute', '--from', str(minute - 60))
        got = self.js(*args)
        self.assertEqual([(i['t'], i['requests'], i['input_tokens'], i['output_tokens'])
                          for i in got['items']], [(minute, 3, 30, 12)])
        table = self.run_cli(*args).stdout.splitlines()
        self.assertEqual(table[0].split(), ['T', 'API_ID', 'MODEL', 'REQUESTS', 'INPUT_TOKENS',
                                            'OUTPUT_TOKENS'])
        self.assertEqual(table[1].split(), [str(minute), a, 'gpt-4o', '3', '30', '12'])
        self.run_cli('usage', 'query', '--tenant', t, '--step', 'week', expect=1)


if __name__ == '__main__':
    unittest.main()

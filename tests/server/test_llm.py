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


if __name__ == '__main__':
    unittest.main()

"""The LLM control plane's way to the gateways (docs/ai-gateway.md): each approved
subscription's effective limits and the llm configuration in the snapshot (providers in
fallback order, their active keys sealed to the gateway secrets key), the secrets key
(its file beside the snapshot, GET /gateway/v1/secrets, rotation), an llm API without an
upstream, and the over-quota list computed from reported usage."""
import base64
import json
import os
import shutil
import stat
import subprocess
import time
import unittest
import uuid

from jwcrypto import jwe, jwk

import jgtest
from jgtest import Server, World

SECRET = 'sk-cp-' + uuid.uuid4().hex  # unique: grep for it anywhere
SECRET2 = 'sk-cp2-' + uuid.uuid4().hex


def norm(limits):
    """A limits object as both snapshot forms may show it: weights default to 1, a
    counter of 0 is no limit."""
    out = {'input_weight': 1, 'output_weight': 1}
    for k, v in limits.items():
        if k == 'models':
            out[k] = {m: {c: n for c, n in ml.items() if n} for m, ml in v.items()}
        elif v or k.endswith('_weight'):
            out[k] = v
    return out


def metric(srv, name):
    text = srv.request('GET', '/metrics').body.decode()
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return float(line.split()[1])
    raise AssertionError('no metric ' + name)


class LlmCase(unittest.TestCase):
    """One jwtgated (EXTRA: its options) and the helpers of the tests below."""
    EXTRA = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(*cls.EXTRA, *cls.more_args())
        cls.w = World(cls.srv)
        cls.ta = cls.w.tenants['a']
        cls.tb = cls.w.tenants['b']

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    @classmethod
    def more_args(cls):
        return ()

    # ---- helpers ---------------------------------------------------------------------------

    def llm_api(self, **kw):
        n = uuid.uuid4().hex[:10]
        body = {'name': 'chat' + n, 'version': 'v1', 'base_path': '/llm/' + n, 'kind': 'llm',
                'audience': 'https://llm.test/' + n, 'scopes': ['chat']}
        body.update(kw)
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % self.ta, body, expect=201)
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (self.ta, api['id']),
                       {'state': 'published'}, expect=200)
        return api

    def pv(self, api, suffix=''):
        return '/tenants/%s/apis/%s/providers%s' % (self.ta, api['id'], suffix)

    def sub(self, api, approve_body):
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.tb,
                                {'name': 'c' + uuid.uuid4().hex[:8]}, expect=201)
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.tb, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['chat']}, expect=201)
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve'
                                % (self.ta, sub['id']), approve_body, expect=200)
        return app, sub

    def secrets_file(self):
        return os.path.join(self.srv.data, 'gateway-secrets.jwk')

    def secrets_key(self):
        with open(self.secrets_file()) as f:
            return json.load(f)

    def llm_of(self, snap, api):
        for a in snap.get('llm', {}).get('apis', []):
            if a['api_id'] == api['id']:
                return a
        return None

    def check_compiles(self):
        """The JSON form (format 1) as written compiles (the library's reader agrees)."""
        with open(self.srv.snapshot_path, 'rb') as f:
            if f.read(1) != b'{':
                return
        out = os.path.join(self.srv.tmp, 'compiled.jgs')
        r = cli('snapshot', 'compile', '-o', out, self.srv.snapshot_path)
        self.assertEqual(r.returncode, 0, r.stderr)

    def open_sealed(self, key_doc, sealed):
        t = jwe.JWE()
        t.deserialize(sealed, key=jwk.JWK(**key_doc))
        return json.loads(t.objects['protected']), t.payload.decode()

    # ---- over quota ------------------------------------------------------------------------

    def gateway(self):
        return self.srv.register_gateway()

    def report(self, gw, records):
        body = {'batch_id': 'b-' + uuid.uuid4().hex, 'records': records}
        r = self.srv.request('POST', '/gateway/v1/usage', json.dumps(body),
                             {'Authorization': 'Bearer ' + gw['credential'],
                              'Content-Type': 'application/json'})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def rec(self, app, api, minute, model='gpt-4o', inp=0, out=0, req=1):
        return {'minute': minute, 'client_id': app['client_id'], 'api': api['id'],
                'model': model, 'provider': 'openai', 'key_id': 'pk_x', 'requests': req,
                'input_tokens': inp, 'output_tokens': out, 'status': 200}

    def over(self, snap, app, api):
        return sorted((e.get('model', ''), e['until']) for e in snap.get('over_quota', [])
                      if e['client_id'] == app['client_id'] and e['api_id'] == api['id'])


class LlmControlPlane(LlmCase):
    """The llm section, limits and the secrets key in the snapshot."""

    # ---- tests -----------------------------------------------------------------------------

    def test_upstream_optional_for_llm(self):
        api = self.llm_api()  # no upstream
        self.assertEqual(api['upstream'], '')
        n = uuid.uuid4().hex[:8]
        st, doc = self.srv.admin('POST', '/tenants/%s/apis' % self.ta, {
            'name': 'h' + n, 'version': 'v1', 'base_path': '/h/' + n,
            'audience': 'https://h.test/' + n})
        self.assertEqual(st, 422, doc)
        self.assertIn('upstream', doc['detail'])
        st, doc = self.srv.admin('POST', '/tenants/%s/apis' % self.ta, {
            'name': 'l' + n, 'version': 'v1', 'base_path': '/l/' + n, 'kind': 'llm',
            'upstream': 'not a url', 'audience': 'https://l.test/' + n})
        self.assertEqual(st, 422, doc)
        snap = self.srv.snapshot()
        mine = [a for a in snap['apis'] if a['id'] == api['id']]
        self.assertEqual(len(mine), 1)
        self.assertIn(mine[0].get('upstream'), (None, ''))

    def test_llm_section(self):
        api = self.llm_api()
        self.srv.admin('POST', self.pv(api), {
            'name': 'second', 'format': 'anthropic', 'base_url': 'https://api.anthropic.test/v1',
            'models': {'gpt-4o': 'claude-sonnet-4-5'}, 'priority': 5, 'timeout_ms': 30000},
            expect=201)
        self.srv.admin('POST', self.pv(api), {
            'name': 'first', 'format': 'openai', 'base_url': 'https://api.openai.test/v1',
            'models': {'gpt-4o': 'gpt-4o-2024-08-06', 'fast': 'gpt-4.1-nano'}, 'priority': 1},
            expect=201)
        _, k1 = self.srv.admin('POST', self.pv(api, '/first/keys'), {'key': SECRET}, expect=201)
        _, k2 = self.srv.admin('POST', self.pv(api, '/first/keys'), {'key': SECRET2},
                               expect=201)
        _, k3 = self.srv.admin('POST', self.pv(api, '/second/keys'),
                               {'key': 'sk-ant-' + uuid.uuid4().hex}, expect=201)
        self.srv.admin('PATCH', self.pv(api, '/second/keys/' + k3['id']),
                       {'state': 'disabled'}, expect=200)
        snap = self.srv.snapshot()
        key = self.secrets_key()
        self.assertEqual(snap['llm']['secrets_kid'], key['kid'])
        mine = self.llm_of(snap, api)
        self.assertEqual([p['name'] for p in mine['providers']], ['first', 'second'])
        first, second = mine['providers']
        self.assertEqual(set(first), {'name', 'format', 'base_url', 'timeout_ms', 'models',
                                      'keys'})
        self.assertEqual((first['format'], first['base_url'], first['timeout_ms']),
                         ('openai', 'https://api.openai.test/v1', 60000))
        self.assertEqual(first['models'], {'gpt-4o': 'gpt-4o-2024-08-06',
                                           'fast': 'gpt-4.1-nano'})
        self.assertEqual((second['format'], second['timeout_ms']), ('anthropic', 30000))
        self.assertEqual(second['keys'], [])  # its only key is disabled
        self.assertEqual(sorted(k['id'] for k in first['keys']), sorted([k1['id'], k2['id']]))
        plains = {k1['id']: SECRET, k2['id']: SECRET2}
        for k in first['keys']:
            plain = plains[k['id']]
            hdr, got = self.open_sealed(key, k['sealed'])
            self.assertEqual(got, plain)
            self.assertEqual((hdr['alg'], hdr['enc'], hdr['kid'], hdr['cty'], hdr['jg_key']),
                             ('dir', 'A256GCM', key['kid'], 'text/plain',
                              'llm:%s:%s' % (api['id'], k['id'])))
        # neither the file, its dump nor the log shows a provider key
        with open(self.srv.snapshot_path, 'rb') as f:
            raw = f.read()
        self.assertNotIn(SECRET.encode(), raw)
        self.assertNotIn(SECRET, json.dumps(snap))
        self.assertNotIn(SECRET, self.srv.read_log())
        self.check_compiles()
        # a key disabled, a provider changed: the next snapshot follows
        self.srv.admin('PATCH', self.pv(api, '/first/keys/' + k1['id']), {'state': 'disabled'},
                       expect=200)
        self.srv.admin('PATCH', self.pv(api, '/second'), {'priority': 0, 'timeout_ms': 1000},
                       expect=200)
        mine = self.llm_of(self.srv.snapshot(), api)
        self.assertEqual([p['name'] for p in mine['providers']], ['second', 'first'])
        self.assertEqual(mine['providers'][0]['timeout_ms'], 1000)
        self.assertEqual([k['id'] for k in mine['providers'][1]['keys']], [k2['id']])
        # the provider deleted: gone from the next snapshot
        self.srv.admin('DELETE', self.pv(api, '/second'), expect=204)
        mine = self.llm_of(self.srv.snapshot(), api)
        self.assertEqual([p['name'] for p in mine['providers']], ['first'])

    def test_reseal_once_per_key(self):
        api = self.llm_api()
        self.srv.admin('POST', self.pv(api), {
            'name': 'p', 'format': 'openai', 'base_url': 'https://p.test/v1',
            'models': {'m': 'm'}}, expect=201)
        self.srv.admin('POST', self.pv(api, '/p/keys'), {'key': 'sk-once-' + uuid.uuid4().hex},
                       expect=201)
        self.srv.snapshot()
        before = metric(self.srv, 'jwtgated_llm_key_reseals_total')
        # unrelated changes: new snapshots, no key opened again
        for _ in range(3):
            self.srv.admin('POST', '/tenants/%s/apps' % self.tb,
                           {'name': 'u' + uuid.uuid4().hex[:8]}, expect=201)
            self.srv.snapshot()
        self.assertEqual(metric(self.srv, 'jwtgated_llm_key_reseals_total'), before)
        # a new key: exactly one more
        self.srv.admin('POST', self.pv(api, '/p/keys'), {'key': 'sk-more-' + uuid.uuid4().hex},
                       expect=201)
        self.srv.snapshot()
        self.assertEqual(metric(self.srv, 'jwtgated_llm_key_reseals_total'), before + 1)

    def test_limits_in_snapshot(self):
        api = self.llm_api()
        inline = {'requests_per_minute': 10, 'tokens_per_day': 5000, 'output_weight': 4,
                  'models': {'gpt-4o': {'tokens_per_minute': 300}}}
        app1, s1 = self.sub(api, {'limits': inline})
        _, plan = self.srv.admin('POST', '/tenants/%s/plans' % self.ta, {
            'name': 'p' + uuid.uuid4().hex[:6], 'limits': {'tokens_per_minute': 700}},
            expect=201)
        app2, s2 = self.sub(api, {'plan_id': plan['id']})
        app3, s3 = self.sub(api, {})
        subs = {s['id']: s for s in self.srv.snapshot()['subscriptions']}
        self.assertEqual(norm(subs[s1['id']]['limits']), norm(inline))
        self.assertEqual(norm(subs[s2['id']]['limits']), norm({'tokens_per_minute': 700}))
        self.assertNotIn('limits', subs[s3['id']])
        self.check_compiles()
        # a plan's change reaches every subscription on it
        self.srv.admin('PATCH', '/tenants/%s/plans/%s' % (self.ta, plan['id']),
                       {'limits': {'tokens_per_minute': 900}}, expect=200)
        subs = {s['id']: s for s in self.srv.snapshot()['subscriptions']}
        self.assertEqual(norm(subs[s2['id']]['limits']), norm({'tokens_per_minute': 900}))
        # inline limits win over a plan
        self.srv.admin('PUT', '/tenants/%s/subscriptions/%s/limits' % (self.ta, s2['id']),
                       {'limits': {'requests_per_minute': 3}}, expect=200)
        subs = {s['id']: s for s in self.srv.snapshot()['subscriptions']}
        self.assertEqual(norm(subs[s2['id']]['limits']), norm({'requests_per_minute': 3}))

    def test_secrets_key_file_and_rotation(self):
        path = self.secrets_file()
        self.srv.snapshot()
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        key = self.secrets_key()
        self.assertEqual((key['kty'], key['alg']), ('oct', 'dir'))
        self.assertTrue(key['kid'].startswith('gsk_'))
        self.assertEqual(len(base64.urlsafe_b64decode(key['k'] + '==')), 32)
        # not a decryption key of the gateways, not published
        snap = self.srv.snapshot()
        self.assertNotIn(key['kid'], json.dumps(snap.get('decryption_keys', {})))
        self.assertNotIn(key['kid'], json.dumps(snap.get('keys', [])))
        self.assertNotIn(key['k'], self.srv.read_log())
        api = self.llm_api()
        self.srv.admin('POST', self.pv(api), {
            'name': 'p', 'format': 'openai', 'base_url': 'https://p.test/v1',
            'models': {'m': 'm'}}, expect=201)
        self.srv.admin('POST', self.pv(api, '/p/keys'), {'key': SECRET}, expect=201)
        _, keys = self.srv.admin('POST', '/keys/rotate', {'purpose': 'secrets'}, expect=200)
        states = {(k['purpose'], k['state']) for k in keys['items']}
        self.assertIn(('secrets', 'active'), states)
        self.assertIn(('secrets', 'retiring'), states)
        snap = self.srv.snapshot()
        new = self.secrets_key()
        self.assertNotEqual(new['kid'], key['kid'])
        self.assertEqual(snap['llm']['secrets_kid'], new['kid'])
        sealed = self.llm_of(snap, api)['providers'][0]['keys'][0]['sealed']
        self.assertEqual(self.open_sealed(new, sealed)[1], SECRET)
        with self.assertRaises(Exception):
            self.open_sealed(key, sealed)
        st, doc = self.srv.admin('POST', '/keys/rotate', {'purpose': 'nope'})
        self.assertEqual(st, 422, doc)

    def test_secrets_endpoint(self):
        gkey = jwk.JWK.generate(kty='EC', crv='P-256')
        _, gw = self.srv.admin('POST', '/gateways', {
            'name': 'gw-' + uuid.uuid4().hex[:8], 'jwk': json.loads(gkey.export_public())},
            expect=201)
        self.srv.snapshot()
        r = self.srv.request('GET', '/gateway/v1/secrets', None,
                             {'Authorization': 'Bearer ' + gw['credential']})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        t = jwe.JWE()
        t.deserialize(r.body.decode(), key=gkey)
        got = json.loads(t.payload)
        self.assertEqual(got, self.secrets_key())
        self.assertEqual(json.loads(t.objects['protected'])['cty'], 'jwk+json')
        etag = r.header('ETag')
        self.assertEqual(etag, '"%s"' % got['kid'])
        r = self.srv.request('GET', '/gateway/v1/secrets', None,
                             {'Authorization': 'Bearer ' + gw['credential'],
                              'If-None-Match': etag})
        self.assertEqual(r.status, 304)
        for cred in ('', 'jgw_nope.x', gw['credential'] + 'x'):
            r = self.srv.request('GET', '/gateway/v1/secrets', None,
                                 {'Authorization': 'Bearer ' + cred})
            self.assertEqual(r.status, 401, cred)
        r = self.srv.request('POST', '/gateway/v1/secrets', '',
                             {'Authorization': 'Bearer ' + gw['credential']})
        self.assertEqual(r.status, 405)
        self.srv.admin('POST', '/gateways/%s/revoke' % gw['id'], expect=200)
        r = self.srv.request('GET', '/gateway/v1/secrets', None,
                             {'Authorization': 'Bearer ' + gw['credential']})
        self.assertEqual(r.status, 401)


class OverQuota(LlmCase):
    """Over-quota entries from reported usage, and their end when their minute (or day)
    is over: on a jwtgated whose clock the test moves (--test-clock-file, for tests only)
    instead of waiting for the calendar."""

    @classmethod
    def setUpClass(cls):
        cls.clock_dir = jgtest.scratch('clock-')
        cls.clock_file = os.path.join(cls.clock_dir, 'offset')
        cls.offset = 0
        with open(cls.clock_file, 'w') as f:
            f.write('0\n')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.clock_dir, ignore_errors=True)

    @classmethod
    def more_args(cls):
        return ('--test-clock-file', cls.clock_file)

    def server_now(self):
        return int(time.time()) + self.offset

    def move_clock(self, offset):
        """The server's clock `offset` seconds ahead of the real one (forward only), once
        its maintenance (every second) has logged that it took the new offset."""
        self.assertGreater(offset, self.offset)
        line = 'test clock: %+d s' % offset
        seen = self.srv.read_log().count(line)
        tmp = self.clock_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % offset)
        os.replace(tmp, self.clock_file)  # never a half-written file
        jgtest.wait_until(lambda: self.srv.read_log().count(line) > seen, 30,
                          what='jwtgated to take the test clock')
        type(self).offset = offset

    def minute_start(self):
        """The server's clock early in a minute (at most 20 s in: else moved on to 5 s into
        the next), so that everything the test reports falls in one calendar minute, and
        not in the last minutes of a UTC day (the test moves the clock a minute on);
        returns (minute, day)."""
        now = self.server_now()
        if now % 60 > 20 or now % 86400 > 86400 - 180:
            target = now - now % 60 + 65
            if target % 86400 > 86400 - 180:
                target = target - target % 86400 + 86400 + 5
            self.move_clock(self.offset + target - now)
        now = self.server_now()
        return now // 60 * 60, now // 86400 * 86400

    def test_over_quota(self):
        api = self.llm_api()
        limits = {'tokens_per_minute': 100, 'output_weight': 2,
                  'models': {'fast': {'tokens_per_day': 50}}}
        app, sub = self.sub(api, {'limits': limits})
        _, app = self.srv.admin('GET', '/tenants/%s/apps/%s' % (self.tb, app['id']), expect=200)
        gw = self.gateway()
        minute, day = self.minute_start()  # every batch of this test in that minute
        self.report(gw, [self.rec(app, api, minute, inp=30, out=20)])  # 70 of 100
        self.assertEqual(self.over(self.srv.snapshot(), app, api), [])
        self.report(gw, [self.rec(app, api, minute, inp=10, out=10)])  # 100 of 100: at it
        snap = self.srv.snapshot()
        self.assertEqual(self.over(snap, app, api), [('', minute + 60)])
        # audited in both tenants
        for t in (self.ta, self.tb):
            _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % t)
            self.assertIn(('subscription.over_quota', sub['id']),
                          [(e['action'], e['target']) for e in audit['items']], t)
        # more usage in the same minute: the same entry, no change
        version = self.srv.versions()[0]
        self.report(gw, [self.rec(app, api, minute, inp=5)])
        self.assertEqual(self.srv.versions()[0], version)
        # a model's daily limit: an entry of its own, until the end of the UTC day
        self.report(gw, [self.rec(app, api, minute, model='fast', inp=50)])
        snap = self.srv.snapshot()
        self.assertEqual(self.over(snap, app, api), [('', minute + 60), ('fast', day + 86400)])
        self.check_compiles()
        # another client of the API is not listed
        app2, _ = self.sub(api, {'limits': limits})
        _, app2 = self.srv.admin('GET', '/tenants/%s/apps/%s' % (self.tb, app2['id']),
                                 expect=200)
        self.report(gw, [self.rec(app2, api, minute, inp=1)])
        self.assertEqual(self.over(self.srv.snapshot(), app2, api), [])
        # the minute's entry goes when its minute is over (maintenance, a change); the
        # day's stays
        self.assertEqual(self.over(self.srv.snapshot(), app, api),
                         [('', minute + 60), ('fast', day + 86400)])
        self.move_clock(self.offset + 60)
        self.assertGreaterEqual(self.server_now(), minute + 60)

        def gone():
            got = self.over(self.srv.snapshot(), app, api)
            return got if got == [('fast', day + 86400)] else None
        jgtest.wait_until(gone, 30, step=0.2, what='the minute entry to expire')
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        self.assertIn(('subscription.over_quota_end', sub['id']),
                      [(e['action'], e['target']) for e in audit['items']])

    def test_over_quota_plan_and_unlimited(self):
        api = self.llm_api()
        _, plan = self.srv.admin('POST', '/tenants/%s/plans' % self.ta, {
            'name': 'q' + uuid.uuid4().hex[:6], 'limits': {'requests_per_minute': 2}},
            expect=201)
        app, _ = self.sub(api, {'plan_id': plan['id']})
        free, _ = self.sub(api, {})
        _, app = self.srv.admin('GET', '/tenants/%s/apps/%s' % (self.tb, app['id']), expect=200)
        _, free = self.srv.admin('GET', '/tenants/%s/apps/%s' % (self.tb, free['id']),
                                 expect=200)
        gw = self.gateway()
        minute, _ = self.minute_start()
        self.report(gw, [self.rec(app, api, minute, req=2), self.rec(free, api, minute, req=999,
                                                                     inp=10 ** 9)])
        snap = self.srv.snapshot()
        self.assertEqual(self.over(snap, app, api), [('', minute + 60)])
        self.assertEqual(self.over(snap, free, api), [])  # no limits: never over


class SecretsKeyUpgrade(unittest.TestCase):
    """A database from before schema 13 has no gateway secrets key: its first start makes
    one (and writes its file); the next start keeps it."""

    def test_first_start_makes_one(self):
        with Server() as srv:
            path = os.path.join(srv.data, 'gateway-secrets.jwk')
            srv.stop()
            srv.sql("DELETE FROM keys WHERE purpose = 'secrets'")
            os.unlink(path)
            srv.start()
            srv.snapshot()
            with open(path) as f:
                first = json.load(f)
            _, keys = srv.admin('GET', '/keys', expect=200)
            mine = [k for k in keys['items'] if k['purpose'] == 'secrets']
            self.assertEqual([(k['id'], k['state']) for k in mine if k['state'] == 'active'],
                             [(first['kid'], 'active')])
            self.assertTrue(all('private_jwe' not in k for k in mine))
            srv.stop()
            srv.start()
            srv.snapshot()
            with open(path) as f:
                self.assertEqual(json.load(f)['kid'], first['kid'])


def cli(*args, env=None):
    return subprocess.run([jgtest.JWTGATE_CLI] + list(args), capture_output=True, text=True,
                          env=env or jgtest.config.child_env(), timeout=120)


class LlmAgents(unittest.TestCase):
    """The gateway-side agents: `gateway sync --secrets-out` and `gateway usage`."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.ta = cls.w.tenants['a']
        cls.tb = cls.w.tenants['b']
        cls.tmp = jgtest.config.scratch('llm-agents-')
        cls.env = dict(jgtest.config.child_env(), JWTGATE_ADMIN_URL=cls.srv.issuer,
                       JWTGATE_ADMIN_TOKEN=cls.srv.admin_token)
        cls.cred = os.path.join(cls.tmp, 'edge.json')
        out = cli('admin', 'gateway', 'create', 'edge-' + uuid.uuid4().hex[:6], '--out',
                  cls.cred, env=cls.env)
        assert out.returncode == 0, out.stderr

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_sync_secrets_out(self):
        snap = os.path.join(self.tmp, 'snap.jgs')
        sec = os.path.join(self.tmp, 'secrets.jwk')
        args = ('gateway', 'sync', '--once', '--url', self.srv.issuer, '--credential', self.cred,
                '--out', snap, '--secrets-out', sec)
        out = cli(*args)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(sec) as f:
            got = json.load(f)
        with open(os.path.join(self.srv.data, 'gateway-secrets.jwk')) as f:
            self.assertEqual(got, json.load(f))
        self.assertEqual(stat.S_IMODE(os.stat(sec).st_mode), 0o600)
        self.assertNotIn(got['k'], out.stderr)
        # nothing new: not written again
        out = cli(*args)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn('secrets key', out.stderr)
        # a rotation: the next sync brings the new key (before the snapshot sealed to it)
        self.srv.admin('POST', '/keys/rotate', {'purpose': 'secrets'}, expect=200)
        self.srv.snapshot()
        out = cli(*(args + ('--mode', '0640')))
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(sec) as f:
            new = json.load(f)
        self.assertNotEqual(new['kid'], got['kid'])
        self.assertEqual(stat.S_IMODE(os.stat(sec).st_mode), 0o640)

    # ---- the usage agent -------------------------------------------------------------------

    def setup_usage(self):
        n = uuid.uuid4().hex[:10]
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % self.ta, {
            'name': 'u' + n, 'version': 'v1', 'base_path': '/u/' + n, 'kind': 'llm',
            'audience': 'https://u.test/' + n, 'scopes': ['chat']}, expect=201)
        self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (self.ta, api['id']),
                       {'state': 'published'}, expect=200)
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.tb,
                                {'name': 'c' + n}, expect=201)
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.tb, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['chat']}, expect=201)
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (self.ta, sub['id']),
                       {}, expect=200)
        d = os.path.join(self.tmp, 'u-' + n)
        os.makedirs(d)
        return api, app, os.path.join(d, 'usage.log'), os.path.join(d, 'usage.state')

    def line(self, app, api, t, model='gpt-4o', inp=0, out=0, status=200):
        return json.dumps({'t': t, 'client_id': app['client_id'], 'api': api['id'],
                           'model': model, 'provider': 'openai', 'key_id': 'pk_a',
                           'status': status, 'input_tokens': inp,
                           'output_tokens': out}) + '\n'

    def agent(self, log, state, *urls):
        args = ['gateway', 'usage', '--once', '--credential', self.cred, '--log', log,
                '--state', state]
        for u in urls or (self.srv.issuer,):
            args += ['--url', u]
        return cli(*args)

    def totals(self, api, frm):
        _, got = self.srv.admin('GET', '/usage?tenant=%s&api=%s&from=%d&to=%d&step=minute'
                                % (self.ta, api['id'], frm, frm + 3600), expect=200)
        return sorted((i['t'], i['model'], i['requests'], i['input_tokens'], i['output_tokens'])
                      for i in got['items'])

    def test_usage_agent(self):
        api, app, log, state = self.setup_usage()
        base = int(time.time()) // 60 * 60 - 1200  # 20 minutes ago
        m1, m2 = base, base + 60
        with open(log, 'w') as f:
            f.write(self.line(app, api, m1 + 1.5, inp=10, out=5))
            f.write(self.line(app, api, m1 + 30, inp=20, out=7))
            f.write('not json SECRETLINE\n')
            f.write(json.dumps({'t': m1, 'client_id': 'SECRETLINE'}) + '\n')
            f.write(self.line(app, api, m2 + 59, model='fast', inp=1, out=1, status=429))
            f.write(self.line(app, api, m2, inp=100, out=100)[:40])  # being written
        out = self.agent(log, state)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('2 skipped', out.stderr)
        self.assertNotIn('SECRETLINE', out.stderr)
        self.assertNotIn(json.load(open(self.cred))['credential'], out.stderr)
        self.assertEqual(self.totals(api, base), [(m1, 'gpt-4o', 2, 30, 12),
                                                  (m2, 'fast', 1, 1, 1)])
        # the partial line completed; jwtgated down: nothing sent, the state kept
        with open(log, 'a') as f:
            f.write(self.line(app, api, m2, inp=100, out=100)[40:])
        dead = 'http://127.0.0.1:%d' % jgtest.free_port()
        out = self.agent(log, state, dead)
        self.assertEqual(out.returncode, 3, out.stderr)
        crashed = open(state).read()  # as a crash after the send would leave it
        self.assertIn('pending_end', crashed)
        with open(log, 'a') as f:
            f.write(self.line(app, api, m2, inp=1000, out=0))
        # up again (failover past the dead node): the pending batch as it was, then the rest
        out = self.agent(log, state, dead, self.srv.issuer)
        self.assertEqual(out.returncode, 0, out.stderr)
        want = [(m1, 'gpt-4o', 2, 30, 12), (m2, 'fast', 1, 1, 1), (m2, 'gpt-4o', 2, 1100, 100)]
        self.assertEqual(self.totals(api, base), want)
        # a restart from the state of before (the batches sent again): duplicates, not counted
        with open(state, 'w') as f:
            f.write(crashed)
        out = self.agent(log, state)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.totals(api, base), want)
        # rotation: the rest of the old file (at .1) first, then the new one
        with open(log, 'a') as f:
            f.write(self.line(app, api, m1, model='r', inp=1))
        os.rename(log, log + '.1')
        with open(log, 'w') as f:
            f.write(self.line(app, api, m1, model='r', inp=2))
        out = self.agent(log, state)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn((m1, 'r', 2, 3, 0), self.totals(api, base))
        # truncation (copytruncate): read from the start again
        with open(log, 'w') as f:
            f.write(self.line(app, api, m1, model='t', inp=5))
        out = self.agent(log, state)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn((m1, 't', 1, 5, 0), self.totals(api, base))
        # a revoked gateway: exit 4, the state kept
        rv = os.path.join(self.tmp, 'rv-%s.json' % uuid.uuid4().hex[:6])
        out = cli('admin', 'gateway', 'create', 'rv-' + uuid.uuid4().hex[:6], '--out', rv,
                  env=self.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.srv.admin('POST', '/gateways/%s/revoke' % json.load(open(rv))['gateway_id'],
                       expect=200)
        with open(log, 'a') as f:
            f.write(self.line(app, api, m1, model='x', inp=5))
        before = open(state).read()
        out = cli('gateway', 'usage', '--once', '--credential', rv, '--log', log, '--state',
                  state, '--url', self.srv.issuer)
        self.assertEqual(out.returncode, 4, out.stderr)
        self.assertNotIn((m1, 'x', 1, 5, 0), self.totals(api, base))
        self.assertEqual(json.loads(open(state).read())['offset'], json.loads(before)['offset'])

    def test_usage_agent_options(self):
        out = cli('gateway', 'usage', '--url', self.srv.issuer)
        self.assertEqual(out.returncode, 2)
        out = cli('gateway', 'usage', '--help')
        self.assertEqual(out.returncode, 0)
        self.assertIn('--state', out.stdout)
        api, app, log, state = self.setup_usage()
        with open(state, 'w') as f:
            f.write('garbage')
        open(log, 'w').close()
        out = self.agent(log, state)
        self.assertEqual(out.returncode, 2, out.stderr)


class LlmControlPlaneJson(LlmControlPlane):
    """The same through the JSON snapshot (--snapshot-format json, format 1)."""
    EXTRA = ('--snapshot-format', 'json')


class OverQuotaJson(OverQuota):
    """The same through the JSON snapshot (--snapshot-format json, format 1)."""
    EXTRA = ('--snapshot-format', 'json')


if __name__ == '__main__':
    unittest.main()

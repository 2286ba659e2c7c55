"""The AI gateway end to end with jwtgated (issue 18): an llm API, its provider and
provider key created through the admin API, a subscription with a token limit, an
access token from jwtgated; two gateways (nginx with the AI module) reading
jwtgated's snapshot and gateway secrets key; a mock OpenAI provider; the usage agent
(`jwtgate gateway usage`) posting the first gateway's usage log. A client over its
limit at the first gateway is refused at the second through the snapshot's
over-quota list, without a provider call.

Needs jwtgated's LLM control plane (the secrets key beside the snapshot, the llm
section, the over-quota list: issue 18's control-plane part)."""
import json
import os
import subprocess
import time
import unittest
import uuid

import jgtest
from jgtest import Nginx, Server, World, request
from jgtest.llm_mock import LLMMock
from jgtest.nginx import require_module
from jgtest.tokens import cli as jwtgate

import test_ai_gateway as ai

SECRET = 'sk-e2e-' + uuid.uuid4().hex

SERVER = '''
        jwtgate_snapshot %(snapshot)s;
        location /llm/ {
            jwtgate llm;
            jwtgate_ai /_jwtgate_ai;
        }
        location /_jwtgate_ai {
            internal;
            proxy_pass $jwtgate_ai_url;
            proxy_buffering off;
        }
'''

HTTP = '''
    jwtgate_ai_secrets_key %s;
    jwtgate_ai_usage_log %%(dir)s/usage.log;
'''


class EndToEnd(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        ai.node_modules()
        require_module()
        cls.srv = Server()
        cls.mock = None
        cls.gws = []
        try:
            cls.setup_world()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def setup_world(cls):
        srv = cls.srv
        w = World(srv)
        ta, tb = w.tenants['a'], w.tenants['b']
        secrets = os.path.join(srv.data, 'gateway-secrets.jwk')
        if not os.path.exists(secrets):
            raise AssertionError('jwtgated wrote no gateway secrets key at %s: it lacks the '
                                 'LLM control plane (issue 18)' % secrets)
        cls.mock = LLMMock('openai', keys=[SECRET]).start()
        _, api = srv.admin('POST', '/tenants/%s/apis' % ta, {
            'name': 'chat', 'version': 'v1', 'base_path': '/llm', 'kind': 'llm',
            'audience': 'https://llm.e2e.test', 'scopes': ['chat']}, expect=201)
        srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, api['id']),
                  {'state': 'published'}, expect=200)
        pv = '/tenants/%s/apis/%s/providers' % (ta, api['id'])
        srv.admin('POST', pv, {'name': 'openai', 'format': 'openai',
                               'base_url': cls.mock.base_url,
                               'models': {'gpt-4o': 'mock-gpt-4o'}}, expect=201)
        srv.admin('POST', pv + '/openai/keys', {'key': SECRET}, expect=201)
        _, app = srv.admin('POST', '/tenants/%s/apps' % tb, {'name': 'chat-client'},
                           expect=201)
        _, sub = srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['chat']}, expect=201)
        # 20 tokens a minute: two answers of the mock (5 in + 5 out each)
        srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (ta, sub['id']),
                  {'limits': {'tokens_per_minute': 20}}, expect=200)
        cls.api, cls.app, cls.ta, cls.tb = api, app, ta, tb
        r = srv.token(app['client_id'], app['client_secret'])
        assert r.status == 200, r
        cls.tok = r.json()['access_token']
        env = dict(jgtest.config.child_env(), JWTGATE_ADMIN_URL=srv.issuer,
                   JWTGATE_ADMIN_TOKEN=srv.admin_token)
        cls.cred = os.path.join(srv.tmp, 'edge.json')
        p = subprocess.run([jgtest.config.JWTGATE_CLI, 'admin', 'gateway', 'create', 'edge-1',
                            '--out', cls.cred], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        for i in range(2):
            gw = Nginx('%s-gw%d' % (cls.__name__, i), SERVER, HTTP % secrets,
                       params={'snapshot': srv.snapshot_path})
            gw.start()
            cls.gws.append(gw)

    @classmethod
    def tearDownClass(cls):
        crashes = []
        for gw in cls.gws:
            gw.stop()
            crashes += gw.crashes()
        if cls.mock is not None:
            cls.mock.stop()
        cls.srv.close()
        if crashes:
            raise AssertionError('nginx crashed:\n' + '\n'.join(crashes))

    def chat(self, gw):
        return request(gw.port, '/llm/v1/chat/completions', token=self.tok, method='POST',
                       body=json.dumps(ai.CHAT).encode(),
                       headers={'Content-Type': 'application/json'})

    def usage_lines(self, gw):
        with open(os.path.join(gw.dir, 'usage.log')) as f:
            return [json.loads(line) for line in f]

    def test_quota_across_gateways(self):
        one, two = self.gws
        # every request of this test in one calendar minute (a bounded wait at most)
        if time.time() % 60 > 35:
            jgtest.wait_until(lambda: time.time() % 60 < 5, 30, step=0.2)
        # the official client through the first gateway: the provider key never
        # reaches it, the token never reaches the provider
        r = ai.run_client('openai', 'chat', ai.CHAT, self.tok,
                          'http://127.0.0.1:%d/llm/v1' % one.port)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'openai')
        self.assertNotIn(SECRET, json.dumps(r))
        got = self.mock.requests[-1]
        self.assertEqual(got.headers.get('authorization'), 'Bearer ' + SECRET)
        self.assertNotIn(self.tok, json.dumps(got.headers) + got.body.decode())
        # a second answer: 20 tokens, the limit; the first gateway refuses the third
        self.assertEqual(self.chat(one).status, 200)
        calls = self.mock.calls()
        r = self.chat(one)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(self.mock.calls(), calls)
        # (a worker writes the usage lines at the end of its event loop's pass)
        jgtest.wait_until(lambda: len(self.usage_lines(one)) >= 2, 10, what='two usage lines')
        self.assertEqual([(x['status'], x['input_tokens'], x['output_tokens'])
                          for x in self.usage_lines(one)], [(200, 5, 5), (200, 5, 5)])
        # the second gateway counted nothing of it: the usage agent reports the first
        # gateway's log, jwtgated lists the client as over quota, the second gateway
        # refuses it from its snapshot
        state = os.path.join(self.srv.tmp, 'usage.state')
        jwtgate('gateway', 'usage', '--once', '--credential', self.cred, '--log',
                os.path.join(one.dir, 'usage.log'), '--state', state, '--url', self.srv.issuer)
        snap = self.srv.snapshot()
        listed = [e for e in snap.get('over_quota', [])
                  if e['client_id'] == self.app['client_id'] and e['api_id'] == self.api['id']]
        self.assertEqual(len(listed), 1, snap.get('over_quota'))
        jgtest.wait_until(lambda: 'version %d loaded' % snap['version'] in two.logs(), 10,
                          step=0.1, what='the second gateway to load the snapshot')
        r = self.chat(two)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.json()['error']['message'], 'quota exceeded')
        self.assertGreaterEqual(int(r.header('Retry-After')), 1)
        self.assertEqual(self.mock.calls(), calls)
        self.assertFalse(os.path.exists(os.path.join(two.dir, 'usage.log'))
                         and self.usage_lines(two))

    def test_pending_subscription_and_revoked_token(self):
        # a client whose subscription waits for approval, and a revoked token:
        # refused by both gateways, no provider call
        srv, ta, tb = self.srv, self.ta, self.tb
        _, app = srv.admin('POST', '/tenants/%s/apps' % tb, {'name': 'pending-client'},
                           expect=201)
        srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': app['id'], 'api_id': self.api['id'], 'scopes': ['chat']}, expect=201)
        calls = self.mock.calls()
        r = srv.token(app['client_id'], app['client_secret'])
        if r.status == 200:
            for gw in self.gws:
                got = request(gw.port, '/llm/v1/chat/completions', token=r.json()['access_token'],
                              method='POST', body=json.dumps(ai.CHAT).encode(),
                              headers={'Content-Type': 'application/json'})
                self.assertIn(got.status, (401, 403), got)
        else:
            self.assertIn(r.status, (400, 401, 403), r)
        # a token of the approved client, revoked
        _, other = srv.admin('POST', '/tenants/%s/apps' % tb, {'name': 'revoked-client'},
                             expect=201)
        _, sub = srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': other['id'], 'api_id': self.api['id'], 'scopes': ['chat']}, expect=201)
        srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (ta, sub['id']), {},
                  expect=200)
        tok = srv.token(other['client_id'], other['client_secret']).json()['access_token']
        r = srv.post_form('/oauth2/revoke', {'token': tok},
                          auth=(other['client_id'], other['client_secret']))
        self.assertEqual(r.status, 200, r)
        version = srv.snapshot()['version']
        for gw in self.gws:
            jgtest.wait_until(lambda: gw.logs().count('version %d loaded' % version) >= 1, 10,
                              step=0.1, what='the gateway to load the snapshot')
            got = request(gw.port, '/llm/v1/chat/completions', token=tok, method='POST',
                          body=json.dumps(ai.CHAT).encode(),
                          headers={'Content-Type': 'application/json'})
            self.assertEqual(got.status, 401, got)
        self.assertEqual(self.mock.calls(), calls)


if __name__ == '__main__':
    unittest.main(verbosity=2)

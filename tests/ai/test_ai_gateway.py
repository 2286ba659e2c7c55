"""The AI gateway's data plane (issue 18): ngx_http_jwtgate_ai_module in a real
nginx in front of mock LLM providers (jgtest.llm_mock, OpenAI and Anthropic wire
formats), called by the official npm clients `openai` and `@anthropic-ai/sdk`
with our encrypted access token as their API key (tests/ai/clients.mjs).

The snapshot is written by hand (format 1, compiled by the module) with an `llm`
section whose provider keys are sealed to a gateway secrets key, as jwtgated
publishes them (docs/ai-gateway.md)."""
import json
import os
import signal
import socket
import subprocess
import time
import unittest

import jgtest
from jgtest import Nginx, NginxTest, nested, request
from jgtest.certs import Certs
from jgtest.llm_mock import LLMMock
from jgtest.tokens import cli

HERE = os.path.dirname(os.path.abspath(__file__))
ISS = 'https://issuer.ai.test'
AUD = 'https://llm.ai.test'
API = 'api_llm'
NOW = int(time.time())

SERVER = '''
        jwtgate_snapshot %(dir)s/snapshot.json;

        # Anthropic clients send their API key (our token) as x-api-key
        # (or, as recent SDKs do, as Authorization: Bearer)
        # at least jwtgate_ai_body_max: nginx answers larger bodies itself
        client_max_body_size 8m;

        location /llm/v1/messages {
            jwtgate llm token=$llm_token;
            jwtgate_ai /_jwtgate_ai;
        }
        location /llm/ {
            jwtgate llm;
            jwtgate_ai /_jwtgate_ai;
        }
        location /_jwtgate_ai {
            internal;
            proxy_pass $jwtgate_ai_url;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_connect_timeout 2s;
            proxy_read_timeout 2s;
        }
'''

HTTP = '''
    map $http_authorization $llm_bearer {
        "~^Bearer +(?<t>[^ ]+)$"  $t;
        default                    "";
    }
    map $http_x_api_key $llm_token {
        ""       $llm_bearer;
        default  $http_x_api_key;
    }
    jwtgate_ai_secrets_key %(dir)s/secrets.jwk;
    jwtgate_ai_usage_log %(dir)s/usage.log;
'''


def node_modules():
    if not os.path.isdir(os.path.join(HERE, 'node_modules', 'openai')):
        raise RuntimeError('npm openai is not installed in %s/node_modules (scripts/test '
                           'installs it: cd tests/ai && npm ci)' % HERE)


def run_client(sdk, op, request, tok, base):
    """One call of an official client (tests/ai/clients.mjs): its outcome."""
    cmd = {'sdk': sdk, 'op': op, 'request': request, 'apiKey': tok, 'baseURL': base}
    p = subprocess.run(['node', os.path.join(HERE, 'clients.mjs')], input=json.dumps(cmd),
                       capture_output=True, text=True, timeout=60, cwd=HERE)
    if p.returncode != 0:
        raise AssertionError('clients.mjs: %s' % p.stderr)
    return json.loads(p.stdout)


class World:
    """The mocks, the secrets key, the sealed keys and the snapshot of one nginx."""

    def __init__(self, keys, dir, providers, subs, revoked=(), over_quota=()):
        self.keys = keys
        self.dir = dir
        self.secrets = os.path.join(dir, 'secrets.jwk')
        with open(self.secrets, 'w') as f:
            f.write(cli('key', 'generate', '--alg', 'dir', '--bits', '256', '--kid', 'sec-1'))
        os.chmod(self.secrets, 0o640)
        self.providers = providers
        self.subs = subs
        self.revoked = list(revoked)
        self.over_quota = list(over_quota)
        self.version = 0

    def seal(self, api, key_id, secret):
        return cli('jwe', 'encrypt', '--key', self.secrets, '--alg', 'dir', '--enc', 'A256GCM',
                   '--header', json.dumps({'jg_key': 'llm:%s:%s' % (api, key_id),
                                           'cty': 'text/plain'}), stdin=secret)

    def llm(self):
        provs = []
        for p in self.providers:
            provs.append({'name': p['name'], 'format': p['mock'].format,
                          'base_url': p['mock'].base_url,
                          'timeout_ms': p.get('timeout_ms', 3000),
                          'models': p['models'],
                          'keys': [{'id': kid, 'sealed': self.seal(p.get('api', API), kid, sec)}
                                   for kid, sec in p['keys']]})
        return {'secrets_kid': 'sec-1', 'apis': [{'api_id': API, 'providers': provs}]}

    def write(self):
        self.version += 1
        with open(self.keys.jwks_file("dec", "gateway")) as f:
            d = json.load(f)
        with open(self.keys.jwks_file("ver", "issuer", public=True)) as f:
            v = json.load(f)
        doc = {'format': 'jwtgate-snapshot', 'format_version': 1, 'version': self.version,
               'generated_at': int(time.time()), 'issuer': ISS, 'token_ttl': 900,
               'decryption_keys': d, 'verification_keys': v, 'keys': [],
               'apis': [{'id': API, 'tenant_id': 'ten_1', 'name': 'chat', 'version': 'v1',
                         'base_path': '/llm', 'upstream': 'http://127.0.0.1:1',
                         'audience': AUD, 'scopes': ['chat'], 'state': 'published',
                         'sunset': None}],
               'subscriptions': self.subs,
               'revoked_jti': [{'jti': j, 'exp': NOW + 3600} for j in self.revoked],
               'suspended_clients': [],
               'over_quota': self.over_quota,
               'llm': self.llm()}
        path = os.path.join(self.dir, 'snapshot.json')
        with open(path + '.tmp', 'w') as f:
            json.dump(doc, f)
        os.chmod(path + '.tmp', 0o600)
        os.rename(path + '.tmp', path)


def sub(client, limits=None):
    s = {'id': 'sub_' + client, 'client_id': client, 'api_id': API, 'audience': AUD,
         'scopes': ['chat']}
    if limits is not None:
        s['limits'] = limits
    return s


def token(keys, client, jti=None):
    return nested(keys, iss=ISS, aud=AUD, sub=client, jti=jti,
                  claims={'client_id': client, 'scope': 'chat'})


class AITest(NginxTest):
    """One nginx and its mocks per class."""

    providers = ()
    subs = ()
    revoked = ()
    over_quota = ()
    server_conf = SERVER
    http_conf = HTTP
    ports_named = ()

    @classmethod
    def setUpClass(cls):
        node_modules()
        super().setUpClass()
        cls.mocks = {}
        try:
            provs = cls.make_providers()
            cls.ng = Nginx(cls.__name__, cls.server_conf, cls.http_conf, workers=2,
                           ports_named=cls.ports_named, params=cls.params())
            cls.world = World(cls.keys, cls.ng.dir, provs, list(cls.subs),
                              revoked=cls.revoked, over_quota=cls.over_quota)
            cls.world.write()
            cls.ng.start()
            cls.servers.append(cls.ng)
        except BaseException:
            cls.stop_mocks()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop_mocks()
        super().tearDownClass()

    @classmethod
    def params(cls):
        return {}

    @classmethod
    def stop_mocks(cls):
        for m in cls.mocks.values():
            m.stop()

    @classmethod
    def mock(cls, name, fmt, keys):
        m = LLMMock(fmt, keys=keys).start()
        cls.mocks[name] = m
        return m

    # ---- helpers ---------------------------------------------------------

    def base(self):
        return 'http://127.0.0.1:%d/llm/v1' % self.ng.port

    def client(self, sdk, op, request, tok, base=None):
        self.lines_before = len(self.usage())
        return run_client(sdk, op, request, tok,
                          base or (self.base() if sdk == 'openai'
                                   else 'http://127.0.0.1:%d/llm' % self.ng.port))

    def post(self, path, doc, tok, headers=None, raw=None):
        h = {'Content-Type': 'application/json'}
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(doc).encode()
        self.lines_before = len(self.usage())
        return request(self.ng.port, path, token=tok, headers=h, method='POST', body=body)

    def last_usage(self):
        """The line of the last request made: a worker writes the lines of one pass of its
        event loop together, at the end of the pass, so the client may have its answer
        a moment before the line is in the file."""
        jgtest.wait_until(lambda: len(self.usage()) > self.lines_before, 10, step=0.02,
                          what='the usage line of the last request')
        return self.usage()[-1]

    def usage(self):
        path = os.path.join(self.ng.dir, 'usage.log')
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def calls(self):
        return sum(m.calls() for m in self.mocks.values())

    def reset_mocks(self):
        for m in self.mocks.values():
            if not isinstance(m, LLMMock):
                continue
            m.configure({'reset_requests': True, 'cut_after': None})


CHAT = {'model': 'gpt-4o', 'messages': [{'role': 'system', 'content': 'be brief'},
                                        {'role': 'user', 'content': 'hello there gateway'}]}


class Gateway(AITest):
    """Routing, both clients, streaming, usage, refusals, hostile bodies, limits."""

    subs = (sub('app1'), sub('app-rpm', {'requests_per_minute': 2}),
            sub('app-tpm', {'tokens_per_minute': 10}),
            sub('app-model', {'models': {'fast': {'requests_per_minute': 1}}}),
            sub('app-over'), sub('app-revoked'))
    revoked = ('jti-revoked',)
    over_quota = ({'client_id': 'app-over', 'api_id': API, 'until': NOW + 3600},)

    @classmethod
    def make_providers(cls):
        a = cls.mock('openai', 'openai', ['sk-openai-1'])
        b = cls.mock('anthropic', 'anthropic', ['sk-ant-1'])
        c = cls.mock('local', 'openai', ['sk-local-1'])
        return [{'name': 'openai', 'mock': a, 'keys': [('pk_o1', 'sk-openai-1')],
                 'models': {'gpt-4o': 'gpt-4o-2024-08-06', 'fast': 'gpt-4.1-nano',
                            'embed': 'text-embedding-3-small'}},
                {'name': 'claude', 'mock': b, 'keys': [('pk_c1', 'sk-ant-1')],
                 'models': {'sonnet': 'claude-sonnet-4-5', 'gpt-4o': 'claude-sonnet-4-5'}},
                {'name': 'local', 'mock': c, 'keys': [('pk_l1', 'sk-local-1')],
                 'models': {'llama': 'llama3.1:8b'}}]

    def setUp(self):
        self.reset_mocks()
        self.tok = token(self.keys, 'app1')

    def test_openai_client_chat(self):
        r = self.client('openai', 'chat', CHAT, self.tok)
        self.assertTrue(r['ok'], r)
        body = r['body']
        self.assertEqual(body['model'], 'gpt-4o')
        self.assertEqual(body['choices'][0]['message']['content'],
                         'You said: hello there gateway')
        # the mock counts words: 2 + 3 in, 5 out
        self.assertEqual(body['usage']['prompt_tokens'], 5)
        self.assertEqual(body['usage']['completion_tokens'], 5)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'openai')
        self.assertEqual(r['headers'].get('x-jwtgate-model'), 'gpt-4o')
        # what the provider got: its own key and model, never the client's token
        req = self.mocks['openai'].requests[-1]
        self.assertEqual(req.headers.get('authorization'), 'Bearer sk-openai-1')
        self.assertEqual(json.loads(req.body)['model'], 'gpt-4o-2024-08-06')
        self.assertNoSecrets(req, self.tok)
        # what the client got: no provider key, no provider header
        text = json.dumps(r)
        self.assertNotIn('sk-openai-1', text)
        self.assertNotIn('gpt-4o-2024-08-06', text)
        line = self.last_usage()
        self.assertEqual({k: line[k] for k in ('client_id', 'api', 'model', 'provider', 'key_id',
                                               'status', 'input_tokens', 'output_tokens')},
                         {'client_id': 'app1', 'api': API, 'model': 'gpt-4o',
                          'provider': 'openai', 'key_id': 'pk_o1', 'status': 200,
                          'input_tokens': 5, 'output_tokens': 5})
        self.assertLessEqual(abs(line['t'] - time.time()), 5)

    def assertNoSecrets(self, req, tok):
        raw = json.dumps(req.headers) + req.body.decode(errors='replace')
        self.assertNotIn(tok, raw)
        for part in tok.split('.'):
            if len(part) > 16:
                self.assertNotIn(part, raw)

    def test_openai_client_stream(self):
        r = self.client('openai', 'stream', CHAT, self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual(r['model'], 'gpt-4o')
        self.assertEqual(r['finish'], 'stop')
        # the gateway asked for usage; a client that did not gets none
        self.assertIsNone(r['usage'])
        self.assertEqual(r['headers'].get('content-type'), 'text/event-stream')
        sent = json.loads(self.mocks['openai'].requests[-1].body)
        self.assertEqual(sent['stream_options'], {'include_usage': True})
        line = self.last_usage()
        self.assertEqual((line['input_tokens'], line['output_tokens'], line['status']), (5, 5, 200))

    def test_openai_client_stream_with_usage(self):
        req = dict(CHAT, stream_options={'include_usage': True})
        r = self.client('openai', 'stream', req, self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['usage']['prompt_tokens'], 5)
        self.assertEqual(r['usage']['completion_tokens'], 5)

    def test_model_routing(self):
        for model, provider, mock in (('gpt-4o', 'openai', 'openai'),
                                      ('sonnet', 'claude', 'anthropic'),
                                      ('llama', 'local', 'local')):
            before = self.mocks[mock].calls()
            r = self.client('openai', 'chat', dict(CHAT, model=model), self.tok)
            self.assertTrue(r['ok'], r)
            self.assertEqual(r['headers'].get('x-jwtgate-provider'), provider)
            self.assertEqual(r['body']['model'], model)
            self.assertEqual(self.mocks[mock].calls(), before + 1)

    def test_openai_client_to_anthropic_provider(self):
        r = self.client('openai', 'chat', dict(CHAT, model='sonnet'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['body']['choices'][0]['message']['content'],
                         'You said: hello there gateway')
        req = self.mocks['anthropic'].requests[-1]
        self.assertEqual(req.headers.get('x-api-key'), 'sk-ant-1')
        self.assertIsNone(req.headers.get('authorization'))
        sent = json.loads(req.body)
        self.assertEqual(sent['system'], 'be brief')
        self.assertEqual(sent['model'], 'claude-sonnet-4-5')
        r = self.client('openai', 'stream', dict(CHAT, model='sonnet',
                                                 stream_options={'include_usage': True}),
                        self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual((r['usage']['prompt_tokens'], r['usage']['completion_tokens']), (5, 5))
        line = self.last_usage()
        self.assertEqual((line['provider'], line['input_tokens'], line['output_tokens']),
                         ('claude', 5, 5))

    def test_anthropic_client(self):
        req = {'model': 'sonnet', 'max_tokens': 100, 'system': 'be brief',
               'messages': [{'role': 'user', 'content': 'hello there gateway'}]}
        r = self.client('anthropic', 'chat', req, self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['body']['content'][0]['text'], 'You said: hello there gateway')
        self.assertEqual(r['body']['model'], 'sonnet')
        self.assertEqual(r['body']['usage'], {'input_tokens': 5, 'output_tokens': 5})
        got = self.mocks['anthropic'].requests[-1]
        self.assertEqual(got.headers.get('x-api-key'), 'sk-ant-1')
        self.assertNoSecrets(got, self.tok)
        r = self.client('anthropic', 'stream', req, self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual(r['usage'], {'input_tokens': 5, 'output_tokens': 5})
        # an Anthropic client on an OpenAI provider: translated both ways
        r = self.client('anthropic', 'stream', dict(req, model='llama'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual(r['usage'], {'input_tokens': 5, 'output_tokens': 5})
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'local')

    def test_models_and_embeddings(self):
        r = self.client('openai', 'models', {}, self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(sorted(r['body']), ['embed', 'fast', 'gpt-4o', 'llama', 'sonnet'])
        self.assertEqual(self.calls(), 0)
        r = self.client('openai', 'embeddings', {'model': 'embed', 'input': 'one two three'},
                        self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['body']['model'], 'embed')
        self.assertEqual(self.last_usage()['input_tokens'], 3)

    def test_unknown_model_no_upstream_call(self):
        r = self.client('openai', 'chat', dict(CHAT, model='gpt-9'), self.tok)
        self.assertFalse(r['ok'])
        self.assertEqual(r['status'], 404)
        self.assertIn('message', r['error']['error'] if 'error' in r['error'] else r['error'])
        r = self.client('anthropic', 'chat', {'model': 'gpt-9', 'max_tokens': 5,
                                              'messages': [{'role': 'user', 'content': 'x'}]},
                        self.tok)
        self.assertEqual(r['status'], 404)
        self.assertEqual(r['error']['type'], 'error')
        self.assertEqual(self.calls(), 0)

    def test_refusals_before_any_provider_call(self):
        # no token, a revoked one, a client without an approved subscription
        r = self.post('/llm/v1/chat/completions', CHAT, None)
        self.assertEqual(r.status, 401)
        r = self.post('/llm/v1/chat/completions', CHAT,
                      token(self.keys, 'app-revoked', jti='jti-revoked'))
        self.assertEqual(r.status, 401)
        r = self.client('openai', 'chat', CHAT, token(self.keys, 'app-unapproved'))
        self.assertEqual(r['status'], 401)
        r = self.client('anthropic', 'chat', {'model': 'sonnet', 'max_tokens': 5,
                                              'messages': [{'role': 'user', 'content': 'x'}]},
                        token(self.keys, 'app-unapproved'))
        self.assertEqual(r['status'], 401)
        self.assertEqual(self.calls(), 0)

    def test_hostile_bodies(self):
        cases = [(b'not json', 400), (b'[1, 2]', 400), (b'{"model": 5, "messages": []}', 400),
                 (b'{"model": "gpt-4o", "messages": "hi"}', 400),
                 (b'{"model": "gpt-4o", "messages": [{"role": "user", "content": 1}]}', 400),
                 (b'[' * 100000 + b']' * 100000, 400),
                 (b'{"model": "gpt-4o", "messages": ' + b'[' * 200 + b']' * 200 + b'}', 400),
                 (b'{"model": "gpt-4o", "x": "' + b'a' * (2 * 1024 * 1024) + b'"}', 413),
                 (b'{"model": "' + b'm' * 300 + b'", "messages": []}', 400),
                 (b'', 400)]
        for body, status in cases:
            r = self.post('/llm/v1/chat/completions', None, self.tok, raw=body)
            self.assertEqual(r.status, status, (body[:40], r))
            doc = r.json()
            self.assertIsInstance(doc['error']['message'], str)
        r = self.post('/llm/v1/messages', None, None, raw=b'{', headers={'x-api-key': self.tok})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()['type'], 'error')
        r = self.post('/llm/v1/nothing', CHAT, self.tok)
        self.assertEqual(r.status, 404)
        r = request(self.ng.port, '/llm/v1/chat/completions', token=self.tok)
        self.assertEqual(r.status, 405)
        self.assertEqual(self.calls(), 0)

    def test_provider_error_passed_in_client_format(self):
        # a 400 of the provider is the client's: no other attempt
        self.mocks['openai'].configure({'models': ['something-else']})
        try:
            r = self.client('openai', 'chat', dict(CHAT, model='fast'), self.tok)
        finally:
            self.mocks['openai'].configure({'models': None})
        self.assertEqual(r['status'], 404)
        self.assertEqual(self.mocks['openai'].calls(), 1)

    def test_over_quota_list(self):
        r = self.client('openai', 'chat', CHAT, token(self.keys, 'app-over'))
        self.assertEqual(r['status'], 429)
        self.assertGreater(int(r['headers']['retry-after']), 3000)
        self.assertEqual(self.calls(), 0)

    def chat(self, tok, **kw):
        """One chat request over plain HTTP (quick: the limits' windows are minutes)."""
        return self.post('/llm/v1/chat/completions', dict(CHAT, **kw), tok)

    def test_requests_per_minute(self):
        self.until_minute_has(20)
        tok = token(self.keys, 'app-rpm')
        for _ in range(2):
            self.assertEqual(self.chat(tok).status, 200)
        n = self.calls()
        r = self.chat(tok)
        self.assertEqual(r.status, 429)
        self.assertIn('rate_limit', r.json()['error']['type'])
        self.assertTrue(1 <= int(r.header('Retry-After')) <= 60)
        self.assertEqual(self.calls(), n)
        # the official client sees the same
        r = self.client('openai', 'chat', CHAT, tok)
        self.assertEqual(r['status'], 429)
        # the model's own limit
        tok = token(self.keys, 'app-model')
        self.assertEqual(self.chat(tok, model='fast').status, 200)
        self.assertEqual(self.chat(tok, model='fast').status, 429)
        self.assertEqual(self.chat(tok).status, 200)

    def test_tokens_per_minute(self):
        self.until_minute_has(20)
        tok = token(self.keys, 'app-tpm')
        # 10 tokens a minute: the first request uses 5 + 5, the next one is refused
        self.assertEqual(self.chat(tok).status, 200)
        self.last_usage()  # (its line is in the file: the count below is the whole count)
        n, lines = self.calls(), len(self.usage())
        r = self.chat(tok)
        self.assertEqual(r.status, 429)
        self.assertEqual(self.calls(), n)
        # a refusal is not usage: no line (jwtgated sums the lines against the limits)
        self.assertEqual(len(self.usage()), lines)

    def until_minute_has(self, seconds):
        """Wait, if need be, for a minute with `seconds` left: the counters are per
        calendar minute."""
        left = 60 - time.time() % 60
        if left < seconds:
            time.sleep(left + 0.1)

    def test_usage_log_reopened(self):
        # log rotation as logrotate does it: the file renamed, then USR1 to the master
        # (nginx reopens its logs, the usage log's held lines written first): the
        # lines before are all in the renamed file, the lines after in a new one,
        # each once
        path = os.path.join(self.ng.dir, 'usage.log')
        self.assertEqual(self.post('/llm/v1/chat/completions', CHAT, self.tok).status, 200)
        self.last_usage()
        before = self.usage()
        reopened = self.ng.logs().count('reopening logs')
        os.rename(path, path + '.1')
        try:
            self.ng.proc.send_signal(signal.SIGUSR1)
            jgtest.wait_until(lambda: self.ng.logs().count('reopening logs') >= reopened + 3,
                              10, step=0.05, what='the master and both workers to reopen')
            for _ in range(4):
                self.assertEqual(
                    self.post('/llm/v1/chat/completions', CHAT, self.tok).status, 200)
            jgtest.wait_until(lambda: len(self.usage()) >= 4, 10, step=0.02,
                              what='the lines after the rotation in the new file')
            self.assertEqual([x['status'] for x in self.usage()], [200] * 4)
            with open(path + '.1') as f:
                self.assertEqual([json.loads(line) for line in f], before)
        finally:
            os.remove(path + '.1')


class Failover(AITest):
    """Key rotation on 429, removal on 401, fallback across providers and formats."""

    subs = (sub('app1'),)

    @classmethod
    def make_providers(cls):
        a = cls.mock('first', 'openai', ['sk-first-1', 'sk-first-2'])
        b = cls.mock('second', 'anthropic', ['sk-second-1'])
        return [{'name': 'first', 'mock': a,
                 'keys': [('pk_f1', 'sk-first-1'), ('pk_f2', 'sk-first-2')],
                 'models': {'gpt-4o': 'gpt-4o-2024-08-06'}},
                {'name': 'second', 'mock': b, 'keys': [('pk_s1', 'sk-second-1')],
                 'models': {'gpt-4o': 'claude-sonnet-4-5'}}]

    def keys_used(self, mock):
        return [r.headers.get('authorization') or r.headers.get('x-api-key')
                for r in self.mocks[mock].requests]

    def test_keys_spread(self):
        # (runs before the rotation test takes keys out) requests spread over the
        # pool: each worker starts at the next key; ten requests, two workers, so one
        # of them served five and used both keys
        tok = token(self.keys, 'app1')
        before = len(self.keys_used('first'))
        for _ in range(10):
            self.assertEqual(self.post('/llm/v1/chat/completions', CHAT, tok).status, 200)
        used = self.keys_used('first')[before:]
        self.assertEqual(sorted(set(used)), ['Bearer sk-first-1', 'Bearer sk-first-2'])

    def test_rotation_removal_fallback(self):
        tok = token(self.keys, 'app1')
        first = self.mocks['first']
        # 429 on one key: the next key answers; the rate-limited one rests
        first.set_key_status('sk-first-1', 429, retry_after=120)
        before = len(self.keys_used('first'))
        for _ in range(4):
            r = self.client('openai', 'chat', CHAT, tok)
            self.assertTrue(r['ok'], r)
            self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'first')
        used = self.keys_used('first')[before:]
        self.assertLessEqual(used.count('Bearer sk-first-1'), 1, used)
        self.assertEqual(used.count('Bearer sk-first-2'), 4, used)
        # 401 on the other: the provider has no key left, the next provider
        # (Anthropic's format) answers, streaming too
        first.set_key_status('sk-first-2', 401)
        r = self.client('openai', 'chat', CHAT, tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'second')
        self.assertEqual(r['body']['choices'][0]['message']['content'],
                         'You said: hello there gateway')
        n = first.calls()
        r = self.client('openai', 'stream', dict(CHAT, stream_options={'include_usage': True}),
                        tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual(r['usage']['completion_tokens'], 5)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'second')
        # both keys are out: the first provider was not called again
        self.assertEqual(first.calls(), n)
        line = self.last_usage()
        self.assertEqual((line['provider'], line['key_id'], line['output_tokens']),
                         ('second', 'pk_s1', 5))
        # the second provider failing too: 502 in the client's format
        self.mocks['second'].fail_next(5, 503)
        r = self.client('openai', 'chat', CHAT, tok)
        self.assertEqual(r['status'], 502)
        self.assertNotIn('sk-', json.dumps(r))


class Outages(AITest):
    """5xx, timeouts, a provider that is down, a stream cut short."""

    subs = (sub('app1'),)

    @classmethod
    def make_providers(cls):
        a = cls.mock('flaky', 'openai', ['sk-flaky'])
        b = cls.mock('steady', 'anthropic', ['sk-steady'])
        return [{'name': 'down', 'mock': DownProvider(), 'keys': [('pk_d1', 'sk-down')],
                 'models': {'down-only': 'x', 'm': 'x'}},
                {'name': 'flaky', 'mock': a, 'keys': [('pk_f1', 'sk-flaky')],
                 'timeout_ms': 700,
                 'models': {'m': 'flaky-model', 'flaky-only': 'flaky-model'}},
                {'name': 'steady', 'mock': b, 'keys': [('pk_s1', 'sk-steady')],
                 'models': {'m': 'steady-model'}}]

    def setUp(self):
        self.reset_mocks()
        for m in self.mocks.values():
            m.configure({'header_delay': 0, 'fail_next': {'count': 0}})
        self.tok = token(self.keys, 'app1')

    def test_down_then_5xx_then_next_format(self):
        # "down" refuses connections, "flaky" answers 503: "steady" (another
        # format) answers, whole and streamed
        self.mocks['flaky'].fail_next(1, 503)
        r = self.client('openai', 'chat', dict(CHAT, model='m'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'steady')
        self.assertEqual(r['body']['choices'][0]['message']['content'],
                         'You said: hello there gateway')
        self.mocks['flaky'].fail_next(1, 500)
        r = self.client('openai', 'stream', dict(CHAT, model='m'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'steady')
        self.assertEqual(r['text'], 'You said: hello there gateway')
        self.assertEqual(self.mocks['flaky'].calls(), 2)
        # nothing left: 502 with an error body in the client's format
        r = self.client('openai', 'chat', dict(CHAT, model='down-only'), self.tok)
        self.assertEqual(r['status'], 502)
        self.assertIn('message', r['error'])

    def test_provider_timeout(self):
        # "flaky" answers after 1.5 s: within the proxy's 2 s, not within its own
        # timeout_ms (700): the next provider answers
        self.mocks['flaky'].configure({'header_delay': 1.5})
        r = self.client('openai', 'chat', dict(CHAT, model='m'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'steady')
        self.assertIn('provider "flaky" did not answer within 700 ms', self.ng.logs())
        self.mocks['flaky'].configure({'header_delay': 0})
        r = self.client('openai', 'stream', dict(CHAT, model='m'), self.tok)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'flaky')

    def test_timeout_next_provider(self):
        self.mocks['flaky'].configure({'header_delay': 3})
        r = self.client('openai', 'chat', dict(CHAT, model='m'), self.tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'steady')
        r = self.client('openai', 'chat', dict(CHAT, model='flaky-only'), self.tok)
        self.assertEqual(r['status'], 504)

    def test_stream_cut_short_ends_cleanly(self):
        self.mocks['flaky'].configure({'cut_after': 3})
        r = self.client('openai', 'stream', dict(CHAT, model='flaky-only',
                                                 stream_options={'include_usage': True}),
                        self.tok)
        self.assertTrue(r['ok'], r)
        self.assertTrue('You said: hello there gateway'.startswith(r['text']), r)
        self.assertLess(len(r['text']), len('You said: hello there gateway'))
        line = self.last_usage()
        self.assertEqual((line['provider'], line['status']), ('flaky', 200))

    def test_client_gone_mid_stream(self):
        # the client reads the first events and hangs up: the stream stops, the
        # worker lives on, what was counted is logged
        self.mocks['flaky'].configure({'chunk_delay': 0.2})
        body = json.dumps(dict(CHAT, model='flaky-only', stream=True)).encode()
        lines = len(self.usage())
        s = socket.create_connection(('127.0.0.1', self.ng.port), timeout=10)
        s.sendall(b'POST /llm/v1/chat/completions HTTP/1.1\r\nHost: x\r\n'
                  b'Authorization: Bearer ' + self.tok.encode() + b'\r\n'
                  b'Content-Type: application/json\r\nContent-Length: '
                  + str(len(body)).encode() + b'\r\n\r\n' + body)
        got = b''
        while b'data:' not in got:
            got += s.recv(4096)
        self.assertIn(b'200 OK', got)
        s.close()
        jgtest.wait_until(lambda: len(self.usage()) > lines, 10, step=0.1,
                          what='the usage line of the request cut short')
        self.assertEqual(self.usage()[-1]['provider'], 'flaky')
        self.mocks['flaky'].configure({'chunk_delay': 0.005})
        r = self.client('openai', 'chat', dict(CHAT, model='flaky-only'), self.tok)
        self.assertTrue(r['ok'], r)

    def test_new_snapshot_new_configuration(self):
        # a new snapshot: its LLM configuration replaces the old one (whose keys are
        # wiped and freed once no request uses them), in every worker
        self.assertEqual(self.chat_status('renamed'), 404)
        steady = self.world.providers[2]
        steady['models'] = dict(steady['models'], renamed='steady-model')
        try:
            self.world.write()
            jgtest.wait_until(lambda: self.ng.logs().count(
                'version %d loaded' % self.world.version) >= 2, 10, step=0.1,
                what='both workers to load the new snapshot')
            for _ in range(4):
                self.assertEqual(self.chat_status('renamed'), 200)
        finally:
            del steady['models']['renamed']
            self.world.write()

    def chat_status(self, model):
        return self.post('/llm/v1/chat/completions', dict(CHAT, model=model), self.tok).status


class TLSProvider:
    """A provider reached over TLS at https://NAME/v1 (an upstream block of that name in
    front of `mock`'s TLS terminator)."""

    format = 'openai'

    def __init__(self, name, mock):
        self.base_url = 'https://%s/v1' % name
        self.mock = mock

    def calls(self):
        return self.mock.calls()


class TLS(AITest):
    """Providers over TLS with verified trust (the internal location's proxy_ssl_*): a
    certificate for the provider's name and the trusted CA answer; a certificate for
    another name is refused before the key is sent."""

    subs = (sub('app1'),)
    ports_named = ('tls',)
    server_conf = SERVER.replace('''            proxy_buffering off;''', '''\
            proxy_buffering off;
            proxy_ssl_server_name on;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %(certs)s/ca.pem;''')
    http_conf = HTTP + '''
    upstream provider.test { server 127.0.0.1:%(port_tls)d; }
    upstream other.test { server 127.0.0.1:%(port_tls)d; }
    # the provider's TLS side, in front of the mock
    server {
        listen 127.0.0.1:%(port_tls)d ssl;
        ssl_certificate %(certs)s/provider.pem;
        ssl_certificate_key %(certs)s/provider.key;
        location / {
            proxy_pass http://127.0.0.1:%(mock_port)d;
        }
    }
'''

    @classmethod
    def make_providers(cls):
        cls.certs = Certs()
        cls.certs.issue('provider', '/CN=provider.test', 'DNS:provider.test', 'serverAuth')
        m = cls.mock('tls', 'openai', ['sk-tls-1'])
        return [{'name': 'tls', 'mock': TLSProvider('provider.test', m),
                 'keys': [('pk_t1', 'sk-tls-1')], 'models': {'tls': 'tls-model'}},
                {'name': 'other', 'mock': TLSProvider('other.test', m),
                 'keys': [('pk_o1', 'sk-tls-1')], 'models': {'other': 'tls-model'}}]

    @classmethod
    def params(cls):
        return {'certs': cls.certs.dir, 'mock_port': cls.mocks['tls'].port}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.certs.close()

    def test_verified_trust(self):
        tok = token(self.keys, 'app1')
        r = self.client('openai', 'chat', dict(CHAT, model='tls'), tok)
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['headers'].get('x-jwtgate-provider'), 'tls')
        self.assertEqual(self.mocks['tls'].requests[-1].headers.get('authorization'),
                         'Bearer sk-tls-1')
        n = self.mocks['tls'].calls()
        r = self.client('openai', 'chat', dict(CHAT, model='other'), tok)
        self.assertEqual(r['status'], 502)
        self.assertEqual(self.mocks['tls'].calls(), n)
        self.assertIn('upstream SSL certificate does not match "other.test"', self.ng.logs())


class DownProvider:
    """A provider nobody listens for: a port that was free a moment ago."""

    format = 'openai'

    def __init__(self):
        from jgtest import ports
        self.base_url = 'http://127.0.0.1:%d/v1' % ports.free_port()

    def calls(self):
        return 0


if __name__ == '__main__':
    unittest.main(verbosity=2)

"""The mock LLM providers (jgtest.llm_mock): both wire formats, streaming and not,
deterministic usage, the knobs, the record of requests, the standalone command."""
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import unittest

from jgtest.llm_mock import LLMMock


def call(mock, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection('127.0.0.1', mock.port, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw


def sse(raw):
    """[(event or None, data)] of an SSE body."""
    out = []
    for block in raw.decode().split('\n\n'):
        ev, data = None, []
        for line in block.split('\n'):
            if line.startswith('event: '):
                ev = line[7:]
            elif line.startswith('data: '):
                data.append(line[6:])
        if data:
            out.append((ev, '\n'.join(data)))
    return out


OA = {'Authorization': 'Bearer sk-a', 'Content-Type': 'application/json'}
AN = {'x-api-key': 'sk-b', 'anthropic-version': '2023-06-01'}
CHAT = {'model': 'm1', 'messages': [{'role': 'system', 'content': 'be brief'},
                                    {'role': 'user', 'content': 'hello there world'}]}


class OpenAI(unittest.TestCase):

    def setUp(self):
        self.mock = LLMMock('openai', keys=['sk-a'], models=['m1']).start()
        self.addCleanup(self.mock.stop)

    def test_chat_usage_exact(self):
        st, _, raw = call(self.mock, 'POST', '/v1/chat/completions', CHAT, OA)
        self.assertEqual(st, 200)
        doc = json.loads(raw)
        self.assertEqual(doc['object'], 'chat.completion')
        self.assertEqual(doc['choices'][0]['message']['content'], 'You said: hello there world')
        self.assertEqual(doc['usage'], {'prompt_tokens': 5, 'completion_tokens': 5,
                                        'total_tokens': 10})
        req = self.mock.requests[0]
        self.assertEqual(req.headers['authorization'], 'Bearer sk-a')
        self.assertEqual(json.loads(req.body)['model'], 'm1')

    def test_stream_with_and_without_usage(self):
        body = dict(CHAT, stream=True, stream_options={'include_usage': True})
        st, hd, raw = call(self.mock, 'POST', '/v1/chat/completions', body, OA)
        self.assertEqual((st, hd['content-type'].split(';')[0]), (200, 'text/event-stream'))
        evs = sse(raw)
        self.assertEqual(evs[-1], (None, '[DONE]'))
        chunks = [json.loads(d) for _, d in evs[:-1]]
        text = ''.join(c['choices'][0]['delta'].get('content', '') for c in chunks if c['choices'])
        self.assertEqual(text, 'You said: hello there world')
        self.assertEqual(chunks[-1]['choices'], [])
        self.assertEqual(chunks[-1]['usage']['completion_tokens'], 5)
        self.assertEqual(chunks[-2]['choices'][0]['finish_reason'], 'stop')
        st, _, raw = call(self.mock, 'POST', '/v1/chat/completions', dict(CHAT, stream=True), OA)
        self.assertFalse(any('usage' in json.loads(d) for _, d in sse(raw)[:-1]))

    def test_max_tokens_cuts(self):
        st, _, raw = call(self.mock, 'POST', '/v1/chat/completions', dict(CHAT, max_tokens=2), OA)
        doc = json.loads(raw)
        self.assertEqual(doc['choices'][0]['finish_reason'], 'length')
        self.assertEqual(doc['usage']['completion_tokens'], 2)

    def test_embeddings_models(self):
        st, _, raw = call(self.mock, 'POST', '/v1/embeddings', {'model': 'm1', 'input': 'a b'}, OA)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(raw)['usage']['prompt_tokens'], 2)
        st, _, raw = call(self.mock, 'GET', '/v1/models', None, OA)
        self.assertEqual([m['id'] for m in json.loads(raw)['data']], ['m1'])

    def test_auth_and_knobs(self):
        st, _, raw = call(self.mock, 'POST', '/v1/chat/completions', CHAT,
                          {'Authorization': 'Bearer wrong'})
        self.assertEqual(st, 401)
        self.assertEqual(json.loads(raw)['error']['code'], 'invalid_api_key')
        st, _, _ = call(self.mock, 'POST', '/v1/chat/completions', dict(CHAT, model='x'), OA)
        self.assertEqual(st, 404)
        self.mock.set_key_status('sk-a', 429, retry_after=7)
        st, hd, _ = call(self.mock, 'POST', '/v1/chat/completions', CHAT, OA)
        self.assertEqual((st, hd.get('retry-after')), (429, '7'))
        self.mock.set_key_status('sk-a', None)
        st, _, _ = call(self.mock, 'POST', '/_mock/control',
                        {'fail_next': {'count': 2, 'status': 503}})
        self.assertEqual(st, 200)
        got = [call(self.mock, 'POST', '/v1/chat/completions', CHAT, OA)[0] for _ in range(3)]
        self.assertEqual(got, [503, 503, 200])
        self.assertEqual(self.mock.calls('/v1/chat/completions'), 6)
        st, _, raw = call(self.mock, 'GET', '/_mock/requests')
        self.assertEqual(len(json.loads(raw)), 6)

    def test_chunked_request_body(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.mock.port, timeout=30)
        data = json.dumps(CHAT).encode()
        conn.request('POST', '/v1/chat/completions', body=iter([data[:10], data[10:]]),
                     headers=OA, encode_chunked=True)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(resp.read())['usage']['total_tokens'], 10)
        conn.close()
        self.assertEqual(json.loads(self.mock.requests[0].body), CHAT)

    def test_cut_stream(self):
        self.mock.configure({'cut_after': 2})
        st, _, raw = call(self.mock, 'POST', '/v1/chat/completions', dict(CHAT, stream=True), OA)
        self.assertEqual(len(sse(raw)), 2)


class Anthropic(unittest.TestCase):

    def setUp(self):
        self.mock = LLMMock('anthropic', keys=['sk-b']).start()
        self.addCleanup(self.mock.stop)

    def body(self, **kw):
        b = {'model': 'c1', 'max_tokens': 100, 'system': 'be brief',
             'messages': [{'role': 'user', 'content': [{'type': 'text', 'text': 'hi you'}]}]}
        b.update(kw)
        return b

    def test_message(self):
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(), AN)
        self.assertEqual(st, 200)
        doc = json.loads(raw)
        self.assertEqual(doc['content'], [{'type': 'text', 'text': 'You said: hi you'}])
        self.assertEqual(doc['usage'], {'input_tokens': 4, 'output_tokens': 4})
        self.assertEqual(doc['stop_reason'], 'end_turn')

    def test_stream_events(self):
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(stream=True), AN)
        evs = sse(raw)
        names = [e for e, _ in evs]
        self.assertEqual(names[:3], ['message_start', 'content_block_start', 'ping'])
        self.assertEqual(names[-3:], ['content_block_stop', 'message_delta', 'message_stop'])
        docs = [json.loads(d) for _, d in evs]
        self.assertEqual(docs[0]['message']['usage']['input_tokens'], 4)
        self.assertEqual(docs[-2]['usage']['output_tokens'], 4)
        self.assertEqual(''.join(d['delta']['text'] for d in docs
                                 if d['type'] == 'content_block_delta'), 'You said: hi you')

    def test_errors_in_anthropic_shape(self):
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(),
                          {'x-api-key': 'sk-b'})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(raw)['type'], 'error')
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(),
                          {'x-api-key': 'no', 'anthropic-version': '2023-06-01'})
        self.assertEqual((st, json.loads(raw)['error']['type']), (401, 'authentication_error'))
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(max_tokens=None), AN)
        self.assertEqual(st, 400)
        self.mock.fail_next(1, 529)
        st, _, raw = call(self.mock, 'POST', '/v1/messages', self.body(), AN)
        self.assertEqual((st, json.loads(raw)['error']['type']), (529, 'overloaded_error'))


class Standalone(unittest.TestCase):

    def test_command(self):
        env = dict(os.environ)
        p = subprocess.Popen([sys.executable, '-m', 'jgtest.llm_mock', '--format', 'openai',
                              '--key', 'sk-demo', '--model', 'gpt-x'],
                             stdout=subprocess.PIPE, env=env, text=True)
        try:
            line = p.stdout.readline()
            self.assertIn('listening on http://127.0.0.1:', line)
            port = int(line.rsplit(':', 1)[1].split('/')[0])
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
            conn.request('GET', '/v1/models', headers={'Authorization': 'Bearer sk-demo'})
            self.assertEqual(json.loads(conn.getresponse().read())['data'][0]['id'], 'gpt-x')
            conn.close()
        finally:
            p.terminate()
            self.assertEqual(p.wait(timeout=30), 0)
            p.stdout.close()

    def test_ctrl_c_then_term_stops_it(self):
        # scripts/demo's Ctrl-C: SIGINT to the process group, then the demo's own TERM
        # right after; a handler that called Event.set() deadlocked on the second one
        # (about one run in seven), and the demo waited for the mock forever
        for _ in range(5):
            p = subprocess.Popen([sys.executable, '-m', 'jgtest.llm_mock'],
                                 stdout=subprocess.PIPE, env=dict(os.environ), text=True)
            try:
                self.assertIn('listening on', p.stdout.readline())
                time.sleep(0.1)
                p.send_signal(signal.SIGINT)
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=10), 0)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()


if __name__ == '__main__':
    unittest.main()

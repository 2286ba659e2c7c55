"""Mock LLM providers: a threaded HTTP/1.1 server on loopback speaking OpenAI's Chat
Completions API (POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models) or
Anthropic's Messages API (POST /v1/messages), streaming (SSE, chunked, flushed per
event) or not, for the AI gateway's tests and scripts/demo.

Answers are deterministic so that tests can assert exact values:
- the answer to a chat is ANSWER_PREFIX + the text of the last user message;
- input tokens = the number of whitespace-separated words in every message's text
  (system included), output tokens = the words of the answer; a max_tokens smaller than
  that cuts the answer to max_tokens words (finish_reason "length" / stop_reason
  "max_tokens");
- a stream sends the answer one word per chunk.

Knobs (constructor, methods, or POST /_mock/control with the same names as JSON):
keys (the valid keys; others get 401), key_status {key: {status, retry_after}} (a
valid key answered 429 with Retry-After, or 401, ...), fail_next {count, status} (the
next N requests get that status), header_delay / chunk_delay (seconds before the
headers / between stream events), cut_after (a stream stops after N events, without
its end). Every request is recorded (self.requests, GET /_mock/requests), control
requests excepted.

Standalone: python3 -m jgtest.llm_mock --port 8081 --format openai --key sk-demo
"""
import argparse
import http.server
import json
import signal
import sys
import threading
import time

from jgtest.upstream import Request

ANSWER_PREFIX = 'You said: '
FORMATS = ('openai', 'anthropic')
ANTHROPIC_VERSION = '2023-06-01'

_OPENAI_ERROR_TYPES = {400: 'invalid_request_error', 401: 'invalid_request_error',
                       403: 'permission_error', 404: 'invalid_request_error',
                       429: 'rate_limit_exceeded'}
_ANTHROPIC_ERROR_TYPES = {400: 'invalid_request_error', 401: 'authentication_error',
                          403: 'permission_error', 404: 'not_found_error',
                          413: 'request_too_large', 429: 'rate_limit_error',
                          529: 'overloaded_error'}


def words(text):
    """The token count of the mock: whitespace-separated words."""
    return len(text.split())


def text_of(content):
    """The text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return ' '.join(p.get('text', '') for p in content
                        if isinstance(p, dict) and p.get('type') == 'text'
                        and isinstance(p.get('text'), str))
    return ''


class _Fail(Exception):
    def __init__(self, status, message, code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


class LLMMock:
    """One mock provider of format `fmt` ('openai' or 'anthropic'). start() binds
    127.0.0.1 (port 0: a free one; self.port, self.url, self.base_url = url + '/v1', the
    provider base URL). models: the provider model names it serves (None: any; others
    404). Use as a context manager or start()/stop()."""

    def __init__(self, fmt='openai', keys=('sk-test',), models=None, port=0,
                 host='127.0.0.1', chunk_delay=0.005, header_delay=0.0):
        if fmt not in FORMATS:
            raise ValueError('format must be one of %s' % (FORMATS,))
        self.format = fmt
        self.models = list(models) if models is not None else None
        self.host = host
        self.port = port
        self.lock = threading.Lock()
        self.requests = []
        self.keys = set(keys)
        self.key_status = {}
        self.fail_count = 0
        self.fail_status = 500
        self.chunk_delay = chunk_delay
        self.header_delay = header_delay
        self.cut_after = None
        self.serial = 0
        self.httpd = None
        self.thread = None

    # ---- knobs -------------------------------------------------------------

    def set_key_status(self, key, status, retry_after=None):
        """Answer `status` to requests with `key` (None: back to normal)."""
        with self.lock:
            if status is None:
                self.key_status.pop(key, None)
            else:
                self.key_status[key] = {'status': int(status), 'retry_after': retry_after}

    def fail_next(self, count, status=500):
        """The next `count` requests (control requests excepted) get `status`."""
        with self.lock:
            self.fail_count = int(count)
            self.fail_status = int(status)

    def configure(self, doc):
        """The knobs as one JSON object (what POST /_mock/control takes)."""
        with self.lock:
            if 'keys' in doc:
                self.keys = set(doc['keys'])
            if 'models' in doc:
                self.models = list(doc['models']) if doc['models'] is not None else None
            for k in ('chunk_delay', 'header_delay'):
                if k in doc:
                    setattr(self, k, float(doc[k]))
            if 'cut_after' in doc:
                self.cut_after = doc['cut_after']
            if doc.get('reset_requests'):
                self.requests = []
        for key, st in (doc.get('key_status') or {}).items():
            if st is None:
                self.set_key_status(key, None)
            else:
                self.set_key_status(key, st['status'], st.get('retry_after'))
        if 'fail_next' in doc:
            self.fail_next(doc['fail_next'].get('count', 1), doc['fail_next'].get('status', 500))

    def calls(self, path=None):
        """How many requests were received (on `path` only, if given)."""
        with self.lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    # ---- lifecycle ---------------------------------------------------------

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    @property
    def base_url(self):
        return self.url + '/v1'

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def handle_one(self):
                if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
                    body = self._chunked()
                else:
                    n = int(self.headers.get('Content-Length') or 0)
                    body = self.rfile.read(n) if n else b''
                outer._serve(self, body)

            def _chunked(self):
                # a proxy that streams the request body (nginx with
                # proxy_request_buffering off) sends it chunked
                out = b''
                while True:
                    size = int(self.rfile.readline().split(b';', 1)[0].strip() or b'0', 16)
                    if size == 0:
                        while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                            pass  # trailers
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        # a short poll: stop() (and so every test's cleanup) waits for it
        self.thread = threading.Thread(target=self.httpd.serve_forever, name='llm-mock',
                                       kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.httpd = None

    # ---- serving -----------------------------------------------------------

    def _send(self, h, status, doc, headers=None):
        out = json.dumps(doc).encode()
        h.send_response(status)
        h.send_header('Content-Type', 'application/json')
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header('Content-Length', str(len(out)))
        h.end_headers()
        h.wfile.write(out)

    def _error_doc(self, status, message, code=None):
        if self.format == 'anthropic':
            etype = _ANTHROPIC_ERROR_TYPES.get(status, 'api_error')
            return {'type': 'error', 'error': {'type': etype, 'message': message}}
        etype = _OPENAI_ERROR_TYPES.get(status, 'server_error' if status >= 500 else
                                        'invalid_request_error')
        return {'error': {'message': message, 'type': etype, 'param': None, 'code': code}}

    def _serve(self, h, body):
        path = h.path.split('?', 1)[0]
        if path.startswith('/_mock/'):
            return self._control(h, path, body)
        req = Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self.lock:
            self.requests.append(req)
            self.serial += 1
            serial = self.serial
            header_delay = self.header_delay
        if header_delay:
            time.sleep(header_delay)
        try:
            self._check(req)
            route = {('openai', 'POST', '/v1/chat/completions'): self._openai_chat,
                     ('openai', 'POST', '/v1/embeddings'): self._openai_embeddings,
                     ('openai', 'GET', '/v1/models'): self._models,
                     ('anthropic', 'POST', '/v1/messages'): self._anthropic_messages,
                     ('anthropic', 'GET', '/v1/models'): self._models}
            fn = route.get((self.format, h.command, path))
            if fn is None:
                raise _Fail(404, 'no route %s %s' % (h.command, path), 'not_found')
            fn(h, req, serial)
        except _Fail as e:
            self._send(h, e.status, self._error_doc(e.status, e.message, e.code), e.headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _check(self, req):
        """Authentication, the format's required headers, and the failure knobs."""
        if self.format == 'anthropic':
            key = req.headers.get('x-api-key')
        else:
            auth = req.headers.get('authorization', '')
            key = auth[7:] if auth.startswith('Bearer ') else None
        with self.lock:
            if self.fail_count > 0:
                self.fail_count -= 1
                raise _Fail(self.fail_status, 'mock failure', 'mock_failure')
            valid = key is not None and key in self.keys
            st = self.key_status.get(key) if valid else None
        if not valid:
            raise _Fail(401, 'invalid api key', 'invalid_api_key')
        if st is not None:
            headers = {}
            if st.get('retry_after') is not None:
                headers['Retry-After'] = str(st['retry_after'])
            raise _Fail(st['status'], 'mock status for this key', 'mock_key_status', headers)
        if self.format == 'anthropic' and 'anthropic-version' not in req.headers:
            raise _Fail(400, 'anthropic-version: header is required')

    def _json_body(self, req):
        try:
            doc = json.loads(req.body)
        except ValueError:
            raise _Fail(400, 'body is not JSON')
        if not isinstance(doc, dict):
            raise _Fail(400, 'body is not a JSON object')
        model = doc.get('model')
        if not isinstance(model, str) or not model:
            raise _Fail(400, 'model: required')
        with self.lock:
            models = self.models
        if models is not None and model not in models:
            raise _Fail(404, 'model %s does not exist' % model, 'model_not_found')
        return doc

    @staticmethod
    def _answer(last_user, max_tokens):
        ans = (ANSWER_PREFIX + last_user).split()
        cut = isinstance(max_tokens, int) and 0 < max_tokens < len(ans)
        if cut:
            ans = ans[:max_tokens]
        return ans, cut

    def _models(self, h, req, serial):
        with self.lock:
            models = self.models if self.models is not None else ['mock-model']
        if self.format == 'anthropic':
            data = [{'type': 'model', 'id': m, 'display_name': m,
                     'created_at': '2025-01-01T00:00:00Z'} for m in models]
            self._send(h, 200, {'data': data, 'has_more': False,
                                'first_id': models[0] if models else None,
                                'last_id': models[-1] if models else None})
        else:
            self._send(h, 200, {'object': 'list', 'data': [
                {'id': m, 'object': 'model', 'created': 1700000000, 'owned_by': 'mock'}
                for m in models]})

    def _openai_embeddings(self, h, req, serial):
        doc = self._json_body(req)
        inp = doc.get('input')
        if isinstance(inp, str):
            inp = [inp]
        if not isinstance(inp, list) or not inp or not all(isinstance(s, str) for s in inp):
            raise _Fail(400, 'input: a string or an array of strings')
        data = []
        for i, s in enumerate(inp):
            vec = [((len(s) * 31 + j * 7) % 100) / 100.0 for j in range(8)]
            data.append({'object': 'embedding', 'index': i, 'embedding': vec})
        n = sum(words(s) for s in inp)
        self._send(h, 200, {'object': 'list', 'data': data, 'model': doc['model'],
                            'usage': {'prompt_tokens': n, 'total_tokens': n}})

    def _openai_chat(self, h, req, serial):
        doc = self._json_body(req)
        msgs = doc.get('messages')
        if not isinstance(msgs, list) or not msgs:
            raise _Fail(400, 'messages: a non-empty array')
        n_in = sum(words(text_of(m.get('content'))) for m in msgs if isinstance(m, dict))
        users = [text_of(m.get('content')) for m in msgs
                 if isinstance(m, dict) and m.get('role') == 'user']
        mt = doc.get('max_completion_tokens', doc.get('max_tokens'))
        ans, cut = self._answer(users[-1] if users else '', mt)
        finish = 'length' if cut else 'stop'
        usage = {'prompt_tokens': n_in, 'completion_tokens': len(ans),
                 'total_tokens': n_in + len(ans)}
        cid = 'chatcmpl-mock-%d' % serial
        created = 1700000000 + serial
        if not doc.get('stream'):
            self._send(h, 200, {
                'id': cid, 'object': 'chat.completion', 'created': created,
                'model': doc['model'], 'system_fingerprint': 'fp_mock',
                'choices': [{'index': 0, 'message': {'role': 'assistant',
                                                     'content': ' '.join(ans),
                                                     'refusal': None},
                             'logprobs': None, 'finish_reason': finish}],
                'usage': usage})
            return
        so = doc.get('stream_options')
        include = isinstance(so, dict) and so.get('include_usage') is True

        def chunk(delta, finish_reason=None, choices=True):
            c = {'id': cid, 'object': 'chat.completion.chunk', 'created': created,
                 'model': doc['model'], 'system_fingerprint': 'fp_mock',
                 'choices': [{'index': 0, 'delta': delta, 'logprobs': None,
                              'finish_reason': finish_reason}] if choices else []}
            if include:
                c['usage'] = None if choices else usage
            return 'data: %s\n\n' % json.dumps(c)

        events = [chunk({'role': 'assistant', 'content': '', 'refusal': None})]
        for i, w in enumerate(ans):
            events.append(chunk({'content': w if i == 0 else ' ' + w}))
        events.append(chunk({}, finish))
        if include:
            events.append(chunk(None, choices=False))
        events.append('data: [DONE]\n\n')
        self._stream(h, events)

    def _anthropic_messages(self, h, req, serial):
        doc = self._json_body(req)
        msgs = doc.get('messages')
        if not isinstance(msgs, list) or not msgs:
            raise _Fail(400, 'messages: Field required')
        mt = doc.get('max_tokens')
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            raise _Fail(400, 'max_tokens: Field required')
        for m in msgs:
            if not isinstance(m, dict) or m.get('role') not in ('user', 'assistant'):
                raise _Fail(400, 'messages: roles must be user or assistant')
        n_in = sum(words(text_of(m.get('content'))) for m in msgs)
        n_in += words(text_of(doc.get('system', '')))
        users = [text_of(m.get('content')) for m in msgs if m.get('role') == 'user']
        ans, cut = self._answer(users[-1] if users else '', mt)
        stop = 'max_tokens' if cut else 'end_turn'
        mid = 'msg_mock_%d' % serial
        if not doc.get('stream'):
            self._send(h, 200, {
                'id': mid, 'type': 'message', 'role': 'assistant', 'model': doc['model'],
                'content': [{'type': 'text', 'text': ' '.join(ans)}],
                'stop_reason': stop, 'stop_sequence': None,
                'usage': {'input_tokens': n_in, 'output_tokens': len(ans)}})
            return

        def ev(name, data):
            return 'event: %s\ndata: %s\n\n' % (name, json.dumps(data))

        events = [ev('message_start', {'type': 'message_start', 'message': {
            'id': mid, 'type': 'message', 'role': 'assistant', 'model': doc['model'],
            'content': [], 'stop_reason': None, 'stop_sequence': None,
            'usage': {'input_tokens': n_in, 'output_tokens': 1}}}),
            ev('content_block_start', {'type': 'content_block_start', 'index': 0,
                                       'content_block': {'type': 'text', 'text': ''}}),
            ev('ping', {'type': 'ping'})]
        for i, w in enumerate(ans):
            events.append(ev('content_block_delta', {
                'type': 'content_block_delta', 'index': 0,
                'delta': {'type': 'text_delta', 'text': w if i == 0 else ' ' + w}}))
        events += [ev('content_block_stop', {'type': 'content_block_stop', 'index': 0}),
                   ev('message_delta', {'type': 'message_delta',
                                        'delta': {'stop_reason': stop, 'stop_sequence': None},
                                        'usage': {'output_tokens': len(ans)}}),
                   ev('message_stop', {'type': 'message_stop'})]
        self._stream(h, events)

    def _stream(self, h, events):
        """SSE over chunked transfer encoding, one HTTP chunk per event, each flushed."""
        with self.lock:
            delay = self.chunk_delay
            cut = self.cut_after
        h.send_response(200)
        h.send_header('Content-Type', 'text/event-stream; charset=utf-8')
        h.send_header('Cache-Control', 'no-cache')
        h.send_header('Transfer-Encoding', 'chunked')
        h.end_headers()
        h.wfile.flush()
        for i, e in enumerate(events):
            if cut is not None and i >= cut:
                break
            if i and delay:
                time.sleep(delay)
            data = e.encode()
            h.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            h.wfile.flush()
        h.wfile.write(b'0\r\n\r\n')
        h.wfile.flush()

    def _control(self, h, path, body):
        if path == '/_mock/requests' and h.command == 'GET':
            with self.lock:
                docs = [{'method': r.method, 'path': r.path, 'headers': r.headers,
                         'body': r.body.decode('utf-8', 'replace')} for r in self.requests]
            return self._send(h, 200, docs)
        if path == '/_mock/control' and h.command == 'POST':
            try:
                doc = json.loads(body or b'{}')
                self.configure(doc)
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                return self._send(h, 400, {'error': str(e)})
            return self._send(h, 200, {'ok': True})
        return self._send(h, 404, {'error': 'no such control'})


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python3 -m jgtest.llm_mock',
                                 description='A mock LLM provider on loopback.')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--format', choices=FORMATS, default='openai')
    ap.add_argument('--key', action='append', help='a valid key (repeatable)')
    ap.add_argument('--model', action='append', help='a model served (repeatable; default any)')
    ap.add_argument('--config', help='a JSON file of knobs (as POST /_mock/control)')
    args = ap.parse_args(argv)
    mock = LLMMock(args.format, keys=args.key or ['sk-test'], models=args.model,
                   port=args.port, host=args.host)
    if args.config:
        with open(args.config) as f:
            mock.configure(json.load(f))
    # The handlers before the line that says it is up: a TERM right after it
    # must stop it cleanly (status 0), not kill it. They only note the signal:
    # an Event.set() there deadlocks when the signal lands inside Event.wait()
    # holding the same lock (seen: a mock that never stopped).
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    mock.start()
    print('llm_mock %s listening on %s' % (args.format, mock.base_url), flush=True)
    while not stop:
        time.sleep(0.05)
    mock.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())

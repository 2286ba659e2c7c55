"""An upstream in the test process: a threaded HTTP/1.1 server on a free
loopback port that records what it received and answers as told. nginx's own
server blocks (jgtest.nginx.ECHO_TEXT, ECHO_JSON) are the upstreams of the
fast paths; this one is for what they cannot do: a test that must see the
request body, answer slowly, fail, or count calls."""
import http.server
import json
import threading


class Request:
    """What the upstream received: method, path, headers (dict by lower-case name),
    body (bytes)."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def __repr__(self):
        return 'Request(%s %s)' % (self.method, self.path)


def echo(req):
    """The default answer: 200, a JSON document of the request (method, path, headers,
    body as text)."""
    doc = {'method': req.method, 'path': req.path, 'headers': req.headers,
           'body': req.body.decode('utf-8', 'replace')}
    return 200, {'Content-Type': 'application/json'}, json.dumps(doc).encode()


class Upstream:
    """start() binds 127.0.0.1 on a free port (self.port, self.url) and serves in a
    thread; `handler(Request) -> (status, headers dict, body bytes)` makes each answer
    (default: echo). self.requests lists every request received, in order."""

    def __init__(self, handler=None):
        self.handler = handler or echo
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None
        self.port = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def handle_one(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n) if n else b''
                req = Request(self.command, self.path,
                              {k.lower(): v for k, v in self.headers.items()}, body)
                with outer.lock:
                    outer.requests.append(req)
                status, headers, out = outer.handler(req)
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(out)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name='upstream',
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.httpd = None

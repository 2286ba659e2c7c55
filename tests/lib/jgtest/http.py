"""HTTP/1.1 for tests, standard library only: requests through http.client
with the response kept whole (Response), raw bytes on a socket for what
http.client refuses to send, and the encodings tests need (Basic
credentials, base64url, JOSE headers)."""
import base64
import http.client
import json
import re
import socket
import urllib.parse

from . import config

HOST = '127.0.0.1'


class Response:
    """status (int), headers (list of (name, value) as received), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        """The first header of that name (any case), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.body)

    def echoed(self):
        """The request headers an echo upstream (jgtest.nginx.ECHO_TEXT) received, by
        lower-case name."""
        out = {}
        for line in self.text.splitlines():
            if ': ' in line:
                k, v = line.split(': ', 1)
                out[k.lower()] = v
        return out

    def challenge(self):
        """The WWW-Authenticate challenge as a dict (the scheme under ''), or None."""
        h = self.header('WWW-Authenticate')
        if h is None:
            return None
        scheme, _, rest = h.partition(' ')
        out = {'': scheme}
        for m in re.finditer(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', rest):
            out[m.group(1)] = m.group(2)
        return out

    def __repr__(self):
        return 'Response(%d, %r, %r)' % (self.status, self.headers, self.body[:300])


def request(port, path, token=None, headers=None, method='GET', body=None, conn=None,
            timeout=None, host=HOST):
    """One request to host:port; `token` becomes "Authorization: Bearer <token>";
    `conn` (an http.client.HTTPConnection) reuses a connection, else a new one is
    opened and closed."""
    h = dict(headers or {})
    if token is not None:
        h['Authorization'] = 'Bearer ' + token
    if isinstance(body, str):
        body = body.encode()
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(host, port, timeout=timeout or config.REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        if own:
            conn.close()


def raw_exchange(port, data, timeout=10, until=None, host=HOST):
    """Send `data` as it is and read what comes back until the peer closes, `until`
    (bytes) has been received, or nothing arrives for `timeout` seconds. The bytes read
    (b'' when the server sent nothing)."""
    buf = b''
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        try:
            while until is None or until not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
    return buf


def raw_request(port, data, timeout=10, host=HOST):
    """Send bytes as they are; the status code of the answer (0: none)."""
    buf = raw_exchange(port, data, timeout, until=b'\r\n', host=host)
    parts = buf.split(b' ', 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def form(fields):
    """application/x-www-form-urlencoded body of a dict or a list of (name, value)."""
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    return urllib.parse.urlencode(items)


def basic(client_id, secret):
    """RFC 6749 2.3.1 client_secret_basic: both parts form-encoded, then Basic."""
    q = urllib.parse.quote_plus
    raw = ('%s:%s' % (q(client_id), q(secret))).encode()
    return 'Basic ' + base64.b64encode(raw).decode()


def b64(data):
    """base64url without padding of bytes (or text, UTF-8)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def unb64(s):
    """Bytes of base64url text, padded or not."""
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


b64url_decode = unb64


def jose_header(token):
    """The decoded protected header of a compact JWS or JWE."""
    return json.loads(unb64(token.split('.')[0]))


jwe_header = jose_header

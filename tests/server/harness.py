"""Start a jwtgated on a free loopback port with a temporary data directory,
and talk to it over HTTP (Python standard library only).

The binaries come from the environment (CTest sets them):
  JWTGATED      path of jwtgated
  JWTGATE_CLI   path of the jwtgate command-line tool
"""
import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

JWTGATED = os.environ.get('JWTGATED', 'jwtgated')
JWTGATE_CLI = os.environ.get('JWTGATE_CLI', 'jwtgate')
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return 'Response(%d, %r)' % (self.status, self.body[:300])


class Server:
    """One jwtgated process with its own data directory."""

    def __init__(self, *extra, token_ttl=None, data_dir=None, keep=False):
        self.tmp = data_dir or tempfile.mkdtemp(prefix='jwtgated-test-')
        self.keep = keep
        self.data = os.path.join(self.tmp, 'data')
        self.master = os.path.join(self.tmp, 'master.key')
        self.extra = list(extra)
        if token_ttl:
            self.extra += ['--token-ttl', str(token_ttl)]
        self.proc = None
        self.port = None
        if not os.path.exists(os.path.join(self.data, 'jwtgated.db')):
            out = subprocess.run([JWTGATED, 'init', '--data-dir', self.data,
                                  '--master-key-file', self.master],
                                 capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError('init failed: ' + out.stderr)
            self.admin_token = out.stdout.strip()
        self.start()

    @property
    def snapshot_path(self):
        return os.path.join(self.data, 'snapshot.json')

    def start(self):
        port_file = os.path.join(self.tmp, 'port')
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(os.path.join(self.tmp, 'serve.log'), 'ab')
        self.proc = subprocess.Popen(
            [JWTGATED, 'serve', '--data-dir', self.data, '--master-key-file', self.master,
             '--port', '0', '--port-file', port_file, '--access-log'] + self.extra,
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('jwtgated exited: ' + self.read_log())
            try:
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                break
            except (FileNotFoundError, ValueError):
                time.sleep(0.02)
        else:
            raise RuntimeError('jwtgated did not start')
        self.issuer = 'http://127.0.0.1:%d' % self.port
        self.token_endpoint = self.issuer + '/oauth2/token'

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(os.path.join(self.tmp, 'serve.log'), 'rb') as f:
            return f.read().decode(errors='replace')

    def stop(self):
        if self.proc is not None and self.proc.poll() is not None:
            # It died on its own: show why (sanitizer reports land in the log).
            import sys
            sys.stderr.write('jwtgated exited with %s; its log:\n%s\n' % (
                self.proc.returncode, self.read_log()[-20000:]))
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif self.proc is not None and self.proc.returncode not in (0, None):
            pass
        code = self.proc.returncode if self.proc is not None else 0
        self.proc = None
        self.log.close()
        if code not in (0, -signal.SIGKILL):
            raise RuntimeError('jwtgated exited with status %s: %s' % (code,
                                                                   self.read_log()[-5000:]))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    def close(self):
        self.stop()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- HTTP -------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def post_form(self, path, fields, auth=None, headers=None):
        """fields: list of (name, value) or dict; auth: (id, secret) for Basic."""
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        h = {'Content-Type': 'application/x-www-form-urlencoded'}
        if auth is not None:
            h['Authorization'] = basic(*auth)
        h.update(headers or {})
        return self.request('POST', path, urllib.parse.urlencode(items), h)

    def admin(self, method, path, body=None, token=None, expect=None):
        h = {'Authorization': 'Bearer ' + (token or self.admin_token)}
        data = None
        if body is not None:
            h['Content-Type'] = 'application/json'
            data = json.dumps(body)
        r = self.request(method, '/admin/v1' + path, data, h)
        self.last = r
        if expect is not None and r.status != expect:
            raise AssertionError('%s %s: expected %d, got %r' % (method, path, expect, r))
        try:
            return r.status, (r.json() if r.body else None)
        except ValueError:
            return r.status, r.body

    def token(self, client_id, secret, **params):
        fields = [('grant_type', 'client_credentials')]
        for k, v in params.items():
            if isinstance(v, (list, tuple)):
                fields += [(k, x) for x in v]
            else:
                fields.append((k, v))
        return self.post_form('/oauth2/token', fields, auth=(client_id, secret))

    def snapshot(self):
        with open(self.snapshot_path) as f:
            return json.load(f)


def basic(client_id, secret):
    q = urllib.parse.quote_plus
    raw = ('%s:%s' % (q(client_id), q(secret))).encode()
    return 'Basic ' + base64.b64encode(raw).decode()


class World:
    """Two tenants with a user of every role each, an API and an app per tenant."""

    ROLES = ('owner', 'admin', 'developer', 'viewer')

    def __init__(self, srv):
        self.srv = srv
        self.tokens = {'sysadmin': srv.admin_token}
        self.tenants = {}
        self.users = {}
        for t in ('a', 'b'):
            _, ten = srv.admin('POST', '/tenants', {'name': 'tenant-' + t}, expect=201)
            self.tenants[t] = ten['id']
            for role in self.ROLES:
                name = '%s-%s' % (t, role)
                _, u = srv.admin('POST', '/users', {'name': name}, expect=201)
                self.users[name] = u['id']
                srv.admin('POST', '/tenants/%s/members' % ten['id'],
                          {'user': name, 'role': role}, expect=201)
                _, pat = srv.admin('POST', '/tokens', {'name': 'test', 'user_id': u['id']},
                                   expect=201)
                self.tokens[name] = pat['token']
        _, u = srv.admin('POST', '/users', {'name': 'outsider'}, expect=201)
        _, pat = srv.admin('POST', '/tokens', {'name': 'test', 'user_id': u['id']}, expect=201)
        self.tokens['outsider'] = pat['token']
        self.apis = {}
        self.apps = {}
        for t in ('a', 'b'):
            tid = self.tenants[t]
            _, api = srv.admin('POST', '/tenants/%s/apis' % tid, {
                'name': 'orders', 'version': 'v1', 'base_path': '/%s/orders' % t,
                'upstream': 'http://127.0.0.1:9/%s' % t,
                'audience': 'https://api.example.com/%s/orders' % t,
                'scopes': ['orders:read', 'orders:write'], 'policy': 'manual'}, expect=201)
            srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (tid, api['id']),
                      {'state': 'published'}, expect=200)
            self.apis[t] = api
            _, app = srv.admin('POST', '/tenants/%s/apps' % tid, {'name': 'shop'}, expect=201)
            self.apps[t] = app

    def subscribe(self, app_tenant, api_tenant, scopes, approve=True):
        tid = self.tenants[app_tenant]
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': self.apps[app_tenant]['id'], 'api_id': self.apis[api_tenant]['id'],
            'scopes': scopes}, expect=201)
        if approve:
            _, sub = self.srv.admin(
                'POST', '/tenants/%s/subscriptions/%s/approve' % (self.tenants[api_tenant],
                                                                  sub['id']),
                {'reason': 'test'}, expect=200)
        return sub

    def client(self, t):
        return self.apps[t]['client_id'], self.apps[t]['client_secret']


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def jwe_header(token):
    return json.loads(b64url_decode(token.split('.')[0]))

"""The whole stack for end-to-end tests: a real jwtgated (tests/server/harness.py), a real nginx
with ngx_http_jwtgate_module, and a real upstream (a server block of the same nginx that
echoes what it received). Python standard library only.

Environment (CTest sets it):
  JWTGATED, JWTGATE_CLI   the binaries (as for tests/server)
  JG_NGINX_MODULE         path of ngx_http_jwtgate_module.so
  NGINX                   nginx binary (default /usr/sbin/nginx)
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'server'))
import harness  # noqa: E402  (jwtgated and its admin API)

NGINX = os.environ.get('NGINX', '/usr/sbin/nginx')
MODULE = os.environ.get('JG_NGINX_MODULE', '')


def sanitizer_runtime():
    """The ASan runtime a sanitize-flavour module links (nginx must preload it), or None."""
    out = subprocess.run(['ldd', MODULE], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'libasan' in line and '=>' in line:
            return line.split('=>')[1].split('(')[0].strip()
    return None


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(('127.0.0.1', 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Response(harness.Response):
    def challenge(self):
        """The WWW-Authenticate Bearer challenge as a dict (scheme under '')."""
        h = self.header('WWW-Authenticate')
        if h is None:
            return None
        scheme, _, rest = h.partition(' ')
        out = {'': scheme}
        for m in re.finditer(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', rest):
            out[m.group(1)] = m.group(2)
        return out


GATEWAY_CONF = r"""
load_module {module};
{user}
worker_processes {workers};
pid logs/nginx.pid;
error_log logs/error.log info;
events {{ worker_connections 1024; }}

http {{
    access_log logs/access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    keepalive_requests 100000;

    jwtgate_cache zone=e2e_tokens:2m;

    # the gateway with the verified-token cache
    server {{
        listen 127.0.0.1:{port_cache};
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_snapshot {snapshot} interval=100ms;
        jwtgate e2e;
        jwtgate_type nested;
        jwtgate_forward_claim X-Client-Id client_id;
        location / {{
            proxy_pass $jwtgate_api_upstream;
        }}
        location /write/ {{
            jwtgate_scope orders:write;
            proxy_pass $jwtgate_api_upstream;
        }}
    }}

    # the same without the cache
    server {{
        listen 127.0.0.1:{port_nocache};
        add_header X-Cache $jwtgate_cache_status always;
        jwtgate_snapshot {snapshot} interval=100ms;
        jwtgate e2e;
        jwtgate_type nested;
        jwtgate_cache off;
        jwtgate_forward_claim X-Client-Id client_id;
        location / {{
            proxy_pass $jwtgate_api_upstream;
        }}
    }}

    # the upstream of every API: says what it got
    server {{
        listen 127.0.0.1:{port_up};
        location / {{
            default_type application/json;
            return 200 '{{"uri": "$request_uri", "client_id": "$http_x_client_id", "authorization": "$http_authorization"}}';
        }}
    }}
}}
"""


class Gateway:
    """nginx with the module, with a prefix in a temporary directory."""

    def __init__(self, tmp, snapshot, workers=1):
        if not MODULE or not os.path.exists(MODULE):
            raise unittest.SkipTest('JG_NGINX_MODULE not built')
        self.prefix = os.path.join(tmp, 'nginx')
        for d in ('conf', 'logs', 'tmp'):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        self.port, self.port_nocache, self.port_up = free_ports(3)
        # The snapshot is mode 0600 (it holds the gateway's private keys): the
        # workers run as whoever runs jwtgated.
        user = 'user root root;' if os.geteuid() == 0 else ''
        conf = GATEWAY_CONF.format(module=MODULE, user=user, workers=workers,
                                   port_cache=self.port, port_nocache=self.port_nocache,
                                   port_up=self.port_up, snapshot=snapshot)
        with open(os.path.join(self.prefix, 'conf', 'nginx.conf'), 'w') as f:
            f.write(conf)
        self.proc = None
        self.start()

    @property
    def upstream(self):
        return 'http://127.0.0.1:%d' % self.port_up

    def start(self):
        env = dict(os.environ)
        rt = sanitizer_runtime()
        if rt:
            env['LD_PRELOAD'] = rt
            # nginx itself does not free everything at exit (leaks are the unit tests'
            # business); memory errors are fatal and land in the log
            env['ASAN_OPTIONS'] = 'detect_leaks=0:abort_on_error=1'
            env['UBSAN_OPTIONS'] = 'print_stacktrace=1:halt_on_error=1'
        with open(os.path.join(self.prefix, 'logs', 'stderr.log'), 'ab') as err:
            self.proc = subprocess.Popen(
                [NGINX, '-p', self.prefix + '/', '-c', 'conf/nginx.conf', '-e',
                 'logs/error.log', '-g', 'daemon off;'], env=env, stdout=subprocess.DEVNULL,
                stderr=err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('nginx exited:\n%s' % self.error_log()[-3000:])
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('nginx did not start')

    def error_log(self):
        out = ''
        for name in ('stderr.log', 'error.log'):
            try:
                with open(os.path.join(self.prefix, 'logs', name), errors='replace') as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out

    def check_log(self):
        """No worker crashed, nothing reported as an alert or worse."""
        log = self.error_log()
        bad = [line for line in log.splitlines()
               if re.search(r'\[(alert|crit|emerg)\]|exited on signal|AddressSanitizer|'
                            r'runtime error', line)
               and 'could not open error log file' not in line]
        return bad

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: finish requests
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        if code != 0:
            raise RuntimeError('nginx exited with %s:\n%s' % (code, self.error_log()[-5000:]))

    def request(self, method, path, token=None, headers=None, port=None, conn=None):
        h = dict(headers or {})
        if token is not None:
            h['Authorization'] = 'Bearer ' + token
        own = conn is None
        if own:
            conn = http.client.HTTPConnection('127.0.0.1', port or self.port, timeout=30)
        try:
            conn.request(method, path, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if own:
                conn.close()

    def get(self, path, token=None, **kw):
        return self.request('GET', path, token, **kw)


class Stack:
    """jwtgated + nginx with the module + the upstream, and the admin calls the tests need."""

    def __init__(self, token_ttl=None, workers=1):
        self.tmp = tempfile.mkdtemp(prefix='jwtgate-e2e-')
        # A fixed issuer: jwtgated restarted on another port issues the same "iss".
        self.issuer = 'https://issuer.e2e.test'
        self.srv = harness.Server('--issuer', self.issuer, token_ttl=token_ttl,
                                  data_dir=self.tmp, keep=True)
        try:
            self.gw = Gateway(self.tmp, self.srv.snapshot_path, workers=workers)
        except BaseException:
            self.srv.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        _, ten = self.srv.admin('POST', '/tenants', {'name': 'e2e'}, expect=201)
        self.tenant = ten['id']
        self.n = 0

    def close(self):
        problems = self.gw.check_log()
        try:
            self.gw.stop()
        finally:
            if self.srv.proc is not None:
                self.srv.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError('nginx error log:\n' + '\n'.join(problems[:20]))

    # ---- admin ---------------------------------------------------------------------------

    def api(self, name=None, scopes=('orders:read', 'orders:write'), state='published'):
        self.n += 1
        name = name or 'api%d' % self.n
        _, api = self.srv.admin('POST', '/tenants/%s/apis' % self.tenant, {
            'name': name, 'version': 'v1', 'base_path': '/' + name,
            'upstream': self.gw.upstream, 'audience': 'https://api.example.com/' + name,
            'scopes': list(scopes), 'policy': 'manual'}, expect=201)
        for st in {'draft': (), 'published': ('published',),
                   'deprecated': ('published', 'deprecated'),
                   'retired': ('published', 'deprecated', 'retired')}[state]:
            api = self.lifecycle(api, st)
        return api

    def lifecycle(self, api, state, **extra):
        body = {'state': state}
        body.update(extra)
        _, out = self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (self.tenant, api['id']),
                                body, expect=200)
        api.update(out)
        return api

    def app(self, name='app'):
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.tenant, {'name': name},
                                expect=201)
        return app

    def subscribe(self, app, api, scopes=('orders:read',), decide='approve'):
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.tenant, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': list(scopes)}, expect=201)
        if decide:
            _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions/%s/%s' % (
                self.tenant, sub['id'], decide), {'reason': 'e2e'}, expect=200)
        return sub

    def sub_action(self, sub, action):
        return self.srv.admin('POST', '/tenants/%s/subscriptions/%s/%s' % (
            self.tenant, sub['id'], action), {'reason': 'e2e'}, expect=200)[1]

    def token(self, app, expect=200, **params):
        r = self.srv.token(app['client_id'], app['client_secret'], **params)
        if r.status != expect:
            raise AssertionError('token: expected %d, got %r' % (expect, r))
        return r.json().get('access_token') if expect == 200 else r

    def revoke(self, app, token):
        r = self.srv.post_form('/oauth2/revoke', {'token': token},
                               auth=(app['client_id'], app['client_secret']))
        assert r.status == 200, r

    # ---- tokens made here, with the issuer's own key (for claims jwtgated never issues) ----

    def issuer_keys(self):
        """(issuer signing key, gateway public encryption key) as JWK files: the active
        signing key is read from jwtgated's database and opened with the master key."""
        import sqlite3
        d = os.path.join(self.tmp, 'mint')
        os.makedirs(d, exist_ok=True)
        with open(self.srv.master) as f:
            master = {'kty': 'oct', 'k': f.read().strip(), 'alg': 'dir', 'kid': 'master'}
        mk = os.path.join(d, 'master.jwk')
        with open(mk, 'w') as f:
            json.dump(master, f)
        db = sqlite3.connect(os.path.join(self.srv.data, 'jwtgated.db'))
        try:
            (sealed,) = db.execute("SELECT private_jwe FROM keys WHERE purpose = 'signing' "
                                   "AND state = 'active'").fetchone()
        finally:
            db.close()
        sign = subprocess.run([harness.JWTGATE_CLI, 'jwe', 'decrypt', '--key', mk,
                               '--alg', 'dir'], input=sealed, capture_output=True,
                              text=True, check=True).stdout
        os.unlink(mk)
        snap = self.srv.snapshot()
        active = {k['kid'] for k in snap['keys'] if k['state'] == 'active'}
        enc = [k for k in snap['decryption_keys']['keys'] if k['kid'] in active][0]
        enc = {k: v for k, v in enc.items() if k != 'd'}
        paths = (os.path.join(d, 'issuer.jwk'), os.path.join(d, 'gateway.pub.jwk'))
        for path, text in zip(paths, (sign, json.dumps(enc))):
            with open(path, 'w') as f:
                f.write(text)
        return paths

    def mint(self, *args, sign_key=None, enc_key=None, **claims):
        """A nested token made by `jwtgate jwt seal`; args are its options."""
        if not hasattr(self, '_keys'):
            self._keys = self.issuer_keys()
        cmd = [harness.JWTGATE_CLI, 'jwt', 'seal', '--sign-key', sign_key or self._keys[0],
               '--enc-key', enc_key or self._keys[1]] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    def snapshot_version(self):
        return self.srv.snapshot()['version']

    # ---- waiting for the gateway ---------------------------------------------------------

    def until(self, fn, timeout=1.0, step=0.01, streak=1):
        """Seconds until fn() is true (polled) and stays true for `streak` calls in a row
        (with several workers, each picks a new snapshot up on its own timer), measured to
        the first call of that streak; raise if that is later than timeout seconds."""
        start = time.monotonic()
        first, run = None, 0
        while True:
            now = time.monotonic()
            last = fn()
            if last:
                if run == 0:
                    first = now
                run += 1
                if run >= streak:
                    return first - start
            else:
                run = 0
            if run == 0 and now - start > timeout:
                raise AssertionError('not within %.1f s (last: %r)' % (timeout, last))
            if run == 0:
                time.sleep(step)


class StackTest(unittest.TestCase):
    """One stack per test class."""

    token_ttl = None
    workers = 1

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(token_ttl=cls.token_ttl, workers=cls.workers)
        cls.gw = cls.stack.gw

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def assertStatus(self, r, status, error=None, msg=None):
        self.assertEqual(r.status, status, msg or r)
        if error is not None:
            ch = r.challenge()
            self.assertIsNotNone(ch, r)
            self.assertEqual(ch.get('error'), error, r.header('WWW-Authenticate'))


def main():
    unittest.main(verbosity=2)

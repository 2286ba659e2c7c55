"""Run a real nginx with ngx_http_jwtgate_module on a free loopback port, with
its own prefix, logs and temporary directories under the build directory, and
a second server block in the same nginx as the upstream: it answers with the
request headers it received, so that tests see what the module forwarded.

Python 3 standard library only. CTest sets the environment:
  NGX_MODULE    path of ngx_http_jwtgate_module.so
  JWTGATE_CLI   path of the jwtgate command-line tool (keys and tokens)
  NGINX         the nginx binary (default /usr/sbin/nginx)
  NGX_TEST_DIR  where each nginx gets its directory (default: ./nginx-tests)
A module built with sanitizers (ldd shows libasan) runs under nginx with the
ASan runtime preloaded; every test then also fails on a sanitizer report.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

MODULE = os.environ.get('NGX_MODULE', '')
CLI = os.environ.get('JWTGATE_CLI', 'jwtgate')
NGINX = os.environ.get('NGINX', '/usr/sbin/nginx')
TEST_DIR = os.path.abspath(os.environ.get('NGX_TEST_DIR', 'nginx-tests'))


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sanitizer_runtime():
    """The ASan runtime the module links, or None for a plain build."""
    out = subprocess.run(['ldd', MODULE], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'libasan' in line and '=>' in line:
            return line.split('=>')[1].split('(')[0].strip()
    return None


# ---- keys and tokens (the jwtgate CLI) --------------------------------------


def cli(*args, stdin=None, check=True):
    p = subprocess.run([CLI] + [str(a) for a in args], input=stdin, capture_output=True,
                       text=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError('jwtgate %s: %s' % (' '.join(map(str, args)), p.stderr))
    return p.stdout.strip()


class Keys:
    """Key files in `dir`: an ES256 issuer, an ECDH-ES+A256KW gateway key, an
    HS256 secret, an RS256 issuer and a second ES256 issuer nobody trusts."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        for name, alg in (('issuer', 'ES256'), ('gateway', 'ECDH-ES+A256KW'),
                          ('hmac', 'HS256'), ('rsa', 'RS256'), ('stranger', 'ES256'),
                          ('gateway2', 'ECDH-ES+A256KW')):
            path = self.path(name)
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write(cli('key', 'generate', '--alg', alg))
            pub = self.path(name + '.pub')
            if alg != 'HS256' and not os.path.exists(pub):
                with open(path) as f:
                    text = f.read()
                with open(pub, 'w') as f:
                    f.write(cli('key', 'public', stdin=text))

    def path(self, name):
        return os.path.join(self.dir, name + '.jwk')

    def jwk(self, name):
        with open(self.path(name)) as f:
            return json.load(f)

    def jwks_file(self, name, *keys, public=False):
        """A JWKS file of the named keys."""
        path = os.path.join(self.dir, name + '.jwks')
        args = ['key', 'set'] + (['--public'] if public else []) + [self.path(k) for k in keys]
        with open(path, 'w') as f:
            f.write(cli(*args))
        return path


def claim_args(iss=None, aud=None, sub=None, exp='15m', nbf=None, jti=None, claims=None,
               no_exp=False):
    args = []
    if iss:
        args += ['--iss', iss]
    if sub:
        args += ['--sub', sub]
    for a in ([aud] if isinstance(aud, str) else aud or []):
        args += ['--aud', a]
    if no_exp:
        args += ['--no-exp']
    elif exp:
        args += ['--exp', exp]
    if nbf:
        args += ['--nbf', nbf]
    if jti:
        args += ['--jti', jti]
    for k, v in (claims or {}).items():
        args += ['--claim', '%s=%s' % (k, v if isinstance(v, str) else json.dumps(v))]
    return args


def signed(keys, key='issuer', typ='at+jwt', alg=None, **kw):
    args = ['jwt', 'sign', '--key', keys.path(key)]
    if typ:
        args += ['--typ', typ]
    if alg:
        args += ['--alg', alg]
    return cli(*(args + claim_args(**kw)))


def nested(keys, sign='issuer', enc='gateway', **kw):
    return cli(*(['jwt', 'seal', '--sign-key', keys.path(sign), '--enc-key',
                  keys.path(enc + '.pub')] + claim_args(**kw)))


def encrypted(keys, claims, enc='gateway', header=None, zip=False, p2c=None, key=None):
    """A JWE whose plaintext is `claims` (a dict or text), not a JWS."""
    args = ['jwe', 'encrypt', '--key', key or keys.path(enc + '.pub'),
            '--header', json.dumps(header if header is not None else {'typ': 'at+jwt'})]
    if zip:
        args.append('--zip')
    if p2c:
        args += ['--p2c', p2c]
    text = claims if isinstance(claims, str) else json.dumps(claims)
    return cli(*args, stdin=text)


# ---- HTTP ---------------------------------------------------------------------


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

    def echoed(self):
        """The request headers the upstream received (lower-case names)."""
        out = {}
        for line in self.body.splitlines():
            if ': ' in line:
                k, v = line.split(': ', 1)
                out[k.lower()] = v
        return out

    def __repr__(self):
        return 'Response(%d, %r, %r)' % (self.status, self.headers, self.body[:300])


def request(port, path, token=None, headers=None, method='GET', timeout=10):
    h = dict(headers or {})
    if token is not None:
        h['Authorization'] = 'Bearer ' + token
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request(method, path, headers=h)
        r = c.getresponse()
        return Response(r.status, r.getheaders(), r.read().decode('utf-8', 'replace'))
    finally:
        c.close()


def raw_request(port, data, timeout=10):
    """Send bytes as they are; the status code of the answer (0: none)."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b''
        try:
            while b'\r\n' not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
    parts = buf.split(b' ', 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


# ---- nginx ----------------------------------------------------------------------


ECHO = r'''
    server {
        listen 127.0.0.1:%(uport)d;
        location / {
            default_type text/plain;
            return 200 "uri: $request_uri
authorization: $http_authorization
x-sub: $http_x_sub
x-scope: $http_x_scope
x-org: $http_x_org
x-client: $http_x_client
";
        }
    }
'''

CONF = r'''
load_module %(module)s;
%(user)s
daemon off;
master_process on;
worker_processes %(workers)d;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log info;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %(dir)s/tmp/client_body;
    proxy_temp_path %(dir)s/tmp/proxy;
    fastcgi_temp_path %(dir)s/tmp/fastcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi;
    scgi_temp_path %(dir)s/tmp/scgi;
    upstream echo { server 127.0.0.1:%(uport)d; keepalive 8; }
%(echo)s
%(http)s
    server {
        listen 127.0.0.1:%(port)d;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
%(server)s
    }
}
'''

SANITIZER_MARKS = ('exited on signal', 'AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                   'UndefinedBehaviorSanitizer')


class Nginx:
    """One nginx: `server` is the body of the tested server block, `http`
    extra http-level directives. Files it needs go in self.dir."""

    def __init__(self, name, server='', http='', workers=1):
        self.name = name
        self.dir = os.path.join(TEST_DIR, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, 'tmp'))
        self.port = free_port()
        self.uport = free_port()
        self.server_conf = server
        self.http_conf = http
        self.workers = workers
        self.proc = None
        self.stderr_path = os.path.join(self.dir, 'stderr.log')
        self.error_log = os.path.join(self.dir, 'error.log')

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def conf_text(self):
        vals = {'module': MODULE, 'dir': self.dir, 'port': self.port, 'uport': self.uport,
                'workers': self.workers, 'http': self.http_conf % self.vars(),
                'server': self.server_conf % self.vars()}
        vals['echo'] = ECHO % vals
        # as root, the workers would run as "nobody" and could not read the
        # 0600 snapshot (as in production: jwtgated and the workers share a user)
        vals['user'] = 'user root;' if os.getuid() == 0 else ''
        return CONF % vals

    def vars(self):
        return {'dir': self.dir, 'uport': self.uport, 'port': self.port}

    def env(self):
        env = dict(os.environ)
        rt = sanitizer_runtime()
        if rt:
            env['LD_PRELOAD'] = rt
            # nginx itself does not free everything at exit: leaks are the
            # unit tests' business; memory errors here are fatal and logged.
            env['ASAN_OPTIONS'] = ('detect_leaks=0:abort_on_error=1:'
                                   'detect_stack_use_after_return=1')
            env['UBSAN_OPTIONS'] = 'print_stacktrace=1:halt_on_error=1'
        return env

    def test_config(self):
        """nginx -t: (ok, output)."""
        conf = self.file('nginx.conf', self.conf_text())
        p = subprocess.run([NGINX, '-t', '-p', self.dir, '-c', conf], capture_output=True,
                           text=True, env=self.env(), timeout=60)
        return p.returncode == 0, p.stderr

    def start(self):
        conf = self.file('nginx.conf', self.conf_text())
        self.stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen([NGINX, '-p', self.dir, '-c', conf], stdout=self.stderr,
                                     stderr=self.stderr, env=self.env())
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('nginx did not start:\n' + self.logs())
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1):
                    pass
                # the workers are up when a request is answered
                request(self.port, '/__ping__')
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('nginx did not listen:\n' + self.logs())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.stderr.close()

    def worker_pids(self):
        out = subprocess.run(['ps', '-o', 'pid=', '--ppid', str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return sorted(int(x) for x in out.split())

    def logs(self):
        text = ''
        for p in (self.error_log, self.stderr_path):
            if os.path.exists(p):
                with open(p, errors='replace') as f:
                    text += f.read()
        return text

    def crashes(self):
        """Lines telling of a crashed worker or a sanitizer report."""
        return [l for l in self.logs().splitlines() if any(m in l for m in SANITIZER_MARKS)]

    def get(self, path, token=None, **kw):
        return request(self.port, path, token, **kw)

    def wait_log(self, text, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.logs():
                return True
            time.sleep(0.05)
        return False


class NginxTest(unittest.TestCase):
    """A test case whose nginx instances are stopped and checked for crashes."""

    @classmethod
    def setUpClass(cls):
        if not MODULE or not os.path.exists(MODULE):
            raise unittest.SkipTest('NGX_MODULE not set')
        cls.keys = Keys(os.path.join(TEST_DIR, 'keys-' + cls.__name__))
        cls.servers = []

    @classmethod
    def tearDownClass(cls):
        crashes = []
        for s in cls.servers:
            s.stop()
            crashes += s.crashes()
        if crashes:
            raise AssertionError('nginx crashed or a sanitizer reported:\n' + '\n'.join(crashes))

    @classmethod
    def nginx(cls, name, server='', http='', workers=1):
        s = Nginx(cls.__name__ + '-' + name, server, http, workers).start()
        cls.servers.append(s)
        return s

    def assertChallenge(self, r, status, error=None, description=None, scope=None,
                        realm='api'):
        """status, and a WWW-Authenticate challenge exactly as RFC 6750 says."""
        self.assertEqual(r.status, status, r)
        h = r.header('WWW-Authenticate')
        self.assertIsNotNone(h, r)
        want = 'Bearer realm="%s"' % realm
        if error:
            want += ', error="%s"' % error
        if error and description is None:
            # any description, but one there must be
            self.assertTrue(h.startswith(want + ', error_description="'), h)
            self.assertTrue(h.endswith('"' if not scope else ', scope="%s"' % scope), h)
            return
        if description:
            want += ', error_description="%s"' % description
        if scope:
            want += ', scope="%s"' % scope
        self.assertEqual(h, want)

    def assertNoCrash(self, server):
        self.assertEqual(server.crashes(), [])

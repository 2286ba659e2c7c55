"""nginx with ngx_http_jwtgate_module (config.NGX_MODULE) for tests: one
instance per Nginx object, with its own prefix directory (configuration,
logs, temporary files) under config.TEST_DIR and free loopback ports; its
upstreams are server blocks of the same nginx that say what they received.
A module built with sanitizers runs with the ASan runtime preloaded and the
suite's sanitizer options (leak detection off: nginx does not free
everything at exit); every instance is checked for crashed workers and
sanitizer reports."""
import os
import re
import shutil
import signal
import socket
import subprocess
import unittest

from . import tokens
from . import config, http, ports, procs

#: an upstream that answers 200 with the request headers it got, one per line
#: (Response.echoed() reads them back)
ECHO_TEXT = r'''
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

ECHO_JSON_BODY = ('{"uri": "$request_uri", "client_id": "$http_x_client_id", '
                  '"authorization": "$http_authorization"}')
#: an upstream that answers 200 with a JSON document of what it got (uri, the
#: X-Client-Id header, the Authorization header); listens on %(port_up)d
ECHO_JSON = (r"""
    server {
        listen 127.0.0.1:%(port_up)d;
        location / {
            default_type application/json;
            return 200 '""" + ECHO_JSON_BODY + r"""';
        }
    }
""")

MAIN = r'''
load_module %(module)s;
%(user)s
daemon off;
master_process on;
worker_processes %(workers)d;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log info;
events { worker_connections %(worker_connections)d; }
http {
    access_log %(access_log)s;
    client_body_temp_path %(dir)s/tmp/client_body;
    proxy_temp_path %(dir)s/tmp/proxy;
    fastcgi_temp_path %(dir)s/tmp/fastcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi;
    scgi_temp_path %(dir)s/tmp/scgi;
%(http_extra)s
%(echo)s
%(http)s
%(server)s
}
'''

SERVER = r'''
    server {
        listen 127.0.0.1:%(port)d;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
%(body)s
    }
'''

#: error-log levels that a healthy gateway never logs
ALERT = re.compile(r'\[(alert|crit|emerg)\]')


def worker_user():
    """The `user` directive: as root the workers would run as "nobody" and could not
    read the 0600 snapshot, so they run as root (in production jwtgated and the
    workers share a user); otherwise nginx cannot switch users and needs none."""
    return 'user root root;' if os.geteuid() == 0 else ''


def require_module():
    if not config.NGX_MODULE or not os.path.exists(config.NGX_MODULE):
        raise RuntimeError('the nginx module is not built (JG_NGX_MODULE=%r)'
                           % config.NGX_MODULE)


class Nginx:
    """One nginx. `server`: the body of the tested server block, listening on self.port
    (None: no such block, the server blocks are all in `http`); `http`: more http-level
    directives and server blocks; both are %-templates of vars() (dir, port, uport,
    port_NAME for each name of `ports`, and `params`). `echo`: the ECHO_TEXT upstream
    on self.uport, also as `upstream echo` (keepalive). Files the configuration names
    go in self.dir (file()). Not started until start()."""

    def __init__(self, name, server='', http='', workers=1, *, echo=True, ports_named=(),
                 params=None, access_log=False, worker_connections=512, http_extra='',
                 dir=None):
        require_module()
        self.name = name
        self.dir = dir or os.path.join(config.TEST_DIR, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, 'tmp'))
        got = ports.free_ports(2 + len(ports_named))
        self.port, self.uport = got[:2]
        self.ports = dict(zip(ports_named, got[2:]))
        self.server_conf = server
        self.http_conf = http
        self.workers = workers
        self.echo = echo
        self.params = dict(params or {})
        self.access_log = access_log
        self.worker_connections = worker_connections
        self.http_extra = http_extra
        self.conf_path = os.path.join(self.dir, 'nginx.conf')
        self.error_log = os.path.join(self.dir, 'error.log')
        self.stderr_path = os.path.join(self.dir, 'stderr.log')
        self.svc = None
        self.returncode = None

    def __getattr__(self, attr):
        # port_NAME for each named port
        if attr.startswith('port_') and attr[5:] in self.__dict__.get('ports', {}):
            return self.ports[attr[5:]]
        raise AttributeError(attr)

    @property
    def proc(self):
        return self.svc.proc if self.svc is not None else None

    def vars(self):
        v = {'dir': self.dir, 'uport': self.uport, 'port': self.port}
        v.update(('port_' + k, p) for k, p in self.ports.items())
        v.update(self.params)
        return v

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def conf_text(self):
        v = self.vars()
        server = ''
        if self.server_conf is not None:
            server = SERVER % {'port': self.port, 'body': self.server_conf % v}
        echo = ''
        if self.echo:
            echo = ('    upstream echo { server 127.0.0.1:%d; keepalive 8; }\n' % self.uport
                    + ECHO_TEXT % v)
        return MAIN % {
            'module': config.NGX_MODULE, 'user': worker_user(), 'dir': self.dir,
            'workers': self.workers, 'worker_connections': self.worker_connections,
            'access_log': os.path.join(self.dir, 'access.log') if self.access_log else 'off',
            'http_extra': self.http_extra, 'echo': echo, 'http': self.http_conf % v,
            'server': server}

    def env(self):
        return config.child_env(leaks=False, preload=config.sanitizer_runtime())

    def argv(self, *extra):
        return [config.NGINX, '-p', self.dir + '/', '-c', self.conf_path, '-e',
                self.error_log] + list(extra)

    def test_config(self):
        """nginx -t: (ok, what it said)."""
        self.file('nginx.conf', self.conf_text())
        p = subprocess.run(self.argv('-t'), capture_output=True, text=True, env=self.env(),
                           timeout=60)
        return p.returncode == 0, p.stderr

    def start(self):
        self.file('nginx.conf', self.conf_text())
        self.svc = procs.Service('nginx ' + self.name, self.argv(), self.stderr_path,
                                 env=self.env(), other_logs=[self.error_log]).start()
        self.svc.wait_ready(self._answers)
        return self

    def _answers(self):
        # the workers are up when a request is answered
        with socket.create_connection(('127.0.0.1', self.port), timeout=1):
            pass
        self.get('/__ping__')
        return True

    def stop(self, sig=signal.SIGQUIT):
        """Graceful stop (SIGQUIT: requests in progress finish); the exit status."""
        if self.svc is None:
            return self.returncode
        self.returncode = self.svc.stop(sig)
        return self.returncode

    def worker_pids(self):
        return procs.children(self.svc.pid)

    def logs(self):
        """The error log and nginx's standard error, as text."""
        return procs.read_text(self.error_log, self.stderr_path)

    def crashes(self):
        """Lines telling of a crashed worker or a sanitizer report, and an exit of the
        master with an error or after being killed."""
        out = procs.crash_lines(self.logs())
        if self.returncode not in (0, None):
            out.append('nginx exited with status %s' % self.returncode)
        if self.svc is not None and self.svc.stop_timed_out:
            out.append('nginx did not stop within %.0f s' % config.STOP_TIMEOUT)
        return out

    def alerts(self):
        """Error-log lines at alert, crit or emerg level."""
        return [line for line in self.logs().splitlines()
                if ALERT.search(line) and 'could not open error log file' not in line]

    def wait_log(self, text, timeout=5):
        try:
            procs.wait_until(lambda: text in self.logs(), timeout, step=0.05)
            return True
        except TimeoutError:
            return False

    def request(self, method, path, token=None, headers=None, port=None, conn=None,
                timeout=None):
        return http.request(port or self.port, path, token, headers=headers, method=method,
                            conn=conn, timeout=timeout)

    def get(self, path, token=None, **kw):
        return self.request('GET', path, token, **kw)


class NginxTest(unittest.TestCase):
    """A test case with keys (cls.keys, under TEST_DIR/keys-CLASS) whose nginx instances
    (cls.nginx(), or any appended to cls.servers) are stopped after the class and
    checked: a crashed worker or a sanitizer report fails the class."""

    @classmethod
    def setUpClass(cls):
        require_module()
        cls.keys = tokens.Keys(os.path.join(config.TEST_DIR, 'keys-' + cls.__name__))
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

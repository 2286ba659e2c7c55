"""The harness's own tests, part 2: jwtgated (Server, World), nginx with the
module (Nginx) and the whole stack (Stack), each started for real, and their
failures detected: a jwtgated that aborts, an nginx worker that dies of a
signal, a configuration nginx refuses."""
import os
import signal
import time
import unittest

import jgtest
from jgtest import config


def read(path):
    with open(path) as f:
        return f.read()


def environ_of(pid):
    with open('/proc/%d/environ' % pid, 'rb') as f:
        return dict(kv.split('=', 1) for kv in f.read().decode().split('\0') if '=' in kv)


class JwtgatedServer(unittest.TestCase):

    def test_lifecycle(self):
        srv = jgtest.Server(token_ttl=120)
        try:
            self.assertTrue(srv.admin_token.startswith('jgp_'), srv.admin_token[:4])
            self.assertEqual(srv.request('GET', '/healthz').status, 200)
            self.assertEqual(int(read(os.path.join(srv.tmp, 'port'))), srv.port)
            self.assertEqual(srv.issuer, 'http://127.0.0.1:%d' % srv.port)
            st, me = srv.admin('GET', '/me', expect=200)
            self.assertEqual(srv.last.status, 200)
            with self.assertRaises(AssertionError):
                srv.admin('GET', '/me', token='jgp_wrong', expect=200)
            self.assertEqual(srv.last.status, 401)
            self.assertEqual(srv.snapshot()['format'], 'jwtgate-snapshot')
            # killed and started again: the same data, the port it picked this time
            srv.kill9()
            self.assertIsNone(srv.proc)
            srv.start()
            self.assertEqual(int(read(os.path.join(srv.tmp, 'port'))), srv.port)
            self.assertEqual(srv.admin('GET', '/me')[0], 200)
            self.assertEqual(srv.read_log().count('serving on'), 2)
            if config.SANITIZE:
                self.assertEqual(environ_of(srv.proc.pid)['ASAN_OPTIONS'],
                                 os.environ['ASAN_OPTIONS'])
        finally:
            srv.close()
        self.assertFalse(os.path.exists(srv.tmp))
        srv.close()   # twice is harmless

    def test_world_and_tokens(self):
        with jgtest.Server() as srv:
            w = jgtest.World(srv)
            self.assertEqual(sorted(w.tenants), ['a', 'b'])
            self.assertEqual(len(w.tokens), 2 * 4 + 2)
            w.subscribe('a', 'b', ['orders:read'])
            r = srv.token(*w.client('a'), scope='orders:read',
                          resource=w.apis['b']['audience'])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(jgtest.jwe_header(r.json()['access_token'])['cty'], 'JWT')
            r = srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                              auth=(w.client('a')[0], 'wrong'))
            self.assertEqual(r.status, 401)

    def test_a_crash_is_reported(self):
        srv = jgtest.Server()
        try:
            os.kill(srv.proc.pid, signal.SIGABRT)
            srv.proc.wait(timeout=30)
            with self.assertRaises(RuntimeError) as cm:
                srv.stop()
            self.assertIn('status -6', str(cm.exception))
        finally:
            srv.close()

    def test_keep(self):
        srv = jgtest.Server(keep=True)
        srv.close()
        try:
            self.assertTrue(os.path.exists(os.path.join(srv.data, 'jwtgated.db')))
            again = jgtest.Server(data_dir=srv.tmp)   # the same database, no new init
            try:
                self.assertIsNone(again.admin_token)
                self.assertEqual(again.admin('GET', '/me', token=srv.admin_token)[0], 200)
            finally:
                again.close()
        finally:
            import shutil
            shutil.rmtree(srv.tmp, ignore_errors=True)


ECHO_SITE = '''
        location / {
            jwtgate off;
            proxy_pass http://echo;
        }
'''


class NginxWithModule(jgtest.NginxTest):

    def test_echo_and_workers(self):
        ng = self.nginx('echo', ECHO_SITE, workers=2)
        r = ng.get('/x?y=1', 'tok')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.echoed()['uri'], '/x?y=1')
        self.assertEqual(r.echoed()['authorization'], 'Bearer tok')
        self.assertEqual(len(ng.worker_pids()), 2)
        # nginx rewrites its environment (workers keep only TZ) and its title over
        # it: what it started with is checked in env(), the runtime in the maps
        env = ng.env()
        maps = read('/proc/%d/maps' % ng.worker_pids()[0])
        if config.SANITIZE:
            self.assertEqual(env['LD_PRELOAD'], config.sanitizer_runtime())
            self.assertIn('detect_leaks=0', env['ASAN_OPTIONS'].split(':'))
            self.assertIn('abort_on_error=1', env['ASAN_OPTIONS'].split(':'))
            self.assertIn(config.sanitizer_runtime(), maps)
        else:
            self.assertNotIn('LD_PRELOAD', env)
            self.assertNotIn('libasan', maps)
        self.assertIn('load_module %s;' % config.NGX_MODULE, read(ng.conf_path))
        self.assertEqual(ng.crashes(), [])
        self.assertEqual(ng.alerts(), [])
        self.assertEqual(ng.stop(), 0)
        self.assertEqual(ng.crashes(), [])

    def test_named_ports_and_params(self):
        ng = jgtest.Nginx('NginxWithModule-named', None, '''
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "%(word)s"; }
    }
    server {
        listen 127.0.0.1:%(port_other)d;
        location / { proxy_pass http://echo; }
    }
''', ports_named=('other',), params={'word': 'hello'}, access_log=True).start()
        self.servers.append(ng)
        self.assertEqual(ng.get('/').body, b'hello')
        self.assertEqual(ng.get('/e', port=ng.port_other).echoed()['uri'], '/e')
        self.assertNotEqual(ng.port_other, ng.port)
        ng.stop()
        self.assertIn('"GET /e HTTP/1.1" 200', read(os.path.join(ng.dir, 'access.log')))

    def test_config_refused(self):
        ng = jgtest.Nginx('NginxWithModule-bad', 'location / { jwtgate_type jwe; }')
        ok, out = ng.test_config()
        self.assertFalse(ok)
        self.assertIn('signed, encrypted or nested', out)
        with self.assertRaises(RuntimeError) as cm:
            ng.start()
        self.assertIn('signed, encrypted or nested', str(cm.exception))

    def test_a_dead_worker_is_a_crash(self):
        ng = jgtest.Nginx('NginxWithModule-crash', ECHO_SITE).start()
        try:
            worker = ng.worker_pids()[0]
            os.kill(worker, signal.SIGSEGV)
            # 11, or 6 where ASan reports the SEGV and aborts
            self.assertTrue(ng.wait_log('exited on signal'))
            self.assertTrue(any('exited on signal' in line for line in ng.crashes()))
            self.assertTrue(ng.alerts())
            # the master starts another worker, which answers
            jgtest.wait_until(lambda: ng.worker_pids() and ng.worker_pids()[0] != worker, 10)
            self.assertEqual(ng.get('/').status, 200)
        finally:
            ng.stop()


class WholeStack(unittest.TestCase):

    def test_token_through_the_gateway(self):
        s = jgtest.Stack()
        try:
            api = s.api('things')
            app = s.app('client')
            s.subscribe(app, api, ['orders:read'])
            tok = s.token(app)
            s.until(lambda: s.gw.get('/things/1', tok).status == 200, timeout=3)
            doc = s.gw.get('/things/1', tok).json()
            self.assertEqual((doc['uri'], doc['client_id']), ('/things/1', app['client_id']))
            r = s.gw.get('/things/1', port=s.gw.port_nocache)
            self.assertEqual((r.status, r.challenge()['']), (401, 'Bearer'))
            self.assertEqual(s.gw.get('/things/1', s.mint(
                '--iss', s.issuer, '--sub', 'x', '--aud', api['audience'], '--claim',
                'client_id=' + app['client_id'], '--claim', 'scope=orders:read')).status, 200)
        finally:
            s.close()
        self.assertFalse(os.path.exists(s.tmp))

    def test_close_reports_a_crashed_worker(self):
        s = jgtest.Stack()
        os.kill(s.gw.worker_pids()[0], signal.SIGSEGV)
        self.assertTrue(s.gw.wait_log('exited on signal'))
        time.sleep(0.1)
        with self.assertRaises(AssertionError) as cm:
            s.close()
        self.assertIn('exited on signal', str(cm.exception))
        import shutil
        shutil.rmtree(s.tmp, ignore_errors=True)


if __name__ == '__main__':
    jgtest.main()

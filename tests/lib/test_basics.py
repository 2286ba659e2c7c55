"""The harness's own tests, part 1: configuration and sanitizer wiring, ports,
HTTP helpers (against jgtest.Upstream), processes and crash detection
(against jg_canary, which crashes on purpose), keys and tokens."""
import os
import signal
import socket
import sys
import threading
import time
import unittest

import jgtest
from jgtest import config, procs

CANARY = os.environ.get('JG_CANARY', '')


class Config(unittest.TestCase):

    def test_with_option(self):
        self.assertEqual(config.with_option('a=1:detect_leaks=1:b=2', 'detect_leaks', '0'),
                         'a=1:b=2:detect_leaks=0')
        self.assertEqual(config.with_option(None, 'detect_leaks', '0'), 'detect_leaks=0')
        self.assertEqual(config.with_option('', 'x', '1'), 'x=1')

    def test_child_env(self):
        old = os.environ.get('ASAN_OPTIONS')
        os.environ['ASAN_OPTIONS'] = 'detect_leaks=1:abort_on_error=1'
        try:
            env = config.child_env(leaks=False, preload='/x/libasan.so', extra={'K': 'v'})
            self.assertEqual(env['ASAN_OPTIONS'], 'abort_on_error=1:detect_leaks=0')
            self.assertEqual(env['LD_PRELOAD'], '/x/libasan.so')
            self.assertEqual(env['K'], 'v')
            self.assertEqual(config.child_env()['ASAN_OPTIONS'], os.environ['ASAN_OPTIONS'])
        finally:
            if old is None:
                del os.environ['ASAN_OPTIONS']
            else:
                os.environ['ASAN_OPTIONS'] = old

    def test_binaries_from_ctest(self):
        for path in (config.JWTGATED, config.JWTGATE_CLI, config.NGX_MODULE, CANARY):
            self.assertTrue(os.path.isabs(path) and os.path.exists(path), path)
        self.assertTrue(os.path.isdir(os.path.join(config.REPO, 'tests', 'lib', 'jgtest')))

    def test_sanitizer_wiring_agrees_with_the_build(self):
        # CTest says whether this is a sanitizer build; the binaries must agree, and
        # then the options of tests/lib/testenv.cmake are in force.
        for path in (config.JWTGATED, config.NGX_MODULE, CANARY):
            self.assertEqual(config.sanitizer_runtime(path) is not None, config.SANITIZE, path)
        if config.SANITIZE:
            for opt in ('detect_leaks=1', 'abort_on_error=1'):
                self.assertIn(opt, os.environ.get('ASAN_OPTIONS', '').split(':'))
            self.assertIn('halt_on_error=1', os.environ.get('UBSAN_OPTIONS', ''))
            self.assertTrue(os.path.exists(config.sanitizer_runtime()))


class Ports(unittest.TestCase):

    def bindable(self, port):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', port))

    def test_free_ports(self):
        self.bindable(jgtest.free_port())
        ports = jgtest.free_ports(6)
        self.assertEqual(len(set(ports)), 6)
        for p in ports:
            self.bindable(p)

    def test_free_port_range(self):
        base = jgtest.free_port_range(3)
        # below the ephemeral range (when there is room), where no other test's
        # connection can take it
        if jgtest.ports.ephemeral_start() > 12000:
            self.assertLess(base + 2, jgtest.ports.ephemeral_start())
        socks = []
        try:
            for p in (base, base + 1, base + 2):
                s = socket.socket()
                socks.append(s)
                s.bind(('127.0.0.1', p))
        finally:
            for s in socks:
                s.close()


class Http(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.up = jgtest.Upstream().start()

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()

    def test_request_and_upstream(self):
        r = jgtest.request(self.up.port, '/a?b=1', token='tok', headers={'X-Test': 'yes'})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('content-type'), 'application/json')
        self.assertEqual(r.header('CONTENT-TYPE'), 'application/json')
        self.assertIsNone(r.header('X-Missing'))
        doc = r.json()
        self.assertEqual((doc['method'], doc['path']), ('GET', '/a?b=1'))
        self.assertEqual(doc['headers']['authorization'], 'Bearer tok')
        self.assertEqual(doc['headers']['x-test'], 'yes')
        r = jgtest.request(self.up.port, '/p', method='POST', body='x=1')
        self.assertEqual(r.json()['body'], 'x=1')
        self.assertEqual(self.up.requests[-1].method, 'POST')
        self.assertEqual(self.up.requests[-1].body, b'x=1')

    def test_handler_and_connection_reuse(self):
        up = jgtest.Upstream(lambda req: (503, {'Retry-After': '1'}, b'busy')).start()
        try:
            import http.client
            conn = http.client.HTTPConnection('127.0.0.1', up.port, timeout=10)
            for _ in range(3):
                r = jgtest.request(up.port, '/', conn=conn)
                self.assertEqual((r.status, r.body, r.header('Retry-After')),
                                 (503, b'busy', '1'))
            conn.close()
            self.assertEqual(len(up.requests), 3)
        finally:
            up.stop()

    def test_raw(self):
        self.assertEqual(jgtest.raw_request(self.up.port, b'GET / HTTP/1.1\r\nHost: x\r\n'
                                                          b'Connection: close\r\n\r\n'), 200)
        self.assertEqual(jgtest.raw_request(self.up.port, b'BREW / HTTP/1.1\r\nHost: x\r\n\r\n'),
                         501)
        out = jgtest.raw_exchange(self.up.port, b'GET /q HTTP/1.1\r\nHost: x\r\n'
                                                b'Connection: close\r\n\r\n')
        self.assertTrue(out.startswith(b'HTTP/1.1 200'), out[:40])
        self.assertIn(b'"/q"', out)
        # a server that closes without a word: status 0
        with socket.socket() as lst:
            lst.bind(('127.0.0.1', 0))
            lst.listen(1)

            def close_one():
                c, _ = lst.accept()
                c.close()
            t = threading.Thread(target=close_one)
            t.start()
            self.assertEqual(jgtest.raw_request(lst.getsockname()[1], b'GET / HTTP/1.1\r\n'), 0)
            t.join()

    def test_response_parsing(self):
        r = jgtest.Response(401, [('WWW-Authenticate', 'Bearer realm="api", error="invalid_token"'
                                   ', error_description="the \\"kid\\" is unknown"')],
                            b'uri: /x\nx-sub: alice\nnot a header\n')
        self.assertEqual(r.challenge(), {'': 'Bearer', 'realm': 'api', 'error': 'invalid_token',
                                         'error_description': 'the \\"kid\\" is unknown'})
        self.assertEqual(r.echoed(), {'uri': '/x', 'x-sub': 'alice'})
        self.assertEqual(r.text, 'uri: /x\nx-sub: alice\nnot a header\n')
        self.assertIsNone(jgtest.Response(200, [], b'').challenge())

    def test_encodings(self):
        # RFC 6749 2.3.1: each part form-encoded before Basic
        self.assertEqual(jgtest.basic('a b', 'x:y%'), 'Basic ' + __import__('base64').b64encode(
            b'a+b:x%3Ay%25').decode())
        self.assertEqual(jgtest.b64(b'\xfb\xff'), '-_8')
        self.assertEqual(jgtest.b64('hi'), 'aGk')
        self.assertEqual(jgtest.unb64('-_8'), b'\xfb\xff')
        self.assertEqual(jgtest.unb64('aGk='), b'hi')
        tok = jgtest.b64('{"alg":"dir","enc":"A256GCM"}') + '.x.y.z.w'
        self.assertEqual(jgtest.jwe_header(tok), {'alg': 'dir', 'enc': 'A256GCM'})
        self.assertEqual(jgtest.form([('a', '1 2'), ('a', '&')]), 'a=1+2&a=%26')


class Processes(unittest.TestCase):

    def setUp(self):
        self.dir = config.scratch('procs-')

    def svc(self, code, **kw):
        return procs.Service('child', [sys.executable, '-c', code],
                             os.path.join(self.dir, 'child.log'), **kw)

    def test_start_ready_stop(self):
        s = self.svc('import time; print("hello", flush=True); time.sleep(60)').start()
        s.wait_ready(lambda: 'hello' in s.log())
        self.assertTrue(s.running())
        self.assertEqual(s.stop(), -signal.SIGTERM)
        self.assertEqual(s.stop(), -signal.SIGTERM)   # idempotent
        self.assertFalse(s.running())
        self.assertFalse(s.stop_timed_out)
        self.assertEqual(s.crashes(), [])

    def test_exit_while_starting_shows_the_log(self):
        s = self.svc('import sys; print("cannot bind", flush=True); sys.exit(3)').start()
        with self.assertRaises(RuntimeError) as cm:
            s.wait_ready(lambda: False)
        self.assertIn('status 3', str(cm.exception))
        self.assertIn('cannot bind', str(cm.exception))

    def test_not_ready_in_time(self):
        s = self.svc('import time; time.sleep(60)').start()
        try:
            with self.assertRaises(RuntimeError) as cm:
                s.wait_ready(lambda: False, timeout=0.3)
            self.assertIn('did not get ready', str(cm.exception))
        finally:
            s.stop()

    def test_killed_when_it_does_not_stop(self):
        s = self.svc('import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
                     'print("ready", flush=True)\ntime.sleep(60)').start()
        s.wait_ready(lambda: 'ready' in s.log())
        self.assertEqual(s.stop(timeout=0.5), -signal.SIGKILL)
        self.assertTrue(s.stop_timed_out)

    def test_children_and_descendants(self):
        s = self.svc('import subprocess, time\n'
                     'p = subprocess.Popen(["sh", "-c", "sleep 60 & echo $! ; wait"], '
                     'stdout=subprocess.PIPE, text=True)\n'
                     'print("grandchild", p.stdout.readline().strip(), flush=True)\n'
                     'time.sleep(60)').start()
        try:
            s.wait_ready(lambda: 'grandchild ' in s.log() and s.log().endswith('\n'))
            grandchild = int(s.log().split('grandchild ')[1].split()[0])
            kids = procs.children(s.pid)
            self.assertEqual(len(kids), 1)
            self.assertEqual(procs.descendants(s.pid), {kids[0], grandchild})
        finally:
            s.stop()
            os.kill(grandchild, signal.SIGKILL)

    def test_crash_lines(self):
        text = ('2026/01/01 [notice] 1#1: start worker process 7\n'
                '2026/01/01 [alert] 1#1: worker process 7 exited on signal 11\n'
                '==9==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n'
                'a.c:3:5: runtime error: signed integer overflow\n'
                '==9==ERROR: LeakSanitizer: detected memory leaks\n'
                'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior a.c:3:5\n'
                'GET /runtime/errors 200\n')
        self.assertEqual(len(procs.crash_lines(text)), 5)

    def test_wait_until(self):
        t0 = time.monotonic()
        self.assertEqual(procs.wait_until(lambda: time.monotonic() - t0 > 0.1 and 'yes', 5),
                         'yes')
        with self.assertRaises(TimeoutError):
            procs.wait_until(lambda: False, 0.1)

    # ---- the real thing: jg_canary -------------------------------------------------------

    def canary(self, what, leaks=True):
        # one log for all: each run's crashes are those of its own start
        s = procs.Service('canary ' + what, [CANARY, what], os.path.join(self.dir, 'canary.log'),
                          env=config.child_env(leaks))
        s.start()
        s.proc.wait(timeout=60)
        return s.stop(), s.crashes()

    def test_canary_ok_and_segv(self):
        self.assertEqual(self.canary('ok'), (0, []))
        code, crashes = self.canary('segv')
        if config.SANITIZE:
            # ASan catches the signal, reports, and aborts (abort_on_error)
            self.assertEqual(code, -signal.SIGABRT)
            self.assertTrue(any('AddressSanitizer: SEGV' in line for line in crashes), crashes)
        else:
            self.assertEqual(code, -signal.SIGSEGV)
        self.assertEqual(self.canary('ok'), (0, []))

    def test_sanitizer_reports_are_detected(self):
        if not config.SANITIZE:
            # the bugs are undefined behaviour without a sanitizer to catch them
            self.assertIsNone(config.sanitizer_runtime(CANARY))
            return
        for what, marker in (('uaf', 'AddressSanitizer: heap-use-after-free'),
                             ('ub', 'runtime error:'), ('leak', 'LeakSanitizer')):
            code, crashes = self.canary(what)
            self.assertNotEqual(code, 0, what)
            self.assertTrue(any(marker in line for line in crashes), (what, crashes))
        # with nginx's options (leaks off) a leak passes, a memory error does not
        self.assertEqual(self.canary('leak', leaks=False), (0, []))
        code, crashes = self.canary('uaf', leaks=False)
        self.assertEqual(code, -signal.SIGABRT)
        self.assertTrue(crashes)


class Tokens(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.keys = jgtest.Keys(config.scratch('keys-'))

    def test_keys(self):
        for name, alg in jgtest.Keys.KINDS:
            self.assertEqual(self.keys.jwk(name)['alg'], alg)
            if alg != 'HS256':
                with open(self.keys.path(name + '.pub')) as f:
                    self.assertNotIn('"d"', f.read())
        path = self.keys.jwks_file('two', 'issuer', 'rsa', public=True)
        with open(path) as f:
            doc = __import__('json').load(f)
        self.assertEqual([k['kty'] for k in doc['keys']], ['EC', 'RSA'])

    def test_tokens(self):
        t = jgtest.signed(self.keys, iss='https://i', aud=['a', 'b'], sub='s', jti='j1',
                          claims={'scope': 'x y', 'n': 3})
        self.assertEqual(t.count('.'), 2)
        self.assertEqual(jgtest.jose_header(t)['typ'], 'at+jwt')
        claims = __import__('json').loads(jgtest.unb64(t.split('.')[1]))
        self.assertEqual((claims['iss'], claims['aud'], claims['sub'], claims['jti']),
                         ('https://i', ['a', 'b'], 's', 'j1'))
        self.assertEqual((claims['scope'], claims['n']), ('x y', 3))
        self.assertIn('exp', claims)
        n = jgtest.nested(self.keys, iss='https://i', aud='a')
        self.assertEqual(n.count('.'), 4)
        self.assertEqual(jgtest.jwe_header(n)['cty'], 'JWT')
        e = jgtest.encrypted(self.keys, {'sub': 'x'}, zip=True)
        self.assertEqual(jgtest.jwe_header(e)['zip'], 'DEF')
        with self.assertRaises(RuntimeError):
            jgtest.cli('no-such-command')
        self.assertEqual(jgtest.claim_args(no_exp=True, nbf='@5'), ['--no-exp', '--nbf', '@5'])


if __name__ == '__main__':
    jgtest.main()

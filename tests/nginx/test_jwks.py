"""Trust sources: issuers whose JWKS the agent (`jwtgate gateway jwks`) fetches for the
module, against a real nginx (two workers), the real agent and real issuers on loopback:
an independent one made here with npm `jose` and Node's HTTP(S) server (jwks_issuer.mjs),
and jwtgated itself (its discovery document, JWKS and token endpoint).

Rotation (within the refresh, and at once through the unknown-kid path), removal, an issuer
down at start and during operation (stale keys serve, then the bound refuses), hostile JWKS,
untrusted issuers refused before any signature work, two issuers with their own audiences in
one location, HTTPS with a test CA. Every wait is for a condition."""
import json
import os
import re
import shutil
import signal
import subprocess
import unittest

import jgtest
from jgtest import Certs, Nginx, NginxTest, Server, World, config, ports, procs

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.path.join(config.REPO, 'tests', 'interop', 'node_modules')
AUD_A = 'https://a.example'
AUD_B = 'https://b.example'
AUD_B2 = 'https://b2.example'


def ensure_jose():
    """npm jose for the independent issuer: tests/interop's (scripts/test installs it;
    installed here when missing, into that git-ignored folder)."""
    if not os.path.isdir(os.path.join(NODE_MODULES, 'jose')):
        subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'],
                       cwd=os.path.join(config.REPO, 'tests', 'interop'), check=True,
                       capture_output=True, timeout=600)


def issuer_id(name):
    import hashlib
    return hashlib.sha256(name.encode()).hexdigest()


class JoseIssuer:
    """jwks_issuer.mjs: an issuer at http(s)://127.0.0.1:PORT, driven by JSON lines."""

    def __init__(self, tmp, certs=None):
        self.port = ports.free_port()
        scheme = 'https' if certs else 'http'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.port)
        argv = ['node', os.path.join(HERE, 'jwks_issuer.mjs'), self.url]
        if certs:
            argv += ['--tls', certs.path('server.pem'), certs.path('server.key')]
        env = dict(os.environ, JOSE_FROM=os.path.dirname(NODE_MODULES))
        self.log = open(os.path.join(tmp, 'issuer-%d.log' % self.port), 'ab')
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env)
        self.op('port')

    def op(self, op, **kw):
        kw['op'] = op
        self.proc.stdin.write((json.dumps(kw) + '\n').encode())
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('the issuer exited')
        answer = json.loads(line)
        if not answer.pop('ok'):
            raise RuntimeError(answer['error'])
        return answer

    def token(self, kid, **claims):
        claims.setdefault('iss', self.url)
        claims.setdefault('sub', 'someone')
        return self.op('sign', kid=kid, claims=claims)['token']

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Agent:
    """`jwtgate gateway jwks --dir DIR` as a service."""

    def __init__(self, dir, log_path, *extra):
        argv = [config.JWTGATE_CLI, 'gateway', 'jwks', '--dir', dir, '--min-refresh', '1'] + \
            list(extra)
        self.svc = procs.Service('jwks-agent', argv, log_path, env=config.child_env())

    def start(self):
        """Started once it has read the manifest (it says so)."""
        self.svc.start()
        self.svc.wait_ready(lambda: 'issuer(s) from' in self.svc.log())
        return self

    def stop(self):
        """SIGTERM: a clean stop is exit 0, with no crash or sanitizer report."""
        status_ = self.svc.stop()
        crashes = self.svc.crashes()
        if status_ != 0 or crashes:
            raise AssertionError('the agent exited %s: %s' % (status_, '\n'.join(crashes)))
        return status_

    def log(self):
        return self.svc.log()


def key_file(dir, iss):
    return os.path.join(dir, issuer_id(iss) + '.jwks')


def kids_on_disk(dir, iss):
    try:
        with open(key_file(dir, iss)) as f:
            return sorted(k.get('kid') for k in json.load(f)['keys'])
    except (OSError, ValueError):
        return None


def metric(gw, family, iss):
    """The value of FAMILY{issuer="ISS"} in a scrape, 0 when absent."""
    text = gw.get('/metrics').text
    m = re.search(r'^%s\{issuer="%s"\} (\d+)$' % (re.escape(family), re.escape(iss)), text,
                  re.M)
    return int(m.group(1)) if m else 0


def status(dir, iss):
    try:
        with open(os.path.join(dir, issuer_id(iss) + '.status')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class CleanNginxTest(NginxTest):
    """A class whose set-up fails half-way still stops what it started: each class's
    setup() runs after NginxTest's, and its tearDownClass (tolerant of what is not there
    yet) runs on a failure too."""

    agent = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.setup()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def stop_all(cls, *things):
        """Stop the agent, then close each thing (None: not started); the first failure
        is raised after all of them were tried, and after NginxTest's checks."""
        errors = []
        for t in (cls.agent,) + things:
            try:
                if t is not None:
                    (t.stop if isinstance(t, Agent) else t.close)()
            except Exception as e:
                errors.append(e)
        try:
            super(CleanNginxTest, cls).tearDownClass()
        finally:
            if cls.tmp:
                shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise errors[0]


class JwksTest(CleanNginxTest):

    @classmethod
    def setup(cls):
        ensure_jose()
        cls.issuers = []
        cls.certs = None
        cls.tmp = config.scratch('jwks-')
        cls.dir = os.path.join(cls.tmp, 'jwks')
        os.mkdir(cls.dir)
        cls.certs = Certs()
        # A: plain HTTP, its JWKS URL, refresh 1 s; B: HTTPS (test CA), discovery;
        # C: short stale bound; D: refresh of an hour (only the unknown-kid path
        # brings its new keys); E: hostile documents, RS256 only; F: no refresh=, so
        # its Cache-Control decides
        cls.a = cls.issuer()
        cls.b = cls.issuer(cls.certs)
        cls.c = cls.issuer()
        cls.d = cls.issuer()
        cls.e = cls.issuer()
        cls.f = cls.issuer()
        for iss, kid, alg in ((cls.a, 'a1', 'RS256'), (cls.b, 'b1', 'ES256'),
                              (cls.c, 'c1', 'ES256'), (cls.d, 'd1', 'ES256'),
                              (cls.e, 'e1', 'RS256'), (cls.f, 'f1', 'ES256')):
            iss.op('gen', kid=kid, alg=alg)
            iss.op('publish', kids=[kid])
        a_def = '%s %s/jwks refresh=1s algorithms=RS256,ES256' % (cls.a.url, cls.a.url)
        b_def = '%s refresh=1s' % cls.b.url
        cls.http = 'jwtgate_jwks_dir %s interval=100ms;' % cls.dir
        cls.server = '''
        location /a/ {
            jwtgate api;
            error_log %(tmp)s/debug.log debug;
            jwtgate_issuer_jwks %(a)s audience=%(aud_a)s;
            proxy_pass http://echo;
        }
        location /both/ {
            jwtgate api;
            jwtgate_issuer_jwks %(a)s audience=%(aud_a)s;
            jwtgate_issuer_discovery %(b)s audience=%(aud_b)s audience=%(aud_b2)s
                require=tenant;
            proxy_pass http://echo;
        }
        location /c/ {
            jwtgate api;
            jwtgate_issuer_jwks %(c)s %(c)s/jwks refresh=1s stale=4s;
            proxy_pass http://echo;
        }
        location /d/ {
            jwtgate api;
            jwtgate_issuer_jwks %(d)s %(d)s/jwks refresh=1h;
            proxy_pass http://echo;
        }
        location /e/ {
            jwtgate api;
            jwtgate_issuer_jwks %(e)s %(e)s/jwks refresh=1s algorithms=RS256;
            proxy_pass http://echo;
        }
        location /f/ {
            jwtgate api;
            jwtgate_issuer_jwks %(f)s %(f)s/jwks;
            proxy_pass http://echo;
        }
        location = /metrics {
            jwtgate_metrics;
        }
'''
        cls.server %= {'tmp': cls.tmp, 'a': a_def, 'b': b_def, 'aud_a': AUD_A,
                       'aud_b': AUD_B, 'aud_b2': AUD_B2, 'c': cls.c.url, 'd': cls.d.url,
                       'e': cls.e.url, 'f': cls.f.url}
        cls.gw = cls.nginx('gw', cls.server, cls.http, workers=2)
        cls.agent = Agent(cls.dir, os.path.join(cls.tmp, 'agent.log'), '--cacert',
                          cls.certs.path('ca.pem'), '--max-refresh', '3600').start()
        for iss, kid in ((cls.a, 'a1'), (cls.b, 'b1'), (cls.c, 'c1'), (cls.d, 'd1'),
                         (cls.e, 'e1'), (cls.f, 'f1')):
            procs.wait_until(lambda: kids_on_disk(cls.dir, iss.url) == [kid], 30,
                             what='the agent to fetch %s' % iss.url)
        # and every worker to have read them
        for path, tok in (('/a/x', cls.a.token('a1', aud=AUD_A)),
                          ('/both/x', cls.b.token('b1', aud=AUD_B, tenant='t')),
                          ('/c/x', cls.c.token('c1')), ('/d/x', cls.d.token('d1')),
                          ('/e/x', cls.e.token('e1'))):
            procs.wait_until(lambda: all(cls.gw.get(path, tok).status == 200
                                         for _ in range(6)), 20, step=0.05,
                             what='nginx to read the keys for %s' % path)

    @classmethod
    def issuer(cls, certs=None):
        iss = JoseIssuer(cls.tmp, certs)
        cls.issuers.append(iss)
        return iss

    @classmethod
    def tearDownClass(cls):
        cls.stop_all(*(cls.issuers + [cls.certs]))

    def passes(self, path, token, n=6):
        """Every one of n requests (both workers answer some) is 200."""
        return all(self.gw.get(path, token).status == 200 for _ in range(n))

    def until_passes(self, path, token, timeout=20):
        procs.wait_until(lambda: self.passes(path, token), timeout, step=0.1,
                         what='%s to accept the token' % path)

    # -- the manifest and the agent ------------------------------------------------

    def test_manifest(self):
        with open(os.path.join(self.dir, 'manifest.json')) as f:
            doc = json.load(f)
        by = {i['issuer']: i for i in doc['issuers']}
        self.assertEqual(by[self.a.url]['jwks_uri'], self.a.url + '/jwks')
        self.assertEqual(by[self.a.url]['refresh'], 1)
        self.assertEqual(by[self.a.url]['id'], issuer_id(self.a.url))
        self.assertTrue(by[self.b.url]['discovery'])
        self.assertEqual(by[self.c.url]['stale'], 4)
        self.assertEqual(by[self.d.url]['stale'], 7 * 86400)
        st = status(self.dir, self.b.url)
        self.assertEqual(st['failures'], 0)
        self.assertEqual(st['jwks_uri'], self.b.url + '/jwks')

    def only_b(self, name):
        """A directory whose manifest names B alone (for an agent run by hand)."""
        other = os.path.join(self.tmp, name)
        os.makedirs(other, exist_ok=True)
        with open(os.path.join(self.dir, 'manifest.json')) as f:
            doc = json.load(f)
        doc['issuers'] = [i for i in doc['issuers'] if i['issuer'] == self.b.url]
        with open(os.path.join(other, 'manifest.json'), 'w') as f:
            json.dump(doc, f)
        return other

    def test_discovery_checked(self):
        """The discovery document must name B exactly, and an https issuer's jwks_uri be
        https."""
        other = self.only_b('discovery-check')
        argv = [config.JWTGATE_CLI, 'gateway', 'jwks', '--dir', other, '--once', '--cacert',
                self.certs.path('ca.pem')]
        try:
            for members, why in (({'issuer': self.b.url + '/'}, 'is not this issuer'),
                                 ({'jwks_uri': self.a.url + '/jwks'}, 'is not https'),
                                 ({'jwks_uri': 'file:///etc/passwd'}, 'no http(s)')):
                self.b.op('discovery', members=members)
                p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                   env=config.child_env())
                self.assertEqual(p.returncode, 3, p.stderr)
                self.assertIn(why, status(other, self.b.url)['last_error'])
                self.assertIsNone(kids_on_disk(other, self.b.url))
        finally:
            self.b.op('discovery', members={})
        # (the class's agent met the same documents: it recovers)
        procs.wait_until(lambda: status(self.dir, self.b.url).get('failures', 1) == 0, 20,
                         step=0.1, what='the agent to fetch B again')

    def test_tls_verified(self):
        """Without the test CA the agent refuses B's certificate (--once: exit 3) and
        writes nothing; with it, B's keys."""
        other = self.only_b('tls-check')
        argv = [config.JWTGATE_CLI, 'gateway', 'jwks', '--dir', other, '--once']
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env=config.child_env())
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn('no keys on disk yet', p.stderr)
        self.assertIsNone(kids_on_disk(other, self.b.url))
        self.assertIn('certificate', status(other, self.b.url)['last_error'].lower())
        p = subprocess.run(argv + ['--cacert', self.certs.path('ca.pem')], capture_output=True,
                           text=True, timeout=60, env=config.child_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(kids_on_disk(other, self.b.url), ['b1'])

    def test_agent_usage(self):
        p = subprocess.run([config.JWTGATE_CLI, 'gateway', 'jwks', '--dir',
                            os.path.join(self.tmp, 'nowhere'), '--once'],
                           capture_output=True, text=True, timeout=60, env=config.child_env())
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('no manifest', p.stderr)

    # -- tokens ------------------------------------------------------------------

    def test_accepted(self):
        r = self.gw.get('/a/x', self.a.token('a1', aud=AUD_A, scope='read'))
        self.assertEqual(r.status, 200, r)

    def test_https_discovery_with_test_ca(self):
        tok = self.b.token('b1', aud=AUD_B, tenant='t1')
        self.assertTrue(self.passes('/both/x', tok))

    def test_two_issuers_own_audiences(self):
        ok_a = self.a.token('a1', aud=AUD_A)
        ok_b2 = self.b.token('b1', aud=[AUD_B2, 'https://other.example'], tenant='t1')
        self.assertEqual(self.gw.get('/both/x', ok_a).status, 200)
        self.assertEqual(self.gw.get('/both/x', ok_b2).status, 200)
        # each issuer's audiences are its own
        for tok in (self.a.token('a1', aud=AUD_B),
                    self.b.token('b1', aud=AUD_A, tenant='t')):
            r = self.gw.get('/both/x', tok)
            self.assertChallenge(r, 401, 'invalid_token')
        # B requires "tenant"
        r = self.gw.get('/both/x', self.b.token('b1', aud=AUD_B))
        self.assertChallenge(r, 401, 'invalid_token')
        # B is not trusted at /a/
        r = self.gw.get('/a/x', self.b.token('b1', aud=AUD_A, tenant='t'))
        self.assertChallenge(r, 401, 'invalid_token',
                             "the access token's issuer is not trusted here")

    def test_untrusted_issuer_before_signature_work(self):
        # a key no issuer has: only the "iss" is read, nothing is verified
        self.a.op('gen', kid='x1', alg='RS256')
        for iss in ('https://evil.example', self.a.url + '/', self.a.url.upper()):
            tok = self.a.token('x1', iss=iss, aud=AUD_A)
            r = self.gw.get('/a/x', tok)
            self.assertChallenge(r, 401, 'invalid_token',
                                 "the access token's issuer is not trusted here")
        # (this location logs into debug.log, at debug level)
        with open(os.path.join(self.tmp, 'debug.log')) as f:
            debug = f.read()
        self.assertIn('jwtgate: 401: issuer not trusted', debug)
        self.assertIn('not trusted here, no signature checked', debug)
        # a trusted "iss" with a wrong signature is a signature failure instead
        tok = self.a.token('a1', aud=AUD_A)
        h, p, s = tok.split('.')
        bad = '.'.join((h, p, s[:-4] + ('AAAA' if s[-4:] != 'AAAA' else 'BBBB')))
        r = self.gw.get('/a/x', bad)
        self.assertEqual(r.status, 401)
        self.assertNotIn('not trusted', r.header('WWW-Authenticate'))

    def test_malformed_tokens(self):
        for tok in ('a.b', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln',
                    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'a.b.c.d.e'):
            r = self.gw.get('/a/x', tok)
            self.assertIn(r.status, (400, 401), tok)
        self.assertNoCrash(self.gw)

    def test_cache_control_within_bounds(self):
        f = self.f
        # no max-age: the agent's minimum (--min-refresh 1)
        self.assertEqual(status(self.dir, f.url)['refresh'], 1)
        for max_age, want in ((2, 2), (10 ** 9, 3600)):
            f.op('max_age', seconds=max_age)
            procs.wait_until(lambda: status(self.dir, f.url).get('refresh') == want, 20,
                             step=0.1, what='refresh %d for max-age %d' % (want, max_age))
        self.assertTrue(self.passes('/f/x', f.token('f1')))

    # -- rotation ----------------------------------------------------------------

    def test_rotation_within_refresh_and_removal(self):
        a = self.a
        a.op('gen', kid='a2', alg='ES256')
        a.op('publish', kids=['a1', 'a2'])
        # within the refresh (1 s): the file changes, every worker reads it
        procs.wait_until(lambda: kids_on_disk(self.dir, a.url) == ['a1', 'a2'], 20,
                         what='a2 on disk')
        self.until_passes('/a/x', a.token('a2', aud=AUD_A))
        self.assertTrue(self.passes('/a/x', a.token('a1', aud=AUD_A)))
        # a1 removed: refused once the new set is read
        a.op('publish', kids=['a2'])
        procs.wait_until(lambda: kids_on_disk(self.dir, a.url) == ['a2'], 20,
                         what='a1 gone from disk')
        old = a.token('a1', aud=AUD_A)
        procs.wait_until(lambda: all(self.gw.get('/a/x', old).status == 401
                                     for _ in range(6)), 20, step=0.1,
                         what='a1 refused by every worker')
        self.assertTrue(self.passes('/a/x', a.token('a2', aud=AUD_A)))
        a.op('publish', kids=['a1'])
        procs.wait_until(lambda: kids_on_disk(self.dir, a.url) == ['a1'], 20, what='a1 back')
        self.until_passes('/a/x', a.token('a1', aud=AUD_A))

    def test_unknown_kid_refetches_at_once(self):
        d = self.d
        d.op('gen', kid='d2', alg='ES256')
        d.op('publish', kids=['d1', 'd2'])
        before = d.op('hits')['jwks']
        tok = d.token('d2')
        # the refresh is an hour: the first request names an unknown kid, is refused,
        # and asks the agent to refetch
        r = self.gw.get('/d/x', tok)
        self.assertChallenge(r, 401, 'invalid_token')
        procs.wait_until(lambda: os.path.exists(os.path.join(
            self.dir, issuer_id(d.url) + '.want')), 10, what='the refetch asked')
        self.until_passes('/d/x', tok)
        self.assertGreater(d.op('hits')['jwks'], before)
        self.assertTrue(self.gw.wait_log('refetch asked'))
        self.assertGreaterEqual(metric(self.gw, 'jwtgate_issuer_refetches_total', d.url), 1)
        # each worker reads the new set: two loads of D's sets each
        procs.wait_until(lambda: metric(self.gw, 'jwtgate_issuer_key_loads_total', d.url) >= 4,
                         20, step=0.1, what="every worker to count D's new set")

    # -- issuer down ---------------------------------------------------------------

    def test_issuer_down_stale_then_refused(self):
        c = self.c
        tok = c.token('c1')
        self.assertTrue(self.passes('/c/x', tok))
        ok_before = status(self.dir, c.url).get('last_success', 0)
        self.assertGreater(ok_before, 0)
        c.op('down')
        try:
            # stale-while-error: the keys on disk serve until the bound (4 s after the
            # last success); the agent says it keeps them
            procs.wait_until(lambda: status(self.dir, c.url).get('failures', 0) > 0, 20,
                             what='a failed fetch')
            said = re.compile(re.escape(c.url) + r': fetch failed \(.*\); keeping the keys '
                              r'fetched \d+s ago \(stale in -?\d+s\)')
            procs.wait_until(lambda: said.search(self.agent.log()), 10,
                             what='the agent to say it keeps the keys')
            # then refused, with the reason in the error log
            procs.wait_until(lambda: self.gw.get('/c/x', tok).status == 401, 30, step=0.2,
                             what='the stale bound')
            self.assertTrue(self.gw.wait_log('over its stale bound of 4 s'))
            self.assertGreaterEqual(
                metric(self.gw, 'jwtgate_issuer_stale_refusals_total', c.url), 1)
            r = self.gw.get('/c/x', tok)
            self.assertChallenge(r, 401, 'invalid_token',
                                 'the keys of the access token\'s issuer are not available')
        finally:
            c.op('up')
        self.until_passes('/c/x', tok, timeout=30)

    def test_restart_with_issuer_down(self):
        """A new nginx and a new agent while the issuer is down: the keys on disk serve."""
        d = self.d
        d.op('down')
        try:
            gw2 = Nginx(type(self).__name__ + '-restart', self.server, self.http, 2).start()
            self.servers.append(gw2)
            agent2 = Agent(self.dir, os.path.join(self.tmp, 'agent2.log'), '--cacert',
                           self.certs.path('ca.pem')).start()
            try:
                r = gw2.get('/d/x', d.token('d1'))
                self.assertEqual(r.status, 200, r)
            finally:
                agent2.stop()
            gw2.stop()
        finally:
            d.op('up')

    # -- hostile documents ---------------------------------------------------------

    def hostile(self, body, why):
        e = self.e
        before = status(self.dir, e.url).get('failures', 0)
        e.op('raw', body=body)
        try:
            procs.wait_until(lambda: status(self.dir, e.url).get('failures', 0) > before, 20,
                             what='the agent to refuse the document')
            self.assertIn(why, status(self.dir, e.url)['last_error'])
            # the previous keys stay
            self.assertEqual(kids_on_disk(self.dir, e.url), ['e1'])
            self.assertTrue(self.passes('/e/x', e.token('e1')))
        finally:
            e.op('publish', kids=['e1'])
        procs.wait_until(lambda: status(self.dir, e.url).get('failures', 1) == 0, 20,
                         what='the agent to recover')

    def test_hostile_huge(self):
        self.hostile('{"keys":[' + ' ' * (2 << 20) + ']}', 'larger than 1 MiB')

    def test_hostile_deep(self):
        self.hostile('{"keys":' + '[' * 5000 + ']' * 5000 + '}', 'not a usable JWKS')

    def test_hostile_thousands_of_keys(self):
        with open(key_file(self.dir, self.e.url)) as f:
            one = json.load(f)['keys'][0]
        self.hostile(json.dumps({'keys': [dict(one, kid='k%d' % i) for i in range(1000)]}),
                     'not a usable JWKS')

    def test_hostile_not_a_jwks(self):
        self.hostile('<html>maintenance</html>', 'not a usable JWKS')
        self.hostile('{"keys": 3}', 'not a usable JWKS')

    def test_wrong_key_types_skipped(self):
        e = self.e
        # an ES256 key where the issuer's algorithms are RS256 only (the module skips it),
        # an "oct" secret in a public JWKS (the agent skips it)
        e.op('gen', kid='e-ec', alg='ES256')
        with open(key_file(self.dir, e.url)) as f:
            e1 = json.load(f)['keys'][0]
        e.op('publish', kids=['e1', 'e-ec'])
        try:
            procs.wait_until(lambda: kids_on_disk(self.dir, e.url) == ['e-ec', 'e1'], 20,
                             what='both keys on disk')
            self.assertTrue(self.gw.wait_log('skipped: not a signature key for the '
                                             "issuer's algorithms", timeout=10))
            self.assertEqual(self.gw.get('/e/x', e.token('e-ec')).status, 401)
            self.assertTrue(self.passes('/e/x', e.token('e1')))
            e.op('raw', body=json.dumps({'keys': [e1, {'kty': 'oct', 'k': 'c2VjcmV0c2VjcmV0',
                                                       'kid': 'secret'}]}))
            procs.wait_until(lambda: 'kid "secret"' in self.agent.log(), 20,
                             what='the agent to skip the secret')
            # (logged before the file is written)
            procs.wait_until(lambda: kids_on_disk(self.dir, e.url) == ['e1'], 20,
                             what='the set without the secret on disk')
        finally:
            e.op('publish', kids=['e1'])
        procs.wait_until(lambda: kids_on_disk(self.dir, e.url) == ['e1'], 20, what='e1 only')


class JwtgatedIssuer(CleanNginxTest):
    """jwtgated as the issuer: its discovery document and JWKS through the agent, tokens
    from its token endpoint (nested: the location's key file decrypts, the inner JWS's
    "iss" picks the issuer, whose fetched keys verify)."""

    srv = None

    @classmethod
    def setup(cls):
        cls.srv = Server()
        cls.world = World(cls.srv)
        cls.world.subscribe('a', 'a', ['orders:read'])
        cls.tmp = config.scratch('jwks-jwtgated-')
        cls.dir = os.path.join(cls.tmp, 'jwks')
        os.mkdir(cls.dir)
        snap = cls.srv.snapshot()
        dec = os.path.join(cls.tmp, 'gateway.jwks')
        with open(dec, 'w') as f:
            json.dump(snap['decryption_keys'], f)
        # the gateway's public key, for tokens the test makes itself
        pub = {k: v for k, v in snap['decryption_keys']['keys'][0].items() if k != 'd'}
        cls.gw_pub = os.path.join(cls.tmp, 'gateway.pub.jwk')
        with open(cls.gw_pub, 'w') as f:
            json.dump(pub, f)
        cls.aud = cls.world.apis['a']['audience']
        server = '''
        location /orders/ {
            jwtgate api;
            jwtgate_type nested;
            jwtgate_key_file %s;
            # jwtgated's JWKS says max-age=300, which the agent would follow
            jwtgate_issuer_discovery %s audience=%s refresh=1s;
            proxy_pass http://echo;
        }
''' % (dec, cls.srv.issuer, cls.aud)
        cls.gw = cls.nginx('gw', server, 'jwtgate_jwks_dir %s interval=100ms;' % cls.dir, 2)
        cls.agent = Agent(cls.dir, os.path.join(cls.tmp, 'agent.log')).start()
        procs.wait_until(lambda: kids_on_disk(cls.dir, cls.srv.issuer), 30,
                         what="the agent to fetch jwtgated's keys")

    @classmethod
    def tearDownClass(cls):
        cls.stop_all(cls.srv)

    def test_token_from_jwtgated(self):
        cid, secret = self.world.client('a')
        resp = self.srv.token(cid, secret, scope='orders:read')
        self.assertEqual(resp.status, 200, resp)
        tok = resp.json()['access_token']
        self.assertEqual(tok.count('.'), 4)  # nested: JWE(JWS)
        procs.wait_until(lambda: all(self.gw.get('/orders/1', tok).status == 200
                                     for _ in range(6)), 20, step=0.05,
                         what='every worker to accept the token')
        r = self.gw.get('/orders/1', tok)
        self.assertEqual(r.status, 200, r)
        # jwtgated's JWKS as fetched: its signing keys (next and active)
        kids = kids_on_disk(self.dir, self.srv.issuer)
        self.assertGreaterEqual(len(kids), 1)

    def test_rotation(self):
        """jwtgated publishes its next signing key ahead: after a rotation the new active
        key is one the workers already hold, and the new next key follows on disk."""
        before = kids_on_disk(self.dir, self.srv.issuer)
        cid, secret = self.world.client('a')
        first_kid = self.signing_kid(self.srv.token(cid, secret).json()['access_token'])
        st, _ = self.srv.admin('POST', '/keys/rotate', {'purpose': 'signing'})
        self.assertEqual(st, 200)

        def new_token():
            resp = self.srv.token(cid, secret, scope='orders:read')
            tok = resp.json()['access_token']
            return tok if self.signing_kid(tok) != first_kid else None
        tok = procs.wait_until(new_token, 20, step=0.1, what='a token of the new key')
        self.assertIn(self.signing_kid(tok), before)
        self.assertTrue(all(self.gw.get('/orders/1', tok).status == 200 for _ in range(6)))
        procs.wait_until(lambda: (kids_on_disk(self.dir, self.srv.issuer) or []) != before,
                         20, step=0.1, what='the new next key on disk')

    def signing_kid(self, tok):
        """The inner JWS's kid (decrypted with the gateway key by the CLI)."""
        out = subprocess.run([config.JWTGATE_CLI, 'jwe', 'decrypt', '--key',
                              os.path.join(self.tmp, 'gateway.jwks')], input=tok,
                             capture_output=True, text=True, timeout=60, check=True)
        return jgtest.jose_header(out.stdout.strip()).get('kid')

    def test_other_issuer_refused(self):
        # encrypted to jwtgated's gateway key (so it decrypts), signed by a key of the
        # test's own, naming another issuer: refused by its inner "iss" before any
        # signature work
        claims = jgtest.claim_args(iss='https://elsewhere.example', aud=self.aud, sub='x')
        tok = jgtest.cli('jwt', 'seal', '--sign-key', self.keys.path('issuer'), '--enc-key',
                         self.gw_pub, *claims)
        r = self.gw.get('/orders/1', tok)
        self.assertChallenge(r, 401, 'invalid_token',
                             "the access token's issuer is not trusted here")
        # and one naming jwtgated but signed by that key: the signature fails
        claims = jgtest.claim_args(iss=self.srv.issuer, aud=self.aud, sub='x')
        tok = jgtest.cli('jwt', 'seal', '--sign-key', self.keys.path('issuer'), '--enc-key',
                         self.gw_pub, *claims)
        r = self.gw.get('/orders/1', tok)
        self.assertEqual(r.status, 401)
        self.assertNotIn('not trusted', r.header('WWW-Authenticate'))


class Reload(CleanNginxTest):
    """A reload that names another issuer rewrites the manifest; the agent rereads it and
    fetches the new issuer, whose tokens the new workers then accept."""

    LOCATION = '''
        location /%(name)s/ {
            jwtgate api;
            jwtgate_issuer_jwks %(url)s %(url)s/jwks refresh=1s;
            proxy_pass http://echo;
        }
'''

    p = q = None

    @classmethod
    def setup(cls):
        ensure_jose()
        cls.tmp = config.scratch('jwks-reload-')
        cls.dir = os.path.join(cls.tmp, 'jwks')
        os.mkdir(cls.dir)
        cls.p = JoseIssuer(cls.tmp)
        cls.q = JoseIssuer(cls.tmp)
        for iss, kid in ((cls.p, 'p1'), (cls.q, 'q1')):
            iss.op('gen', kid=kid, alg='ES256')
            iss.op('publish', kids=[kid])
        cls.gw = cls.nginx('gw', cls.LOCATION % {'name': 'p', 'url': cls.p.url},
                           'jwtgate_jwks_dir %s interval=100ms;' % cls.dir, 2)
        cls.agent = Agent(cls.dir, os.path.join(cls.tmp, 'agent.log')).start()

    @classmethod
    def tearDownClass(cls):
        cls.stop_all(cls.p, cls.q)

    def test_reload_adds_issuer(self):
        gw, p, q = self.gw, self.p, self.q
        tp, tq = p.token('p1'), q.token('q1')
        procs.wait_until(lambda: gw.get('/p/x', tp).status == 200, 20, step=0.05,
                         what='P accepted')
        self.assertEqual(gw.get('/q/x', tq).status, 404)   # no such location yet
        gw.server_conf = (self.LOCATION % {'name': 'p', 'url': p.url}
                          + self.LOCATION % {'name': 'q', 'url': q.url})
        gw.file('nginx.conf', gw.conf_text())
        gw.proc.send_signal(signal.SIGHUP)
        procs.wait_until(lambda: kids_on_disk(self.dir, q.url) == ['q1'], 30, step=0.1,
                         what='the agent to fetch the new issuer')
        procs.wait_until(lambda: all(gw.get('/q/x', tq).status == 200 for _ in range(6)),
                         30, step=0.1, what='the new workers to accept its tokens')
        self.assertEqual(gw.get('/p/x', tp).status, 200)
        self.assertIn('2 issuer(s) from', self.agent.log())


class ConfigErrors(unittest.TestCase):
    """What `nginx -t` refuses, and the documented examples it accepts."""

    def check(self, server, http='jwtgate_jwks_dir /tmp;'):
        jgtest.nginx.require_module()
        return Nginx('JwksConfig', server, http).test_config()

    def assertRefused(self, server, text, http='jwtgate_jwks_dir /tmp;'):
        ok, out = self.check(server, http)
        self.assertFalse(ok, out)
        self.assertIn(text, out)

    def test_errors(self):
        self.assertRefused('jwtgate api; jwtgate_issuer_jwks https://i.example '
                           'https://i.example/jwks;', 'need "jwtgate_jwks_dir"', http='')
        self.assertRefused('''jwtgate api;
            location /a/ { jwtgate_issuer_jwks https://i.example https://i.example/jwks; }
            location /b/ { jwtgate_issuer_jwks https://i.example https://i.example/other; }''',
                           'is defined differently elsewhere')
        self.assertRefused('jwtgate api; jwtgate_issuer_jwks https://i.example '
                           'https://i.example/jwks; jwtgate_issuer_discovery https://i.example;',
                           'names an issuer twice at one level')
        self.assertRefused('jwtgate api; jwtgate_issuer_jwks https://i.example ftp://x/jwks;',
                           'is not an http:// or https:// URL')
        self.assertRefused('jwtgate api; jwtgate_issuer_jwks https://i.example '
                           'https://i.example/jwks algorithms=HS256;',
                           'is not an asymmetric signature algorithm')
        self.assertRefused('jwtgate api; jwtgate_issuer_jwks https://i.example '
                           'https://i.example/jwks refresh=soon;', 'invalid parameter')

    def test_documented_examples(self):
        ok, out = self.check('''
        location /api/ {
            jwtgate "api";
            jwtgate_typ JWT;
            jwtgate_issuer_discovery https://sso.example.com/realms/shop
                audience=orders algorithms=RS256 require=azp;
            jwtgate_issuer_jwks https://example.eu.auth0.com/
                https://example.eu.auth0.com/.well-known/jwks.json
                audience=https://api.example.com algorithms=RS256;
        }''')
        self.assertTrue(ok, out)


if __name__ == '__main__':
    jgtest.main()

"""jwtgate_metrics against a real nginx with two workers: requests that pass and
that are refused for several reasons (with a snapshot, with standalone keys, with
DPoP), scraped before and after, with exact deltas whichever worker served each
request or the scrape; the verified-token cache and its per-worker front; the DPoP
replay zone; snapshot loads and failures by every worker; API slots and their
overflow into api="other"; hostile names in labels. Every scrape is read by a
strict parser of the Prometheus text format 0.0.4."""
import hashlib
import json
import os
import re
import time
import unittest
import uuid

from jwcrypto import jwk, jws

from jgtest import Nginx, NginxTest, b64, nested, signed
from jgtest.procs import wait_until

ISS = 'https://auth.example'
ORDERS = 'https://api.example/orders'
DPOP_AUD = 'https://api.example/dpop'
NOW = int(time.time())
QUOTED = 'api_"odd\\id\n'


def api(id, base, aud, state='published', scopes=(), upstream='http://127.0.0.1:1'):
    return {'id': id, 'tenant_id': 'ten_1', 'name': id, 'version': 'v1', 'base_path': base,
            'upstream': upstream, 'audience': aud, 'scopes': list(scopes), 'state': state,
            'sunset': None}


# ---- a strict reader of the text format ----------------------------------------------

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|Inf|NaN))'
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?\})? (%s)(?: -?[0-9]+)?$'
                    % (NAME, LABEL, LVALUE, LABEL, LVALUE, VALUE))
PAIR = re.compile(r'(%s)=(%s)' % (LABEL, LVALUE))
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), v)


def parse(text):
    """{(name, ((label, value), ...)): float}, after checking every line: HELP and
    TYPE once per family and before its samples, families contiguous, counters end
    in _total, no sample twice, the text UTF-8 and ending in a newline."""
    text.encode('utf-8')
    assert text.endswith('\n'), 'no final newline'
    types, helps, samples, done = {}, set(), {}, set()
    current = None
    for n, line in enumerate(text[:-1].split('\n'), 1):
        where = 'line %d: %r' % (n, line)
        assert line, 'empty line, ' + where
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % NAME, line)
            assert m, 'bad comment, ' + where
            kind, name, rest = m.groups()
            if current != name:
                assert name not in done, 'family %s split, %s' % (name, where)
                if current:
                    done.add(current)
                current = name
            if kind == 'HELP':
                assert name not in helps, 'HELP twice, ' + where
                assert rest and '\n' not in rest, where
                helps.add(name)
            else:
                assert name not in types, 'TYPE twice, ' + where
                assert name in helps, 'TYPE before HELP, ' + where
                assert rest in TYPES, where
                types[name] = rest
                if rest == 'counter':
                    assert name.endswith('_total'), 'counter without _total, ' + where
            continue
        m = SAMPLE.match(line)
        assert m, 'not a sample, ' + where
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        assert name == current and name in types, 'sample outside its family, ' + where
        pairs = tuple((k, unescape(v[1:-1])) for k, v in PAIR.findall(labels))
        assert len({k for k, _ in pairs}) == len(pairs), 'label twice, ' + where
        key = (name, tuple(sorted(pairs)))
        assert key not in samples, 'sample twice, ' + where
        v = float(value)
        if types[name] == 'counter':
            assert v >= 0 and v == int(v), where
        samples[key] = v
    return samples


class Scrape:
    def __init__(self, samples):
        self.s = samples

    def get(self, name, **labels):
        return self.s.get((name, tuple(sorted(labels.items()))), 0)

    def series(self, name):
        return {k[1]: v for k, v in self.s.items() if k[0] == name}


def delta(a, b, name, **labels):
    return b.get(name, **labels) - a.get(name, **labels)


# ---- DPoP proofs made with jwcrypto ---------------------------------------------------

def proof(key, htm, htu, token, nonce=None):
    claims = {'jti': uuid.uuid4().hex, 'htm': htm, 'htu': htu, 'iat': int(time.time()),
              'ath': b64(hashlib.sha256(token.encode()).digest())}
    if nonce:
        claims['nonce'] = nonce
    s = jws.JWS(json.dumps(claims).encode())
    s.add_signature(key, None, json.dumps({'typ': 'dpop+jwt', 'alg': 'ES256',
                                           'jwk': json.loads(key.export_public())}))
    return s.serialize(compact=True)


SERVER = '''
        jwtgate api;

        location / {
            jwtgate_snapshot %(dir)s/snapshot.json;
            proxy_pass $jwtgate_api_upstream;
        }
        location /cached/ {
            jwtgate_snapshot %(dir)s/snapshot.json;
            jwtgate_cache zone=tok:1m;
            rewrite ^/cached(/.*)$ $1 break;
            proxy_pass http://echo;
        }
        location /d/ {
            jwtgate_key_file %(dir)s/issuer-pub.jwks;
            jwtgate_type signed;
            jwtgate_algorithms ES256;
            jwtgate_issuer https://auth.example;
            jwtgate_audience https://api.example/dpop;
            jwtgate_dpop required;
            jwtgate_dpop_replay zone=proofs:1m;
            proxy_pass http://echo;
        }
        location /n/ {
            jwtgate_key_file %(dir)s/issuer-pub.jwks;
            jwtgate_type signed;
            jwtgate_algorithms ES256;
            jwtgate_issuer https://auth.example;
            jwtgate_audience https://api.example/dpop;
            jwtgate_dpop required;
            jwtgate_dpop_replay zone=proofs:1m;
            jwtgate_dpop_nonce on;
            proxy_pass http://echo;
        }
        location /tinyp/ {
            jwtgate_key_file %(dir)s/issuer-pub.jwks;
            jwtgate_type signed;
            jwtgate_algorithms ES256;
            jwtgate_issuer https://auth.example;
            jwtgate_audience https://api.example/dpop;
            jwtgate_dpop required;
            jwtgate_dpop_replay zone=tinyp:32k;
            proxy_pass http://echo;
        }
        location /tinyc/ {
            jwtgate_key_file %(dir)s/issuer-pub.jwks;
            jwtgate_type signed;
            jwtgate_algorithms ES256;
            jwtgate_issuer https://auth.example;
            jwtgate_audience https://api.example/dpop;
            jwtgate_cache zone=tinyc:32k;
            proxy_pass http://echo;
        }
        location = /metrics {
            jwtgate off;
            jwtgate_metrics;
        }
        location = /__ping__ {
            jwtgate off;
            proxy_pass http://echo;
        }
'''


class Writer:
    def __init__(self, keys, path):
        self.keys, self.path, self.version = keys, path, 0

    def write(self, apis, subs):
        self.version += 1
        with open(self.keys.jwks_file('dec', 'gateway')) as f:
            d = json.load(f)
        with open(self.keys.jwks_file('ver', 'issuer', public=True)) as f:
            v = json.load(f)
        doc = {'format': 'jwtgate-snapshot', 'format_version': 1, 'version': self.version,
               'generated_at': NOW - 100 + self.version, 'issuer': ISS, 'token_ttl': 900,
               'decryption_keys': d, 'verification_keys': v, 'keys': [], 'apis': apis,
               'subscriptions': subs, 'revoked_jti': [], 'suspended_clients': []}
        self.raw(json.dumps(doc))
        return self.version

    def raw(self, text):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.rename(tmp, self.path)


class MetricsTest(NginxTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ng = Nginx(cls.__name__ + '-gw', SERVER, workers=2)
        up = 'http://127.0.0.1:%d' % cls.ng.uport
        cls.apis = [api('api_orders', '/orders', ORDERS, scopes=['orders:read', 'orders:write'],
                        upstream=up),
                    api('api_retired', '/retired', 'https://api.example/retired', 'retired'),
                    api(QUOTED, '/quoted', 'https://api.example/q', upstream=up)]
        cls.subs = [{'id': 'sub_1', 'client_id': 'app1', 'api_id': 'api_orders',
                     'audience': ORDERS, 'scopes': ['orders:read']},
                    {'id': 'sub_2', 'client_id': 'app1', 'api_id': QUOTED,
                     'audience': 'https://api.example/q', 'scopes': []}]
        cls.snap = Writer(cls.keys, os.path.join(cls.ng.dir, 'snapshot.json'))
        cls.snap.write(cls.apis, cls.subs)
        with open(cls.keys.jwks_file('issuer-pub', 'issuer', public=True)) as f:
            cls.ng.file('issuer-pub.jwks', f.read())
        cls.ng.start()
        cls.servers.append(cls.ng)
        cls.ckey = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.base = 'http://127.0.0.1:%d' % cls.ng.port

    def scrape(self):
        r = self.ng.get('/metrics')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Type'), 'text/plain; version=0.0.4')
        return Scrape(parse(r.body.decode('utf-8')))

    def tok(self, scope='orders:read', aud=ORDERS, **kw):
        return nested(self.keys, iss=ISS, aud=aud, sub='app1',
                      claims={'client_id': 'app1', 'scope': scope}, **kw)

    def dpop_tok(self):
        return signed(self.keys, iss=ISS, aud=DPOP_AUD, sub='app1',
                      claims={'cnf': {'jkt': self.ckey.thumbprint()}})

    # ---------------------------------------------------------------------------------

    def test_format_and_fixed_families(self):
        s = self.scrape()
        names = {k[0] for k in s.s}
        for n in ('jwtgate_build_info', 'jwtgate_requests_total',
                  'jwtgate_metrics_api_slots_free', 'jwtgate_snapshot_version',
                  'jwtgate_snapshot_generated_at_seconds', 'jwtgate_snapshot_age_seconds',
                  'jwtgate_cache_front_hits_total', 'jwtgate_cache_entries',
                  'jwtgate_cache_bytes', 'jwtgate_dpop_replay_bytes',
                  'jwtgate_dpop_replay_entries'):
            self.assertIn(n, names)
        info = s.series('jwtgate_build_info')
        self.assertEqual(len(info), 1)
        labels = dict(next(iter(info)))
        self.assertRegex(labels['version'], r'^\d+\.\d+\.\d+')
        self.assertIn('nginx', labels)
        for outcome in ('allowed', 'refused', 'error'):
            self.assertIn((('outcome', outcome),), s.series('jwtgate_requests_total'))
        self.assertEqual(s.get('jwtgate_cache_bytes', zone='tok'), 1024 * 1024)
        self.assertEqual(s.get('jwtgate_dpop_replay_bytes', zone='proofs'), 1024 * 1024)
        self.assertGreater(s.get('jwtgate_cache_bytes_used', zone='tok'), 0)

    def test_head_and_other_methods(self):
        r = self.ng.request('HEAD', '/metrics')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b'')
        r = self.ng.request('POST', '/metrics', headers={'Content-Length': '0'})
        self.assertEqual(r.status, 405)

    def test_requests_by_outcome_reason_and_api(self):
        good = self.tok()
        expired = self.tok(exp='@%d' % (int(time.time()) - 300))
        narrow = self.tok(scope='')
        a = self.scrape()
        n = 7
        for _ in range(n):
            self.assertEqual(self.ng.get('/orders/1', good).status, 200)
        self.assertEqual(self.ng.get('/orders/1').status, 401)              # no token
        self.assertEqual(self.ng.get('/orders/1', expired).status, 401)     # invalid_token
        self.assertEqual(self.ng.get('/orders/1', 'a b').status, 400)       # invalid_request
        self.assertEqual(self.ng.request('POST', '/orders/1', narrow,
                                         headers={'Content-Length': '0'}).status, 403)
        self.assertEqual(self.ng.get('/nowhere', good).status, 404)         # no API
        self.assertEqual(self.ng.get('/retired/x', good).status, 410)
        b = self.scrape()
        self.assertEqual(delta(a, b, 'jwtgate_requests_total', outcome='allowed'), n)
        self.assertEqual(delta(a, b, 'jwtgate_requests_total', outcome='refused'), 6)
        self.assertEqual(delta(a, b, 'jwtgate_requests_total', outcome='error'), 0)
        R = 'jwtgate_refusals_total'
        self.assertEqual(delta(a, b, R, status='401', error='none'), 1)
        self.assertEqual(delta(a, b, R, status='401', error='invalid_token'), 1)
        self.assertEqual(delta(a, b, R, status='400', error='invalid_request'), 1)
        self.assertEqual(delta(a, b, R, status='403', error='insufficient_scope'), 1)
        self.assertEqual(delta(a, b, R, status='404', error='none'), 1)
        self.assertEqual(delta(a, b, R, status='410', error='none'), 1)
        self.assertEqual(sum(b.series(R).values()) - sum(a.series(R).values()), 6)
        self.assertEqual(delta(a, b, 'jwtgate_token_errors_total', code='JG_ERR_EXPIRED'), 1)
        A = 'jwtgate_api_requests_total'
        self.assertEqual(delta(a, b, A, api='api_orders', outcome='allowed'), n)
        self.assertEqual(delta(a, b, A, api='api_orders', outcome='refused'), 4)
        self.assertEqual(delta(a, b, A, api='api_retired', outcome='refused'), 1)

    def test_every_worker_counts_and_every_worker_scrapes_the_same(self):
        good = self.tok()
        a = self.scrape()
        # new connections: the kernel spreads them over both workers
        n = 40
        for _ in range(n):
            self.assertEqual(self.ng.get('/orders/1', good).status, 200)
        b = self.scrape()
        self.assertEqual(delta(a, b, 'jwtgate_requests_total', outcome='allowed'), n)
        # both workers serve a snapshot, each has its gauge
        workers = {dict(k)['worker'] for k in b.series('jwtgate_snapshot_version')}
        self.assertEqual(workers, {'0', '1'})
        # whoever answers the scrape, the counts are the same
        texts = {json.dumps(sorted((k[0], k[1], v) for k, v in self.scrape().s.items()
                                   if k[0] in ('jwtgate_requests_total',
                                               'jwtgate_api_requests_total')))
                 for _ in range(6)}
        self.assertEqual(len(texts), 1)

    def test_hostile_api_id_is_escaped(self):
        a = self.scrape()
        self.assertEqual(self.ng.get('/quoted/x', self.tok(aud='https://api.example/q',
                                                           scope='')).status, 200)
        b = self.scrape()
        # "\n" is not printable ASCII: it became "?"; '"' and '\' escaped
        self.assertEqual(delta(a, b, 'jwtgate_api_requests_total',
                               api='api_"odd\\id?', outcome='allowed'), 1)

    def test_cache_and_its_front(self):
        t = self.tok()
        a = self.scrape()
        n = 12
        for _ in range(n):
            r = self.ng.get('/cached/orders/1', t)
            self.assertEqual(r.status, 200, r)
        b = self.scrape()
        z = dict(zone='tok')
        hits = delta(a, b, 'jwtgate_cache_hits_total', **z)
        front = delta(a, b, 'jwtgate_cache_front_hits_total')
        # the first request verified it; every other one was a hit, in the zone
        # (a worker's first sight of it) or in the worker's front
        self.assertEqual(delta(a, b, 'jwtgate_cache_misses_total', **z), 1)
        self.assertEqual(delta(a, b, 'jwtgate_cache_insertions_total', **z), 1)
        self.assertEqual(hits + front, n - 1)
        self.assertIn(hits, (0, 1))
        self.assertEqual(delta(a, b, 'jwtgate_cache_front_misses_total'), 1 + hits)
        self.assertEqual(delta(a, b, 'jwtgate_cache_front_insertions_total'), 1 + hits)
        self.assertEqual(delta(a, b, 'jwtgate_cache_entries', **z), 1)
        self.assertEqual(delta(a, b, 'jwtgate_cache_evictions_total', **z), 0)

    def test_dpop_replay_zone_and_nonces(self):
        t = self.dpop_tok()
        a = self.scrape()
        p = proof(self.ckey, 'GET', self.base + '/d/x', t)
        h = {'Authorization': 'DPoP ' + t, 'DPoP': p}
        self.assertEqual(self.ng.get('/d/x', headers=h).status, 200)
        self.assertEqual(self.ng.get('/d/x', headers=h).status, 401)       # a replay
        self.assertEqual(self.ng.get('/d/x', headers={'Authorization': 'DPoP ' + t}).status,
                         401)                                                # no proof
        r = self.ng.get('/n/x', headers={'Authorization': 'DPoP ' + t,
                                         'DPoP': proof(self.ckey, 'GET', self.base + '/n/x', t)})
        self.assertEqual(r.status, 401)
        nonce = r.header('DPoP-Nonce')
        self.assertTrue(nonce)
        r = self.ng.get('/n/x', headers={'Authorization': 'DPoP ' + t,
                                         'DPoP': proof(self.ckey, 'GET', self.base + '/n/x', t,
                                                       nonce=nonce)})
        self.assertEqual(r.status, 200, r)
        b = self.scrape()
        z = dict(zone='proofs')
        self.assertEqual(delta(a, b, 'jwtgate_dpop_replays_total', **z), 1)
        # the two accepted proofs are recorded (the nonce-less one was refused first)
        self.assertEqual(delta(a, b, 'jwtgate_dpop_replay_entries', **z), 2)
        self.assertEqual(delta(a, b, 'jwtgate_dpop_replay_full_total', **z), 0)
        R = 'jwtgate_refusals_total'
        self.assertEqual(delta(a, b, R, status='401', error='invalid_dpop_proof'), 2)
        self.assertEqual(delta(a, b, R, status='401', error='use_dpop_nonce'), 1)
        self.assertEqual(delta(a, b, 'jwtgate_requests_total', outcome='allowed'), 2)
        self.assertGreater(b.get('jwtgate_dpop_replay_bytes_used', **z), 0)

    def test_full_cache_zone_evicts_and_the_numbers_add_up(self):
        toks = [signed(self.keys, iss=ISS, aud=DPOP_AUD, sub='app1',
                       claims={'pad': 'x' * 600, 'n': i}) for i in range(80)]
        a = self.scrape()
        for t in toks:
            self.assertEqual(self.ng.get('/tinyc/x', t).status, 200)
        b = self.scrape()
        z = dict(zone='tinyc')
        ins = delta(a, b, 'jwtgate_cache_insertions_total', **z)
        ev = delta(a, b, 'jwtgate_cache_evictions_total', **z)
        self.assertEqual(delta(a, b, 'jwtgate_cache_misses_total', **z), 80)
        self.assertEqual(ins, 80)
        self.assertGreater(ev, 0)
        # what went in and what went out is what is there
        removed = ('jwtgate_cache_expirations_total', 'jwtgate_cache_purges_total')
        gone = ev + sum(delta(a, b, n, **z) for n in removed)
        self.assertEqual(ins - gone, delta(a, b, 'jwtgate_cache_entries', **z))
        self.assertLessEqual(b.get('jwtgate_cache_bytes_used', **z), 32 * 1024)

    def test_full_replay_zone_is_counted(self):
        t = self.dpop_tok()
        a = self.scrape()
        accepted = full = 0
        for _ in range(2000):
            r = self.ng.get('/tinyp/x', headers={
                'Authorization': 'DPoP ' + t,
                'DPoP': proof(self.ckey, 'GET', self.base + '/tinyp/x', t)})
            self.assertIn(r.status, (200, 503), r)
            if r.status == 503:
                full += 1
                if full == 3:
                    break
            else:
                accepted += 1
        self.assertEqual(full, 3, 'never full')
        b = self.scrape()
        z = dict(zone='tinyp')
        self.assertEqual(delta(a, b, 'jwtgate_dpop_replay_full_total', **z), 3)
        self.assertEqual(delta(a, b, 'jwtgate_dpop_replay_entries', **z), accepted)
        self.assertEqual(delta(a, b, 'jwtgate_refusals_total', status='503', error='none'), 3)

    def test_snapshot_loads_failures_and_versions(self):
        path = self.ng.dir + '/snapshot.json'
        src = dict(source=path)
        a = self.scrape()
        v = self.snap.write(self.apis, self.subs)

        def all_serve(version):
            s = self.scrape()
            got = {dict(k)['worker']: val for k, val in s.series('jwtgate_snapshot_version')
                   .items() if dict(k)['source'] == path}
            return got == {'0': version, '1': version} and s
        b = wait_until(lambda: all_serve(v), 10, step=0.05)
        self.assertEqual(delta(a, b, 'jwtgate_snapshot_loads_total', **src), 2)
        self.assertEqual(delta(a, b, 'jwtgate_snapshot_load_failures_total', **src), 0)
        gen = NOW - 100 + v
        for w in ('0', '1'):
            self.assertEqual(b.get('jwtgate_snapshot_generated_at_seconds', source=path,
                                   worker=w), gen)
        self.assertGreaterEqual(b.get('jwtgate_snapshot_age_seconds', **src),
                                int(time.time()) - gen - 2)
        self.assertGreaterEqual(b.get('jwtgate_snapshot_last_load_time_seconds', **src),
                                int(time.time()) - 60)
        # a broken file: each worker fails it once and keeps serving v
        self.snap.raw('{"format": "jwtgate-snapshot", "format_version": 1, "versi')
        c = wait_until(lambda: (lambda s: s.get('jwtgate_snapshot_load_failures_total', **src)
                                - a.get('jwtgate_snapshot_load_failures_total', **src) >= 2
                                and s)(self.scrape()), 10, step=0.05)
        self.assertEqual(delta(a, c, 'jwtgate_snapshot_load_failures_total', **src), 2)
        self.assertEqual(delta(b, c, 'jwtgate_snapshot_loads_total', **src), 0)
        self.assertEqual({dict(k)['worker']: x for k, x in
                          c.series('jwtgate_snapshot_version').items()}, {'0': v, '1': v})
        # the file gone: each worker says so once
        os.remove(path)
        F = 'jwtgate_snapshot_load_failures_total'
        d = wait_until(lambda: (lambda s: s.get(F, **src) - a.get(F, **src) >= 4
                                and s)(self.scrape()), 10, step=0.05)
        self.assertEqual(delta(a, d, F, **src), 4)
        # and a good one again, so that other tests have one
        v = self.snap.write(self.apis, self.subs)
        wait_until(lambda: all_serve(v), 10, step=0.05)


class Parser(unittest.TestCase):
    """The parser itself refuses what the format does not allow."""

    def test_rejects(self):
        good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n'
        self.assertEqual(parse(good), {('a_total', (('x', '1'),)): 2.0})
        for bad in ('a_total 1\n',                                            # no TYPE
                    good.replace('# HELP a_total A.\n', ''),                  # no HELP
                    good[:-1],                                                # no newline
                    good + 'a_total{x="1"} 3\n',                              # twice
                    good.replace('{x="1"}', '{x="1",x="2"}'),                  # label twice
                    good.replace('{x="1"}', '{x="a\nb"}'),                     # raw newline
                    good.replace('{x="1"}', '{x=1}'),                          # unquoted
                    good.replace(' 2\n', ' two\n'),                           # value
                    good.replace('counter', 'counters'),                      # type
                    good.replace('a_total', 'a'),                             # counter name
                    good + '# HELP b B.\n# TYPE b gauge\nb 1\na_total{x="2"} 1\n',  # split
                    good.replace(' 2\n', ' -2\n')):                           # counter < 0
            with self.assertRaises(AssertionError, msg=bad):
                parse(bad)


RESERVED = '''
        location / {
            jwtgate api;
            jwtgate_key_file %(dir)s/k.jwks;
            %(params)s
            proxy_pass http://echo;
        }
        location = /metrics {
            jwtgate_metrics;
        }
'''


class Configuration(NginxTest):

    def test_zone_name_is_reserved(self):
        for loc in ('jwtgate_cache zone=jwtgate_metrics:1m;',
                    'jwtgate_dpop optional; jwtgate_dpop_replay zone=jwtgate_metrics:1m;'):
            ng = Nginx(self.__class__.__name__ + '-reserved', RESERVED, params={'params': loc})
            with open(self.keys.jwks_file('k', 'issuer', public=True)) as f:
                ng.file('k.jwks', f.read())
            ok, text = ng.test_config()
            self.assertFalse(ok, text)
            self.assertIn('jwtgate_metrics', text)

    def test_not_in_http_or_server(self):
        ng = Nginx(self.__class__.__name__ + '-level', 'jwtgate_metrics;')
        ok, text = ng.test_config()
        self.assertFalse(ok, text)
        self.assertIn('"jwtgate_metrics" directive is not allowed here', text)


class ApiSlots(NginxTest):
    """More APIs than slots: the first 128 have their own series, the others are
    counted under api="other"; the counts add up."""

    def test_overflow_counts_under_other(self):
        ng = Nginx(self.__class__.__name__ + '-gw', '''
        jwtgate api;
        jwtgate_snapshot %(dir)s/snapshot.json;
        location / {
            proxy_pass http://echo;
        }
        location = /metrics {
            jwtgate off;
            jwtgate_metrics;
        }
        location = /__ping__ {
            jwtgate off;
            proxy_pass http://echo;
        }
''', workers=2)
        apis = [api('api_%03d' % i, '/a%03d' % i, 'https://api.example/%d' % i)
                for i in range(140)]
        Writer(self.keys, os.path.join(ng.dir, 'snapshot.json')).write(apis, [])
        ng.start()
        self.servers.append(ng)
        for i in range(140):
            self.assertEqual(ng.get('/a%03d/x' % i).status, 401)
        r = ng.get('/metrics')
        s = Scrape(parse(r.body.decode()))
        per = s.series('jwtgate_api_requests_total')
        named = {dict(k)['api'] for k, v in per.items()
                 if dict(k)['outcome'] == 'refused' and dict(k)['api'] != 'other'}
        self.assertEqual(len(named), 128)
        self.assertEqual(s.get('jwtgate_api_requests_total', api='other', outcome='refused'),
                         12)
        self.assertEqual(sum(v for k, v in per.items() if dict(k)['outcome'] == 'refused'),
                         140)
        self.assertEqual(s.get('jwtgate_metrics_api_slots_free'), 0)
        self.assertEqual(s.get('jwtgate_requests_total', outcome='refused'), 140)
        # a reload keeps the zone and its counts
        ng.svc.proc.send_signal(1)
        self.assertTrue(ng.wait_log('reconfiguring'))
        s2 = wait_until(lambda: (lambda t: t.get('jwtgate_requests_total', outcome='refused')
                                 == 140 and t)(Scrape(parse(ng.get('/metrics').body.decode()))),
                        10, step=0.1)
        self.assertEqual(s2.get('jwtgate_api_requests_total', api='other', outcome='refused'),
                         12)


if __name__ == '__main__':
    unittest.main()

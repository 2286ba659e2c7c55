"""Sender-constrained tokens in ngx_http_jwtgate_module, against a real nginx with
two workers: DPoP-bound tokens (RFC 9449) with proofs made by python3-jwcrypto
(an independent implementation) and by `jwtgate dpop proof`, every refusal with
its RFC 9449 section 7.1 challenge, the replay cache shared by the workers and
what it does when full, server nonces, jwtgate_dpop_htu_origin; and
certificate-bound tokens (RFC 8705 section 3) over TLS with client certificates
from a CA made here with openssl."""
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import time
import unittest
import uuid

from jwcrypto import jwk, jws

from jgtest import Nginx, NginxTest, b64, cli, http as jhttp, raw_exchange, signed

ISS = 'https://issuer.example'
AUD = 'https://api.example'
ALL_ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519 Ed448'


def proof(key, htm, htu, token=None, iat=None, jti=None, nonce=None, alg='ES256',
          typ='dpop+jwt', extra=None):
    """A DPoP proof made with jwcrypto (not our library)."""
    claims = {'jti': jti or uuid.uuid4().hex, 'htm': htm, 'htu': htu,
              'iat': int(time.time()) if iat is None else iat}
    if token is not None:
        claims['ath'] = b64(hashlib.sha256(token.encode()).digest())
    if nonce is not None:
        claims['nonce'] = nonce
    claims.update(extra or {})
    s = jws.JWS(json.dumps(claims).encode())
    s.add_signature(key, None, json.dumps({
        'typ': typ, 'alg': alg, 'jwk': json.loads(key.export_public())}))
    return s.serialize(compact=True)


def challenges(r):
    return [v for k, v in r.headers if k.lower() == 'www-authenticate']


class DPoPTest(NginxTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        k = cls.keys
        pub = k.jwks_file('issuer-pub', 'issuer', public=True)
        cls.ckey = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.other = jwk.JWK.generate(kty='EC', crv='P-256')
        cls.jkt = cls.ckey.thumbprint()
        # the CLI's client key, for its own proofs
        cls.cli_key = os.path.join(k.dir, 'client.jwk')
        with open(cls.cli_key, 'w') as f:
            f.write(cli('key', 'generate', '--alg', 'ES256'))
        with open(cls.cli_key) as f:
            cls.cli_jkt = cli('key', 'thumbprint', stdin=f.read())
        http = '''
    jwtgate_dpop_replay zone=dpop:1m;
'''
        server = '''
        jwtgate api;
        jwtgate_key_file %(pub)s;
        jwtgate_type signed;
        jwtgate_algorithms ES256;
        jwtgate_issuer %(iss)s;
        jwtgate_audience %(aud)s;
        jwtgate_dpop_window 60s;
        large_client_header_buffers 4 32k;

        location /d/ {
            add_header X-Jkt $jwtgate_dpop_jkt always;
            proxy_pass http://echo;
        }
        location /req/ {
            jwtgate_dpop required;
            proxy_pass http://echo;
        }
        location /off/ {
            jwtgate_dpop off;
            proxy_pass http://echo;
        }
        location /es384/ {
            jwtgate_dpop_algorithms ES384 PS256;
            proxy_pass http://echo;
        }
        location /nonce/ {
            jwtgate_dpop_nonce on;
            proxy_pass http://echo;
        }
        location /tiny/ {
            jwtgate_dpop_replay zone=tiny:32k;
            proxy_pass http://echo;
        }
        location /proxied/ {
            jwtgate_dpop_htu_origin https://api.example.com;
            proxy_pass http://echo;
        }
        location /cached/ {
            jwtgate_cache zone=tok:1m;
            proxy_pass http://echo;
        }
''' % {'pub': pub, 'iss': ISS, 'aud': AUD}
        cls.ng = cls.nginx('dpop', server, http, workers=2)
        cls.base = 'http://127.0.0.1:%d' % cls.ng.port

    def tok(self, jkt=None, **kw):
        claims = kw.pop('claims', {})
        if jkt:
            claims['cnf'] = {'jkt': jkt}
        return signed(self.keys, iss=ISS, aud=AUD, sub='alice', claims=claims, **kw)

    def send(self, path, token=None, prf=None, scheme='DPoP', method='GET', headers=None):
        h = dict(headers or {})
        if token is not None:
            h['Authorization'] = '%s %s' % (scheme, token)
        if prf is not None:
            h['DPoP'] = prf
        return self.ng.request(method, path, headers=h)

    def good(self, path, token, method='GET', key=None, **kw):
        return proof(key or self.ckey, method, self.base + path, token=token, **kw)

    def assertDPoP(self, r, status, error=None, bearer=True, algs=ALL_ALGS, desc=None):
        """The refusal and its challenges: DPoP [error=..., error_description=...,]
        algs=...; a Bearer challenge too where bearer tokens are taken."""
        self.assertEqual(r.status, status, r)
        ch = challenges(r)
        d = [c for c in ch if c.startswith('DPoP ')]
        b = [c for c in ch if c.startswith('Bearer ')]
        self.assertEqual(len(d), 1, ch)
        self.assertEqual(len(b), 1 if bearer else 0, ch)
        if error:
            self.assertTrue(d[0].startswith('DPoP error="%s", error_description="' % error), d)
            if desc:
                self.assertIn('error_description="%s"' % desc, d[0])
        else:
            self.assertEqual(d[0], 'DPoP algs="%s"' % algs)
        self.assertTrue(d[0].endswith(', algs="%s"' % algs) or not error, d)
        if b:
            self.assertFalse('error=' in b[0], b)

    # ---- the good case --------------------------------------------------

    def test_good_proof_passes(self):
        t = self.tok(self.jkt)
        r = self.send('/d/x', t, self.good('/d/x', t))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('X-Jkt'), self.jkt)

    def test_proof_from_our_cli_passes(self):
        t = self.tok(self.cli_jkt)
        tf = os.path.join(self.ng.dir, 'cli-token')
        with open(tf, 'w') as f:
            f.write(t)
        p = cli('dpop', 'proof', '--key', self.cli_key, '--htm', 'POST', '--htu',
                self.base + '/d/orders?page=2', '--token', tf)
        r = self.send('/d/orders?page=2', t, p, method='POST', headers={'Content-Length': '0'})
        self.assertEqual(r.status, 200, r)

    def test_query_is_not_part_of_htu_and_scheme_is_case_insensitive(self):
        t = self.tok(self.jkt)
        r = self.send('/d/q?a=1', t, self.good('/d/q', t), scheme='dpop')
        self.assertEqual(r.status, 200, r)

    def test_unbound_bearer_token_passes_where_optional(self):
        r = self.ng.get('/d/x', self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header('X-Jkt'))

    def test_token_cache_keeps_checking_proofs(self):
        t = self.tok(self.jkt)
        for _ in range(3):
            self.assertEqual(self.send('/cached/c', t, self.good('/cached/c', t)).status, 200)
        self.assertDPoP(self.send('/cached/c', t), 401, 'invalid_dpop_proof')

    # ---- refusals -------------------------------------------------------

    def test_no_credentials_get_both_challenges(self):
        r = self.ng.get('/d/x')
        self.assertEqual(challenges(r), ['Bearer realm="api"', 'DPoP algs="%s"' % ALL_ALGS])

    def test_no_proof(self):
        t = self.tok(self.jkt)
        self.assertDPoP(self.send('/d/x', t), 401, 'invalid_dpop_proof', desc='no DPoP proof')

    def test_proof_for_another_url(self):
        t = self.tok(self.jkt)
        self.assertDPoP(self.send('/d/x', t, self.good('/d/y', t)), 401, 'invalid_dpop_proof',
                        desc='the DPoP proof is for another URI')
        p = proof(self.ckey, 'GET', 'https://127.0.0.1:%d/d/x' % self.ng.port, token=t)
        self.assertDPoP(self.send('/d/x', t, p), 401, 'invalid_dpop_proof')

    def test_proof_for_another_method(self):
        t = self.tok(self.jkt)
        self.assertDPoP(self.send('/d/x', t, self.good('/d/x', t, method='POST')), 401,
                        'invalid_dpop_proof', desc='the DPoP proof is for another method')

    def test_replayed_proof_refused_by_every_worker(self):
        t = self.tok(self.jkt)
        p = self.good('/d/x', t)
        self.assertEqual(self.send('/d/x', t, p).status, 200)
        # new connections: both workers answer some of them
        for _ in range(8):
            self.assertDPoP(self.send('/d/x', t, p), 401, 'invalid_dpop_proof',
                            desc='the DPoP proof was used before')

    def test_replay_seen_across_workers(self):
        # each request on its own connection, so that over 20 proofs both workers
        # record some and refuse the replays of the other's
        t = self.tok(self.jkt)
        proofs = [self.good('/d/w', t) for _ in range(20)]
        for p in proofs:
            self.assertEqual(self.send('/d/w', t, p).status, 200)
        for p in proofs:
            self.assertEqual(self.send('/d/w', t, p).status, 401)

    def test_proof_by_another_key(self):
        t = self.tok(self.jkt)
        self.assertDPoP(self.send('/d/x', t, self.good('/d/x', t, key=self.other)), 401,
                        'invalid_dpop_proof',
                        desc="the DPoP proof is not signed by the token's key")

    def test_stale_and_future_iat(self):
        t = self.tok(self.jkt)
        now = int(time.time())
        for iat in (now - 120, now + 60):
            self.assertDPoP(self.send('/d/x', t, self.good('/d/x', t, iat=iat)), 401,
                            'invalid_dpop_proof', desc='the DPoP proof is not recent')
        # within the window and the leeway
        self.assertEqual(self.send('/d/x', t, self.good('/d/x', t, iat=now - 50)).status, 200)
        self.assertEqual(self.send('/d/x', t, self.good('/d/x', t, iat=now + 2)).status, 200)

    def test_ath_of_another_token_or_none(self):
        t = self.tok(self.jkt)
        other = self.tok(self.jkt, jti='another')
        self.assertDPoP(self.send('/d/x', t, self.good('/d/x', other)), 401,
                        'invalid_dpop_proof',
                        desc='the DPoP proof is not for this access token')
        p = proof(self.ckey, 'GET', self.base + '/d/x')
        self.assertDPoP(self.send('/d/x', t, p), 401, 'invalid_dpop_proof')

    def test_bound_token_as_bearer_refused_everywhere(self):
        t = self.tok(self.jkt)
        for path in ('/d/x', '/off/x', '/cached/x'):
            r = self.send(path, t, self.good(path, t), scheme='Bearer')
            self.assertEqual(r.status, 401, (path, r))
            b = [c for c in challenges(r) if c.startswith('Bearer ')]
            self.assertEqual(len(b), 1, r)
            self.assertTrue(b[0].startswith('Bearer realm="api", error="invalid_token"'), b)
        r = self.send('/req/x', t, self.good('/req/x', t), scheme='Bearer')
        self.assertDPoP(r, 401, 'invalid_token', bearer=False)

    def test_two_dpop_headers(self):
        t = self.tok(self.jkt)
        p1, p2 = self.good('/d/x', t), self.good('/d/x', t)
        raw = ('GET /d/x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: DPoP %s\r\n'
               'DPoP: %s\r\nDPoP: %s\r\nConnection: close\r\n\r\n'
               % (self.ng.port, t, p1, p2)).encode()
        out = raw_exchange(self.ng.port, raw).decode()
        self.assertTrue(out.startswith('HTTP/1.1 401'), out[:200])
        self.assertIn('DPoP error="invalid_dpop_proof", error_description="more than one '
                      'DPoP proof"', out)

    def test_oversized_and_garbage_proofs(self):
        t = self.tok(self.jkt)
        for p in ('x' * 9000, 'a.b.c', self.good('/d/x', t, typ='JWT'),
                  self.good('/d/x', t)[:-5] + 'AAAAA'):
            self.assertDPoP(self.send('/d/x', t, p), 401, 'invalid_dpop_proof')

    def test_dpop_scheme_with_unbound_token(self):
        t = self.tok()
        self.assertDPoP(self.send('/d/x', t, self.good('/d/x', t)), 401, 'invalid_token',
                        desc='the access token is not bound to a DPoP key')

    def test_required_mode(self):
        r = self.ng.get('/req/x', self.tok())
        self.assertDPoP(r, 401, 'invalid_token', bearer=False,
                        desc='this resource requires a DPoP-bound access token')
        self.assertEqual(challenges(self.ng.get('/req/x')), ['DPoP algs="%s"' % ALL_ALGS])
        t = self.tok(self.jkt)
        self.assertEqual(self.send('/req/x', t, self.good('/req/x', t)).status, 200)

    def test_off_mode_takes_no_dpop_scheme(self):
        t = self.tok(self.jkt)
        r = self.send('/off/x', t, self.good('/off/x', t))
        self.assertEqual(r.status, 401)
        self.assertEqual(challenges(r), ['Bearer realm="api"'])
        self.assertEqual(self.ng.get('/off/x', self.tok()).status, 200)

    def test_algorithms(self):
        t = self.tok(self.jkt)
        r = self.send('/es384/x', t, self.good('/es384/x', t))
        self.assertDPoP(r, 401, 'invalid_dpop_proof', algs='PS256 ES384',
                        desc="the DPoP proof's algorithm is not accepted")
        k384 = jwk.JWK.generate(kty='EC', crv='P-384')
        t = self.tok(k384.thumbprint())
        r = self.send('/es384/x', t, self.good('/es384/x', t, key=k384, alg='ES384'))
        self.assertEqual(r.status, 200, r)

    def test_wrong_invalid_cnf(self):
        t = signed(self.keys, iss=ISS, aud=AUD, claims={'cnf': 'nope'})
        r = self.send('/d/x', t, self.good('/d/x', t))
        self.assertEqual(r.status, 401)

    # ---- nonces ---------------------------------------------------------

    def test_nonce_flow(self):
        t = self.tok(self.jkt)
        r = self.send('/nonce/x', t, self.good('/nonce/x', t))
        self.assertDPoP(r, 401, 'use_dpop_nonce')
        nonce = r.header('DPoP-Nonce')
        self.assertRegex(nonce or '', r'^[A-Za-z0-9_-]{22}$')
        # any worker takes it
        for _ in range(6):
            r = self.send('/nonce/x', t, self.good('/nonce/x', t, nonce=nonce))
            self.assertEqual(r.status, 200, r)
        r = self.send('/nonce/x', t, self.good('/nonce/x', t, nonce='A' * 22))
        self.assertDPoP(r, 401, 'use_dpop_nonce')
        self.assertEqual(r.header('DPoP-Nonce'), nonce)

    # ---- the replay zone when full --------------------------------------

    def test_full_replay_zone_refuses_fails_safe(self):
        t = self.tok(self.jkt)
        seen, statuses = [], []
        for _ in range(2000):
            p = self.good('/tiny/x', t)
            r = self.send('/tiny/x', t, p)
            statuses.append(r.status)
            if r.status == 503:
                break
            seen.append(p)
        self.assertEqual(statuses[-1], 503, 'never full')
        self.assertGreater(len(seen), 50)
        self.assertIsNotNone(r.header('Retry-After'))
        # nothing was let through unrecorded: every accepted proof stays refused
        for p in seen[:5] + seen[-5:]:
            self.assertEqual(self.send('/tiny/x', t, p).status, 401)
        self.assertTrue(self.ng.wait_log('DPoP replay zone "tiny" is full'))
        # other zones are not concerned
        self.assertEqual(self.send('/d/x', t, self.good('/d/x', t)).status, 200)

    # ---- behind another proxy -------------------------------------------

    def test_htu_origin(self):
        t = self.tok(self.jkt)
        p = proof(self.ckey, 'GET', 'https://api.example.com/proxied/x', token=t)
        self.assertEqual(self.send('/proxied/x?y=1', t, p).status, 200)
        self.assertDPoP(self.send('/proxied/x', t, self.good('/proxied/x', t)), 401,
                        'invalid_dpop_proof')

    def test_config_errors(self):
        for bad in ('jwtgate_dpop_algorithms HS256;', 'jwtgate_dpop_algorithms none;',
                    'jwtgate_dpop maybe;', 'jwtgate_dpop_replay tiny:1m;',
                    'jwtgate_dpop_htu_origin https://api.example.com/;',
                    'jwtgate_dpop_window 0s;'):
            ng = Nginx(self.__class__.__name__ + '-bad', 'jwtgate api; %s' % bad)
            ok, said = ng.test_config()
            self.assertFalse(ok, bad)
            self.assertIn('emerg', said, bad)

    def test_no_error_log_alerts(self):
        self.assertEqual(self.ng.alerts(), [])


def openssl(*args, cwd):
    subprocess.run(['openssl'] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


class MTLS(NginxTest):
    """RFC 8705 section 3: cnf["x5t#S256"] against the certificate nginx verified."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = os.path.join(cls.keys.dir, 'pki')
        os.makedirs(d, exist_ok=True)
        cls.pki = d
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj',
                '/CN=jwtgate test CA', cwd=d)
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-days', '2',
                '-subj', '/CN=localhost', cwd=d)
        for name in ('alice', 'bob'):
            openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=' + name,
                    cwd=d)
            openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
                    '-CAcreateserial', '-out', name + '.crt', '-days', '2', cwd=d)
        der = subprocess.run(['openssl', 'x509', '-in', os.path.join(d, 'alice.crt'),
                              '-outform', 'DER'], capture_output=True, check=True).stdout
        cls.x5t = b64(hashlib.sha256(der).digest())
        pub = cls.keys.jwks_file('issuer-pub', 'issuer', public=True)
        server = '''
        listen 127.0.0.1:%%(port_tls)d ssl;
        ssl_certificate %(d)s/server.crt;
        ssl_certificate_key %(d)s/server.key;
        ssl_client_certificate %(d)s/ca.crt;
        ssl_verify_client optional;
        jwtgate api;
        jwtgate_key_file %(pub)s;
        jwtgate_type signed;
        jwtgate_algorithms ES256;
        jwtgate_issuer %(iss)s;
        jwtgate_audience %(aud)s;
        location / {
            add_header X-X5t $jwtgate_cnf_x5t always;
            proxy_pass http://echo;
        }
''' % {'d': d, 'pub': pub, 'iss': ISS, 'aud': AUD}
        cls.ng = Nginx(cls.__name__ + '-mtls', server, '', 2, ports_named=('tls',)).start()
        cls.servers.append(cls.ng)

    def get(self, token, cert=None):
        ctx = ssl.create_default_context(cafile=None)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(os.path.join(self.pki, cert + '.crt'),
                                os.path.join(self.pki, cert + '.key'))
        conn = http.client.HTTPSConnection('127.0.0.1', self.ng.port_tls, context=ctx,
                                           timeout=10)
        try:
            conn.request('GET', '/x', headers={'Authorization': 'Bearer ' + token})
            r = conn.getresponse()
            return jhttp.Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def tok(self, x5t):
        return signed(self.keys, iss=ISS, aud=AUD, sub='alice',
                      claims={'cnf': {'x5t#S256': x5t}})

    def test_right_certificate(self):
        r = self.get(self.tok(self.x5t), 'alice')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('X-X5t'), self.x5t)

    def test_another_certificate(self):
        r = self.get(self.tok(self.x5t), 'bob')
        self.assertChallenge(r, 401, 'invalid_token', 'certificate binding')

    def test_no_certificate(self):
        r = self.get(self.tok(self.x5t))
        self.assertChallenge(r, 401, 'invalid_token', 'certificate binding')

    def test_plain_http(self):
        r = self.ng.get('/x', self.tok(self.x5t))
        self.assertChallenge(r, 401, 'invalid_token', 'certificate binding')

    def test_unbound_token_still_passes(self):
        r = self.get(signed(self.keys, iss=ISS, aud=AUD, sub='alice'), 'bob')
        self.assertEqual(r.status, 200, r)


if __name__ == '__main__':
    unittest.main()

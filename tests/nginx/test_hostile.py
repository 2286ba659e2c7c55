"""Hostile requests against ngx_http_jwtgate_module in a real nginx: malformed
tokens, the attack tokens of tests/unit/test_attacks.c that can be made from
outside (alg none, algorithm confusion, psychic signatures, wrong signature
lengths, crit, duplicate members, invalid curve points, huge PBES2 counts,
DEFLATE bombs), deep and huge JSON, a 1 MiB header and random tokens. Every
answer must be 400 or 401 (404 for no API), no worker may crash, and in the
sanitizer build nothing may be reported (jgtest.NginxTest checks the logs)."""
import hashlib
import hmac
import json
import os
import random
import time
import unittest

from jgtest import (NginxTest, b64, encrypted, nested, raw_request, sanitizer_runtime, signed,
                    unb64)

ISS = 'https://issuer.example'
AUD = 'https://api.example'


class Hostile(NginxTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        k = cls.keys
        pub = k.jwks_file('pub', 'issuer', public=True)
        hm = k.jwks_file('hmac', 'hmac')
        gw = k.jwks_file('gw', 'gateway')
        pb = os.path.join(k.dir, 'pbes2.jwk')
        with open(pb, 'w') as f:
            from jgtest import cli
            f.write(cli('key', 'generate', '--alg', 'PBES2-HS256+A128KW'))
        cls.pbes2 = pb
        pbs = k.jwks_file('pbes2set', 'pbes2')
        server = '''
        jwtgate_issuer %(iss)s;
        jwtgate_audience %(aud)s;
        location /signed/ {
            jwtgate api;
            jwtgate_key_file %(pub)s;
            jwtgate_algorithms ES256;
            proxy_pass http://echo;
        }
        location /hs/ {
            jwtgate api;
            jwtgate_key_file %(hm)s;
            jwtgate_algorithms HS256;
            jwtgate_typ JWT;
            jwtgate_cache zone=hostile:1m;
            proxy_pass http://echo;
        }
        location /nested/ {
            jwtgate api;
            jwtgate_key_file %(gw)s;
            jwtgate_key_file %(pub)s;
            jwtgate_type nested;
            jwtgate_cache zone=hostile:1m;
            proxy_pass http://echo;
        }
        location /encrypted/ {
            jwtgate api;
            jwtgate_key_file %(gw)s;
            jwtgate_type encrypted;
            proxy_pass http://echo;
        }
        location /pbes2/ {
            jwtgate api;
            jwtgate_key_file %(pbs)s;
            jwtgate_type encrypted;
            jwtgate_algorithms PBES2-HS256+A128KW A128GCM A256GCM;
            proxy_pass http://echo;
        }
''' % {'pub': pub, 'hm': hm, 'gw': gw, 'pbs': pbs, 'iss': ISS, 'aud': AUD}
        cls.ng = cls.nginx('hostile', server, workers=2)
        cls.secret = unb64(k.jwk('hmac')['k'])

    # ---- token makers -------------------------------------------------------

    def hs(self, header, payload, secret=None):
        """A compact JWS with any header and payload text, MACed with HS256."""
        h = b64(header if isinstance(header, (str, bytes)) else json.dumps(header))
        p = b64(payload if isinstance(payload, (str, bytes)) else json.dumps(payload))
        mac = hmac.new(secret or self.secret, ('%s.%s' % (h, p)).encode(), hashlib.sha256)
        return '%s.%s.%s' % (h, p, b64(mac.digest()))

    def claims(self, **extra):
        c = {'iss': ISS, 'aud': AUD, 'sub': 'x', 'exp': int(time.time()) + 600}
        c.update(extra)
        return c

    def refused(self, path, token, allowed=(400, 401)):
        r = self.ng.get(path, token)
        self.assertIn(r.status, allowed, (path, token[:200], r))
        return r

    # ---- sanity: the forgeries would pass if they were right ------------------

    def test_control_tokens_pass(self):
        self.assertEqual(self.ng.get('/hs/x', self.hs({'alg': 'HS256', 'typ': 'JWT'},
                                                      self.claims())).status, 200)
        t = nested(self.keys, iss=ISS, aud=AUD)
        self.assertEqual(self.ng.get('/nested/x', t).status, 200)
        t = encrypted(self.keys, self.claims(), key=self.pbes2, p2c=1000)
        self.assertEqual(self.ng.get('/pbes2/x', t).status, 200)

    # ---- signatures ---------------------------------------------------------------

    def test_alg_none(self):
        for alg in ('none', 'None', 'NONE', 'nOnE'):
            h = b64(json.dumps({'alg': alg, 'typ': 'at+jwt'}))
            t = '%s.%s.' % (h, b64(json.dumps(self.claims())))
            self.refused('/signed/x', t)
            self.refused('/hs/x', t)
        # alg none inside an authentic JWE
        inner = '%s.%s.' % (b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'})),
                            b64(json.dumps(self.claims())))
        t = encrypted(self.keys, inner, header={'cty': 'JWT'})
        self.refused('/nested/x', t)
        self.refused('/encrypted/x', t)

    def test_algorithm_confusion(self):
        # HS256 keyed with what an attacker can read: the public key's JWK text
        pub = json.dumps(self.keys.jwk('issuer.pub')).encode()
        for secret in (pub, json.dumps(self.keys.jwk('issuer.pub'), sort_keys=True).encode()):
            t = self.hs({'alg': 'HS256', 'typ': 'at+jwt'}, self.claims(), secret)
            self.refused('/signed/x', t)
        # an ES256 header on an HS256 MAC, and the other way round
        t = self.hs({'alg': 'ES256', 'typ': 'JWT'}, self.claims())
        self.refused('/hs/x', t)
        es = signed(self.keys, iss=ISS, aud=AUD)
        h, p, s = es.split('.')
        self.refused('/hs/x', '%s.%s.%s' % (b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'})),
                                            p, s))

    def test_psychic_and_wrong_length_signatures(self):
        h, p, s = signed(self.keys, iss=ISS, aud=AUD).split('.')
        raw = unb64(s)
        for sig in (b'\0' * 64, b'\0' * 32 + b'\1' + b'\0' * 31, raw[:-1], raw + b'\0', b'',
                    raw[:32], b'\xff' * 64, raw * 2):
            self.refused('/signed/x', '%s.%s.%s' % (h, p, b64(sig)))
        h, p, s = self.hs({'alg': 'HS256', 'typ': 'JWT'}, self.claims()).split('.')
        mac = unb64(s)
        for sig in (mac[:16], mac[:31], mac + b'\0', b''):
            self.refused('/hs/x', '%s.%s.%s' % (h, p, b64(sig)))

    def test_headers(self):
        bad_headers = [
            {'alg': 'HS256', 'typ': 'JWT', 'crit': ['exp'], 'exp': 1},
            {'alg': 'HS256', 'typ': 'JWT', 'crit': []},
            {'alg': 'HS256', 'typ': 'JWT', 'crit': 'b64'},
            {'alg': 'HS256', 'typ': 'JWT', 'b64': False, 'crit': ['b64']},
            {'alg': 'HS256', 'typ': 'JWT', 'kid': '../../../../etc/passwd'},
            {'alg': 'HS256', 'typ': 'JWT', 'jku': 'http://127.0.0.1:1/keys'},
            {'alg': 'HS256', 'typ': 'JWT', 'jwk': self.keys.jwk('hmac')},
            {'alg': 'HS256', 'typ': 7},
            {'alg': ['HS256'], 'typ': 'JWT'},
            {'typ': 'JWT'},
            [],
            'HS256',
        ]
        for h in bad_headers:
            r = self.ng.get('/hs/x', self.hs(h, self.claims()))
            # "jwk"/"jku"/"kid" are ignored (the key comes from the key file):
            # the MAC is right, so those pass; everything else is refused
            if isinstance(h, dict) and set(h) - {'alg', 'typ'} <= {'kid', 'jku', 'jwk'} \
                    and h.get('alg') == 'HS256' and h.get('typ') == 'JWT':
                self.assertIn(r.status, (200, 401), r)
            else:
                self.assertIn(r.status, (400, 401), (h, r))
        for text in ('{"alg":"HS256","typ":"JWT","alg":"none"}',
                     '{"alg":"HS256","typ":"JWT","typ":"at+jwt"}',
                     '{"alg":"HS256","typ":"JWT"', '{"alg":"HS256","typ":"JWT"}}',
                     '\xef\xbb\xbf{"alg":"HS256","typ":"JWT"}', '{"alg":"HS\\u0000256"}',
                     '{"alg":"HS256","typ":"JWT","x":"\xff\xfe"}', 'null', '', ' '):
            self.refused('/hs/x', self.hs(text.encode('latin-1'), json.dumps(self.claims())))

    def test_claims(self):
        now = int(time.time())
        c = json.dumps(self.claims())
        bad = [
            c.replace('"sub"', '"exp":1,"sub"'),   # duplicate exp
            c[:-1],
            '[]', '"x"', 'null', '', '\xff',
            json.dumps(self.claims(exp=str(now + 600))),
            json.dumps(self.claims(exp=1e300)),
            json.dumps(self.claims(exp=2 ** 70)),
            json.dumps(self.claims(exp=-1)),
            json.dumps(self.claims(nbf=now + 3600)),
            json.dumps(self.claims(aud={'a': 1})),
            json.dumps(self.claims(aud=[])),
            json.dumps(self.claims(iss=None)),
            json.dumps(self.claims(iss=ISS + '\u0000')),
            '{"a":' * 5000 + '1' + '}' * 5000,
            json.dumps(self.claims(deep='[' * 3000 + ']' * 3000)).replace('"[', '[').replace(
                ']"', ']'),
        ]
        for text in bad:
            self.refused('/hs/x', self.hs({'alg': 'HS256', 'typ': 'JWT'},
                                          text.encode('latin-1', 'replace')))

    # ---- encryption --------------------------------------------------------------

    def test_tampered_jwe(self):
        t = nested(self.keys, iss=ISS, aud=AUD)
        parts = t.split('.')
        for i in range(5):
            for mutate in (lambda s: s[:-2] + ('A' if s[-2] != 'A' else 'B') + s[-1],
                           lambda s: '', lambda s: s + 'AAAA', lambda s: s[:len(s) // 2]):
                if not parts[i]:
                    continue
                q = list(parts)
                q[i] = mutate(q[i])
                self.refused('/nested/x', '.'.join(q))
        # every prefix length class of the token
        for n in range(1, len(t), max(1, len(t) // 40)):
            self.refused('/nested/x', t[:n])

    def test_invalid_curve_points(self):
        t = nested(self.keys, iss=ISS, aud=AUD)
        parts = t.split('.')
        header = json.loads(unb64(parts[0]))
        for x, y in ((b'\0' * 32, b'\0' * 32), (b'\1' * 32, b'\2' * 32), (b'\xff' * 32,) * 2,
                     (b'\0' * 48, b'\0' * 48), (b'', b'')):
            h = dict(header, epk=dict(header['epk'], x=b64(x), y=b64(y)))
            self.refused('/nested/x', '.'.join([b64(json.dumps(h))] + parts[1:]))
        for epk in ({'kty': 'OKP', 'crv': 'X25519', 'x': b64(b'\0' * 32)},
                    {'kty': 'EC', 'crv': 'P-384', 'x': b64(b'\1' * 48), 'y': b64(b'\1' * 48)},
                    {'kty': 'oct', 'k': 'AAAA'}, 'x', None):
            h = dict(header, epk=epk)
            self.refused('/nested/x', '.'.join([b64(json.dumps(h))] + parts[1:]))

    def test_huge_p2c(self):
        t = encrypted(self.keys, self.claims(), key=self.pbes2, p2c=1000)
        parts = t.split('.')
        header = json.loads(unb64(parts[0]))
        for p2c in (2 ** 31 - 1, 10 ** 9, 2 ** 63, -1, 0, '1000', 1.5):
            h = dict(header, p2c=p2c)
            started = time.time()
            self.refused('/pbes2/x', '.'.join([b64(json.dumps(h))] + parts[1:]))
            self.assertLess(time.time() - started, 2.0, p2c)

    def test_zip_bomb(self):
        # 4 MiB of zeros deflate to a few KiB
        bomb = json.dumps(self.claims(pad='0' * (4 << 20)))
        t = encrypted(self.keys, bomb, zip=True)
        self.assertLess(len(t), 8000)
        started = time.time()
        r = self.refused('/encrypted/x', t)
        self.assertLess(time.time() - started, 2.0)
        self.assertEqual(r.status, 401)
        # the same bomb inside a nested token's JWE
        t = encrypted(self.keys, bomb, zip=True, header={'cty': 'JWT'})
        self.refused('/nested/x', t)

    # ---- transport-level garbage ----------------------------------------------------

    def test_malformed_tokens(self):
        corpus = ['x', '.', '..', '....', '.....', 'a.b.c', 'a.b.c.d.e', 'a.b.c.d', 'a..c',
                  '..c', '=', 'a.b.c=', '.' * 5000, 'A' * 7000, 'eyJ' * 2000,
                  '%s.%s.%s' % (b64('{"alg":"HS256"}'), 'A' * 3000, 'A' * 3000),
                  b64('[' * 5000) + '.e30.', b64('{"a":' * 2000 + '1' + '}' * 2000) + '.e30.x',
                  '~~~.+++./', '-_-_.-_-_.-_-_']
        for t in corpus:
            for path in ('/signed/x', '/hs/x', '/nested/x', '/encrypted/x', '/pbes2/x'):
                self.refused(path, t)
        for value in ('Bearer a b', 'Bearer \x01', 'Bearer ' + 'A' * 10 + '\t',
                      'Bearer' + '\x7f', 'Bearer ' + '=' * 100 + 'a'):
            r = self.ng.get('/signed/x', headers={'Authorization': value})
            self.assertIn(r.status, (400, 401), r)

    def test_random_tokens(self):
        rng = random.Random(20261128)
        alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
        good = [nested(self.keys, iss=ISS, aud=AUD),
                self.hs({'alg': 'HS256', 'typ': 'JWT'}, self.claims())]
        for i in range(300):
            if i % 2:
                t = ''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 3000)))
            else:
                # a valid token with a few bytes changed
                t = list(rng.choice(good))
                for _ in range(rng.randint(1, 4)):
                    t[rng.randrange(len(t))] = rng.choice(alphabet)
                t = ''.join(t)
                if t in good:
                    continue
            self.refused(rng.choice(('/hs/x', '/nested/x', '/encrypted/x')), t)

    def test_huge_headers(self):
        port = self.ng.port
        for value in (b'Bearer ' + b'A' * (1 << 20), b'Bearer ' + b'A.' * (1 << 19)):
            status = raw_request(port, b'GET /signed/x HTTP/1.1\r\nHost: x\r\nAuthorization: '
                                 + value + b'\r\n\r\n')
            self.assertIn(status, (400, 0), status)
        many = b''.join(b'Authorization: Bearer a.b.c\r\n' for _ in range(1000))
        status = raw_request(port, b'GET /signed/x HTTP/1.1\r\nHost: x\r\n' + many + b'\r\n')
        self.assertIn(status, (400, 401), status)
        # a token just under nginx's header line limit reaches the module
        t = 'A' * 8000
        self.refused('/signed/x', t)

    def test_no_memory_growth(self):
        # a leak per request shows as growth of the workers' memory (plain
        # build only: ASan's quarantine holds freed memory on purpose)
        if sanitizer_runtime():
            self.skipTest('sanitizer build')
        good = nested(self.keys, iss=ISS, aud=AUD, claims={'pad': 'x' * 500})
        hs = self.hs({'alg': 'HS256', 'typ': 'JWT'}, self.claims(pad='y' * 500))
        bad = [good[:-3] + 'AAA', 'a.b.c', hs[:-2] + 'AA', good.replace('.', '..', 1)]

        def burst(n):
            for i in range(n):
                self.ng.get('/nested/x', good if i % 3 == 0 else bad[i % len(bad)])
                self.ng.get('/hs/x', hs if i % 2 else bad[i % len(bad)],
                            headers={'X-Pad': 'z' * (i % 1000)})

        def rss():
            total = 0
            for pid in self.ng.worker_pids():
                with open('/proc/%d/status' % pid) as f:
                    for line in f:
                        if line.startswith('VmRSS:'):
                            total += int(line.split()[1])
            return total

        burst(1500)
        before = rss()
        burst(3000)
        grown = rss() - before
        # 6000 requests: even 200 bytes lost per request would be 1.2 MB
        self.assertLess(grown, 1024, 'workers grew by %d kB' % grown)

    def test_still_serving(self):
        # after everything above (in whatever order), valid tokens still pass
        t = nested(self.keys, iss=ISS, aud=AUD)
        self.assertEqual(self.ng.get('/nested/x', t).status, 200)
        self.assertEqual(self.ng.crashes(), [])


if __name__ == '__main__':
    unittest.main(verbosity=2)

"""ngx_http_jwtgate_module without jwtgated: key files and the directives
that check tokens, the variables, forwarded claims, and every RFC 6750
answer, against a real nginx."""
import json
import os
import subprocess
import time
import unittest

from jgtest import NginxTest, b64, cli, encrypted, nested, signed

ISS = 'https://issuer.example'
AUD = 'https://api.example'


class Standalone(NginxTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        k = cls.keys
        pub = k.jwks_file('issuer-pub', 'issuer', 'rsa', public=True)
        hmac = k.jwks_file('hmac', 'hmac')
        gw = k.jwks_file('gateway', 'gateway')
        gw2 = k.jwks_file('gateway2', 'gateway2')
        http = '''
    map $jwt_claim_tier $is_gold { gold 1; default 0; }
    jwtgate_claim_set $org_name org name;
    jwtgate_header_set $hdr_kid kid;
'''
        common = '''jwtgate_issuer %s; jwtgate_audience %s;''' % (ISS, AUD)
        server = '''
        jwtgate api;
        jwtgate_key_file %(pub)s;
        jwtgate_type signed;
        jwtgate_algorithms ES256;
        %(common)s

        location /signed/ {
            jwtgate_forward_claim X-Sub sub;
            jwtgate_forward_claim X-Scope scope;
            jwtgate_forward_claim X-Org org name;
            proxy_pass http://echo;
        }
        location /strip/ {
            jwtgate_forward_claim X-Sub sub;
            jwtgate_strip_authorization on;
            proxy_pass http://echo;
        }
        location /rs/ {
            jwtgate_algorithms RS256;
            proxy_pass http://echo;
        }
        location /hs/ {
            jwtgate_key_file %(hmac)s;
            jwtgate_algorithms HS256;
            jwtgate_typ JWT;
            proxy_pass http://echo;
        }
        location /nested/ {
            jwtgate_key_file %(gw)s;
            jwtgate_key_file %(pub)s;
            jwtgate_type nested;
            jwtgate_algorithms ES256 ECDH-ES+A256KW A256GCM;
            proxy_pass http://echo;
        }
        location /nested2/ {
            jwtgate_key_file %(gw2)s;
            jwtgate_key_file %(pub)s;
            jwtgate_type nested;
            jwtgate_algorithms ES256 ECDH-ES+A256KW A256GCM;
            proxy_pass http://echo;
        }
        location /encrypted/ {
            jwtgate_key_file %(gw)s;
            jwtgate_type encrypted;
            jwtgate_algorithms ECDH-ES+A256KW A256GCM;
            proxy_pass http://echo;
        }
        location /scope/ {
            jwtgate_scope orders:read orders:write;
            proxy_pass http://echo;
        }
        location /require/ {
            jwtgate_require $jwt_claim_admin;
            proxy_pass http://echo;
        }
        location /require403/ {
            jwtgate_require $is_gold error=403;
            proxy_pass http://echo;
        }
        location /leeway/ {
            jwtgate_leeway 60s;
            proxy_pass http://echo;
        }
        location /cookie/ {
            jwtgate api token=$cookie_at;
            proxy_pass http://echo;
        }
        location /vars/ {
            add_header X-Claim-Sub $jwt_claim_sub always;
            add_header X-Claim-Aud $jwt_claim_aud always;
            add_header X-Claim-Num $jwt_claim_num always;
            add_header X-Claim-Obj $jwt_claim_org always;
            add_header X-Header-Alg $jwt_header_alg always;
            add_header X-Header-Typ $jwt_header_typ always;
            add_header X-Payload $jwt_payload always;
            add_header X-Org-Name $org_name always;
            add_header X-Kid $hdr_kid always;
            add_header X-Cache $jwtgate_cache_status always;
            add_header X-Refusal $jwtgate_refusal always;
            add_header X-Error $jwtgate_error always;
            proxy_pass http://echo;
        }
        location /cached/ {
            jwtgate_cache zone=std:1m max_ttl=1s;
            add_header X-Cache $jwtgate_cache_status always;
            proxy_pass http://echo;
        }
        location /cached-long/ {
            jwtgate_cache zone=std;
            add_header X-Cache $jwtgate_cache_status always;
            proxy_pass http://echo;
        }
        location /cached-other/ {
            jwtgate_cache zone=other:1m;
            add_header X-Cache $jwtgate_cache_status always;
            proxy_pass http://echo;
        }
        location /cached-aud/ {
            jwtgate_audience https://other.example;
            jwtgate_cache zone=std;
            add_header X-Cache $jwtgate_cache_status always;
            proxy_pass http://echo;
        }
        location /open/ {
            jwtgate off;
            proxy_pass http://echo;
        }
''' % {'pub': pub, 'hmac': hmac, 'gw': gw, 'gw2': gw2, 'common': common}
        cls.ng = cls.nginx('std', server, http)

    def tok(self, **kw):
        kw.setdefault('iss', ISS)
        kw.setdefault('aud', AUD)
        kw.setdefault('sub', 'alice')
        return signed(self.keys, **kw)

    # ---- signed tokens ------------------------------------------------------

    def test_signed_token_passes_and_claims_are_forwarded(self):
        t = self.tok(claims={'scope': 'orders:read', 'org': {'name': 'Acme\nCorp'}})
        r = self.ng.get('/signed/x', t)
        self.assertEqual(r.status, 200, r)
        e = r.echoed()
        self.assertEqual(e['x-sub'], 'alice')
        self.assertEqual(e['x-scope'], 'orders:read')
        # a control character in a claim cannot split the header line
        self.assertEqual(e['x-org'], 'Acme Corp')
        self.assertEqual(e['authorization'], 'Bearer ' + t)

    def test_forwarded_headers_replace_what_the_client_sent(self):
        t = self.tok(sub='bob')
        r = self.ng.get('/signed/x', t, headers={'X-Sub': 'admin', 'X-Org': 'forged'})
        self.assertEqual(r.status, 200, r)
        e = r.echoed()
        self.assertEqual(e['x-sub'], 'bob')
        self.assertEqual(e['x-org'], '')  # no such claim: removed, not passed on
        # control characters of a top-level claim as well
        r = self.ng.get('/signed/x', self.tok(sub='bo\r\nX-Evil: 1'))
        self.assertEqual(r.echoed()['x-sub'], 'bo  X-Evil: 1')
        self.assertNotIn('x-evil', r.echoed())

    def test_authorization_removed(self):
        r = self.ng.get('/strip/x', self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.echoed()['authorization'], '')
        self.assertEqual(r.echoed()['x-sub'], 'alice')

    def test_wrong_signature_key(self):
        r = self.ng.get('/signed/x', self.tok(key='stranger'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is invalid')

    def test_tampered_payload(self):
        h, p, s = self.tok().split('.')
        p2 = b64(b'{"iss":"%s","aud":"%s","sub":"root","exp":9999999999}' %
                 (ISS.encode(), AUD.encode()))
        r = self.ng.get('/signed/x', '.'.join((h, p2, s)))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is invalid')

    def test_algorithms_allow_list(self):
        rs = self.tok(key='rsa')
        # ES256 only here, although the key file holds the RSA key
        self.assertChallenge(self.ng.get('/signed/x', rs), 401, 'invalid_token')
        self.assertEqual(self.ng.get('/rs/x', rs).status, 200)
        self.assertChallenge(self.ng.get('/rs/x', self.tok()), 401, 'invalid_token')

    def test_hs256_and_typ(self):
        t = self.tok(key='hmac', typ=None)  # "typ" JWT
        self.assertEqual(self.ng.get('/hs/x', t).status, 200)
        # the default "typ" is at+jwt (RFC 9068): a plain JWT is refused there
        self.assertChallenge(self.ng.get('/signed/x', self.tok(typ='JWT')), 401,
                             'invalid_token',
                             'the token is not an access token of the expected type')

    def test_issuer(self):
        r = self.ng.get('/signed/x', self.tok(iss='https://evil.example'))
        self.assertChallenge(r, 401, 'invalid_token', 'the access token is from another issuer')

    def test_audience(self):
        r = self.ng.get('/signed/x', self.tok(aud='https://other.example'))
        self.assertChallenge(r, 401, 'invalid_token',
                             'the access token is not meant for this resource')
        r = self.ng.get('/signed/x', self.tok(aud=['https://other.example', AUD]))
        self.assertEqual(r.status, 200, r)

    def test_expiry_and_leeway(self):
        now = int(time.time())
        t = self.tok(exp='@%d' % (now - 30))
        self.assertChallenge(self.ng.get('/signed/x', t), 401, 'invalid_token',
                             'the access token expired')
        self.assertEqual(self.ng.get('/leeway/x', t).status, 200)
        old = self.tok(exp='@%d' % (now - 120))
        self.assertChallenge(self.ng.get('/leeway/x', old), 401, 'invalid_token',
                             'the access token expired')
        later = self.tok(nbf='@%d' % (now + 30))
        self.assertChallenge(self.ng.get('/signed/x', later), 401, 'invalid_token',
                             'the access token is not valid yet')
        self.assertEqual(self.ng.get('/leeway/x', later).status, 200)

    def test_missing_exp(self):
        t = self.tok(no_exp=True)
        self.assertChallenge(self.ng.get('/signed/x', t), 401, 'invalid_token',
                             'the access token lacks a required claim')

    # ---- encrypted and nested tokens ----------------------------------------

    def test_nested(self):
        t = nested(self.keys, iss=ISS, aud=AUD, sub='carol', claims={'scope': 'a b'})
        r = self.ng.get('/nested/x', t)
        self.assertEqual(r.status, 200, r)
        # a nested token where a signed one is required, and vice versa
        self.assertChallenge(self.ng.get('/signed/x', t), 401, 'invalid_token')
        self.assertChallenge(self.ng.get('/nested/x', self.tok()), 401, 'invalid_token',
                             'the access token is not of the expected type')
        # encrypted to another gateway
        self.assertChallenge(self.ng.get('/nested2/x', t), 401, 'invalid_token')
        # signed by an issuer nobody trusts
        t = nested(self.keys, sign='stranger', iss=ISS, aud=AUD, sub='carol')
        self.assertChallenge(self.ng.get('/nested/x', t), 401, 'invalid_token')

    def test_encrypted_claims(self):
        now = int(time.time())
        t = encrypted(self.keys, {'iss': ISS, 'aud': AUD, 'sub': 'dave', 'exp': now + 600})
        self.assertEqual(self.ng.get('/encrypted/x', t).status, 200)
        t = encrypted(self.keys, {'iss': ISS, 'aud': AUD, 'sub': 'dave', 'exp': now - 600})
        self.assertChallenge(self.ng.get('/encrypted/x', t), 401, 'invalid_token',
                             'the access token expired')
        # a JWE without the access token "typ"
        t = encrypted(self.keys, {'iss': ISS, 'aud': AUD, 'exp': now + 600}, header={})
        self.assertChallenge(self.ng.get('/encrypted/x', t), 401, 'invalid_token')
        # a signed token where an encrypted one is required
        self.assertChallenge(self.ng.get('/encrypted/x', self.tok()), 401, 'invalid_token',
                             'the access token is not of the expected type')

    # ---- scope and jwtgate_require ---------------------------------------------

    def test_scope(self):
        ok = self.tok(claims={'scope': 'orders:write profile orders:read'})
        self.assertEqual(self.ng.get('/scope/x', ok).status, 200)
        for scope in ('orders:read', 'orders:readx orders:write', ''):
            r = self.ng.get('/scope/x', self.tok(claims={'scope': scope}))
            self.assertChallenge(r, 403, 'insufficient_scope', None,
                                 scope='orders:read orders:write')
        r = self.ng.get('/scope/x', self.tok())
        self.assertChallenge(r, 403, 'insufficient_scope',
                             'the access token lacks a scope this resource requires',
                             scope='orders:read orders:write')

    def test_require(self):
        self.assertEqual(self.ng.get('/require/x', self.tok(claims={'admin': True})).status, 200)
        for c in ({}, {'admin': 0}, {'admin': ''}):
            r = self.ng.get('/require/x', self.tok(claims=c))
            self.assertChallenge(r, 401, 'invalid_token',
                                 'the access token does not meet a requirement of this resource')
        self.assertEqual(self.ng.get('/require403/x', self.tok(claims={'tier': 'gold'})).status,
                         200)
        r = self.ng.get('/require403/x', self.tok(claims={'tier': 'silver'}))
        self.assertEqual(r.status, 403, r)

    # ---- variables ------------------------------------------------------------

    def test_variables(self):
        t = self.tok(sub='erin', aud=[AUD, 'https://b.example'],
                     claims={'num': 42, 'org': {'name': 'Acme', 'id': 7}})
        r = self.ng.get('/vars/x', t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('X-Claim-Sub'), 'erin')
        self.assertEqual(r.header('X-Claim-Aud'), AUD + ',https://b.example')
        self.assertEqual(r.header('X-Claim-Num'), '42')
        self.assertEqual(r.header('X-Claim-Obj'), '{"name":"Acme","id":7}'
                         if r.header('X-Claim-Obj').startswith('{"name"')
                         else '{"id":7,"name":"Acme"}')
        self.assertEqual(r.header('X-Header-Alg'), 'ES256')
        self.assertEqual(r.header('X-Header-Typ'), 'at+jwt')
        self.assertIn('"sub":"erin"', r.header('X-Payload'))
        self.assertEqual(r.header('X-Org-Name'), 'Acme')
        self.assertEqual(r.header('X-Kid'), self.keys.jwk('issuer')['kid'])
        self.assertEqual(r.header('X-Cache'), 'BYPASS')
        # never filled from a token that failed
        r = self.ng.get('/vars/x', self.tok(key='stranger', sub='mallory'))
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.header('X-Claim-Sub'))
        self.assertIsNone(r.header('X-Payload'))

    # ---- the cache ------------------------------------------------------------

    def test_refusal_variables(self):
        # $jwtgate_refusal and $jwtgate_error, for access logs: the reason the error log
        # names and the RFC 6750 error code; empty when the request passes
        r = self.ng.get('/vars/x', self.tok(iss='https://evil.example'))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header('X-Error'), 'invalid_token')
        reason = r.header('X-Refusal')
        self.assertTrue(reason, r)
        self.assertIn('jwtgate: 401: ' + reason, self.ng.logs())
        r = self.ng.get('/vars/x')
        self.assertEqual((r.status, r.header('X-Error')), (401, None))  # no token: no code
        self.assertTrue(r.header('X-Refusal'))
        r = self.ng.get('/vars/x', self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header('X-Refusal'))
        self.assertIsNone(r.header('X-Error'))

    def test_cache_max_ttl(self):
        t = self.tok(jti='ttl-1')
        self.assertEqual(self.ng.get('/cached/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached/x', t).header('X-Cache'), 'HIT')
        time.sleep(2.1)
        self.assertEqual(self.ng.get('/cached/x', t).header('X-Cache'), 'MISS')

    def test_cache_entry_ends_at_exp(self):
        t = self.tok(exp='@%d' % (int(time.time()) + 2), jti='exp-1')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'HIT')
        time.sleep(3.1)
        r = self.ng.get('/cached-long/x', t)
        self.assertChallenge(r, 401, 'invalid_token', 'the access token expired')

    def test_cache_takes_only_the_same_token(self):
        # a worker keeps its recent tokens by their last bytes: a token of the same length
        # and the same last bytes, another byte changed (the payload's), is not taken for
        # the one it resembles
        t = self.tok(jti='same-1')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'HIT')
        head, payload, sig = t.split('.')
        i = len(payload) // 2
        forged = '.'.join((head, payload[:i] + ('A' if payload[i] != 'A' else 'B')
                           + payload[i + 1:], sig))
        self.assertEqual(len(forged), len(t))
        r = self.ng.get('/cached-long/x', forged)
        self.assertChallenge(r, 401, 'invalid_token')
        self.assertEqual(r.header('X-Cache'), 'MISS')
        # and the token itself still is
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'HIT')

    def test_cache_zones_are_apart(self):
        # the same rules in another zone: a worker's recent token of one zone is no hit in
        # another (each zone is its own cache)
        t = self.tok(jti='zones-1')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached-other/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached-other/x', t).header('X-Cache'), 'HIT')

    def test_cache_keys_on_the_rules(self):
        # locations with the same rules share entries ...
        t = self.tok(jti='rules-1')
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached/x', t).header('X-Cache'), 'HIT')
        # ... a location with other rules checks the token under its own
        r = self.ng.get('/cached-aud/x', t)
        self.assertEqual((r.status, r.header('X-Cache')), (401, 'MISS'))
        t = self.tok(aud='https://other.example', jti='rules-2')
        self.assertEqual(self.ng.get('/cached-aud/x', t).header('X-Cache'), 'MISS')
        self.assertEqual(self.ng.get('/cached-aud/x', t).header('X-Cache'), 'HIT')
        self.assertEqual(self.ng.get('/cached-long/x', t).status, 401)

    # ---- token sources and RFC 6750 forms ------------------------------------------

    def test_token_from_variable(self):
        t = self.tok()
        self.assertEqual(self.ng.get('/cookie/x', headers={'Cookie': 'at=' + t}).status, 200)
        # the Authorization header is not read there
        self.assertChallenge(self.ng.get('/cookie/x', t), 401)
        self.assertChallenge(self.ng.get('/cookie/x', headers={'Cookie': 'at=x.y.z'}), 401,
                             'invalid_token')

    def test_no_token_has_no_error_code(self):
        self.assertChallenge(self.ng.get('/signed/x'), 401)
        # another scheme is no bearer token either (RFC 6750 section 3.1)
        self.assertChallenge(self.ng.get('/signed/x', headers={'Authorization': 'Basic YTpi'}),
                             401)

    def test_malformed_authorization_is_invalid_request(self):
        for value in ('Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer =abc',
                      'Bearer abc=def'):
            r = self.ng.get('/signed/x', headers={'Authorization': value})
            self.assertChallenge(r, 400, 'invalid_request',
                                 'the Authorization header is not a bearer token')

    def test_any_other_byte_anywhere_is_invalid_request(self):
        # the b64token check goes eight bytes a step: a byte outside the set is found in
        # the first step, in a later one and in the tail after the last step, on a
        # location with the cache and one without (a cached token with one byte changed
        # is refused the same way)
        t = self.tok(jti='b64token-1')
        self.assertEqual(self.ng.get('/cached-long/x', t).status, 200)
        self.assertEqual(self.ng.get('/cached-long/x', t).header('X-Cache'), 'HIT')
        for where in (1, 20, len(t) - 3, len(t)):
            for ch in ' !"#$%&\'()*,:;<>?@[\\]^`{|}\t\x7f\x80\xe9\xff':
                if where == len(t) and ch in ' \t':
                    continue  # nginx trims a header value's trailing white space
                bad = t[:where] + ch + t[where:]
                for path in ('/signed/x', '/cached-long/x'):
                    r = self.ng.get(path, bad)
                    self.assertChallenge(r, 400, 'invalid_request',
                                         'the Authorization header is not a bearer token')
                    # refused before the cache is of any concern: no cache status
                    self.assertIsNone(r.header('X-Cache'), r)
        # "=" only at the end, where the check lets it through to the library
        self.assertChallenge(self.ng.get('/signed/x', t + '=='), 401, 'invalid_token')
        self.assertChallenge(self.ng.get('/signed/x', t[:9] + '=' + t[9:]), 400,
                             'invalid_request')
        # every character of the set, in each position of a step
        self.assertEqual(self.ng.get('/signed/x', t).status, 200)

    def test_case_insensitive_scheme(self):
        t = self.tok()
        r = self.ng.get('/signed/x', headers={'Authorization': 'bearer ' + t})
        self.assertEqual(r.status, 200, r)

    def test_off(self):
        self.assertEqual(self.ng.get('/open/x').status, 200)

    def test_reasons_in_the_error_log(self):
        # a verified token that a rule refuses: its jti is logged
        t = self.tok(jti='log-jti-1', claims={'scope': 'S3CR3T'})
        self.assertEqual(self.ng.get('/scope/x', t).status, 403)
        self.assertTrue(self.ng.wait_log('jti "log-jti-1"'), self.ng.logs()[-2000:])
        line = [s for s in self.ng.logs().splitlines() if 'log-jti-1' in s][0]
        self.assertIn('403: a scope of jwtgate_scope is missing', line)
        # a token that fails verification: the reason, and not even its jti
        t = self.tok(jti='log-jti-2', iss='https://evil.example')
        self.assertEqual(self.ng.get('/signed/x', t).status, 401)
        self.assertTrue(self.ng.wait_log('ISSUER'), self.ng.logs()[-2000:])
        logs = self.ng.logs()
        self.assertNotIn('log-jti-2', logs)
        self.assertNotIn('S3CR3T', logs)
        self.assertNotIn(t.split('.')[1], logs)


def weak_rsa_jwk(kid):
    """A 1024-bit RSA public JWK (made with openssl: jwtgate refuses to make one)."""
    pem = subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
                          'rsa_keygen_bits:1024'], capture_output=True, check=True).stdout
    mod = subprocess.run(['openssl', 'rsa', '-noout', '-modulus'], input=pem,
                         capture_output=True, check=True).stdout.decode()
    n = bytes.fromhex(mod.strip().split('=', 1)[1])
    return {'kty': 'RSA', 'kid': kid, 'n': b64(n), 'e': 'AQAB'}


class KeySets(NginxTest):
    """A key file with a key the library refuses by policy (a 1024-bit RSA key) keeps its
    good keys, and says at load which key it skipped and why (issue 13 item 8); the
    verification keys of one location may not mix secrets and public keys (item 12)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        k = cls.keys
        cls.weak_set = os.path.join(k.dir, 'weak-and-good.jwks')
        with open(cls.weak_set, 'w') as f:
            json.dump({'keys': [weak_rsa_jwk('old-1024'), k.jwk('issuer.pub')]}, f)
        cls.ng = cls.nginx('weak', """
        location / {
            jwtgate api;
            jwtgate_key_file %s;
            jwtgate_algorithms ES256;
            jwtgate_issuer %s;
            jwtgate_audience %s;
            proxy_pass http://echo;
        }""" % (cls.weak_set, ISS, AUD))

    def test_weak_key_skipped_good_key_verifies(self):
        logs = self.ng.logs()
        self.assertIn('[warn]', logs)
        self.assertIn('jwtgate: key file "%s": key 0 (kid "old-1024") skipped: key is too weak'
                      % self.weak_set, logs)
        t = signed(self.keys, iss=ISS, aud=AUD, sub='alice')
        self.assertEqual(self.ng.get('/x', t).status, 200)

    def config(self, server):
        from jgtest import Nginx
        return Nginx('KeySets-check', server).test_config()

    def test_every_key_skipped_is_an_error(self):
        only_weak = os.path.join(self.keys.dir, 'only-weak.jwks')
        with open(only_weak, 'w') as f:
            json.dump({'keys': [weak_rsa_jwk('w1')]}, f)
        ok, out = self.config('location / { jwtgate api; jwtgate_key_file %s; '
                              'jwtgate_algorithms RS256; }' % only_weak)
        self.assertFalse(ok)
        self.assertIn('key is too weak', out)
        self.assertIn('1 key skipped: kid "w1"', out)

    def test_mixed_verification_keys_refused(self):
        k = self.keys
        ok, out = self.config('location / { jwtgate api; jwtgate_key_file %s; '
                              'jwtgate_key_file %s; jwtgate_algorithms ES256 HS256; }'
                              % (k.path('hmac'), k.path('issuer.pub')))
        self.assertFalse(ok)
        self.assertIn('mix 1 symmetric secret(s) with 1 public key(s)', out)
        # A decryption secret (its "alg" says so) next to the issuer's key is not a
        # verification key: accepted.
        a256kw = os.path.join(k.dir, 'a256kw.jwk')
        with open(a256kw, 'w') as f:
            f.write(cli('key', 'generate', '--alg', 'A256KW'))
        ok, out = self.config('location / { jwtgate api; jwtgate_key_file %s; '
                              'jwtgate_key_file %s; jwtgate_type nested; '
                              'jwtgate_algorithms ES256 A256KW A256GCM; }'
                              % (a256kw, k.path('issuer.pub')))
        self.assertTrue(ok, out)


class ConfigErrors(NginxTest):
    """Directives that nginx -t must refuse, with the reason."""

    def check(self, server, why, http=''):
        from jgtest import Nginx
        ng = Nginx('ConfigErrors-check', server, http)
        ok, out = ng.test_config()
        self.assertFalse(ok, server)
        self.assertIn(why, out)

    def test_refused(self):
        k = self.keys
        pub = k.jwks_file('pub', 'issuer', public=True)
        base = 'location / { jwtgate api; jwtgate_key_file %s; %%s proxy_pass http://echo; }' % pub
        for directive, why in (
                ('jwtgate_algorithms none;', 'unknown algorithm "none"'),
                ('jwtgate_algorithms ES256 XX256;', 'unknown algorithm "XX256"'),
                ('jwtgate_type jwe;', 'signed, encrypted or nested'),
                ('jwtgate_require $http_x error=500;', 'error=401 or error=403'),
                ('jwtgate_require error=401;', 'needs a value'),
                ('jwtgate_require literal;', 'does not start with a variable'),
                ('jwtgate_forward_claim Host sub;', 'cannot carry a claim'),
                ('jwtgate_forward_claim "X Sub" sub;', 'invalid header name'),
                ('jwtgate_cache zone=;', 'invalid zone name'),
                ('jwtgate_cache zone=z:1k;', 'invalid zone size'),
                ('jwtgate_cache zone=z:1m max_ttl=0;', 'invalid max_ttl'),
                ('jwtgate_cache zone=z:1m size=1;', 'invalid parameter'),
                ('jwtgate_snapshot /nonexistent/snapshot.json;',
                 'cannot load the jwtgate snapshot'),
                ('jwtgate_snapshot %s;' % pub, 'cannot load the jwtgate snapshot'),
                ('jwtgate_snapshot /x interval=1ms;', 'invalid interval'),
                ('jwtgate_key_file /nonexistent.jwks;', 'failed'),
                ('jwtgate_key_file /dev/null;', 'empty, unreadable'),
        ):
            self.check(base % directive, why)
        self.check('location / { jwtgate api token=cookie; }', 'invalid parameter')
        self.check('location / { jwtgate api; jwtgate api; }', 'is duplicate')
        self.check('', 'invalid variable name', http='jwtgate_claim_set sub sub;')


if __name__ == '__main__':
    unittest.main(verbosity=2)

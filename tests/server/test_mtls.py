"""mTLS at the token endpoint (RFC 8705, issue 17) and DPoP-Nonce (RFC 9449 section 8).

jwtgated sits behind a TLS-terminating proxy that forwards the client certificate in a
header; here the test is the proxy (the peer 127.0.0.1 is a --trusted-proxy). The
certificates are made by the test with openssl: a test CA, two client certificates it
issued, a self-signed one. Checked: tls_client_auth by each registered field (subject DN,
SAN dNSName, URI, iPAddress, rfc822Name), right and wrong; self_signed_tls_client_auth by
the registered key, right and wrong; both header forms (RFC 9440 and nginx's
$ssl_client_escaped_cert); the header from an untrusted peer ignored (and counted);
garbage and huge headers refused without a crash; cnf x5t#S256 equal to the
certificate's SHA-256 (through introspection); token_binding mtls_required; a DPoP proof
and a certificate together; the metadata; the admin API's checks; and --dpop-nonce:
use_dpop_nonce with a DPoP-Nonce header, the retry with it, a nonce of another node of a
PostgreSQL cluster."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import time
import unittest
import uuid

from jwcrypto import jwk, jws

from jgtest import Certs, Server, World, config
from jgtest import http as jhttp
from jgtest.jwtgated import ON_POSTGRES


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def proof(key, htu, nonce=None):
    claims = {'jti': uuid.uuid4().hex, 'htm': 'POST', 'htu': htu, 'iat': int(time.time())}
    if nonce is not None:
        claims['nonce'] = nonce
    tok = jws.JWS(json.dumps(claims).encode())
    tok.add_signature(key, alg='ES256', protected=json.dumps(
        {'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': key.export_public(as_dict=True)}))
    return tok.serialize(compact=True)


class Base(unittest.TestCase):
    extra = ('--trusted-proxy', '127.0.0.1/32')

    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()
        cls.srv = Server(*cls.extra)
        cls.w = World(cls.srv)
        cls.tid = cls.w.tenants['a']
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.close()
        finally:
            cls.certs.close()

    def app(self, expect=201, **body):
        """A new application of tenant a, subscribed (approved) to tenant a's API."""
        type(self).n += 1
        body.setdefault('name', 'app-%d' % self.n)
        st, app = self.srv.admin('POST', '/tenants/%s/apps' % self.tid, body, expect=expect)
        if expect != 201:
            return app
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % self.tid, {
            'app_id': app['id'], 'api_id': self.w.apis['a']['id'],
            'scopes': ['orders:read']}, expect=201)
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (self.tid, sub['id']),
                       {'reason': 'test'}, expect=200)
        return app

    def post(self, path, fields, cert=None, auth=None, headers=None, source=None):
        h = {'Content-Type': 'application/x-www-form-urlencoded'}
        if auth is not None:
            h['Authorization'] = jhttp.basic(*auth)
        if cert is not None:
            h['Client-Cert'] = cert
        h.update(headers or {})
        conn = None
        if source is not None:
            conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=30,
                                              source_address=(source, 0))
        try:
            return jhttp.request(self.srv.port, path, headers=h, method='POST',
                                 body=jhttp.form(fields), conn=conn)
        finally:
            if conn is not None:
                conn.close()

    def token(self, client_id, cert=None, **kw):
        return self.post('/oauth2/token', {'grant_type': 'client_credentials',
                                           'client_id': client_id}, cert=cert, **kw)

    def introspect(self, token, client_id, cert):
        r = self.post('/oauth2/introspect', {'token': token, 'client_id': client_id},
                      cert=cert)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertClientRefused(self, r, why=None):
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_client'), r)
        if why:
            self.assertIn(why, r.json()['error_description'])

    def metric(self, name):
        for ln in self.srv.request('GET', '/metrics').body.decode().splitlines():
            if ln.startswith(name + ' '):
                return int(ln.split()[1])
        return None


class TlsClientAuth(Base):
    FIELDS = {
        'tls_client_auth_subject_dn': ('CN=client-one,O=Example,C=DE',
                                       'CN=client-two,O=Example,C=DE'),
        'tls_client_auth_san_dns': ('ONE.example.com', 'two.example.com'),
        'tls_client_auth_san_uri': ('spiffe://example.com/one', 'spiffe://example.com/two'),
        'tls_client_auth_san_ip': ('10.1.2.3', '10.9.9.9'),
        'tls_client_auth_san_email': ('one@example.com', 'two@example.com'),
    }

    def test_each_registered_field_authenticates_its_certificate_only(self):
        for field, (right, wrong) in self.FIELDS.items():
            with self.subTest(field=field):
                app = self.app(auth_method='tls_client_auth', **{field: right})
                self.assertEqual(app['tls_client_auth'], {field: right})
                self.assertNotIn('client_secret', app)
                cid = app['client_id']
                for form in (self.certs.rfc9440('one'), self.certs.escaped('one')):
                    r = self.token(cid, form)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json()['token_type'], 'Bearer')
                    info = self.introspect(r.json()['access_token'], cid, form)
                    self.assertTrue(info['active'])
                    self.assertEqual(info['cnf'], {'x5t#S256': self.certs.x5t('one')})
                self.assertClientRefused(self.token(cid, self.certs.rfc9440('two')))
                self.assertClientRefused(self.token(cid, self.certs.rfc9440('self')))
                other = self.app(auth_method='tls_client_auth', **{field: wrong})
                self.assertClientRefused(self.token(other['client_id'],
                                                    self.certs.rfc9440('one')))
        log = self.srv.read_log()
        self.assertIn('certificate refused: not the registered tls_client_auth_san_dns', log)
        self.assertNotIn(self.certs.rfc9440('one')[1:40], log)  # never the certificate

    def test_the_subject_dn_is_compared_normalised(self):
        app = self.app(auth_method='tls_client_auth',
                       tls_client_auth_subject_dn=' cn = client-one , o=Example,C=DE ')
        self.assertEqual(self.token(app['client_id'], self.certs.rfc9440('one')).status, 200)
        for near in ('CN=client-one,O=Example', 'CN=Client-One,O=Example,C=DE',
                     'C=DE,O=Example,CN=client-one'):
            app = self.app(auth_method='tls_client_auth', tls_client_auth_subject_dn=near)
            self.assertClientRefused(self.token(app['client_id'], self.certs.rfc9440('one')))

    def test_without_a_certificate_the_client_is_not_authenticated(self):
        app = self.app(auth_method='tls_client_auth',
                       tls_client_auth_san_dns='one.example.com')
        r = self.token(app['client_id'])
        self.assertEqual((r.status, r.json()['error']), (401, 'invalid_client'))

    def test_a_header_from_an_untrusted_peer_is_ignored_and_counted(self):
        app = self.app(auth_method='tls_client_auth',
                       tls_client_auth_san_dns='one.example.com')
        before = self.metric('jwtgated_client_cert_ignored_total')
        r = self.token(app['client_id'], self.certs.rfc9440('one'), source='127.0.0.2')
        self.assertEqual((r.status, r.json()['error']), (401, 'invalid_client'), r)
        self.assertEqual(self.metric('jwtgated_client_cert_ignored_total'), before + 1)

    def test_garbage_and_huge_headers_are_refused(self):
        der = self.certs.der('one')
        bad = [':not base64:', 'garbage', ':%s:' % base64.b64encode(der[:200]).decode(),
               ':%s:' % base64.b64encode(der + b'\0').decode(),
               ':%s:' % base64.urlsafe_b64encode(der).decode().replace('=', ''),
               '-----BEGIN%20CERTIFICATE-----%0Aabc%0A-----END%20CERTIFICATE-----',
               '-----BEGIN%20CERTIFICATE-----%00', '::', ':', ':' + 'A' * 20000 + ':']
        for value in bad:
            with self.subTest(value=value[:40]):
                # a new client each: failures are throttled per client like any other
                app = self.app(auth_method='tls_client_auth',
                               tls_client_auth_san_dns='one.example.com')
                self.assertClientRefused(self.token(app['client_id'], value), 'malformed')
        time.sleep(0.3)
        self.assertEqual(self.token(app['client_id'], self.certs.rfc9440('one')).status, 200)

    def test_certificate_authentication_always_binds(self):
        cert = self.certs.rfc9440('one')
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com',
                       token_binding='none')
        r = self.token(app['client_id'], cert)
        self.assertEqual(self.introspect(r.json()['access_token'], app['client_id'], cert)['cnf'],
                         {'x5t#S256': self.certs.x5t('one')})
        # with a DPoP proof (dpop_optional): bound to both
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com')
        key = jwk.JWK.generate(kty='EC', crv='P-256')
        r = self.token(app['client_id'], cert,
                       headers={'DPoP': proof(key, self.srv.token_endpoint)})
        self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'), r)
        cnf = self.introspect(r.json()['access_token'], app['client_id'], cert)['cnf']
        self.assertEqual(set(cnf), {'jkt', 'x5t#S256'})

    def test_a_repeated_header_is_refused(self):
        # a proxy that appends rather than replaces would let the client's header come first
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com')
        body = jhttp.form({'grant_type': 'client_credentials', 'client_id': app['client_id']})
        cert = self.certs.rfc9440('one')
        raw = ('POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
               'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n'
               'Client-Cert: %s\r\nClient-Cert: %s\r\n\r\n%s'
               % (len(body), cert, cert, body)).encode()
        answer = jhttp.raw_exchange(self.srv.port, raw)
        self.assertTrue(answer.startswith(b'HTTP/1.1 400'), answer[:200])
        self.assertIn(b'malformed', answer)

    def test_the_admin_cli_registers_and_changes_the_name(self):
        env = dict(os.environ, JWTGATE_ADMIN_URL=self.srv.issuer,
                   JWTGATE_ADMIN_TOKEN=self.srv.admin_token)

        def cli(*args):
            out = subprocess.run([config.JWTGATE_CLI, 'admin', '--json'] + list(args),
                                 capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(out.returncode, 0, out.stderr)
            return json.loads(out.stdout)
        app = cli('app', 'create', self.tid, 'by-cli', '--auth-method', 'tls_client_auth',
                  '--tls-san-uri', 'spiffe://example.com/two', '--token-binding', 'mtls_required')
        self.assertEqual(app['tls_client_auth'],
                         {'tls_client_auth_san_uri': 'spiffe://example.com/two'})
        self.assertEqual(app['token_binding'], 'mtls_required')
        app = cli('app', 'set-tls-name', self.tid, app['id'], '--tls-san-ip', '10.1.2.3')
        self.assertEqual(app['tls_client_auth'], {'tls_client_auth_san_ip': '10.1.2.3'})
        self.assertEqual(cli('app', 'set-binding', self.tid, app['id'], '--token-binding',
                             'dpop_optional')['token_binding'], 'dpop_optional')

    def test_a_secret_with_a_certificate_is_secret_authentication(self):
        self.w.subscribe('a', 'a', ['orders:read'])
        cid, secret = self.w.client('a')
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'},
                      cert=self.certs.rfc9440('one'), auth=(cid, secret))
        self.assertEqual(r.status, 200, r)
        info = self.srv.post_form('/oauth2/introspect', {'token': r.json()['access_token']},
                                  auth=(cid, secret)).json()
        self.assertNotIn('cnf', info)  # dpop_optional: a certificate alone binds nothing
        # and a tls_client_auth client cannot use a secret it does not have
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com')
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'},
                      auth=(app['client_id'], 'jgs_guess'))
        self.assertEqual((r.status, r.json()['error']), (401, 'invalid_client'))


class SelfSigned(Base):
    def test_the_registered_key_authenticates_and_binds(self):
        app = self.app(auth_method='self_signed_tls_client_auth',
                       jwks={'keys': [self.certs.public_jwk('self')]})
        cid = app['client_id']
        r = self.token(cid, self.certs.escaped('self'))
        self.assertEqual(r.status, 200, r)
        info = self.introspect(r.json()['access_token'], cid, self.certs.rfc9440('self'))
        self.assertEqual(info['cnf'], {'x5t#S256': self.certs.x5t('self')})
        self.assertClientRefused(self.token(cid, self.certs.rfc9440('one')))

    def test_another_key_is_refused(self):
        app = self.app(auth_method='self_signed_tls_client_auth',
                       jwks={'keys': [self.certs.public_jwk('two')]})
        self.assertClientRefused(self.token(app['client_id'], self.certs.rfc9440('self')))
        # the CA-issued certificate of that key does authenticate: the key is what counts
        self.assertEqual(self.token(app['client_id'], self.certs.rfc9440('two')).status, 200)

    def test_a_client_assertion_is_not_accepted_for_it(self):
        app = self.app(auth_method='self_signed_tls_client_auth',
                       jwks={'keys': [self.certs.public_jwk('self')]})
        r = self.post('/oauth2/token', {
            'grant_type': 'client_credentials', 'client_id': app['client_id'],
            'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            'client_assertion': 'a.b.c'})
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_client'))


class Admin(Base):
    def test_registration_is_checked(self):
        self.app(expect=422, auth_method='tls_client_auth')
        self.app(expect=422, auth_method='tls_client_auth',
                 tls_client_auth_san_dns='a.example', tls_client_auth_san_uri='urn:x')
        self.app(expect=422, auth_method='tls_client_auth', tls_client_auth_san_ip='10.1.2')
        self.app(expect=422, auth_method='tls_client_auth', tls_client_auth_san_dns='')
        self.app(expect=422, auth_method='client_secret', tls_client_auth_san_dns='a.example')
        self.app(expect=422, auth_method='self_signed_tls_client_auth')
        self.app(expect=422, auth_method='tls_client_auth', tls_client_auth_san_dns='a.example',
                 jwks={'keys': [self.certs.public_jwk('self')]})
        self.app(expect=422, auth_method='mtls')

    def test_changes_are_audited_and_secrets_are_refused(self):
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='two.example.com')
        path = '/tenants/%s/apps/%s' % (self.tid, app['id'])
        self.assertClientRefused(self.token(app['client_id'], self.certs.rfc9440('one')))
        _, after = self.srv.admin('PATCH', path, {'tls_client_auth_san_dns': 'one.example.com'},
                                  expect=200)
        self.assertEqual(after['tls_client_auth'], {'tls_client_auth_san_dns': 'one.example.com'})
        time.sleep(0.3)  # past the throttle of the failure above
        self.assertEqual(self.token(app['client_id'], self.certs.rfc9440('one')).status, 200)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit' % self.tid, expect=200)
        rows = audit if isinstance(audit, list) else audit.get('items', audit.get('entries'))
        self.assertTrue([e for e in rows if e.get('action') == 'app.update'
                         and e.get('target') == app['id']], rows)
        self.srv.admin('POST', path + '/secrets', {}, expect=409)
        self.srv.admin('PATCH', path, {'jwks': {'keys': [self.certs.public_jwk('self')]}},
                       expect=422)
        other = self.app()
        self.srv.admin('PATCH', '/tenants/%s/apps/%s' % (self.tid, other['id']),
                       {'tls_client_auth_san_dns': 'x.example'}, expect=422)

    def test_the_metadata_says_so(self):
        meta = self.srv.request('GET', '/.well-known/oauth-authorization-server').json()
        self.assertIs(meta['tls_client_certificate_bound_access_tokens'], True)
        for m in ('tls_client_auth', 'self_signed_tls_client_auth'):
            self.assertIn(m, meta['token_endpoint_auth_methods_supported'])
        self.assertNotIn('mtls_endpoint_aliases', meta)
        # the introspection and revocation endpoints authenticate the same way
        for m in ('introspection', 'revocation'):
            self.assertIn('tls_client_auth', meta[m + '_endpoint_auth_methods_supported'])


class MtlsRequired(Base):
    def test_no_token_without_a_certificate(self):
        app = self.app(token_binding='mtls_required')
        cid, secret = app['client_id'], app['client_secret']
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, auth=(cid, secret))
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_request'), r)
        self.assertIn('certificate-bound', r.json()['error_description'])
        # from an untrusted peer the header does not count
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, auth=(cid, secret),
                      cert=self.certs.rfc9440('one'), source='127.0.0.2')
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_request'), r)
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, auth=(cid, secret),
                      cert='garbage')
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_request'), r)
        self.assertIn('malformed', r.json()['error_description'])
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, auth=(cid, secret),
                      cert=self.certs.rfc9440('two'))
        self.assertEqual((r.status, r.json()['token_type']), (200, 'Bearer'), r)
        info = self.srv.post_form('/oauth2/introspect', {'token': r.json()['access_token']},
                                  auth=(cid, secret)).json()
        self.assertEqual(info['cnf'], {'x5t#S256': self.certs.x5t('two')})

    def test_a_proof_and_a_certificate_bind_to_both(self):
        app = self.app(token_binding='mtls_required')
        cid, secret = app['client_id'], app['client_secret']
        key = jwk.JWK.generate(kty='EC', crv='P-256')
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, auth=(cid, secret),
                      cert=self.certs.rfc9440('one'),
                      headers={'DPoP': proof(key, self.srv.token_endpoint)})
        self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'), r)
        info = self.srv.post_form('/oauth2/introspect', {'token': r.json()['access_token']},
                                  auth=(cid, secret)).json()
        self.assertEqual(set(info['cnf']), {'jkt', 'x5t#S256'})
        self.assertEqual(info['cnf']['x5t#S256'], self.certs.x5t('one'))
        self.assertEqual(info['token_type'], 'DPoP')


class CustomHeader(Base):
    extra = ('--trusted-proxy', '127.0.0.1/32', '--client-cert-header', 'X-Client-Cert')

    def test_the_configured_header_is_read(self):
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com')
        r = self.token(app['client_id'], headers={'X-Client-Cert': self.certs.escaped('one')})
        self.assertEqual(r.status, 200, r)
        r = self.token(app['client_id'], self.certs.rfc9440('one'))  # Client-Cert: not read
        self.assertEqual(r.status, 401, r)


class ConfigFile(Base):
    """client-cert-header and dpop-nonce as configuration file keys."""

    @classmethod
    def setUpClass(cls):
        cls.conf = os.path.join(config.scratch('mtls-conf-'), 'jwtgated.conf')
        with open(cls.conf, 'w') as f:
            f.write('trusted-proxy = 127.0.0.1/32\nclient-cert-header = "X-SSL-Cert"\n'
                    'dpop-nonce = true\n')
        cls.extra = ('--config', cls.conf)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            os.unlink(cls.conf)
            os.rmdir(os.path.dirname(cls.conf))

    def test_the_keys_are_read(self):
        app = self.app(auth_method='tls_client_auth', tls_client_auth_san_dns='one.example.com')
        r = self.token(app['client_id'], headers={'X-SSL-Cert': self.certs.escaped('one')})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('DPoP-Nonce'))


class Nonce(Base):
    extra = ('--dpop-nonce',)

    def request(self, srv, dpop):
        return srv.post_form('/oauth2/token', {'grant_type': 'client_credentials'},
                             auth=self.w.client('a'), headers={'DPoP': dpop})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.w.subscribe('a', 'a', ['orders:read'])
        cls.key = jwk.JWK.generate(kty='EC', crv='P-256')

    def test_a_proof_without_the_nonce_gets_one_and_the_retry_works(self):
        htu = self.srv.token_endpoint
        if int(time.time()) % 120 > 115:
            time.sleep(6)  # not across a slot's end: the nonce is compared below
        r = self.request(self.srv, proof(self.key, htu))
        self.assertEqual((r.status, r.json()['error']), (400, 'use_dpop_nonce'), r)
        nonce = r.header('DPoP-Nonce')
        self.assertRegex(nonce or '', r'^[A-Za-z0-9_-]{43}$')
        r = self.request(self.srv, proof(self.key, htu, nonce))
        self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'), r)
        self.assertEqual(r.header('DPoP-Nonce'), nonce)  # same slot: the same nonce
        r = self.request(self.srv, proof(self.key, htu, b64u(os.urandom(32))))
        self.assertEqual((r.status, r.json()['error']), (400, 'use_dpop_nonce'), r)
        self.assertIn('stale', r.json()['error_description'])
        self.assertIn('reason="use_dpop_nonce"',
                      self.srv.request('GET', '/metrics').body.decode())

    def nonce(self, back=0):
        """The nonce as docs/jwtgated.md defines it: base64url(HMAC-SHA-256(HKDF-SHA-256(
        master key, info "jwtgate dpop nonce"), the 120 s slot as 8 bytes big-endian))."""
        with open(self.srv.master) as f:
            text = f.read().strip()
        ikm = base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
        prk = hmac.new(b'\0' * 32, ikm, hashlib.sha256).digest()
        key = hmac.new(prk, b'jwtgate dpop nonce\x01', hashlib.sha256).digest()
        slot = int(time.time()) // 120 - back
        return b64u(hmac.new(key, slot.to_bytes(8, 'big'), hashlib.sha256).digest())

    def test_the_nonce_is_the_documented_one_and_lives_two_slots(self):
        htu = self.srv.token_endpoint
        if int(time.time()) % 120 > 115:
            time.sleep(6)  # not across a slot's end
        got = self.srv.token(*self.w.client('a')).header('DPoP-Nonce')
        self.assertEqual(got, self.nonce(0))
        r = self.request(self.srv, proof(self.key, htu, self.nonce(1)))
        self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'), r)
        for back in (2, -1):
            r = self.request(self.srv, proof(self.key, htu, self.nonce(back)))
            self.assertEqual((r.status, r.json()['error']), (400, 'use_dpop_nonce'), r)

    def test_a_bearer_request_needs_no_nonce_but_gets_one(self):
        r = self.srv.token(*self.w.client('a'))
        self.assertEqual((r.status, r.json()['token_type']), (200, 'Bearer'), r)
        self.assertTrue(r.header('DPoP-Nonce'))

    @unittest.skipUnless(ON_POSTGRES, 'several nodes share PostgreSQL only')
    def test_another_nodes_nonce_is_accepted(self):
        other = Server('--dpop-nonce', join=self.srv)
        try:
            nonce = self.request(self.srv, proof(self.key, self.srv.token_endpoint)) \
                .header('DPoP-Nonce')
            r = self.request(other, proof(self.key, other.token_endpoint, nonce))
            self.assertEqual((r.status, r.json()['token_type']), (200, 'DPoP'), r)
        finally:
            other.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)

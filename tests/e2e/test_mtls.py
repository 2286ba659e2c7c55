"""Certificate-bound tokens end to end (RFC 8705, issue 17): a real nginx terminates TLS
with client certificates (ssl_verify_client with the test CA, and optional_no_ca for
self-signed ones) and forwards the certificate to jwtgated as docs/jwtgated.md says
(proxy_set_header Client-Cert $ssl_client_escaped_cert); jwtgated trusts nginx
(--trusted-proxy 127.0.0.1/32). A client with a certificate (Python's ssl) gets a token
bound to it (cnf x5t#S256 = its SHA-256) by tls_client_auth, self_signed_tls_client_auth
and mtls_required; without a certificate, or with its own Client-Cert header, it gets
none. The bound token then passes ngx_http_jwtgate_module on a TLS server that verifies client
certificates only with the certificate it is bound to."""
import http.client
import ssl
import time
import unittest
import urllib.parse

import jgtest

TLS_SERVERS = r"""
    server {
        listen 127.0.0.1:%(port_ca)d ssl;
        ssl_certificate %(certs)s/server.pem;
        ssl_certificate_key %(certs)s/server.key;
        ssl_client_certificate %(certs)s/ca.pem;
        ssl_verify_client optional;
        location / {
            proxy_pass http://127.0.0.1:%(jwtgated)d;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Client-Cert $ssl_client_escaped_cert;
        }
    }
    server {
        listen 127.0.0.1:%(port_self)d ssl;
        ssl_certificate %(certs)s/server.pem;
        ssl_certificate_key %(certs)s/server.key;
        ssl_verify_client optional_no_ca;
        location / {
            proxy_pass http://127.0.0.1:%(jwtgated)d;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Client-Cert $ssl_client_escaped_cert;
        }
    }
"""


# The gateway: TLS with client certificates verified against the test CA, the module
# reading jwtgated's snapshot, an echo upstream of the same nginx.
GATEWAY_TLS = r"""
    listen 127.0.0.1:%(port_tls)d ssl;
    ssl_certificate %(certs)s/server.pem;
    ssl_certificate_key %(certs)s/server.key;
    ssl_client_certificate %(certs)s/ca.pem;
    ssl_verify_client optional;
    jwtgate_snapshot %(snapshot)s interval=100ms;
    jwtgate mtls;
    jwtgate_type nested;
    location / {
        add_header X-X5t $jwtgate_cnf_x5t always;
        proxy_pass http://echo;
    }
"""


class Mtls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = jgtest.Certs()
        cls.proxy = jgtest.Nginx('e2e-mtls', '', TLS_SERVERS, ports_named=('ca', 'self'),
                                 params={'certs': cls.certs.dir})
        cls.srv = jgtest.Server('--trusted-proxy', '127.0.0.1/32')
        try:
            cls.proxy.params['jwtgated'] = cls.srv.port
            cls.proxy.start()
            cls.w = jgtest.World(cls.srv)
            cls.tid = cls.w.tenants['a']
        except BaseException:  # tearDownClass does not run after a failed setUpClass
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.proxy.proc is not None:
                cls.proxy.stop()
            cls.srv.close()
        finally:
            cls.certs.close()

    def app(self, **body):
        srv, tid = self.srv, self.tid
        body.setdefault('name', 'app-' + body.get('auth_method', 'secret') +
                        body.get('token_binding', ''))
        _, a = srv.admin('POST', '/tenants/%s/apps' % tid, body, expect=201)
        _, s = srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': a['id'], 'api_id': self.w.apis['a']['id'], 'scopes': ['orders:read']},
            expect=201)
        srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tid, s['id']),
                  {'reason': 'test'}, expect=200)
        return a

    def post(self, path, fields, cert=None, port=None, auth=None, headers=None):
        """A POST through nginx over TLS, with the client certificate `cert` (a name of
        self.certs) or none."""
        ctx = ssl.create_default_context(cafile=self.certs.path('ca.pem'))
        if cert is not None:
            ctx.load_cert_chain(self.certs.path(cert + '.pem'), self.certs.path(cert + '.key'))
        conn = http.client.HTTPSConnection('127.0.0.1', port or self.proxy.port_ca,
                                           context=ctx, timeout=30)
        h = {'Content-Type': 'application/x-www-form-urlencoded'}
        if auth is not None:
            h['Authorization'] = jgtest.basic(*auth)
        h.update(headers or {})
        try:
            conn.request('POST', path, body=urllib.parse.urlencode(fields), headers=h)
            r = conn.getresponse()
            return jgtest.Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def cnf(self, token, auth):
        info = self.srv.post_form('/oauth2/introspect', {'token': token}, auth=auth).json()
        self.assertTrue(info['active'], info)
        return info.get('cnf')

    def test_tls_client_auth_through_nginx(self):
        app = self.app(auth_method='tls_client_auth',
                       tls_client_auth_subject_dn='CN=client-one,O=Example,C=DE')
        form = {'grant_type': 'client_credentials', 'client_id': app['client_id']}
        r = self.post('/oauth2/token', form, cert='one')
        self.assertEqual(r.status, 200, r)
        tok = r.json()['access_token']
        r2 = self.post('/oauth2/introspect', {'token': tok, 'client_id': app['client_id']},
                       cert='one')
        self.assertEqual(r2.json()['cnf'], {'x5t#S256': self.certs.x5t('one')})
        # another certificate of the same CA, none, or a header of the client's own
        self.assertEqual(self.post('/oauth2/token', form, cert='two').json()['error'],
                         'invalid_client')
        r = self.post('/oauth2/token', form)
        self.assertEqual((r.status, r.json()['error']), (401, 'invalid_client'), r)
        r = self.post('/oauth2/token', form, headers={'Client-Cert': self.certs.rfc9440('one')})
        self.assertEqual((r.status, r.json()['error']), (401, 'invalid_client'), r)
        # the CA-verifying server refuses a certificate it did not issue
        self.assertEqual(self.post('/oauth2/token', form, cert='self').status, 400)

    def test_self_signed_through_nginx(self):
        app = self.app(auth_method='self_signed_tls_client_auth',
                       jwks={'keys': [self.certs.public_jwk('self')]})
        form = {'grant_type': 'client_credentials', 'client_id': app['client_id']}
        r = self.post('/oauth2/token', form, cert='self', port=self.proxy.port_self)
        self.assertEqual(r.status, 200, r)
        r2 = self.post('/oauth2/introspect', {'token': r.json()['access_token'],
                                              'client_id': app['client_id']},
                       cert='self', port=self.proxy.port_self)
        self.assertEqual(r2.json()['cnf'], {'x5t#S256': self.certs.x5t('self')})
        r = self.post('/oauth2/token', form, cert='one', port=self.proxy.port_self)
        self.assertEqual(r.json()['error'], 'invalid_client', r)

    def test_mtls_required_with_a_secret(self):
        app = self.app(token_binding='mtls_required')
        auth = (app['client_id'], app['client_secret'])
        form = {'grant_type': 'client_credentials'}
        r = self.post('/oauth2/token', form, cert='two', auth=auth)
        self.assertEqual(r.status, 200, r)
        token = r.json()['access_token']
        self.assertEqual(self.cnf(token, auth), {'x5t#S256': self.certs.x5t('two')})
        r = self.post('/oauth2/token', form, auth=auth)
        self.assertEqual((r.status, r.json()['error']), (400, 'invalid_request'), r)

    # ---- the gateway checks the binding ---------------------------------------------------

    def test_gateway_checks_the_binding(self):
        # The bound token used through ngx_http_jwtgate_module on a TLS server that verifies
        # client certificates with the same CA (RFC 8705 section 3): the certificate it is
        # bound to -> 200, another one -> 401, none -> 401; an unbound token needs none.
        app = self.app(token_binding='mtls_required', name='gateway-bound')
        auth = (app['client_id'], app['client_secret'])
        r = self.post('/oauth2/token', {'grant_type': 'client_credentials'}, cert='two', auth=auth)
        self.assertEqual(r.status, 200, r)
        bound = r.json()['access_token']
        plain_app = self.app(name='gateway-plain')
        plain = self.srv.token(plain_app['client_id'], plain_app['client_secret']).json()[
            'access_token']
        gw = jgtest.Nginx('e2e-mtls-gateway', GATEWAY_TLS, '', ports_named=('tls',),
                          params={'certs': self.certs.dir, 'snapshot': self.srv.snapshot_path})
        gw.start()
        try:
            path = self.w.apis['a']['base_path'] + '/1'

            def get(token, cert=None):
                ctx = ssl.create_default_context(cafile=self.certs.path('ca.pem'))
                if cert is not None:
                    ctx.load_cert_chain(self.certs.path(cert + '.pem'),
                                        self.certs.path(cert + '.key'))
                conn = http.client.HTTPSConnection('127.0.0.1', gw.port_tls, context=ctx,
                                                   timeout=30)
                try:
                    conn.request('GET', path, headers={'Authorization': 'Bearer ' + token})
                    resp = conn.getresponse()
                    return jgtest.Response(resp.status, resp.getheaders(), resp.read())
                finally:
                    conn.close()
            # the snapshot with the new subscriptions reaches the gateway within its interval
            deadline = time.time() + 10
            while get(plain).status != 200 and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(get(plain).status, 200)      # unbound: no certificate needed
            r = get(bound, 'two')
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header('X-X5t'), self.certs.x5t('two'))
            for cert in ('one', None):
                r = get(bound, cert)
                self.assertEqual(r.status, 401, (cert, r))
                self.assertEqual(r.challenge().get('error'), 'invalid_token', r)
            # an API that requires bound tokens (require_binding, in the snapshot): mtls and
            # any refuse the unbound token and take the certificate-bound one; dpop refuses both
            api = self.w.apis['a']
            api_path = '/tenants/%s/apis/%s' % (self.tid, api['id'])
            try:
                for binding, plain_ok, bound_ok in (('mtls', False, True), ('any', False, True),
                                                    ('dpop', False, False)):
                    self.srv.admin('PATCH', api_path, {'require_binding': binding}, expect=200)

                    def seen():  # what the gateway does once the new snapshot is in
                        return ((get(plain, 'two').status == 200) == plain_ok and
                                (get(bound, 'two').status == 200) == bound_ok)
                    deadline = time.time() + 10
                    while not seen() and time.time() < deadline:
                        time.sleep(0.1)
                    self.assertEqual(get(plain, 'two').status, 401, binding)
                    self.assertEqual(get(bound, 'two').status == 200, bound_ok, binding)
            finally:
                self.srv.admin('PATCH', api_path, {'require_binding': 'none'}, expect=200)
        finally:
            gw.stop()
        problems = gw.crashes() + gw.alerts()
        self.assertEqual(problems, [])


if __name__ == '__main__':
    jgtest.main()

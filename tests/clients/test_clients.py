"""OAuth 2.0 clients nobody here wrote, against jwtgated as it is deployed:
behind a real nginx that terminates TLS (a test CA made with openssl) and
forwards the client address (jwtgated trusts it with --trusted-proxy).

Four independent libraries, each with its own defaults:
  panva's oauth4webapi and openid-client (npm; tests/clients/panva.mjs),
  Authlib (Debian python3-authlib) and requests-oauthlib over oauthlib
  (Debian python3-requests-oauthlib).
Each case is the library's own flow: discovery (RFC 8414, and the OpenID
location openid-client tries first), client credentials with
client_secret_basic, client_secret_post and private_key_jwt (and oauth4webapi's
tls_client_auth with a client certificate nginx verifies and forwards), scope and
resource, introspection, revocation, and the errors a wrong secret or an
unknown scope must produce. The server's own conformance rules are in
tests/server/test_trials.py; this suite shows that real clients agree.

Environment (CTest sets it; jgtest reads it): JWTGATED, JWTGATE_CLI,
JG_NGX_MODULE (the TLS proxy is jgtest's nginx, module loaded, unused
here), NODE (default node).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import jgtest

HERE = os.path.dirname(os.path.abspath(__file__))

NODE = os.environ.get('NODE', 'node')


def make_ca(dir):
    """A CA and a certificate for 127.0.0.1 signed by it (openssl CLI)."""
    def ossl(*args):
        subprocess.run(['openssl'] + list(args), check=True, capture_output=True, cwd=dir)
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=jwtgate test CA')
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    with open(os.path.join(dir, 'ext.cnf'), 'w') as f:
        f.write('subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
    ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
         '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf')
    # a client certificate for tls_client_auth (RFC 8705)
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=node-mtls')
    with open(os.path.join(dir, 'client.cnf'), 'w') as f:
        f.write('subjectAltName=DNS:node-mtls.example.com\nextendedKeyUsage=clientAuth\n')
    ossl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
         '-CAcreateserial', '-out', 'client.pem', '-days', '2', '-extfile', 'client.cnf')
    return os.path.join(dir, 'ca.pem')


#: nginx terminating TLS in front of jwtgated, as docs/jwtgated.md recommends
TLS_SERVER = r"""
    server {
        listen 127.0.0.1:%(port_tls)d ssl;
        ssl_certificate %(certs)s/server.pem;
        ssl_certificate_key %(certs)s/server.key;
        ssl_client_certificate %(certs)s/ca.pem;
        ssl_verify_client optional;
        location / {
            proxy_pass http://127.0.0.1:%(jwtgated)d;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header Client-Cert $ssl_client_escaped_cert;
        }
    }
"""


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='jwtgate-clients-')
        cls.ca = make_ca(cls.tmp)
        os.environ['REQUESTS_CA_BUNDLE'] = cls.ca  # what every requests-based client trusts
        cls.proxy = jgtest.Nginx('clients-tls', '', TLS_SERVER, ports_named=('tls',),
                                 params={'certs': cls.tmp})
        cls.issuer = 'https://127.0.0.1:%d' % cls.proxy.port_tls
        cls.srv = jgtest.Server('--issuer', cls.issuer, '--trusted-proxy', '127.0.0.1/32')
        cls.proxy.params['jwtgated'] = cls.srv.port
        cls.proxy.start()
        srv = cls.srv
        w = cls.w = jgtest.World(srv)
        w.subscribe('a', 'a', ['orders:read', 'orders:write'])
        cls.audience = w.apis['a']['audience']
        tid = w.tenants['a']

        def app(name, **body):
            body['name'] = name
            _, a = srv.admin('POST', '/tenants/%s/apps' % tid, body, expect=201)
            _, s = srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
                'app_id': a['id'], 'api_id': w.apis['a']['id'],
                'scopes': ['orders:read', 'orders:write']}, expect=201)
            srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tid, s['id']),
                      expect=200)
            return a
        from jwcrypto import jwk
        cls.key = jwk.JWK.generate(kty='EC', crv='P-256', kid='client-key-1')
        pk = app('pkjwt', auth_method='private_key_jwt',
                 jwks={'keys': [json.loads(cls.key.export_public())]})
        cls.clients = {}
        for name in ('node-basic', 'node-post', 'node-wrong', 'authlib', 'authlib-post',
                     'authlib-wrong', 'oauthlib', 'oauthlib-wrong'):
            a = app(name)
            cls.clients[name] = (a['client_id'], a['client_secret'])
        cls.pk_id = pk['client_id']
        cls.mtls_id = app('node-mtls', auth_method='tls_client_auth',
                          tls_client_auth_san_dns='node-mtls.example.com')['client_id']

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.srv.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- panva (npm) ---------------------------------------------------------------

    def test_panva_clients(self):
        cfg = {'issuer': self.issuer, 'audience': self.audience,
               'basic': dict(zip(('id', 'secret'), self.clients['node-basic'])),
               'post': dict(zip(('id', 'secret'), self.clients['node-post'])),
               'wrong': {'id': self.clients['node-wrong'][0]},
               'pkjwt': {'id': self.pk_id, 'jwk': json.loads(self.key.export_private())},
               'mtls': {'id': self.mtls_id, 'dir': self.tmp}}
        path = os.path.join(self.tmp, 'panva.json')
        with open(path, 'w') as f:
            json.dump(cfg, f)
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.ca)
        out = subprocess.run([NODE, os.path.join(HERE, 'panva.mjs'), path], capture_output=True,
                             text=True, timeout=120, env=env, cwd=HERE)
        self.assertEqual(out.returncode, 0, out.stderr)
        cases = json.loads(out.stdout)['cases']
        failed = [c for c in cases if not c['ok']]
        for c in cases:
            print('  %-14s %-55s %s' % (c['lib'], c['name'], 'ok' if c['ok'] else c['detail']),
                  file=sys.stderr)
        self.assertEqual(failed, [])
        self.assertEqual(len([c for c in cases if c['lib'] == 'oauth4webapi']), 13)
        self.assertEqual(len([c for c in cases if c['lib'] == 'openid-client']), 8)

    # ---- Authlib (Debian) ------------------------------------------------------------

    def authlib_session(self, name, method='client_secret_basic'):
        from authlib.integrations.requests_client import OAuth2Session
        cid, secret = self.clients[name]
        s = OAuth2Session(cid, secret, token_endpoint_auth_method=method)
        s.verify = self.ca
        return s

    def test_authlib(self):
        import requests
        from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
        from authlib.oauth2.rfc7523 import PrivateKeyJWT
        from authlib.integrations.requests_client import OAuth2Session
        from authlib.integrations.base_client.errors import OAuthError
        doc = requests.get(self.issuer + '/.well-known/oauth-authorization-server',
                           verify=self.ca).json()
        meta = AuthorizationServerMetadata(doc)
        meta.validate()  # refused "response_types_supported": [] before
        token_url = meta['token_endpoint']
        s = self.authlib_session('authlib')
        tok = s.fetch_token(token_url, grant_type='client_credentials', scope='orders:read')
        self.assertEqual(tok['token_type'], 'Bearer')
        self.assertEqual(tok['scope'], 'orders:read')
        r = s.introspect_token(meta['introspection_endpoint'], token=tok['access_token'])
        self.assertEqual(r.status_code, 200)
        self.assertIs(r.json()['active'], True)
        r = s.revoke_token(meta['revocation_endpoint'], token=tok['access_token'])
        self.assertEqual(r.status_code, 200)
        r = s.introspect_token(meta['introspection_endpoint'], token=tok['access_token'])
        self.assertIs(r.json()['active'], False)
        # client_secret_post
        tok = self.authlib_session('authlib-post', 'client_secret_post').fetch_token(
            token_url, grant_type='client_credentials')
        self.assertEqual(tok['scope'], 'orders:read orders:write')
        # private_key_jwt: Authlib signs one-hour assertions for the token endpoint.
        pk = OAuth2Session(self.pk_id, self.key.export_private(as_dict=True),
                           token_endpoint_auth_method=PrivateKeyJWT(token_url, alg='ES256'))
        pk.verify = self.ca
        tok = pk.fetch_token(token_url, grant_type='client_credentials',
                             resource=self.audience)
        self.assertEqual(tok['access_token'].count('.'), 4)
        # Errors come back as the library's OAuthError with the RFC 6749 code.
        with self.assertRaises(OAuthError) as cm:
            bad = OAuth2Session(self.clients['authlib-wrong'][0], 'jgs_wrong')
            bad.verify = self.ca
            bad.fetch_token(token_url, grant_type='client_credentials')
        self.assertEqual(cm.exception.error, 'invalid_client')
        with self.assertRaises(OAuthError) as cm:
            s.fetch_token(token_url, grant_type='client_credentials', scope='no:such')
        self.assertEqual(cm.exception.error, 'invalid_scope')

    # ---- requests-oauthlib over oauthlib (Debian) -----------------------------------------

    def test_requests_oauthlib(self):
        from oauthlib.oauth2 import BackendApplicationClient
        from oauthlib.oauth2.rfc6749.errors import InvalidClientError
        from requests_oauthlib import OAuth2Session
        from requests.auth import HTTPBasicAuth
        cid, secret = self.clients['oauthlib']
        token_url = self.issuer + '/oauth2/token'
        s = OAuth2Session(client=BackendApplicationClient(client_id=cid))
        tok = s.fetch_token(token_url, auth=HTTPBasicAuth(cid, secret), verify=self.ca)
        self.assertEqual(tok['token_type'], 'Bearer')
        self.assertGreater(tok['expires_in'], 0)
        # Its other way: the secret in the body (include_client_id).
        s = OAuth2Session(client=BackendApplicationClient(client_id=cid))
        tok = s.fetch_token(token_url, client_id=cid, client_secret=secret,
                            include_client_id=True, verify=self.ca, scope=['orders:write'])
        self.assertEqual(tok['scope'], ['orders:write'])
        wid = self.clients['oauthlib-wrong'][0]
        s = OAuth2Session(client=BackendApplicationClient(client_id=wid))
        with self.assertRaises(InvalidClientError):
            s.fetch_token(token_url, auth=HTTPBasicAuth(wid, 'jgs_wrong'), verify=self.ca)

    def test_proxy_forwarded_the_client(self):
        # jwtgated logged the address nginx forwarded, not nginx's own hop.
        self.assertIn('127.0.0.1 POST /oauth2/token', self.srv.read_log())
        # A client (not itself a trusted address) claiming another address:
        # nginx appends the real peer after the claim, and that is the key.
        r = subprocess.run(['curl', '-s', '--interface', '127.0.0.5', '--cacert', self.ca,
                            '-H', 'X-Forwarded-For: 6.6.6.6', self.issuer + '/healthz'],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, 'ok\n')
        log = self.srv.read_log()
        self.assertIn('127.0.0.5 GET /healthz', log)
        self.assertNotIn('6.6.6.6 GET /healthz', log)


if __name__ == '__main__':
    unittest.main(verbosity=2)

"""A test PKI made with the openssl CLI (RFC 8705 tests): a CA, a server certificate for
127.0.0.1, two client certificates the CA issued and a self-signed one, all EC P-256,
with the forms a proxy forwards them in."""
import base64
import hashlib
import os
import shutil
import subprocess
import urllib.parse

from . import config


def _openssl(*args, cwd):
    subprocess.run(['openssl'] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


class Certs:
    """Files in self.dir: ca.pem/.key, server.pem/.key (IP:127.0.0.1), one.pem/.key
    (C=DE, O=Example, CN=client-one; DNS one.example.com, URI spiffe://example.com/one,
    IP 10.1.2.3, email one@example.com), two.pem/.key (the same with "two", IP
    10.9.9.9), self.pem/.key (self-signed, CN=self-signed client). close() removes
    them."""

    def __init__(self):
        self.dir = config.scratch('certs-')
        d = self.dir
        _openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                 '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
                 '-subj', '/CN=jwtgate test CA', cwd=d)
        self.issue('server', '/CN=127.0.0.1', 'IP:127.0.0.1', 'serverAuth')
        self.issue('one', '/C=DE/O=Example/CN=client-one',
                   'DNS:one.example.com,URI:spiffe://example.com/one,IP:10.1.2.3,'
                   'email:one@example.com')
        self.issue('two', '/C=DE/O=Example/CN=client-two',
                   'DNS:two.example.com,URI:spiffe://example.com/two,IP:10.9.9.9,'
                   'email:two@example.com')
        _openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                 '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '2',
                 '-subj', '/CN=self-signed client', cwd=d)

    def issue(self, name, subject, san, usage='clientAuth'):
        d = self.dir
        _openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                 '-keyout', name + '.key', '-out', name + '.csr', '-subj', subject, cwd=d)
        with open(os.path.join(d, name + '.ext'), 'w') as f:
            f.write('subjectAltName=%s\nextendedKeyUsage=%s\n' % (san, usage))
        _openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
                 '-CAcreateserial', '-out', name + '.pem', '-days', '2', '-extfile',
                 name + '.ext', cwd=d)

    def path(self, name):
        return os.path.join(self.dir, name)

    def pem(self, name):
        with open(self.path(name + '.pem')) as f:
            return f.read()

    def der(self, name):
        return base64.b64decode(''.join(
            ln for ln in self.pem(name).splitlines() if not ln.startswith('-----')))

    def rfc9440(self, name):
        """The Client-Cert header of RFC 9440: ":" base64(DER) ":"."""
        return ':%s:' % base64.b64encode(self.der(name)).decode()

    def escaped(self, name):
        """nginx's $ssl_client_escaped_cert: the PEM, URL-encoded."""
        return urllib.parse.quote(self.pem(name), safe='')

    def x5t(self, name):
        """cnf "x5t#S256" (RFC 8705 section 3.1)."""
        return base64.urlsafe_b64encode(hashlib.sha256(self.der(name)).digest()) \
            .rstrip(b'=').decode()

    def public_jwk(self, name):
        """The public key as a JWK (dict), through jwcrypto."""
        from jwcrypto import jwk
        with open(self.path(name + '.key'), 'rb') as f:
            return jwk.JWK.from_pem(f.read()).export_public(as_dict=True)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

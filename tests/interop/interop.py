#!/usr/bin/python3
"""Interoperability of jwtgate with an independent JOSE implementation.

    interop.py --cli PATH/TO/jwtgate --peer jwcrypto|jose [--only jws,jwe,nested,encrypted,dpop]

Both directions for every algorithm the peer supports: we make (keys, JWS,
JWE, nested access tokens, DPoP proofs) and the peer checks; the peer makes and we check.
jwtgate is driven only through its command-line tool; the peer is
python3-jwcrypto (in process) or npm jose (peer_jose.mjs, one Node process
speaking JSON lines). A tampered token must be refused in both directions, so
a peer that accepted anything would fail the run. What a peer does not
support is listed by name at the end, never counted as passed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import jgtest
from jgtest import b64 as b64e
from jgtest import unb64 as b64d

HERE = os.path.dirname(os.path.abspath(__file__))

# (alg, curve) pairs for signatures. None: the alg implies the curve.
JWS_CASES = [
    ('HS256', None), ('HS384', None), ('HS512', None),
    ('RS256', None), ('RS384', None), ('RS512', None),
    ('PS256', None), ('PS384', None), ('PS512', None),
    ('ES256', None), ('ES384', None), ('ES512', None),
    ('EdDSA', 'Ed25519'), ('EdDSA', 'Ed448'), ('Ed25519', None), ('Ed448', None),
]
ENCS = ['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM', 'A192GCM', 'A256GCM']
CEK_BITS = {'A128CBC-HS256': 256, 'A192CBC-HS384': 384, 'A256CBC-HS512': 512,
            'A128GCM': 128, 'A192GCM': 192, 'A256GCM': 256}
ECDH_ALGS = ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW']
CURVES = ['P-256', 'P-384', 'P-521', 'X25519', 'X448']
JWE_ALGS = (['dir', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW',
             'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512',
             'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW'] +
            [(a, c) for a in ECDH_ALGS for c in CURVES])
NESTED_CASES = [  # (sign alg, sign crv, key alg, key crv, enc)
    ('ES256', None, 'ECDH-ES+A256KW', 'P-256', 'A256GCM'),
    ('ES256', None, 'ECDH-ES+A256KW', 'X25519', 'A256GCM'),
    ('EdDSA', 'Ed25519', 'RSA-OAEP-256', None, 'A256GCM'),
    ('RS256', None, 'ECDH-ES', 'P-384', 'A128CBC-HS256'),
    ('PS256', None, 'A256KW', None, 'A256CBC-HS512'),
    ('HS256', None, 'dir', None, 'A256GCM'),
]

ENCRYPTED_CASES = [  # claims directly in a JWE: (key alg, key crv, enc)
    ('dir', None, 'A256GCM'),
    ('A256KW', None, 'A128CBC-HS256'),
    ('ECDH-ES', 'P-256', 'A256GCM'),
    ('RSA-OAEP-256', None, 'A256GCM'),
]

# What each peer cannot do, by its own documentation and behaviour (named in
# the summary). Anything not listed here must work.
UNSUPPORTED = {
    'jwcrypto': {
        'Ed25519': 'jwcrypto 1.1 knows only the polymorphic "EdDSA" name',
        'Ed448': 'jwcrypto 1.1 knows only the polymorphic "EdDSA" name',
        'RSA-OAEP-384': 'not in jwcrypto 1.1',
        'RSA-OAEP-512': 'not in jwcrypto 1.1',
    },
    'jose': {
        'EdDSA/Ed448': 'jose 6 supports EdDSA only with Ed25519',
        'Ed448': 'not in jose 6',
        'RSA1_5': 'removed from jose',
        'X448': 'jose 6 supports ECDH-ES only with P-256/384/521 and X25519',
    },
}


def public_jwk(jwk):
    return {k: v for k, v in jwk.items() if k not in ('d', 'p', 'q', 'dp', 'dq', 'qi', 'oth')}


def tamper(token):
    """Flip one bit in the middle of the last part (signature / tag)."""
    if token.startswith('{'):
        doc = json.loads(token)
        holder = doc['signatures'][0] if 'signatures' in doc else doc
        field = 'signature' if 'signature' in holder else 'tag'
        if field == 'tag':
            holder = doc
        raw = bytearray(b64d(holder[field]))
        raw[len(raw) // 2] ^= 1
        holder[field] = b64e(bytes(raw))
        return json.dumps(doc)
    head, _, last = token.rpartition('.')
    raw = bytearray(b64d(last))
    raw[len(raw) // 2] ^= 1
    return head + '.' + b64e(bytes(raw))


class PeerError(Exception):
    pass


class JwcryptoPeer:
    name = 'jwcrypto'

    def __init__(self, _args):
        sys.path.insert(0, HERE)
        import peer_jwcrypto
        self.mod = peer_jwcrypto

    def call(self, op, **kw):
        try:
            return getattr(self.mod, op)(**kw)
        except Exception as e:  # the peer refused: report, the caller decides
            raise PeerError('%s: %s' % (type(e).__name__, e))

    def close(self):
        pass


class JosePeer:
    name = 'jose'

    def __init__(self, args):
        if not os.path.isdir(os.path.join(HERE, 'node_modules', 'jose')):
            sys.exit('npm jose is not installed in %s/node_modules (scripts/test installs it)'
                     % HERE)
        self.proc = subprocess.Popen([args.node, os.path.join(HERE, 'peer_jose.mjs')],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=HERE)

    def call(self, op, **kw):
        kw['op'] = op
        self.proc.stdin.write(json.dumps(kw) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('jose peer exited')
        reply = json.loads(line)
        if not reply.pop('ok'):
            raise PeerError(reply['error'])
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class Run:
    def __init__(self, args, peer):
        self.cli = args.cli
        self.peer = peer
        self.tmp = tempfile.mkdtemp(prefix='jg-interop-')
        self.passed = {}
        self.failures = []
        self.unsupported = []
        self.counter = 0

    # -- our side: the command-line tool --
    def jg(self, args, data=b'', expect=0):
        proc = subprocess.run([self.cli] + args, input=data, capture_output=True, timeout=120)
        if proc.returncode != expect:
            raise AssertionError('jwtgate %s: exit %d (expected %d): %s' % (
                ' '.join(args), proc.returncode, expect, proc.stderr.decode().strip()))
        return proc.stdout

    def keyfile(self, jwk):
        self.counter += 1
        path = os.path.join(self.tmp, 'key%d.json' % self.counter)
        with open(path, 'w') as f:
            json.dump(jwk, f)
        return path

    def our_key(self, alg, crv=None, bits=None):
        args = ['key', 'generate', '--alg', alg]
        if crv:
            args += ['--crv', crv]
        if bits:
            args += ['--bits', str(bits)]
        return json.loads(self.jg(args))

    def check(self, kind, label, fn):
        try:
            fn()
            self.passed[kind] = self.passed.get(kind, 0) + 1
        except (AssertionError, PeerError, subprocess.TimeoutExpired) as e:
            self.failures.append('%s %s: %s' % (kind, label, e))

    def skip_reason(self, *names):
        table = UNSUPPORTED[self.peer.name]
        for n in names:
            if n in table:
                return table[n]
        return None

    # -- JWS both ways --
    def jws(self):
        payload = 'It’s a dangerous business, Frodo, going out your door.'.encode()
        for alg, crv in JWS_CASES:
            label = alg + ('/' + crv if crv and alg == 'EdDSA' else '')
            reason = self.skip_reason(label, alg, crv or '')
            if reason:
                self.unsupported.append('JWS %s: %s' % (label, reason))
                continue
            ours = self.our_key(alg, crv)
            pub = ours if ours['kty'] == 'oct' else public_jwk(ours)
            ours_path = self.keyfile(ours)
            # The peer must accept our JWK (public part) ...
            for fmt in ('compact', 'flattened', 'general'):
                def we_sign(fmt=fmt):
                    token = self.jg(['jws', 'sign', '--key', ours_path, '--format', fmt],
                                    payload).decode().strip()
                    got = self.peer.call('verify', alg=alg, jwk=pub, token=token)
                    assert b64d(got['payload']) == payload, 'payload differs'
                    try:
                        self.peer.call('verify', alg=alg, jwk=pub, token=tamper(token))
                    except PeerError:
                        return
                    raise AssertionError('peer accepted a tampered token')
                self.check('jws ours->peer', '%s %s' % (label, fmt), we_sign)
            # ... and we must accept theirs.
            theirs = self.peer.call('gen_key', alg=alg if alg not in ('Ed25519', 'Ed448') else alg,
                                    crv=crv)['jwk']
            their_pub = theirs if theirs['kty'] == 'oct' else public_jwk(theirs)
            their_path = self.keyfile(their_pub)
            for fmt in ('compact', 'flattened', 'general'):
                def they_sign(fmt=fmt):
                    token = self.peer.call('sign', alg=alg, jwk=theirs, payload=b64e(payload),
                                           format=fmt)['token']
                    got = self.jg(['jws', 'verify', '--key', their_path, '--alg', alg],
                                  token.encode())
                    assert got == payload, 'payload differs'
                    self.jg(['jws', 'verify', '--key', their_path, '--alg', alg],
                            tamper(token).encode(), expect=1)
                self.check('jws peer->ours', '%s %s' % (label, fmt), they_sign)

            # Keys: the peer's private JWK imports here and its thumbprint matches.
            def key_import():
                tp = self.jg(['key', 'thumbprint'], json.dumps(theirs).encode()).decode().strip()
                assert tp == theirs['kid'], 'thumbprint %s != %s' % (tp, theirs['kid'])
                tp = self.jg(['key', 'thumbprint'], json.dumps(ours).encode()).decode().strip()
                assert tp == ours['kid'], 'our kid is not our thumbprint'
            self.check('jwk both ways', label, key_import)

    # -- JWE both ways --
    def jwe_key_pairs(self, alg, crv):
        """Our key and the peer's key for alg (dir keys depend on enc: made per enc)."""
        ours = self.our_key(alg, crv)
        theirs = self.peer.call('gen_key', alg=alg, crv=crv)['jwk']
        return ours, theirs

    def jwe(self):
        plaintext = 'You can trust us to stick with you through thick and thin.'.encode() * 3
        for entry in JWE_ALGS:
            alg, crv = entry if isinstance(entry, tuple) else (entry, None)
            label = alg + ('/' + crv if crv else '')
            reason = self.skip_reason(alg, crv or '', label)
            if reason:
                self.unsupported.append('JWE %s: %s' % (label, reason))
                continue
            keys = None if alg == 'dir' else self.jwe_key_pairs(alg, crv)
            for enc in ENCS:
                if alg == 'dir':
                    ours = self.our_key('dir', bits=CEK_BITS[enc])
                    theirs = json.loads(json.dumps(ours))  # a shared secret: one key
                else:
                    ours, theirs = keys
                formats = ['compact'] + (['flattened', 'general'] if enc == 'A256GCM' else [])
                for fmt in formats:
                    zips = (False, True) if enc in ('A256GCM', 'A128CBC-HS256') else (False,)
                    for zip_ in zips:
                        self.jwe_case(alg, label, enc, fmt, zip_, ours, theirs, plaintext)

    def jwe_case(self, alg, label, enc, fmt, zip_, ours, theirs, plaintext):
        name = '%s %s %s%s' % (label, enc, fmt, ' zip' if zip_ else '')
        aad = b'additional data' if fmt != 'compact' else None
        if alg != 'RSA1_5':  # we never encrypt with RSA1_5
            def we_encrypt():
                recipient = ours if ours['kty'] == 'oct' else public_jwk(ours)
                args = ['jwe', 'encrypt', '--key', self.keyfile(recipient), '--enc', enc,
                        '--format', fmt]
                if zip_:
                    args.append('--zip')
                if aad:
                    aad_path = os.path.join(self.tmp, 'aad')
                    with open(aad_path, 'wb') as f:
                        f.write(aad)
                    args += ['--aad', aad_path]
                token = self.jg(args, plaintext).decode().strip()
                got = self.peer.call('decrypt', alg=alg, enc=enc, jwk=ours, token=token)
                assert b64d(got['plaintext']) == plaintext, 'plaintext differs'
                try:
                    self.peer.call('decrypt', alg=alg, enc=enc, jwk=ours, token=tamper(token))
                except PeerError:
                    return
                raise AssertionError('peer accepted a tampered token')
            self.check('jwe ours->peer', name, we_encrypt)

        def they_encrypt():
            recipient = theirs if theirs['kty'] == 'oct' else public_jwk(theirs)
            token = self.peer.call('encrypt', alg=alg, enc=enc, jwk=recipient,
                                   plaintext=b64e(plaintext), format=fmt, zip=zip_,
                                   aad=b64e(aad) if aad else None)['token']
            their_path = self.keyfile(theirs)
            args = ['jwe', 'decrypt', '--key', their_path, '--alg', alg, '--enc', enc]
            got = self.jg(args, token.encode())
            assert got == plaintext, 'plaintext differs'
            self.jg(args, tamper(token).encode(), expect=1)
        self.check('jwe peer->ours', name, they_encrypt)

        if theirs['kty'] != 'oct' and fmt == 'compact' and not zip_ and enc == 'A256GCM':
            def they_encrypt_pem():
                # The peer names its key's kid; our PEM copy of that key has
                # none, and stands in for it (issue 13 item 1).
                recipient = public_jwk(theirs)
                token = self.peer.call('encrypt', alg=alg, enc=enc, jwk=recipient,
                                       plaintext=b64e(plaintext), format=fmt, zip=False,
                                       aad=None)['token']
                header = json.loads(b64d(token.split('.')[0]))
                assert header.get('kid') == theirs['kid'], 'the peer set no kid'
                pem = self.jg(['key', 'to-pem', '--private'], json.dumps(theirs).encode())
                pem_path = os.path.join(self.tmp, 'their%d.pem' % self.counter)
                with open(pem_path, 'wb') as f:
                    f.write(pem)
                got = self.jg(['jwe', 'decrypt', '--key', pem_path, '--alg', alg, '--enc', enc],
                              token.encode())
                assert got == plaintext, 'plaintext differs'
            self.check('jwe peer->ours (PEM key, token with kid)', name, they_encrypt_pem)

    # -- nested access tokens both ways --
    def nested(self):
        now = int(time.time())
        claims = {'iss': 'https://issuer.example', 'sub': 'client-7', 'aud': 'https://api.example',
                  'client_id': 'client-7', 'scope': 'orders:read orders:write', 'tenant': 'acme',
                  'iat': now, 'exp': now + 600, 'jti': 'f0e1d2c3'}
        for sign_alg, sign_crv, key_alg, key_crv, enc in NESTED_CASES:
            label = '%s in %s%s/%s' % (sign_alg, key_alg, '/' + key_crv if key_crv else '', enc)
            reason = self.skip_reason(sign_alg, key_alg, key_crv or '')
            if reason:
                self.unsupported.append('nested %s: %s' % (label, reason))
                continue
            sign_ours = self.our_key(sign_alg, sign_crv)
            enc_ours = self.our_key(key_alg, key_crv, CEK_BITS[enc] if key_alg == 'dir' else None)
            sign_theirs = self.peer.call('gen_key', alg=sign_alg, crv=sign_crv)['jwk']
            enc_theirs = (enc_ours if key_alg == 'dir' else
                          self.peer.call('gen_key', alg=key_alg, crv=key_crv)['jwk'])

            def we_seal():
                enc_pub = enc_theirs if enc_theirs['kty'] == 'oct' else public_jwk(enc_theirs)
                args = ['jwt', 'seal', '--sign-key', self.keyfile(sign_ours),
                        '--enc-key', self.keyfile(enc_pub), '--enc', enc,
                        '--claims', json.dumps(claims)]
                token = self.jg(args).decode().strip()
                verify = sign_ours if sign_ours['kty'] == 'oct' else public_jwk(sign_ours)
                got = self.peer.call('open', token=token, dec_jwk=enc_theirs, key_alg=key_alg,
                                     enc=enc, verify_jwk=verify, sign_alg=sign_alg,
                                     issuer=claims['iss'], audience=claims['aud'])
                assert got['claims'] == claims, 'claims differ: %s' % got['claims']
                assert got['typ'] == 'at+jwt'
            self.check('nested ours->peer', label, we_seal)

            def they_seal():
                enc_pub = enc_ours if enc_ours['kty'] == 'oct' else public_jwk(enc_ours)
                token = self.peer.call('seal', claims=claims, sign_jwk=sign_theirs,
                                       sign_alg=sign_alg, enc_jwk=enc_pub, key_alg=key_alg,
                                       enc=enc)['token']
                verify = sign_theirs if sign_theirs['kty'] == 'oct' else public_jwk(sign_theirs)
                args = ['jwt', 'open', '--decrypt-key', self.keyfile(enc_ours), '--verify-key',
                        self.keyfile(verify), '--alg', sign_alg, '--key-alg', key_alg, '--enc', enc,
                        '--iss', claims['iss'], '--aud', claims['aud']]
                got = json.loads(self.jg(args, token.encode()))
                assert got == claims, 'claims differ: %s' % got
                wrong_aud = [a if a != claims['aud'] else 'https://other.example' for a in args]
                self.jg(wrong_aud, token.encode(), expect=1)
            self.check('nested peer->ours', label, they_seal)

    # -- claims directly in a JWE (npm jose's EncryptJWT default), peer -> ours --
    def encrypted(self):
        now = int(time.time())
        claims = {'iss': 'https://issuer.example', 'sub': 'client-7', 'aud': 'https://api.example',
                  'scope': 'orders:read', 'iat': now, 'exp': now + 600, 'jti': 'e1'}
        for key_alg, key_crv, enc in ENCRYPTED_CASES:
            label = '%s%s/%s' % (key_alg, '/' + key_crv if key_crv else '', enc)
            reason = self.skip_reason(None, key_alg, key_crv or '')
            if reason:
                self.unsupported.append('encrypted %s: %s' % (label, reason))
                continue
            ours = self.our_key(key_alg, key_crv, CEK_BITS[enc] if key_alg == 'dir' else None)

            def they_encrypt():
                recipient = ours if ours['kty'] == 'oct' else public_jwk(ours)
                reply = self.peer.call('encrypt_jwt', claims=claims, enc_jwk=recipient,
                                       key_alg=key_alg, enc=enc)
                assert 'typ' not in reply['header'] and 'cty' not in reply['header'], \
                    'the peer wrote typ/cty: %s' % reply['header']
                token = reply['token'].encode()
                base = ['jwt', 'open', '--decrypt-key', self.keyfile(ours), '--key-alg', key_alg,
                        '--enc', enc, '--iss', claims['iss'], '--aud', claims['aud']]
                # no --verify-key: the claims are not signed
                got = json.loads(self.jg(base + ['--form', 'encrypted', '--scope', 'orders:read'],
                                         token))
                assert got == claims, 'claims differ: %s' % got
                self.jg(base, token, expect=2)  # nested (the default) wants --verify-key
                self.jg(base + ['--form', 'encrypted', '--typ', 'at+jwt'], token, expect=1)
                other = [a if a != claims['aud'] else 'https://other.example' for a in base]
                self.jg(other + ['--form', 'encrypted'], token, expect=1)
                self.jg(base + ['--form', 'encrypted'], tamper(reply['token']).encode(), expect=1)
            self.check('encrypted peer->ours', label, they_encrypt)

    # -- DPoP proofs (RFC 9449) both ways --
    def dpop(self):
        token = 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.an-access-token'
        token_path = os.path.join(self.tmp, 'dpop-token')
        with open(token_path, 'w') as f:
            f.write(token)
        htu = 'https://api.example.com/orders'
        for alg, crv in (('ES256', None), ('ES384', None), ('PS256', None), ('EdDSA', 'Ed25519')):
            label = alg
            ours = self.our_key(alg, crv)
            ours_path = self.keyfile(ours)
            jkt = self.jg(['key', 'thumbprint'], json.dumps(ours).encode()).decode().strip()

            def we_prove():
                proof = self.jg(['dpop', 'proof', '--key', ours_path, '--htm', 'GET', '--htu',
                                 htu + '?page=2', '--token', token_path, '--nonce', 'n-1']
                                ).decode().strip()
                got = self.peer.call('dpop_verify', proof=proof, htm='GET', htu=htu, token=token,
                                     nonce='n-1', now=int(time.time()))
                assert got['jkt'] == jkt, 'thumbprint %s != %s' % (got['jkt'], jkt)
                for bad in (tamper(proof),):
                    try:
                        self.peer.call('dpop_verify', proof=bad, htm='GET', htu=htu, token=token,
                                       nonce='n-1', now=int(time.time()))
                    except PeerError:
                        continue
                    raise AssertionError('peer accepted a tampered proof')
                try:
                    self.peer.call('dpop_verify', proof=proof, htm='POST', htu=htu, token=token,
                                   nonce='n-1', now=int(time.time()))
                except PeerError:
                    return
                raise AssertionError('peer accepted a proof for another method')
            self.check('dpop ours->peer', label, we_prove)

            theirs = self.peer.call('gen_key', alg=alg, crv=crv)['jwk']

            def they_prove():
                reply = self.peer.call('dpop_proof', alg=alg, jwk=theirs, htm='POST', htu=htu,
                                       token=token, nonce='n-2')
                proof = reply['proof'].encode()
                base = ['dpop', 'verify', '--htm', 'POST', '--htu', htu, '--token', token_path,
                        '--nonce', 'n-2']
                out = json.loads(self.jg(base + ['--jkt', reply['jkt']], proof))
                assert out['jkt'] == reply['jkt'], 'thumbprint differs'
                self.jg(['dpop', 'verify', '--htm', 'GET', '--htu', htu, '--token', token_path,
                         '--nonce', 'n-2'], proof, expect=1)
                self.jg(base, tamper(reply['proof']).encode(), expect=1)
                self.jg(['dpop', 'verify', '--htm', 'POST', '--htu', htu, '--nonce', 'n-2',
                         '--token', self.keyfile({'other': 'token'})], proof, expect=1)
            self.check('dpop peer->ours', label, they_prove)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cli', default=jgtest.JWTGATE_CLI)
    parser.add_argument('--peer', choices=['jwcrypto', 'jose'], required=True)
    parser.add_argument('--node', default='node')
    parser.add_argument('--only', default='jws,jwe,nested,encrypted,dpop')
    args = parser.parse_args()
    peer = (JwcryptoPeer if args.peer == 'jwcrypto' else JosePeer)(args)
    run = Run(args, peer)
    started = time.time()
    try:
        for part in args.only.split(','):
            getattr(run, part)()
    finally:
        peer.close()
    print('interop with %s (%.1fs):' % (args.peer, time.time() - started))
    for kind in sorted(run.passed):
        print('  passed %-18s %d' % (kind, run.passed[kind]))
    for line in run.unsupported:
        print('  not supported by %s: %s' % (args.peer, line))
    for line in run.failures:
        print('  FAILED ' + line)
    if run.failures or not run.passed:
        print('%d failures' % len(run.failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""python3-jwcrypto as an interoperability peer for jwtgate.

The same operations as peer_jose.mjs, as plain functions. Byte strings travel
as base64url. Every check here is done by jwcrypto itself, never by jwtgate.
"""
import base64
import json

from jwcrypto import jwe, jwk, jws, jwt
from jwcrypto.common import json_encode

ALL_ALGS = [
    'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
    'ES256', 'ES384', 'ES512', 'EdDSA', 'dir', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW',
    'A192GCMKW', 'A256GCMKW', 'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES',
    'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW', 'PBES2-HS256+A128KW',
    'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW', 'A128CBC-HS256', 'A192CBC-HS384',
    'A256CBC-HS512', 'A128GCM', 'A192GCM', 'A256GCM']


def b64d(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


SECRET_SIZES = {'HS256': 256, 'HS384': 384, 'HS512': 512, 'A128KW': 128, 'A192KW': 192,
                'A256KW': 256, 'A128GCMKW': 128, 'A192GCMKW': 192, 'A256GCMKW': 256}


def gen_key(alg, crv=None, bits=None):
    if alg.startswith(('HS', 'A1', 'A2', 'dir', 'PBES2')):
        key = jwk.JWK.generate(kty='oct', size=bits or SECRET_SIZES.get(alg, 256))
    elif alg.startswith(('RS', 'PS', 'RSA')):
        key = jwk.JWK.generate(kty='RSA', size=2048)
    elif alg.startswith('ES'):
        crv = {'ES256': 'P-256', 'ES384': 'P-384', 'ES512': 'P-521'}[alg]
        key = jwk.JWK.generate(kty='EC', crv=crv)
    elif alg == 'EdDSA':
        key = jwk.JWK.generate(kty='OKP', crv=crv or 'Ed25519')
    elif alg.startswith('ECDH-ES'):
        crv = crv or 'P-256'
        key = jwk.JWK.generate(kty='EC' if crv.startswith('P-') else 'OKP', crv=crv)
    else:
        raise ValueError('unsupported alg ' + alg)
    data = json.loads(key.export())
    data['alg'] = alg
    data['kid'] = key.thumbprint()
    return {'jwk': data}


def _key(jwk_dict):
    return jwk.JWK(**jwk_dict)


def sign(alg, jwk, payload, format, header=None):
    key = _key(jwk)
    token = jws.JWS(b64d(payload))
    protected = {'alg': alg, 'kid': jwk.get('kid')}
    protected.update(header or {})
    token.add_signature(key, None, json_encode(protected))
    if format == 'compact':
        return {'token': token.serialize(compact=True)}
    text = token.serialize()  # flattened with one signature
    if format == 'general':
        doc = json.loads(text)
        sig = {k: doc.pop(k) for k in ('protected', 'header', 'signature') if k in doc}
        doc['signatures'] = [sig]
        text = json.dumps(doc)
    return {'token': text}


def verify(alg, jwk, token):
    obj = jws.JWS()
    obj.allowed_algs = [alg]
    obj.deserialize(token)
    obj.verify(_key(jwk), alg=alg)
    return {'payload': b64e(obj.payload)}


def encrypt(alg, enc, jwk, plaintext, format, zip=False, aad=None):
    protected = {'alg': alg, 'enc': enc}
    if zip:
        protected['zip'] = 'DEF'
    if jwk.get('kid'):
        protected['kid'] = jwk['kid']
    if format == 'general':
        shared = {'enc': enc}
        if zip:
            shared['zip'] = 'DEF'
        obj = jwe.JWE(b64d(plaintext), json_encode(shared), aad=b64d(aad) if aad else None)
        obj.allowed_algs = ALL_ALGS
        obj.add_recipient(_key(jwk), json_encode({'alg': alg, 'kid': jwk.get('kid')}))
        doc = json.loads(obj.serialize())
        if 'recipients' not in doc:  # jwcrypto flattens a single recipient
            rec = {k: doc.pop(k) for k in ('header', 'encrypted_key') if k in doc}
            doc['recipients'] = [rec]
        return {'token': json.dumps(doc)}
    obj = jwe.JWE(b64d(plaintext), json_encode(protected),
                  aad=b64d(aad) if (aad and format != 'compact') else None)
    obj.allowed_algs = ALL_ALGS
    obj.add_recipient(_key(jwk))
    return {'token': obj.serialize(compact=(format == 'compact'))}


def decrypt(alg, enc, jwk, token):
    obj = jwe.JWE()
    obj.allowed_algs = [alg, enc]
    obj.deserialize(token, key=_key(jwk))
    return {'plaintext': b64e(obj.payload)}


def seal(claims, sign_jwk, sign_alg, enc_jwk, key_alg, enc):
    inner = jwt.JWT(header={'alg': sign_alg, 'typ': 'at+jwt', 'kid': sign_jwk.get('kid')},
                    claims=claims)
    inner.make_signed_token(_key(sign_jwk))
    outer = jwt.JWT(header={'alg': key_alg, 'enc': enc, 'cty': 'JWT', 'kid': enc_jwk.get('kid')},
                    claims=inner.serialize())
    outer.make_encrypted_token(_key(enc_jwk))
    return {'token': outer.serialize()}


def open(token, dec_jwk, key_alg, enc, verify_jwk, sign_alg, issuer, audience):
    outer = jwe.JWE()
    outer.allowed_algs = [key_alg, enc]
    outer.deserialize(token, key=_key(dec_jwk))
    if json.loads(outer.objects['protected']).get('cty') != 'JWT':
        raise ValueError('cty is not JWT')
    inner = jws.JWS()
    inner.allowed_algs = [sign_alg]
    inner.deserialize(outer.payload.decode())
    inner.verify(_key(verify_jwk), alg=sign_alg)
    header = json.loads(inner.objects['protected'])
    if header.get('typ') != 'at+jwt':
        raise ValueError('typ is not at+jwt')
    claims = json.loads(inner.payload)
    aud = claims.get('aud', [])
    if claims.get('iss') != issuer or audience not in ([aud] if isinstance(aud, str) else aud):
        raise ValueError('iss/aud mismatch')
    return {'claims': claims, 'typ': header['typ']}


def encrypt_jwt(claims, enc_jwk, key_alg, enc):
    header = {'alg': key_alg, 'enc': enc}
    if enc_jwk.get('kid'):
        header['kid'] = enc_jwk['kid']
    token = jwt.JWT(header=header, claims=claims)
    token.make_encrypted_token(_key(enc_jwk))
    text = token.serialize()
    return {'token': text, 'header': json.loads(b64d(text.split('.')[0]))}


# DPoP (RFC 9449): a proof crafted with jwcrypto alone, and a proof checked
# by jwcrypto alone (the key from the proof's own "jwk" header).
def _ath(token):
    import hashlib
    return b64e(hashlib.sha256(token.encode()).digest())


def dpop_proof(alg, jwk, htm, htu, token=None, nonce=None):
    import time
    import uuid
    key = _key(jwk)
    pub = json.loads(key.export_public())
    for k in ('kid', 'alg', 'use', 'key_ops'):
        pub.pop(k, None)
    claims = {'jti': str(uuid.uuid4()), 'htm': htm, 'htu': htu, 'iat': int(time.time())}
    if token:
        claims['ath'] = _ath(token)
    if nonce:
        claims['nonce'] = nonce
    tok = jws.JWS(json_encode(claims).encode())
    tok.add_signature(key, None, json_encode({'typ': 'dpop+jwt', 'alg': alg, 'jwk': pub}))
    return {'proof': tok.serialize(compact=True), 'jkt': jwk_mod_thumbprint(pub)}


def jwk_mod_thumbprint(pub):
    return jwk.JWK(**pub).thumbprint()


def dpop_verify(proof, htm, htu, token=None, nonce=None, now=None):
    import time
    head = json.loads(b64d(proof.split('.')[0]))
    if head.get('typ') != 'dpop+jwt':
        raise ValueError('typ')
    pub = head['jwk']
    if any(k in pub for k in ('d', 'p', 'q', 'dp', 'dq', 'qi', 'k')):
        raise ValueError('private jwk')
    obj = jws.JWS()
    obj.allowed_algs = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA']
    obj.deserialize(proof)
    obj.verify(jwk.JWK(**pub), alg=head['alg'])
    claims = json.loads(obj.payload)
    now = now or int(time.time())
    if claims['htm'] != htm or claims['htu'] != htu or not claims.get('jti'):
        raise ValueError('htm/htu/jti')
    if not (now - 300 <= claims['iat'] <= now + 5):
        raise ValueError('iat')
    if token is not None and claims.get('ath') != _ath(token):
        raise ValueError('ath')
    if nonce is not None and claims.get('nonce') != nonce:
        raise ValueError('nonce')
    return {'jkt': jwk.JWK(**pub).thumbprint(), 'jti': claims['jti']}

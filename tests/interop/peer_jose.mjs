// peer_jose.mjs — npm `jose` as an interoperability peer for jwtgate.
//
// A JSON-lines server: one request object per line on stdin, one response per
// line on stdout ({"ok":true,...} or {"ok":false,"error":"..."}), so the
// Python driver (interop.py) pays Node's start-up once. Byte strings travel as
// base64url. Every check here is done by jose itself, never by jwtgate.
import * as jose from 'jose';
import { createInterface } from 'node:readline';

const b64 = jose.base64url;

async function keyFromJwk(jwk, alg) {
  // PBES2 passwords and dir/KW secrets are raw bytes for jose.
  if (jwk.kty === 'oct') return b64.decode(jwk.k);
  return jose.importJWK(jwk, alg);
}

const ops = {
  async gen_key({ alg, crv }) {
    const isSecret = /^(HS|A\d+KW|A\d+GCMKW|dir|PBES2)/.test(alg);
    let privateJwk;
    if (isSecret) {
      const size = { HS256: 32, HS384: 48, HS512: 64, A128KW: 16, A192KW: 24, A256KW: 32,
        A128GCMKW: 16, A192GCMKW: 24, A256GCMKW: 32 }[alg] ?? 32;
      privateJwk = { kty: 'oct', k: b64.encode(crypto.getRandomValues(new Uint8Array(size))) };
    } else {
      const opts = { extractable: true };
      if (crv) opts.crv = crv;
      const { privateKey } = await jose.generateKeyPair(alg, opts);
      privateJwk = await jose.exportJWK(privateKey);
    }
    privateJwk.alg = alg;
    privateJwk.kid = await jose.calculateJwkThumbprint(privateJwk);
    return { jwk: privateJwk };
  },

  async sign({ alg, jwk, payload, format, header }) {
    const key = await keyFromJwk(jwk, alg);
    const data = b64.decode(payload);
    const prot = { alg, kid: jwk.kid, ...(header || {}) };
    if (format === 'compact') return { token: await new jose.CompactSign(data).setProtectedHeader(prot).sign(key) };
    if (format === 'flattened') return { token: JSON.stringify(await new jose.FlattenedSign(data).setProtectedHeader(prot).sign(key)) };
    const general = new jose.GeneralSign(data);
    general.addSignature(key).setProtectedHeader(prot);
    return { token: JSON.stringify(await general.sign()) };
  },

  async verify({ alg, jwk, token }) {
    const key = await keyFromJwk(jwk, alg);
    const opts = { algorithms: [alg] };
    let result;
    if (token.startsWith('{')) {
      const doc = JSON.parse(token);
      result = doc.signatures ? await jose.generalVerify(doc, key, opts) : await jose.flattenedVerify(doc, key, opts);
    } else {
      result = await jose.compactVerify(token, key, opts);
    }
    return { payload: b64.encode(result.payload), header: result.protectedHeader };
  },

  async encrypt({ alg, enc, jwk, plaintext, format, zip, aad }) {
    const key = await keyFromJwk(jwk, alg);
    const data = b64.decode(plaintext);
    const prot = { alg, enc, ...(zip ? { zip: 'DEF' } : {}) };
    if (jwk.kid) prot.kid = jwk.kid;
    if (format === 'compact') return { token: await new jose.CompactEncrypt(data).setProtectedHeader(prot).encrypt(key) };
    if (format === 'flattened') {
      const f = new jose.FlattenedEncrypt(data).setProtectedHeader(prot);
      if (aad) f.setAdditionalAuthenticatedData(b64.decode(aad));
      return { token: JSON.stringify(await f.encrypt(key)) };
    }
    const g = new jose.GeneralEncrypt(data).setProtectedHeader({ enc, ...(zip ? { zip: 'DEF' } : {}) });
    if (aad) g.setAdditionalAuthenticatedData(b64.decode(aad));
    g.addRecipient(key).setUnprotectedHeader({ alg, ...(jwk.kid ? { kid: jwk.kid } : {}) });
    return { token: JSON.stringify(await g.encrypt()) };
  },

  async decrypt({ alg, enc, jwk, token }) {
    const key = await keyFromJwk(jwk, alg);
    const opts = { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc] };
    let result;
    if (token.startsWith('{')) {
      const doc = JSON.parse(token);
      result = doc.recipients ? await jose.generalDecrypt(doc, key, opts) : await jose.flattenedDecrypt(doc, key, opts);
    } else {
      result = await jose.compactDecrypt(token, key, opts);
    }
    return { plaintext: b64.encode(result.plaintext), aad: result.additionalAuthenticatedData ? b64.encode(result.additionalAuthenticatedData) : null };
  },

  // RFC 9068 access token: JWS typ at+jwt inside a JWE with cty JWT.
  async seal({ claims, sign_jwk, sign_alg, enc_jwk, key_alg, enc }) {
    const signKey = await keyFromJwk(sign_jwk, sign_alg);
    const jws = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: sign_alg, typ: 'at+jwt', kid: sign_jwk.kid })
      .sign(signKey);
    const encKey = await keyFromJwk(enc_jwk, key_alg);
    const token = await new jose.CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: key_alg, enc, cty: 'JWT', kid: enc_jwk.kid })
      .encrypt(encKey);
    return { token };
  },

  // Claims directly in a JWE, as EncryptJWT writes them by default: no typ,
  // no cty, no signature.
  async encrypt_jwt({ claims, enc_jwk, key_alg, enc }) {
    const encKey = await keyFromJwk(enc_jwk, key_alg);
    const header = { alg: key_alg, enc };
    if (enc_jwk.kid) header.kid = enc_jwk.kid;
    const token = await new jose.EncryptJWT(claims).setProtectedHeader(header).encrypt(encKey);
    return { token, header: jose.decodeProtectedHeader(token) };
  },

  async open({ token, dec_jwk, key_alg, enc, verify_jwk, sign_alg, issuer, audience }) {
    const decKey = await keyFromJwk(dec_jwk, key_alg);
    const { plaintext, protectedHeader } = await jose.compactDecrypt(token, decKey,
      { keyManagementAlgorithms: [key_alg], contentEncryptionAlgorithms: [enc] });
    if (protectedHeader.cty !== 'JWT') throw new Error('cty is not JWT');
    const verifyKey = await keyFromJwk(verify_jwk, sign_alg);
    const { payload, protectedHeader: inner } = await jose.jwtVerify(new TextDecoder().decode(plaintext),
      verifyKey, { algorithms: [sign_alg], issuer, audience, typ: 'at+jwt' });
    return { claims: payload, typ: inner.typ };
  },

  // DPoP (RFC 9449): a proof checked by jose alone (the key from the proof's
  // own "jwk" header, EmbeddedJWK; typ, alg, then the claims by hand as a
  // resource server does), and a proof made by jose.
  async dpop_verify({ proof, htm, htu, token, nonce, now }) {
    const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, {
      typ: 'dpop+jwt', algorithms: ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'],
      currentDate: new Date(now * 1000), maxTokenAge: 300,
    });
    if (protectedHeader.jwk.d !== undefined) throw new Error('private jwk');
    if (payload.htm !== htm) throw new Error('htm');
    if (payload.htu !== htu) throw new Error('htu');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw new Error('jti');
    if (token !== undefined && token !== null) {
      const ath = b64.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
      if (payload.ath !== ath) throw new Error('ath');
    }
    if (nonce !== undefined && nonce !== null && payload.nonce !== nonce) throw new Error('nonce');
    return { jkt: await jose.calculateJwkThumbprint(protectedHeader.jwk), jti: payload.jti };
  },

  async dpop_proof({ alg, jwk, htm, htu, token, nonce }) {
    const key = await jose.importJWK(jwk, alg);
    const { d, p, q, dp, dq, qi, kid, alg: _a, ...pub } = jwk;
    const claims = { htm, htu, jti: crypto.randomUUID() };
    if (token) claims.ath = b64.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
    if (nonce) claims.nonce = nonce;
    const proof = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: pub }).setIssuedAt().sign(key);
    return { proof, jkt: await jose.calculateJwkThumbprint(pub) };
  },
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  let response;
  try {
    const request = JSON.parse(line);
    response = { ok: true, ...(await ops[request.op](request)) };
  } catch (e) {
    response = { ok: false, error: `${e.code || e.name}: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(response) + '\n');
}

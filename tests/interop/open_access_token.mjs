// open_access_token.mjs — open a jwtgated access token with npm `jose` alone:
// decrypt with the gateway key from the snapshot, verify the inner JWS with
// the issuer's published JWKS, check typ, iss and aud. Prints the claims.
//   node open_access_token.mjs <request.json>
//   request: {token, decryption_jwks, jwks, issuer, audience}
import * as jose from 'jose';
import { readFileSync } from 'node:fs';

const req = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const header = jose.decodeProtectedHeader(req.token);
const decJwk = req.decryption_jwks.keys.find((k) => k.kid === header.kid);
if (!decJwk) throw new Error('no decryption key for kid ' + header.kid);
const decKey = await jose.importJWK(decJwk, header.alg);
const { plaintext, protectedHeader } = await jose.compactDecrypt(req.token, decKey, {
  keyManagementAlgorithms: ['ECDH-ES+A256KW'],
  contentEncryptionAlgorithms: ['A256GCM'],
});
if (protectedHeader.cty !== 'JWT') throw new Error('cty is not JWT');
const jwks = jose.createLocalJWKSet(req.jwks);
const { payload, protectedHeader: inner } = await jose.jwtVerify(
  new TextDecoder().decode(plaintext), jwks, {
    issuer: req.issuer, audience: req.audience, typ: 'at+jwt', algorithms: ['ES256'],
  });
process.stdout.write(JSON.stringify({ header: inner, claims: payload }) + '\n');

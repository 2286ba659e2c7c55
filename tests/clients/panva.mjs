// panva's oauth4webapi and openid-client against a live jwtgated behind TLS.
// Usage: node panva.mjs CONFIG.json   (written by test_clients.py)
// Prints one JSON object: {"cases": [{"lib", "name", "ok", "detail"}, ...]}.
// Each case is the library's own flow with its own defaults; a case passes
// when the library accepts the server's answer (or, for a wrong secret,
// reports the RFC 6749 error it should).
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = new URL(cfg.issuer);
const cases = [];

async function check(lib, name, fn) {
  try {
    const detail = await fn();
    cases.push({ lib, name, ok: true, detail: detail ?? null });
  } catch (e) {
    const detail = { message: String(e && e.message), code: e && e.code,
                     error: e && e.error, status: e && e.status };
    cases.push({ lib, name, ok: false, detail });
  }
}

function must(cond, what) {
  if (!cond) throw new Error(what);
}

// RFC 7638 thumbprint of an EC public key: what cnf.jkt must be.
async function jkt(publicKey) {
  const j = await crypto.subtle.exportKey('jwk', publicKey);
  const text = JSON.stringify({ crv: j.crv, kty: j.kty, x: j.x, y: j.y });
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(d).toString('base64url');
}

async function introspectCnf(as, token) {
  const c = { client_id: cfg.basic.id };
  const res = await oauth.introspectionRequest(as, c, oauth.ClientSecretBasic(cfg.basic.secret),
                                               token);
  return (await oauth.processIntrospectionResponse(as, c, res)).cnf;
}

async function privateKey() {
  return crypto.subtle.importKey('jwk', cfg.pkjwt.jwk, { name: 'ECDSA', namedCurve: 'P-256' },
                                 false, ['sign']);
}

// ---- oauth4webapi -----------------------------------------------------------------------

async function o4wDiscovery(algorithm) {
  const res = await oauth.discoveryRequest(issuer, { algorithm });
  return oauth.processDiscoveryResponse(issuer, res);
}

async function o4wToken(as, id, auth, params) {
  const c = { client_id: id };
  const res = await oauth.clientCredentialsGrantRequest(as, c, auth, new URLSearchParams(params));
  return oauth.processClientCredentialsResponse(as, c, res);
}

async function runO4w() {
  const lib = 'oauth4webapi';
  let as;
  await check(lib, 'discovery (RFC 8414)', async () => {
    as = await o4wDiscovery('oauth2');
    must(as.token_endpoint === cfg.issuer + '/oauth2/token', 'token_endpoint');
  });
  await check(lib, 'discovery (OpenID Connect location)', async () => {
    const oidc = await o4wDiscovery('oidc');
    must(oidc.issuer === cfg.issuer, 'issuer');
  });
  if (!as) return;
  let token;
  await check(lib, 'client_credentials, client_secret_basic', async () => {
    const t = await o4wToken(as, cfg.basic.id, oauth.ClientSecretBasic(cfg.basic.secret), {});
    must(t.token_type.toLowerCase() === 'bearer', 'token_type');
    token = t.access_token;
    return { scope: t.scope, expires_in: t.expires_in };
  });
  await check(lib, 'client_credentials, client_secret_post, scope', async () => {
    const t = await o4wToken(as, cfg.post.id, oauth.ClientSecretPost(cfg.post.secret),
                             { scope: 'orders:read' });
    must(t.scope === 'orders:read', 'scope ' + t.scope);
  });
  await check(lib, 'client_credentials, private_key_jwt (aud = issuer)', async () => {
    const key = await privateKey();
    const t = await o4wToken(as, cfg.pkjwt.id, oauth.PrivateKeyJwt({ key, kid: cfg.pkjwt.jwk.kid }),
                             { resource: cfg.audience });
    must(t.access_token.split('.').length === 5, 'an encrypted token');
  });
  await check(lib, 'client_credentials, resource indicator', async () => {
    const t = await o4wToken(as, cfg.basic.id, oauth.ClientSecretBasic(cfg.basic.secret),
                             { resource: cfg.audience });
    must(t.access_token, 'token');
  });
  await check(lib, 'client_credentials with DPoP (RFC 9449): a bound token', async () => {
    const c = { client_id: cfg.basic.id };
    const kp = await oauth.generateKeyPair('ES256');
    const res = await oauth.clientCredentialsGrantRequest(
      as, c, oauth.ClientSecretBasic(cfg.basic.secret), new URLSearchParams({}),
      { DPoP: oauth.DPoP(c, kp) });
    const t = await oauth.processClientCredentialsResponse(as, c, res);
    must(t.token_type.toLowerCase() === 'dpop', 'token_type ' + t.token_type);
    const cnf = await introspectCnf(as, t.access_token);
    must(cnf && cnf.jkt === await jkt(kp.publicKey), 'cnf ' + JSON.stringify(cnf));
  });
  await check(lib, 'client_credentials, tls_client_auth (RFC 8705): a certificate-bound token',
              async () => {
    // Node's fetch takes no client certificate: oauth4webapi's customFetch over node:https
    const tls = { cert: readFileSync(cfg.mtls.dir + '/client.pem'),
                  key: readFileSync(cfg.mtls.dir + '/client.key'),
                  ca: readFileSync(cfg.mtls.dir + '/ca.pem') };
    const mtlsFetch = (url, options) => new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ...tls, method: options.method,
                                      headers: Object.fromEntries(new Headers(options.headers)) },
                                    (res) => {
        const chunks = [];
        res.on('data', (b) => chunks.push(b));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), {
          status: res.statusCode,
          headers: Object.entries(res.headers).map(([k, v]) => [k, String(v)]) })));
      });
      req.on('error', reject);
      req.end(options.body === undefined ? undefined : String(options.body));
    });
    const c = { client_id: cfg.mtls.id, tls_client_certificate_bound_access_tokens: true };
    const res = await oauth.clientCredentialsGrantRequest(
      as, c, oauth.TlsClientAuth(), new URLSearchParams({}),
      { [oauth.customFetch]: mtlsFetch });
    const t = await oauth.processClientCredentialsResponse(as, c, res);
    must(t.token_type.toLowerCase() === 'bearer', 'token_type ' + t.token_type);
    const cnf = await introspectCnf(as, t.access_token);
    const der = Buffer.from(tls.cert.toString().replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const x5t = Buffer.from(await crypto.subtle.digest('SHA-256', der)).toString('base64url');
    must(cnf && cnf['x5t#S256'] === x5t, 'cnf ' + JSON.stringify(cnf));
  });
  await check(lib, 'wrong secret (basic): 401 with a Basic challenge, invalid_client', async () => {
    try {
      await o4wToken(as, cfg.wrong.id, oauth.ClientSecretBasic('jgs_wrong'), {});
    } catch (e) {
      // A 401 with WWW-Authenticate is its own error in oauth4webapi: the
      // challenge parsed, the body still the RFC 6749 error.
      must(e instanceof oauth.WWWAuthenticateChallengeError && e.status === 401,
           'got ' + e.name + ' ' + e.status);
      must(e.cause[0].scheme === 'basic', 'challenge ' + JSON.stringify(e.cause));
      const body = await e.response.json();
      must(body.error === 'invalid_client', 'body ' + JSON.stringify(body));
      return { status: e.status };
    }
    throw new Error('accepted a wrong secret');
  });
  await check(lib, 'wrong secret (post): invalid_client', async () => {
    try {
      await o4wToken(as, cfg.wrong.id, oauth.ClientSecretPost('jgs_wrong'), {});
    } catch (e) {
      must(e instanceof oauth.ResponseBodyError && e.error === 'invalid_client' && e.status === 400,
           'got ' + e.error + ' ' + e.status);
      return { status: e.status };
    }
    throw new Error('accepted a wrong secret');
  });
  await check(lib, 'invalid_scope is reported', async () => {
    try {
      await o4wToken(as, cfg.basic.id, oauth.ClientSecretBasic(cfg.basic.secret),
                     { scope: 'no:such' });
    } catch (e) {
      must(e.error === 'invalid_scope', 'got ' + e.error);
      return null;
    }
    throw new Error('granted an unknown scope');
  });
  if (!token) return;
  await check(lib, 'introspection', async () => {
    const c = { client_id: cfg.basic.id };
    const res = await oauth.introspectionRequest(as, c, oauth.ClientSecretBasic(cfg.basic.secret),
                                                 token);
    const info = await oauth.processIntrospectionResponse(as, c, res);
    must(info.active === true && info.client_id === cfg.basic.id, 'active');
  });
  await check(lib, 'revocation, then introspection says inactive', async () => {
    const c = { client_id: cfg.basic.id };
    const auth = oauth.ClientSecretBasic(cfg.basic.secret);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, auth, token));
    const info = await oauth.processIntrospectionResponse(
      as, c, await oauth.introspectionRequest(as, c, auth, token));
    must(info.active === false, 'still active');
  });
}

// ---- openid-client ----------------------------------------------------------------------

async function runOpenidClient() {
  const lib = 'openid-client';
  let config;
  await check(lib, 'discovery (default: OpenID Connect location first)', async () => {
    config = await client.discovery(issuer, cfg.basic.id, cfg.basic.secret);
    must(config.serverMetadata().issuer === cfg.issuer, 'issuer');
  });
  if (!config) return;
  let token;
  await check(lib, 'client_credentials (its default client authentication)', async () => {
    const t = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
    token = t.access_token;
    must(t.scope === 'orders:read', 'scope');
  });
  await check(lib, 'client_credentials, client_secret_basic', async () => {
    const c = await client.discovery(issuer, cfg.basic.id, undefined,
                                     client.ClientSecretBasic(cfg.basic.secret));
    const t = await client.clientCredentialsGrant(c);
    must(t.access_token, 'token');
  });
  await check(lib, 'client_credentials, private_key_jwt (aud = issuer)', async () => {
    const key = await privateKey();
    const c = await client.discovery(issuer, cfg.pkjwt.id, undefined,
                                     client.PrivateKeyJwt({ key, kid: cfg.pkjwt.jwk.kid }));
    const t = await client.clientCredentialsGrant(c, { resource: cfg.audience });
    must(t.access_token, 'token');
  });
  await check(lib, 'client_credentials with DPoP (its DPoP handle)', async () => {
    const kp = await client.randomDPoPKeyPair('ES256');
    const t = await client.clientCredentialsGrant(config, { scope: 'orders:read' },
                                                  { DPoP: client.getDPoPHandle(config, kp) });
    must(t.token_type.toLowerCase() === 'dpop', 'token_type ' + t.token_type);
    const info = await client.tokenIntrospection(config, t.access_token);
    must(info.cnf && info.cnf.jkt === await jkt(kp.publicKey), 'cnf');
  });
  await check(lib, 'wrong secret: invalid_client', async () => {
    const c = await client.discovery(issuer, cfg.wrong.id, 'jgs_wrong');
    try {
      await client.clientCredentialsGrant(c);
    } catch (e) {
      must(e.error === 'invalid_client', 'got ' + e.error);
      return { status: e.status };
    }
    throw new Error('accepted a wrong secret');
  });
  if (!token) return;
  await check(lib, 'introspection', async () => {
    const info = await client.tokenIntrospection(config, token);
    must(info.active === true, 'active');
  });
  await check(lib, 'revocation, then inactive', async () => {
    await client.tokenRevocation(config, token);
    const info = await client.tokenIntrospection(config, token);
    must(info.active === false, 'still active');
  });
}

await runO4w();
await runOpenidClient();
process.stdout.write(JSON.stringify({ cases }) + '\n');

// jwks_issuer.mjs — an independent OAuth issuer for the trust-source tests, made with npm
// `jose` (tests/interop's node_modules, named by $JOSE_FROM) and Node's own HTTP(S) server.
//
//   node jwks_issuer.mjs ISSUER_URL [--tls CERT KEY]
//
// Serves GET /.well-known/openid-configuration and /jwks on a free loopback port (the issuer
// URL's port is whatever the driver chose). The driver controls it by JSON lines on stdin, one
// answer per line on stdout ({"ok":true,...}):
//   {"op":"port"}                                  -> {"port": N} once listening
//   {"op":"gen","kid":K,"alg":"RS256"|"ES256"...}   a new key (not published yet)
//   {"op":"publish","kids":[K...]}                  the JWKS holds exactly these keys
//   {"op":"raw","body":TEXT}                        the JWKS response is this text (hostile)
//   {"op":"max_age","seconds":N|null}               Cache-Control: max-age=N
//   {"op":"discovery","members":{...}}              members replacing the discovery document's
//   {"op":"sign","kid":K,"claims":{...},"typ":T}    -> {"token": compact JWS}
//   {"op":"down"} / {"op":"up"}                     stop / start listening (same port)
//   {"op":"hits"}                                   -> {"jwks": N} JWKS requests served
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// jose from the folder the driver names (tests/interop, where it is installed)
const jose = await import(
  pathToFileURL(createRequire(process.env.JOSE_FROM + '/').resolve('jose')).href);

const issuer = process.argv[2];
const tls = process.argv[3] === '--tls'
  ? { cert: fs.readFileSync(process.argv[4]), key: fs.readFileSync(process.argv[5]) } : null;
const port = Number(new URL(issuer).port);

const keys = new Map(); // kid -> { alg, privateKey, publicJwk }
let published = [];
let raw = null;
let maxAge = null;
let hits = 0;
let discovery = {};

function handler(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/.well-known/openid-configuration') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ issuer, jwks_uri: issuer + '/jwks',
      token_endpoint: issuer + '/token', ...discovery }));
    return;
  }
  if (path === '/jwks') {
    hits++;
    const headers = { 'Content-Type': 'application/json' };
    if (maxAge !== null) headers['Cache-Control'] = 'max-age=' + maxAge;
    res.writeHead(200, headers);
    res.end(raw !== null ? raw
      : JSON.stringify({ keys: published.map((k) => keys.get(k).publicJwk) }));
    return;
  }
  res.writeHead(404);
  res.end();
}

let server = null;
function listen() {
  return new Promise((resolve, reject) => {
    server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

const ops = {
  async port() { return { port }; },
  async gen({ kid, alg }) {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
    keys.set(kid, { alg, privateKey, publicJwk });
    return {};
  },
  async publish({ kids }) { published = kids; raw = null; return {}; },
  async raw({ body }) { raw = body; return {}; },
  async max_age({ seconds }) { maxAge = seconds; return {}; },
  async discovery({ members }) { discovery = members; return {}; },
  async sign({ kid, claims, typ }) {
    const k = keys.get(kid);
    const now = Math.floor(Date.now() / 1000);
    const token = await new jose.SignJWT({ iat: now, exp: now + 600, ...claims })
      .setProtectedHeader({ alg: k.alg, kid, typ: typ || 'at+jwt' }).sign(k.privateKey);
    return { token };
  },
  async down() {
    await new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    return {};
  },
  async up() { await listen(); return {}; },
  async hits() { return { jwks: hits }; },
};

await listen();
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let answer;
  try {
    const req = JSON.parse(line);
    answer = { ok: true, ...(await ops[req.op](req)) };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message || e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
process.exit(0);

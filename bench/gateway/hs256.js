// HS256 access-token check in njs, for nginx's auth_request: what an
// open-source nginx user writes today without a JWT module (the benchmark
// baseline of scripts/bench-gateway). Checks what the module checks for an
// HS256 token: the header's alg and typ, the HMAC (constant time is not
// available in njs; a plain compare, as such scripts do), exp, nbf, iss, aud.
// scripts/bench-gateway fills in the three values below.
const crypto = require('crypto');

const conf = {k: '@KEY@', iss: '@ISS@', aud: '@AUD@'};
const key = Buffer.from(conf.k, 'base64url');

function refuse(r) {
    r.headersOut['WWW-Authenticate'] = 'Bearer realm="bench", error="invalid_token"';
    r.return(401);
}

function verify(r) {
    const auth = r.headersIn.Authorization || '';
    if (auth.slice(0, 7) !== 'Bearer ') {
        return refuse(r);
    }
    const parts = auth.slice(7).split('.');
    if (parts.length !== 3) {
        return refuse(r);
    }
    let header, claims;
    try {
        header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
        claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch (e) {
        return refuse(r);
    }
    if (header.alg !== 'HS256' || header.typ !== 'at+jwt') {
        return refuse(r);
    }
    const mac = crypto.createHmac('sha256', key).update(parts[0] + '.' + parts[1])
        .digest('base64url');
    if (mac !== parts[2]) {
        return refuse(r);
    }
    const now = Date.now() / 1000;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (typeof claims.exp !== 'number' || claims.exp <= now
        || (claims.nbf !== undefined && claims.nbf > now)
        || claims.iss !== conf.iss || aud.indexOf(conf.aud) < 0) {
        return refuse(r);
    }
    r.return(204);
}

export default {verify};

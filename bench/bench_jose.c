/*
 * bench_jose.c — latchset jose (Debian's libjose 11) cells of the benchmark
 * (see bench.h).
 *
 *   bench_jose DIR      (DIR written by `bench_jwtgate --keys DIR`)
 *
 * libjose works on JSON serializations held as jansson objects and keeps
 * keys as JWK JSON (turned into OpenSSL keys on every operation: that is its
 * design). It has no compact parser and no JWT layer, so this program does
 * what a user of it must: split the compact token into a flattened JSON
 * object before verifying or decrypting, join the parts after signing or
 * encrypting, and check "typ" and the claims (exp, iat, iss, aud) by hand
 * with jansson (bench_jansson.h). For ECDH-ES libjose puts "epk" in an
 * unprotected header, so those tokens (and the outer token of a nested one)
 * are flattened JSON: compact cannot carry them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jose/jose.h>

#include "bench.h"
#include "bench_jansson.h"

static const char *keydir;
static char claims[512];
static size_t claims_len;

static json_t *load_jwk(const char *file)
{
    size_t len = 0;
    char *text = bench_read_file(keydir, file, &len);
    json_t *jwk = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return jwk;
}

/* Join string members of `obj` with '.' into a new compact token. */
static char *join(const json_t *obj, const char *const *names, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(obj, names[i]);
        total += (v ? json_string_length(v) : 0) + 1;
    }
    char *out = malloc(total + 1), *p = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(obj, names[i]);
        if (i > 0)
            *p++ = '.';
        if (v != NULL) {
            memcpy(p, json_string_value(v), json_string_length(v));
            p += json_string_length(v);
        }
    }
    *p = '\0';
    return out;
}

/* Split a compact token into a JSON object with the given member names. */
static json_t *split(const char *token, const char *const *names, size_t n)
{
    json_t *obj = json_object();
    const char *p = token;
    for (size_t i = 0; obj != NULL && i < n; i++) {
        const char *dot = i + 1 < n ? strchr(p, '.') : p + strlen(p);
        if (dot == NULL || json_object_set_new(obj, names[i], json_stringn(p, (size_t)(dot - p)))) {
            json_decref(obj);
            return NULL;
        }
        p = dot + 1;
    }
    return obj;
}

static const char *const jws_parts[] = {"protected", "payload", "signature"};
static const char *const jwe_parts[] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};

/* ---- JWS ------------------------------------------------------------------------ */

static char *jws_sign(const json_t *jwk, const char *alg, const void *payload, size_t len)
{
    json_t *jws = json_pack("{s:o}", "payload", jose_b64_enc(payload, len));
    json_t *sig = json_pack("{s:{s:s,s:s}}", "protected", "alg", alg, "typ", "at+jwt");
    char *out = NULL;
    if (jws != NULL && sig != NULL && jose_jws_sig(NULL, jws, sig, jwk))
        out = join(jws, jws_parts, 3);
    json_decref(sig);
    json_decref(jws);
    return out;
}

/* Verify a compact JWS; on success the payload (malloc'd) and 0. */
static int jws_verify(const char *token, const json_t *jwk, void **payload, size_t *len)
{
    json_t *jws = split(token, jws_parts, 3);
    json_t *hdr = NULL;
    int bad = jws == NULL || !jose_jws_ver(NULL, jws, NULL, jwk, false);
    if (!bad) {
        hdr = jose_jws_hdr(jws);
        bad = hdr == NULL || bench_check_typ(hdr, "at+jwt");
    }
    if (!bad) {
        const json_t *p = json_object_get(jws, "payload");
        *len = jose_b64_dec(p, NULL, 0);
        *payload = *len != SIZE_MAX ? malloc(*len + 1) : NULL;
        bad = *payload == NULL || jose_b64_dec(p, *payload, *len) != *len;
    }
    json_decref(hdr);
    json_decref(jws);
    return bad;
}

typedef struct sig_cell {
    json_t *priv, *pub;
    const char *alg;
    char *token;
} sig_cell;

/* The claims as a jansson object, serialized by every sign: a libjose user
 * holds claims that way (jwtgate and libjwt serialize theirs per token). */
static json_t *claims_obj;

static int do_sign(void *ctx)
{
    sig_cell *c = ctx;
    char *text = json_dumps(claims_obj, JSON_COMPACT);
    char *t = text ? jws_sign(c->priv, c->alg, text, strlen(text)) : NULL;
    free(text);
    free(t);
    return t == NULL;
}

static int do_verify(void *ctx)
{
    sig_cell *c = ctx;
    void *payload = NULL;
    size_t len = 0;
    int bad = jws_verify(c->token, c->pub, &payload, &len) || bench_check_claims(payload, len);
    free(payload);
    return bad;
}

static void sig_cells(const char *op, const char *alg, const char *keyname)
{
    char name[64], file[256];
    sig_cell c = {.alg = alg};
    snprintf(file, sizeof file, "%s.jwk", keyname);
    c.priv = load_jwk(file);
    snprintf(file, sizeof file, strcmp(alg, "HS256") == 0 ? "%s.jwk" : "%s.pub.jwk", keyname);
    c.pub = load_jwk(file);
    snprintf(name, sizeof name, "%s_sign", op);
    char *probe = c.priv && c.pub ? jws_sign(c.priv, alg, claims, claims_len) : NULL;
    if (probe == NULL) {
        bench_na(name, "jose 11 has no %s (no OKP keys)", alg);
        snprintf(name, sizeof name, "%s_verify", op);
        bench_na(name, "jose 11 has no %s (no OKP keys)", alg);
    } else {
        bench_cell(name, do_sign, &c, "json_dumps(claims) + jose_jws_sig + compact join");
        snprintf(name, sizeof name, "%s_verify", op);
        c.token = probe;
        bench_cell(name, do_verify, &c,
                   "split + jose_jws_ver; typ, exp/iat/iss/aud checked by hand: no JWT layer");
    }
    free(probe);
    json_decref(c.priv);
    json_decref(c.pub);
}

/* ---- JWE ------------------------------------------------------------------------ */

static char *jwe_encrypt(const json_t *jwk, const char *alg, const char *cty, const void *pt,
                         size_t len)
{
    json_t *jwe = json_pack("{s:{s:s,s:s}}", "protected", "alg", alg, "enc", "A256GCM");
    char *out = NULL;
    if (jwe != NULL && cty != NULL)
        json_object_set_new(json_object_get(jwe, "protected"), "cty", json_string(cty));
    if (jwe != NULL && jose_jwe_enc(NULL, jwe, NULL, jwk, pt, len)) {
        /* ECDH-ES: libjose puts "epk" in an unprotected header, which the
         * compact form cannot carry; such tokens stay flattened JSON. */
        out = json_object_get(jwe, "header") != NULL ? json_dumps(jwe, JSON_COMPACT)
                                                     : join(jwe, jwe_parts, 5);
    }
    json_decref(jwe);
    return out;
}

static void *jwe_decrypt(const char *token, const json_t *jwk, size_t *len)
{
    json_t *jwe = token[0] == '{' ? json_loads(token, JSON_REJECT_DUPLICATES, NULL)
                                  : split(token, jwe_parts, 5);
    void *pt = jwe ? jose_jwe_dec(NULL, jwe, NULL, jwk, len) : NULL;
    json_decref(jwe);
    return pt;
}

typedef struct enc_cell {
    json_t *priv, *pub;
    const char *alg;
    char *token;
} enc_cell;

static int do_encrypt(void *ctx)
{
    enc_cell *c = ctx;
    char *t = jwe_encrypt(c->pub, c->alg, NULL, claims, claims_len);
    free(t);
    return t == NULL;
}

static int do_decrypt(void *ctx)
{
    enc_cell *c = ctx;
    size_t len = 0;
    void *pt = jwe_decrypt(c->token, c->priv, &len);
    int bad = pt == NULL || len != claims_len || memcmp(pt, claims, len) != 0;
    free(pt);
    return bad;
}

static void enc_cells(const char *op, const char *alg, const char *keyname)
{
    char name[64], file[256];
    enc_cell c = {.alg = alg};
    int secret = strcmp(alg, "dir") == 0 || strcmp(alg, "A256KW") == 0;
    snprintf(file, sizeof file, "%s.jwk", keyname);
    c.priv = load_jwk(file);
    snprintf(file, sizeof file, secret ? "%s.jwk" : "%s.pub.jwk", keyname);
    c.pub = load_jwk(file);
    snprintf(name, sizeof name, "%s_encrypt", op);
    char *probe = c.priv && c.pub ? jwe_encrypt(c.pub, alg, NULL, claims, claims_len) : NULL;
    if (probe == NULL) {
        const char *why = strcmp(keyname, "ecdh_x25519") == 0
                              ? "jose 11 has no X25519 (no OKP keys)"
                              : "jose 11's RSA-OAEP-256 (and RSA-OAEP) encryption fails with "
                                "OpenSSL 3 (RSA1_5 works)";
        bench_na(name, "%s", why);
        snprintf(name, sizeof name, "%s_decrypt", op);
        bench_na(name, "%s", why);
    } else {
        int flat = probe[0] == '{';
        bench_cell(name, do_encrypt, &c,
                   flat ? "jose_jwe_enc, flattened JSON (epk unprotected: no compact form)"
                        : "jose_jwe_enc + compact join");
        snprintf(name, sizeof name, "%s_decrypt", op);
        c.token = probe;
        bench_cell(name, do_decrypt, &c,
                   flat ? "json_loads + jose_jwe_dec, plaintext compared"
                        : "split + jose_jwe_dec, plaintext compared");
    }
    free(probe);
    json_decref(c.priv);
    json_decref(c.pub);
}

/* ---- Nested: ES256 inside ECDH-ES+A256KW/A256GCM -------------------------------- */

typedef struct nested_cell {
    json_t *sign_priv, *sign_pub, *enc_priv, *enc_pub;
    char *token;
} nested_cell;

static int do_seal(void *ctx)
{
    nested_cell *c = ctx;
    char *text = json_dumps(claims_obj, JSON_COMPACT);
    char *jws = text ? jws_sign(c->sign_priv, "ES256", text, strlen(text)) : NULL;
    free(text);
    char *jwe = jws ? jwe_encrypt(c->enc_pub, "ECDH-ES+A256KW", "JWT", jws, strlen(jws)) : NULL;
    free(jws);
    free(jwe);
    return jwe == NULL;
}

static int do_open(void *ctx)
{
    nested_cell *c = ctx;
    size_t len = 0, plen = 0;
    char *jws = jwe_decrypt(c->token, c->enc_priv, &len);
    char *inner = jws ? malloc(len + 1) : NULL; /* NUL-terminated for split */
    void *payload = NULL;
    int bad = inner == NULL;
    if (!bad) {
        memcpy(inner, jws, len);
        inner[len] = '\0';
        bad = jws_verify(inner, c->sign_pub, &payload, &plen) || bench_check_claims(payload, plen);
    }
    free(payload);
    free(inner);
    free(jws);
    return bad;
}

static void nested_cells(void)
{
    nested_cell c = {.sign_priv = load_jwk("es256.jwk"),
                     .sign_pub = load_jwk("es256.pub.jwk"),
                     .enc_priv = load_jwk("ecdh_p256.jwk"),
                     .enc_pub = load_jwk("ecdh_p256.pub.jwk")};
    if (!c.sign_priv || !c.sign_pub || !c.enc_priv || !c.enc_pub)
        exit(2);
    bench_cell("nested_seal", do_seal, &c, "json_dumps(claims), sign, join, encrypt (cty JWT)");
    char *jws = jws_sign(c.sign_priv, "ES256", claims, claims_len);
    c.token = jws ? jwe_encrypt(c.enc_pub, "ECDH-ES+A256KW", "JWT", jws, strlen(jws)) : NULL;
    if (c.token == NULL)
        bench_fail("nested_open", "could not make a token");
    else
        bench_cell("nested_open", do_open, &c, "decrypt, verify, typ and claims by hand");
    bench_na("nested_open_1t", "measured for jwtgate and bare OpenSSL only");
    bench_na("nested_open_2t", "measured for jwtgate and bare OpenSSL only");
    free(jws);
    free(c.token);
    json_decref(c.sign_priv);
    json_decref(c.sign_pub);
    json_decref(c.enc_priv);
    json_decref(c.enc_pub);
}

/* ---- JWK ------------------------------------------------------------------------- */

typedef struct parse_cell {
    char *text;
    size_t len;
} parse_cell;

/* libjose has no key object: "parsing" is loading the JSON and checking
 * that it is a usable key for verification (jose_jwk_prm). */
static int do_parse(void *ctx)
{
    parse_cell *c = ctx;
    json_t *jwk = json_loadb(c->text, c->len, 0, NULL);
    int bad = jwk == NULL || !jose_jwk_prm(NULL, jwk, false, "verify");
    json_decref(jwk);
    return bad;
}

static void parse_cell_run(const char *op, const char *file)
{
    parse_cell c = {.text = bench_read_file(keydir, file, &c.len)};
    if (c.text == NULL)
        exit(2);
    bench_cell(op, do_parse, &c, "json_loadb + jose_jwk_prm (no key object: keys stay JSON)");
    free(c.text);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_jose DIR\n");
        return 2;
    }
    keydir = argv[1];
    claims_len = bench_claims(claims, NULL);
    claims_obj = json_loadb(claims, claims_len, 0, NULL);
    if (claims_obj == NULL)
        return 2;

    sig_cells("hs256", "HS256", "hs256");
    sig_cells("rs256", "RS256", "rsa");
    sig_cells("ps256", "PS256", "rsa");
    sig_cells("es256", "ES256", "es256");
    sig_cells("eddsa", "EdDSA", "ed25519");
    enc_cells("dir_a256gcm", "dir", "dir");
    enc_cells("a256kw", "A256KW", "a256kw");
    enc_cells("ecdh_p256", "ECDH-ES+A256KW", "ecdh_p256");
    enc_cells("ecdh_x25519", "ECDH-ES+A256KW", "ecdh_x25519");
    enc_cells("rsa_oaep", "RSA-OAEP-256", "rsa_oaep");
    nested_cells();
    parse_cell_run("jwk_parse_ec", "es256.pub.jwk");
    parse_cell_run("jwk_parse_rsa", "rsa.pub.jwk");
    json_decref(claims_obj);
    return 0;
}

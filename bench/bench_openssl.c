/*
 * bench_openssl.c — the floor: bare OpenSSL doing only the cryptography a
 * JOSE operation cannot avoid, with every key and algorithm prepared in
 * advance. No JSON, no base64url, no policy: what is left of a library's
 * cost when all of that is free.
 *
 *   bench_openssl DIR      (DIR written by `bench_jwtgate --keys DIR`)
 *
 * Inputs have the sizes of the real tokens: the JWS Signing Input is
 * base64url(header) "." base64url(claims); the JWE AAD is a header of the
 * size a real one has; the plaintext is the claims (or, nested, a JWS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define BENCH_WITH_THREADS
#include "bench.h"

static const char *keydir;
static EVP_MD *sha256;
static EVP_CIPHER *aes_gcm, *aes_wrap;

static void die(const char *what)
{
    fprintf(stderr, "bench_openssl: %s\n", what);
    exit(2);
}

static EVP_PKEY *load_pem(const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "%s.pem", name);
    size_t len = 0;
    char *text = bench_read_file(keydir, file, &len);
    if (text == NULL)
        die("cannot read a key");
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(text);
    if (pkey == NULL)
        die("cannot parse a PEM key");
    return pkey;
}

static void load_secret(const char *name, unsigned char out[32])
{
    char file[256];
    snprintf(file, sizeof file, "%s.bin", name);
    size_t len = 0;
    char *raw = bench_read_file(keydir, file, &len);
    if (raw == NULL || len != 32)
        die("bad secret");
    memcpy(out, raw, 32);
    free(raw);
}

/* base64url without padding (setup only). */
static size_t b64url(const unsigned char *in, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = abc[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* The signing input and AAD of the real tokens. */
static char claims[512];
static size_t claims_len;
static char signing_input[1024];
static size_t signing_input_len;
static char aad[256]; /* a JWE protected header as sent, base64url */
static size_t aad_len;

static void make_inputs(void)
{
    claims_len = bench_claims(claims, NULL);
    const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"es256\",\"typ\":\"at+jwt\"}";
    size_t n = b64url((const unsigned char *)hdr, strlen(hdr), signing_input);
    signing_input[n++] = '.';
    signing_input_len = n + b64url((const unsigned char *)claims, claims_len, signing_input + n);
    const char *jwe_hdr =
        "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"kid\":\"ecdh_p256\","
        "\"epk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1"
        "gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5"
        "a0\"}}";
    aad_len = b64url((const unsigned char *)jwe_hdr, strlen(jwe_hdr), aad);
}

/* ---- Signatures --------------------------------------------------------------- */

typedef struct sig_cell {
    EVP_PKEY *pkey;
    EVP_MAC_CTX *hmac; /* keyed template (HS256) */
    EVP_PKEY_CTX *sign_tmpl, *verify_tmpl;
    int eddsa;
    unsigned char sig[512];
    size_t sig_len;
} sig_cell;

static int hs_sign(void *ctx)
{
    sig_cell *c = ctx;
    EVP_MAC_CTX *m = EVP_MAC_CTX_dup(c->hmac);
    size_t len = 0;
    int ok = m && EVP_MAC_update(m, (const unsigned char *)signing_input, signing_input_len) &&
             EVP_MAC_final(m, c->sig, &len, sizeof c->sig);
    EVP_MAC_CTX_free(m);
    c->sig_len = len;
    return !ok;
}

static int hs_verify(void *ctx)
{
    sig_cell *c = ctx;
    unsigned char mac[64];
    EVP_MAC_CTX *m = EVP_MAC_CTX_dup(c->hmac);
    size_t len = 0;
    int ok = m && EVP_MAC_update(m, (const unsigned char *)signing_input, signing_input_len) &&
             EVP_MAC_final(m, mac, &len, sizeof mac);
    EVP_MAC_CTX_free(m);
    return !(ok && len == c->sig_len && CRYPTO_memcmp(mac, c->sig, len) == 0);
}

/* Hash, then sign with a duplicate of the prepared context. */
static int pk_sign(void *ctx)
{
    sig_cell *c = ctx;
    if (c->eddsa) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t len = sizeof c->sig;
        int ok = md && EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, c->pkey, NULL) == 1 &&
                 EVP_DigestSign(md, c->sig, &len, (const unsigned char *)signing_input,
                                signing_input_len) == 1;
        EVP_MD_CTX_free(md);
        c->sig_len = len;
        return !ok;
    }
    unsigned char hash[32];
    unsigned int hlen = 0;
    size_t len = sizeof c->sig;
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_dup(c->sign_tmpl);
    int ok = p && EVP_Digest(signing_input, signing_input_len, hash, &hlen, sha256, NULL) &&
             EVP_PKEY_sign(p, c->sig, &len, hash, hlen) == 1;
    EVP_PKEY_CTX_free(p);
    c->sig_len = len;
    return !ok;
}

static int pk_verify(void *ctx)
{
    sig_cell *c = ctx;
    if (c->eddsa) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, c->pkey, NULL) == 1 &&
                 EVP_DigestVerify(md, c->sig, c->sig_len, (const unsigned char *)signing_input,
                                  signing_input_len) == 1;
        EVP_MD_CTX_free(md);
        return !ok;
    }
    unsigned char hash[32];
    unsigned int hlen = 0;
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_dup(c->verify_tmpl);
    int ok = p && EVP_Digest(signing_input, signing_input_len, hash, &hlen, sha256, NULL) &&
             EVP_PKEY_verify(p, c->sig, c->sig_len, hash, hlen) == 1;
    EVP_PKEY_CTX_free(p);
    return !ok;
}

/* A sign or verify context with digest (and PSS padding) set once. */
static EVP_PKEY_CTX *pk_template(EVP_PKEY *pkey, int sign, int pss)
{
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (p == NULL || (sign ? EVP_PKEY_sign_init(p) : EVP_PKEY_verify_init(p)) != 1 ||
        EVP_PKEY_CTX_set_signature_md(p, sha256) != 1)
        die("signature template");
    if (pss && (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(p, sha256) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) != 1))
        die("PSS template");
    return p;
}

static void sig_cells(const char *op, const char *keyname, int pss)
{
    char name[64];
    sig_cell c = {0};
    if (strcmp(keyname, "hs256") == 0) {
        unsigned char key[32];
        load_secret(keyname, key);
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                               OSSL_PARAM_construct_end()};
        c.hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
        if (c.hmac == NULL || !EVP_MAC_init(c.hmac, key, sizeof key, params))
            die("HMAC");
        EVP_MAC_free(mac);
        snprintf(name, sizeof name, "%s_sign", op);
        bench_cell(name, hs_sign, &c, "HMAC-SHA256 of the signing input");
        if (hs_sign(&c) != 0) /* the tag to verify, whichever cells run */
            die("HMAC");
        snprintf(name, sizeof name, "%s_verify", op);
        bench_cell(name, hs_verify, &c, "HMAC-SHA256 and a constant-time compare");
        EVP_MAC_CTX_free(c.hmac);
        return;
    }
    c.pkey = load_pem(keyname);
    c.eddsa = strcmp(keyname, "ed25519") == 0;
    if (!c.eddsa) {
        c.sign_tmpl = pk_template(c.pkey, 1, pss);
        c.verify_tmpl = pk_template(c.pkey, 0, pss);
    }
    snprintf(name, sizeof name, "%s_sign", op);
    bench_cell(name, pk_sign, &c, "hash + sign, context prepared");
    if (pk_sign(&c) != 0) /* the signature to verify, whichever cells run */
        die("sign");
    snprintf(name, sizeof name, "%s_verify", op);
    bench_cell(name, pk_verify, &c, "hash + verify, context prepared");
    EVP_PKEY_CTX_free(c.sign_tmpl);
    EVP_PKEY_CTX_free(c.verify_tmpl);
    EVP_PKEY_free(c.pkey);
}

/* ---- Content encryption and key management ------------------------------------- */

typedef struct gcm_out {
    unsigned char iv[12], tag[16], ct[2048];
    size_t ct_len;
} gcm_out;

static int gcm_encrypt(const unsigned char cek[32], const void *pt, size_t len, gcm_out *o)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    int ok = x && RAND_bytes(o->iv, 12) == 1 &&
             EVP_EncryptInit_ex2(x, aes_gcm, cek, o->iv, NULL) == 1 &&
             EVP_EncryptUpdate(x, NULL, &n, (const unsigned char *)aad, (int)aad_len) == 1 &&
             EVP_EncryptUpdate(x, o->ct, &n, pt, (int)len) == 1 &&
             EVP_EncryptFinal_ex(x, o->ct + n, &m) == 1 &&
             EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, o->tag) == 1;
    EVP_CIPHER_CTX_free(x);
    o->ct_len = (size_t)(n + m);
    return ok;
}

static int gcm_decrypt(const unsigned char cek[32], const gcm_out *o, unsigned char *pt)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    int ok = x && EVP_DecryptInit_ex2(x, aes_gcm, cek, o->iv, NULL) == 1 &&
             EVP_DecryptUpdate(x, NULL, &n, (const unsigned char *)aad, (int)aad_len) == 1 &&
             EVP_DecryptUpdate(x, pt, &n, o->ct, (int)o->ct_len) == 1 &&
             EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, (void *)o->tag) == 1 &&
             EVP_DecryptFinal_ex(x, pt + n, &m) == 1;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* AES Key Wrap (RFC 3394) of a 32-byte CEK: 40 bytes out. */
static int aes_kw(const unsigned char kek[32], const unsigned char *in, size_t in_len,
                  unsigned char *out, int wrap)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    int ok = x &&
             (wrap ? EVP_EncryptInit_ex2(x, aes_wrap, kek, NULL, NULL)
                   : EVP_DecryptInit_ex2(x, aes_wrap, kek, NULL, NULL)) == 1 &&
             (wrap ? EVP_EncryptUpdate(x, out, &n, in, (int)in_len)
                   : EVP_DecryptUpdate(x, out, &n, in, (int)in_len)) == 1 &&
             n == (wrap ? 40 : 32);
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* Concat KDF (RFC 7518 section 4.6.2) for ECDH-ES+A256KW: one SHA-256 block. */
static int concat_kdf(const unsigned char *z, size_t z_len, unsigned char out[32])
{
    static const char alg[] = "ECDH-ES+A256KW";
    unsigned char buf[256], *p = buf;
    size_t alg_len = sizeof alg - 1;
    memcpy(p, "\0\0\0\1", 4);
    p += 4;
    memcpy(p, z, z_len);
    p += z_len;
    p[0] = p[1] = p[2] = 0;
    p[3] = (unsigned char)alg_len;
    memcpy(p + 4, alg, alg_len);
    p += 4 + alg_len;
    memset(p, 0, 8); /* empty apu, apv */
    p += 8;
    memcpy(p, "\0\0\1\0", 4); /* 256 bits */
    p += 4;
    unsigned int len = 0;
    return EVP_Digest(buf, (size_t)(p - buf), out, &len, sha256, NULL) == 1;
}

typedef struct enc_cell {
    int kind;                 /* 0 dir, 1 A256KW, 2 ECDH-ES+A256KW, 3 RSA-OAEP-256 */
    unsigned char secret[32]; /* dir key or KEK */
    EVP_PKEY *pkey;           /* recipient key */
    EVP_PKEY_CTX *keygen;     /* ephemeral key generation, prepared */
    EVP_PKEY_CTX *oaep_enc, *oaep_dec;
    int x25519;
    const void *pt;
    size_t pt_len;
    /* The last message, for decryption. */
    gcm_out msg;
    unsigned char ek[512];
    size_t ek_len;
    unsigned char epk[65];
    size_t epk_len;
} enc_cell;

/* ECDH: the shared secret of `priv` with `peer`, into z. */
static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *z, size_t *z_len)
{
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    int ok = d && EVP_PKEY_derive_init(d) == 1 && EVP_PKEY_derive_set_peer_ex(d, peer, 0) == 1 &&
             EVP_PKEY_derive(d, z, z_len) == 1;
    EVP_PKEY_CTX_free(d);
    return ok;
}

/* The peer's public key from its encoded point / raw bytes, as a token
 * carries it ("epk"). */
static EVP_PKEY *import_epk(const enc_cell *c)
{
    if (c->x25519)
        return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, c->epk, c->epk_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)c->epk, c->epk_len),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *f = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    if (f == NULL || EVP_PKEY_fromdata_init(f) != 1 ||
        EVP_PKEY_fromdata(f, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(f);
    return pkey;
}

static int do_encrypt(void *ctx)
{
    enc_cell *c = ctx;
    unsigned char cek[32];
    const unsigned char *key = cek;
    int ok = 1;
    if (c->kind == 0) {
        key = c->secret;
    } else if (c->kind == 1) {
        ok = RAND_bytes(cek, 32) == 1 && aes_kw(c->secret, cek, 32, c->ek, 1);
        c->ek_len = 40;
    } else if (c->kind == 2) {
        EVP_PKEY *eph = NULL;
        unsigned char z[66], kek[32];
        size_t z_len = sizeof z;
        ok = EVP_PKEY_keygen(c->keygen, &eph) == 1 && ecdh(eph, c->pkey, z, &z_len) &&
             concat_kdf(z, z_len, kek) && RAND_bytes(cek, 32) == 1 &&
             aes_kw(kek, cek, 32, c->ek, 1) &&
             EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, c->epk, sizeof c->epk,
                                             &c->epk_len) == 1;
        c->ek_len = 40;
        EVP_PKEY_free(eph);
    } else {
        EVP_PKEY_CTX *p = EVP_PKEY_CTX_dup(c->oaep_enc);
        c->ek_len = sizeof c->ek;
        ok = p && RAND_bytes(cek, 32) == 1 && EVP_PKEY_encrypt(p, c->ek, &c->ek_len, cek, 32) == 1;
        EVP_PKEY_CTX_free(p);
    }
    return !(ok && gcm_encrypt(key, c->pt, c->pt_len, &c->msg));
}

static int do_decrypt(void *ctx)
{
    enc_cell *c = ctx;
    unsigned char cek[512], pt[2048]; /* RSA decryption wants room for a modulus */
    const unsigned char *key = cek;
    int ok = 1;
    if (c->kind == 0) {
        key = c->secret;
    } else if (c->kind == 1) {
        ok = aes_kw(c->secret, c->ek, c->ek_len, cek, 0);
    } else if (c->kind == 2) {
        unsigned char z[66], kek[32];
        size_t z_len = sizeof z;
        EVP_PKEY *epk = import_epk(c);
        ok = epk != NULL && ecdh(c->pkey, epk, z, &z_len) && concat_kdf(z, z_len, kek) &&
             aes_kw(kek, c->ek, c->ek_len, cek, 0);
        EVP_PKEY_free(epk);
    } else {
        EVP_PKEY_CTX *p = EVP_PKEY_CTX_dup(c->oaep_dec);
        size_t len = sizeof cek;
        ok = p && EVP_PKEY_decrypt(p, cek, &len, c->ek, c->ek_len) == 1 && len == 32;
        EVP_PKEY_CTX_free(p);
    }
    return !(ok && gcm_decrypt(key, &c->msg, pt) && memcmp(pt, c->pt, c->pt_len) == 0);
}

static void enc_setup(enc_cell *c, int kind, const char *keyname)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->pt = claims;
    c->pt_len = claims_len;
    if (kind <= 1) {
        load_secret(keyname, c->secret);
        return;
    }
    c->pkey = load_pem(keyname);
    c->x25519 = EVP_PKEY_is_a(c->pkey, "X25519");
    if (kind == 2) {
        c->keygen = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
        if (c->keygen == NULL || EVP_PKEY_keygen_init(c->keygen) != 1)
            die("keygen template");
        return;
    }
    for (int dec = 0; dec < 2; dec++) {
        EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
        if (p == NULL || (dec ? EVP_PKEY_decrypt_init(p) : EVP_PKEY_encrypt_init(p)) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(p, sha256) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(p, sha256) != 1)
            die("OAEP template");
        *(dec ? &c->oaep_dec : &c->oaep_enc) = p;
    }
}

static void enc_free(enc_cell *c)
{
    EVP_PKEY_CTX_free(c->keygen);
    EVP_PKEY_CTX_free(c->oaep_enc);
    EVP_PKEY_CTX_free(c->oaep_dec);
    EVP_PKEY_free(c->pkey);
}

static void enc_cells(const char *op, int kind, const char *keyname)
{
    char name[64];
    enc_cell c;
    enc_setup(&c, kind, keyname);
    snprintf(name, sizeof name, "%s_encrypt", op);
    bench_cell(name, do_encrypt, &c, "key management + AES-256-GCM");
    if (do_encrypt(&c) != 0)
        die("encrypt");
    snprintf(name, sizeof name, "%s_decrypt", op);
    bench_cell(name, do_decrypt, &c, "key management + AES-256-GCM, plaintext compared");
    enc_free(&c);
}

/* ---- Nested: ES256 inside ECDH-ES+A256KW/A256GCM -------------------------------- */

typedef struct nested_cell {
    sig_cell sig;
    enc_cell enc;
    char jws[1024]; /* a JWS-sized plaintext: signing input '.' signature */
} nested_cell;

static int do_seal(void *ctx)
{
    nested_cell *c = ctx;
    return pk_sign(&c->sig) || do_encrypt(&c->enc);
}

static int do_open(void *ctx)
{
    nested_cell *c = ctx;
    return do_decrypt(&c->enc) || pk_verify(&c->sig);
}

static void nested_cells(void)
{
    nested_cell c;
    memset(&c, 0, sizeof c);
    c.sig.pkey = load_pem("es256");
    c.sig.sign_tmpl = pk_template(c.sig.pkey, 1, 0);
    c.sig.verify_tmpl = pk_template(c.sig.pkey, 0, 0);
    if (pk_sign(&c.sig) != 0)
        die("sign");
    size_t n = (size_t)snprintf(c.jws, sizeof c.jws, "%s.", signing_input);
    n += b64url(c.sig.sig, 64, c.jws + n); /* a raw ES256 signature is 64 bytes */
    enc_setup(&c.enc, 2, "ecdh_p256");
    c.enc.pt = c.jws;
    c.enc.pt_len = n;
    bench_cell("nested_seal", do_seal, &c, "ES256 sign + ECDH-ES+A256KW + AES-256-GCM");
    if (do_seal(&c) != 0)
        die("seal");
    bench_cell("nested_open", do_open, &c, "ECDH + unwrap + AES-256-GCM + ES256 verify");
    bench_threads("nested_open_1t", "nested_open_2t", do_open, &c, "shared keys");
    enc_free(&c.enc);
    EVP_PKEY_CTX_free(c.sig.sign_tmpl);
    EVP_PKEY_CTX_free(c.sig.verify_tmpl);
    EVP_PKEY_free(c.sig.pkey);
}

/* ---- Key import floor: public key from raw members ------------------------------ */

typedef struct import_cell {
    unsigned char a[256], b[4];
    size_t a_len, b_len;
    int rsa;
} import_cell;

static int do_import(void *ctx)
{
    import_cell *c = ctx;
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *f = EVP_PKEY_CTX_new_from_name(NULL, c->rsa ? "RSA" : "EC", NULL);
    EVP_PKEY *pkey = NULL;
    if (c->rsa) {
        /* JWK integers are big-endian bytes: BIGNUMs, then parameters. */
        BIGNUM *n = BN_bin2bn(c->a, (int)c->a_len, NULL), *e = BN_bin2bn(c->b, (int)c->b_len, NULL);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *p = NULL;
        int ok = n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
                 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
                 (p = OSSL_PARAM_BLD_to_param(bld)) != NULL && f &&
                 EVP_PKEY_fromdata_init(f) == 1 &&
                 EVP_PKEY_fromdata(f, &pkey, EVP_PKEY_PUBLIC_KEY, p) == 1;
        OSSL_PARAM_free(p);
        OSSL_PARAM_BLD_free(bld);
        BN_free(n);
        BN_free(e);
        EVP_PKEY_CTX_free(f);
        EVP_PKEY_free(pkey);
        return !ok;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, c->a, c->a_len);
    params[2] = OSSL_PARAM_construct_end();
    int ok = f && EVP_PKEY_fromdata_init(f) == 1 &&
             EVP_PKEY_fromdata(f, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(f);
    EVP_PKEY_free(pkey);
    return !ok;
}

static void import_cells(void)
{
    import_cell c = {0};
    EVP_PKEY *ec = load_pem("es256"), *rsa = load_pem("rsa");
    if (EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_PUB_KEY, c.a, sizeof c.a, &c.a_len) !=
        1)
        die("EC point");
    bench_cell("jwk_parse_ec", do_import, &c, "EVP_PKEY_fromdata from the raw point");
    BIGNUM *n = NULL, *e = NULL;
    if (EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        die("RSA params");
    c.rsa = 1;
    c.a_len = (size_t)BN_bn2bin(n, c.a);
    c.b_len = (size_t)BN_bn2bin(e, c.b);
    bench_cell("jwk_parse_rsa", do_import, &c, "EVP_PKEY_fromdata from raw n, e");
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_openssl DIR\n");
        return 2;
    }
    keydir = argv[1];
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    aes_wrap = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
    if (sha256 == NULL || aes_gcm == NULL || aes_wrap == NULL)
        die("fetch");
    make_inputs();

    sig_cells("hs256", "hs256", 0);
    sig_cells("rs256", "rsa", 0);
    sig_cells("ps256", "rsa", 1);
    sig_cells("es256", "es256", 0);
    sig_cells("eddsa", "ed25519", 0);
    enc_cells("dir_a256gcm", 0, "dir");
    enc_cells("a256kw", 1, "a256kw");
    enc_cells("ecdh_p256", 2, "ecdh_p256");
    enc_cells("ecdh_x25519", 2, "ecdh_x25519");
    enc_cells("rsa_oaep", 3, "rsa_oaep");
    nested_cells();
    import_cells();
    EVP_MD_free(sha256);
    EVP_CIPHER_free(aes_gcm);
    EVP_CIPHER_free(aes_wrap);
    return 0;
}

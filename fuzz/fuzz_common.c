/* fuzz_common.c — the fixed keys and limits of the harnesses (see fuzz_common.h). */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz keys: %s: %s\n", what, detail);
    abort();
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *bigger = realloc(buf, cap + 1);
            if (bigger == NULL)
                die("out of memory reading", path);
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static jg_jwk *pem_key(const char *file, const char *kid)
{
    char path[4096];
    const char *dir = getenv("JG_FUZZ_VECTORS_DIR");
    snprintf(path, sizeof path, "%s/pem/%s", dir != NULL ? dir : JG_FUZZ_VECTORS_DIR, file);
    size_t len = 0;
    char *pem = read_file(path, &len);
    jg_jwk_meta meta = {.kid = kid};
    jg_jwk *key = NULL;
    jg_err err = jg_jwk_from_pem(pem, len, &meta, 0, &key);
    jg_free_secret(pem, len);
    if (err != JG_OK)
        die(file, jg_strerror(err));
    return key;
}

/* An oct key of `len` bytes derived from `tag`, for `alg`. */
static jg_jwk *oct_key(size_t len, unsigned tag, jg_alg alg, const char *kid)
{
    unsigned char bytes[64];
    for (size_t i = 0; i < len; i++)
        bytes[i] = (unsigned char)(tag * 37u + i * 11u + 1u);
    jg_jwk_meta meta = {.kid = kid, .alg = alg};
    jg_jwk *key = NULL;
    jg_err err = jg_jwk_from_secret(bytes, len, &meta, &key);
    if (err != JG_OK)
        die(kid, jg_strerror(err));
    return key;
}

static void add(jg_jwks *set, jg_jwk *key)
{
    if (jg_jwks_add(set, key) != JG_OK)
        die("jwks_add", jg_jwk_kid(key));
}

static jg_jwks *new_set(void)
{
    jg_jwks *set = NULL;
    if (jg_jwks_new(&set) != JG_OK)
        die("jwks_new", "out of memory");
    return set;
}

static fz_keys keys;

const fz_keys *fz_keys_get(void)
{
    static int loaded;
    if (loaded)
        return &keys;

    keys.rsa = pem_key("rsa2048.p8.pem", "rsa");
    keys.p256 = pem_key("ec-P-256.p8.pem", "p256");
    keys.p384 = pem_key("ec-P-384.p8.pem", "p384");
    keys.p521 = pem_key("ec-P-521.p8.pem", "p521");
    keys.ed25519 = pem_key("ed25519.p8.pem", "ed25519");
    keys.ed448 = pem_key("ed448.p8.pem", "ed448");
    keys.x25519 = pem_key("x25519.p8.pem", "x25519");
    keys.x448 = pem_key("x448.p8.pem", "x448");

    static const jg_alg hs[FZ_HS] = {JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512};
    static const size_t dir_len[FZ_DIR] = {16, 24, 32, 48, 64};
    static const jg_alg kw[FZ_KW] = {JG_ALG_A128KW, JG_ALG_A192KW, JG_ALG_A256KW};
    static const jg_alg gcmkw[FZ_GCMKW] = {JG_ALG_A128GCMKW, JG_ALG_A192GCMKW, JG_ALG_A256GCMKW};
    static const jg_alg pbes2[FZ_PBES2] = {JG_ALG_PBES2_HS256_A128KW, JG_ALG_PBES2_HS384_A192KW,
                                           JG_ALG_PBES2_HS512_A256KW};
    for (unsigned i = 0; i < FZ_HS; i++)
        keys.hs[i] = oct_key(32 + 16 * i, 1 + i, hs[i], jg_alg_name(hs[i]));
    for (unsigned i = 0; i < FZ_DIR; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "dir%zu", dir_len[i]);
        keys.dir[i] = oct_key(dir_len[i], 10 + i, JG_ALG_DIR, kid);
    }
    for (unsigned i = 0; i < FZ_KW; i++) {
        keys.kw[i] = oct_key(16 + 8 * i, 20 + i, kw[i], jg_alg_name(kw[i]));
        keys.gcmkw[i] = oct_key(16 + 8 * i, 30 + i, gcmkw[i], jg_alg_name(gcmkw[i]));
        keys.pbes2[i] = oct_key(12, 40 + i, pbes2[i], jg_alg_name(pbes2[i]));
    }

    keys.sig = new_set();
    keys.enc = new_set();
    keys.issuer = new_set();
    keys.gateway = new_set();
    jg_jwk *both[] = {keys.rsa, keys.p256, keys.p384, keys.p521};
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++) {
        add(keys.sig, both[i]);
        add(keys.enc, both[i]);
    }
    add(keys.sig, keys.ed25519);
    add(keys.sig, keys.ed448);
    add(keys.enc, keys.x25519);
    add(keys.enc, keys.x448);
    for (unsigned i = 0; i < FZ_HS; i++)
        add(keys.sig, keys.hs[i]);
    for (unsigned i = 0; i < FZ_DIR; i++)
        add(keys.enc, keys.dir[i]);
    for (unsigned i = 0; i < FZ_KW; i++) {
        add(keys.enc, keys.kw[i]);
        add(keys.enc, keys.gcmkw[i]);
        add(keys.enc, keys.pbes2[i]);
    }

    jg_jwk *issuer[] = {keys.rsa, keys.p384, keys.ed25519, keys.hs[0], keys.hs[1], keys.hs[2]};
    for (size_t i = 0; i < sizeof issuer / sizeof issuer[0]; i++)
        add(keys.issuer, issuer[i]);
    jg_jwk *gateway[] = {keys.p256, keys.p521, keys.x25519, keys.x448};
    for (size_t i = 0; i < sizeof gateway / sizeof gateway[0]; i++)
        add(keys.gateway, gateway[i]);
    for (unsigned i = 0; i < FZ_DIR; i++)
        add(keys.gateway, keys.dir[i]);
    for (unsigned i = 0; i < FZ_KW; i++) {
        add(keys.gateway, keys.kw[i]);
        add(keys.gateway, keys.gcmkw[i]);
        add(keys.gateway, keys.pbes2[i]);
    }

    keys.limits = jg_limits_default();
    keys.limits.max_pbes2_count = FZ_PBES2_COUNT;
    keys.limits.max_inflated_len = 65536;
    keys.limits.max_recipients = 4;
    keys.limits.max_signatures = 4;
    keys.limits.max_keys = 64;
    loaded = 1;
    return &keys;
}

int64_t fz_clock(void *ctx)
{
    (void)ctx;
    return FZ_NOW;
}

jg_alg_set fz_jws_algs(void)
{
    jg_alg_set set = 0;
    for (int a = JG_ALG_HS256; a < JG_ALG__COUNT; a++)
        if (jg_alg_kind_of((jg_alg)a) == JG_ALG_KIND_JWS)
            set |= JG_ALG_BIT(a);
    return set;
}

jg_alg_set fz_jwe_algs(void)
{
    jg_alg_set set = 0;
    for (int a = JG_ALG_HS256; a < JG_ALG__COUNT; a++)
        if (jg_alg_kind_of((jg_alg)a) == JG_ALG_KIND_JWE)
            set |= JG_ALG_BIT(a);
    return set;
}

jg_enc_set fz_encs(void)
{
    jg_enc_set set = 0;
    for (int e = JG_ENC_A128CBC_HS256; e < JG_ENC__COUNT; e++)
        set |= JG_ENC_BIT(e);
    return set;
}

static void same_thumbprint(const jg_jwk *a, const jg_jwk *b)
{
    unsigned char ta[32], tb[32];
    if (jg_jwk_thumbprint(a, ta) != JG_OK || jg_jwk_thumbprint(b, tb) != JG_OK ||
        memcmp(ta, tb, sizeof ta) != 0)
        abort();
}

void fz_check_key(const jg_jwk *key)
{
    char *text = NULL;
    size_t len = 0;
    char thumb[44];
    if (jg_jwk_thumbprint_b64(key, thumb) != JG_OK || strlen(thumb) != 43)
        abort();

    /* The private export imports again to the same key. */
    if (jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &text, &len) != JG_OK)
        abort();
    jg_jwk *again = NULL;
    jg_err err = jg_jwk_parse(text, len, JG_JWK_ALLOW_WEAK_RSA, &again);
    jg_free_secret(text, len);
    if (err != JG_OK)
        abort();
    same_thumbprint(key, again);
    jg_jwk_free(again);

    for (int a = JG_ALG_HS256; a < JG_ALG__COUNT; a++)
        (void)jg_jwk_check(key, (jg_alg)a,
                           jg_alg_kind_of((jg_alg)a) == JG_ALG_KIND_JWS ? JG_OP_VERIFY
                                                                        : JG_OP_ENCRYPT);
    if (jg_jwk_kty(key) == JG_KTY_OCT)
        return;

    /* The public part: same thumbprint, JSON and PEM exports that import. */
    jg_jwk *pub = NULL;
    if (jg_jwk_public(key, &pub) != JG_OK || jg_jwk_is_private(pub))
        abort();
    same_thumbprint(key, pub);
    if (jg_jwk_to_json(pub, 0, &text, &len) != JG_OK)
        abort();
    jg_free(text);
    jg_jwk_free(pub);
    unsigned flags = jg_jwk_is_private(key) ? JG_EXPORT_PRIVATE : 0;
    if (jg_jwk_to_pem(key, flags, &text, &len) != JG_OK)
        abort();
    jg_jwk *from_pem = NULL;
    err = jg_jwk_from_pem(text, len, NULL, JG_JWK_ALLOW_WEAK_RSA, &from_pem);
    jg_free_secret(text, len);
    if (err != JG_OK)
        abort();
    same_thumbprint(key, from_pem);
    jg_jwk_free(from_pem);
}

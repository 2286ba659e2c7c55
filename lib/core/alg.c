/*
 * alg.c — the facts about every algorithm (core/alg_info.h), and from them
 * names, kinds and allow-list parsing (include/jwtgate/alg.h).
 */
#include "core/alg_info.h"

#include <string.h>

/* Curve sets (JG__CRV_BIT of each). */
#define CRVS_EDDSA ((1u << JG_CRV_ED25519) | (1u << JG_CRV_ED448))
#define CRVS_ECDH                                                                                  \
    ((1u << JG_CRV_P256) | (1u << JG_CRV_P384) | (1u << JG_CRV_P521) | (1u << JG_CRV_X25519) |     \
     (1u << JG_CRV_X448))

/* One row per algorithm (see core/alg_info.h for the columns). */
#define JWS JG_ALG_KIND_JWS
#define JWE JG_ALG_KIND_JWE
/* clang-format off */
const jg__alg_info jg__alg_rows[JG_ALG__COUNT] = {
    /* [alg] = {name                                     kind family             kty             curve           curves                       hash             flags                 sig  kek slot */
    [JG_ALG_HS256] = {"HS256",                           JWS, JG__FAM_HMAC,      JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA256, 0,                    32,  0,  0},
    [JG_ALG_HS384] = {"HS384",                           JWS, JG__FAM_HMAC,      JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA384, 0,                    48,  0,  1},
    [JG_ALG_HS512] = {"HS512",                           JWS, JG__FAM_HMAC,      JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA512, 0,                    64,  0,  2},
    [JG_ALG_RS256] = {"RS256",                           JWS, JG__FAM_RSA_PKCS1, JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA256, 0,                    0,   0,  0},
    [JG_ALG_RS384] = {"RS384",                           JWS, JG__FAM_RSA_PKCS1, JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA384, 0,                    0,   0,  1},
    [JG_ALG_RS512] = {"RS512",                           JWS, JG__FAM_RSA_PKCS1, JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA512, 0,                    0,   0,  2},
    [JG_ALG_PS256] = {"PS256",                           JWS, JG__FAM_RSA_PSS,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA256, 0,                    0,   0,  3},
    [JG_ALG_PS384] = {"PS384",                           JWS, JG__FAM_RSA_PSS,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA384, 0,                    0,   0,  4},
    [JG_ALG_PS512] = {"PS512",                           JWS, JG__FAM_RSA_PSS,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA512, 0,                    0,   0,  5},
    [JG_ALG_ES256] = {"ES256",                           JWS, JG__FAM_ECDSA,     JG_KTY_EC,      JG_CRV_P256,    JG__CRV_BIT(JG_CRV_P256),    JG__HASH_SHA256, 0,                    64,  0,  6},
    [JG_ALG_ES384] = {"ES384",                           JWS, JG__FAM_ECDSA,     JG_KTY_EC,      JG_CRV_P384,    JG__CRV_BIT(JG_CRV_P384),    JG__HASH_SHA384, 0,                    96,  0,  7},
    [JG_ALG_ES512] = {"ES512",                           JWS, JG__FAM_ECDSA,     JG_KTY_EC,      JG_CRV_P521,    JG__CRV_BIT(JG_CRV_P521),    JG__HASH_SHA512, 0,                    132, 0,  8},
    [JG_ALG_EDDSA] = {"EdDSA",                           JWS, JG__FAM_EDDSA,     JG_KTY_OKP,     JG_CRV_ED25519, CRVS_EDDSA,                  JG__HASH_NONE,   0,                    0,   0,  0},
    [JG_ALG_ED25519] = {"Ed25519",                       JWS, JG__FAM_EDDSA,     JG_KTY_OKP,     JG_CRV_ED25519, JG__CRV_BIT(JG_CRV_ED25519), JG__HASH_NONE,   0,                    64,  0,  0},
    [JG_ALG_ED448] = {"Ed448",                           JWS, JG__FAM_EDDSA,     JG_KTY_OKP,     JG_CRV_ED448,   JG__CRV_BIT(JG_CRV_ED448),   JG__HASH_NONE,   0,                    114, 0,  0},
    [JG_ALG_DIR] = {"dir",                               JWE, JG__FAM_DIR,       JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   JG__ALG_DIRECT,       0,   0,  0},
    [JG_ALG_A128KW] = {"A128KW",                         JWE, JG__FAM_AESKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   16, 0},
    [JG_ALG_A192KW] = {"A192KW",                         JWE, JG__FAM_AESKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   24, 0},
    [JG_ALG_A256KW] = {"A256KW",                         JWE, JG__FAM_AESKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   32, 0},
    [JG_ALG_A128GCMKW] = {"A128GCMKW",                   JWE, JG__FAM_GCMKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   16, 0},
    [JG_ALG_A192GCMKW] = {"A192GCMKW",                   JWE, JG__FAM_GCMKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   24, 0},
    [JG_ALG_A256GCMKW] = {"A256GCMKW",                   JWE, JG__FAM_GCMKW,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   0,                    0,   32, 0},
    [JG_ALG_RSA1_5] = {"RSA1_5",                         JWE, JG__FAM_RSA_ENC,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_NONE,   JG__ALG_DECRYPT_ONLY, 0,   0,  0},
    [JG_ALG_RSA_OAEP] = {"RSA-OAEP",                     JWE, JG__FAM_RSA_ENC,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA1,   0,                    0,   0,  1},
    [JG_ALG_RSA_OAEP_256] = {"RSA-OAEP-256",             JWE, JG__FAM_RSA_ENC,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA256, 0,                    0,   0,  2},
    [JG_ALG_RSA_OAEP_384] = {"RSA-OAEP-384",             JWE, JG__FAM_RSA_ENC,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA384, 0,                    0,   0,  3},
    [JG_ALG_RSA_OAEP_512] = {"RSA-OAEP-512",             JWE, JG__FAM_RSA_ENC,   JG_KTY_RSA,     JG_CRV_NONE,    0,                           JG__HASH_SHA512, 0,                    0,   0,  4},
    [JG_ALG_ECDH_ES] = {"ECDH-ES",                       JWE, JG__FAM_ECDH,      JG_KTY_UNKNOWN, JG_CRV_P256,    CRVS_ECDH,                   JG__HASH_NONE,   JG__ALG_DIRECT,       0,   0,  0},
    [JG_ALG_ECDH_ES_A128KW] = {"ECDH-ES+A128KW",         JWE, JG__FAM_ECDH,      JG_KTY_UNKNOWN, JG_CRV_P256,    CRVS_ECDH,                   JG__HASH_NONE,   0,                    0,   16, 0},
    [JG_ALG_ECDH_ES_A192KW] = {"ECDH-ES+A192KW",         JWE, JG__FAM_ECDH,      JG_KTY_UNKNOWN, JG_CRV_P256,    CRVS_ECDH,                   JG__HASH_NONE,   0,                    0,   24, 0},
    [JG_ALG_ECDH_ES_A256KW] = {"ECDH-ES+A256KW",         JWE, JG__FAM_ECDH,      JG_KTY_UNKNOWN, JG_CRV_P256,    CRVS_ECDH,                   JG__HASH_NONE,   0,                    0,   32, 0},
    [JG_ALG_PBES2_HS256_A128KW] = {"PBES2-HS256+A128KW", JWE, JG__FAM_PBES2,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA256, 0,                    0,   16, 0},
    [JG_ALG_PBES2_HS384_A192KW] = {"PBES2-HS384+A192KW", JWE, JG__FAM_PBES2,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA384, 0,                    0,   24, 0},
    [JG_ALG_PBES2_HS512_A256KW] = {"PBES2-HS512+A256KW", JWE, JG__FAM_PBES2,     JG_KTY_OCT,     JG_CRV_NONE,    0,                           JG__HASH_SHA512, 0,                    0,   32, 0},
};
/* clang-format on */
#undef JWS
#undef JWE

const char *jg__hash_name(jg__hash hash)
{
    static const char *const names[] = {NULL, "SHA1", "SHA256", "SHA384", "SHA512"};
    return (unsigned)hash < sizeof names / sizeof names[0] ? names[hash] : NULL;
}

size_t jg__hash_len(jg__hash hash)
{
    static const unsigned char lens[] = {0, 20, 32, 48, 64};
    return (unsigned)hash < sizeof lens ? lens[hash] : 0;
}

jg_err jg__alg_key_suits(jg_alg alg, jg_kty key_kty, jg_crv key_crv)
{
    const jg__alg_info *a = jg__alg(alg);
    if (a->kind == JG_ALG_KIND_NONE)
        return JG_ERR_ALG_UNKNOWN;
    /* A fixed key type, or for ECDH-ES an EC or OKP key whose curve decides. */
    if (a->kty != JG_KTY_UNKNOWN ? key_kty != a->kty
                                 : key_kty != JG_KTY_EC && key_kty != JG_KTY_OKP)
        return JG_ERR_KEY_TYPE;
    if (a->crvs != 0 && (key_crv == JG_CRV_NONE || (unsigned)key_crv >= 16u ||
                         (a->crvs & JG__CRV_BIT(key_crv)) == 0))
        return JG_ERR_KEY_CURVE;
    return JG_OK;
}

static const char *const enc_names[JG_ENC__COUNT] = {
    [JG_ENC_A128CBC_HS256] = "A128CBC-HS256",
    [JG_ENC_A192CBC_HS384] = "A192CBC-HS384",
    [JG_ENC_A256CBC_HS512] = "A256CBC-HS512",
    [JG_ENC_A128GCM] = "A128GCM",
    [JG_ENC_A192GCM] = "A192GCM",
    [JG_ENC_A256GCM] = "A256GCM",
};

const char *jg_alg_name(jg_alg alg)
{
    return jg__alg(alg)->name;
}

const char *jg_enc_name(jg_enc enc)
{
    if ((unsigned)enc >= (unsigned)JG_ENC__COUNT)
        return NULL;
    return enc_names[enc];
}

static int name_is(const char *known, const char *name, size_t len)
{
    return known != NULL && strlen(known) == len && memcmp(known, name, len) == 0;
}

jg_alg jg_alg_from_name(const char *name, size_t len)
{
    if (name == NULL)
        return JG_ALG_UNKNOWN;
    for (unsigned i = 1; i < JG_ALG__COUNT; i++)
        if (name_is(jg__alg_rows[i].name, name, len))
            return (jg_alg)i;
    return JG_ALG_UNKNOWN;
}

jg_enc jg_enc_from_name(const char *name, size_t len)
{
    if (name == NULL)
        return JG_ENC_UNKNOWN;
    for (unsigned i = 1; i < JG_ENC__COUNT; i++)
        if (name_is(enc_names[i], name, len))
            return (jg_enc)i;
    return JG_ENC_UNKNOWN;
}

jg_alg_kind jg_alg_kind_of(jg_alg alg)
{
    return (jg_alg_kind)jg__alg(alg)->kind;
}

/* Calls `each` for every comma-separated, space-trimmed item of `list`. */
static jg_err for_each_item(const char *list, jg_err (*each)(const char *, size_t, void *),
                            void *ctx)
{
    const char *p = list;
    int items = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (len > 0 && *s == ' ') {
            s++;
            len--;
        }
        while (len > 0 && s[len - 1] == ' ')
            len--;
        jg_err err = each(s, len, ctx);
        if (err != JG_OK)
            return err;
        items++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return items > 0 ? JG_OK : JG_ERR_ALG_UNKNOWN;
}

static jg_err add_alg(const char *name, size_t len, void *ctx)
{
    if (len == 4 && memcmp(name, "none", 4) == 0)
        return JG_ERR_ALG_NONE;
    jg_alg alg = jg_alg_from_name(name, len);
    if (alg == JG_ALG_UNKNOWN)
        return JG_ERR_ALG_UNKNOWN;
    *(jg_alg_set *)ctx |= JG_ALG_BIT(alg);
    return JG_OK;
}

static jg_err add_enc(const char *name, size_t len, void *ctx)
{
    jg_enc enc = jg_enc_from_name(name, len);
    if (enc == JG_ENC_UNKNOWN)
        return JG_ERR_ENC_UNKNOWN;
    *(jg_enc_set *)ctx |= JG_ENC_BIT(enc);
    return JG_OK;
}

jg_err jg_alg_set_parse(const char *list, jg_alg_set *out)
{
    if (list == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_alg_set set = 0;
    jg_err err = for_each_item(list, add_alg, &set);
    if (err != JG_OK)
        return err;
    *out = set;
    return JG_OK;
}

jg_err jg_enc_set_parse(const char *list, jg_enc_set *out)
{
    if (list == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_enc_set set = 0;
    jg_err err = for_each_item(list, add_enc, &set);
    if (err == JG_ERR_ALG_UNKNOWN)
        err = JG_ERR_ENC_UNKNOWN;
    if (err != JG_OK)
        return err;
    *out = set;
    return JG_OK;
}

/* alg.c — algorithm names, kinds and allow-list parsing (include/jwtgate/alg.h). */
#include "jwtgate/alg.h"

#include <string.h>

static const char *const alg_names[JG_ALG__COUNT] = {
    [JG_ALG_HS256] = "HS256",
    [JG_ALG_HS384] = "HS384",
    [JG_ALG_HS512] = "HS512",
    [JG_ALG_RS256] = "RS256",
    [JG_ALG_RS384] = "RS384",
    [JG_ALG_RS512] = "RS512",
    [JG_ALG_PS256] = "PS256",
    [JG_ALG_PS384] = "PS384",
    [JG_ALG_PS512] = "PS512",
    [JG_ALG_ES256] = "ES256",
    [JG_ALG_ES384] = "ES384",
    [JG_ALG_ES512] = "ES512",
    [JG_ALG_EDDSA] = "EdDSA",
    [JG_ALG_ED25519] = "Ed25519",
    [JG_ALG_ED448] = "Ed448",
    [JG_ALG_DIR] = "dir",
    [JG_ALG_A128KW] = "A128KW",
    [JG_ALG_A192KW] = "A192KW",
    [JG_ALG_A256KW] = "A256KW",
    [JG_ALG_A128GCMKW] = "A128GCMKW",
    [JG_ALG_A192GCMKW] = "A192GCMKW",
    [JG_ALG_A256GCMKW] = "A256GCMKW",
    [JG_ALG_RSA1_5] = "RSA1_5",
    [JG_ALG_RSA_OAEP] = "RSA-OAEP",
    [JG_ALG_RSA_OAEP_256] = "RSA-OAEP-256",
    [JG_ALG_RSA_OAEP_384] = "RSA-OAEP-384",
    [JG_ALG_RSA_OAEP_512] = "RSA-OAEP-512",
    [JG_ALG_ECDH_ES] = "ECDH-ES",
    [JG_ALG_ECDH_ES_A128KW] = "ECDH-ES+A128KW",
    [JG_ALG_ECDH_ES_A192KW] = "ECDH-ES+A192KW",
    [JG_ALG_ECDH_ES_A256KW] = "ECDH-ES+A256KW",
    [JG_ALG_PBES2_HS256_A128KW] = "PBES2-HS256+A128KW",
    [JG_ALG_PBES2_HS384_A192KW] = "PBES2-HS384+A192KW",
    [JG_ALG_PBES2_HS512_A256KW] = "PBES2-HS512+A256KW",
};

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
    if ((unsigned)alg >= (unsigned)JG_ALG__COUNT)
        return NULL;
    return alg_names[alg];
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
        if (name_is(alg_names[i], name, len))
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
    if (alg >= JG_ALG_HS256 && alg <= JG_ALG_ED448)
        return JG_ALG_KIND_JWS;
    if (alg >= JG_ALG_DIR && alg < JG_ALG__COUNT)
        return JG_ALG_KIND_JWE;
    return JG_ALG_KIND_NONE;
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

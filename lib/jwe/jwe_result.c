/* jwe_result.c — the decrypted JWE and its accessors (include/jwtgate/jwe.h). */
#include <stdlib.h>

#include "core/header.h"
#include "core/json.h"
#include "jwe/jwe_internal.h"

const unsigned char *jg_jwe_plaintext(const jg_jwe *jwe, size_t *len)
{
    if (len != NULL)
        *len = jwe ? jwe->plaintext_len : 0;
    return jwe ? jwe->plaintext : NULL;
}

jg_alg jg_jwe_alg(const jg_jwe *jwe)
{
    return jwe ? jwe->alg : JG_ALG_UNKNOWN;
}

jg_enc jg_jwe_enc(const jg_jwe *jwe)
{
    return jwe ? jwe->enc : JG_ENC_UNKNOWN;
}

const jg_jwk *jg_jwe_key(const jg_jwe *jwe)
{
    return jwe ? jwe->key : NULL;
}

jg_err jg_jwe_header_string(const jg_jwe *jwe, const char *name, const char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (jwe == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    const json_t *headers[3] = {jwe->protected_hdr, jwe->shared, jwe->recip};
    return jg__header_string(headers, 3, name, out);
}

jg_err jg_jwe_protected_json(const jg_jwe *jwe, char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (jwe == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    return jg__header_dump(jwe->protected_hdr, out);
}

const unsigned char *jg_jwe_aad(const jg_jwe *jwe, size_t *len)
{
    if (len != NULL)
        *len = jwe && jwe->aad ? jwe->aad_len : 0;
    return jwe ? jwe->aad : NULL;
}

void jg_jwe_free(jg_jwe *jwe)
{
    if (jwe == NULL)
        return;
    /* buf held the ciphertext, decrypted in place: wipe all of it. */
    jg_memzero(jwe->buf, jwe->buf_len);
    if (jwe->inflated != NULL)
        jg_free_secret(jwe->inflated, jwe->inflated_cap);
    json_decref(jwe->protected_hdr);
    json_decref(jwe->root);
    free(jwe);
}

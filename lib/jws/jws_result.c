/* jws_result.c — the verified JWS object and its accessors (see jws.h). */
#include <stdint.h>
#include <stdlib.h>

#include "core/header.h"
#include "core/json.h"
#include "jws/jws_internal.h"

jg_jws *jg__jws_new(size_t payload_cap)
{
    if (payload_cap > SIZE_MAX - sizeof(jg_jws) - 1)
        return NULL;
    jg_jws *jws = calloc(1, sizeof(jg_jws) + payload_cap + 1);
    return jws;
}

void jg_jws_free(jg_jws *jws)
{
    if (jws == NULL)
        return;
    jg__jdoc_free(jws->prot);
    jg__jdoc_free(jws->doc);
    /* The payload of a nested token was encrypted: it is confidential. */
    jg_memzero(jws->payload, jws->payload_len);
    free(jws);
}

const unsigned char *jg_jws_payload(const jg_jws *jws, size_t *len)
{
    if (len != NULL)
        *len = jws ? jws->payload_len : 0;
    return jws ? jws->payload : NULL;
}

size_t jg_jws_signature_count(const jg_jws *jws)
{
    return jws ? jws->sig_count : 0;
}

size_t jg_jws_verified_count(const jg_jws *jws)
{
    return jws ? jws->verified : 0;
}

jg_alg jg_jws_alg(const jg_jws *jws)
{
    return jws ? jws->alg : JG_ALG_UNKNOWN;
}

const jg_jwk *jg_jws_key(const jg_jws *jws)
{
    return jws ? jws->key : NULL;
}

jg_err jg_jws_header_string(const jg_jws *jws, const char *name, const char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (jws == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    const jg__jhdr headers[2] = {{jws->prot, 0}, {jws->unprot != 0 ? jws->doc : NULL, jws->unprot}};
    return jg__header_string_jdoc(headers, 2, name, out);
}

jg_err jg_jws_protected_json(const jg_jws *jws, char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (jws == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (jws->prot == NULL)
        return jg__header_dump(NULL, out);
    /* Rarely asked for: the jansson tree is built for the dump only. */
    json_t *tree = NULL;
    jg_err err = jg__jdoc_to_json(jws->prot, 0, &tree);
    if (err == JG_OK)
        err = jg__header_dump(tree, out);
    json_decref(tree);
    return err;
}

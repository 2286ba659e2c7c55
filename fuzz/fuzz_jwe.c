/*
 * fuzz_jwe.c — jg_jwe_decrypt() on any serialization with every key
 * management algorithm (RSA1_5 included) and every content encryption
 * allowed, and a key for each. The limits keep one input to milliseconds
 * while leaving PBES2 (p2c <= 64), zip (64 KiB inflated) and several
 * recipients reachable. What decrypts is read through every accessor.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const char *const understood[] = {"exp", "x-fuzz", NULL};

FZ_INIT_KEYS

FZ_TOKEN_MUTATOR

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_keys *k = fz_keys_get();
    jg_jwe_decrypt_opts opts = {fz_jwe_algs(), fz_encs(), understood, &k->limits};
    jg_jwe *jwe = NULL;
    jg_err err = jg_jwe_decrypt((const char *)data, size, k->enc, &opts, &jwe);
    if ((err == JG_OK) != (jwe != NULL))
        abort();
    if (err != JG_OK)
        return 0;

    size_t len = 0;
    const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
    /* Never more than the ciphertext, or the inflation limit with zip. */
    if (pt == NULL || pt[len] != '\0' || (len > size && len > k->limits.max_inflated_len))
        abort();
    if (jg_alg_kind_of(jg_jwe_alg(jwe)) != JG_ALG_KIND_JWE || jg_jwe_enc(jwe) == JG_ENC_UNKNOWN ||
        jg_jwe_key(jwe) == NULL)
        abort();
    const char *s = NULL;
    (void)jg_jwe_header_string(jwe, "cty", &s);
    (void)jg_jwe_header_string(jwe, "kid", &s);
    size_t aad_len = 0;
    (void)jg_jwe_aad(jwe, &aad_len);
    char *json = NULL;
    if (jg_jwe_protected_json(jwe, &json) == JG_OK)
        jg_free(json);
    jg_jwe_free(jwe);
    return 0;
}

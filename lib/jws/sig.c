/* sig.c — dispatch of JWS signature primitives by algorithm family (see sig.h). */
#include "jws/sig.h"

void jg__sig_input_one(jg__sig_input *in, const void *data, size_t len)
{
    in->part[0] = data;
    in->len[0] = len;
    in->n = 1;
}

void jg__sig_input_three(jg__sig_input *in, const char *protected_b64, size_t protected_len,
                         const void *payload, size_t payload_len)
{
    in->part[0] = (const unsigned char *)protected_b64;
    in->len[0] = protected_len;
    in->part[1] = (const unsigned char *)".";
    in->len[1] = 1;
    in->part[2] = payload;
    in->len[2] = payload_len;
    in->n = 3;
}

const char *jg__sig_digest(jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    if (a->family != JG__FAM_RSA_PKCS1 && a->family != JG__FAM_RSA_PSS &&
        a->family != JG__FAM_ECDSA)
        return NULL;
    return jg__hash_name((jg__hash)a->hash);
}

size_t jg__sig_len(const jg_jwk *key, jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    if (a->kind != JG_ALG_KIND_JWS)
        return 0;
    if (a->sig_len != 0)
        return a->sig_len;
    if (a->family == JG__FAM_RSA_PKCS1 || a->family == JG__FAM_RSA_PSS) {
        int size = key->pkey != NULL ? EVP_PKEY_get_size(key->pkey) : 0;
        return size > 0 && (size_t)size <= JG__SIG_MAX ? (size_t)size : 0;
    }
    /* "EdDSA": the key's curve decides, through the row of its own alg. */
    if (key->crv == JG_CRV_ED25519)
        return jg__alg(JG_ALG_ED25519)->sig_len;
    if (key->crv == JG_CRV_ED448)
        return jg__alg(JG_ALG_ED448)->sig_len;
    return 0;
}

jg_err jg__sig_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                    size_t *sig_len)
{
    switch (key->kty) {
    case JG_KTY_OCT:
        return jg__hmac_sign(key, alg, in, sig, sig_len);
    case JG_KTY_RSA:
        return jg__rsa_sign(key, alg, in, sig, sig_len);
    case JG_KTY_EC:
        return jg__ecdsa_sign(key, alg, in, sig, sig_len);
    case JG_KTY_OKP:
        return jg__eddsa_sign(key, alg, in, sig, sig_len);
    default:
        return JG_ERR_KEY_TYPE;
    }
}

jg_err jg__sig_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                      const unsigned char *sig, size_t sig_len)
{
    switch (key->kty) {
    case JG_KTY_OCT:
        return jg__hmac_verify(key, alg, in, sig, sig_len);
    case JG_KTY_RSA:
        return jg__rsa_verify(key, alg, in, sig, sig_len);
    case JG_KTY_EC:
        return jg__ecdsa_verify(key, alg, in, sig, sig_len);
    case JG_KTY_OKP:
        return jg__eddsa_verify(key, alg, in, sig, sig_len);
    default:
        return JG_ERR_KEY_TYPE;
    }
}

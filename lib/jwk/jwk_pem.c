/*
 * jwk_pem.c — keys from and to PEM/DER with OSSL_DECODER / OSSL_ENCODER.
 *
 * Import recognises SubjectPublicKeyInfo, PKCS#8, PKCS#1 (RSA public and
 * private) and SEC1 (EC private) by itself; the key then goes through the
 * same checks as a JWK. Encrypted keys are refused: a passphrase prompt has no
 * place in a library, and the caller can decrypt with OpenSSL first.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "jwk/jwk_build.h"

/* Largest PEM/DER input: a PKCS#8 RSA-16384 key in PEM is about 13 KiB. */
#define PEM_MAX_LEN ((size_t)64 * 1024)

/* Whether `needle` occurs in the first `len` bytes of `hay`. */
static int contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

/* Any request for a passphrase fails the decoding: encrypted keys are refused.
 * The signature is OSSL_PASSPHRASE_CALLBACK's, hence the non-const pointers. */
// NOLINTBEGIN(readability-non-const-parameter)
static int refuse_passphrase(char *pass, size_t pass_size, size_t *pass_len,
                             const OSSL_PARAM params[], void *arg)
{
    (void)pass;
    (void)pass_size;
    (void)pass_len;
    (void)params;
    (void)arg;
    return 0;
}
// NOLINTEND(readability-non-const-parameter)

/*
 * One decoding attempt for keys with the parts in `selection`. Returns the
 * key, or NULL. DER must be consumed entirely: trailing bytes mean the input
 * is something else.
 */
static EVP_PKEY *try_decode(const unsigned char *data, size_t len, const char *input_type,
                            int selection)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, input_type, NULL, NULL, selection, NULL, NULL);
    if (dctx == NULL)
        return NULL;
    const unsigned char *p = data;
    size_t left = len;
    if (OSSL_DECODER_CTX_get_num_decoders(dctx) == 0 ||
        !OSSL_DECODER_CTX_set_passphrase_cb(dctx, refuse_passphrase, NULL) ||
        !OSSL_DECODER_from_data(dctx, &p, &left) || (strcmp(input_type, "DER") == 0 && left != 0)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

static jg_err decode(const unsigned char *data, size_t len, const char *input_type,
                     const jg_jwk_meta *meta, unsigned flags, jg_jwk **out)
{
    EVP_PKEY *pkey = NULL;

    if (data == NULL || len == 0 || out == NULL || (flags & ~JG__JWK_IMPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (len > PEM_MAX_LEN)
        return JG_ERR_KEY_PEM;

    /*
     * A private key first (PKCS#8, PKCS#1, SEC1), then a public one (SPKI,
     * PKCS#1). Asking for key parts, not "anything", matters: DER does not say
     * what it holds, and a PKCS#1 RSAPublicKey (two INTEGERs) would otherwise
     * decode as DH parameters. Our failures must not linger in the caller's
     * OpenSSL error queue.
     */
    ERR_set_mark();
    pkey = try_decode(data, len, input_type, EVP_PKEY_KEYPAIR);
    if (pkey == NULL)
        pkey = try_decode(data, len, input_type, EVP_PKEY_PUBLIC_KEY);
    ERR_pop_to_mark();
    if (pkey == NULL)
        return JG_ERR_KEY_PEM;

    jg_jwk *key = jg__jwk_alloc();
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return JG_ERR_NOMEM;
    }
    jg_err err = jg__jwk_adopt_pkey(key, pkey, flags);
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    return jg__jwk_complete(key, meta, flags, 0, out);
}

jg_err jg_jwk_from_pem(const char *pem, size_t len, const jg_jwk_meta *meta, unsigned flags,
                       jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (pem == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    /* PKCS#8 "ENCRYPTED PRIVATE KEY" and legacy "Proc-Type: 4,ENCRYPTED". */
    if (contains(pem, len, "-----BEGIN ENCRYPTED") || contains(pem, len, "4,ENCRYPTED"))
        return JG_ERR_KEY_PEM;
    return decode((const unsigned char *)pem, len, "PEM", meta, flags, out);
}

jg_err jg_jwk_from_der(const unsigned char *der, size_t len, const jg_jwk_meta *meta,
                       unsigned flags, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    return decode(der, len, "DER", meta, flags, out);
}

jg_err jg_jwk_to_pem(const jg_jwk *key, unsigned flags, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    if (key == NULL || out == NULL || (flags & ~(JG_EXPORT_PRIVATE | JG_EXPORT_PRETTY)) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (key->kty == JG_KTY_OCT || key->pkey == NULL)
        return JG_ERR_KEY_TYPE;
    int private = (flags & JG_EXPORT_PRIVATE) != 0;
    if (private && !key->is_private)
        return JG_ERR_KEY_NOT_PRIVATE;

    unsigned char *data = NULL;
    size_t len = 0;
    ERR_set_mark();
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(
        key->pkey, private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, "PEM",
        private ? "PrivateKeyInfo" : "SubjectPublicKeyInfo", NULL);
    jg_err err = ectx != NULL ? JG_OK : JG_ERR_NOMEM;
    if (err == JG_OK && OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0)
        err = JG_ERR_UNSUPPORTED;
    if (err == JG_OK && !OSSL_ENCODER_to_data(ectx, &data, &len))
        err = JG_ERR_CRYPTO;
    OSSL_ENCODER_CTX_free(ectx);
    ERR_pop_to_mark();
    if (err != JG_OK)
        return err;

    /* Copy into malloc'd memory (the caller frees with jg_free*), wiping
     * OpenSSL's buffer. */
    char *text = malloc(len + 1);
    if (text == NULL) {
        OPENSSL_clear_free(data, len);
        return JG_ERR_NOMEM;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    OPENSSL_clear_free(data, len);
    *out = text;
    if (out_len != NULL)
        *out_len = len;
    return JG_OK;
}

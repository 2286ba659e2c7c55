/*
 * jwk_internal.h — the inside of a jg_jwk, shared by the parts of the library
 * that use keys (JWS, JWE). Not installed.
 *
 * A key is built in two steps: a constructor fills the material (kty, crv,
 * pkey or secret) and metadata, then jg__jwk_finish() checks consistency and
 * prepares everything later operations need, once. After that the key is
 * never written again, which is what makes sharing between threads safe.
 */
#ifndef JG_LIB_JWK_INTERNAL_H
#define JG_LIB_JWK_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "core/alg_info.h"
#include "jwtgate/jwk.h"

/* Static facts about a curve. */
typedef struct jg__curve_info {
    jg_crv crv;
    const char *jwk_name;       /* "P-256", "Ed25519", ... */
    jg_kty kty;                 /* JG_KTY_EC or JG_KTY_OKP */
    const char *ossl_name;      /* group name (EC) or key type name (OKP) */
    size_t coord_len;           /* bytes of x, y, d (EC) or of x, d (OKP) */
    unsigned bits;              /* nominal size */
    const unsigned char *order; /* EC: group order, big-endian, coord_len bytes */
} jg__curve_info;

/* Facts for `crv`, or NULL for JG_CRV_NONE / out of range. */
const jg__curve_info *jg__curve(jg_crv crv);

/* Which HMAC template slot serves an HS* algorithm. */
enum { JG__HMAC_SHA256, JG__HMAC_SHA384, JG__HMAC_SHA512, JG__HMAC_COUNT };

/* RSA key management templates: 5 algs x (decrypt, encrypt). */
#define JG__RSA_KW_SLOTS 10

/* Prepared JWS signature state of a key (opaque here; lib/jws/sig_prep.c). */
typedef struct jg__sig_prep jg__sig_prep;

struct jg_jwk {
    atomic_uint refs;

    /* Material. */
    jg_kty kty;
    jg_crv crv;
    int is_private;
    unsigned bits;
    EVP_PKEY *pkey;        /* RSA, EC, OKP; NULL for oct */
    unsigned char *secret; /* oct; zeroed when freed */
    size_t secret_len;

    /* Metadata from the JWK (or jg_jwk_meta). */
    char *kid;  /* NULL when absent */
    jg_alg alg; /* JG_ALG_UNKNOWN when absent */
    /*
     * A JWK whose "alg" names a content encryption algorithm (RFC 7520
     * section 3.6: "alg":"A256GCM") is a key for direct encryption: alg is
     * then JG_ALG_DIR and enc holds that name. JG_ENC_UNKNOWN otherwise.
     */
    jg_enc enc;
    jg_use use;
    unsigned key_ops; /* JG_OP_* bits; 0 when absent */

    /*
     * Prepared state. oct: HMAC contexts already keyed with the secret for
     * SHA-256/384/512 (NULL where the secret is shorter than the hash, since
     * such a key may not be used with that HS alg); an operation duplicates
     * the template instead of re-keying.
     */
    EVP_MAC_CTX *hmac[JG__HMAC_COUNT];
    /*
     * RSA and EC: digests and EVP_PKEY_CTX templates initialised for the
     * RS/PS/ES algs the key may serve (lib/jws/sig_prep.c), so that a JWS
     * operation duplicates a template instead of initialising. Each
     * template is built on its first use and published atomically (the
     * only state of a finished key that is ever written). NULL when the
     * key serves no such alg.
     */
    jg__sig_prep *sig_prep;
    /*
     * RSA key management (lib/jwe/keymgmt_rsa.c): EVP_PKEY_CTX templates for
     * RSA1_5 and the RSA-OAEP variants, encryption and decryption, each
     * initialised with its padding and digests on first use and published
     * atomically, like the JWS templates. NULL until used.
     */
    _Atomic(EVP_PKEY_CTX *) rsa_kw[JG__RSA_KW_SLOTS];
    /*
     * AES-128/192/256-GCM, fetched on the first content encryption or
     * decryption this key takes part in (lib/jwe/content_gcm.c) and
     * published atomically: the implicit fetch behind EVP_aes_256_gcm() costs
     * more per token than decrypting a token's claims. The library has no
     * global state, and keys are the objects that live as long as a
     * deployment's configuration, so they hold it.
     */
    _Atomic(EVP_CIPHER *) gcm[3];
};

/* A zeroed key with one reference, or NULL. */
jg_jwk *jg__jwk_alloc(void);

/*
 * Copy `meta` into `key` (kid duplicated). Checks that use, key_ops and alg
 * agree with each other and with the key type (call after kty/crv are set).
 * Errors: JG_ERR_NOMEM, JG_ERR_KEY_INVALID, JG_ERR_KEY_TYPE, JG_ERR_KEY_CURVE.
 */
jg_err jg__jwk_set_meta(jg_jwk *key, const jg_jwk_meta *meta);

/*
 * Complete a constructed key: compute bits, enforce the RSA minimum (unless
 * JG_JWK_ALLOW_WEAK_RSA in `flags`), prepare HMAC state. On error the caller
 * still owns `key` and frees it with jg_jwk_free().
 * Errors: JG_ERR_KEY_WEAK, JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__jwk_finish(jg_jwk *key, unsigned flags);

/* Metadata consistency for an alg on a key of this type/curve (no size or
 * private checks): JG_OK, JG_ERR_KEY_TYPE or JG_ERR_KEY_CURVE. */
jg_err jg__jwk_alg_suits(const jg_jwk *key, jg_alg alg);

/* Whether the key's declared "alg" (if any) permits `alg`; "EdDSA" and the
 * fully specified "Ed25519"/"Ed448" are interchangeable. 1 or 0. */
int jg__jwk_alg_permits(const jg_jwk *key, jg_alg alg);

/* Build (jg__jwk_finish) and free a key's jg__sig_prep; *out stays NULL for
 * keys no RS/PS/ES alg can use. Errors: JG_ERR_NOMEM, JG_ERR_CRYPTO. */
jg_err jg__sig_prep_new(const jg_jwk *key, jg__sig_prep **out);
void jg__sig_prep_free(jg__sig_prep *prep);

/*
 * The ROCA fingerprint (lib/jwk/roca.c): whether the modulus `n` has the
 * form Infineon's vulnerable generator gave every key (1), not (0), or the
 * test could not run (-1). Applied at import by jg__rsa_check_public().
 */
int jg__roca_fingerprint(const BIGNUM *n);

/* ---- jwks.c ------------------------------------------------------------ */

/* How many keys of `set` are "oct" secrets and how many are not (kept up to
 * date by jg_jwks_add(), so asking costs nothing per token). */
void jg__jwks_kinds(const jg_jwks *set, size_t *secret, size_t *other);

/*
 * Whether `key` of `set` is a candidate for a token naming kid `kid`
 * (`kid_len` bytes; NULL: the token names none): without a kid every key
 * is; with one, the keys with that kid, or, when no key of the set has it,
 * the keys without a kid. Lengths are compared: a kid with an embedded NUL
 * matches nothing. `*kid_known` caches whether the set has the kid: start
 * it at -1; the set is searched only when a key without kid is met, so the
 * usual lookup (every key has a kid) costs one pass. After a candidate it
 * is 1 (the set has the kid) or 0 (it has not), and stays -1 when `kid` is
 * NULL.
 */
int jg__jwk_kid_candidate(const jg_jwk *key, const jg_jwks *set, const char *kid, size_t kid_len,
                          int *kid_known);

/* Whether some key of `set` has kid `kid` (`kid_len` bytes). */
int jg__jwks_has_kid(const jg_jwks *set, const char *kid, size_t kid_len);

/* The HMAC slot for HS256/384/512, or -1. */
int jg__hmac_slot(jg_alg alg);

#endif /* JG_LIB_JWK_INTERNAL_H */

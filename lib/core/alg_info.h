/*
 * alg_info.h — the facts about every algorithm (internal, not installed).
 *
 * One row per jg_alg in lib/core/alg.c: its kind, family, key type, curves,
 * hash and sizes. Everything else in the library reads these rows instead of
 * restating them, so adding an algorithm is an enum entry (jwtgate/alg.h), a
 * row here and the code of its family (the file named beside the family).
 */
#ifndef JG_LIB_CORE_ALG_INFO_H
#define JG_LIB_CORE_ALG_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/jwk.h"

/* The hash an algorithm is built on. */
typedef enum jg__hash {
    JG__HASH_NONE = 0,
    JG__HASH_SHA1, /* RSA-OAEP only */
    JG__HASH_SHA256,
    JG__HASH_SHA384,
    JG__HASH_SHA512
} jg__hash;

/* Which code implements an algorithm. */
typedef enum jg__alg_family {
    JG__FAM_NONE = 0,
    JG__FAM_HMAC,      /* HS*: lib/jws/sig_hmac.c */
    JG__FAM_RSA_PKCS1, /* RS*: lib/jws/sig_rsa.c */
    JG__FAM_RSA_PSS,   /* PS*: lib/jws/sig_rsa.c */
    JG__FAM_ECDSA,     /* ES*: lib/jws/sig_ecdsa.c */
    JG__FAM_EDDSA,     /* EdDSA, Ed25519, Ed448: lib/jws/sig_eddsa.c */
    JG__FAM_DIR,       /* dir: lib/jwe/keymgmt_dir.c */
    JG__FAM_AESKW,     /* A*KW: lib/jwe/keymgmt_aeskw.c */
    JG__FAM_GCMKW,     /* A*GCMKW: lib/jwe/keymgmt_gcmkw.c */
    JG__FAM_RSA_ENC,   /* RSA1_5, RSA-OAEP*: lib/jwe/keymgmt_rsa.c */
    JG__FAM_ECDH,      /* ECDH-ES, ECDH-ES+A*KW: lib/jwe/keymgmt_ecdh.c */
    JG__FAM_PBES2      /* PBES2-*: lib/jwe/keymgmt_pbes2.c */
} jg__alg_family;

/* Flags of a row. */
enum {
    /* The CEK is the shared or agreed key itself: no encrypted key. */
    JG__ALG_DIRECT = 1u << 0,
    /* Decryption only, never produced (RSA1_5, RFC 8725 section 3.2). */
    JG__ALG_DECRYPT_ONLY = 1u << 1
};

/* A set of curves: bit (1 << jg_crv). */
#define JG__CRV_BIT(c) (1u << (unsigned)(c))

typedef struct jg__alg_info {
    const char *name; /* the registered "alg" value; NULL for JG_ALG_UNKNOWN */
    uint8_t kind;     /* jg_alg_kind */
    uint8_t family;   /* jg__alg_family */
    uint8_t kty;      /* the key type it needs; JG_KTY_UNKNOWN: EC or OKP, by curve */
    uint8_t crv;      /* the curve a generated key gets (the only one when fixed) */
    uint16_t crvs;    /* the curves a key may have (JG__CRV_BIT); 0: no curve */
    uint8_t hash;     /* jg__hash */
    uint8_t flags;    /* JG__ALG_* */
    uint16_t sig_len; /* JWS: the signature's fixed length; 0 when the key decides */
    uint8_t kek_len;  /* bytes of the key-wrapping key (A*KW, A*GCMKW, ECDH-ES+A*KW, PBES2) */
    uint8_t slot;     /* index of the key's prepared state for the family (see below) */
} jg__alg_info;

/*
 * `slot`: HMAC 0..2 (jg_jwk.hmac[], the hash), RS/PS/ES 0..8 (the templates of
 * lib/jws/sig_prep.c), RSA1_5 and RSA-OAEP* 0..4 (jg_jwk.rsa_kw[], twice).
 */

/* The rows, indexed by jg_alg (row 0 is JG_ALG_UNKNOWN: all zero). */
extern const jg__alg_info jg__alg_rows[JG_ALG__COUNT];

/* The row of `alg`; the all-zero row for JG_ALG_UNKNOWN or out of range. */
static inline const jg__alg_info *jg__alg(jg_alg alg)
{
    return &jg__alg_rows[(unsigned)alg < (unsigned)JG_ALG__COUNT ? (unsigned)alg : 0u];
}

/* OpenSSL's name of `hash` ("SHA256", ...), NULL for JG__HASH_NONE. */
const char *jg__hash_name(jg__hash hash);

/* Bytes of a `hash` output, 0 for JG__HASH_NONE. */
size_t jg__hash_len(jg__hash hash);

/*
 * Whether `key_kty`/`key_crv` suits the row: JG_OK, JG_ERR_KEY_TYPE (wrong
 * key type), JG_ERR_KEY_CURVE (right type, curve not allowed),
 * JG_ERR_ALG_UNKNOWN (no such algorithm).
 */
jg_err jg__alg_key_suits(jg_alg alg, jg_kty key_kty, jg_crv key_crv);

#endif /* JG_LIB_CORE_ALG_INFO_H */

/*
 * jwtgate/alg.h — algorithm identifiers and allow-lists (RFC 7518, 8037, 9864).
 *
 * Every verify and decrypt call takes an allow-list: a jg_alg_set (and for JWE
 * also a jg_enc_set) built by the caller. The token's header never chooses an
 * algorithm on its own; it can only name one the caller already accepts.
 * "none" has no identifier at all, so it cannot be put in a set.
 */
#ifndef JWTGATE_ALG_H
#define JWTGATE_ALG_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/common.h"
#include "jwtgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values of the "alg" header: JWS signatures, then JWE key management. */
typedef enum jg_alg {
    JG_ALG_UNKNOWN = 0,
    /* JWS (RFC 7518 section 3, RFC 8037, RFC 9864). */
    JG_ALG_HS256,
    JG_ALG_HS384,
    JG_ALG_HS512,
    JG_ALG_RS256,
    JG_ALG_RS384,
    JG_ALG_RS512,
    JG_ALG_PS256,
    JG_ALG_PS384,
    JG_ALG_PS512,
    JG_ALG_ES256,
    JG_ALG_ES384,
    JG_ALG_ES512,
    JG_ALG_EDDSA,   /* "EdDSA": Ed25519 or Ed448, chosen by the key's curve */
    JG_ALG_ED25519, /* "Ed25519": fully specified (RFC 9864) */
    JG_ALG_ED448,   /* "Ed448": fully specified (RFC 9864) */
    /* JWE key management (RFC 7518 section 4). */
    JG_ALG_DIR,
    JG_ALG_A128KW,
    JG_ALG_A192KW,
    JG_ALG_A256KW,
    JG_ALG_A128GCMKW,
    JG_ALG_A192GCMKW,
    JG_ALG_A256GCMKW,
    JG_ALG_RSA1_5, /* decryption only, and only when explicitly allowed */
    JG_ALG_RSA_OAEP,
    JG_ALG_RSA_OAEP_256,
    JG_ALG_RSA_OAEP_384,
    JG_ALG_RSA_OAEP_512,
    JG_ALG_ECDH_ES,
    JG_ALG_ECDH_ES_A128KW,
    JG_ALG_ECDH_ES_A192KW,
    JG_ALG_ECDH_ES_A256KW,
    JG_ALG_PBES2_HS256_A128KW,
    JG_ALG_PBES2_HS384_A192KW,
    JG_ALG_PBES2_HS512_A256KW,
    JG_ALG__COUNT
} jg_alg;

/* Values of the "enc" header (RFC 7518 section 5). */
typedef enum jg_enc {
    JG_ENC_UNKNOWN = 0,
    JG_ENC_A128CBC_HS256,
    JG_ENC_A192CBC_HS384,
    JG_ENC_A256CBC_HS512,
    JG_ENC_A128GCM,
    JG_ENC_A192GCM,
    JG_ENC_A256GCM,
    JG_ENC__COUNT
} jg_enc;

/* A set of algorithms: bit (1 << alg). Empty set = nothing allowed. */
typedef uint64_t jg_alg_set;
typedef uint32_t jg_enc_set;

#define JG_ALG_BIT(a) ((jg_alg_set)1 << (unsigned)(a))
#define JG_ENC_BIT(e) ((jg_enc_set)1 << (unsigned)(e))
/*
 * Every content encryption algorithm: what `jwtgate` uses when --enc is not
 * given. The library still requires an explicit set (an empty one is
 * JG_ERR_ENCS_EMPTY), as for every allow-list; all registered "enc" values
 * are authenticated encryption, so accepting all of them is a sound default
 * for a caller that does not pin one.
 */
#define JG_ENC_SET_ALL ((jg_enc_set)(((jg_enc_set)1 << (unsigned)JG_ENC__COUNT) - 2u))

/* Convenience sets. */
#define JG_ALGS_HMAC                                                                               \
    (JG_ALG_BIT(JG_ALG_HS256) | JG_ALG_BIT(JG_ALG_HS384) | JG_ALG_BIT(JG_ALG_HS512))
#define JG_ALGS_RSA_SIG                                                                            \
    (JG_ALG_BIT(JG_ALG_RS256) | JG_ALG_BIT(JG_ALG_RS384) | JG_ALG_BIT(JG_ALG_RS512) |              \
     JG_ALG_BIT(JG_ALG_PS256) | JG_ALG_BIT(JG_ALG_PS384) | JG_ALG_BIT(JG_ALG_PS512))
#define JG_ALGS_EC_SIG                                                                             \
    (JG_ALG_BIT(JG_ALG_ES256) | JG_ALG_BIT(JG_ALG_ES384) | JG_ALG_BIT(JG_ALG_ES512))
#define JG_ALGS_OKP_SIG                                                                            \
    (JG_ALG_BIT(JG_ALG_EDDSA) | JG_ALG_BIT(JG_ALG_ED25519) | JG_ALG_BIT(JG_ALG_ED448))
/* All asymmetric signature algorithms (no HMAC). */
#define JG_ALGS_ASYMMETRIC_SIG (JG_ALGS_RSA_SIG | JG_ALGS_EC_SIG | JG_ALGS_OKP_SIG)

/* Kinds of algorithm, for jg_alg_kind_of(). */
typedef enum jg_alg_kind { JG_ALG_KIND_NONE = 0, JG_ALG_KIND_JWS, JG_ALG_KIND_JWE } jg_alg_kind;

/*
 * jg_alg_name / jg_enc_name — the registered name ("ES256", "A256GCM").
 * Static string, NULL for UNKNOWN or out of range. Thread-safe.
 */
const char *jg_alg_name(jg_alg alg);
const char *jg_enc_name(jg_enc enc);

/*
 * jg_alg_from_name / jg_enc_from_name — look a name up (exact, case-sensitive,
 * `len` bytes, no terminator needed). Returns JG_ALG_UNKNOWN / JG_ENC_UNKNOWN
 * for unknown names, including "none". Thread-safe.
 */
jg_alg jg_alg_from_name(const char *name, size_t len);
jg_enc jg_enc_from_name(const char *name, size_t len);

/* jg_alg_kind_of — whether `alg` is a JWS or a JWE algorithm. Thread-safe. */
jg_alg_kind jg_alg_kind_of(jg_alg alg);

/*
 * jg_alg_set_parse — parse a comma-separated list such as "ES256,EdDSA" into
 * a set. Spaces around names are ignored. Writes *out only on success.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL), JG_ERR_ALG_NONE ("none" listed),
 * JG_ERR_ALG_UNKNOWN (any other unknown name, or an empty list).
 * Thread-safe.
 */
JG_NODISCARD jg_err jg_alg_set_parse(const char *list, jg_alg_set *out);

/*
 * jg_enc_set_parse — the same for "enc" names.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_ENC_UNKNOWN.
 */
JG_NODISCARD jg_err jg_enc_set_parse(const char *list, jg_enc_set *out);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_ALG_H */

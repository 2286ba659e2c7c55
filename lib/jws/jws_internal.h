/*
 * jws_internal.h — what the JWS files share (internal): the parsed form of a
 * token in any serialization, and the result object.
 *
 * Parsing keeps pointers into the caller's token (compact) or into the
 * parsed JSON (JSON serializations) instead of copying: the JWS Signing Input
 * of a compact token is the token's own first bytes.
 */
#ifndef JG_LIB_JWS_INTERNAL_H
#define JG_LIB_JWS_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "jwtgate/jws.h"

/* One signature of a parsed token. */
typedef struct jg__jws_sig {
    json_t *prot;         /* decoded protected header (owned), or NULL when absent */
    json_t *unprot;       /* unprotected header (borrowed from the root), or NULL */
    const char *prot_b64; /* the protected header as sent ("" when absent) */
    size_t prot_b64_len;
    const char *sig_b64; /* the signature as sent */
    size_t sig_b64_len;
} jg__jws_sig;

/* A token split into its parts; no semantic checks yet. */
typedef struct jg__jws_parsed {
    json_t *root; /* JSON serializations: the whole document; compact: NULL */
    int compact;
    int has_payload;         /* the token carries a payload (non-empty compact part,
                                or a "payload" member) */
    const char *payload_enc; /* the payload as sent (base64url, or raw for b64:false) */
    size_t payload_enc_len;
    size_t signing_input_len; /* compact: header '.' payload is token[0, this) */
    size_t n;                 /* number of signatures */
    jg__jws_sig *sigs;        /* `one` for compact; heap for JSON */
    jg__jws_sig one;
} jg__jws_parsed;

/*
 * Split `token` (compact, flattened or general JSON, chosen by the first
 * non-blank byte) and decode every protected header. `limits` must not be
 * NULL. On error nothing needs freeing. Errors: JG_ERR_TOKEN_FORMAT,
 * JG_ERR_LIMIT_HEADER_SIZE, JG_ERR_LIMIT_SIGNATURES, JG_ERR_LIMIT_JSON_DEPTH,
 * JG_ERR_B64_*, JG_ERR_JSON_*, JG_ERR_NOMEM.
 */
jg_err jg__jws_parse(const char *token, size_t len, const jg_limits *limits, jg__jws_parsed *out);

/* Release what jg__jws_parse() allocated. */
void jg__jws_parsed_free(jg__jws_parsed *parsed);

/*
 * Decode one base64url protected header (at most limits->max_header_len
 * bytes once decoded) and parse it as a JSON object.
 */
jg_err jg__jws_decode_header(const char *b64, size_t len, const jg_limits *limits, json_t **out);

/*
 * jg_jws_sign() with one signer, compact, attached, base64url payload, and
 * the protected header {"alg","kid" (the key's),"typ"}: what jg_jwt_sign()
 * writes when the caller adds no header members, built without a JSON
 * library. `alg` JG_ALG_UNKNOWN: the key's. `typ`, and the key's kid, must
 * be printable ASCII without '"' or '\\' (JG_ERR_INVALID_ARGUMENT otherwise:
 * the caller then takes the general path). Errors as jg_jws_sign().
 */
jg_err jg__jws_sign_compact_typ(const void *payload, size_t payload_len, const jg_jwk *key,
                                jg_alg alg, const char *typ, char **out, size_t *out_len);

/* The result object (jws_result.c). */
struct jg_jws {
    json_t *prot;   /* protected header of the first verified signature, or NULL */
    json_t *unprot; /* its unprotected header, or NULL */
    jg_alg alg;
    const jg_jwk *key;
    size_t sig_count;
    size_t verified;
    size_t payload_len;
    unsigned char payload[]; /* payload_len bytes and a NUL */
};

/* A zeroed result with room for `payload_cap` payload bytes plus the NUL, or
 * NULL. */
jg_jws *jg__jws_new(size_t payload_cap);

#endif /* JG_LIB_JWS_INTERNAL_H */

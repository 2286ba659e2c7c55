/*
 * jws_internal.h — what the JWS files share (internal): the parsed form of a
 * token in any serialization, and the result object.
 *
 * Parsing keeps pointers into the caller's token (compact) or into the
 * parsed JSON (JSON serializations) instead of copying: the JWS Signing Input
 * of a compact token is the token's own first bytes. Documents and headers
 * are read with the library's own reader (core/jdoc.h), never built into
 * jansson trees: a JSON serialization's signatures are counted in the flat
 * form, before any per-signature work, and a header costs three allocations
 * whatever its size.
 */
#ifndef JG_LIB_JWS_INTERNAL_H
#define JG_LIB_JWS_INTERNAL_H

#include <stddef.h>

#include "core/header.h"
#include "core/jdoc.h"
#include "jwtgate/jws.h"

/* One signature of a parsed token. */
typedef struct jg__jws_sig {
    jg__jdoc *prot;       /* decoded protected header (owned; node 0), or NULL when absent */
    uint32_t unprot;      /* node of the unprotected header in the parsed document, 0: none */
    const char *prot_b64; /* the protected header as sent ("" when absent) */
    size_t prot_b64_len;
    const char *sig_b64; /* the signature as sent */
    size_t sig_b64_len;
} jg__jws_sig;

/* A token split into its parts; no semantic checks yet. */
typedef struct jg__jws_parsed {
    jg__jdoc *doc; /* JSON serializations: the whole document; compact: NULL */
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

/* The protected and unprotected headers of `sig` as header views. */
static inline jg__jhdr jg__jws_prot(const jg__jws_sig *sig)
{
    return (jg__jhdr){sig->prot, 0};
}
static inline jg__jhdr jg__jws_unprot(const jg__jws_parsed *p, const jg__jws_sig *sig)
{
    return (jg__jhdr){sig->unprot != 0 ? p->doc : NULL, sig->unprot};
}

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
 * bytes once decoded) and read it as a JSON object (node 0 of *out).
 * Errors: JG_ERR_LIMIT_HEADER_SIZE, JG_ERR_B64_*, JG_ERR_JSON_*,
 * JG_ERR_LIMIT_JSON_DEPTH, JG_ERR_NOMEM.
 */
jg_err jg__jws_decode_header(const char *b64, size_t len, const jg_limits *limits, jg__jdoc **out);

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
    jg__jdoc *prot;  /* protected header of the first verified signature, or NULL */
    jg__jdoc *doc;   /* the JSON document holding its unprotected header, or NULL */
    uint32_t unprot; /* that header's node in `doc`, 0 when none */
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

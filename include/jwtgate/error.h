/*
 * jwtgate/error.h — the one error enum of libjwtgate.
 *
 * Every public function that can fail returns a jg_err. JG_OK is zero, so
 * `if (err) ...` reads naturally. Each failure has its own code so that
 * callers (and tests) can tell exactly why an input was refused; the text for
 * each code comes from jg_strerror(). Codes are stable: new ones are only ever
 * appended before JG_ERR__COUNT.
 */
#ifndef JWTGATE_ERROR_H
#define JWTGATE_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jg_err {
    JG_OK = 0,

    /* General. */
    JG_ERR_NOMEM,            /* an allocation failed */
    JG_ERR_INVALID_ARGUMENT, /* NULL pointer, bad option or misuse of the API */
    JG_ERR_CRYPTO,           /* OpenSSL failed where it should not have */
    JG_ERR_UNSUPPORTED,      /* a valid request this build cannot perform */

    /* Resource limits (see jg_limits). */
    JG_ERR_LIMIT_TOKEN_SIZE,  /* token longer than max_token_len */
    JG_ERR_LIMIT_HEADER_SIZE, /* header longer than max_header_len */
    JG_ERR_LIMIT_JSON_DEPTH,  /* JSON nested deeper than max_json_depth */
    JG_ERR_LIMIT_JSON_SIZE,   /* JSON document larger than allowed */
    JG_ERR_LIMIT_SIGNATURES,  /* more signatures than max_signatures */
    JG_ERR_LIMIT_RECIPIENTS,  /* more recipients than max_recipients */
    JG_ERR_LIMIT_KEYS,        /* key set larger than max_keys */
    JG_ERR_LIMIT_PBES2_COUNT, /* PBES2 p2c above max_pbes2_count */
    JG_ERR_LIMIT_INFLATED,    /* decompressed payload above max_inflated_len */

    /* base64url (RFC 7515 section 2: no padding, no whitespace). */
    JG_ERR_B64_CHAR,         /* a character outside the base64url alphabet */
    JG_ERR_B64_PADDING,      /* '=' padding present */
    JG_ERR_B64_LENGTH,       /* length that no encoding can have (4n+1) */
    JG_ERR_B64_NONCANONICAL, /* unused trailing bits are not zero */

    /* JSON. */
    JG_ERR_JSON_SYNTAX,     /* not well-formed JSON (or not UTF-8) */
    JG_ERR_JSON_DUPLICATE,  /* an object repeats a member name */
    JG_ERR_JSON_NOT_OBJECT, /* a JSON object was required */
    JG_ERR_JSON_TYPE,       /* a member has the wrong JSON type */
    JG_ERR_JSON_NUMBER,     /* a number is not an integer or out of range */

    /* Token structure and headers. */
    JG_ERR_TOKEN_FORMAT,       /* wrong number of parts or malformed serialization */
    JG_ERR_HEADER_ALG_MISSING, /* the header has no "alg" */
    JG_ERR_HEADER_INVALID,     /* a header parameter has an invalid value */
    JG_ERR_HEADER_DUPLICATE,   /* a name appears in more than one header */
    JG_ERR_CRIT_UNKNOWN,       /* "crit" names an extension we do not process */
    JG_ERR_CRIT_INVALID,       /* "crit" empty, not strings, repeated, standard
                                  names, or naming an absent parameter */
    JG_ERR_CRIT_UNPROTECTED,   /* "crit" outside the protected header */
    JG_ERR_B64_HEADER,         /* "b64" misused (unprotected, not in crit,
                                  differs between signatures) */
    JG_ERR_DETACHED_PAYLOAD,   /* detached payload expected or given wrongly */

    /* Algorithms. */
    JG_ERR_ALG_UNKNOWN,     /* an "alg" value this library does not know */
    JG_ERR_ALG_NOT_ALLOWED, /* "alg" not in the caller's allow-list */
    JG_ERR_ALG_NONE,        /* "none": never accepted */
    JG_ERR_ENC_UNKNOWN,     /* an "enc" value this library does not know */
    JG_ERR_ENC_NOT_ALLOWED, /* "enc" not in the caller's allow-list */
    JG_ERR_ALG_KIND,        /* a JWE alg used for JWS or the reverse */

    /* Keys. */
    JG_ERR_KEY_INVALID,     /* malformed JWK: missing or bad parameter */
    JG_ERR_KEY_KTY,         /* unsupported "kty" */
    JG_ERR_KEY_CURVE,       /* unsupported or mismatched "crv" */
    JG_ERR_KEY_POINT,       /* public point not on the curve / invalid */
    JG_ERR_KEY_WEAK,        /* RSA under 2048 bits, HMAC key shorter
                               than the hash output, all-zero secret */
    JG_ERR_KEY_SIZE,        /* key of the wrong size for the algorithm
                               (AES key wrap, dir) */
    JG_ERR_KEY_MISMATCH,    /* private part does not match the public part */
    JG_ERR_KEY_NOT_PRIVATE, /* the operation needs a private key */
    JG_ERR_KEY_ALG,         /* the key's "alg" differs from the one used */
    JG_ERR_KEY_USE,         /* the key's "use" forbids this operation */
    JG_ERR_KEY_OPS,         /* the key's "key_ops" forbids this operation */
    JG_ERR_KEY_TYPE,        /* key type cannot be used with this algorithm */
    JG_ERR_KEY_NOT_FOUND,   /* no key of the set fits the token */
    JG_ERR_KEY_PEM,         /* PEM or DER that is not a supported key */
    JG_ERR_KEYSET_INVALID,  /* malformed JWKS */

    /* Signatures. */
    JG_ERR_SIGNATURE,        /* signature or MAC does not verify */
    JG_ERR_SIGNATURE_LENGTH, /* signature of the wrong length for its alg */
    JG_ERR_SIGNATURE_RANGE,  /* ECDSA r or s is 0 or not below the order */

    /* JWT claims. */
    JG_ERR_CLAIMS_INVALID, /* the payload is not a JSON object */
    JG_ERR_CLAIM_MISSING,  /* a required or requested claim is absent */
    JG_ERR_CLAIM_TYPE,     /* a claim has the wrong type */
    JG_ERR_EXPIRED,        /* "exp" is in the past (beyond leeway) */
    JG_ERR_NOT_YET_VALID,  /* "nbf" is in the future (beyond leeway) */
    JG_ERR_IAT_FUTURE,     /* "iat" is in the future (beyond leeway) */
    JG_ERR_TOO_OLD,        /* "iat" older than the allowed maximum age */
    JG_ERR_ISSUER,         /* "iss" is not the expected issuer */
    JG_ERR_AUDIENCE,       /* "aud" does not hold the expected audience */
    JG_ERR_SUBJECT,        /* "sub" is not the expected subject */
    JG_ERR_TYP,            /* header "typ" is not the expected type */

    /* JWE. */
    JG_ERR_DECRYPT,         /* decryption or tag check failed */
    JG_ERR_IV_LENGTH,       /* IV of the wrong length for "enc" or GCMKW */
    JG_ERR_TAG_LENGTH,      /* authentication tag of the wrong length */
    JG_ERR_ENCRYPTED_KEY,   /* encrypted key present/absent/wrong length */
    JG_ERR_CEK_LENGTH,      /* CEK of the wrong length for "enc" */
    JG_ERR_EPK_INVALID,     /* "epk" missing, malformed, or not on the curve */
    JG_ERR_PBES2_SALT,      /* "p2s" missing or shorter than 8 bytes */
    JG_ERR_ZIP_UNSUPPORTED, /* "zip" other than "DEF", or zip disabled */
    JG_ERR_ZIP_UNPROTECTED, /* "zip" outside the protected header */
    JG_ERR_ZIP_DATA,        /* compressed data is corrupt */
    JG_ERR_NOT_ENCRYPTED,   /* policy requires a JWE, got a JWS */
    JG_ERR_NOT_NESTED,      /* policy requires a nested JWS inside the JWE */
    JG_ERR_NESTED_KEY,      /* inner JWS verified by a decryption key */

    /* Files and compiled snapshots (jwtgate/snapshot.h). */
    JG_ERR_FILE,                /* a file cannot be opened, read, written or mapped (errno kept) */
    JG_ERR_AGAIN,               /* not finished yet: call again (incremental work) */
    JG_ERR_NOT_FOUND,           /* no such entry (lookups) */
    JG_ERR_SNAPSHOT_FORMAT,     /* not a compiled snapshot, or a bad size, section or reference */
    JG_ERR_SNAPSHOT_VERSION,    /* a snapshot format version this build does not read */
    JG_ERR_SNAPSHOT_CHECKSUM,   /* the snapshot's checksum does not match: torn or corrupted */
    JG_ERR_SNAPSHOT_UNVERIFIED, /* the snapshot's checksum has not been verified yet */
    JG_ERR_KEY_ROCA,            /* RSA modulus with the Infineon (ROCA, CVE-2017-15361) fingerprint:
                                   its factors can be computed */

    /* Scopes, key files, allow-lists (issue 13). */
    JG_ERR_SCOPE,               /* "scope" lacks a scope the policy requires */
    JG_ERR_SCOPE_INVALID,       /* "scope" is not space-delimited scope tokens */
    JG_ERR_FILE_TYPE,           /* not a regular file (a directory, FIFO, device) */
    JG_ERR_LIMIT_FILE_SIZE,     /* key file or key text larger than the limit */
    JG_ERR_KEY_FORMAT,          /* neither a JWK, a JWKS, PEM nor DER */
    JG_ERR_ALGS_EMPTY,          /* the signature algorithm allow-list is empty */
    JG_ERR_KEY_ALGS_EMPTY,      /* the key management algorithm allow-list is empty */
    JG_ERR_ENCS_EMPTY,          /* the content encryption allow-list is empty */
    JG_ERR_ACCESS_TOKEN_CLAIMS, /* sealing without "exp", "aud" or "jti" (RFC 9068) */

    /* Key sets. */
    JG_ERR_KEYSET_MIXED, /* a verification set mixes "oct" secrets and public keys
                            (see allow_mixed_keys) */

    /* DPoP proofs (jwtgate/dpop.h, RFC 9449). */
    JG_ERR_DPOP_TYP,           /* DPoP proof "typ" is not "dpop+jwt" */
    JG_ERR_DPOP_ALG_SYMMETRIC, /* DPoP proof with a symmetric (HMAC) alg or key */
    JG_ERR_DPOP_JWK_MISSING,   /* DPoP proof without a "jwk" object in its header */
    JG_ERR_DPOP_JWK_PRIVATE,   /* DPoP proof "jwk" carries private key members */
    JG_ERR_DPOP_JWK_ALG,       /* DPoP proof "jwk" does not fit its "alg" */
    JG_ERR_DPOP_JTI_LENGTH,    /* DPoP proof "jti" empty or longer than allowed */
    JG_ERR_DPOP_HTM,           /* DPoP proof "htm" is not the request's method */
    JG_ERR_DPOP_HTU_INVALID,   /* DPoP "htu" not an http(s) URI, or with query or fragment */
    JG_ERR_DPOP_HTU,           /* DPoP proof "htu" is not the request's URI */
    JG_ERR_DPOP_IAT_FUTURE,    /* DPoP proof "iat" in the future (beyond leeway) */
    JG_ERR_DPOP_IAT_STALE,     /* DPoP proof "iat" older than the window */
    JG_ERR_DPOP_ATH_MISSING,   /* DPoP proof without "ath" for the presented token */
    JG_ERR_DPOP_ATH,           /* DPoP proof "ath" is not the hash of the token */
    JG_ERR_DPOP_NONCE_MISSING, /* DPoP proof without the "nonce" the server requires */
    JG_ERR_DPOP_NONCE,         /* DPoP proof "nonce" is not the server's nonce */
    JG_ERR__COUNT              /* number of codes; not an error */
} jg_err;

/*
 * jg_strerror — a short English sentence describing `err`.
 *
 * Returns a static string (never NULL; "unknown error code" for values out of
 * range). The caller must not free it. Thread-safe. Never fails.
 */
const char *jg_strerror(jg_err err);

/*
 * jg_err_name — the enum constant's name, e.g. "JG_ERR_EXPIRED", for logs and
 * test output. Static string; "JG_ERR_UNKNOWN" if out of range. Thread-safe.
 */
const char *jg_err_name(jg_err err);

/* ---- Rejection detail --------------------------------------------------- */

/*
 * A jg_err says what went wrong; a jg_detail says which: the claim, what the
 * policy asked for and what the token said, the times compared, the kid and
 * alg a key was looked up for. The *_ex() entry points (jg_jws_verify_ex(),
 * jg_jwe_decrypt_ex(), jg_jwt_verify_ex(), jg_access_token_open_ex(),
 * jg_claims_validate_ex(), jg_jwks_parse_ex(), jg_dpop_verify()) take an optional trailing
 * `jg_detail *` (NULL: none). On success they zero it (err JG_OK, kind
 * JG_DETAIL_NONE); on failure `err` is the returned error and the other
 * fields say what is known about it (kind JG_DETAIL_NONE when nothing
 * more is known than the error itself).
 *
 * No allocation: fixed-size arrays, so a detail may live on the stack (about
 * 1.2 KiB). Texts are NUL-terminated, truncated (ending in "...") and
 * escaped: '"' and '\' get a backslash, every byte outside printable ASCII
 * is written as \xNN, so a detail is one safe line for a terminal or a log.
 *
 * What a detail may hold: claim and header names; the policy's expected
 * values (issuer, audience, subject, typ, allowed algorithms, required claim
 * names); the values of the registered claims a rule compares (iss, sub, aud
 * and the times exp, nbf, iat), the header parameters "typ", "alg", "enc",
 * "kid" and an unknown "crit" name; the kids of a key set. What it never
 * holds: a key, an HMAC secret or any key material, the token or any part of
 * it as sent, the payload or plaintext, or any other claim.
 */

/* What a detail explains: which fields are filled. */
typedef enum jg_detail_kind {
    JG_DETAIL_NONE = 0, /* nothing beyond `err` */
    JG_DETAIL_CLAIM,    /* a claim rule: name, expected, actual (iss, sub,
                           aud, a missing or mistyped claim) */
    JG_DETAIL_TIME,     /* a time rule: name ("exp", "nbf", "iat"), time,
                           now, leeway, max_age (JG_ERR_TOO_OLD) */
    JG_DETAIL_HEADER,   /* a header rule: name ("typ", "crit", "alg",
                           "enc"), expected, actual */
    JG_DETAIL_KEY,      /* key selection: the token's kid (has_kid), alg,
                           enc; the set's key count and kids */
    JG_DETAIL_KEYSET    /* a key set: skipped keys (load), or secret_keys
                           and public_keys (JG_ERR_KEYSET_MIXED) */
} jg_detail_kind;

#define JG_DETAIL_NAME_MAX    64  /* name, kid, a skipped key's kid (with NUL) */
#define JG_DETAIL_TEXT_MAX    160 /* expected, actual, set_kids (with NUL) */
#define JG_DETAIL_ALG_MAX     24  /* alg, enc (with NUL) */
#define JG_DETAIL_SKIPPED_MAX 4

/* One key a set skipped while loading: its position in the "keys" array,
 * its kid ("" when none) and why. */
typedef struct jg_detail_skip {
    size_t index;
    char kid[JG_DETAIL_NAME_MAX];
    jg_err err;
} jg_detail_skip;

typedef struct jg_detail {
    jg_err err;          /* the error this explains; JG_OK: none */
    jg_detail_kind kind; /* which fields below are filled */
    /* The claim or header parameter concerned ("exp", "iss", "aud", "typ",
     * "crit", "alg", "enc", the name of a missing required claim ...). */
    char name[JG_DETAIL_NAME_MAX];
    /* What the policy asked for and what the token said, as display text:
     * a string in double quotes ("\"https://a\""), a list in brackets, a
     * description ("absent", "a number", "one of RS256, ES256"). Empty when
     * not known. */
    char expected[JG_DETAIL_TEXT_MAX];
    char actual[JG_DETAIL_TEXT_MAX];
    /* JG_DETAIL_TIME: the claim's value, the clock, the policy's leeway and
     * (JG_ERR_TOO_OLD) max_age, in seconds (since the epoch for times). */
    int64_t time, now, leeway, max_age;
    /* JG_DETAIL_KEY: the token's (or recipient's) kid when has_kid, its alg
     * and (JWE) enc names; the set's number of keys, how many of them have
     * no kid, and its kids (comma-separated, truncated). */
    int has_kid;
    char kid[JG_DETAIL_NAME_MAX];
    char alg[JG_DETAIL_ALG_MAX];
    char enc[JG_DETAIL_ALG_MAX];
    size_t set_count, set_without_kid;
    char set_kids[JG_DETAIL_TEXT_MAX];
    /* JG_DETAIL_KEYSET: keys skipped while loading a set (skipped_count in
     * all; the first JG_DETAIL_SKIPPED_MAX of them in `skipped`), or the
     * numbers of "oct" and other keys of a mixed set. */
    size_t skipped_count;
    jg_detail_skip skipped[JG_DETAIL_SKIPPED_MAX];
    size_t secret_keys, public_keys;
} jg_detail;

/*
 * jg_detail_format — one human-readable line (no newline) for `detail`,
 * written NUL-terminated into `buf` (truncated to `len` - 1 bytes), e.g.
 *   iss: expected "https://a", got "https://b"
 *   exp: expired at 2026-12-03T10:00:00Z (now 2026-12-03T10:05:12Z, leeway 0 s)
 *   no key with kid "k2" for alg ES256 (the set has kids: k1)
 * The line holds what the detail holds (never a secret or a token) and does
 * not repeat jg_strerror(detail->err): print both, "error: line". Returns
 * the length of the line (0 when the detail adds nothing: NULL, JG_OK or
 * JG_DETAIL_NONE), like snprintf() the length it would have had if it was
 * truncated. `buf` may be NULL when `len` is 0. Thread-safe. Never fails.
 */
size_t jg_detail_format(const jg_detail *detail, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_ERROR_H */

/*
 * access_token.c — nested access tokens (include/jwtgate/access_token.h):
 * JWE(JWS(claims)) with "typ":"at+jwt" inside (RFC 9068) and "cty":"JWT"
 * outside (RFC 7519 section 5.2).
 *
 * Open is the gateway's per-request path. Keys arrive prepared in their
 * sets; the token's shape (JWS or JWE) is read from its structure, not from
 * anything it claims; the inner JWS is verified straight from the decrypted
 * plaintext and the claims parsed from the verified payload, so nothing is
 * copied between the layers.
 */
#include <string.h>

#include <openssl/evp.h>

#include "core/detail.h"
#include "core/json.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/access_token.h"
#include "jwtgate/jwe.h"
#include "jwtgate/jws.h"

#define DEFAULT_TYP "at+jwt"

/*
 * RFC 9068 section 2.2: an access token MUST hold "exp", "aud" and "jti"
 * (among others): without them a resource server can neither expire it,
 * nor tell which API it is for, nor recognise a replay or a revocation.
 * "aud" is a string or a non-empty array of strings.
 */
static int has_access_token_claims(const jg_claims *claims)
{
    int64_t exp = 0;
    const char *jti = NULL;
    size_t n = jg_claims_aud_count(claims);
    if (jg_claims_get_int(claims, "exp", &exp) != JG_OK ||
        jg_claims_get_string(claims, "jti", &jti) != JG_OK || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (jg_claims_aud_at(claims, i) == NULL)
            return 0;
    return 1;
}

jg_err jg_access_token_seal(const jg_claims *claims, const jg_jwk *sign_key, const jg_jwk *enc_key,
                            const jg_seal_opts *opts, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (claims == NULL || sign_key == NULL || enc_key == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (!has_access_token_claims(claims))
        return JG_ERR_ACCESS_TOKEN_CLAIMS;
    jg_jwt_sign_opts sopts = {
        .alg = opts != NULL ? opts->sign_alg : JG_ALG_UNKNOWN,
        .typ = opts != NULL && opts->typ != NULL ? opts->typ : DEFAULT_TYP,
    };
    char *jws = NULL;
    size_t jws_len = 0;
    jg_err err = jg_jwt_sign(claims, sign_key, &sopts, &jws, &jws_len);
    if (err != JG_OK)
        return err;
    /* The key's kid goes into the protected header (compact). */
    jg_jwe_recipient r = {enc_key, opts != NULL ? opts->key_alg : JG_ALG_UNKNOWN, NULL};
    jg_jwe_encrypt_opts eopts = {
        .enc = opts != NULL ? opts->enc : JG_ENC_UNKNOWN,
        .format = JG_FORMAT_COMPACT,
        .protected_json = "{\"cty\":\"JWT\"}",
    };
    err = jg_jwe_encrypt(jws, jws_len, &r, 1, &eopts, out, out_len);
    /* The signed token carries the claims in clear: wipe it. */
    jg_free_secret(jws, jws_len);
    return err;
}

/* ---- Shapes ------------------------------------------------------------------ */

typedef enum shape { SHAPE_BAD = 0, SHAPE_JWS, SHAPE_JWE } shape;

/* Compact tokens by their number of parts (3 or 5); JSON serializations by
 * their members ("ciphertext" or "payload"/"signatures"). */
static shape shape_of(const char *token, size_t len, const jg_limits *limits, int *json)
{
    size_t i = 0;
    while (i < len && (token[i] == ' ' || token[i] == '\t' || token[i] == '\r' || token[i] == '\n'))
        i++;
    *json = i < len && token[i] == '{';
    if (!*json) {
        /* memchr per dot (at most five): the token is scanned by the C
         * library's vector code instead of byte by byte, on every request. */
        size_t dots = 0;
        const char *p = token, *end = token + len;
        while (dots < 5 && p < end && (p = memchr(p, '.', (size_t)(end - p))) != NULL) {
            dots++;
            p++;
        }
        return dots == 2 ? SHAPE_JWS : dots == 4 ? SHAPE_JWE : SHAPE_BAD;
    }
    if (len > limits->max_token_len)
        return SHAPE_BAD;
    json_t *doc = NULL;
    if (jg__json_parse_object(token, len, limits->max_json_depth, 0, &doc) != JG_OK)
        return SHAPE_BAD;
    shape s =
        json_object_get(doc, "ciphertext") != NULL ? SHAPE_JWE
        : json_object_get(doc, "payload") != NULL || json_object_get(doc, "signatures") != NULL
            ? SHAPE_JWS
            : SHAPE_BAD;
    json_decref(doc);
    return s;
}

/* Whether two keys hold the same material (any representation). */
static int same_material(const jg_jwk *a, const jg_jwk *b)
{
    if (a == NULL || b == NULL)
        return 0;
    if (a == b)
        return 1;
    if (a->pkey != NULL && b->pkey != NULL)
        return EVP_PKEY_eq(a->pkey, b->pkey) == 1;
    if (a->secret != NULL && b->secret != NULL)
        return a->secret_len == b->secret_len &&
               jg_memeq_consttime(a->secret, b->secret, a->secret_len);
    return 0;
}

/* Claims from a payload, validated. *out may be NULL to only check. */
static jg_err claims_from(const unsigned char *payload, size_t len, const jg_jwt_policy *policy,
                          jg_claims **out, jg_detail *d)
{
    jg_claims *claims = NULL;
    jg_err err = jg_claims_parse((const char *)payload, len, policy->limits, &claims);
    if (err == JG_OK)
        err = jg_claims_validate_ex(claims, policy, d);
    if (err == JG_OK && out != NULL) {
        *out = claims;
        return JG_OK;
    }
    jg_claims_free(claims);
    return err;
}

/* The policy's JWT rules with "at+jwt" as the default typ. */
static jg_jwt_policy jwt_rules(const jg_open_policy *policy)
{
    jg_jwt_policy p = policy->jwt;
    if (p.typ == NULL)
        p.typ = DEFAULT_TYP;
    return p;
}

/*
 * Whether `signer` holds the material of a key of `decrypt_keys` that can
 * decrypt (has a private part). Whoever can make a JWE for a symmetric
 * decryption key knows that key, so if it also verified the inner JWS, the
 * signature would prove nothing; an asymmetric decryption key signing is a
 * configuration mistake of the same kind. Checking every decryption key,
 * not only the one that opened this token, closes the variant where the
 * token is encrypted to one key and signed with another of the same set.
 */
static int signer_can_decrypt(const jg_jwks *decrypt_keys, const jg_jwk *signer)
{
    size_t n = jg_jwks_count(decrypt_keys);
    for (size_t i = 0; i < n; i++) {
        const jg_jwk *key = jg_jwks_get(decrypt_keys, i);
        if (key != NULL && key->is_private && same_material(key, signer))
            return 1;
    }
    return 0;
}

/*
 * Verify a compact JWS (from the token, or in place in the decrypted
 * plaintext), check its typ and claims. `decrypt_keys` (NULL for a bare
 * JWS) are the keys of the outer layer, none of which may be the signer.
 */
/* The "typ" of `headers` (a JWS or a JWE result) checked against `expected`. */
static jg_err typ_check(jg_err got, const char *typ, const char *expected, jg_detail *d)
{
    if (got == JG_OK && jg_typ_matches(typ, expected))
        return JG_OK;
    jg__detail_begin(d, JG_ERR_TYP, JG_DETAIL_HEADER, "typ");
    jg__detail_expected_str(d, expected, strlen(expected));
    if (got == JG_OK && typ != NULL)
        jg__detail_actual_str(d, typ, strlen(typ));
    else
        jg__detail_actual_text(d, got == JG_ERR_JSON_TYPE ? "not a string" : "absent");
    return JG_ERR_TYP;
}

static jg_err open_jws(const char *token, size_t len, const jg_jwks *verify_keys,
                       const jg_jwt_policy *rules, const jg_jwks *decrypt_keys, jg_claims **out,
                       jg_detail *d)
{
    if (verify_keys == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_jws_verify_opts vopts = {
        .algs = rules->algs,
        .policy = JG_SIG_ANY,
        .crit = rules->crit,
        .limits = rules->limits,
        .allow_mixed_keys = rules->allow_mixed_keys,
    };
    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify_ex(token, len, verify_keys, &vopts, &jws, d);
    if (err != JG_OK)
        return err;
    if (decrypt_keys != NULL && signer_can_decrypt(decrypt_keys, jg_jws_key(jws))) {
        err = JG_ERR_NESTED_KEY;
    } else {
        const char *typ = NULL;
        jg_err got = jg_jws_header_string(jws, "typ", &typ);
        err = typ_check(got, typ, rules->typ, d);
    }
    if (err == JG_OK) {
        size_t plen = 0;
        const unsigned char *payload = jg_jws_payload(jws, &plen);
        err = payload != NULL ? claims_from(payload, plen, rules, out, d) : JG_ERR_CLAIMS_INVALID;
    }
    jg_jws_free(jws);
    return err;
}

/*
 * The type of claims directly in a JWE (JG_FORM_ENCRYPTED; RFC 7519 section
 * 5.1: the JWE header carries "typ"). A "typ" the caller names must be there
 * and match. With none named, what other libraries write is accepted: no
 * "typ" at all (npm jose's EncryptJWT), "JWT" (which says no more than its
 * absence) or "at+jwt"; any other type (a logout or security event token)
 * is another kind of JWT, refused (RFC 8725 section 3.11).
 */
static jg_err bare_claims_typ(const jg_jwe *jwe, const char *expected)
{
    const char *typ = NULL;
    jg_err err = jg_jwe_header_string(jwe, "typ", &typ);
    if (expected != NULL)
        return err == JG_OK && jg_typ_matches(typ, expected) ? JG_OK : JG_ERR_TYP;
    if (err == JG_ERR_CLAIM_MISSING)
        return JG_OK;
    return err == JG_OK && (jg_typ_matches(typ, "JWT") || jg_typ_matches(typ, DEFAULT_TYP))
               ? JG_OK
               : JG_ERR_TYP;
}

static jg_err open_jwe(const char *token, size_t len, const jg_jwks *decrypt_keys,
                       const jg_jwks *verify_keys, const jg_open_policy *policy,
                       const jg_jwt_policy *rules, jg_claims **out, jg_detail *d)
{
    if (decrypt_keys == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_jwe_decrypt_opts dopts = {policy->key_algs, policy->encs, rules->crit, rules->limits};
    jg_jwe *jwe = NULL;
    jg_err err = jg_jwe_decrypt_ex(token, len, decrypt_keys, &dopts, &jwe, d);
    if (err != JG_OK)
        return err;

    size_t plen = 0;
    const unsigned char *pt = jg_jwe_plaintext(jwe, &plen);
    const char *cty = NULL;
    /* "cty" is a media type like "typ": "JWT", "jwt", "application/jwt". */
    int nested = jg_jwe_header_string(jwe, "cty", &cty) == JG_OK && jg_typ_matches(cty, "JWT");
    /* A nested JWT is a compact JWS: three base64url parts, nothing else. */
    size_t dots = 0;
    int b64_only = 1;
    for (size_t i = 0; i < plen; i++) {
        unsigned char ch = pt[i];
        dots += ch == '.';
        b64_only &= (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    }
    if (nested && (dots != 2 || !b64_only))
        err = JG_ERR_NOT_NESTED;
    else if (nested)
        err = open_jws((const char *)pt, plen, verify_keys, rules, decrypt_keys, out, d);
    else if (policy->form != JG_FORM_ENCRYPTED)
        err = JG_ERR_NOT_NESTED;
    else if ((err = bare_claims_typ(jwe, policy->jwt.typ)) == JG_OK)
        err = claims_from(pt, plen, rules, out, d);
    jg_jwe_free(jwe);
    return err;
}

static jg_err open_token(const char *token, size_t token_len, const jg_jwks *decrypt_keys,
                         const jg_jwks *verify_keys, const jg_open_policy *policy, jg_claims **out,
                         jg_detail *d)
{
    if (out != NULL)
        *out = NULL;
    if (token == NULL || policy == NULL || (unsigned)policy->form > (unsigned)JG_FORM_ANY)
        return JG_ERR_INVALID_ARGUMENT;
    jg_limits limits = policy->jwt.limits != NULL ? *policy->jwt.limits : jg_limits_default();
    if (token_len > limits.max_token_len)
        return JG_ERR_LIMIT_TOKEN_SIZE;
    jg_jwt_policy rules = jwt_rules(policy);

    int json = 0;
    shape s = shape_of(token, token_len, &limits, &json);
    if (s == SHAPE_BAD)
        return JG_ERR_TOKEN_FORMAT;
    if (s == SHAPE_JWS) {
        if (policy->form == JG_FORM_NESTED || policy->form == JG_FORM_ENCRYPTED)
            return JG_ERR_NOT_ENCRYPTED;
        if (json) /* a JWT is compact (RFC 7519 section 1) */
            return JG_ERR_TOKEN_FORMAT;
        return open_jws(token, token_len, verify_keys, &rules, NULL, out, d);
    }
    if (policy->form == JG_FORM_SIGNED)
        return JG_ERR_TOKEN_FORMAT; /* a JWE where only a bare JWS is accepted */
    return open_jwe(token, token_len, decrypt_keys, verify_keys, policy, &rules, out, d);
}

jg_err jg_access_token_open_ex(const char *token, size_t token_len, const jg_jwks *decrypt_keys,
                               const jg_jwks *verify_keys, const jg_open_policy *policy,
                               jg_claims **out, jg_detail *detail)
{
    jg__detail_clear(detail);
    jg_err err = open_token(token, token_len, decrypt_keys, verify_keys, policy, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_access_token_open(const char *token, size_t token_len, const jg_jwks *decrypt_keys,
                            const jg_jwks *verify_keys, const jg_open_policy *policy,
                            jg_claims **out)
{
    return open_token(token, token_len, decrypt_keys, verify_keys, policy, out, NULL);
}

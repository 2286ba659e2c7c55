/*
 * jwt.c — signed JWTs (include/jwtgate/jwt.h): claims as the payload of a
 * compact JWS with an explicit "typ" (RFC 8725 section 3.11), and the
 * reverse: verify, check "typ", parse and validate the claims.
 */
#include <string.h>

#include "core/detail.h"
#include "core/json.h"
#include "jwt/claims_internal.h"
#include "jwtgate/jws.h"
#include "jws/jws_internal.h"
#include "jwk/jwk_internal.h"

/*
 * The protected header members we add: "typ", then the caller's extra
 * members in their order (jg_jws_sign puts "alg" and "kid" first). A "typ" in
 * the extra members is kept when opts->typ is NULL, and must agree with it
 * otherwise.
 */
static jg_err build_header(const jg_jwt_sign_opts *opts, char **out)
{
    const char *typ = opts != NULL ? opts->typ : NULL;
    const char *extra = opts != NULL ? opts->header_json : NULL;
    json_t *members = NULL;

    if (typ != NULL && !jg__utf8_valid(typ, strlen(typ)))
        return JG_ERR_INVALID_ARGUMENT;
    if (extra != NULL) {
        jg_err err = jg__json_parse_object(extra, strlen(extra), 0, 0, &members);
        if (err != JG_OK)
            return err;
        const json_t *given = json_object_get(members, "typ");
        if (given != NULL) {
            if (!json_is_string(given) ||
                (typ != NULL && strcmp(json_string_value(given), typ) != 0)) {
                json_decref(members);
                return JG_ERR_HEADER_INVALID;
            }
            typ = NULL; /* already there, where the caller put it */
        } else if (typ == NULL) {
            typ = "JWT";
        }
    } else if (typ == NULL) {
        typ = "JWT";
    }

    jg_err err = JG_OK;
    json_t *header = json_object();
    if (header == NULL ||
        (typ != NULL &&
         json_object_set_new_nocheck(header, "typ", json_stringn_nocheck(typ, strlen(typ))) != 0) ||
        (members != NULL && json_object_update(header, members) != 0))
        err = JG_ERR_NOMEM;
    if (err == JG_OK)
        err = jg__json_dump_ordered(header, out, NULL);
    json_decref(header);
    json_decref(members);
    return err;
}

jg_err jg_jwt_sign(const jg_claims *claims, const jg_jwk *key, const jg_jwt_sign_opts *opts,
                   char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    if (claims == NULL || key == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    char *header = NULL, *payload = NULL;
    size_t payload_len = 0;
    const char *typ = opts != NULL && opts->typ != NULL ? opts->typ : "JWT";
    if ((opts == NULL || opts->header_json == NULL) && jg__json_plain(typ) &&
        (key->kid == NULL || jg__json_plain(key->kid))) {
        /* The usual header {"alg","kid","typ"} needs no JSON library. */
        const json_t *obj = jg__claims_object(claims);
        jg_err err = obj != NULL ? jg__json_dump(obj, 0, &payload, &payload_len) : JG_ERR_NOMEM;
        if (err == JG_OK)
            err = jg__jws_sign_compact_typ(payload, payload_len, key,
                                           opts != NULL ? opts->alg : JG_ALG_UNKNOWN, typ, out,
                                           out_len);
        if (payload != NULL)
            jg_free_secret(payload, payload_len); /* as below */
        return err;
    }
    jg_err err = build_header(opts, &header);
    if (err == JG_OK) {
        const json_t *obj = jg__claims_object(claims);
        err = obj != NULL ? jg__json_dump(obj, 0, &payload, &payload_len) : JG_ERR_NOMEM;
    }
    if (err == JG_OK) {
        jg_jws_signer signer = {
            .key = key,
            .alg = opts != NULL ? opts->alg : JG_ALG_UNKNOWN,
            .protected_json = header,
            .unprotected_json = NULL,
        };
        err = jg_jws_sign(payload, payload_len, &signer, NULL, out, out_len);
    }
    jg_free(header);
    /* Claims about to be encrypted (jg_access_token_seal) are confidential. */
    if (payload != NULL)
        jg_free_secret(payload, payload_len);
    return err;
}

/* Whether the token is a JWS JSON serialization (an object, maybe after
 * JSON whitespace), which a JWT never is (RFC 7519 section 1). */
static int is_json_serialization(const char *token, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (c == '{')
            return 1;
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return 0;
    }
    return 0;
}

/* A "typ" refusal: the header's value (or its absence) against the policy's. */
static jg_err typ_refused(const char *typ, int present, const char *expected, jg_detail *d)
{
    jg__detail_begin(d, JG_ERR_TYP, JG_DETAIL_HEADER, "typ");
    jg__detail_expected_str(d, expected, strlen(expected));
    if (typ != NULL)
        jg__detail_actual_str(d, typ, strlen(typ));
    else
        jg__detail_actual_text(d, present ? "not a string" : "absent");
    return JG_ERR_TYP;
}

static jg_err verify_jwt(const char *token, size_t token_len, const jg_jwks *keys,
                         const jg_jwt_policy *policy, jg_claims **out, jg_detail *detail)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (token == NULL || keys == NULL || policy == NULL || policy->leeway < 0 ||
        policy->max_age < 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (is_json_serialization(token, token_len))
        return JG_ERR_TOKEN_FORMAT;

    const jg_jws_verify_opts vopts = {
        .algs = policy->algs,
        .policy = JG_SIG_ANY,
        .crit = policy->crit,
        .limits = policy->limits,
        .allow_mixed_keys = policy->allow_mixed_keys,
    };
    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify_ex(token, token_len, keys, &vopts, &jws, detail);
    if (err != JG_OK)
        return err;

    if (policy->typ != NULL) {
        const char *typ = NULL;
        jg_err got = jg_jws_header_string(jws, "typ", &typ);
        if (got != JG_OK || !jg_typ_matches(typ, policy->typ))
            err = typ_refused(typ, got == JG_ERR_JSON_TYPE, policy->typ, detail);
    }
    jg_claims *claims = NULL;
    if (err == JG_OK) {
        /* Parse straight from the verified payload: no copy. */
        size_t len = 0;
        const unsigned char *payload = jg_jws_payload(jws, &len);
        err = payload != NULL ? jg_claims_parse((const char *)payload, len, policy->limits, &claims)
                              : JG_ERR_CLAIMS_INVALID;
    }
    jg_jws_free(jws);
    if (err == JG_OK)
        err = jg_claims_validate_ex(claims, policy, detail);
    if (err == JG_OK && out != NULL) {
        *out = claims;
        return JG_OK;
    }
    jg_claims_free(claims);
    return err;
}

jg_err jg_jwt_verify_ex(const char *token, size_t token_len, const jg_jwks *keys,
                        const jg_jwt_policy *policy, jg_claims **out, jg_detail *detail)
{
    jg__detail_clear(detail);
    jg_err err = verify_jwt(token, token_len, keys, policy, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_jwt_verify(const char *token, size_t token_len, const jg_jwks *keys,
                     const jg_jwt_policy *policy, jg_claims **out)
{
    return verify_jwt(token, token_len, keys, policy, out, NULL);
}

/*
 * claims_issue.c — the claims an issuer adds to every token: "iat" and
 * "exp" from a clock and a lifetime, and a random "jti" (RFC 7519 section
 * 4.1.7: unique, so that replays and revocations can be recognised), the
 * way `jwtgate jwt sign|seal` sets them.
 */
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "jwtgate/base64url.h"
#include "jwtgate/jwt.h"

jg_err jg_claims_set_times(jg_claims *claims, int64_t now, int64_t lifetime)
{
    /* exp = now + lifetime must be a later time that int64_t holds. */
    if (claims == NULL || now < 0 || lifetime <= 0 || now > INT64_MAX - lifetime)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = jg_claims_set_int(claims, "iat", now);
    return err == JG_OK ? jg_claims_set_int(claims, "exp", now + lifetime) : err;
}

jg_err jg_claims_set_jti_random(jg_claims *claims)
{
    if (claims == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    /* 128 bits: collisions are out of reach for any number of tokens. */
    unsigned char raw[16];
    char jti[23];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return JG_ERR_CRYPTO;
    jg_b64url_encode(raw, sizeof raw, jti);
    OPENSSL_cleanse(raw, sizeof raw);
    return jg_claims_set_string(claims, "jti", jti);
}

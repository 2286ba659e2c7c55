/* tu_jwk.c — see tu_jwk.h. */
#include "tu_jwk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "testutil.h"

jg_err tu_jwk_parse_value(json_t *jwk, unsigned flags, jg_jwk **out)
{
    char *text = tu_json_text(jwk);
    jg_err err = jg_jwk_parse(text, strlen(text), flags, out);
    free(text);
    return err;
}

jg_jwk *tu_jwk_parse_ok(json_t *jwk, unsigned flags)
{
    jg_jwk *key = NULL;
    assert_jg_ok(tu_jwk_parse_value(jwk, flags, &key));
    assert_non_null(key);
    return key;
}

static const char *member(json_t *jwk, const char *name)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    if (s == NULL)
        fail_msg("JWK has no string member \"%s\"", name);
    return s;
}

void tu_jwk_oracle_thumbprint(json_t *jwk, char out[44])
{
    char text[8192];
    const char *kty = member(jwk, "kty");
    int n;
    /* RFC 7638 section 3.2 (and RFC 8037 section 2 for OKP): required members,
     * lexicographic order, no whitespace. */
    if (strcmp(kty, "RSA") == 0)
        n = snprintf(text, sizeof text, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                     member(jwk, "e"), member(jwk, "n"));
    else if (strcmp(kty, "EC") == 0)
        n = snprintf(text, sizeof text, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                     member(jwk, "crv"), member(jwk, "x"), member(jwk, "y"));
    else if (strcmp(kty, "OKP") == 0)
        n = snprintf(text, sizeof text, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                     member(jwk, "crv"), member(jwk, "x"));
    else
        n = snprintf(text, sizeof text, "{\"k\":\"%s\",\"kty\":\"oct\"}", member(jwk, "k"));
    assert_true(n > 0 && (size_t)n < sizeof text);
    unsigned char md[32];
    unsigned int md_len = 0;
    assert_int_equal(EVP_Digest(text, (size_t)n, md, &md_len, EVP_sha256(), NULL), 1);
    jg_b64url_encode(md, md_len, out);
}

json_t *tu_json_parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, 0, &error);
    if (value == NULL)
        fail_msg("bad test JSON: %s", error.text);
    return value;
}

/*
 * access_token.c — the smallest complete use of libjwtgate: make an issuer
 * signing key and a gateway encryption key, issue an encrypted access token
 * (JWE around a signed JWT, RFC 9068), then open and check it as a gateway
 * would. Build against an installed library:
 *
 *   cc access_token.c $(pkg-config --cflags --libs jwtgate) -o access_token
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jwtgate/jwtgate.h>

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        jg_err err_ = (expr);                                                                      \
        if (err_ != JG_OK) {                                                                       \
            fprintf(stderr, "%s: %s\n", #expr, jg_strerror(err_));                                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    jg_jwk *signing = NULL, *encryption = NULL;
    CHECK(jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 0, NULL, &signing));
    CHECK(jg_jwk_generate_for_alg(JG_ALG_ECDH_ES_A256KW, JG_CRV_P256, 0, NULL, &encryption));

    /* The issuer: claims of an RFC 9068 access token. */
    jg_claims *claims = NULL;
    int64_t now = (int64_t)time(NULL);
    CHECK(jg_claims_new(&claims));
    CHECK(jg_claims_set_string(claims, "iss", "https://issuer.example"));
    CHECK(jg_claims_set_string(claims, "sub", "client-42"));
    CHECK(jg_claims_set_string(claims, "aud", "https://api.example/orders"));
    CHECK(jg_claims_set_string(claims, "client_id", "client-42"));
    CHECK(jg_claims_set_string(claims, "scope", "orders:read"));
    CHECK(jg_claims_set_string(claims, "jti", "9f2c1a"));
    CHECK(jg_claims_set_int(claims, "iat", now));
    CHECK(jg_claims_set_int(claims, "exp", now + 900));

    char *token = NULL;
    CHECK(jg_access_token_seal(claims, signing, encryption, NULL, &token, NULL));
    printf("token: %.40s... (%zu bytes)\n", token, strlen(token));

    /* The gateway: decrypt with its key, verify with the issuer's public key. */
    jg_jwk *issuer_public = NULL;
    jg_jwks *decrypt_keys = NULL, *verify_keys = NULL;
    CHECK(jg_jwk_public(signing, &issuer_public));
    CHECK(jg_jwks_new(&decrypt_keys));
    CHECK(jg_jwks_add(decrypt_keys, encryption));
    CHECK(jg_jwks_new(&verify_keys));
    CHECK(jg_jwks_add(verify_keys, issuer_public));

    jg_open_policy policy = {
        .jwt = {.algs = JG_ALG_BIT(JG_ALG_ES256),
                .issuer = "https://issuer.example",
                .audience = "https://api.example/orders",
                .leeway = 30},
        .key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW),
        .encs = JG_ENC_BIT(JG_ENC_A256GCM),
    };
    jg_claims *opened = NULL;
    CHECK(jg_access_token_open(token, strlen(token), decrypt_keys, verify_keys, &policy, &opened));

    const char *scope = NULL;
    CHECK(jg_claims_get_string(opened, "scope", &scope));
    printf("valid token for %s, scope \"%s\"\n", "client-42", scope);

    /* A tampered token is refused. */
    token[strlen(token) - 3] ^= 1;
    jg_err err =
        jg_access_token_open(token, strlen(token), decrypt_keys, verify_keys, &policy, NULL);
    printf("tampered token: %s\n", jg_strerror(err));

    jg_claims_free(opened);
    jg_claims_free(claims);
    jg_free(token);
    jg_jwks_free(decrypt_keys);
    jg_jwks_free(verify_keys);
    jg_jwk_free(issuer_public);
    jg_jwk_free(signing);
    jg_jwk_free(encryption);
    return err == JG_OK ? 1 : 0;
}

/*
 * tu_jwk.h — key helpers for the unit tests: import a JWK held as a jansson
 * value, and an independent RFC 7638 thumbprint computed from a JWK's JSON
 * members (so thumbprint tests do not trust the code they test).
 */
#ifndef JG_TU_JWK_H
#define JG_TU_JWK_H

#include <jansson.h>

#include "jwtgate/jwtgate.h"

/* jg_jwk_parse() of the compact text of `jwk`. */
jg_err tu_jwk_parse_value(json_t *jwk, unsigned flags, jg_jwk **out);

/* The same, failing the test unless it succeeds. */
jg_jwk *tu_jwk_parse_ok(json_t *jwk, unsigned flags);

/* RFC 7638 thumbprint (base64url) built directly from the JSON members. */
void tu_jwk_oracle_thumbprint(json_t *jwk, char out[44]);

/* Parse the JSON text `text` into a jansson value, failing the test on error. */
json_t *tu_json_parse(const char *text);

#endif /* JG_TU_JWK_H */

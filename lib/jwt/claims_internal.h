/*
 * claims_internal.h — what the rest of lib/jwt needs from the claims object
 * (internal, not installed).
 *
 * The invariant every jg_claims keeps, whichever way it was built (parse,
 * setters, merge): registered claims have their RFC 7519 types — "iss",
 * "sub", "jti" strings; "aud" a string or a non-empty array of strings;
 * "exp", "nbf", "iat" integral numbers within int64_t.
 */
#ifndef JG_LIB_JWT_CLAIMS_INTERNAL_H
#define JG_LIB_JWT_CLAIMS_INTERNAL_H

#include <jansson.h>

#include "core/text.h"
#include "jwtgate/jwt.h"

/* The claims' JSON object (borrowed), built on first use for parsed claims
 * (thread-safe); NULL only when there was no memory to build it. */
const json_t *jg__claims_object(const jg_claims *claims);

/*
 * Whether `value` has the type RFC 7519 gives the registered claim `name`
 * (any type is fine for other names). JG_OK or JG_ERR_CLAIM_TYPE.
 */
jg_err jg__claim_type_check(const char *name, const json_t *value);

#endif /* JG_LIB_JWT_CLAIMS_INTERNAL_H */

/*
 * dpop_internal.h — what the files of lib/dpop share (internal): the
 * prepared-key cache of jg_dpop_verify_cached() (dpop_cache.c).
 */
#ifndef JG_LIB_DPOP_INTERNAL_H
#define JG_LIB_DPOP_INTERNAL_H

#include <stddef.h>

#include "jwtgate/dpop.h"

/* Longest protected header (base64url, as sent) a cache slot holds: a proof
 * with an RSA-4096 "jwk" (about 900 characters) fits. */
#define JG__DPOP_CACHE_HDR_MAX 1536u

/*
 * The key a cached header carries, its alg and thumbprint, when `hdr`
 * (`len` bytes as sent) equals the header of a proof that verified before;
 * NULL otherwise. The key is borrowed from the cache (valid until the next
 * call on it).
 */
const jg_jwk *jg__dpop_cache_get(jg_dpop_cache *cache, const char *hdr, size_t len, jg_alg *alg,
                                 char jkt[44]);

/* Remember a verified header with its key (a reference is taken), alg and
 * thumbprint; a longer header than JG__DPOP_CACHE_HDR_MAX is not kept. */
void jg__dpop_cache_put(jg_dpop_cache *cache, const char *hdr, size_t len, jg_jwk *key, jg_alg alg,
                        const char jkt[44]);

#endif /* JG_LIB_DPOP_INTERNAL_H */

/*
 * fuzz_common.h — what the libFuzzer harnesses and the seed maker share: one
 * fixed set of keys (so that seeds made by make_seeds verify and decrypt in
 * the harnesses, and the fuzzer reaches the code behind the crypto), the
 * limits the harnesses run under, and a mutator that edits base64url parts
 * in decoded form.
 *
 * Keys: the PEM fixtures of tests/vectors/pem (RSA-2048, P-256/384/521,
 * Ed25519, Ed448, X25519, X448) and "oct" keys with fixed bytes, one per
 * HMAC, dir size, key-wrap and PBES2 algorithm (each with its "alg", so a
 * token without "kid" still reaches one key per family, not all of them).
 */
#ifndef JG_FUZZ_COMMON_H
#define JG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/jwtgate.h"

/* Oct keys: HS256/384/512; dir of 16, 24, 32, 48, 64 bytes; A128/192/256KW;
 * A128/192/256GCMKW; PBES2-HS256/384/512. */
enum { FZ_HS = 3, FZ_DIR = 5, FZ_KW = 3, FZ_GCMKW = 3, FZ_PBES2 = 3 };

typedef struct fz_keys {
    jg_jwk *rsa, *p256, *p384, *p521, *ed25519, *ed448, *x25519, *x448;
    jg_jwk *hs[FZ_HS], *dir[FZ_DIR], *kw[FZ_KW], *gcmkw[FZ_GCMKW], *pbes2[FZ_PBES2];
    /* Every key that can sign or verify (private keys: they verify too). */
    jg_jwks *sig;
    /* Every key that can decrypt. */
    jg_jwks *enc;
    /*
     * For nested tokens, two disjoint sets: a key may not both decrypt and
     * sign (JG_ERR_NESTED_KEY), so the issuer's keys (RSA, P-384, Ed25519,
     * HS*) and the gateway's (P-256, P-521, X25519, X448, dir, KW, PBES2)
     * are kept apart.
     */
    jg_jwks *issuer;
    jg_jwks *gateway;
    /* Limits that keep one input to milliseconds: PBES2 at most 64
     * iterations, at most 64 KiB inflated, 4 recipients/signatures. */
    jg_limits limits;
} fz_keys;

/* PBES2 iterations used by the seeds (within fz_keys.limits). */
#define FZ_PBES2_COUNT 64u

/* The keys, loaded on first use from JG_FUZZ_VECTORS_DIR (aborts on failure:
 * a harness without its keys would fuzz nothing). Not thread-safe on the
 * first call; call it from LLVMFuzzerInitialize. */
const fz_keys *fz_keys_get(void);

/* A fixed clock for claim validation (2025-01-01T00:00:00Z). */
int64_t fz_clock(void *ctx);
#define FZ_NOW 1735689600

/* Every JWS alg and every JWE alg / enc. */
jg_alg_set fz_jws_algs(void);
jg_alg_set fz_jwe_algs(void);
jg_enc_set fz_encs(void);

/*
 * Export an imported key every way the API allows (JSON private and public,
 * PEM, thumbprint, public part) and check that each export imports again to
 * the same thumbprint; aborts otherwise.
 */
void fz_check_key(const jg_jwk *key);

/*
 * The custom mutator shared by the token harnesses: half of the time the
 * default libFuzzer mutation; otherwise one run of base64url characters (a
 * compact part, or a JSON string such as "protected") is decoded, mutated as
 * bytes and encoded again, so that header JSON is mutated as JSON rather
 * than as base64url text.
 */
size_t fz_mutate_b64_parts(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* The libFuzzer entry points the harnesses define. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* LLVMFuzzerInitialize: load the keys before the first input. */
#define FZ_INIT_KEYS                                                                               \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        fz_keys_get();                                                                             \
        return 0;                                                                                  \
    }

/* LLVMFuzzerCustomMutator: fz_mutate_b64_parts (the token harnesses). */
#define FZ_TOKEN_MUTATOR                                                                           \
    size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) \
    {                                                                                              \
        return fz_mutate_b64_parts(data, size, max_size, seed);                                    \
    }

#endif /* JG_FUZZ_COMMON_H */

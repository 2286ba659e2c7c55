/*
 * masterkey.h — the master key that encrypts private keys at rest.
 *
 * 256 bits, given as base64url text in a file (mode 0600 or stricter, owned
 * by the service) or in the environment variable JWTGATED_MASTER_KEY (wiped
 * from the process environment once read). Each
 * private JWK is stored as a compact JWE: "alg":"dir", "enc":"A256GCM", made
 * and opened by libjwtgate, with the key's id in the authenticated protected
 * header so that a ciphertext cannot be moved to another row.
 */
#ifndef JGD_MASTERKEY_H
#define JGD_MASTERKEY_H

#include "jwtgate/jwtgate.h"

#define MASTER_KEY_ENV "JWTGATED_MASTER_KEY"

/*
 * Load the master key from `path` (when not NULL) or from the environment.
 * On failure returns -1 and writes a reason (no key material) to `why`.
 */
int masterkey_load(const char *path, jg_jwk **out, char *why, size_t why_len);

/* Create a new master key file at `path` (mode 0600, must not exist). */
int masterkey_create(const char *path, char *why, size_t why_len);

/* Encrypt `plaintext` (a private JWK) for the row `key_id`. malloc'd. */
int masterkey_seal(const jg_jwk *master, const char *key_id, const char *plaintext, char **out);

/* The same for any secret: `bound` (authenticated, in the protected
 * header's "jg_key") names what the ciphertext belongs to, `cty` what it
 * holds. masterkey_open(master, bound, ...) opens it. */
int masterkey_seal_as(const jg_jwk *master, const char *bound, const char *cty,
                      const char *plaintext, char **out);
/* Decrypt and check that it was made for `key_id`; *out freed with
 * jg_free_secret(). */
int masterkey_open(const jg_jwk *master, const char *key_id, const char *sealed, char **out);

#endif

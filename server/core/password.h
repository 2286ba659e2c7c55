/*
 * password.h — the console's local passwords: Argon2id (RFC 9106).
 *
 * A password is stored as Argon2's encoded string
 * ($argon2id$v=19$m=19456,t=2,p=1$salt$hash): the parameters travel with
 * the hash, so raising the cost later leaves what is stored verifiable. The
 * cost is OWASP's floor for Argon2id (19 MiB, 2 passes, 1 lane): tens of
 * milliseconds of one core per sign-in, and a guesser pays the same.
 *
 * Bounded: at most PASSWORD_CONCURRENCY hashes run at once (each holds its
 * memory and a request thread); a caller beyond that gets PW_BUSY and says
 * "retry" (503), so a flood of sign-ins can neither exhaust memory nor take
 * every request thread from the token endpoint.
 *
 * Threads: every function is thread-safe. Passwords are read, never kept:
 * the caller owns and wipes its buffers.
 */
#ifndef JGD_PASSWORD_H
#define JGD_PASSWORD_H

#include <stddef.h>

#define PASSWORD_CONCURRENCY 2
#define PASSWORD_MIN         12   /* characters (bytes) */
#define PASSWORD_MAX         1024 /* bytes: bounds the hash's input */

typedef enum pw_result { PW_MATCH = 1, PW_NO_MATCH = 0, PW_ERROR = -1, PW_BUSY = -2 } pw_result;

/* Hash `pw` into a malloc'd encoded string (*out, the caller's to free).
 * PW_MATCH on success (the name is awkward; it means "done"), PW_BUSY,
 * PW_ERROR (no memory, randomness failed). */
pw_result password_hash(const char *pw, size_t len, char **out);

/* Compare `pw` with `encoded` in constant time (Argon2's verify).
 * `encoded` NULL: verify against a fixed dummy hash and report PW_NO_MATCH,
 * so that an unknown user costs what a known one does. PW_MATCH,
 * PW_NO_MATCH (also for a malformed `encoded`), PW_BUSY. */
pw_result password_verify(const char *encoded, const char *pw, size_t len);

/* NULL when `pw` may be set for the user named `user`; else why not (a
 * static sentence): shorter than PASSWORD_MIN, longer than PASSWORD_MAX,
 * not valid UTF-8 or holding control characters, or the user's name. */
const char *password_unacceptable(const char *pw, size_t len, const char *user);

/* A new random password (100 bits, "xxxxx-xxxxx-xxxxx-xxxxx" from an
 * alphabet without look-alikes), malloc'd; NULL without memory or
 * randomness. Free with jg_free_secret(p, 0). */
char *password_generate(void);

#endif

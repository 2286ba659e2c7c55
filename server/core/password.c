/* password.c — Argon2id hashing and verification, bounded (password.h). */
#include "server/core/password.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>
#include <jansson.h>

#include "jwtgate/common.h"
#include "server/core/util.h"

#define T_COST      2
#define M_COST      19456 /* KiB */
#define LANES       1
#define SALT_LEN    16
#define HASH_LEN    32
#define ENCODED_MAX 160

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned busy;

static int take_slot(void)
{
    pthread_mutex_lock(&slots_lock);
    int ok = busy < PASSWORD_CONCURRENCY;
    if (ok)
        busy++;
    pthread_mutex_unlock(&slots_lock);
    return ok;
}

static void give_slot(void)
{
    pthread_mutex_lock(&slots_lock);
    busy--;
    pthread_mutex_unlock(&slots_lock);
}

static pw_result hash_unbounded(const char *pw, size_t len, char **out)
{
    uint8_t salt[SALT_LEN];
    char *enc = malloc(ENCODED_MAX);
    if (enc == NULL || sv_random(salt, sizeof salt) != 0) {
        free(enc);
        return PW_ERROR;
    }
    int rc = argon2id_hash_encoded(T_COST, M_COST, LANES, pw, len, salt, sizeof salt, HASH_LEN, enc,
                                   ENCODED_MAX);
    if (rc != ARGON2_OK) {
        free(enc);
        return PW_ERROR;
    }
    *out = enc;
    return PW_MATCH;
}

pw_result password_hash(const char *pw, size_t len, char **out)
{
    *out = NULL;
    if (pw == NULL || len > PASSWORD_MAX)
        return PW_ERROR;
    if (!take_slot())
        return PW_BUSY;
    pw_result r = hash_unbounded(pw, len, out);
    give_slot();
    return r;
}

/* The hash an unknown user is checked against: made once, of a random
 * password nobody knows, with the current parameters (so it costs what a
 * real one does). */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char *dummy;

static void make_dummy(void)
{
    char pw[32];
    if (sv_random(pw, sizeof pw) == 0)
        (void)hash_unbounded(pw, sizeof pw, &dummy);
    jg_memzero(pw, sizeof pw);
}

pw_result password_verify(const char *encoded, const char *pw, size_t len)
{
    if (pw == NULL || len > PASSWORD_MAX)
        return PW_NO_MATCH;
    pthread_once(&dummy_once, make_dummy);
    int known = encoded != NULL;
    /* Only Argon2id strings of a bounded cost are ours; anything else (a
     * hand-edited row, a hostile restore) would let a row set the work. */
    if (known && (strncmp(encoded, "$argon2id$", 10) != 0 || strlen(encoded) >= ENCODED_MAX))
        return PW_NO_MATCH;
    if (!known && dummy == NULL)
        return PW_ERROR;
    if (!take_slot())
        return PW_BUSY;
    int rc = argon2id_verify(known ? encoded : dummy, pw, len);
    give_slot();
    return known && rc == ARGON2_OK ? PW_MATCH : PW_NO_MATCH;
}

const char *password_unacceptable(const char *pw, size_t len, const char *user)
{
    if (len < PASSWORD_MIN)
        return "a password needs at least 12 characters";
    if (len > PASSWORD_MAX)
        return "a password has at most 1024 bytes";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return "a password cannot hold control characters";
    json_t *probe = json_stringn(pw, len); /* jansson refuses invalid UTF-8 */
    json_decref(probe);
    if (probe == NULL)
        return "a password must be valid UTF-8";
    if (user != NULL && strlen(user) == len && strncasecmp(user, pw, len) == 0)
        return "a password cannot be the user's name";
    return NULL;
}

char *password_generate(void)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789"; /* 32: 5 bits each */
    uint8_t r[20];
    char *p = malloc(24);
    if (p == NULL || sv_random(r, sizeof r) != 0) {
        free(p);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < sizeof r; i++) {
        if (i > 0 && i % 5 == 0)
            p[n++] = '-';
        p[n++] = alphabet[r[i] & 31];
    }
    p[n] = '\0';
    jg_memzero(r, sizeof r);
    return p;
}

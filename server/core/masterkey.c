/* masterkey.c — load the master key; seal and open private keys with dir + A256GCM. */
#include "server/core/masterkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "server/core/util.h"

static int from_text(const char *text, size_t len, jg_jwk **out, char *why, size_t why_len)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    unsigned char raw[48];
    size_t raw_len = 0;
    if (len != 43 || jg_b64url_decode(text, len, raw, &raw_len) != JG_OK || raw_len != 32) {
        jg_memzero(raw, sizeof raw);
        snprintf(why, why_len, "the master key must be 32 bytes in base64url (43 characters)");
        return -1;
    }
    jg_jwk_meta meta = {.kid = "master", .alg = JG_ALG_DIR, .use = JG_USE_ENC};
    jg_err err = jg_jwk_from_secret(raw, raw_len, &meta, out);
    jg_memzero(raw, sizeof raw);
    if (err != JG_OK) {
        snprintf(why, why_len, "master key: %s", jg_strerror(err));
        return -1;
    }
    return 0;
}

int masterkey_load(const char *path, jg_jwk **out, char *why, size_t why_len)
{
    *out = NULL;
    if (path == NULL) {
        const char *env = getenv(MASTER_KEY_ENV);
        if (env == NULL || *env == '\0') {
            snprintf(why, why_len, "no master key: give --master-key-file or set " MASTER_KEY_ENV);
            return -1;
        }
        int rc = from_text(env, strlen(env), out, why, why_len);
        /* Wipe it from the process environment (/proc/PID/environ shows the
         * original block) and drop the variable. */
        jg_memzero((char *)env, strlen(env));
        unsetenv(MASTER_KEY_ENV);
        return rc;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(why, why_len, "master key file %s: %s", path, strerror(errno));
        return -1;
    }
    if ((sb.st_mode & 077) != 0) {
        snprintf(why, why_len, "master key file %s is readable by others (chmod 600 it)", path);
        return -1;
    }
    size_t len = 0;
    char *text = sv_read_file(path, 256, &len);
    if (text == NULL) {
        snprintf(why, why_len, "master key file %s: cannot read it", path);
        return -1;
    }
    int rc = from_text(text, len, out, why, why_len);
    jg_free_secret(text, len);
    return rc;
}

int masterkey_create(const char *path, char *why, size_t why_len)
{
    unsigned char raw[32];
    char text[48];
    if (sv_random(raw, sizeof raw) != 0) {
        snprintf(why, why_len, "no randomness");
        return -1;
    }
    size_t n = jg_b64url_encode(raw, sizeof raw, text);
    jg_memzero(raw, sizeof raw);
    text[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot create master key file %s: %s", path, strerror(errno));
        jg_memzero(text, sizeof text);
        return -1;
    }
    int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    jg_memzero(text, sizeof text);
    if (close(fd) != 0 || !ok) {
        snprintf(why, why_len, "cannot write master key file %s", path);
        unlink(path);
        return -1;
    }
    return 0;
}

int masterkey_seal(const jg_jwk *master, const char *key_id, const char *plaintext, char **out)
{
    return masterkey_seal_as(master, key_id, "jwk+json", plaintext, out);
}

int masterkey_seal_as(const jg_jwk *master, const char *bound, const char *cty,
                      const char *plaintext, char **out)
{
    json_t *hdr = json_pack("{ss ss}", "cty", cty, "jg_key", bound);
    char *hdr_text = hdr != NULL ? json_dumps(hdr, JSON_COMPACT) : NULL;
    json_decref(hdr);
    if (hdr_text == NULL)
        return -1;
    jg_jwe_recipient r = {master, JG_ALG_DIR, NULL};
    jg_jwe_encrypt_opts opts = {
        .enc = JG_ENC_A256GCM, .format = JG_FORMAT_COMPACT, .protected_json = hdr_text};
    jg_err err = jg_jwe_encrypt(plaintext, strlen(plaintext), &r, 1, &opts, out, NULL);
    free(hdr_text);
    return err == JG_OK ? 0 : -1;
}

int masterkey_open(const jg_jwk *master, const char *key_id, const char *sealed, char **out)
{
    *out = NULL;
    jg_jwks *set = NULL;
    if (jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, (jg_jwk *)master) != JG_OK) {
        jg_jwks_free(set);
        return -1;
    }
    jg_jwe_decrypt_opts opts = {.algs = JG_ALG_BIT(JG_ALG_DIR), .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    jg_jwe *jwe = NULL;
    jg_err err = jg_jwe_decrypt(sealed, strlen(sealed), set, &opts, &jwe);
    jg_jwks_free(set);
    if (err != JG_OK)
        return -1;
    const char *bound = NULL;
    int rc = -1;
    if (jg_jwe_header_string(jwe, "jg_key", &bound) == JG_OK && strcmp(bound, key_id) == 0) {
        size_t len = 0;
        const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
        *out = malloc(len + 1);
        if (*out != NULL) {
            memcpy(*out, pt, len);
            (*out)[len] = '\0';
            rc = 0;
        }
    }
    jg_jwe_free(jwe);
    return rc;
}

/* secrets.c — the gateway secrets key file (secrets.h). */
#include "server/snapshot/secrets.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jwtgate/snapshot.h"
#include "server/core/log.h"
#include "server/core/view.h"

static pthread_mutex_t written_mu = PTHREAD_MUTEX_INITIALIZER;
static char written_kid[128]; /* what this process last wrote; "" before its first write */

char *secrets_jwk_json(const view *v, const char **kid)
{
    const jg_jwk *key = v != NULL && v->keys != NULL ? v->keys->secrets_key : NULL;
    char *text = NULL;
    if (key == NULL || jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &text, NULL) != JG_OK)
        return NULL;
    if (kid != NULL)
        *kid = jg_jwk_kid(key);
    return text;
}

void secrets_write_file(jgd *d, const view *v)
{
    const char *kid = NULL;
    if (d->cfg.secrets_key_path == NULL || v->keys->secrets_key == NULL)
        return;
    pthread_mutex_lock(&written_mu);
    if (strcmp(written_kid, jg_jwk_kid(v->keys->secrets_key)) == 0) {
        pthread_mutex_unlock(&written_mu);
        return;
    }
    char *text = secrets_jwk_json(v, &kid);
    size_t len = text != NULL ? strlen(text) : 0;
    jg_err err =
        text != NULL
            ? jg_snapshot_write_file_mode(d->cfg.secrets_key_path, (const uint8_t *)text, len,
                                          d->cfg.snapshot_mode ? d->cfg.snapshot_mode : 0600)
            : JG_ERR_NOMEM;
    int saved = errno;
    if (text != NULL)
        jg_free_secret(text, 0);
    if (err == JG_OK) {
        snprintf(written_kid, sizeof written_kid, "%s", kid);
        log_msg(L_INFO, "gateway secrets key %s written to %s", kid, d->cfg.secrets_key_path);
    } else {
        log_msg(L_ERR, "cannot write the gateway secrets key to %s: %s", d->cfg.secrets_key_path,
                err == JG_ERR_NOMEM ? "out of memory" : strerror(saved));
    }
    pthread_mutex_unlock(&written_mu);
}


/*
 * The LLM configuration of a snapshot (its "llm" section, docs/snapshot.md):
 * per llm API the providers in fallback order, their models and their
 * active keys, each sealed to the gateway secrets key. A worker reads it
 * once per snapshot, when the first LLM request of that snapshot comes,
 * opening the keys with the secrets key (read from its file then, so that
 * a rotated secrets key is taken with the snapshot sealed to it). The keys
 * live in this worker's memory only and are wiped when the last request
 * using the configuration ends after a newer snapshot replaced it.
 */


#include "ngx_http_jwtgate_ai_module.h"

#include <jansson.h>
#include <sys/stat.h>


static ngx_http_jwtgate_ai_llm_t *ngx_http_jwtgate_ai_llm_load(
    ngx_http_jwtgate_ai_main_conf_t *amcf, ngx_http_jwtgate_snap_t *snap,
    ngx_log_t *log);
static jg_jwks *ngx_http_jwtgate_ai_secrets(ngx_str_t *path, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_ai_provider(ngx_pool_t *pool,
    jg_jwks *secrets, ngx_str_t *api_id, json_t *jp,
    ngx_http_jwtgate_ai_provider_t *p, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_ai_str(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);
static void ngx_http_jwtgate_ai_llm_free(ngx_http_jwtgate_ai_llm_t *llm);


/* this worker's configuration of the newest snapshot seen */
static ngx_http_jwtgate_ai_llm_t  *ngx_http_jwtgate_ai_current;


ngx_http_jwtgate_ai_llm_t *
ngx_http_jwtgate_ai_llm_acquire(ngx_http_jwtgate_ai_main_conf_t *amcf,
    ngx_http_jwtgate_snap_t *snap, ngx_log_t *log)
{
    ngx_http_jwtgate_ai_llm_t  *llm;

    llm = ngx_http_jwtgate_ai_current;

    /* the pointer alone could be a new snapshot at a freed one's address */

    if (llm == NULL || llm->snap != snap || llm->version != snap->version
        || ngx_memcmp(llm->digest, snap->digest, NGX_HTTP_JWTGATE_DIGEST_LEN)
           != 0)
    {
        llm = ngx_http_jwtgate_ai_llm_load(amcf, snap, log);
        if (llm == NULL) {
            return NULL;
        }

        if (ngx_http_jwtgate_ai_current != NULL) {
            ngx_http_jwtgate_ai_llm_release(ngx_http_jwtgate_ai_current);
        }

        llm->refs = 1;                        /* the worker's */
        ngx_http_jwtgate_ai_current = llm;
    }

    llm->refs++;

    return llm;
}


void
ngx_http_jwtgate_ai_llm_release(ngx_http_jwtgate_ai_llm_t *llm)
{
    if (--llm->refs == 0) {
        ngx_http_jwtgate_ai_llm_free(llm);
    }
}


void
ngx_http_jwtgate_ai_llm_exit(void)
{
    if (ngx_http_jwtgate_ai_current != NULL) {
        ngx_http_jwtgate_ai_llm_release(ngx_http_jwtgate_ai_current);
        ngx_http_jwtgate_ai_current = NULL;
    }
}


static void
ngx_http_jwtgate_ai_llm_free(ngx_http_jwtgate_ai_llm_t *llm)
{
    ngx_uint_t                       a, p, k;
    ngx_http_jwtgate_ai_provider_t  *prov;

    for (a = 0; a < llm->napis; a++) {
        for (p = 0; p < llm->apis[a].nproviders; p++) {
            prov = &llm->apis[a].providers[p];

            for (k = 0; k < prov->nkeys; k++) {
                ngx_explicit_memzero(prov->keys[k].secret.data,
                                     prov->keys[k].secret.len);
            }
        }
    }

    ngx_destroy_pool(llm->pool);
}


ngx_http_jwtgate_ai_api_t *
ngx_http_jwtgate_ai_llm_api(ngx_http_jwtgate_ai_llm_t *llm, ngx_str_t *id)
{
    ngx_uint_t  i;

    for (i = 0; i < llm->napis; i++) {
        if (llm->apis[i].id.len == id->len
            && ngx_memcmp(llm->apis[i].id.data, id->data, id->len) == 0)
        {
            return &llm->apis[i];
        }
    }

    return NULL;
}


ngx_http_jwtgate_ai_model_t *
ngx_http_jwtgate_ai_provider_model(ngx_http_jwtgate_ai_provider_t *p,
    const char *model)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(model);

    for (i = 0; i < p->nmodels; i++) {
        if (p->models[i].name.len == len
            && ngx_memcmp(p->models[i].name.data, model, len) == 0)
        {
            return &p->models[i];
        }
    }

    return NULL;
}


/* FNV-1a of a, a separator and b: the shared zone's keys (collisions only
 * share a counter or a key's time out) */

uint64_t
ngx_http_jwtgate_ai_hash(const u_char *a, size_t alen, const u_char *b,
    size_t blen, uint64_t salt)
{
    size_t    i;
    uint64_t  h;

    h = 14695981039346656037ULL ^ salt;

    for (i = 0; i < alen; i++) {
        h = (h ^ a[i]) * 1099511628211ULL;
    }

    h = (h ^ 0xff) * 1099511628211ULL;

    for (i = 0; i < blen; i++) {
        h = (h ^ b[i]) * 1099511628211ULL;
    }

    return h;
}


static ngx_http_jwtgate_ai_llm_t *
ngx_http_jwtgate_ai_llm_load(ngx_http_jwtgate_ai_main_conf_t *amcf,
    ngx_http_jwtgate_snap_t *snap, ngx_log_t *log)
{
    size_t                      i, j, n;
    json_t                     *root, *apis, *ja, *jps;
    jg_err                      err;
    jg_jwks                    *secrets;
    ngx_pool_t                 *pool;
    jg_snap_str                 text;
    json_error_t                jerr;
    ngx_http_jwtgate_ai_api_t  *api;
    ngx_http_jwtgate_ai_llm_t  *llm;

    /* the cycle's log: the configuration outlives the request that read
     * it (a pool logs through its log when it is destroyed) */
    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    llm = ngx_pcalloc(pool, sizeof(ngx_http_jwtgate_ai_llm_t));
    if (llm == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    llm->pool = pool;
    llm->snap = snap;
    llm->version = snap->version;
    ngx_memcpy(llm->digest, snap->digest, NGX_HTTP_JWTGATE_DIGEST_LEN);

    err = jg_snapshot_llm(snap->js, &text);

    if (err != JG_OK || text.len == 0) {
        /* no llm API in this snapshot: an empty configuration */
        return llm;
    }

    root = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: the snapshot's llm section is not a "
                      "JSON object");
        json_decref(root);
        return llm;
    }

    secrets = NULL;
    apis = json_object_get(root, "apis");
    n = json_is_array(apis) ? json_array_size(apis) : 0;

    if (n && amcf->secrets_key.len) {
        secrets = ngx_http_jwtgate_ai_secrets(&amcf->secrets_key, log);
    }

    if (n && secrets == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: no usable jwtgate_ai_secrets_key: "
                      "provider keys not opened");
    }

    llm->apis = ngx_pcalloc(pool, (n ? n : 1)
                                  * sizeof(ngx_http_jwtgate_ai_api_t));
    if (llm->apis == NULL) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        ja = json_array_get(apis, i);
        api = &llm->apis[llm->napis];

        if (!json_is_object(ja)
            || ngx_http_jwtgate_ai_str(pool, json_object_get(ja, "api_id"),
                                       &api->id)
               != NGX_OK)
        {
            continue;
        }

        jps = json_object_get(ja, "providers");
        if (!json_is_array(jps)) {
            continue;
        }

        api->providers = ngx_pcalloc(pool, (json_array_size(jps) + 1)
                                  * sizeof(ngx_http_jwtgate_ai_provider_t));
        if (api->providers == NULL) {
            goto failed;
        }

        for (j = 0; j < json_array_size(jps); j++) {
            if (ngx_http_jwtgate_ai_provider(pool, secrets, &api->id,
                                         json_array_get(jps, j),
                                         &api->providers[api->nproviders],
                                         log)
                == NGX_OK)
            {
                api->nproviders++;
            }
        }

        llm->napis++;
    }

    jg_jwks_free(secrets);
    json_decref(root);

    return llm;

failed:

    jg_jwks_free(secrets);
    json_decref(root);
    ngx_http_jwtgate_ai_llm_free(llm);

    return NULL;
}


static ngx_int_t
ngx_http_jwtgate_ai_provider(ngx_pool_t *pool, jg_jwks *secrets,
    ngx_str_t *api_id, json_t *jp, ngx_http_jwtgate_ai_provider_t *p,
    ngx_log_t *log)
{
    size_t                      k, plen;
    json_t                     *models, *keys, *jk, *v;
    jg_err                      err;
    jg_jwe                     *jwe;
    u_char                      want[512];
    ngx_str_t                   fmt, sealed;
    const char                 *bound, *key;
    const unsigned char        *pt;
    jg_jwe_decrypt_opts         opts;
    ngx_http_jwtgate_ai_key_t  *pk;

    if (!json_is_object(jp)
        || ngx_http_jwtgate_ai_str(pool, json_object_get(jp, "name"),
                                   &p->name) != NGX_OK
        || ngx_http_jwtgate_ai_str(pool, json_object_get(jp, "format"),
                                   &fmt) != NGX_OK
        || ngx_http_jwtgate_ai_str(pool, json_object_get(jp, "base_url"),
                                   &p->base_url) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (jg_llm_format_by_name((char *) fmt.data, fmt.len, &p->format) != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: provider \"%V\": unknown format \"%V\"",
                      &p->name, &fmt);
        return NGX_DECLINED;
    }

    /* the base URL without a trailing slash (jwtgated checks it too) */

    while (p->base_url.len && p->base_url.data[p->base_url.len - 1] == '/') {
        p->base_url.len--;
    }

    v = json_object_get(jp, "timeout_ms");
    p->timeout = json_is_integer(v) && json_integer_value(v) > 0
                 ? (ngx_msec_t) json_integer_value(v) : 60000;

    models = json_object_get(jp, "models");

    if (json_is_object(models) && json_object_size(models)) {
        p->models = ngx_pcalloc(pool, json_object_size(models)
                                      * sizeof(ngx_http_jwtgate_ai_model_t));
        if (p->models == NULL) {
            return NGX_ERROR;
        }

        json_object_foreach(models, key, v) {
            ngx_http_jwtgate_ai_model_t  *m = &p->models[p->nmodels];

            m->name.len = ngx_strlen(key);
            m->name.data = ngx_pnalloc(pool, m->name.len + 1);
            if (m->name.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(m->name.data, key, m->name.len + 1);

            if (ngx_http_jwtgate_ai_str(pool, v, &m->target) == NGX_OK) {
                p->nmodels++;
            }
        }
    }

    keys = json_object_get(jp, "keys");

    if (!json_is_array(keys) || json_array_size(keys) == 0
        || secrets == NULL)
    {
        return NGX_OK;
    }

    p->keys = ngx_pcalloc(pool, json_array_size(keys)
                                * sizeof(ngx_http_jwtgate_ai_key_t));
    if (p->keys == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&opts, sizeof(jg_jwe_decrypt_opts));
    opts.algs = (jg_alg_set) 1 << JG_ALG_DIR;
    opts.encs = (jg_enc_set) 1 << JG_ENC_A256GCM;

    for (k = 0; k < json_array_size(keys); k++) {
        jk = json_array_get(keys, k);
        pk = &p->keys[p->nkeys];

        if (!json_is_object(jk)
            || ngx_http_jwtgate_ai_str(pool, json_object_get(jk, "id"),
                                       &pk->id) != NGX_OK
            || ngx_http_jwtgate_ai_str(pool, json_object_get(jk, "sealed"),
                                       &sealed) != NGX_OK)
        {
            continue;
        }

        err = jg_jwe_decrypt((char *) sealed.data, sealed.len, secrets,
                             &opts, &jwe);
        if (err != JG_OK) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "jwtgate_ai: provider \"%V\" key \"%V\" does not "
                          "open with the secrets key: %s",
                          &p->name, &pk->id, jg_strerror(err));
            continue;
        }

        /* the binding: a sealed value of another API's or key's row does
         * not open as this one */

        ngx_snprintf(want, sizeof(want) - 1, "llm:%V:%V%Z", api_id, &pk->id);

        if (jg_jwe_header_string(jwe, "jg_key", &bound) != JG_OK
            || ngx_strcmp(bound, want) != 0)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "jwtgate_ai: provider \"%V\" key \"%V\" is sealed "
                          "for another key", &p->name, &pk->id);
            jg_jwe_free(jwe);
            continue;
        }

        pt = jg_jwe_plaintext(jwe, &plen);

        if (plen == 0 || plen > 4096) {
            jg_jwe_free(jwe);
            continue;
        }

        pk->secret.data = ngx_pnalloc(pool, plen);
        if (pk->secret.data == NULL) {
            jg_jwe_free(jwe);
            return NGX_ERROR;
        }

        ngx_memcpy(pk->secret.data, pt, plen);
        pk->secret.len = plen;
        jg_jwe_free(jwe);

        pk->hash = ngx_http_jwtgate_ai_hash(api_id->data, api_id->len,
                                            pk->id.data, pk->id.len, 1);
        p->nkeys++;
    }

    return NGX_OK;
}


/* The secrets key: a JWK "oct" of 256 bits in a file that others may not
 * read. */

static jg_jwks *
ngx_http_jwtgate_ai_secrets(ngx_str_t *path, ngx_log_t *log)
{
    jg_err            err;
    jg_jwk           *key;
    u_char            buf[8192];
    ssize_t           n;
    jg_jwks          *set;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "jwtgate_ai: cannot open \"%V\"", path);
        return NULL;
    }

    set = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "jwtgate_ai: cannot stat \"%V\"", path);
        goto done;
    }

    if (fi.st_mode & (S_IROTH | S_IWOTH)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: \"%V\" is readable by others "
                      "(mode 0640 at most)", path);
        goto done;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));

    if (n <= 0 || (size_t) n == sizeof(buf)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: cannot read \"%V\"", path);
        goto done;
    }

    err = jg_jwk_parse((char *) buf, n, 0, &key);
    ngx_explicit_memzero(buf, sizeof(buf));

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: \"%V\" is not a JWK: %s",
                      path, jg_strerror(err));
        goto done;
    }

    if (jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, key) != JG_OK) {
        jg_jwks_free(set);
        set = NULL;
    }

    jg_jwk_free(key);

done:

    ngx_close_file(fd);

    return set;
}


static ngx_int_t
ngx_http_jwtgate_ai_str(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    size_t  len;

    if (!json_is_string(v) || (len = json_string_length(v)) == 0) {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), len + 1);
    out->len = len;

    return NGX_OK;
}

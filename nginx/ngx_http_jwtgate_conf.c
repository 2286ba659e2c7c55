
/*
 * ngx_http_jwtgate_module's configuration: the module definition (its
 * directives, contexts and process hooks), creating and merging the
 * location configuration, the directive handlers, and the preparation of
 * each location's rules into the jg_open_policy and digest that the access
 * handler uses (ngx_http_jwtgate_module.c).
 *
 * Everything here runs while nginx reads its configuration (in the master
 * process, and again on every reload), except the process hooks, which run
 * in each worker. A mistake in the configuration, a key file or the
 * snapshot is an "nginx -t" error, never a surprise at the first request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_DEFAULT_INTERVAL  250
#define NGX_HTTP_JWTGATE_ALL_ENCS                                             \
    (JG_ENC_BIT(JG_ENC_A128GCM) | JG_ENC_BIT(JG_ENC_A192GCM)                   \
     | JG_ENC_BIT(JG_ENC_A256GCM) | JG_ENC_BIT(JG_ENC_A128CBC_HS256)          \
     | JG_ENC_BIT(JG_ENC_A192CBC_HS384) | JG_ENC_BIT(JG_ENC_A256CBC_HS512))


static ngx_int_t ngx_http_jwtgate_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_jwtgate_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_jwtgate_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_jwtgate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_jwtgate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_jwtgate_prepare(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);
static int64_t ngx_http_jwtgate_clock(void *data);
static ngx_int_t ngx_http_jwtgate_init_process(ngx_cycle_t *cycle);
static void ngx_http_jwtgate_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_jwtgate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_snapshot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_forward_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgate_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_dpop_replay(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_dpop_htu_origin(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


static ngx_conf_enum_t  ngx_http_jwtgate_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_jwtgate_dpop_modes[] = {
    { ngx_string("off"), NGX_HTTP_JWTGATE_DPOP_OFF },
    { ngx_string("optional"), NGX_HTTP_JWTGATE_DPOP_OPTIONAL },
    { ngx_string("required"), NGX_HTTP_JWTGATE_DPOP_REQUIRED },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_jwtgate_commands[] = {

    { ngx_string("jwtgate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_jwtgate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_snapshot"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_jwtgate_snapshot,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, key_files),
      NULL },

    { ngx_string("jwtgate_jwks_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_jwtgate_jwks_dir,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_issuer_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_issuer_discovery"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgate_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgate_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, algorithms),
      NULL },

    { ngx_string("jwtgate_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, issuer),
      NULL },

    { ngx_string("jwtgate_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, audience),
      NULL },

    { ngx_string("jwtgate_typ"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, typ),
      NULL },

    { ngx_string("jwtgate_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, leeway),
      NULL },

    { ngx_string("jwtgate_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_jwtgate_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, scopes),
      NULL },

    { ngx_string("jwtgate_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_jwtgate_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_claim_set,
      0,
      0,
      NULL },

    { ngx_string("jwtgate_header_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_header_set,
      0,
      0,
      NULL },

    { ngx_string("jwtgate_forward_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_forward_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_strip_authorization"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, strip_authorization),
      NULL },

    { ngx_string("jwtgate_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_jwtgate_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, log_level),
      &ngx_http_jwtgate_log_levels },

    { ngx_string("jwtgate_dpop"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, dpop),
      &ngx_http_jwtgate_dpop_modes },

    { ngx_string("jwtgate_dpop_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgate_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, dpop_algorithms),
      NULL },

    { ngx_string("jwtgate_dpop_window"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, dpop_window),
      NULL },

    { ngx_string("jwtgate_dpop_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_dpop_replay,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_dpop_htu_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_dpop_htu_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_dpop_nonce"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, dpop_nonce),
      NULL },

    { ngx_string("jwtgate_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_jwtgate_metrics,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_jwtgate_module_ctx = {
    ngx_http_jwtgate_preconfiguration,     /* preconfiguration */
    ngx_http_jwtgate_postconfiguration,    /* postconfiguration */

    ngx_http_jwtgate_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_jwtgate_create_loc_conf,      /* create location configuration */
    ngx_http_jwtgate_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_jwtgate_module = {
    NGX_MODULE_V1,
    &ngx_http_jwtgate_module_ctx,          /* module context */
    ngx_http_jwtgate_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_jwtgate_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_jwtgate_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- contexts ----------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_jwtgate_add_variables(cf);
}


static ngx_int_t
ngx_http_jwtgate_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_jwtgate_issuers_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_jwtgate_init_handlers(cf);
}


static void *
ngx_http_jwtgate_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_main_conf_t  *jmcf;

    jmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_main_conf_t));
    if (jmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&jmcf->sources, cf->pool, 2,
                       sizeof(ngx_http_jwtgate_source_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return jmcf;
}


static void *
ngx_http_jwtgate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->keys = NULL;
     *     conf->verify_keys = NULL;
     *     conf->sig_algs = 0; (and the other sets)
     *     conf->issuer = { 0, NULL }; (audience, typ)
     *     conf->policy = { ... };
     */

    conf->realm = NGX_CONF_UNSET_PTR;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->source = NGX_CONF_UNSET_PTR;
    conf->key_files = NGX_CONF_UNSET_PTR;
    conf->trust = NGX_CONF_UNSET_PTR;
    conf->type = NGX_CONF_UNSET_UINT;
    conf->algorithms = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->requires = NGX_CONF_UNSET_PTR;
    conf->forward = NGX_CONF_UNSET_PTR;
    conf->strip_authorization = NGX_CONF_UNSET;
    conf->cache = NGX_CONF_UNSET_PTR;
    conf->cache_max_ttl = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->dpop = NGX_CONF_UNSET_UINT;
    conf->dpop_algorithms = NGX_CONF_UNSET_PTR;
    conf->dpop_window = NGX_CONF_UNSET;
    conf->dpop_replay = NGX_CONF_UNSET_PTR;
    conf->dpop_htu_origin = NGX_CONF_UNSET_PTR;
    conf->dpop_nonce = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_jwtgate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_jwtgate_loc_conf_t *prev = parent;
    ngx_http_jwtgate_loc_conf_t *conf = child;

    ngx_str_t         name;
    ngx_uint_t        i;
    ngx_shm_zone_t  **zone;

    if (conf->realm == NGX_CONF_UNSET_PTR) {
        conf->realm = prev->realm;
        conf->token = prev->token;
    }

    if (conf->realm == NGX_CONF_UNSET_PTR) {
        conf->realm = NULL;
    }
    if (conf->token == NGX_CONF_UNSET_PTR) {
        conf->token = NULL;
    }

    /* the keys: a snapshot or key files, inherited together */

    if (conf->source != NGX_CONF_UNSET_PTR
        && conf->key_files != NGX_CONF_UNSET_PTR)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_snapshot\" and \"jwtgate_key_file\" "
                           "cannot be used together");
        return NGX_CONF_ERROR;
    }

    if (conf->source == NGX_CONF_UNSET_PTR
        && conf->key_files == NGX_CONF_UNSET_PTR)
    {
        if (ngx_http_jwtgate_load_keys(cf, prev) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        conf->source = prev->source;
        conf->key_files = prev->key_files;
        conf->keys = prev->keys;
        conf->verify_keys = prev->verify_keys;
    }

    if (conf->source == NGX_CONF_UNSET_PTR) {
        conf->source = NULL;
    }
    if (conf->key_files == NGX_CONF_UNSET_PTR) {
        conf->key_files = NULL;
    }

    if (ngx_http_jwtgate_load_keys(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_jwtgate_issuers_merge(cf, prev, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* left unset when no level sets it: the default depends on the key
     * source of each level (ngx_http_jwtgate_prepare) */
    if (conf->type == NGX_CONF_UNSET_UINT) {
        conf->type = prev->type;
    }

    ngx_conf_merge_ptr_value(conf->algorithms, prev->algorithms, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_str_value(conf->typ, prev->typ, "at+jwt");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->requires, prev->requires, NULL);
    ngx_conf_merge_ptr_value(conf->forward, prev->forward, NULL);
    ngx_conf_merge_value(conf->strip_authorization,
                         prev->strip_authorization, 0);

    if (conf->cache == NGX_CONF_UNSET_PTR) {
        conf->cache = prev->cache;
        conf->cache_max_ttl = prev->cache_max_ttl;
    }

    if (conf->cache == NGX_CONF_UNSET_PTR) {
        conf->cache = NULL;
    }
    ngx_conf_merge_sec_value(conf->cache_max_ttl, 0, 0);

    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    ngx_conf_merge_uint_value(conf->dpop, prev->dpop,
                              NGX_HTTP_JWTGATE_DPOP_OPTIONAL);
    ngx_conf_merge_ptr_value(conf->dpop_algorithms, prev->dpop_algorithms,
                             NULL);
    ngx_conf_merge_sec_value(conf->dpop_window, prev->dpop_window, 60);
    ngx_conf_merge_ptr_value(conf->dpop_replay, prev->dpop_replay, NULL);
    ngx_conf_merge_ptr_value(conf->dpop_htu_origin, prev->dpop_htu_origin,
                             NULL);
    ngx_conf_merge_value(conf->dpop_nonce, prev->dpop_nonce, 0);

    if (conf->dpop_window <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_dpop_window\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    /* replay protection is never off: a location that takes DPoP proofs
     * and names no zone shares the default one */

    if (conf->realm != NULL && conf->dpop != NGX_HTTP_JWTGATE_DPOP_OFF
        && conf->dpop_replay == NULL)
    {
        ngx_str_set(&name, NGX_HTTP_JWTGATE_DPOP_ZONE);

        conf->dpop_replay = ngx_http_jwtgate_replay_zone(cf, &name,
                                              NGX_HTTP_JWTGATE_DPOP_ZONE_SIZE);
        if (conf->dpop_replay == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_jwtgate_dpop_prepare(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->source != NULL && conf->cache != NULL) {
        zone = conf->source->zones.elts;

        for (i = 0; i < conf->source->zones.nelts; i++) {
            if (zone[i] == conf->cache) {
                break;
            }
        }

        if (i == conf->source->zones.nelts) {
            zone = ngx_array_push(&conf->source->zones);
            if (zone == NULL) {
                return NGX_CONF_ERROR;
            }

            *zone = conf->cache;
        }
    }

    if (ngx_http_jwtgate_prepare(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The location's rules as a jg_open_policy, and their digest (the cache
 * key's first part). With a snapshot, the issuer and the algorithms of the
 * snapshot's keys are filled in per request.
 */

static ngx_int_t
ngx_http_jwtgate_prepare(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    int            ok;
    u_char         mode;
    jg_alg         alg;
    jg_enc         enc;
    ngx_str_t     *names;
    jg_enc_set     encs;
    ngx_uint_t     i;
    jg_alg_set     sig, key;
    EVP_MD_CTX    *md;
    unsigned int   n;
    jg_token_form  form;

    sig = 0;
    key = 0;
    encs = 0;

    if (conf->algorithms != NULL) {
        names = conf->algorithms->elts;

        for (i = 0; i < conf->algorithms->nelts; i++) {
            alg = jg_alg_from_name((char *) names[i].data, names[i].len);
            enc = jg_enc_from_name((char *) names[i].data, names[i].len);

            if (alg != JG_ALG_UNKNOWN
                && jg_alg_kind_of(alg) == JG_ALG_KIND_JWS)
            {
                sig |= JG_ALG_BIT(alg);

            } else if (alg != JG_ALG_UNKNOWN) {
                key |= JG_ALG_BIT(alg);

            } else if (enc != JG_ENC_UNKNOWN) {
                encs |= JG_ENC_BIT(enc);

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown algorithm \"%V\" (\"none\" is "
                                   "never accepted)", &names[i]);
                return NGX_ERROR;
            }
        }
    }

    if (conf->keys != NULL) {
        if (sig == 0) {
            sig = ngx_http_jwtgate_key_algs(conf->keys, JG_ALG_KIND_JWS,
                                            JG_ALG_UNKNOWN);
        }

        if (key == 0) {
            key = ngx_http_jwtgate_key_algs(conf->keys, JG_ALG_KIND_JWE,
                                            JG_ALG_UNKNOWN);
        }
    }

    if (encs == 0) {
        /* jwtgated encrypts with A256GCM */
        encs = conf->source ? JG_ENC_BIT(JG_ENC_A256GCM)
                            : NGX_HTTP_JWTGATE_ALL_ENCS;
    }

    conf->sig_algs = sig;
    conf->key_algs = key;
    conf->encs = encs;

    form = conf->type != NGX_CONF_UNSET_UINT
           ? (jg_token_form) conf->type
           : conf->source ? JG_FORM_NESTED : JG_FORM_SIGNED;

    /* a level without keys (e.g. "jwtgate" on a server whose locations
     * name the snapshot) refuses its requests with 500, see the handler */

    if (conf->realm != NULL && conf->source == NULL && conf->keys != NULL) {

        /* with issuers, their keys verify and name the algorithms */
        if (sig == 0 && form != JG_FORM_ENCRYPTED && conf->trust == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no signature algorithm: the keys name none, "
                               "list them with \"jwtgate_algorithms\"");
            return NGX_ERROR;
        }

        if (key == 0 && form != JG_FORM_SIGNED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no key management algorithm: the keys name "
                               "none, list them with \"jwtgate_algorithms\"");
            return NGX_ERROR;
        }
    }

    ngx_memzero(&conf->policy, sizeof(jg_open_policy));

    conf->policy.form = form;
    conf->policy.key_algs = key;
    conf->policy.encs = encs;
    conf->policy.jwt.algs = sig;
    conf->policy.jwt.issuer = conf->issuer.len ? (char *) conf->issuer.data
                                               : NULL;
    conf->policy.jwt.audience = conf->audience.len
                                ? (char *) conf->audience.data : NULL;
    conf->policy.jwt.typ = (char *) conf->typ.data;
    conf->policy.jwt.leeway = conf->leeway;
    conf->policy.jwt.clock = ngx_http_jwtgate_clock;

    /* with a snapshot, its issuer and audiences apply */
    if (conf->source != NULL) {
        conf->policy.jwt.issuer = NULL;
        conf->policy.jwt.audience = NULL;
    }

    /* keys from a snapshot or from key files */
    mode = conf->source != NULL;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, "location", sizeof("location"))
         && EVP_DigestUpdate(md, &form, sizeof(form))
         && EVP_DigestUpdate(md, &sig, sizeof(sig))
         && EVP_DigestUpdate(md, &key, sizeof(key))
         && EVP_DigestUpdate(md, &encs, sizeof(encs))
         && EVP_DigestUpdate(md, conf->issuer.data, conf->issuer.len + 1)
         && EVP_DigestUpdate(md, conf->audience.data, conf->audience.len + 1)
         && EVP_DigestUpdate(md, conf->typ.data, conf->typ.len + 1)
         && EVP_DigestUpdate(md, &conf->leeway, sizeof(conf->leeway))
         && EVP_DigestUpdate(md, &mode, sizeof(mode))
         && (conf->keys == NULL
             || ngx_http_jwtgate_digest_keys(md, conf->keys) == NGX_OK)
         && EVP_DigestFinal_ex(md, conf->digest, &n);

    EVP_MD_CTX_free(md);

    return ok ? NGX_OK : NGX_ERROR;
}


/* The library's clock: nginx's cached time, no system call per token. */

static int64_t
ngx_http_jwtgate_clock(void *data)
{
    return (int64_t) ngx_time();
}


/* ---- directives --------------------------------------------------------- */


/* jwtgate off | REALM [token=$variable] */

static char *
ngx_http_jwtgate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (jlcf->realm != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        jlcf->realm = NULL;
        jlcf->token = NULL;
        return NGX_CONF_OK;
    }

    jlcf->realm = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->realm == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = jlcf->realm;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    jlcf->token = NULL;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "token=", 6) != 0 || value[2].len == 6
        || value[2].data[6] != '$')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    value[2].data += 6;
    value[2].len -= 6;

    jlcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = jlcf->token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* jwtgate_snapshot FILE [interval=TIME] */

static char *
ngx_http_jwtgate_snapshot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t   *value, s;
    ngx_msec_t   interval;

    if (jlcf->source != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    interval = NGX_HTTP_JWTGATE_DEFAULT_INTERVAL;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        interval = ngx_parse_time(&s, 0);

        if (interval == (ngx_msec_t) NGX_ERROR || interval < 10) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid interval \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    jlcf->source = ngx_http_jwtgate_source_add(cf, &value[1], interval);
    if (jlcf->source == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_jwtgate_source_init(cf, jlcf->source) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_jwtgate_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t  *value;

    if (jlcf->type != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "signed") == 0) {
        jlcf->type = JG_FORM_SIGNED;

    } else if (ngx_strcmp(value[1].data, "encrypted") == 0) {
        jlcf->type = JG_FORM_ENCRYPTED;

    } else if (ngx_strcmp(value[1].data, "nested") == 0) {
        jlcf->type = JG_FORM_NESTED;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": signed, encrypted or "
                           "nested", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A directive of one or more words (jwtgate_algorithms, jwtgate_scope):
 * every word of every occurrence in one list. */

static char *
ngx_http_jwtgate_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* jwtgate_require $value ... [error=401|403] */

static char *
ngx_http_jwtgate_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i, n;
    ngx_http_complex_value_t          *cv;
    ngx_http_jwtgate_require_t        *req;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (jlcf->requires == NGX_CONF_UNSET_PTR) {
        jlcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_jwtgate_require_t));
        if (jlcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    req = ngx_array_push(jlcf->requires);
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }

    req->error = NGX_HTTP_UNAUTHORIZED;
    n = cf->args->nelts;

    if (ngx_strncmp(value[n - 1].data, "error=", 6) == 0) {
        if (ngx_strcmp(value[n - 1].data, "error=401") == 0) {
            req->error = NGX_HTTP_UNAUTHORIZED;

        } else if (ngx_strcmp(value[n - 1].data, "error=403") == 0) {
            req->error = NGX_HTTP_FORBIDDEN;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": error=401 or "
                               "error=403", &value[n - 1]);
            return NGX_CONF_ERROR;
        }

        n--;
    }

    if (n < 2) {
        return "needs a value";
    }

    req->values = ngx_array_create(cf->pool, n - 1,
                                    sizeof(ngx_http_complex_value_t));
    if (req->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < n; i++) {
        if (value[i].data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" does not start with a variable",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        cv = ngx_array_push(req->values);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* jwtgate_forward_claim HEADER name ... */

static char *
ngx_http_jwtgate_forward_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    u_char                      ch;
    ngx_str_t                  *value, *name;
    ngx_uint_t                  i;
    ngx_http_header_t          *known;
    ngx_http_jwtgate_forward_t *fwd;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    /* headers nginx itself interprets (Host, Authorization, ...) are kept
     * by reference in the request: they cannot be replaced */
    for (known = ngx_http_headers_in; known->name.len; known++) {
        if (known->name.len == value[1].len
            && ngx_strncasecmp(known->name.data, value[1].data,
                               value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "header \"%V\" cannot carry a claim",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (jlcf->forward == NGX_CONF_UNSET_PTR) {
        jlcf->forward = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_jwtgate_forward_t));
        if (jlcf->forward == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    fwd = ngx_array_push(jlcf->forward);
    if (fwd == NULL) {
        return NGX_CONF_ERROR;
    }

    fwd->header = value[1];
    fwd->lowcase.len = value[1].len;
    fwd->lowcase.data = ngx_pnalloc(cf->pool, value[1].len);
    if (fwd->lowcase.data == NULL) {
        return NGX_CONF_ERROR;
    }

    fwd->hash = ngx_hash_strlow(fwd->lowcase.data, value[1].data,
                                value[1].len);

    fwd->path = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                 sizeof(ngx_str_t));
    if (fwd->path == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        name = ngx_array_push(fwd->path);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


/* jwtgate_cache off | zone=NAME[:SIZE] [max_ttl=TIME] */

static char *
ngx_http_jwtgate_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    u_char      *p;
    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_uint_t   i;

    if (jlcf->cache != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        jlcf->cache = NULL;
        return NGX_CONF_OK;
    }

    jlcf->cache = NULL;
    jlcf->cache_max_ttl = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');
            size = 0;

            if (p != NULL) {
                name.len = p - name.data;
                s.data = p + 1;
                s.len = value[i].data + value[i].len - s.data;

                size = ngx_parse_size(&s);

                if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize))
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid zone size \"%V\" (at least "
                                       "8 pages)", &value[i]);
                    return NGX_CONF_ERROR;
                }

            } else {
                name.len = value[i].len - 5;
            }

            if (name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            jlcf->cache = ngx_http_jwtgate_cache_zone(cf, &name, size);
            if (jlcf->cache == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_ttl=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            jlcf->cache_max_ttl = ngx_parse_time(&s, 1);

            if (jlcf->cache_max_ttl == (time_t) NGX_ERROR
                || jlcf->cache_max_ttl == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (jlcf->cache == NULL) {
        return "needs zone=NAME:SIZE";
    }

    return NGX_CONF_OK;
}


/* jwtgate_dpop_replay zone=NAME[:SIZE] */

static char *
ngx_http_jwtgate_dpop_replay(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (jlcf->dpop_replay != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        return "needs zone=NAME:SIZE";
    }

    name.data = value[1].data + 5;
    p = (u_char *) ngx_strchr(name.data, ':');
    size = 0;

    if (p != NULL) {
        name.len = p - name.data;
        s.data = p + 1;
        s.len = value[1].data + value[1].len - s.data;

        size = ngx_parse_size(&s);

        if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone size \"%V\" (at least 8 pages)",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

    } else {
        name.len = value[1].len - 5;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    jlcf->dpop_replay = ngx_http_jwtgate_replay_zone(cf, &name, size);
    if (jlcf->dpop_replay == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* jwtgate_dpop_htu_origin https://api.example.com (variables allowed) */

static char *
ngx_http_jwtgate_dpop_htu_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (jlcf->dpop_htu_origin != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len && value[1].data[value[1].len - 1] == '/') {
        return "takes an origin without a path (no trailing \"/\")";
    }

    jlcf->dpop_htu_origin = ngx_palloc(cf->pool,
                                       sizeof(ngx_http_complex_value_t));
    if (jlcf->dpop_htu_origin == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = jlcf->dpop_htu_origin;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* ---- processes ---------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_jwtgate_source_t     **src;
    ngx_http_jwtgate_main_conf_t   *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_jwtgate_module);

    if (jmcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_jwtgate_cache_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_jwtgate_dpop_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_jwtgate_metrics_init_process(cycle, &jmcf->sources)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    src = jmcf->sources.elts;

    for (i = 0; i < jmcf->sources.nelts; i++) {
        if (ngx_http_jwtgate_source_start(cycle, src[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_jwtgate_issuers_start(cycle);
}


static void
ngx_http_jwtgate_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_jwtgate_cache_exit_process(cycle);
    ngx_http_jwtgate_dpop_exit_process(cycle);
    ngx_http_jwtgate_issuers_exit(cycle);
}

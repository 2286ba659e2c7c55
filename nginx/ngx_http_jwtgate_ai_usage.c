
/*
 * The usage log (jwtgate_ai_usage_log): one JSON line per LLM request,
 * written with one write() to a file opened with O_APPEND, so that the
 * lines of several workers never interleave; the usage agent (jwtgate
 * gateway usage) reads it and posts the lines to jwtgated. The line format
 * is a contract (docs/ai-gateway.md, "Usage log"):
 *
 *   {"t":1765100000,"client_id":"...","api":"api_...","model":"gpt-4o",
 *    "provider":"openai","key_id":"pk_...","status":200,
 *    "input_tokens":12,"output_tokens":34}
 *
 * Never a key, a token or a prompt.
 */


#include "ngx_http_jwtgate_ai_module.h"


static u_char *ngx_http_jwtgate_ai_json_str(u_char *p, const u_char *last,
    ngx_str_t *s);


void
ngx_http_jwtgate_ai_usage_write(ngx_http_jwtgate_ai_main_conf_t *amcf,
    ngx_log_t *log, ngx_str_t *client_id, ngx_str_t *api, ngx_str_t *model,
    ngx_str_t *provider, ngx_str_t *key_id, ngx_uint_t status,
    uint64_t input, uint64_t output)
{
    u_char   *p, *last;
    u_char    line[2048];
    ssize_t   n;

    if (amcf->usage_log == NULL || amcf->usage_log->fd == NGX_INVALID_FILE) {
        return;
    }

    last = line + sizeof(line) - 1;

    p = ngx_slprintf(line, last, "{\"t\":%T,\"client_id\":", ngx_time());
    p = ngx_http_jwtgate_ai_json_str(p, last, client_id);
    p = ngx_slprintf(p, last, ",\"api\":");
    p = ngx_http_jwtgate_ai_json_str(p, last, api);
    p = ngx_slprintf(p, last, ",\"model\":");
    p = ngx_http_jwtgate_ai_json_str(p, last, model);
    p = ngx_slprintf(p, last, ",\"provider\":");
    p = ngx_http_jwtgate_ai_json_str(p, last, provider);
    p = ngx_slprintf(p, last, ",\"key_id\":");
    p = ngx_http_jwtgate_ai_json_str(p, last, key_id);
    p = ngx_slprintf(p, last,
                     ",\"status\":%ui,\"input_tokens\":%uL,"
                     "\"output_tokens\":%uL}",
                     status, input, output);

    if (p >= last) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate_ai: usage line too long, not written");
        return;
    }

    *p++ = '\n';

    n = ngx_write_fd(amcf->usage_log->fd, line, p - line);

    if (n != p - line) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "jwtgate_ai: cannot write the usage log \"%V\"",
                      &amcf->usage_log->name);
    }
}


/* a JSON string ("" for none); the values are identifiers and names, but
 * escaped all the same */

static u_char *
ngx_http_jwtgate_ai_json_str(u_char *p, const u_char *last, ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    if (p < last) {
        *p++ = '"';
    }

    for (i = 0; s != NULL && i < s->len && p + 6 < last; i++) {
        c = s->data[i];

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c < 0x20 || c >= 0x7f) {
            p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) c);

        } else {
            *p++ = c;
        }
    }

    if (p < last) {
        *p++ = '"';
    }

    return p;
}

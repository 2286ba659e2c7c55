
/*
 * The usage log (jwtgate_ai_usage_log): one JSON line per LLM request, in a
 * file opened with O_APPEND and written only in whole lines, so that the
 * lines of several workers never interleave; the usage agent (jwtgate
 * gateway usage) reads it and posts the lines to jwtgated.
 *
 * The lines of one pass of the event loop go out in one write(): a posted
 * event writes them, and nginx runs posted events after the pass's ready
 * events, before it waits for events again. Under load a worker finishes
 * several requests a pass, and they share the system call (a write() was
 * 2-3 us a request in bench-ai's profile); a line waits microseconds, never
 * for a timer or for the next request. A full buffer is written at once,
 * and the rest at the worker's exit and before the logs are reopened
 * (USR1).
 *
 * The line format is a contract (docs/ai-gateway.md, "Usage log"):
 *
 *   {"t":1765100000,"client_id":"...","api":"api_...","model":"gpt-4o",
 *    "provider":"openai","key_id":"pk_...","status":200,
 *    "input_tokens":12,"output_tokens":34}
 *
 * Never a key, a token or a prompt.
 */


#include "ngx_http_jwtgate_ai_module.h"


#define NGX_HTTP_JWTGATE_AI_USAGE_BUF  65536


static u_char *ngx_http_jwtgate_ai_json_member(u_char *p, const u_char *last,
    const char *name, ngx_str_t *s);
static void ngx_http_jwtgate_ai_usage_post(ngx_event_t *ev);
static void ngx_http_jwtgate_ai_usage_reopen(ngx_open_file_t *file,
    ngx_log_t *log);


/* this worker's lines not written yet, all of them to one file */
static u_char            ngx_http_jwtgate_ai_usage_buf[
                             NGX_HTTP_JWTGATE_AI_USAGE_BUF];
static size_t            ngx_http_jwtgate_ai_usage_len;
static ngx_open_file_t  *ngx_http_jwtgate_ai_usage_file;
static ngx_event_t       ngx_http_jwtgate_ai_usage_ev;


void
ngx_http_jwtgate_ai_usage_write(ngx_http_jwtgate_ai_main_conf_t *amcf,
    ngx_log_t *log, ngx_str_t *client_id, ngx_str_t *api, ngx_str_t *model,
    ngx_str_t *provider, ngx_str_t *key_id, ngx_uint_t status,
    uint64_t input, uint64_t output)
{
    u_char  *p, *last;
    u_char   line[2048];

    if (amcf->usage_log == NULL || amcf->usage_log->fd == NGX_INVALID_FILE) {
        return;
    }

    last = line + sizeof(line) - 1;

    p = ngx_slprintf(line, last, "{\"t\":%T", ngx_time());
    p = ngx_http_jwtgate_ai_json_member(p, last, ",\"client_id\":", client_id);
    p = ngx_http_jwtgate_ai_json_member(p, last, ",\"api\":", api);
    p = ngx_http_jwtgate_ai_json_member(p, last, ",\"model\":", model);
    p = ngx_http_jwtgate_ai_json_member(p, last, ",\"provider\":", provider);
    p = ngx_http_jwtgate_ai_json_member(p, last, ",\"key_id\":", key_id);
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

    if (ngx_http_jwtgate_ai_usage_file != amcf->usage_log
        || ngx_http_jwtgate_ai_usage_len + (p - line)
           > NGX_HTTP_JWTGATE_AI_USAGE_BUF)
    {
        ngx_http_jwtgate_ai_usage_flush(log);
        ngx_http_jwtgate_ai_usage_file = amcf->usage_log;

        if (amcf->usage_log->flush == NULL) {
            amcf->usage_log->flush = ngx_http_jwtgate_ai_usage_reopen;
        }
    }

    ngx_memcpy(ngx_http_jwtgate_ai_usage_buf + ngx_http_jwtgate_ai_usage_len,
               line, p - line);
    ngx_http_jwtgate_ai_usage_len += p - line;

    if (!ngx_http_jwtgate_ai_usage_ev.posted) {
        ngx_http_jwtgate_ai_usage_ev.handler = ngx_http_jwtgate_ai_usage_post;
        ngx_http_jwtgate_ai_usage_ev.log = ngx_cycle->log;
        ngx_post_event(&ngx_http_jwtgate_ai_usage_ev, &ngx_posted_events);
    }
}


/* the lines held: one write() */

void
ngx_http_jwtgate_ai_usage_flush(ngx_log_t *log)
{
    ssize_t           n;
    ngx_open_file_t  *file;

    file = ngx_http_jwtgate_ai_usage_file;

    if (ngx_http_jwtgate_ai_usage_len == 0 || file == NULL) {
        return;
    }

    if (file->fd != NGX_INVALID_FILE) {
        n = ngx_write_fd(file->fd, ngx_http_jwtgate_ai_usage_buf,
                         ngx_http_jwtgate_ai_usage_len);

        if (n != (ssize_t) ngx_http_jwtgate_ai_usage_len) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "jwtgate_ai: cannot write the usage log \"%V\"",
                          &file->name);
        }
    }

    ngx_http_jwtgate_ai_usage_len = 0;
}


static void
ngx_http_jwtgate_ai_usage_post(ngx_event_t *ev)
{
    ngx_http_jwtgate_ai_usage_flush(ev->log);
}


/* the logs are reopened (USR1): the lines held go to the file of their
 * time */

static void
ngx_http_jwtgate_ai_usage_reopen(ngx_open_file_t *file, ngx_log_t *log)
{
    if (file == ngx_http_jwtgate_ai_usage_file) {
        ngx_http_jwtgate_ai_usage_flush(log);
    }
}


/* a member: its name (a literal with the comma and colon) and a JSON string
 * ("" for none); the values are identifiers and names, but escaped all the
 * same */

static u_char *
ngx_http_jwtgate_ai_json_member(u_char *p, const u_char *last,
    const char *name, ngx_str_t *s)
{
    size_t  i, n;
    u_char  c;

    n = ngx_strlen(name);

    if ((size_t) (last - p) <= n) {
        return (u_char *) last;
    }

    p = ngx_cpymem(p, name, n);
    *p++ = '"';

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

/*
 * The jg_llm calls the AI module makes for one request of scripts/bench-ai,
 * timed alone (no nginx): parse the client's body, build the provider's body,
 * translate the provider's answer (non-streaming), or feed the recorded stream
 * through a stream translator (streaming). Prints microseconds per request for
 * each, so that bench-ai can split the gateway's CPU per request into the wire
 * formats' share and the rest.
 *
 *   time_llm REQUEST_FILE ANSWER_FILE STREAM_FILE [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jg_llm.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "time_llm: cannot read %s\n", path);
        exit(2);
    }
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int sink(void *ctx, const char *data, size_t len)
{
    (void)data;
    *(size_t *)ctx += len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: time_llm REQUEST ANSWER STREAM [N]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 20000;
    size_t rlen, alen, slen, emitted = 0;
    char *req = slurp(argv[1], &rlen), *ans = slurp(argv[2], &alen), *sse = slurp(argv[3], &slen);
    char err[JG_LLM_ERR_MAX];

    /* each call in a loop of its own, timed once a loop: a CPU clock read is
     * a system call (about 1 us in a VM), as long as what it would time */
    jg_llm_request *r = NULL;
    char *body, *out;
    size_t len, out_len;
    jg_llm_usage usage;
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        if (jg_llm_request_parse(JG_LLM_OPENAI, JG_LLM_CHAT, req, rlen, 0, &r, err) != JG_LLM_OK) {
            fprintf(stderr, "time_llm: parse: %s\n", err);
            return 1;
        }
        if (i + 1 < n)
            jg_llm_request_free(r);
    }
    double t1 = now_us();
    for (int i = 0; i < n; i++) {
        if (jg_llm_request_build(r, JG_LLM_OPENAI, "gpt-4o-2024-08-06", &body, &len, err) !=
            JG_LLM_OK) {
            fprintf(stderr, "time_llm: build: %s\n", err);
            return 1;
        }
        jg_llm_free(body);
    }
    double t2 = now_us();
    for (int i = 0; i < n; i++) {
        if (jg_llm_response_translate(JG_LLM_OPENAI, JG_LLM_OPENAI, JG_LLM_CHAT, "gpt-4o", ans,
                                      alen, &out, &out_len, &usage) != JG_LLM_OK) {
            fprintf(stderr, "time_llm: translate failed\n");
            return 1;
        }
        jg_llm_free(out);
    }
    double t3 = now_us();
    for (int i = 0; i < n; i++) {
        jg_llm_stream *st =
            jg_llm_stream_new(JG_LLM_OPENAI, JG_LLM_OPENAI, "gpt-4o", false, sink, &emitted);
        if (st == NULL || jg_llm_stream_feed(st, sse, slen) != JG_LLM_OK ||
            jg_llm_stream_finish(st) != JG_LLM_OK) {
            fprintf(stderr, "time_llm: stream failed\n");
            return 1;
        }
        jg_llm_stream_free(st);
    }
    double t4 = now_us();
    jg_llm_request_free(r);
    double parse = t1 - t0, build = t2 - t1, translate = t3 - t2, stream = t4 - t3;
    printf("parse %.2f build %.2f translate %.2f stream %.2f us\n", parse / n, build / n,
           translate / n, stream / n);
    return 0;
}

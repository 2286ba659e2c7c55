/* admin_http.c — the admin client's HTTP transport over libcurl. */
#include "admin_http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"

#define MAX_RESPONSE ((size_t)16 * 1024 * 1024)

typedef struct sink {
    char *data;
    size_t len;
    int too_big;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    if (s->len + n > (size_t)MAX_RESPONSE) {
        s->too_big = 1;
        return 0;
    }
    char *grown = realloc(s->data, s->len + n + 1);
    if (grown == NULL)
        return 0;
    s->data = grown;
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

int admin_http(const char *base_url, const char *token, const char *method, const char *path,
               const json_t *body, long *status, char **resp, size_t *resp_len)
{
    *resp = NULL;
    *resp_len = 0;
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    size_t ulen = blen + strlen("/admin/v1") + strlen(path) + 1;
    char *url = malloc(ulen);
    size_t hlen = strlen(token) + 32;
    char *auth = malloc(hlen);
    char *payload = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    sink s = {0};
    int rc = EXIT_USAGE;
    if (url == NULL || auth == NULL || curl == NULL || (body != NULL && payload == NULL)) {
        cli_fail(EXIT_USAGE, "out of memory");
        goto out;
    }
    snprintf(url, ulen, "%.*s/admin/v1%s", (int)blen, base_url, path);
    snprintf(auth, hlen, "Authorization: Bearer %s", token);
    headers = curl_slist_append(headers, auth);
    if (payload != NULL)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json, application/problem+json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (payload != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    }
    CURLcode res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        cli_fail(EXIT_USAGE, "%.*s: %s", (int)blen, base_url,
                 s.too_big ? "response too large" : curl_easy_strerror(res));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    *resp = s.data;
    *resp_len = s.len;
    s.data = NULL;
    rc = EXIT_OK;
out:
    curl_slist_free_all(headers);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    if (auth != NULL)
        jg_free_secret(auth, 0);
    if (payload != NULL)
        jg_free_secret(payload, 0);
    free(s.data);
    free(url);
    return rc;
}

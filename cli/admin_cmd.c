/*
 * admin_cmd.c — "jwtgate admin ...": the operators' client of jwtgated's
 * admin API (/admin/v1). Each command is one row of a table: how its
 * positional arguments and options become the request's path, query and JSON
 * body, and which columns a table shows. Output is a table (lists) or
 * "name: value" lines (one object), or the server's JSON with --json.
 *
 * The server and token come from --url / --token (or --token-file), else
 * $JWTGATE_ADMIN_URL (default http://127.0.0.1:8080) and
 * $JWTGATE_ADMIN_TOKEN. Exit status: 0 success, 1 the server refused
 * (its problem details on stderr), 2 usage or connection errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_http.h"
#include "cli.h"

typedef enum opt_kind {
    O_STR = 0,  /* --x VALUE: body string */
    O_INT,      /* --x N: body integer */
    O_FLAG,     /* --x: body true */
    O_LIST,     /* --x A (repeatable) or --x A,B: body array of strings */
    O_JSONFILE, /* --x FILE: body JSON value read from FILE */
    O_TIME,     /* --x 30d | @epoch: body integer (seconds since the epoch) */
    O_DURATION, /* --x 1h: body integer seconds */
    O_QUERY,    /* --x VALUE: query parameter */
    O_MAP,      /* --x A=B (repeatable): body object {"A": "B"} */
    O_SECRET,   /* --x FILE ("-": stdin): body string read from FILE, wiped after the request */
    O_JSON,     /* --x TEXT: body JSON value given inline */
    O_NULL      /* --x: body null (clears the member) */
} opt_kind;

typedef struct opt_spec {
    const char *flag; /* without "--" */
    const char *member;
    opt_kind kind;
} opt_spec;

typedef struct admin_cmd {
    const char *resource, *action, *method;
    const char *path;  /* {name} is replaced by the positional argument of that name */
    const char *args;  /* positional names, space-separated; "body:" prefix = body string */
    const char *fixed; /* JSON members always in the body, or NULL */
    opt_spec opts[10];
    const char *columns; /* for tables */
    const char *summary;
} admin_cmd;

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, O_STR                                                                          \
    }

static const admin_cmd commands[] = {
    {"tenant", "list", "GET", "/tenants", "", NULL, {END}, "id,name,created_at", "list tenants"},
    {"tenant",
     "create",
     "POST",
     "/tenants",
     "body:name",
     NULL,
     {{"owner", "owner", O_STR}, END},
     "id,name",
     "create a tenant (system administrators)"},
    {"tenant",
     "get",
     "GET",
     "/tenants/{tenant}",
     "tenant",
     NULL,
     {END},
     "id,name,created_at",
     "show a tenant"},
    {"tenant",
     "members",
     "GET",
     "/tenants/{tenant}/members",
     "tenant",
     NULL,
     {END},
     "user_id,role,created_at",
     "list members"},
    {"tenant",
     "add-member",
     "POST",
     "/tenants/{tenant}/members",
     "tenant body:user body:role",
     NULL,
     {END},
     "user_id,role",
     "add a member (USER is a user name; ROLE owner|admin|developer|viewer)"},
    {"tenant",
     "set-role",
     "PUT",
     "/tenants/{tenant}/members/{user}",
     "tenant user body:role",
     NULL,
     {END},
     "user_id,role",
     "change a member's role (USER is a user id)"},
    {"tenant",
     "remove-member",
     "DELETE",
     "/tenants/{tenant}/members/{user}",
     "tenant user",
     NULL,
     {END},
     "",
     "remove a member"},
    {"user", "list", "GET", "/users", "", NULL, {END}, "id,name,system_admin", "list users"},
    {"user",
     "create",
     "POST",
     "/users",
     "body:name",
     NULL,
     {{"system-admin", "system_admin", O_FLAG}, END},
     "id,name,system_admin",
     "create a user"},
    {"user", "me", "GET", "/me", "", NULL, {END}, "id,name,system_admin", "who am I"},
    {"token",
     "list",
     "GET",
     "/tokens",
     "",
     NULL,
     {END},
     "id,name,created_at,expires_at",
     "your personal access tokens"},
    {"token",
     "create",
     "POST",
     "/tokens",
     "body:name",
     NULL,
     {{"user-id", "user_id", O_STR}, {"expires-in", "expires_in", O_DURATION}, END},
     "id,name,expires_at,token",
     "create a personal access token (shown once)"},
    {"token", "delete", "DELETE", "/tokens/{token}", "token", NULL, {END}, "", "delete a token"},
    {"api",
     "list",
     "GET",
     "/tenants/{tenant}/apis",
     "tenant",
     NULL,
     {END},
     "id,name,version,state,base_path,audience",
     "list a tenant's APIs"},
    {"api",
     "catalog",
     "GET",
     "/catalog",
     "",
     NULL,
     {END},
     "id,tenant_id,name,version,state,audience,scopes",
     "published APIs of every tenant"},
    {"api",
     "get",
     "GET",
     "/tenants/{tenant}/apis/{api}",
     "tenant api",
     NULL,
     {END},
     "id,name,version,state,sunset,base_path,upstream,audience,scopes,policy",
     "show an API"},
    {"api",
     "create",
     "POST",
     "/tenants/{tenant}/apis",
     "tenant",
     NULL,
     {{"name", "name", O_STR},
      {"version", "version", O_STR},
      {"base-path", "base_path", O_STR},
      {"upstream", "upstream", O_STR},
      {"audience", "audience", O_STR},
      {"scope", "scopes", O_LIST},
      {"policy", "policy", O_STR},
      {"require-binding", "require_binding", O_STR},
      {"kind", "kind", O_STR},
      END},
     "id,name,version,kind,state,base_path,audience,scopes",
     "create an API (draft; --kind http|llm)"},
    {"api",
     "update",
     "PATCH",
     "/tenants/{tenant}/apis/{api}",
     "tenant api",
     NULL,
     {{"upstream", "upstream", O_STR},
      {"scope", "scopes", O_LIST},
      {"policy", "policy", O_STR},
      {"base-path", "base_path", O_STR},
      {"audience", "audience", O_STR},
      {"require-binding", "require_binding", O_STR},
      END},
     "id,name,state,base_path,upstream,audience,scopes,policy,require_binding",
     "change an API"},
    {"api",
     "publish",
     "POST",
     "/tenants/{tenant}/apis/{api}/lifecycle",
     "tenant api",
     "{\"state\":\"published\"}",
     {END},
     "id,name,state",
     "draft -> published"},
    {"api",
     "deprecate",
     "POST",
     "/tenants/{tenant}/apis/{api}/lifecycle",
     "tenant api",
     "{\"state\":\"deprecated\"}",
     {{"sunset", "sunset", O_TIME}, END},
     "id,name,state,sunset",
     "published -> deprecated (--sunset 90d or @EPOCH)"},
    {"api",
     "retire",
     "POST",
     "/tenants/{tenant}/apis/{api}/lifecycle",
     "tenant api",
     "{\"state\":\"retired\"}",
     {END},
     "id,name,state",
     "deprecated -> retired"},
    {"api",
     "delete",
     "DELETE",
     "/tenants/{tenant}/apis/{api}",
     "tenant api",
     NULL,
     {END},
     "",
     "delete a draft API"},
    /* An llm API's providers (the fallback chain, by priority) and their key
     * pools. The key is read from a file or stdin, never from the command
     * line (ps would show it). */
    {"api provider",
     "list",
     "GET",
     "/tenants/{tenant}/apis/{api}/providers",
     "tenant api",
     NULL,
     {END},
     "name,priority,format,base_url,models,timeout_ms",
     "an llm API's providers, in fallback order"},
    {"api provider",
     "get",
     "GET",
     "/tenants/{tenant}/apis/{api}/providers/{provider}",
     "tenant api provider",
     NULL,
     {END},
     "id,name,priority,format,base_url,models,timeout_ms,updated_at",
     "show a provider"},
    {"api provider",
     "add",
     "POST",
     "/tenants/{tenant}/apis/{api}/providers",
     "tenant api body:name",
     NULL,
     {{"format", "format", O_STR},
      {"base-url", "base_url", O_STR},
      {"model", "models", O_MAP},
      {"priority", "priority", O_INT},
      {"timeout-ms", "timeout_ms", O_INT},
      END},
     "id,name,priority,format,base_url,models,timeout_ms",
     "add a provider (--format openai|anthropic, --model PUBLIC=PROVIDER ...)"},
    {"api provider",
     "update",
     "PATCH",
     "/tenants/{tenant}/apis/{api}/providers/{provider}",
     "tenant api provider",
     NULL,
     {{"base-url", "base_url", O_STR},
      {"model", "models", O_MAP},
      {"priority", "priority", O_INT},
      {"timeout-ms", "timeout_ms", O_INT},
      END},
     "id,name,priority,format,base_url,models,timeout_ms",
     "change a provider (--model replaces the whole model map)"},
    {"api provider",
     "delete",
     "DELETE",
     "/tenants/{tenant}/apis/{api}/providers/{provider}",
     "tenant api provider",
     NULL,
     {END},
     "",
     "delete a provider and its keys"},
    {"api key",
     "list",
     "GET",
     "/tenants/{tenant}/apis/{api}/providers/{provider}/keys",
     "tenant api provider",
     NULL,
     {END},
     "id,hint,state,created_at,disabled_at",
     "a provider's key pool (last 4 characters only)"},
    {"api key",
     "add",
     "POST",
     "/tenants/{tenant}/apis/{api}/providers/{provider}/keys",
     "tenant api provider",
     NULL,
     {{"key-file", "key", O_SECRET}, END},
     "id,hint,state",
     "add a provider key (--key-file FILE, - for stdin)"},
    {"api key",
     "disable",
     "PATCH",
     "/tenants/{tenant}/apis/{api}/providers/{provider}/keys/{key}",
     "tenant api provider key",
     "{\"state\":\"disabled\"}",
     {END},
     "id,hint,state,disabled_at",
     "take a key out of the pool (rotation: add the new one, disable the old)"},
    {"api key",
     "enable",
     "PATCH",
     "/tenants/{tenant}/apis/{api}/providers/{provider}/keys/{key}",
     "tenant api provider key",
     "{\"state\":\"active\"}",
     {END},
     "id,hint,state",
     "put a disabled key back into the pool"},
    {"api key",
     "delete",
     "DELETE",
     "/tenants/{tenant}/apis/{api}/providers/{provider}/keys/{key}",
     "tenant api provider key",
     NULL,
     {END},
     "",
     "delete a provider key"},
    {"app",
     "list",
     "GET",
     "/tenants/{tenant}/apps",
     "tenant",
     NULL,
     {END},
     "id,name,client_id,auth_method,suspended",
     "list a tenant's applications"},
    {"app",
     "get",
     "GET",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     NULL,
     {END},
     "id,name,client_id,auth_method,suspended,jwks",
     "show an application"},
    {"app",
     "create",
     "POST",
     "/tenants/{tenant}/apps",
     "tenant body:name",
     NULL,
     {{"jwks", "jwks", O_JSONFILE},
      {"auth-method", "auth_method", O_STR},
      {"token-binding", "token_binding", O_STR},
      {"secret-expires-in", "secret_expires_in", O_DURATION},
      {"tls-subject-dn", "tls_client_auth_subject_dn", O_STR},
      {"tls-san-dns", "tls_client_auth_san_dns", O_STR},
      {"tls-san-uri", "tls_client_auth_san_uri", O_STR},
      {"tls-san-ip", "tls_client_auth_san_ip", O_STR},
      {"tls-san-email", "tls_client_auth_san_email", O_STR},
      END},
     "id,name,client_id,auth_method,client_secret",
     "create an application (the client secret is shown once)"},
    {"app",
     "set-keys",
     "PATCH",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     NULL,
     {{"jwks", "jwks", O_JSONFILE}, END},
     "id,name,client_id,jwks",
     "replace a private_key_jwt application's public keys"},
    {"app",
     "set-binding",
     "PATCH",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     NULL,
     {{"token-binding", "token_binding", O_STR}, END},
     "id,name,client_id,token_binding",
     "how its tokens are bound: none, dpop_optional, dpop_required, mtls_required"},
    {"app",
     "set-tls-name",
     "PATCH",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     NULL,
     {{"tls-subject-dn", "tls_client_auth_subject_dn", O_STR},
      {"tls-san-dns", "tls_client_auth_san_dns", O_STR},
      {"tls-san-uri", "tls_client_auth_san_uri", O_STR},
      {"tls-san-ip", "tls_client_auth_san_ip", O_STR},
      {"tls-san-email", "tls_client_auth_san_email", O_STR},
      END},
     "id,name,client_id,tls_client_auth",
     "what a tls_client_auth application's certificate must name (one of the five)"},
    {"app",
     "suspend",
     "PATCH",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     "{\"suspended\":true}",
     {END},
     "id,name,client_id,suspended",
     "suspend an application"},
    {"app",
     "resume",
     "PATCH",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     "{\"suspended\":false}",
     {END},
     "id,name,client_id,suspended",
     "resume an application"},
    {"app",
     "delete",
     "DELETE",
     "/tenants/{tenant}/apps/{app}",
     "tenant app",
     NULL,
     {END},
     "",
     "delete an application"},
    {"app",
     "secrets",
     "GET",
     "/tenants/{tenant}/apps/{app}/secrets",
     "tenant app",
     NULL,
     {END},
     "id,hint,created_at,expires_at",
     "list an application's secrets (hints only)"},
    {"app",
     "add-secret",
     "POST",
     "/tenants/{tenant}/apps/{app}/secrets",
     "tenant app",
     NULL,
     {{"expires-in", "expires_in", O_DURATION}, END},
     "id,hint,expires_at,client_secret",
     "add a secret for rotation (shown once)"},
    {"app",
     "delete-secret",
     "DELETE",
     "/tenants/{tenant}/apps/{app}/secrets/{secret}",
     "tenant app secret",
     NULL,
     {END},
     "",
     "delete a secret"},
    {"subscription",
     "list",
     "GET",
     "/tenants/{tenant}/subscriptions",
     "tenant",
     NULL,
     {END},
     "id,app_id,api_id,state,scopes,decided_by",
     "subscriptions of a tenant (both sides)"},
    {"subscription",
     "get",
     "GET",
     "/tenants/{tenant}/subscriptions/{sub}",
     "tenant sub",
     NULL,
     {END},
     "id,app_id,api_id,state,scopes,requested_by,decided_by,reason",
     "show a subscription"},
    {"subscription",
     "request",
     "POST",
     "/tenants/{tenant}/subscriptions",
     "tenant",
     NULL,
     {{"app", "app_id", O_STR}, {"api", "api_id", O_STR}, {"scope", "scopes", O_LIST}, END},
     "id,app_id,api_id,state,scopes",
     "subscribe an application to an API"},
    {"subscription",
     "approve",
     "POST",
     "/tenants/{tenant}/subscriptions/{sub}/approve",
     "tenant sub",
     NULL,
     {{"reason", "reason", O_STR},
      {"plan", "plan_id", O_STR},
      {"limits", "limits", O_JSON},
      {"limits-file", "limits", O_JSONFILE},
      END},
     "id,state,decided_by,reason,plan_id,limits",
     "approve (API owner's admins; llm APIs: --plan ID or --limits JSON)"},
    {"subscription",
     "limits",
     "PUT",
     "/tenants/{tenant}/subscriptions/{sub}/limits",
     "tenant sub",
     NULL,
     {{"plan", "plan_id", O_STR},
      {"limits", "limits", O_JSON},
      {"limits-file", "limits", O_JSONFILE},
      {"no-plan", "plan_id", O_NULL},
      {"no-limits", "limits", O_NULL},
      END},
     "id,state,plan_id,limits",
     "set an llm subscription's plan or inline limits (API owner's admins)"},
    {"usage",
     "query",
     "GET",
     "/usage",
     "",
     NULL,
     {{"tenant", "tenant", O_QUERY},
      {"app", "app", O_QUERY},
      {"api", "api", O_QUERY},
      {"model", "model", O_QUERY},
      {"from", "from", O_QUERY},
      {"to", "to", O_QUERY},
      {"step", "step", O_QUERY},
      END},
     "t,api_id,model,requests,input_tokens,output_tokens",
     "LLM usage per step (minute|hour|day), API and model (--from/--to: epoch seconds)"},
    {"plan",
     "list",
     "GET",
     "/tenants/{tenant}/plans",
     "tenant",
     NULL,
     {END},
     "id,name,limits",
     "a tenant's plans (limit sets for llm subscriptions)"},
    {"plan",
     "get",
     "GET",
     "/tenants/{tenant}/plans/{plan}",
     "tenant plan",
     NULL,
     {END},
     "id,name,limits,updated_at",
     "show a plan"},
    {"plan",
     "create",
     "POST",
     "/tenants/{tenant}/plans",
     "tenant body:name",
     NULL,
     {{"limits", "limits", O_JSON}, {"limits-file", "limits", O_JSONFILE}, END},
     "id,name,limits",
     "create a plan (--limits '{\"tokens_per_minute\":10000}')"},
    {"plan",
     "update",
     "PATCH",
     "/tenants/{tenant}/plans/{plan}",
     "tenant plan",
     NULL,
     {{"limits", "limits", O_JSON}, {"limits-file", "limits", O_JSONFILE}, END},
     "id,name,limits",
     "replace a plan's limits (every subscription on it follows)"},
    {"plan",
     "delete",
     "DELETE",
     "/tenants/{tenant}/plans/{plan}",
     "tenant plan",
     NULL,
     {END},
     "",
     "delete a plan no live subscription uses"},
    {"subscription",
     "reject",
     "POST",
     "/tenants/{tenant}/subscriptions/{sub}/reject",
     "tenant sub",
     NULL,
     {{"reason", "reason", O_STR}, END},
     "id,state,decided_by,reason",
     "reject (API owner's admins)"},
    {"subscription",
     "revoke",
     "POST",
     "/tenants/{tenant}/subscriptions/{sub}/revoke",
     "tenant sub",
     NULL,
     {{"reason", "reason", O_STR}, END},
     "id,state,decided_by,reason",
     "revoke an approved subscription"},
    {"key",
     "list",
     "GET",
     "/keys",
     "",
     NULL,
     {END},
     "id,purpose,alg,state,created_at",
     "issuer and gateway keys"},
    {"key",
     "rotate",
     "POST",
     "/keys/rotate",
     "",
     NULL,
     {{"purpose", "purpose", O_STR}, END},
     "id,purpose,alg,state",
     "rotate keys (--purpose signing|encryption|both)"},
    {"audit",
     "list",
     "GET",
     "/audit",
     "",
     NULL,
     {{"since", "since", O_QUERY},
      {"until", "until", O_QUERY},
      {"after", "after", O_QUERY},
      {"limit", "limit", O_QUERY},
      END},
     "seq,at,actor,action,tenant_id,target",
     "the whole audit log (system administrators)"},
    {"audit",
     "tenant",
     "GET",
     "/tenants/{tenant}/audit",
     "tenant",
     NULL,
     {{"since", "since", O_QUERY},
      {"until", "until", O_QUERY},
      {"after", "after", O_QUERY},
      {"limit", "limit", O_QUERY},
      END},
     "seq,at,actor,action,target",
     "a tenant's audit log (admins)"},
    {"gateway",
     "list",
     "GET",
     "/gateways",
     "",
     NULL,
     {END},
     "id,name,state,kid,created_at",
     "list registered gateways (system administrators)"},
    {"gateway",
     "get",
     "GET",
     "/gateways/{gateway}",
     "gateway",
     NULL,
     {END},
     "id,name,state,kid,created_at,revoked_at",
     "show a gateway"},
    /* Done here, not by the table: the key pair is made locally (gateway_cmd.c). */
    {"gateway",
     "create",
     "POST",
     "/gateways",
     "body:name",
     NULL,
     {{"out", "out", O_STR}, END},
     "id,name",
     "register a gateway: key pair made here, credential file written (0600)"},
    {"gateway",
     "revoke",
     "POST",
     "/gateways/{gateway}/revoke",
     "gateway",
     NULL,
     {END},
     "id,name,state,revoked_at",
     "revoke a gateway's credential (its agent gets 401)"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char admin_usage[] =
    "Usage: jwtgate admin [--url URL] [--token TOKEN | --token-file FILE] [--json]\n"
    "                     <resource> <action> [arguments] [options]\n"
    "Manage a running jwtgated through its admin API. The token is a personal access\n"
    "token (jwtgated init prints the first one); defaults: $JWTGATE_ADMIN_URL\n"
    "(http://127.0.0.1:8080) and $JWTGATE_ADMIN_TOKEN. --json prints the server's JSON.\n"
    "Exit status: 0 success, 1 refused by the server, 2 usage or connection error.\n"
    "\n"
    "Example:\n"
    "  export JWTGATE_ADMIN_TOKEN=jgp_...\n"
    "  jwtgate admin tenant create payments --owner alice\n"
    "  jwtgate admin api create ten_X --name orders --version v1 --base-path /orders \\\n"
    "      --upstream http://10.0.0.5:8080 --audience https://api.example.com/orders \\\n"
    "      --scope orders:read --scope orders:write\n"
    "  jwtgate admin api publish ten_X api_Y\n"
    "\nCommands:\n";

static void print_usage(FILE *to)
{
    fputs(admin_usage, to);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const admin_cmd *c = &commands[i];
        char line[160];
        int n = snprintf(line, sizeof line, "  %s %s", c->resource, c->action);
        const char *a = c->args;
        while (*a) {
            const char *end = strchr(a, ' ');
            size_t len = end ? (size_t)(end - a) : strlen(a);
            const char *name = strncmp(a, "body:", 5) == 0 ? a + 5 : a;
            size_t nlen = len - (size_t)(name - a);
            n += snprintf(line + n, sizeof line - (size_t)n, " %.*s", (int)nlen, name);
            for (char *p = line + n - (int)nlen; p < line + n; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            a += len + (end != NULL);
        }
        for (const opt_spec *o = c->opts; o->flag != NULL; o++)
            n += snprintf(line + n, sizeof line - (size_t)n, " [--%s]", o->flag);
        fprintf(to, "%-72s %s\n", line, c->summary);
    }
}

/* ---- Output ---------------------------------------------------------------------- */

static void cell(const json_t *v, char *out, size_t len)
{
    if (v == NULL || json_is_null(v))
        snprintf(out, len, "-");
    else if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(out, len, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_array(v) && json_array_size(v) > 0 && json_is_string(json_array_get(v, 0))) {
        size_t i, n = 0;
        json_t *s;
        out[0] = '\0';
        json_array_foreach (v, i, s)
            n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", i ? " " : "",
                                  json_is_string(s) ? json_string_value(s) : "?");
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(out, len, "%s", text != NULL ? text : "?");
        free(text);
    }
}

static char **split_columns(const char *spec, size_t *n)
{
    char **cols = cli_split_list(spec);
    *n = 0;
    while (cols != NULL && cols[*n] != NULL)
        (*n)++;
    return cols;
}

static void print_table(const json_t *items, const char *spec)
{
    size_t ncol = 0;
    char **cols = split_columns(spec, &ncol);
    if (cols == NULL || ncol == 0) {
        free(cols);
        return;
    }
    size_t nrow = json_array_size(items);
    size_t *width = calloc(ncol, sizeof *width);
    char buf[1024];
    for (size_t c = 0; width != NULL && c < ncol; c++) {
        width[c] = strlen(cols[c]);
        for (size_t r = 0; r < nrow; r++) {
            cell(json_object_get(json_array_get(items, r), cols[c]), buf, sizeof buf);
            if (strlen(buf) > width[c])
                width[c] = strlen(buf);
        }
    }
    for (size_t c = 0; width != NULL && c < ncol; c++) {
        for (char *p = cols[c]; *p; p++)
            buf[p - cols[c]] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        buf[strlen(cols[c])] = '\0';
        printf("%-*s%s", c + 1 < ncol ? (int)width[c] : 0, buf, c + 1 < ncol ? "  " : "\n");
    }
    for (size_t r = 0; width != NULL && r < nrow; r++)
        for (size_t c = 0; c < ncol; c++) {
            cell(json_object_get(json_array_get(items, r), cols[c]), buf, sizeof buf);
            printf("%-*s%s", c + 1 < ncol ? (int)width[c] : 0, buf, c + 1 < ncol ? "  " : "\n");
        }
    free(width);
    free(cols);
}

static void print_object(const json_t *obj, const char *spec)
{
    size_t ncol = 0;
    char **cols = split_columns(spec, &ncol);
    char buf[4096];
    for (size_t c = 0; c < ncol; c++) {
        const json_t *v = json_object_get(obj, cols[c]);
        if (v == NULL)
            continue;
        cell(v, buf, sizeof buf);
        printf("%s: %s\n", cols[c], buf);
    }
    free(cols);
}

/* ---- Request building -------------------------------------------------------------- */

static const admin_cmd *find(const char *resource, const char *action)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].resource, resource) == 0 && strcmp(commands[i].action, action) == 0)
            return &commands[i];
    return NULL;
}

/* Percent-encode a path segment or query value. */
static void append_encoded(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

/* The O_SECRET members of the body, zeroed in place before it is freed
 * (jansson has no wiping release; the string is ours until json_decref). */
static void wipe_secrets(const admin_cmd *cmd, json_t *body)
{
    for (const opt_spec *o = cmd->opts; o->flag != NULL; o++) {
        json_t *v = o->kind == O_SECRET ? json_object_get(body, o->member) : NULL;
        if (json_is_string(v)) {
            union {
                const char *c;
                char *m;
            } text = {.c = json_string_value(v)};
            jg_memzero(text.m, json_string_length(v));
        }
    }
}

static int add_body_option(const char *cmdname, const opt_spec *o, const char *value, json_t *body)
{
    json_t *v = NULL;
    uint64_t u = 0;
    int64_t t = 0;
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", o->flag);
    switch (o->kind) {
    case O_STR:
        v = json_string(value);
        break;
    case O_INT:
        if (cli_parse_uint(cmdname, opt, value, INT64_MAX, &u) != EXIT_OK)
            return EXIT_USAGE;
        v = json_integer((json_int_t)u);
        break;
    case O_FLAG:
        v = json_true();
        break;
    case O_TIME:
        if (cli_parse_time(cmdname, opt, value, (int64_t)time(NULL), &t) != EXIT_OK)
            return EXIT_USAGE;
        v = json_integer(t);
        break;
    case O_DURATION:
        if (cli_parse_duration(cmdname, opt, value, &t) != EXIT_OK)
            return EXIT_USAGE;
        v = json_integer(t);
        break;
    case O_LIST: {
        json_t *arr = json_object_get(body, o->member);
        if (arr == NULL) {
            arr = json_array();
            json_object_set_new(body, o->member, arr);
        }
        char **items = cli_split_list(value);
        for (size_t i = 0; items != NULL && items[i] != NULL; i++)
            json_array_append_new(arr, json_string(items[i]));
        free(items);
        return EXIT_OK;
    }
    case O_JSONFILE: {
        size_t len = 0;
        char *text = cli_read_file(value, &len, 0);
        if (text == NULL)
            return EXIT_USAGE;
        json_error_t e;
        v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
        free(text);
        if (v == NULL)
            return cli_usage(cmdname, "%s: %s is not JSON: %s", opt, value, e.text);
        break;
    }
    case O_MAP: {
        const char *eq = strchr(value, '=');
        if (eq == NULL || eq == value || eq[1] == '\0')
            return cli_usage(cmdname, "%s wants NAME=VALUE, not %s", opt, value);
        json_t *obj = json_object_get(body, o->member);
        if (obj == NULL) {
            obj = json_object();
            json_object_set_new(body, o->member, obj);
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - value), value);
        if (json_object_set_new(obj, name, json_string(eq + 1)) != 0)
            return cli_fail(EXIT_USAGE, "out of memory");
        return EXIT_OK;
    }
    case O_SECRET: {
        size_t len = 0;
        char *text = cli_read_file(value, &len, 1);
        if (text == NULL)
            return EXIT_USAGE;
        v = json_stringn(text, len);
        jg_free_secret(text, len);
        break;
    }
    case O_JSON: {
        json_error_t e;
        v = json_loads(value, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
        if (v == NULL)
            return cli_usage(cmdname, "%s: not JSON: %s", opt, e.text);
        break;
    }
    case O_NULL:
        v = json_null();
        break;
    case O_QUERY:
        return EXIT_OK;
    }
    if (v == NULL || json_object_set_new(body, o->member, v) != 0)
        return cli_fail(EXIT_USAGE, "out of memory");
    return EXIT_OK;
}

int cli_admin(int argc, char **argv)
{
    const char *url = getenv("JWTGATE_ADMIN_URL"), *token = getenv("JWTGATE_ADMIN_TOKEN");
    const char *token_file = NULL;
    int as_json = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            token = argv[++i];
        else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc)
            token_file = argv[++i];
        else
            return cli_usage("admin", "unknown option or missing value: %s", argv[i]);
    }
    if (argc - i < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    /* "api provider ..." and "api key ...": a resource of two words. */
    char resource[32];
    snprintf(resource, sizeof resource, "%s", argv[i]);
    if (strcmp(argv[i], "api") == 0 && argc - i >= 3 &&
        (strcmp(argv[i + 1], "provider") == 0 || strcmp(argv[i + 1], "key") == 0)) {
        snprintf(resource, sizeof resource, "api %s", argv[i + 1]);
        i++;
    }
    const admin_cmd *cmd = find(resource, argv[i + 1]);
    if (cmd == NULL)
        return cli_usage("admin", "unknown command \"%s %s\"", resource, argv[i + 1]);
    char cmdname[64];
    snprintf(cmdname, sizeof cmdname, "admin %s %s", cmd->resource, cmd->action);
    i += 2;
    if (strcmp(cmd->resource, "gateway") == 0 && strcmp(cmd->action, "create") == 0) {
        char *file_token = token_file != NULL ? cli_read_file(token_file, NULL, 1) : NULL;
        if (token_file != NULL && file_token == NULL)
            return EXIT_USAGE;
        const char *t = file_token != NULL ? file_token : token;
        int rc =
            t == NULL || *t == '\0'
                ? cli_usage("admin", "no token: give --token, --token-file or $JWTGATE_ADMIN_TOKEN")
                : cli_admin_gateway_create(url != NULL ? url : "http://127.0.0.1:8080", t, as_json,
                                           argc - i, argv + i);
        if (file_token != NULL)
            jg_free_secret(file_token, 0);
        return rc;
    }
    json_t *body = cmd->fixed != NULL ? json_loads(cmd->fixed, 0, NULL) : json_object();
    char path[2048] = "", query[1024] = "";
    const char *pos_vals[8];
    const char *pos_names[8];
    size_t npos = 0;
    int status = EXIT_OK;
    /* Positional arguments, then options. */
    for (const char *a = cmd->args; *a && npos < 8;) {
        const char *end = strchr(a, ' ');
        size_t len = end ? (size_t)(end - a) : strlen(a);
        if (i >= argc || strncmp(argv[i], "--", 2) == 0) {
            status = cli_usage(cmdname, "missing argument %.*s", (int)len, a);
            goto out;
        }
        pos_names[npos] = a;
        pos_vals[npos++] = argv[i++];
        a += len + (end != NULL);
    }
    for (; i < argc; i++) {
        const opt_spec *o = NULL;
        if (strncmp(argv[i], "--", 2) == 0)
            for (const opt_spec *p = cmd->opts; p->flag != NULL; p++)
                if (strcmp(argv[i] + 2, p->flag) == 0)
                    o = p;
        if (o == NULL || (o->kind != O_FLAG && o->kind != O_NULL && i + 1 >= argc)) {
            status =
                cli_usage(cmdname, "unknown option, missing value or extra argument: %s", argv[i]);
            goto out;
        }
        const char *value = o->kind == O_FLAG || o->kind == O_NULL ? NULL : argv[++i];
        if (o->kind == O_QUERY) {
            size_t q = strlen(query);
            snprintf(query + q, sizeof query - q, "%c%s=", q ? '&' : '?', o->member);
            append_encoded(query, sizeof query, value);
        } else if ((status = add_body_option(cmdname, o, value, body)) != EXIT_OK) {
            goto out;
        }
    }
    /* The path: fill {name} from the positional arguments; body: ones go to the body. */
    for (size_t k = 0; k < npos; k++)
        if (strncmp(pos_names[k], "body:", 5) == 0) {
            size_t len = strcspn(pos_names[k] + 5, " ");
            char member[64];
            snprintf(member, sizeof member, "%.*s", (int)len, pos_names[k] + 5);
            json_object_set_new(body, member, json_string(pos_vals[k]));
        }
    for (const char *p = cmd->path; *p;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = (size_t)(close - p - 1);
            for (size_t k = 0; k < npos; k++)
                if (strncmp(pos_names[k], p + 1, len) == 0 &&
                    (pos_names[k][len] == ' ' || pos_names[k][len] == '\0'))
                    append_encoded(path, sizeof path, pos_vals[k]);
            p = close + 1;
        } else {
            size_t n = strlen(path);
            if (n + 1 < sizeof path) {
                path[n] = *p;
                path[n + 1] = '\0';
            }
            p++;
        }
    }
    strncat(path, query, sizeof path - strlen(path) - 1);
    char *file_token = NULL;
    if (token_file != NULL) {
        size_t len = 0;
        file_token = cli_read_file(token_file, &len, 1);
        if (file_token == NULL) {
            status = EXIT_USAGE;
            goto out;
        }
        token = file_token;
    }
    if (token == NULL || *token == '\0') {
        status = cli_usage("admin", "no token: give --token, --token-file or $JWTGATE_ADMIN_TOKEN");
        goto out;
    }
    int send_body = strcmp(cmd->method, "GET") != 0 && strcmp(cmd->method, "DELETE") != 0;
    long code = 0;
    char *resp = NULL;
    size_t resp_len = 0;
    status = admin_http(url != NULL ? url : "http://127.0.0.1:8080", token, cmd->method, path,
                        send_body ? body : NULL, &code, &resp, &resp_len);
    if (file_token != NULL)
        jg_free_secret(file_token, 0);
    if (status != EXIT_OK)
        goto out;
    json_t *doc = resp_len > 0 ? json_loadb(resp, resp_len, 0, NULL) : NULL;
    if (code < 200 || code > 299) {
        const char *title = json_string_value(json_object_get(doc, "title"));
        const char *detail = json_string_value(json_object_get(doc, "detail"));
        fprintf(stderr, "jwtgate: %ld %s%s%s\n", code, title ? title : "error", detail ? ": " : "",
                detail ? detail : "");
        status = EXIT_REJECTED;
    } else if (as_json) {
        if (doc != NULL)
            status = cli_print_json(doc, 1);
    } else if (json_is_array(json_object_get(doc, "items"))) {
        print_table(json_object_get(doc, "items"), cmd->columns);
    } else if (json_is_object(doc)) {
        print_object(doc, cmd->columns);
    }
    json_decref(doc);
    if (resp != NULL)
        jg_free_secret(resp, resp_len); /* may hold a one-time secret */
out:
    wipe_secrets(cmd, body);
    json_decref(body);
    return status;
}

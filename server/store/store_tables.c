/*
 * store_tables.c — the columns of every table, shared by all backends: the
 * row objects above the store have exactly these members.
 */
#include "server/store/store.h"

#include <stddef.h>

static const store_column users_cols[] = {{"id", COL_TEXT},
                                          {"name", COL_TEXT},
                                          {"system_admin", COL_BOOL},
                                          {"created_at", COL_INT},
                                          {NULL, COL_TEXT}};
static const store_column tenants_cols[] = {
    {"id", COL_TEXT}, {"name", COL_TEXT}, {"created_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column members_cols[] = {{"id", COL_TEXT},        {"tenant_id", COL_TEXT},
                                            {"user_id", COL_TEXT},   {"role", COL_TEXT},
                                            {"created_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column pats_cols[] = {
    {"id", COL_TEXT},        {"user_id", COL_TEXT},   {"name", COL_TEXT}, {"hash", COL_TEXT},
    {"created_at", COL_INT}, {"expires_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column apis_cols[] = {{"id", COL_TEXT},
                                         {"tenant_id", COL_TEXT},
                                         {"name", COL_TEXT},
                                         {"version", COL_TEXT},
                                         {"base_path", COL_TEXT},
                                         {"upstream", COL_TEXT},
                                         {"audience", COL_TEXT},
                                         {"scopes", COL_JSON},
                                         {"policy", COL_TEXT},
                                         {"state", COL_TEXT},
                                         {"sunset", COL_INT},
                                         {"created_at", COL_INT},
                                         {"updated_at", COL_INT},
                                         {"deprecated_at", COL_INT},
                                         {"require_binding", COL_TEXT},
                                         {"kind", COL_TEXT},
                                         {NULL, COL_TEXT}};
static const store_column apps_cols[] = {{"id", COL_TEXT},
                                         {"tenant_id", COL_TEXT},
                                         {"name", COL_TEXT},
                                         {"client_id", COL_TEXT},
                                         {"auth_method", COL_TEXT},
                                         {"jwks", COL_JSON},
                                         {"suspended", COL_BOOL},
                                         {"created_at", COL_INT},
                                         {"updated_at", COL_INT},
                                         {"token_binding", COL_TEXT},
                                         {"tls_client_auth", COL_JSON},
                                         {NULL, COL_TEXT}};
static const store_column secrets_cols[] = {
    {"id", COL_TEXT},        {"app_id", COL_TEXT},    {"hash", COL_TEXT}, {"hint", COL_TEXT},
    {"created_at", COL_INT}, {"expires_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column subs_cols[] = {{"id", COL_TEXT},
                                         {"app_id", COL_TEXT},
                                         {"api_id", COL_TEXT},
                                         {"app_tenant_id", COL_TEXT},
                                         {"api_tenant_id", COL_TEXT},
                                         {"scopes", COL_JSON},
                                         {"state", COL_TEXT},
                                         {"requested_by", COL_TEXT},
                                         {"requested_at", COL_INT},
                                         {"decided_by", COL_TEXT},
                                         {"decided_at", COL_INT},
                                         {"reason", COL_TEXT},
                                         {"plan_id", COL_TEXT},
                                         {"limits", COL_JSON},
                                         {NULL, COL_TEXT}};
static const store_column keys_cols[] = {
    {"id", COL_TEXT},        {"purpose", COL_TEXT},     {"alg", COL_TEXT},
    {"state", COL_TEXT},     {"public_jwk", COL_JSON},  {"private_jwe", COL_TEXT},
    {"created_at", COL_INT}, {"activated_at", COL_INT}, {"retiring_at", COL_INT},
    {"retired_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column revoked_cols[] = {{"jti", COL_TEXT},
                                            {"client_id", COL_TEXT},
                                            {"exp", COL_INT},
                                            {"revoked_at", COL_INT},
                                            {NULL, COL_TEXT}};
static const store_column assertions_cols[] = {
    {"id", COL_TEXT}, {"exp", COL_INT}, {NULL, COL_TEXT}};

/* A gateway's public encryption key (the snapshot is encrypted to it) and
 * the hash of its credential; the private key never leaves the gateway. */
static const store_column gateways_cols[] = {
    {"id", COL_TEXT},        {"name", COL_TEXT},      {"jwk", COL_JSON},
    {"kid", COL_TEXT},       {"hash", COL_TEXT},      {"state", COL_TEXT},
    {"created_at", COL_INT}, {"revoked_at", COL_INT}, {NULL, COL_TEXT}};

/* A user's console password (Argon2id string) and the sessions of signed-in
 * users, by the SHA-256 of their token. */
static const store_column passwords_cols[] = {{"user_id", COL_TEXT},
                                              {"hash", COL_TEXT},
                                              {"must_change", COL_BOOL},
                                              {"changed_at", COL_INT},
                                              {NULL, COL_TEXT}};
static const store_column sessions_cols[] = {{"id", COL_TEXT},         {"user_id", COL_TEXT},
                                             {"restricted", COL_BOOL}, {"created_at", COL_INT},
                                             {"expires_at", COL_INT},  {"seen_at", COL_INT},
                                             {NULL, COL_TEXT}};

/* An API's OpenAPI document, in two tables: the facts the catalogue lists
 * (cheap to read for every API) and the document (read one at a time). */
static const store_column api_docs_cols[] = {{"api_id", COL_TEXT},      {"title", COL_TEXT},
                                             {"doc_version", COL_TEXT}, {"size", COL_INT},
                                             {"updated_at", COL_INT},   {NULL, COL_TEXT}};
static const store_column api_doc_bodies_cols[] = {
    {"api_id", COL_TEXT}, {"doc", COL_JSON}, {NULL, COL_TEXT}};
/* An llm API's providers and their key pools (schema 12); "sealed" is the
 * provider key under the master key, never shown nor audited. */
static const store_column llm_providers_cols[] = {
    {"id", COL_TEXT},        {"api_id", COL_TEXT},    {"tenant_id", COL_TEXT}, {"name", COL_TEXT},
    {"priority", COL_INT},   {"format", COL_TEXT},    {"base_url", COL_TEXT},  {"models", COL_JSON},
    {"timeout_ms", COL_INT}, {"created_at", COL_INT}, {"updated_at", COL_INT}, {NULL, COL_TEXT}};
static const store_column llm_keys_cols[] = {{"id", COL_TEXT},         {"provider_id", COL_TEXT},
                                             {"api_id", COL_TEXT},     {"tenant_id", COL_TEXT},
                                             {"sealed", COL_TEXT},     {"hint", COL_TEXT},
                                             {"state", COL_TEXT},      {"created_at", COL_INT},
                                             {"disabled_at", COL_INT}, {NULL, COL_TEXT}};

static const store_column llm_plans_cols[] = {
    {"id", COL_TEXT},        {"tenant_id", COL_TEXT}, {"name", COL_TEXT}, {"limits", COL_JSON},
    {"created_at", COL_INT}, {"updated_at", COL_INT}, {NULL, COL_TEXT}};

/* Who is over quota (schema 13): model "" is the whole subscription;
 * limit_name the counter hit ("tokens_per_day", ...). */
static const store_column llm_over_quota_cols[] = {
    {"id", COL_TEXT},     {"subscription_id", COL_TEXT}, {"client_id", COL_TEXT},
    {"api_id", COL_TEXT}, {"model", COL_TEXT},           {"limit_name", COL_TEXT},
    {"until", COL_INT},   {"created_at", COL_INT},       {NULL, COL_TEXT}};

static const store_table_desc tables[T__COUNT] = {
    [T_USERS] = {"users", "id", "created_at", users_cols},
    [T_TENANTS] = {"tenants", "id", "created_at", tenants_cols},
    [T_MEMBERS] = {"members", "id", "created_at", members_cols},
    [T_PATS] = {"pats", "id", "created_at", pats_cols},
    [T_APIS] = {"apis", "id", "created_at", apis_cols},
    [T_APPS] = {"apps", "id", "created_at", apps_cols},
    [T_SECRETS] = {"app_secrets", "id", "created_at", secrets_cols},
    [T_SUBSCRIPTIONS] = {"subscriptions", "id", "requested_at", subs_cols},
    [T_KEYS] = {"keys", "id", "created_at", keys_cols},
    [T_REVOKED] = {"revoked_tokens", "jti", "exp", revoked_cols},
    [T_ASSERTIONS] = {"assertion_jti", "id", "exp", assertions_cols},
    [T_GATEWAYS] = {"gateways", "id", "created_at", gateways_cols},
    [T_PASSWORDS] = {"passwords", "user_id", "changed_at", passwords_cols},
    [T_SESSIONS] = {"sessions", "id", "created_at", sessions_cols},
    [T_API_DOCS] = {"api_docs", "api_id", "updated_at", api_docs_cols},
    [T_API_DOC_BODIES] = {"api_doc_bodies", "api_id", "api_id", api_doc_bodies_cols},
    [T_LLM_PROVIDERS] = {"llm_providers", "id", "priority", llm_providers_cols},
    [T_LLM_KEYS] = {"llm_keys", "id", "created_at", llm_keys_cols},
    [T_LLM_PLANS] = {"llm_plans", "id", "created_at", llm_plans_cols},
    [T_LLM_OVER_QUOTA] = {"llm_over_quota", "id", "until", llm_over_quota_cols},
};

const store_table_desc *store_table_info(store_table t)
{
    return (unsigned)t < T__COUNT ? &tables[t] : NULL;
}

const char *store_err_name(store_err err)
{
    switch (err) {
    case ST_OK:
        return "ok";
    case ST_NOT_FOUND:
        return "not found";
    case ST_CONFLICT:
        return "conflict with an existing object";
    case ST_CONSTRAINT:
        return "constraint violated";
    case ST_BUSY:
        return "database busy";
    case ST_IO:
        return "storage failure";
    case ST_NOMEM:
        return "out of memory";
    case ST_FULL:
        return "the disk holding the database is full";
    case ST_GONE:
        return "the database file was removed or replaced";
    }
    return "unknown storage error";
}

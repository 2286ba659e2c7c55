/*
 * sqlite_schema.c — the SQLite schema as numbered migrations. The database's
 * PRAGMA user_version is the number of migrations applied; each migration
 * runs in its own transaction, so a crash leaves either the old or the new
 * version. Append new migrations; never edit one that has shipped.
 */
#include "server/store/sqlite_schema.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: the model of issue 7. */
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "INSERT INTO meta (k, v) VALUES ('version', 0);"
    "CREATE TABLE users ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " system_admin INTEGER NOT NULL DEFAULT 0 CHECK (system_admin IN (0, 1)),"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE tenants ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);"
    "CREATE TABLE members ("
    " id TEXT PRIMARY KEY,"
    " tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),"
    " created_at INTEGER NOT NULL, UNIQUE (tenant_id, user_id));"
    "CREATE INDEX members_user ON members(user_id);"
    "CREATE TABLE pats ("
    " id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,"
    " expires_at INTEGER);"
    "CREATE TABLE apis ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, version TEXT NOT NULL, base_path TEXT NOT NULL UNIQUE,"
    " upstream TEXT NOT NULL, audience TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,"
    " policy TEXT NOT NULL CHECK (policy IN ('manual', 'automatic')),"
    " state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),"
    " sunset INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (tenant_id, name, version));"
    "CREATE TABLE apps ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE,"
    " auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret', 'private_key_jwt')),"
    " jwks TEXT, suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (tenant_id, name));"
    "CREATE TABLE app_secrets ("
    " id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL, hint TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER);"
    "CREATE INDEX app_secrets_app ON app_secrets(app_id);"
    "CREATE TABLE subscriptions ("
    " id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,"
    " api_id TEXT NOT NULL REFERENCES apis(id),"
    " app_tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " api_tenant_id TEXT NOT NULL REFERENCES tenants(id), scopes TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'revoked')),"
    " requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL,"
    " decided_by TEXT, decided_at INTEGER, reason TEXT);"
    /* At most one live (pending or approved) subscription per app and API. */
    "CREATE UNIQUE INDEX subscriptions_live ON subscriptions(app_id, api_id)"
    " WHERE state IN ('pending', 'approved');"
    "CREATE INDEX subscriptions_app_tenant ON subscriptions(app_tenant_id);"
    "CREATE INDEX subscriptions_api_tenant ON subscriptions(api_tenant_id);"
    "CREATE TABLE keys ("
    " id TEXT PRIMARY KEY, purpose TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption')),"
    " alg TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired')),"
    " public_jwk TEXT NOT NULL, private_jwe TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " activated_at INTEGER, retiring_at INTEGER, retired_at INTEGER);"
    "CREATE UNIQUE INDEX keys_one_active ON keys(purpose) WHERE state = 'active';"
    "CREATE UNIQUE INDEX keys_one_next ON keys(purpose) WHERE state = 'next';"
    "CREATE TABLE revoked_tokens ("
    " jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, exp INTEGER NOT NULL,"
    " revoked_at INTEGER NOT NULL);"
    "CREATE TABLE assertion_jti (id TEXT PRIMARY KEY, exp INTEGER NOT NULL);"
    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, tenant_id TEXT, target TEXT, before TEXT, after TEXT);"
    "CREATE INDEX audit_tenant_at ON audit(tenant_id, at);"
    "CREATE INDEX audit_at ON audit(at);"
    /* The audit log is append-only: the database itself refuses the rest. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    /* 2: when an API was deprecated (the gateway's Deprecation header, RFC 9745). */
    "ALTER TABLE apis ADD COLUMN deprecated_at INTEGER;",
    /* 3: one app's subscriptions, read back after each change to them (the
     * view is updated from what a change touched, server/core/view.h). */
    "CREATE INDEX subscriptions_app ON subscriptions(app_id, state);",
    /* 4: the database's identity (128 random bits, two meta rows), written
     * into every snapshot: a gateway refuses a snapshot from another
     * database (a second jwtgated writing the same file). A backup carries
     * it, so a restore is the same database. */
    "INSERT INTO meta (k, v) VALUES ('identity_hi', random()), ('identity_lo', random());",
    /* 5: the change log: what each change wrote, so that the other
     * processes on the database apply it to their views instead of reading
     * every row (server/core/change.c); the last entries only are kept. */
    "CREATE TABLE change_log (version INTEGER PRIMARY KEY, at INTEGER NOT NULL, touches TEXT);",
    /* 6: registered gateways on other hosts (GET /gateway/v1/snapshot):
     * the public encryption JWK the snapshot is encrypted to, its
     * thumbprint, and the SHA-256 of the credential they authenticate with.
     * Portable DDL (TEXT, BIGINT): PostgreSQL's schema 6 is the same. */
    "CREATE TABLE gateways ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, jwk TEXT NOT NULL, kid TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE,"
    " state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),"
    " created_at BIGINT NOT NULL, revoked_at BIGINT);",
    /* 7: how an application's tokens are bound to a key it holds (RFC
     * 9449): none, dpop_optional (the default: bound when a proof comes),
     * dpop_required. */
    "ALTER TABLE apps ADD COLUMN token_binding TEXT NOT NULL DEFAULT 'dpop_optional';",
    /* 8: what gateways demand of the tokens presented to an API: none (a
     * bearer token is enough), dpop, mtls, any (sender-constrained either
     * way). */
    "ALTER TABLE apis ADD COLUMN require_binding TEXT NOT NULL DEFAULT 'none';",
    /* 9: the console's sign-in: a user's password (an Argon2id string; a
     * table of its own so that no user row, and so no audit record of one,
     * ever holds it) and the sessions (the SHA-256 of the cookie's token;
     * `restricted`: signed in with a first-login password, which can only
     * be changed). */
    "CREATE TABLE passwords ("
    " user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL,"
    " must_change INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),"
    " changed_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    " id TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, seen_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_user ON sessions(user_id);",
    /* 10: an API's OpenAPI document (the console's catalogue): its facts,
     * listed for every API, and the document, read one at a time. */
    "CREATE TABLE api_docs ("
    " api_id TEXT PRIMARY KEY REFERENCES apis(id) ON DELETE CASCADE,"
    " title TEXT NOT NULL, doc_version TEXT NOT NULL, size INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE api_doc_bodies ("
    " api_id TEXT PRIMARY KEY REFERENCES apis(id) ON DELETE CASCADE,"
    " doc TEXT NOT NULL);",
    /* 11: client authentication by TLS certificate (RFC 8705 section 2):
     * two more auth_method values (a rebuild: the CHECK is in the table's
     * definition) and what a tls_client_auth app registered, a JSON object
     * of one member (tls_client_auth_subject_dn, _san_dns, _san_uri,
     * _san_ip or _san_email). */
    SQLITE_REBUILD
    "CREATE TABLE apps_11 ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE,"
    " auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret', 'private_key_jwt',"
    " 'tls_client_auth', 'self_signed_tls_client_auth')),"
    " jwks TEXT, suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " token_binding TEXT NOT NULL DEFAULT 'dpop_optional', tls_client_auth TEXT,"
    " UNIQUE (tenant_id, name));"
    "INSERT INTO apps_11 (id, tenant_id, name, client_id, auth_method, jwks, suspended,"
    " created_at, updated_at, token_binding)"
    " SELECT id, tenant_id, name, client_id, auth_method, jwks, suspended, created_at,"
    " updated_at, token_binding FROM apps;"
    "DROP TABLE apps;"
    "ALTER TABLE apps_11 RENAME TO apps;",
    /* 12: LLM APIs (docs/ai-gateway.md): an API's kind; an llm API's
     * providers, tried in ascending priority (the fallback chain), each with
     * its wire format, base URL and public -> provider model names; and each
     * provider's pool of API keys, sealed under the master key (a JWE whose
     * protected header binds the API and the key id: rows cannot be
     * swapped), with the last 4 characters as the only thing shown. */
    "ALTER TABLE apis ADD COLUMN kind TEXT NOT NULL DEFAULT 'http'"
    " CHECK (kind IN ('http', 'llm'));"
    "CREATE TABLE llm_providers ("
    " id TEXT PRIMARY KEY, api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,"
    " tenant_id TEXT NOT NULL, name TEXT NOT NULL, priority INTEGER NOT NULL,"
    " format TEXT NOT NULL, base_url TEXT NOT NULL, models TEXT NOT NULL,"
    " timeout_ms INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (api_id, name));"
    "CREATE TABLE llm_keys ("
    " id TEXT PRIMARY KEY,"
    " provider_id TEXT NOT NULL REFERENCES llm_providers(id) ON DELETE CASCADE,"
    " api_id TEXT NOT NULL, tenant_id TEXT NOT NULL, sealed TEXT NOT NULL, hint TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('active', 'disabled')),"
    " created_at INTEGER NOT NULL, disabled_at INTEGER);"
    "CREATE INDEX llm_keys_provider ON llm_keys(provider_id);"
    /* Limits of subscriptions to llm APIs: inline (a JSON object), or a
     * plan, a named limit set of the API owner's tenant (server/admin/limits.c). */
    "CREATE TABLE llm_plans ("
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, limits TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (tenant_id, name));"
    "ALTER TABLE subscriptions ADD COLUMN plan_id TEXT REFERENCES llm_plans(id) ON DELETE SET NULL;"
    "ALTER TABLE subscriptions ADD COLUMN limits TEXT;"
    "CREATE INDEX subscriptions_plan ON subscriptions(plan_id);"
    /* LLM usage reported by gateways (server/gateway/usage.c), summed per
     * minute and key; the batches seen, so that a retry counts once. */
    "CREATE TABLE usage_minutes ("
    " minute BIGINT NOT NULL, client_id TEXT NOT NULL, api_id TEXT NOT NULL,"
    " model TEXT NOT NULL, provider TEXT NOT NULL, key_id TEXT NOT NULL, status INTEGER NOT NULL,"
    " app_id TEXT, app_tenant_id TEXT, api_tenant_id TEXT,"
    " requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,"
    " PRIMARY KEY (minute, client_id, api_id, model, provider, key_id, status));"
    "CREATE INDEX usage_minutes_api_tenant ON usage_minutes(api_tenant_id, minute);"
    "CREATE INDEX usage_minutes_app_tenant ON usage_minutes(app_tenant_id, minute);"
    "CREATE TABLE usage_batches (gateway_id TEXT NOT NULL, batch_id TEXT NOT NULL,"
    " received_at BIGINT NOT NULL, records INTEGER NOT NULL, PRIMARY KEY (gateway_id, batch_id));",
    /* 13: the gateway secrets key (purpose 'secrets': the provider keys in
     * the snapshot are sealed to it, docs/ai-gateway.md); SQLite changes a
     * CHECK by rebuilding the table. And who is over quota: one row per
     * (client, API, model; '' = the whole subscription), until the end of
     * the minute or day whose limit was hit (server/gateway/overquota.c). */
    "CREATE TABLE keys_13 ("
    " id TEXT PRIMARY KEY,"
    " purpose TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption', 'secrets')),"
    " alg TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired')),"
    " public_jwk TEXT NOT NULL, private_jwe TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " activated_at INTEGER, retiring_at INTEGER, retired_at INTEGER);"
    "INSERT INTO keys_13 SELECT id, purpose, alg, state, public_jwk, private_jwe, created_at,"
    " activated_at, retiring_at, retired_at FROM keys;"
    "DROP TABLE keys;"
    "ALTER TABLE keys_13 RENAME TO keys;"
    "CREATE UNIQUE INDEX keys_one_active ON keys(purpose) WHERE state = 'active';"
    "CREATE UNIQUE INDEX keys_one_next ON keys(purpose) WHERE state = 'next';"
    "CREATE TABLE llm_over_quota ("
    " id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, client_id TEXT NOT NULL,"
    " api_id TEXT NOT NULL, model TEXT NOT NULL, limit_name TEXT NOT NULL,"
    " until INTEGER NOT NULL, created_at INTEGER NOT NULL, UNIQUE (client_id, api_id, model));"
    "CREATE INDEX llm_over_quota_until ON llm_over_quota(until);",
};

size_t sqlite_migration_count(void)
{
    return sizeof migrations / sizeof migrations[0];
}

const char *sqlite_migration(size_t index)
{
    return index < sqlite_migration_count() ? migrations[index] : NULL;
}

/*
 * pg_schema.c — the PostgreSQL schema as numbered migrations, one for one
 * with sqlite_schema.c (migration N is the same model on both, so a schema
 * version means the same thing whichever the backend). The version applied
 * is the row of jwtgated_schema; each migration runs in its own transaction
 * under an advisory lock (pg_store.c), so several nodes starting at once
 * migrate once. Append new migrations; never edit one that has shipped.
 *
 * Types: TEXT for text and for JSON columns (the text jansson wrote, read
 * back as JSON: rows are the same as SQLite's), BIGINT for integers (Unix
 * times, the change counter), BOOLEAN for flags.
 */
#include "server/store/pg_schema.h"

#include <stddef.h>

/* Every table of rows has SQLite's rowid, made explicit: the order of
 * insertion, which breaks ties of the table's order column (rows created in
 * the same second) as on SQLite. Not a column of store_tables.c: never in a
 * row. */
#define ROWID " rowid BIGINT GENERATED ALWAYS AS IDENTITY,"

static const char *const migrations[] = {
    /* 1: the model of issue 7. */
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v BIGINT NOT NULL);"
    "INSERT INTO meta (k, v) VALUES ('version', 0);"
    "CREATE TABLE users (" ROWID " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " system_admin BOOLEAN NOT NULL DEFAULT false, created_at BIGINT NOT NULL);"
    "CREATE TABLE tenants (" ROWID
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);"
    "CREATE TABLE members (" ROWID " id TEXT PRIMARY KEY,"
    " tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),"
    " created_at BIGINT NOT NULL, UNIQUE (tenant_id, user_id));"
    "CREATE INDEX members_user ON members(user_id);"
    "CREATE TABLE pats (" ROWID
    " id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,"
    " expires_at BIGINT);"
    "CREATE TABLE apis (" ROWID
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, version TEXT NOT NULL, base_path TEXT NOT NULL UNIQUE,"
    " upstream TEXT NOT NULL, audience TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,"
    " policy TEXT NOT NULL CHECK (policy IN ('manual', 'automatic')),"
    " state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),"
    " sunset BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " UNIQUE (tenant_id, name, version));"
    "CREATE TABLE apps (" ROWID
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE,"
    " auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret', 'private_key_jwt')),"
    " jwks TEXT, suspended BOOLEAN NOT NULL DEFAULT false,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (tenant_id, name));"
    "CREATE TABLE app_secrets (" ROWID
    " id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL, hint TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT);"
    "CREATE INDEX app_secrets_app ON app_secrets(app_id);"
    "CREATE TABLE subscriptions (" ROWID
    " id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,"
    " api_id TEXT NOT NULL REFERENCES apis(id),"
    " app_tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " api_tenant_id TEXT NOT NULL REFERENCES tenants(id), scopes TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'revoked')),"
    " requested_by TEXT NOT NULL, requested_at BIGINT NOT NULL,"
    " decided_by TEXT, decided_at BIGINT, reason TEXT);"
    /* At most one live (pending or approved) subscription per app and API. */
    "CREATE UNIQUE INDEX subscriptions_live ON subscriptions(app_id, api_id)"
    " WHERE state IN ('pending', 'approved');"
    "CREATE INDEX subscriptions_app_tenant ON subscriptions(app_tenant_id);"
    "CREATE INDEX subscriptions_api_tenant ON subscriptions(api_tenant_id);"
    "CREATE TABLE keys (" ROWID
    " id TEXT PRIMARY KEY, purpose TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption')),"
    " alg TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired')),"
    " public_jwk TEXT NOT NULL, private_jwe TEXT NOT NULL, created_at BIGINT NOT NULL,"
    " activated_at BIGINT, retiring_at BIGINT, retired_at BIGINT);"
    "CREATE UNIQUE INDEX keys_one_active ON keys(purpose) WHERE state = 'active';"
    "CREATE UNIQUE INDEX keys_one_next ON keys(purpose) WHERE state = 'next';"
    "CREATE TABLE revoked_tokens (" ROWID
    " jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, exp BIGINT NOT NULL,"
    " revoked_at BIGINT NOT NULL);"
    "CREATE TABLE assertion_jti (" ROWID " id TEXT PRIMARY KEY, exp BIGINT NOT NULL);"
    /* seq: an identity, so it only grows; writers are serialised (the
     * change counter's row lock), so seq order is commit order. */
    "CREATE TABLE audit ("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, tenant_id TEXT, target TEXT, before TEXT,"
    " after TEXT);"
    "CREATE INDEX audit_tenant_at ON audit(tenant_id, at);"
    "CREATE INDEX audit_at ON audit(at);"
    /* The audit log is append-only: the database itself refuses the rest
     * (a constraint-class error, as SQLite's RAISE(ABORT) is), TRUNCATE too. */
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'restrict_violation';"
    " END $$;"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
    /* 2: when an API was deprecated (the gateway's Deprecation header, RFC 9745). */
    "ALTER TABLE apis ADD COLUMN deprecated_at BIGINT;",
    /* 3: one app's subscriptions, read back after each change to them (the
     * view is updated from what a change touched, server/core/view.h). */
    "CREATE INDEX subscriptions_app ON subscriptions(app_id, state);",
    /* 4: the database's identity (128 bits, two meta rows), written into
     * every snapshot so that a gateway refuses one of another database.
     * gen_random_uuid() is PostgreSQL's strong random source (122 of the
     * 128 bits random: the UUID's version and variant bits are fixed). */
    "WITH u AS (SELECT replace(gen_random_uuid()::text, '-', '') AS h)"
    " INSERT INTO meta (k, v)"
    " SELECT 'identity_hi', ('x' || substr(h, 1, 16))::bit(64)::bigint FROM u"
    " UNION ALL SELECT 'identity_lo', ('x' || substr(h, 17, 16))::bit(64)::bigint FROM u;",
    /* 5: the change log (sqlite_schema.c); the other nodes on the database
     * apply each change to their views from it. */
    "CREATE TABLE change_log (version BIGINT PRIMARY KEY, at BIGINT NOT NULL, touches TEXT);",
    /* 6: registered gateways on other hosts (sqlite_schema.c). */
    "CREATE TABLE gateways (" ROWID
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, jwk TEXT NOT NULL, kid TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE,"
    " state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),"
    " created_at BIGINT NOT NULL, revoked_at BIGINT);",
    /* 7: an application's token binding (sqlite_schema.c). */
    "ALTER TABLE apps ADD COLUMN token_binding TEXT NOT NULL DEFAULT 'dpop_optional';",
    /* 8: what gateways demand of an API's tokens (sqlite_schema.c). */
    "ALTER TABLE apis ADD COLUMN require_binding TEXT NOT NULL DEFAULT 'none';",
    /* 9: console passwords and sessions (sqlite_schema.c). */
    "CREATE TABLE passwords (" ROWID
    " user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL,"
    " must_change BOOLEAN NOT NULL DEFAULT FALSE,"
    " changed_at BIGINT NOT NULL);"
    "CREATE TABLE sessions (" ROWID " id TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " restricted BOOLEAN NOT NULL DEFAULT FALSE,"
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, seen_at BIGINT NOT NULL);"
    "CREATE INDEX sessions_user ON sessions(user_id);",
    /* 10: an API's OpenAPI document (sqlite_schema.c). */
    "CREATE TABLE api_docs (" ROWID
    " api_id TEXT PRIMARY KEY REFERENCES apis(id) ON DELETE CASCADE,"
    " title TEXT NOT NULL, doc_version TEXT NOT NULL, size BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE TABLE api_doc_bodies (" ROWID
    " api_id TEXT PRIMARY KEY REFERENCES apis(id) ON DELETE CASCADE,"
    " doc TEXT NOT NULL);",
    /* 11: client authentication by TLS certificate (sqlite_schema.c). */
    "ALTER TABLE apps DROP CONSTRAINT apps_auth_method_check;"
    "ALTER TABLE apps ADD CONSTRAINT apps_auth_method_check CHECK (auth_method IN"
    " ('client_secret', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'));"
    "ALTER TABLE apps ADD COLUMN tls_client_auth TEXT;",
    /* 12: LLM APIs: kind, providers, provider key pools (sqlite_schema.c). */
    "ALTER TABLE apis ADD COLUMN kind TEXT NOT NULL DEFAULT 'http'"
    " CHECK (kind IN ('http', 'llm'));"
    "CREATE TABLE llm_providers (" ROWID
    " id TEXT PRIMARY KEY, api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,"
    " tenant_id TEXT NOT NULL, name TEXT NOT NULL, priority BIGINT NOT NULL,"
    " format TEXT NOT NULL, base_url TEXT NOT NULL, models TEXT NOT NULL,"
    " timeout_ms BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " UNIQUE (api_id, name));"
    "CREATE TABLE llm_keys (" ROWID " id TEXT PRIMARY KEY,"
    " provider_id TEXT NOT NULL REFERENCES llm_providers(id) ON DELETE CASCADE,"
    " api_id TEXT NOT NULL, tenant_id TEXT NOT NULL, sealed TEXT NOT NULL, hint TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('active', 'disabled')),"
    " created_at BIGINT NOT NULL, disabled_at BIGINT);"
    "CREATE INDEX llm_keys_provider ON llm_keys(provider_id);"
    "CREATE TABLE llm_plans (" ROWID
    " id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, limits TEXT NOT NULL,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (tenant_id, name));"
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
    /* 13: the gateway secrets key; who is over quota (sqlite_schema.c). */
    "ALTER TABLE keys DROP CONSTRAINT keys_purpose_check;"
    "ALTER TABLE keys ADD CONSTRAINT keys_purpose_check"
    " CHECK (purpose IN ('signing', 'encryption', 'secrets'));"
    "CREATE TABLE llm_over_quota (" ROWID
    " id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, client_id TEXT NOT NULL,"
    " api_id TEXT NOT NULL, model TEXT NOT NULL, limit_name TEXT NOT NULL,"
    " until BIGINT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (client_id, api_id, model));"
    "CREATE INDEX llm_over_quota_until ON llm_over_quota(until);",
};

size_t pg_migration_count(void)
{
    return sizeof migrations / sizeof migrations[0];
}

const char *pg_migration(size_t index)
{
    return index < pg_migration_count() ? migrations[index] : NULL;
}

/* pg_schema.h — the PostgreSQL backend's numbered migrations (internal). */
#ifndef JGD_PG_SCHEMA_H
#define JGD_PG_SCHEMA_H

#include <stddef.h>

size_t pg_migration_count(void);
/* The SQL of migration `index` (0-based: migration index+1), or NULL. */
const char *pg_migration(size_t index);

#endif

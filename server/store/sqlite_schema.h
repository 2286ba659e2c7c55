/* sqlite_schema.h — the SQLite backend's numbered migrations (internal). */
#ifndef JGD_SQLITE_SCHEMA_H
#define JGD_SQLITE_SCHEMA_H

#include <stddef.h>

/* A migration that starts with this line rebuilds a table (SQLite cannot
 * alter a CHECK constraint): the runner turns foreign keys off around it,
 * so that dropping the old table cascades nowhere, and runs
 * PRAGMA foreign_key_check before it commits (the SQLite documentation's
 * procedure for other kinds of table schema changes). */
#define SQLITE_REBUILD "-- rebuild\n"

size_t sqlite_migration_count(void);
/* The SQL of migration `index` (0-based: migration index+1), or NULL. */
const char *sqlite_migration(size_t index);

#endif

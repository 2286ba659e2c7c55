/* sqlite_schema.h — the SQLite backend's numbered migrations (internal). */
#ifndef JGD_SQLITE_SCHEMA_H
#define JGD_SQLITE_SCHEMA_H

#include <stddef.h>

size_t sqlite_migration_count(void);
/* The SQL of migration `index` (0-based: migration index+1), or NULL. */
const char *sqlite_migration(size_t index);

#endif

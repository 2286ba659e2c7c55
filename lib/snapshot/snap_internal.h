/*
 * snap_internal.h — what the library's own tests and fuzzers may do to a
 * compiled snapshot that callers may not (internal).
 */
#ifndef JG_LIB_SNAPSHOT_SNAP_INTERNAL_H
#define JG_LIB_SNAPSHOT_SNAP_INTERNAL_H

#include "jwtgate/snapshot.h"

/* Mark `s` verified without checking its checksum: the fuzzer uses it to
 * reach the readers with hostile content (rule 3 of snap_read.c). */
void jg__snapshot_trust(jg_snapshot *s);

#endif /* JG_LIB_SNAPSHOT_SNAP_INTERNAL_H */

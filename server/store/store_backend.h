/* store_backend.h — what every backend's objects start with (internal). */
#ifndef JGD_STORE_BACKEND_H
#define JGD_STORE_BACKEND_H

#include "server/store/store.h"

struct store {
    const store_ops *ops;
};
struct store_tx {
    store *st;
    store_journal *journal; /* NULL: writes are not recorded */
};

#endif

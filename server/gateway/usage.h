/*
 * usage.h — LLM usage reported by gateways: POST /gateway/v1/usage, its
 * Prometheus series, and the retention (usage.c; docs/ai-gateway.md).
 */
#ifndef JGD_USAGE_H
#define JGD_USAGE_H

#include <stdint.h>

#include "server/core/daemon.h"
#include "server/core/util.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* Minute rows are kept this long (queries sum them by hour or day). */
#define USAGE_KEEP_DAYS INT64_C(35)
/* A batch id is remembered this long: a retry after that would count again. */
#define USAGE_BATCH_KEEP_DAYS INT64_C(7)

/* POST /gateway/v1/usage (router.c). */
void gateway_usage(request *r);
/* jwtgated_llm_tokens_total and jwtgated_llm_requests_total, appended to b. */
void usage_metrics_render(sv_buf *b);
/* Delete what is past the retention, in write transaction tx (maintenance). */
store_err usage_prune(store_tx *tx, int64_t now);

#endif

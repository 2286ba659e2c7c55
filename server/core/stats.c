/* stats.c — per-minute token counters in a ring (stats.h). */
#include "server/core/stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct minute {
    int64_t at; /* the minute's start; 0: empty */
    unsigned long issued;
    unsigned long refused[R__COUNT];
} minute;

struct stats {
    pthread_mutex_t mu;
    minute ring[STATS_MINUTES];
    size_t next;   /* where the next closed minute goes */
    size_t count;  /* closed minutes held */
    int64_t since; /* when counting began */
    minute base;   /* the counters at the start of the current minute */
};

static void read_counters(const metrics *m, minute *out)
{
    out->issued = atomic_load_explicit(&m->tokens_issued, memory_order_relaxed);
    for (int r = 0; r < R__COUNT; r++)
        out->refused[r] = atomic_load_explicit(&m->refusals[r], memory_order_relaxed);
}

stats *stats_new(void)
{
    stats *s = calloc(1, sizeof *s);
    if (s != NULL)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void stats_free(stats *s)
{
    if (s != NULL) {
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
}

/* The counts of the minute that began at base->at, up to `now_counts`. */
static minute delta(const minute *base, const minute *now_counts)
{
    minute d = {.at = base->at, .issued = now_counts->issued - base->issued};
    for (int r = 0; r < R__COUNT; r++)
        d.refused[r] = now_counts->refused[r] - base->refused[r];
    return d;
}

void stats_tick(stats *s, const metrics *m, int64_t now)
{
    int64_t this_minute = now - now % 60;
    pthread_mutex_lock(&s->mu);
    if (s->base.at == 0) {
        read_counters(m, &s->base);
        s->base.at = this_minute;
        s->since = now;
    } else if (this_minute > s->base.at) {
        minute cur;
        read_counters(m, &cur);
        /* the counts since the last tick belong to the minute that ended
         * (at most a second off); minutes without a tick (a stalled loop)
         * are left out rather than invented */
        s->ring[s->next] = delta(&s->base, &cur);
        s->next = (s->next + 1) % STATS_MINUTES;
        if (s->count < STATS_MINUTES)
            s->count++;
        s->base = cur;
        s->base.at = this_minute;
    }
    pthread_mutex_unlock(&s->mu);
}

static json_t *minute_json(const minute *x)
{
    json_t *refused = json_object();
    for (int r = 0; r < R__COUNT; r++)
        if (x->refused[r] != 0)
            json_object_set_new(refused, refusal_name((refusal)r),
                                json_integer((json_int_t)x->refused[r]));
    return json_pack("{sI sI so}", "at", (json_int_t)x->at, "issued", (json_int_t)x->issued,
                     "refused", refused);
}

char *stats_json(stats *s, const metrics *m, int64_t now, size_t *len)
{
    (void)now;
    json_t *minutes = json_array();
    pthread_mutex_lock(&s->mu);
    size_t first = (s->next + STATS_MINUTES - s->count) % STATS_MINUTES;
    for (size_t i = 0; i < s->count; i++)
        json_array_append_new(minutes, minute_json(&s->ring[(first + i) % STATS_MINUTES]));
    if (s->base.at != 0) {
        minute cur;
        read_counters(m, &cur);
        minute d = delta(&s->base, &cur);
        json_array_append_new(minutes, minute_json(&d));
    }
    json_t *doc = json_pack("{sI so}", "since", (json_int_t)s->since, "minutes", minutes);
    pthread_mutex_unlock(&s->mu);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    *len = text != NULL ? strlen(text) : 0;
    return text;
}

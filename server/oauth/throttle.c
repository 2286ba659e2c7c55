/* throttle.c — per (client, address) failure counts in a bounded table. */
#include "server/oauth/throttle.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define PROBE 8

typedef struct slot {
    uint64_t key; /* 0: empty */
    unsigned failures;
    double last;
} slot;

struct throttle {
    pthread_mutex_t mu;
    uint64_t seed;
    slot slots[SLOTS];
};

throttle *throttle_new(void)
{
    throttle *t = calloc(1, sizeof *t);
    if (t != NULL) {
        pthread_mutex_init(&t->mu, NULL);
        t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
    }
    return t;
}

void throttle_free(throttle *t)
{
    if (t != NULL) {
        pthread_mutex_destroy(&t->mu);
        free(t);
    }
}

/* FNV-1a over both strings, never 0. */
static uint64_t key_of(const throttle *t, const char *client_id, const char *ip)
{
    uint64_t h = 1469598103934665603ull ^ t->seed;
    for (const char *p = client_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = ip; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h != 0 ? h : 1;
}

static slot *find(throttle *t, uint64_t key, int create)
{
    size_t base = (size_t)(key % SLOTS);
    slot *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &t->slots[(base + i) % SLOTS];
        if (s->key == key)
            return s;
        if (victim == NULL || s->key == 0 || (victim->key != 0 && s->last < victim->last))
            victim = s;
    }
    if (!create)
        return NULL;
    victim->key = key;
    victim->failures = 0;
    victim->last = 0;
    return victim;
}

static double window(unsigned failures)
{
    if (failures < 3)
        return 0;
    double w = 0.25;
    for (unsigned i = 3; i < failures && w < 60; i++)
        w *= 2;
    return w < 60 ? w : 60;
}

double throttle_blocked(throttle *t, const char *client_id, const char *ip, double now)
{
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, key_of(t, client_id, ip), 0);
    double wait = 0;
    if (s != NULL) {
        double until = s->last + window(s->failures);
        wait = until > now ? until - now : 0;
    }
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void throttle_failure(throttle *t, const char *client_id, const char *ip, double now)
{
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, key_of(t, client_id, ip), 1);
    /* A pair quiet for ten minutes starts again from zero. */
    if (now - s->last > 600)
        s->failures = 0;
    s->failures++;
    s->last = now;
    pthread_mutex_unlock(&t->mu);
}

void throttle_success(throttle *t, const char *client_id, const char *ip)
{
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, key_of(t, client_id, ip), 0);
    if (s != NULL)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->mu);
}

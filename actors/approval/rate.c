/*  rate.c — per-client token buckets for tools/call (rate.h).

    A bucket is {tokens, last}: at a take, tokens grow by the time since
    `last` times rpm / minute, capped at rpm (so lowering the limit takes
    effect at once, raising it refills faster from the next call), then
    one is taken if there is one. The table is a CZMQ hash of client
    keys; finding the least recently used bucket when the table is full is
    a scan, which happens only when more than clients_max distinct clients
    called within one minute (after the idle ones were dropped).
*/
#include <czmq.h>
#include <math.h>
#include "rate.h"

typedef struct {
    double  tokens;
    int64_t last;                       //  ms of the last take
} bucket_t;

struct _rate_t {
    zhashx_t    *buckets;               //  client -> bucket_t
    size_t       clients_max;
    rate_stats_t stats;
};

static void
s_bucket_free (void **item)
{
    free (*item);
    *item = NULL;
}

rate_t *
rate_new (size_t clients_max)
{
    rate_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->buckets = zhashx_new ();
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->buckets, s_bucket_free);
    self->clients_max = clients_max ? clients_max : RATE_CLIENTS_MAX;
    return self;
}

void
rate_destroy (rate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rate_t *self = *self_p;
    zhashx_destroy (&self->buckets);
    free (self);
    *self_p = NULL;
}

size_t
rate_expire (rate_t *self, int64_t now_ms)
{
    zlistx_t *idle = zlistx_new ();
    if (!idle)
        return 0;
    for (bucket_t *bucket = zhashx_first (self->buckets); bucket;
         bucket = zhashx_next (self->buckets))
        if (now_ms - bucket->last >= RATE_WINDOW_MS)
            zlistx_add_end (idle, (void *) zhashx_cursor (self->buckets));
    size_t dropped = 0;
    for (const char *key = zlistx_first (idle); key; key = zlistx_next (idle)) {
        zhashx_delete (self->buckets, key);
        dropped++;
    }
    zlistx_destroy (&idle);
    self->stats.expired += dropped;
    return dropped;
}

//  Make room for one more bucket: idle ones first, else the least
//  recently used one.
static void
s_make_room (rate_t *self, int64_t now_ms)
{
    if (rate_expire (self, now_ms) > 0)
        return;
    const char *oldest = NULL;
    int64_t oldest_at = INT64_MAX;
    for (bucket_t *bucket = zhashx_first (self->buckets); bucket;
         bucket = zhashx_next (self->buckets))
        if (bucket->last < oldest_at) {
            oldest_at = bucket->last;
            oldest = zhashx_cursor (self->buckets);
        }
    if (oldest) {
        zhashx_delete (self->buckets, oldest);
        self->stats.evicted++;
    }
}

void
rate_take (rate_t *self, const char *client, int64_t rpm, int64_t now_ms,
           rate_verdict_t *verdict)
{
    double cap = (double) (rpm > 0 ? rpm : 1);
    bucket_t *bucket = zhashx_lookup (self->buckets, client);
    if (!bucket) {
        if (zhashx_size (self->buckets) >= self->clients_max)
            s_make_room (self, now_ms);
        bucket = malloc (sizeof *bucket);
        if (bucket && zhashx_insert (self->buckets, client, bucket) != 0) {
            free (bucket);
            bucket = NULL;
        }
        if (!bucket) {
            //  out of memory: refuse rather than let calls through unmetered
            self->stats.limited++;
            *verdict = (rate_verdict_t) { false, 0, 1000 };
            return;
        }
        bucket->tokens = cap;
        bucket->last = now_ms;
    }
    int64_t elapsed = now_ms > bucket->last ? now_ms - bucket->last : 0;
    bucket->tokens = fmin (cap, bucket->tokens + (double) elapsed * cap / RATE_WINDOW_MS);
    bucket->last = now_ms;
    if (bucket->tokens >= 1.0) {
        bucket->tokens -= 1.0;
        self->stats.allowed++;
        *verdict = (rate_verdict_t) { true, (int64_t) bucket->tokens, 0 };
        return;
    }
    self->stats.limited++;
    double wait = ceil ((1.0 - bucket->tokens) * RATE_WINDOW_MS / cap);
    *verdict = (rate_verdict_t) { false, 0, wait < 1 ? 1 : (int64_t) wait };
}

void
rate_stats (rate_t *self, rate_stats_t *stats)
{
    *stats = self->stats;
    stats->clients = zhashx_size (self->buckets);
    stats->clients_max = self->clients_max;
}

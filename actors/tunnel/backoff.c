/*  backoff.c — restart delays for the tunnel child (backoff.h).
*/
#include "backoff.h"

void
backoff_init (backoff_t *self, int64_t min_ms, int64_t max_ms, int64_t stable_ms)
{
    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    *self = (backoff_t) { .min_ms = min_ms, .max_ms = max_ms, .stable_ms = stable_ms,
                          .next_ms = min_ms, .up_since = -1 };
}

void
backoff_connected (backoff_t *self, int64_t now)
{
    if (self->up_since < 0)
        self->up_since = now;
}

int64_t
backoff_failed (backoff_t *self, int64_t now)
{
    if (self->up_since >= 0 && now - self->up_since >= self->stable_ms) {
        self->next_ms = self->min_ms;
        self->failures = 0;
    }
    self->up_since = -1;
    int64_t delay = self->next_ms;
    self->failures++;
    self->next_ms = delay > self->max_ms / 2 ? self->max_ms : delay * 2;
    return delay;
}

void
backoff_reset (backoff_t *self)
{
    self->next_ms = self->min_ms;
    self->up_since = -1;
    self->failures = 0;
}

/*  mcp_events.c — a ring of the last events pushed on /mcp streams. See
    mcp_events.h.

    Slot i holds event id (i + 1) modulo max; the ring holds ids
    (last - count, last].
*/
#include <czmq.h>
#include <string.h>

#include "mcp_events.h"

struct _mcp_events_t {
    char     **data;        //  max slots, each a copy or NULL
    size_t     max;         //  slots
    size_t     count;       //  slots in use
    uint64_t   last;        //  newest id, 0 before the first
    uint64_t   gaps;        //  replays that found a gap
};

mcp_events_t *
mcp_events_new (size_t max)
{
    mcp_events_t *self = calloc (1, sizeof *self);
    assert (self);
    self->max = max ? max : 1;
    self->data = calloc (self->max, sizeof *self->data);
    assert (self->data);
    return self;
}

void
mcp_events_destroy (mcp_events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcp_events_t *self = *self_p;
    for (size_t i = 0; i < self->max; i++)
        free (self->data [i]);
    free (self->data);
    free (self);
    *self_p = NULL;
}

uint64_t
mcp_events_add (mcp_events_t *self, const char *data)
{
    uint64_t id = ++self->last;
    size_t slot = (size_t) ((id - 1) % self->max);
    free (self->data [slot]);
    self->data [slot] = strdup (data);
    assert (self->data [slot]);
    if (self->count < self->max)
        self->count++;
    return id;
}

uint64_t
mcp_events_last (mcp_events_t *self)
{
    return self->last;
}

int
mcp_events_since (mcp_events_t *self, uint64_t after, mcp_event_visit_fn *visit,
                  void *arg)
{
    uint64_t oldest = self->last - self->count + 1;    //  if count > 0
    if (after > self->last || (after < self->last && after + 1 < oldest)) {
        self->gaps++;
        return -1;
    }
    for (uint64_t id = after + 1; id <= self->last; id++)
        visit (arg, id, self->data [(size_t) ((id - 1) % self->max)]);
    return 0;
}

uint64_t
mcp_events_gaps (mcp_events_t *self)
{
    return self->gaps;
}

bool
mcp_events_parse_id (const char *text, uint64_t *id)
{
    size_t len = text ? strlen (text) : 0;
    if (len == 0 || len > 20 || (text [0] == '0' && len > 1))
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text [i] < '0' || text [i] > '9')
            return false;
        unsigned digit = (unsigned) (text [i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *id = value;
    return true;
}

/*  circuit.c — the circuit breaker's state machine. See circuit.h. */
#include <assert.h>
#include <stdlib.h>

#include "circuit.h"

struct _circuit_t {
    int             threshold;      //  failures in a row that open it
    int64_t         open_ms;        //  how long it stays open
    circuit_state_t state;          //  as last settled (see s_settle)
    int             consecutive;    //  infrastructure failures in a row
    int64_t         opened_at;      //  when it last opened (monotonic ms)
    bool            probing;        //  the half-open probe is in flight
    uint64_t        failures;       //  counters, ever
    uint64_t        opened;
    uint64_t        closed;
    uint64_t        rejected;
    uint64_t        probes;
};

circuit_t *
circuit_new (int threshold, int64_t open_ms)
{
    circuit_t *self = calloc (1, sizeof *self);
    assert (self);
    self->threshold = threshold < 1 ? 1 : threshold;
    self->open_ms = open_ms < 1 ? 1 : open_ms;
    self->state = CIRCUIT_CLOSED;
    return self;
}

void
circuit_destroy (circuit_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

//  Open turns half-open once its time is up.
static void
s_settle (circuit_t *self, int64_t now_ms)
{
    if (self->state == CIRCUIT_OPEN && now_ms - self->opened_at >= self->open_ms) {
        self->state = CIRCUIT_HALF_OPEN;
        self->probing = false;
    }
}

static circuit_change_t
s_open (circuit_t *self, int64_t now_ms)
{
    self->state = CIRCUIT_OPEN;
    self->opened_at = now_ms;
    self->probing = false;
    self->opened++;
    return CIRCUIT_OPENED;
}

circuit_admit_t
circuit_admit (circuit_t *self, int64_t now_ms)
{
    s_settle (self, now_ms);
    switch (self->state) {
        case CIRCUIT_CLOSED:
            return CIRCUIT_PASS;
        case CIRCUIT_HALF_OPEN:
            if (!self->probing) {
                self->probing = true;
                self->probes++;
                return CIRCUIT_PROBE;
            }
            break;
        case CIRCUIT_OPEN:
            break;
    }
    self->rejected++;
    return CIRCUIT_REJECT;
}

circuit_change_t
circuit_failure (circuit_t *self, bool probe, int64_t now_ms)
{
    self->failures++;
    s_settle (self, now_ms);
    if (self->state == CIRCUIT_HALF_OPEN && probe) {
        self->consecutive++;
        return s_open (self, now_ms);
    }
    if (self->state != CIRCUIT_CLOSED)
        return CIRCUIT_SAME;        //  a call sent before it opened
    if (++self->consecutive >= self->threshold)
        return s_open (self, now_ms);
    return CIRCUIT_SAME;
}

circuit_change_t
circuit_success (circuit_t *self, bool probe)
{
    if (self->state == CIRCUIT_HALF_OPEN && probe) {
        self->state = CIRCUIT_CLOSED;
        self->probing = false;
        self->consecutive = 0;
        self->closed++;
        return CIRCUIT_CLOSED_AGAIN;
    }
    if (self->state == CIRCUIT_CLOSED)
        self->consecutive = 0;
    return CIRCUIT_SAME;
}

void
circuit_abandon (circuit_t *self, bool probe)
{
    if (probe && self->state == CIRCUIT_HALF_OPEN)
        self->probing = false;
}

circuit_state_t
circuit_state (circuit_t *self, int64_t now_ms)
{
    s_settle (self, now_ms);
    return self->state;
}

const char *
circuit_state_name (circuit_state_t state)
{
    switch (state) {
        case CIRCUIT_CLOSED:    return "closed";
        case CIRCUIT_OPEN:      return "open";
        case CIRCUIT_HALF_OPEN: return "half_open";
    }
    return "closed";
}

int64_t
circuit_retry_in_ms (circuit_t *self, int64_t now_ms)
{
    s_settle (self, now_ms);
    if (self->state != CIRCUIT_OPEN)
        return 0;
    return self->opened_at + self->open_ms - now_ms;
}

bool
circuit_counts_error (bus_error_t code)
{
    return code == BUS_ERR_NO_WORKER || code == BUS_ERR_WORKER_LOST
        || code == BUS_ERR_TIMEOUT;
}

void
circuit_stats (circuit_t *self, int64_t now_ms, circuit_stats_t *stats)
{
    s_settle (self, now_ms);
    *stats = (circuit_stats_t) {
        .state       = self->state,
        .threshold   = self->threshold,
        .open_ms     = self->open_ms,
        .consecutive = self->consecutive,
        .failures    = self->failures,
        .opened      = self->opened,
        .closed      = self->closed,
        .rejected    = self->rejected,
        .probes      = self->probes,
    };
}

/*  backoff.h — when to start a tunnel client again after it exited.

    The same policy as `mcpbox up`'s supervisor, for one child: the first
    restart waits min_ms, each further one twice as long up to max_ms; a
    child that had been connected for stable_ms before it went down starts
    again from min_ms. A deliberate restart (a configuration change) does
    not wait and does not count. Pure arithmetic on times the caller gives
    (monotonic milliseconds), so the unit test needs no clock.
*/
#ifndef MCPBOX_TUNNEL_BACKOFF_H
#define MCPBOX_TUNNEL_BACKOFF_H

#include <stdint.h>

typedef struct {
    int64_t min_ms;             //  first delay
    int64_t max_ms;             //  cap
    int64_t stable_ms;          //  connected this long: the delay resets
    int64_t next_ms;            //  the delay the next failure gets
    int64_t up_since;           //  when the current run connected; -1 not
    uint64_t failures;          //  failures since the last reset
} backoff_t;

void    backoff_init (backoff_t *self, int64_t min_ms, int64_t max_ms, int64_t stable_ms);
//  The child connected at `now`.
void    backoff_connected (backoff_t *self, int64_t now);
//  The child went away at `now` (exit, or a connection lost): returns the
//  delay before the next start and advances the schedule.
int64_t backoff_failed (backoff_t *self, int64_t now);
//  Back to the start (a new configuration, a stop).
void    backoff_reset (backoff_t *self);

#endif

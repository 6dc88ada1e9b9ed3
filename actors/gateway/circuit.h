/*  circuit.h — the gateway's circuit breaker toward the sandbox service.

    When the sandbox service fails for reasons of its own (the broker has
    no executor, an executor died under a call, the bus request timed
    out), sending more calls only makes callers wait for the same
    failure. After `threshold` consecutive infrastructure failures the
    circuit OPENS: user tool calls are answered at once with a JSON-RPC
    error instead of being sent. After `open_ms` it is HALF-OPEN: the next
    call goes through as the one probe (others are still refused while it
    runs); the probe's success CLOSES the circuit, its failure opens it
    again for another `open_ms`.

      state      admit()             failure()              success()
      closed     pass                failures++; at the     failures = 0
                                     threshold -> open
      open       reject (until       ignored (a call sent   ignored
                 open_ms passed,     before it opened)
                 then half-open)
      half_open  the first: probe,   probe -> open          probe -> closed
                 others: reject

    A tool's own error (an exception, its own timeout, a bad result) is a
    success here: the sandbox service did its work. Only the caller knows
    which bus errors count (circuit_counts_error): no_worker, worker_lost
    and timeout.

    A probe that ends without a verdict (the client left, the call was
    cancelled) gives the probe back: the next call probes.

    Pure logic on a clock passed in (monotonic ms); no I/O. The gateway
    reports transitions (activity, log) itself.
*/
#ifndef MCPBOX_GATEWAY_CIRCUIT_H
#define MCPBOX_GATEWAY_CIRCUIT_H

#include <stdbool.h>
#include <stdint.h>

#include "bus_errors.h"

typedef enum {
    CIRCUIT_CLOSED,
    CIRCUIT_OPEN,
    CIRCUIT_HALF_OPEN
} circuit_state_t;

//  What admit says about one call.
typedef enum {
    CIRCUIT_PASS,           //  send it
    CIRCUIT_PROBE,          //  send it: it is the half-open probe
    CIRCUIT_REJECT          //  answer at once, do not send
} circuit_admit_t;

//  What a verdict did to the state.
typedef enum {
    CIRCUIT_SAME,
    CIRCUIT_OPENED,         //  closed or half-open -> open
    CIRCUIT_CLOSED_AGAIN    //  half-open -> closed
} circuit_change_t;

typedef struct _circuit_t circuit_t;

//  threshold >= 1 failures in a row; open_ms >= 1.
circuit_t       *circuit_new (int threshold, int64_t open_ms);
void             circuit_destroy (circuit_t **self_p);

circuit_admit_t  circuit_admit (circuit_t *self, int64_t now_ms);
//  probe: the call was admitted as CIRCUIT_PROBE.
circuit_change_t circuit_failure (circuit_t *self, bool probe, int64_t now_ms);
circuit_change_t circuit_success (circuit_t *self, bool probe);
void             circuit_abandon (circuit_t *self, bool probe);

//  The state now (open turns half-open once open_ms has passed).
circuit_state_t  circuit_state (circuit_t *self, int64_t now_ms);
const char      *circuit_state_name (circuit_state_t state);
//  While open: ms until it half-opens; else 0.
int64_t          circuit_retry_in_ms (circuit_t *self, int64_t now_ms);

//  Does this bus error count as an infrastructure failure?
bool             circuit_counts_error (bus_error_t code);

//  Figures for /health and /metrics.
typedef struct {
    circuit_state_t state;
    int             threshold;
    int64_t         open_ms;
    int             consecutive;    //  infrastructure failures in a row now
    uint64_t        failures;       //  infrastructure failures, ever
    uint64_t        opened;         //  times it opened
    uint64_t        closed;         //  times a probe closed it
    uint64_t        rejected;       //  calls answered at once while open
    uint64_t        probes;         //  half-open probes sent
} circuit_stats_t;
void             circuit_stats (circuit_t *self, int64_t now_ms, circuit_stats_t *stats);

#endif

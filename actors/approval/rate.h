/*  rate.h — the budget of tools/call per client: one token bucket per
    client, held in the approval actor so that every gateway process shares
    it (docs/DESIGN.md, section 15).

    A client's bucket holds at most `rpm` tokens (the policy's
    mcp_rate_limit_rpm, read at every take, so a change applies to the next
    call) and refills at rpm per minute; a call takes one token or is
    refused with the time until one is there. A new client starts full.

    Memory is bounded: at most clients_max buckets. A bucket idle for a
    minute has refilled completely and is equal to having none, so it is
    dropped without changing anything (`expired`). When the table is full
    of buckets used within the minute, the one used least recently is
    dropped to make room (`evicted`): that client starts full again, which
    is a loss of enforcement, hence counted and reported in rate.stats.
*/
#ifndef MCPBOX_APPROVAL_RATE_H
#define MCPBOX_APPROVAL_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_CLIENT_MAX      200        //  bytes of a client key
#define RATE_CLIENTS_MAX     10000      //  buckets held
#define RATE_WINDOW_MS       60000      //  rpm: tokens per this; a full refill

typedef struct _rate_t rate_t;

typedef struct {
    bool    allowed;
    int64_t remaining;                  //  whole tokens left after this call
    int64_t retry_after_ms;             //  refused: until one token is back
} rate_verdict_t;

typedef struct {
    size_t   clients;                   //  buckets held now
    size_t   clients_max;
    uint64_t allowed, limited;          //  calls
    uint64_t expired;                   //  idle buckets dropped (no effect)
    uint64_t evicted;                   //  live buckets dropped for room
} rate_stats_t;

//  clients_max 0: RATE_CLIENTS_MAX. NULL when out of memory.
rate_t *rate_new (size_t clients_max);
void    rate_destroy (rate_t **self_p);
//  One call of `client` at now_ms (a monotonic clock) under a limit of
//  rpm calls a minute (>= 1).
void    rate_take (rate_t *self, const char *client, int64_t rpm, int64_t now_ms,
                   rate_verdict_t *verdict);
//  Drop every bucket idle for RATE_WINDOW_MS; how many.
size_t  rate_expire (rate_t *self, int64_t now_ms);
void    rate_stats (rate_t *self, rate_stats_t *stats);

#endif

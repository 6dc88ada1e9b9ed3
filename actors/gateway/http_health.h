/*  http_health.h — GET /health: is every service there?

    Asks each service {"op": "health"} over the bus, all at once, each
    with HEALTH_TIMEOUT_MS, and answers

      {"status": "ok" | "degraded",
       "services": {"registry": {"ok": true, "version": "0.1.0",
                                 "uptime_s": 12, "pid": 4242},
                    "sandbox":  {"ok": false, "error": "no_worker"}, ...},
       "gateway":  {"version": "0.1.0", "uptime_s": 30, "log_spool": {...},
                    "circuit": {"state": "closed", "consecutive_failures": 0,
                                "threshold": 5, "open_s": 30, "retry_in_ms": 0,
                                "opened_total": 0, "rejected_total": 0}},
       "log_records_lost": 0}

    with 200 when every service answered ok and the circuit toward the
    sandbox (circuit.h) is closed, else 503 ("degraded"). Only the expected
    fields of a reply are copied, each checked for its type; an error is
    reported by its code from the closed set (bus_errors.h), never by the
    peer's message text.

    Log spools (common/logspool.h): a process's `log_spool` counters
    (added, acked, queued, dropped, rejected, resends, oldest_age_ms: how
    long its oldest unacknowledged record has waited) are copied into its
    entry, the gateway's own under "gateway", and `log_records_lost` sums
    dropped + rejected over every process that answered: a log record lost
    at a bound shows here, never silently.
*/
#ifndef MCPBOX_GATEWAY_HTTP_HEALTH_H
#define MCPBOX_GATEWAY_HTTP_HEALTH_H

#include <jansson.h>
#include "http_req.h"

//  Per-service bus timeout.
#define HEALTH_TIMEOUT_MS   1500
//  Backstop: answer anyway this long after the request came in. The bus
//  client answers an unanswered request itself 1 s after its deadline, so
//  this only fires if something below us is broken.
#define HEALTH_BACKSTOP_MS  (HEALTH_TIMEOUT_MS + 2000)

//  The route handler.
void    http_health_start (http_req_t *req);

//  One service's entry from its raw reply body (exposed for tests).
json_t *http_health_entry (const void *body, size_t size);

#endif

/*  broker_workers.h — the broker's answers on its own service, `broker`.

    A client may send a request to the service BUS_BROKER_SERVICE; no worker
    serves it (the broker refuses such a READY), the broker answers it
    itself, at once, from what it knows of its workers: the pool query the
    dashboard, `mcpbox status` and /metrics read. broker.c keeps the
    figures (a view per worker, below); this file reads the request and
    writes the reply. Ops (docs/BUS_OPS.md, service `broker`):

      workers  service (optional, a valid service name: only its workers)
               -> workers[{id, service, origin, address, credit, in_flight,
                  served, registered_at, last_seen, idle_ms,
                  about}], total, listed (those that fit 4 MiB), services,
                  stats{...}, now
      health   -> service "broker", workers, services, uptime_ms
*/
#ifndef MCPBOX_BROKER_WORKERS_H
#define MCPBOX_BROKER_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include "broker.h"
#include "msg.h"

//  What the broker knows of one registered worker, as of the request.
typedef struct {
    uint64_t    id;             //  its registration number (1, 2, ...)
    const char *service;
    const char *origin;         //  "local" (ipc) or "tcp" (remote, CURVE)
    const char *address;        //  the peer's address as ZeroMQ saw it, "" unknown
    uint32_t    credit;         //  announced in READY
    size_t      in_flight;      //  jobs it holds now
    uint64_t    served;         //  replies it delivered since it registered
    int64_t     registered_at;  //  unix ms
    int64_t     last_seen;      //  unix ms of its last message
    const void *about;          //  the msgpack map it sent with READY, or NULL
    size_t      about_size;
} broker_worker_view_t;

//  The reply to one request to the broker's service: body (size bytes, not
//  yet decoded), the workers (count views), the broker's counters, services
//  now known, uptime and the wall clock (unix ms). Never NULL: a malformed
//  body is `bad_request`, another op `unknown_op`.
msgw_t *broker_workers_answer (const void *body, size_t size,
                               const broker_worker_view_t *workers, size_t count,
                               const broker_stats_t *stats, size_t services,
                               int64_t uptime_ms, int64_t now_ms);

#endif

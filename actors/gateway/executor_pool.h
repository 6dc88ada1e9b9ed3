/*  executor_pool.h — the sandbox pool as the broker reports it.

    The broker answers `broker` `workers` (docs/BUS_OPS.md) with what it
    knows of each worker and the `about` map each executor sent with READY.
    This turns one such reply into rows for people and scrapers
    (/api/dashboard, the dashboard page; /metrics may read the same rows),
    reading every field by type and bound: an executor on another machine
    says what it likes of itself, so a field of the wrong type or over its
    bound is left out (null), never passed on as it came.

    Row: {id, process, host, pid, restarts, version, slots, labels{},
          origin, address, credit, in_flight, served, registered_at,
          last_seen, idle_ms}
*/
#ifndef MCPBOX_GATEWAY_EXECUTOR_POOL_H
#define MCPBOX_GATEWAY_EXECUTOR_POOL_H

#include <jansson.h>

#define EXECUTOR_POOL_SERVICE  "sandbox"
#define EXECUTOR_POOL_TEXT_MAX 255      //  host, process, version, address: characters
#define EXECUTOR_POOL_LABELS   32       //  labels kept, at most
#define EXECUTOR_POOL_LABEL_MAX 128     //  one label's name or value: bytes

//  Rows of the workers in reply (the body of an ok `workers` reply), sorted
//  by process then id. Never NULL ([] when reply holds none).
json_t *executor_pool_rows (const json_t *reply);

//  {executors, credit, in_flight, served, restarts}: the rows summed.
json_t *executor_pool_totals (const json_t *rows);

#endif

/*  service.h — the request loop every simple actor shares.

    An actor declares its ops once, as a table (op name -> handler), so a
    reader sees its whole interface at a glance. service_run() registers the
    service with the broker, decodes each body strictly, answers
    `health` itself (service, process, version, pid, uptime_s, owns[]),
    routes other ops through the table, answers unknown ops with
    `unknown_op` and malformed bodies with `bad_request`, and returns when
    SIGINT or SIGTERM arrives. Handlers run one at a time.

    A handler that must not block the loop (a password hash, a call to
    another service) may take its request with service_defer() and answer
    it later with service_reply(); meanwhile the loop serves other
    requests, up to the worker's credit. Work finished on another thread
    comes back through def->wake_fd: when that descriptor is readable the
    loop calls def->on_wake on its own thread, which answers with
    service_reply().
*/
#ifndef MCPBOX_SERVICE_H
#define MCPBOX_SERVICE_H

#include "bus.h"
#include "logspool.h"
#include "msg.h"
#include "paths.h"

typedef struct _service_t service_t;

//  Build the reply in *reply (a complete body, e.g. from msgw_error_new).
//  Leaving *reply NULL answers `internal`.
typedef void (service_handler_fn) (service_t *service, msg_t *request,
                                   msgw_t **reply, void *state);

typedef struct {
    const char         *op;         //  NULL ends the table
    service_handler_fn *handler;
} service_op_t;

typedef struct {
    const char         *service;    //  bus service name ("registry")
    const char         *process;    //  process name ("mcpbox-registry")
    const char        **owns;       //  NULL-terminated: tables/things owned
    const service_op_t *ops;        //  may be NULL (health only)
    void               *state;      //  passed to handlers
    int                 credit;     //  0 means 1

    //  Optional hooks. open() runs once before serving (actor_main passes
    //  the paths; open the database here) and its *state_p replaces
    //  `state` (it returns 0, -1 on failure, or 2 for a configuration
    //  error: the process then exits with status 2); close() runs after. tick() runs every tick_ms.
    int               (*open)  (const paths_t *paths, void **state_p,
                                char *err, size_t errlen);
    void              (*close) (void *state);
    void              (*tick)  (service_t *service, void *state);
    int                 tick_ms;
    //  Optional: a descriptor polled beside the bus (a pipe another thread
    //  writes to), read from state after open(); -1 or NULL: none. on_wake
    //  runs on the loop's thread whenever it is readable.
    int               (*wake_fd) (void *state);
    void              (*on_wake) (service_t *service, void *state);
} service_def_t;

//  Inside a handler: take the request being handled, to answer it later
//  with service_reply (the handler leaves *reply NULL). NULL outside a
//  handler or when already taken.
bus_request_t *service_defer (service_t *self);

//  Answer a deferred request (consumes *request_p and reply; a NULL reply
//  answers `internal`). Replies over the bus limit become too_large.
void service_reply (service_t *self, bus_request_t **request_p, msgw_t **reply_p);

//  Answer a deferred request with an encoded body the caller owns (and
//  may wipe afterwards, for replies that carry secrets).
void service_reply_raw (service_t *self, bus_request_t **request_p,
                        const void *body, size_t size);

//  A client of the same broker, for handlers that ask other services
//  (bus_client_call). Created on first use.
bus_client_t *service_client (service_t *self);

//  Ask another service and wait for its answer (up to timeout_ms), keeping
//  this worker's registration alive meanwhile: a handler may wait longer
//  than the broker's liveness window without being declared dead. Never
//  NULL: a local `timeout` reply when nothing came.
bus_reply_t *service_call (service_t *self, const char *service,
                           const void *body, size_t size, int timeout_ms);

//  Publish an event (topic, body) on the broker's event bus; fire and
//  forget. -1 when this service has no event endpoint.
int service_publish (service_t *self, const char *topic, msgw_t *body);

//  This process's log spool (logspool.h), made on first use with the
//  process name as its source; NULL if it could not be made. Records
//  added to it reach logkeeper even across its restarts; the spool's
//  counters appear in this service's `health` answer as "log_spool".
logspool_t *service_spool (service_t *self);

//  Shorthand: one activity record through service_spool (see
//  logspool_activity for the arguments and return values).
int service_activity (service_t *self, const char *type, const char *level,
                      const char *server_id, const char *message,
                      const char *details_json);

//  The standard `health` reply: {"ok": true, "service", "process",
//  "version", "pid", "uptime_s", "owns": [...]}; started is zclock_mono ms.
//  For actors that run their own loop instead of service_run.
msgw_t *service_health_reply (const service_def_t *def, int64_t started);
//  The same with the spool's counters as "log_spool": {added, acked,
//  queued, dropped, rejected, resends} (spool may be NULL: all zero).
msgw_t *service_health_reply_spool (const service_def_t *def, int64_t started,
                                    logspool_t *spool);
//  Append "log_spool": {...} as one key/value pair to a map being packed.
void    service_pack_spool (msgw_t *w, logspool_t *spool);

//  Run until interrupted. 0 on clean shutdown, -1 if the worker could not
//  be created.
//  events_in: the broker's event input (NULL: no publishing).
int service_run (const service_def_t *def, const char *endpoint,
                 const bus_curve_t *curve, const char *events_in);

#endif

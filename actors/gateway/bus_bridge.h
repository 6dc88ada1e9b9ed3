/*  bus_bridge.h — the gateway's one door to the bus, usable from lws.

    libwebsockets 4.1 runs one service thread and cannot poll a ZeroMQ
    socket, and a bus_client_t must stay on one thread. The bridge owns a
    bus thread that owns the bus_client_t; the HTTP thread talks to it
    through two mutex-protected queues:

        HTTP thread                         bus thread
        bus_bridge_submit ──► submitted ──► bus_client_send
                                            bus_client_recv
        bus_bridge_take   ◄── completed ◄── (reply matched to its ticket)
                   ▲                             │
                   └──── wake (lws_cancel_service) 

    A submission names a service, a msgpack body, a timeout and an opaque
    64-bit token (the caller's request id). It returns a ticket. Every
    accepted submission completes exactly once with a reply body: the
    service's answer, the broker's `no_worker` / `worker_lost`, a local
    `timeout`, or a local `unavailable` if the bus refused it. Many may be
    in flight at once; completions come in any order. The bridge never
    dereferences tokens, so a caller whose request went away simply finds
    no owner for the token and drops the completion.

    Events: a bridge made with bus_bridge_new_with_events also owns a SUB
    socket on the broker's event output, on the same bus thread. Events
    that arrive are queued (bounded: when the queue is full the oldest is
    dropped, and the next event taken says that some were lost) and
    announced with the same wake callback; bus_bridge_take_event hands
    them over.

    Cancellation: bus_bridge_cancel asks the broker to cancel a submission
    (proto/README.md, CANCEL); it still completes exactly once, normally
    with the broker's `cancelled`.

    Notices: a worker may send notices about a request before its reply
    (proto/README.md, NOTICE: a sandbox call's progress and log lines).
    They are queued (bounded: beyond BUS_BRIDGE_MAX_NOTICES the newest is
    dropped and counted) and announced with the same wake callback; the
    owner takes them with bus_bridge_take_notice before the completions,
    so a request's notices are handed over before its reply.

    Deliberately not here: any HTTP or lws knowledge (the wake callback is
    all the bridge knows of its owner).
*/
#ifndef MCPBOX_GATEWAY_BUS_BRIDGE_H
#define MCPBOX_GATEWAY_BUS_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Submissions accepted and not yet taken as completions, at most.
#define BUS_BRIDGE_MAX_IN_FLIGHT  4096
//  Events received and not yet taken, at most.
#define BUS_BRIDGE_MAX_EVENTS     4096
//  Notices received and not yet taken, at most.
#define BUS_BRIDGE_MAX_NOTICES    4096

//  Called on the bus thread when completions are ready. Must be
//  thread-safe and quick (lws_cancel_service is).
typedef void (bus_bridge_wake_fn) (void *arg);

typedef struct _bus_bridge_t bus_bridge_t;
typedef struct _bus_bridge_result_t bus_bridge_result_t;

//  Connect to the broker and start the bus thread. NULL if the endpoint is
//  unusable or the thread could not start.
bus_bridge_t *bus_bridge_new (const char *endpoint,
                              bus_bridge_wake_fn *wake, void *wake_arg);
//  The same, also subscribed to the event output `events_endpoint` for the
//  topic prefixes in `topics` (NULL-terminated).
bus_bridge_t *bus_bridge_new_with_events (const char *endpoint,
                                          const char *events_endpoint,
                                          const char **topics,
                                          bus_bridge_wake_fn *wake,
                                          void *wake_arg);
//  Stop and join the bus thread; drop whatever is queued or in flight.
//  The wake callback is never called after this returns.
void          bus_bridge_destroy (bus_bridge_t **self_p);

//  Queue a request (the body is copied). Returns its ticket (never 0), or
//  0 if the service name or body is invalid, the bridge is stopping, or
//  BUS_BRIDGE_MAX_IN_FLIGHT submissions are outstanding. Any thread.
uint64_t bus_bridge_submit (bus_bridge_t *self, const char *service,
                            const void *body, size_t size, int timeout_ms,
                            uint64_t token);

//  Ask the broker to cancel a submission (its worker is told to stop). The
//  submission still completes, usually with `cancelled`. Unknown or
//  completed tickets are ignored. Any thread.
void     bus_bridge_cancel (bus_bridge_t *self, uint64_t ticket);

//  The next completion, or NULL when none is waiting. Any thread.
bus_bridge_result_t *bus_bridge_take (bus_bridge_t *self);

//  The next notice about a pending submission (its ticket, token and the
//  notice body), or NULL. It is not a completion. Any thread.
bus_bridge_result_t *bus_bridge_take_notice (bus_bridge_t *self);
//  Notices dropped at BUS_BRIDGE_MAX_NOTICES since the bridge began.
uint64_t bus_bridge_notices_dropped (bus_bridge_t *self);

//  Submissions not yet taken as completions.
size_t   bus_bridge_in_flight (bus_bridge_t *self);

//  The next event: 0 with *topic_p and *body_p (the caller frees both),
//  *size_p, and *lost_p true if events were dropped before this one; -1
//  when none is waiting. Any thread.
int      bus_bridge_take_event (bus_bridge_t *self, char **topic_p,
                                void **body_p, size_t *size_p, bool *lost_p);

//  Events dropped at BUS_BRIDGE_MAX_EVENTS since the bridge began.
uint64_t bus_bridge_events_dropped (bus_bridge_t *self);

uint64_t    bus_bridge_result_ticket (bus_bridge_result_t *self);
uint64_t    bus_bridge_result_token (bus_bridge_result_t *self);
//  The reply body (a msgpack map, not yet validated: decode with msg_decode).
const void *bus_bridge_result_body (bus_bridge_result_t *self, size_t *size);
//  A completion's service, and the time from submit to completion
//  (microseconds); "" and 0 for a notice.
const char *bus_bridge_result_service (bus_bridge_result_t *self);
int64_t     bus_bridge_result_elapsed_us (bus_bridge_result_t *self);
void        bus_bridge_result_destroy (bus_bridge_result_t **self_p);

#endif

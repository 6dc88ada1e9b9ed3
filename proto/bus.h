/*  bus.h — the Majordomo-pattern client and worker, and the event bus.

    The frames are specified in proto/README.md; this is the C surface.

    bus_client_t  a DEALER to the broker. Many requests in flight, each with
                  its own id and deadline; replies come back in any order.
                  A request the broker never answers (broker gone) is
                  answered locally with `timeout` shortly after its deadline,
                  so no caller ever waits forever.
    bus_worker_t  a DEALER that registers for one service with a credit (how
                  many requests it may hold at once), heartbeats the broker,
                  and reconnects and re-registers when the broker goes away.
                  Replies may be sent in any order.
    bus_pub_t /   PUB and SUB sockets to the broker's event proxy. An event is
    bus_sub_t     two frames: topic, msgpack body.

    None of these are thread-safe: one thread owns each object.
*/
#ifndef MCPBOX_BUS_H
#define MCPBOX_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include "bus_errors.h"
#include "msg.h"

//  Protocol identifiers (first frame of every message).
#define BUS_CLIENT_PROTO   "MBC1"
#define BUS_WORKER_PROTO   "MBW1"

//  Client commands (second frame, one byte).
#define BUS_C_REQUEST      0x01
#define BUS_C_REPLY        0x02
#define BUS_C_CANCEL       0x03
#define BUS_C_NOTICE       0x04

//  Worker commands (second frame, one byte).
#define BUS_W_READY        0x01
#define BUS_W_REQUEST      0x02
#define BUS_W_REPLY        0x03
#define BUS_W_HEARTBEAT    0x04
#define BUS_W_DISCONNECT   0x05
#define BUS_W_CANCEL       0x06
#define BUS_W_NOTICE       0x07

//  Bounds that every peer enforces where frames enter.
#define BUS_SERVICE_MAX    32            //  service name bytes, [a-z0-9_.-]
#define BUS_BODY_MAX       (16u << 20)   //  one body, bytes
#define BUS_CREDIT_MAX     1024          //  requests one worker may hold
//  What a worker may say of itself in READY (optional): one msgpack map of
//  at most this many bytes (host, pid, process, restarts, labels, slots —
//  docs/BUS_OPS.md, service `broker`). The broker keeps it and hands it to
//  whoever asks `broker` for `workers`; it decides nothing by it.
#define BUS_ABOUT_MAX      4096
//  The service the broker answers itself (op `workers`, `health`). No worker
//  may register for it.
#define BUS_BROKER_SERVICE "broker"
#define BUS_TIMEOUT_MAX_MS (10 * 60 * 1000)
//  Notices (progress and log lines a worker sends about a job it holds,
//  before its reply): one body at most this big, and the broker relays at
//  most BUS_NOTICE_BURST at once and BUS_NOTICE_RATE a second per job.
#define BUS_NOTICE_MAX     (16u << 10)
#define BUS_NOTICE_BURST   64
#define BUS_NOTICE_RATE    32

//  Heartbeat defaults; MCPBOX_HEARTBEAT_MS overrides the interval for every
//  process (tests shorten it). A peer is dead after LIVENESS silent intervals.
#define BUS_HEARTBEAT_MS   1000
#define BUS_LIVENESS       3
int bus_heartbeat_ms (void);

//  True if `name` is a valid service name of `len` bytes.
bool bus_service_name_valid (const char *name, size_t len);

//  --- CURVE for tcp:// endpoints ------------------------------------------
//  Both paths are zcert files (as written by `mcpbox keygen`): the broker's
//  public certificate and this peer's secret certificate.
typedef struct {
    const char *server_public_file;
    const char *client_secret_file;
} bus_curve_t;

//  --- reply (what a client receives) -------------------------------------
typedef struct _bus_reply_t bus_reply_t;

uint64_t     bus_reply_id (bus_reply_t *self);
const void  *bus_reply_body (bus_reply_t *self, size_t *size);
//  Decode the body (NULL + *why on a malformed body).
msg_t       *bus_reply_decode (bus_reply_t *self, const char **why);
void         bus_reply_destroy (bus_reply_t **self_p);
//  A locally made error reply (for callers that give up waiting).
bus_reply_t *bus_reply_error_new (uint64_t id, bus_error_t code, const char *message);

//  A notice about a pending request (BUS_C_NOTICE), not its answer: true
//  only for clients that asked for notices (bus_client_take_notices).
bool         bus_reply_is_notice (bus_reply_t *self);

//  --- client --------------------------------------------------------------
typedef struct _bus_client_t bus_client_t;

bus_client_t *bus_client_new (const char *endpoint);
//  The same over tcp:// with CURVE (curve NULL: as bus_client_new). Over
//  tcp the broker accepts one request only: a remote executor's
//  `credentials` `job_secrets` for a job it holds (broker/broker_remote.h).
//  NULL when a certificate cannot be loaded.
bus_client_t *bus_client_new_curve (const char *endpoint, const bus_curve_t *curve);
void          bus_client_destroy (bus_client_t **self_p);

//  Send a request; returns its id (never 0), or 0 if the arguments are bad
//  or the socket refused it. timeout_ms is clamped to BUS_TIMEOUT_MAX_MS.
uint64_t bus_client_send (bus_client_t *self, const char *service,
                          const void *body, size_t size, int timeout_ms);

//  The next reply, or a locally made `timeout` reply for a request whose
//  deadline (plus a grace period) has passed. Waits up to timeout_ms
//  (-1 forever, 0 poll). NULL when nothing arrived in time or interrupted.
bus_reply_t *bus_client_recv (bus_client_t *self, int timeout_ms);

//  Send and wait for that one reply; other replies that arrive meanwhile
//  are kept and returned by later bus_client_recv calls.
bus_reply_t *bus_client_call (bus_client_t *self, const char *service,
                              const void *body, size_t size, int timeout_ms);

//  Ask the broker to cancel a pending request: the broker answers it with
//  `cancelled` (unless its answer is already on the way) and tells the
//  worker holding it, if any. 0, or -1 if id is not pending or the socket
//  refused the frame.
int      bus_client_cancel (bus_client_t *self, uint64_t id);

//  Hand notices about pending requests out of bus_client_recv (as replies
//  for which bus_reply_is_notice is true; the request stays pending).
//  Off by default: a client that did not ask drops them (counted).
void     bus_client_take_notices (bus_client_t *self, bool take);
//  Notices dropped: not asked for, for no pending request, or malformed.
uint64_t bus_client_notices_dropped (bus_client_t *self);
//  Requests sent and not yet answered.
size_t   bus_client_pending (bus_client_t *self);
//  Milliseconds until the next local deadline (-1 when none): poll no longer.
int      bus_client_next_deadline_ms (bus_client_t *self);
zsock_t *bus_client_sock (bus_client_t *self);

//  --- request (what a worker receives) ------------------------------------
typedef struct _bus_request_t bus_request_t;

const void *bus_request_body (bus_request_t *self, size_t *size);
//  Milliseconds the client will still wait (as of receipt).
int         bus_request_timeout_ms (bus_request_t *self);
void        bus_request_destroy (bus_request_t **self_p);
//  Zero and drop the body once it has been consumed (it may carry secrets
//  and the request is kept until it is answered).
void        bus_request_wipe_body (bus_request_t *self);

//  --- worker --------------------------------------------------------------
typedef struct _bus_worker_t bus_worker_t;

//  curve NULL for ipc:// (and plain tcp:// only in tests). credit 1..1024.
bus_worker_t *bus_worker_new (const char *endpoint, const char *service,
                              int credit, const bus_curve_t *curve);
//  The same, and every READY carries `about` (a msgpack map, 1..BUS_ABOUT_MAX
//  bytes, copied): what this worker says of itself to the broker's pool
//  query. NULL when about is not a map of that size.
bus_worker_t *bus_worker_new_about (const char *endpoint, const char *service,
                                    int credit, const bus_curve_t *curve,
                                    const void *about, size_t about_size);
void          bus_worker_destroy (bus_worker_t **self_p);

//  Service the connection (heartbeats, reconnects) and return the next
//  request, waiting up to timeout_ms (-1 forever, 0 poll). NULL on time-out
//  or interruption. With an external poller, call with 0 when the socket is
//  readable and at least every bus_heartbeat_ms().
bus_request_t *bus_worker_recv (bus_worker_t *self, int timeout_ms);

//  Keep the registration alive while the caller is busy with one request
//  (e.g. waiting on another service): sends a heartbeat when due and reads
//  what the broker sent; requests that arrive are kept for the next
//  bus_worker_recv. Call at least every bus_heartbeat_ms().
void bus_worker_keepalive (bus_worker_t *self);

//  How many connections in a row the broker never spoke on (0 once it
//  does): a broker that is down or unreachable, or a tcp broker that
//  refuses this peer's CURVE key (the handshake fails silently).
int  bus_worker_unheard (bus_worker_t *self);

//  Reply to a request (consumes it). Any order, any time before its
//  deadline. Returns 0, or -1 if the body is too large or the send failed.
int  bus_worker_reply (bus_worker_t *self, bus_request_t **request_p,
                       const void *body, size_t size);

//  A notice about a request the caller holds (not yet replied to): the
//  broker relays it to that request's client, before the reply. 0, or -1
//  if the body is empty or over BUS_NOTICE_MAX, the request came on an old
//  connection, or the socket's queue is full (the caller counts it lost).
int  bus_worker_notice (bus_worker_t *self, bus_request_t *request,
                        const void *body, size_t size);
//  A request the broker says its client cancelled: one the caller holds
//  (received and not yet replied to), each at most once; NULL when none.
//  The caller should stop its work and still reply (the reply is dropped
//  by the broker; it frees the credit). Requests cancelled before they
//  were handed out are answered here and never returned.
bus_request_t *bus_worker_take_cancelled (bus_worker_t *self);

//  Requests received and not yet replied to.
int      bus_worker_held (bus_worker_t *self);
//  Times this worker has (re)registered with a broker.
int      bus_worker_registrations (bus_worker_t *self);
zsock_t *bus_worker_sock (bus_worker_t *self);

//  --- events -------------------------------------------------------------
typedef struct _bus_pub_t bus_pub_t;
typedef struct _bus_sub_t bus_sub_t;

//  endpoint is the broker's event input (XSUB side).
bus_pub_t *bus_pub_new (const char *endpoint);
void       bus_pub_destroy (bus_pub_t **self_p);
//  Fire and forget: never blocks, drops when the queue is full.
int        bus_pub_send (bus_pub_t *self, const char *topic,
                         const void *body, size_t size);

//  endpoint is the broker's event output (XPUB side); topics is a
//  NULL-terminated list of prefixes ("" for all).
bus_sub_t *bus_sub_new (const char *endpoint, const char **topics);
void       bus_sub_destroy (bus_sub_t **self_p);
//  Next event: *topic_p (caller frees) and *body_p (caller frees, size in
//  *size_p). Returns 0, or -1 on time-out / interrupt / malformed event.
int        bus_sub_recv (bus_sub_t *self, int timeout_ms, char **topic_p,
                         void **body_p, size_t *size_p);
zsock_t   *bus_sub_sock (bus_sub_t *self);

#endif

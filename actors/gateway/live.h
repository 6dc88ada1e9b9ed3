/*  live.h — GET /ws: the dashboard's live activity stream.

    Feed: logkeeper publishes an `activity` event for every activity
    record it commits, whoever wrote it (docs/BUS_OPS.md, logs). The
    gateway's bridge subscribes to that topic, so an action in ANY process
    — a tool call in another gateway, an approval, a login, a restart seen
    by `mcpbox up` — reaches every open /ws within the spool's delivery
    time (tens of ms), with no database polling.

    The upgrade (HTTP_CONFIRM_UPGRADE, before any websocket byte) is
    refused with an HTTP answer unless: the path is /ws (404); the peer is
    on loopback or api_allow_remote (403, as /api); Host is an allowed
    host and Origin is exactly the gateway's own origin, http(s)://Host
    (403: no cross-site page can open the stream with the admin's
    cookie); a well-formed mcpbox_session cookie is present (401); fewer
    than LIVE_CLIENTS_MAX streams are open (503). Whether the session is
    valid needs a round trip to credentials, which lws 4.1 cannot wait for
    inside the upgrade: the socket is upgraded, then nothing at all is
    sent until credentials said yes ({"type":"connected"} first); a no
    closes it with 4401 "unauthorized" (4503 when credentials cannot be
    reached). The session is checked again every recheck period and at
    once on any `auth.*` activity (logout, password change, refresh
    reuse...): an expired or revoked session closes the socket with 4401.

    Per client: a filter (live_msg.h), and a queue of at most
    LIVE_QUEUE_MAX messages / LIVE_QUEUE_BYTES bytes. A message that does
    not fit is dropped and counted; the count goes to that client as
    {"type":"dropped","count":N} ahead of its next message. Events lost
    at the bridge's own bound are counted the same way for every client.
    The gateway never waits for a client: it writes one message per
    writable callback, so a browser that does not read only fills its own
    queue. A client message over LIVE_MSG_IN_MAX bytes closes the socket
    (1009); a malformed one is answered {"type":"error","message":…}.
*/
#ifndef MCPBOX_GATEWAY_LIVE_H
#define MCPBOX_GATEWAY_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <libwebsockets.h>

#include "gateway.h"

#define LIVE_CLIENTS_MAX    64
#define LIVE_QUEUE_MAX      256             //  messages waiting per client
#define LIVE_QUEUE_BYTES    (512 * 1024)    //  bytes waiting per client
#define LIVE_SNDBUF         (64 * 1024)     //  the kernel's send buffer per client
#define LIVE_TOKEN_BIT      (1ull << 62)    //  bus tokens of /ws checks
#define LIVE_CHECK_TIMEOUT_MS 5000

typedef struct _live_t live_t;
typedef struct _live_client_t live_client_t;

live_t *live_new (gateway_t *gateway, int recheck_ms);
void    live_destroy (live_t **self_p);

//  HTTP_CONFIRM_UPGRADE for "websocket": 0 to go on, -1 when refused (the
//  HTTP answer is written; hang up).
int     live_confirm_upgrade (live_t *self, struct lws *wsi);

//  ESTABLISHED: a client for this socket (its session check sent), or
//  NULL to close it.
live_client_t *live_client_open (live_t *self, struct lws *wsi);
//  CLOSED: forget it.
void    live_client_close (live_t *self, live_client_t **client_p);
//  RECEIVE: a piece of a client message. -1 closes the socket.
int     live_client_receive (live_client_t *client, const void *data, size_t size);
//  SERVER_WRITEABLE: write the next message. -1 closes the socket.
int     live_client_writeable (live_client_t *client);
//  TIMER: time to check the session again.
void    live_client_timer (live_client_t *client);

//  A bus completion whose token has LIVE_TOKEN_BIT.
void    live_on_completion (live_t *self, uint64_t token, const void *body, size_t size);
//  An event from the bridge.
void    live_on_event (live_t *self, const char *topic, const void *body, size_t size);
//  Streams open now.
size_t  live_count (live_t *self);

#endif

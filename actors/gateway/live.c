/*  live.c — GET /ws: clients, their checks, queues and filters. See live.h.

    Client life:
        CHECKING  upgraded, the session check sent: nothing is written,
                  nothing is queued, messages from it are ignored
        OPEN      checked: "connected" first, then log messages as they
                  pass its filter; the check is repeated every recheck_ms
                  and on auth.* activity
        CLOSING   a close code is set; the next writable callback sends
                  the close frame and lws closes the socket
    Everything here runs on the lws thread.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api.h"
#include "live.h"
#include "live_msg.h"
#include "log.h"
#include "mcp.h"

#define LIVE_CLOSE_UNAUTHORIZED  4401
#define LIVE_CLOSE_UNAVAILABLE   4503

typedef enum { CLIENT_CHECKING, CLIENT_OPEN, CLIENT_CLOSING } client_state_t;

typedef struct _message_t {
    struct _message_t *next;
    size_t             size;        //  text bytes after LWS_PRE
    unsigned char      data [];     //  LWS_PRE, then the text
} message_t;

struct _live_client_t {
    live_client_t    *prev, *next;  //  in live->clients
    live_t           *live;         //  the hub
    struct lws       *wsi;          //  valid while the client exists
    uint64_t          id;           //  key in live->clients, token base
    client_state_t    state;
    char              session [API_TOKEN_LEN + 1];  //  the cookie's token
    uint64_t          ticket;       //  session check in flight, 0 if none
    bool              recheck;      //  check again when this one answers
    live_filter_t     filter;
    message_t        *head, *tail;  //  queued messages
    size_t            queued;       //  messages in the queue
    size_t            queued_bytes; //  their text bytes
    uint64_t          dropped;      //  not yet reported to the client
    uint64_t          bridge_seen;  //  bridge drops already counted here
    int               close_code;   //  CLOSING: the code to send
    char             *in;           //  a client message being received
    size_t            in_size;
};

struct _live_t {
    gateway_t *gateway;
    live_client_t *clients;         //  open ones (at most LIVE_CLIENTS_MAX)
    size_t     count;
    uint64_t   next_id;
    int        recheck_ms;
};

live_t *
live_new (gateway_t *gateway, int recheck_ms)
{
    live_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->gateway = gateway;
    self->recheck_ms = recheck_ms;
    return self;
}

void
live_destroy (live_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    live_t *self = *self_p;
    //  lws closes every socket before this (context destroy): any client
    //  left is a bug, but not a leak
    if (self->count)
        log_warn ("/ws: %zu clients left at shutdown", self->count);
    free (self);
    *self_p = NULL;
}

//  --- the upgrade ----------------------------------------------------------------

static int
s_header (struct lws *wsi, enum lws_token_indexes token, char *buf, size_t size)
{
    int len = lws_hdr_total_length (wsi, token);
    if (len <= 0)
        return 0;
    if ((size_t) len >= size || lws_hdr_copy (wsi, buf, (int) size, token) != len)
        return -1;
    return len;
}

//  Write a refusal (JSON error, the security headers) and have lws hang up.
static int
s_refuse (struct lws *wsi, unsigned status, const char *code, const char *message)
{
    json_t *json = json_pack ("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *body = json ? json_dumps (json, JSON_COMPACT) : NULL;
    json_decref (json);
    size_t size = body ? strlen (body) : 0;
    unsigned char buffer [LWS_PRE + HTTP_REQ_HEADERS_MAX];
    unsigned char *start = buffer + LWS_PRE, *p = start, *end = buffer + sizeof buffer - 1;
    static const char *headers [][2] = {
        { "content-security-policy:", HTTP_REQ_CSP },
        { "x-content-type-options:", "nosniff" },
        { "referrer-policy:", "no-referrer" },
        { "x-frame-options:", "DENY" },
        { "cache-control:", "no-store" },
        { "connection:", "close" },
        { NULL, NULL }
    };
    bool ok = body && lws_add_http_common_headers (wsi, status, "application/json",
                                                   size, &p, end) == 0;
    for (size_t i = 0; ok && headers [i][0]; i++)
        ok = lws_add_http_header_by_name (wsi, (const unsigned char *) headers [i][0],
                                          (const unsigned char *) headers [i][1],
                                          (int) strlen (headers [i][1]), &p, end) == 0;
    if (ok && lws_finalize_http_header (wsi, &p, end) == 0
    &&  (size_t) (end - p) > size) {
        memcpy (p, body, size);
        p += size;
        lws_write (wsi, start, (size_t) (p - start), LWS_WRITE_HTTP_HEADERS);
    }
    free (body);
    return -1;
}

//  Origin must be exactly this gateway's: scheme://Host as the browser
//  sent it (Host itself an allowed one, against DNS rebinding).
static bool
s_same_origin (live_t *self, struct lws *wsi)
{
    char host [256], origin [300], own [300];
    if (s_header (wsi, WSI_TOKEN_HOST, host, sizeof host) <= 0
    ||  s_header (wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin) <= 0)
        return false;
    if (!self->gateway->mcp || !mcp_allow_host (self->gateway->mcp->allow, host))
        return false;
    snprintf (own, sizeof own, "%s://%s", lws_is_ssl (wsi) ? "https" : "http", host);
    return strcasecmp (origin, own) == 0;
}

//  The session cookie's token: 1 found, 0 none, -1 malformed header.
static int
s_session_cookie (struct lws *wsi, char out [API_TOKEN_LEN + 1])
{
    static char text [API_HEADER_MAX + 1];
    *out = 0;
    int len = s_header (wsi, WSI_TOKEN_HTTP_COOKIE, text, sizeof text);
    int rc = len < 0 ? -1 : api_cookie_token (text, (size_t) len, API_COOKIE_SESSION, out);
    explicit_bzero (text, sizeof text);
    return rc;
}

int
live_confirm_upgrade (live_t *self, struct lws *wsi)
{
    char path [16];
    if (s_header (wsi, WSI_TOKEN_GET_URI, path, sizeof path) <= 0 || strcmp (path, "/ws") != 0)
        return s_refuse (wsi, 404, "not_found", "the websocket is at /ws");
    char peer [64];
    lws_get_peer_simple (wsi, peer, sizeof peer);
    if (!api_peer_allowed (self->gateway, peer))
        return s_refuse (wsi, 403, "forbidden", "the admin stream answers only on loopback "
                         "(set api_allow_remote to change that)");
    if (!s_same_origin (self, wsi))
        return s_refuse (wsi, 403, "forbidden", "Origin must be this gateway's own");
    char token [API_TOKEN_LEN + 1];
    int found = s_session_cookie (wsi, token);
    explicit_bzero (token, sizeof token);
    if (found != 1)
        return s_refuse (wsi, 401, "unauthorized", "log in first (session cookie)");
    if (self->count >= LIVE_CLIENTS_MAX)
        return s_refuse (wsi, 503, "unavailable", "too many live streams open");
    return 0;
}

//  --- queue ----------------------------------------------------------------------

static void
s_queue_free (live_client_t *client)
{
    while (client->head) {
        message_t *next = client->head->next;
        free (client->head);
        client->head = next;
    }
    client->tail = NULL;
    client->queued = client->queued_bytes = 0;
}

//  Queue a text; over the bounds it is dropped and counted.
static void
s_queue (live_client_t *client, const char *text, size_t size)
{
    if (client->queued >= LIVE_QUEUE_MAX || client->queued_bytes + size > LIVE_QUEUE_BYTES) {
        client->dropped++;
        lws_callback_on_writable (client->wsi);
        return;
    }
    message_t *message = malloc (sizeof *message + LWS_PRE + size);
    if (!message) {
        client->dropped++;
        return;
    }
    message->next = NULL;
    message->size = size;
    memcpy (message->data + LWS_PRE, text, size);
    if (client->tail)
        client->tail->next = message;
    else
        client->head = message;
    client->tail = message;
    client->queued++;
    client->queued_bytes += size;
    lws_callback_on_writable (client->wsi);
}

static void
s_queue_json (live_client_t *client, json_t *json)
{
    char *text = json ? json_dumps (json, JSON_COMPACT) : NULL;
    json_decref (json);
    if (text)
        s_queue (client, text, strlen (text));
    free (text);
}

static void
s_close (live_client_t *client, int code)
{
    if (client->state == CLIENT_CLOSING)
        return;
    client->state = CLIENT_CLOSING;
    client->close_code = code;
    lws_callback_on_writable (client->wsi);
}

//  --- the session check -------------------------------------------------------------

static void
s_check (live_client_t *client)
{
    if (client->ticket) {
        client->recheck = true;
        return;
    }
    gateway_t *gateway = client->live->gateway;
    json_t *fields = api_validate_fields (client->session, NULL);
    msgw_t *body = fields ? bus_json_request ("validate", fields) : NULL;
    json_decref (fields);
    client->ticket = body && gateway->bridge
                   ? bus_bridge_submit (gateway->bridge, "credentials", msgw_data (body),
                                        msgw_size (body), LIVE_CHECK_TIMEOUT_MS,
                                        LIVE_TOKEN_BIT | client->id)
                   : 0;
    if (body) {
        explicit_bzero ((void *) msgw_data (body), msgw_size (body));
        msgw_destroy (&body);
    }
    if (!client->ticket)
        s_close (client, LIVE_CLOSE_UNAVAILABLE);
}

void
live_on_completion (live_t *self, uint64_t token, const void *body, size_t size)
{
    live_client_t *client = self->clients;
    while (client && client->id != (token & ~LIVE_TOKEN_BIT))
        client = client->next;
    if (!client || client->state == CLIENT_CLOSING)
        return;
    client->ticket = 0;
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    bool ok = reply.ok;
    bus_error_t code = reply.code;
    bus_json_clear (&reply);
    if (!ok) {
        log_debug ("/ws client %" PRIu64 ": session check: %s", client->id,
                   bus_error_name (code));
        s_close (client, code == BUS_ERR_UNAUTHORIZED ? LIVE_CLOSE_UNAUTHORIZED
                                                      : LIVE_CLOSE_UNAVAILABLE);
        return;
    }
    if (client->state == CLIENT_CHECKING) {
        client->state = CLIENT_OPEN;
        client->bridge_seen = self->gateway->bridge
                            ? bus_bridge_events_dropped (self->gateway->bridge) : 0;
        s_queue_json (client, json_pack ("{s:s}", "type", "connected"));
    }
    lws_set_timer_usecs (client->wsi, (lws_usec_t) self->recheck_ms * LWS_US_PER_MS);
    if (client->recheck) {
        client->recheck = false;
        s_check (client);
    }
}

void
live_client_timer (live_client_t *client)
{
    if (client && client->state == CLIENT_OPEN)
        s_check (client);
}

//  --- clients ---------------------------------------------------------------------

live_client_t *
live_client_open (live_t *self, struct lws *wsi)
{
    live_client_t *client = calloc (1, sizeof *client);
    if (!client)
        return NULL;
    client->live = self;
    client->wsi = wsi;
    client->id = ++self->next_id;
    if (s_session_cookie (wsi, client->session) != 1) {
        free (client);
        return NULL;
    }
    client->next = self->clients;
    if (self->clients)
        self->clients->prev = client;
    self->clients = client;
    self->count++;
    //  the HTTP timeout does not apply to a stream
    lws_set_timeout (wsi, NO_PENDING_TIMEOUT, 0);
    //  Left to autotuning, the kernel holds up to tcp_wmem's max (4 MB) for
    //  a client that does not read, per client, unseen and uncounted: bound
    //  it, so that the queue above and its dropped count decide what a slow
    //  client may hold.
    int fd = lws_get_socket_fd (wsi);
    int sndbuf = LIVE_SNDBUF;
    if (fd >= 0 && setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0)
        log_debug ("/ws client %" PRIu64 ": SO_SNDBUF not set", client->id);
    s_check (client);
    log_debug ("/ws client %" PRIu64 " open", client->id);
    return client;
}

void
live_client_close (live_t *self, live_client_t **client_p)
{
    if (!client_p || !*client_p)
        return;
    live_client_t *client = *client_p;
    if (client->prev)
        client->prev->next = client->next;
    else
        self->clients = client->next;
    if (client->next)
        client->next->prev = client->prev;
    self->count--;
    lws_set_timer_usecs (client->wsi, LWS_SET_TIMER_USEC_CANCEL);
    s_queue_free (client);
    explicit_bzero (client->session, sizeof client->session);
    free (client->in);
    log_debug ("/ws client %" PRIu64 " closed", client->id);
    free (client);
    *client_p = NULL;
}

static void
s_on_message (live_client_t *client, const char *text, size_t size)
{
    const char *why = NULL;
    live_filter_t filter;
    switch (live_msg_parse (text, size, &filter, &why)) {
        case LIVE_MSG_PING:
            s_queue_json (client, json_pack ("{s:s}", "type", "pong"));
            break;
        case LIVE_MSG_FILTER:
            client->filter = filter;
            break;
        case LIVE_MSG_BAD:
            s_queue_json (client, json_pack ("{s:s, s:s}", "type", "error", "message",
                                             why ? why : "bad message"));
            break;
    }
}

int
live_client_receive (live_client_t *client, const void *data, size_t size)
{
    struct lws *wsi = client->wsi;
    if (client->in_size + size > LIVE_MSG_IN_MAX || lws_frame_is_binary (wsi)) {
        static const char reason [] = "messages are JSON text of at most 4096 bytes";
        lws_close_reason (wsi, lws_frame_is_binary (wsi) ? LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE
                                                         : LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                          (unsigned char *) reason, sizeof reason - 1);
        return -1;
    }
    char *grown = realloc (client->in, client->in_size + size + 1);
    if (!grown)
        return -1;
    client->in = grown;
    if (size)
        memcpy (client->in + client->in_size, data, size);
    client->in_size += size;
    if (!lws_is_final_fragment (wsi) || lws_remaining_packet_payload (wsi) > 0)
        return 0;
    if (client->state == CLIENT_OPEN)
        s_on_message (client, client->in, client->in_size);
    free (client->in);
    client->in = NULL;
    client->in_size = 0;
    return 0;
}

int
live_client_writeable (live_client_t *client)
{
    struct lws *wsi = client->wsi;
    if (client->state == CLIENT_CLOSING) {
        static const char unauthorized [] = "unauthorized";
        static const char unavailable [] = "the credentials service is not available";
        bool auth = client->close_code == LIVE_CLOSE_UNAUTHORIZED;
        lws_close_reason (wsi, (enum lws_close_status) client->close_code,
                          (unsigned char *) (auth ? unauthorized : unavailable),
                          auth ? sizeof unauthorized - 1 : sizeof unavailable - 1);
        return -1;
    }
    if (client->state != CLIENT_OPEN)
        return 0;
    if (client->dropped) {
        char text [64];
        int size = snprintf (text, sizeof text, "{\"type\":\"dropped\",\"count\":%" PRIu64 "}",
                             client->dropped);
        unsigned char buffer [LWS_PRE + sizeof text];
        memcpy (buffer + LWS_PRE, text, (size_t) size);
        if (lws_write (wsi, buffer + LWS_PRE, (size_t) size, LWS_WRITE_TEXT) < size)
            return -1;
        client->dropped = 0;
    }
    else
    if (client->head) {
        message_t *message = client->head;
        if (lws_write (wsi, message->data + LWS_PRE, message->size, LWS_WRITE_TEXT)
            < (int) message->size) {
            return -1;
        }
        client->head = message->next;
        if (!client->head)
            client->tail = NULL;
        client->queued--;
        client->queued_bytes -= message->size;
        free (message);
    }
    if (client->head || client->dropped)
        lws_callback_on_writable (wsi);
    return 0;
}

//  --- events ----------------------------------------------------------------------

typedef struct {
    live_t     *live;
    const char *text;           //  the log message, or NULL
    size_t      size;
    const char *type, *level, *server_id;
    uint64_t    bridge_dropped; //  the bridge's count now
} s_delivery_t;

static void
s_deliver (live_client_t *client, s_delivery_t *d)
{
    if (client->state != CLIENT_OPEN)
        return;
    if (d->bridge_dropped > client->bridge_seen) {
        client->dropped += d->bridge_dropped - client->bridge_seen;
        client->bridge_seen = d->bridge_dropped;
        lws_callback_on_writable (client->wsi);
    }
    if (!d->text)
        return;
    if (d->type && strncmp (d->type, "auth.", 5) == 0)
        s_check (client);       //  a logout or a revocation, maybe this one's
    if (live_filter_match (&client->filter, d->type, d->level, d->server_id))
        s_queue (client, d->text, d->size);
}

void
live_on_event (live_t *self, const char *topic, const void *body, size_t size)
{
    if (!self->count)
        return;
    s_delivery_t d = { .live = self };
    d.bridge_dropped = self->gateway->bridge
                     ? bus_bridge_events_dropped (self->gateway->bridge) : 0;
    json_t *log = NULL;
    char *text = NULL;
    if (topic && strcmp (topic, "activity") == 0) {
        log = live_msg_log (body, size, &d.type, &d.level, &d.server_id);
        text = log ? json_dumps (log, JSON_COMPACT) : NULL;
        if (!log)
            log_warn ("/ws: an activity event that is not a record (%zu bytes)", size);
    }
    d.text = text;
    d.size = text ? strlen (text) : 0;
    for (live_client_t *client = self->clients; client; client = client->next)
        s_deliver (client, &d);
    free (text);
    json_decref (log);
}

size_t
live_count (live_t *self)
{
    return self ? self->count : 0;
}

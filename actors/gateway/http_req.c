/*  http_req.c — one HTTP request in flight, and writing its answer.

    The answer goes out in three phases, one lws_write per writable
    callback as lws asks: the header block, then the body in chunks of
    HTTP_REQ_CHUNK bytes (the last one marked final). Every response gets
    Content-Length, so keep-alive works; JSON ones also Cache-Control:
    no-store. Every answer carries the security headers (CSP, nosniff,
    Referrer-Policy, X-Frame-Options; HTTP_REQ_CSP). A stream (SSE) writes
    its headers without a length, then whatever has been queued on each
    writable callback, until it is ended. See http_req.h.
*/
#include <string.h>
#include <stdlib.h>
#include <assert.h>

#include "http_req.h"

typedef enum {
    PHASE_PENDING,          //  no answer yet
    PHASE_HEADERS,          //  answer ready, header block not yet written
    PHASE_BODY,             //  headers written, body (part) to write
    PHASE_STREAM,           //  headers written, stream open
    PHASE_DONE,             //  all written
} phase_t;

typedef struct {
    char *name;             //  "allow:"
    char *value;
} header_t;

struct _http_req_t {
    gateway_t            *gateway;      //  shared process state
    struct lws           *wsi;          //  valid while this request exists
    uint64_t              id;           //  key in gateway->requests
    const char           *method;       //  static string, or NULL
    bool                  head_only;    //  HEAD: write no body
    bool                  close_after;  //  close instead of keep-alive
    bool                  body_pending; //  lws still reads a body
    bool                  streaming;    //  answer is a stream
    bool                  stream_ended; //  stream: close when drained
    const http_handler_t *handler;      //  route handler hooks, or NULL
    void                 *state;        //  handler state (owned)
    bool                  timer_armed;  //  lws timer pending on wsi
    phase_t               phase;
    int                   status;       //  HTTP status code
    const char           *content_type; //  static string
    char                 *body;         //  owned copy
    size_t                size;         //  body bytes
    size_t                sent;         //  body bytes written so far
    header_t              extra [HTTP_REQ_EXTRA_MAX];
    size_t                extras;
    bool                  remote;       //  came in on the remote listener
    bool                  has_principal;
    http_principal_t      principal;    //  its verified credential
};

http_req_t *
http_req_new (gateway_t *gateway, struct lws *wsi, uint64_t id,
              const char *method)
{
    http_req_t *self = calloc (1, sizeof *self);
    assert (self);
    self->gateway = gateway;
    self->wsi = wsi;
    self->id = id;
    self->method = method;
    self->head_only = method && strcmp (method, "HEAD") == 0;
    return self;
}

void
http_req_destroy (http_req_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_req_t *self = *self_p;
    if (self->timer_armed)
        lws_set_timer_usecs (self->wsi, LWS_SET_TIMER_USEC_CANCEL);
    if (self->handler && self->handler->free_state && self->state)
        self->handler->free_state (self->state);
    for (size_t i = 0; i < self->extras; i++) {
        free (self->extra [i].name);
        free (self->extra [i].value);
    }
    free (self->body);
    free (self);
    *self_p = NULL;
}

uint64_t    http_req_id (http_req_t *self) { return self->id; }
gateway_t  *http_req_gateway (http_req_t *self) { return self->gateway; }
const char *http_req_method (http_req_t *self) { return self->method; }
struct lws *http_req_wsi (http_req_t *self) { return self->wsi; }
void        http_req_close_after (http_req_t *self) { self->close_after = true; }
void        http_req_expect_body (http_req_t *self) { self->body_pending = true; }

//  Ask for a writable callback, unless the answer must wait for the body.
static void
s_want_write (http_req_t *self)
{
    if (!self->body_pending || self->close_after)
        lws_callback_on_writable (self->wsi);
}
bool        http_req_streaming (http_req_t *self) { return self->streaming && self->phase != PHASE_DONE; }
void      *http_req_state (http_req_t *self) { return self->state; }
bool       http_req_answered (http_req_t *self) { return self->phase != PHASE_PENDING; }

void        http_req_mark_remote (http_req_t *self) { self->remote = true; }
bool        http_req_remote (http_req_t *self) { return self->remote; }

void
http_req_set_principal (http_req_t *self, const http_principal_t *who)
{
    self->remote = true;
    self->principal = *who;
    self->has_principal = true;
}

const http_principal_t *
http_req_principal (http_req_t *self)
{
    return self->has_principal ? &self->principal : NULL;
}

void
http_req_reset_handler (http_req_t *self)
{
    if (self->handler && self->handler->free_state && self->state)
        self->handler->free_state (self->state);
    self->handler = NULL;
    self->state = NULL;
}

void
http_req_set_handler (http_req_t *self, const http_handler_t *handler,
                      void *state)
{
    assert (!self->handler);
    self->handler = handler;
    self->state = state;
}

uint64_t
http_req_submit (http_req_t *self, const char *service, const void *body,
                 size_t size, int timeout_ms)
{
    if (!self->gateway->bridge)
        return 0;
    return bus_bridge_submit (self->gateway->bridge, service, body, size,
                              timeout_ms, self->id);
}

void
http_req_set_timer (http_req_t *self, int timeout_ms)
{
    lws_set_timer_usecs (self->wsi, (lws_usec_t) timeout_ms * LWS_US_PER_MS);
    self->timer_armed = true;
}

void
http_req_add_header (http_req_t *self, const char *name, const char *value)
{
    if (self->extras == HTTP_REQ_EXTRA_MAX || strpbrk (value, "\r\n"))
        return;
    header_t *header = &self->extra [self->extras++];
    header->name = strdup (name);
    header->value = strdup (value);
    assert (header->name && header->value);
}

void
http_req_respond (http_req_t *self, int status, const char *content_type,
                  const char *body, size_t size)
{
    if (self->phase != PHASE_PENDING)
        return;
    if (self->timer_armed) {
        lws_set_timer_usecs (self->wsi, LWS_SET_TIMER_USEC_CANCEL);
        self->timer_armed = false;
    }
    self->status = status;
    self->content_type = content_type;
    self->body = malloc (size ? size : 1);
    assert (self->body);
    if (size)
        memcpy (self->body, body, size);
    self->size = size;
    self->phase = PHASE_HEADERS;
    s_want_write (self);
}

void
http_req_respond_json (http_req_t *self, int status, json_t *json)
{
    char *text = json ? json_dumps (json, JSON_COMPACT) : NULL;
    json_decref (json);
    if (!text) {
        static const char internal [] = "{\"error\":\"internal\"}";
        status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        text = strdup (internal);
        assert (text);
    }
    http_req_add_header (self, "cache-control:", "no-store");
    http_req_respond (self, status, "application/json", text, strlen (text));
    free (text);
}

void
http_req_respond_error (http_req_t *self, int status, const char *code)
{
    http_req_respond_json (self, status, json_pack ("{s:s}", "error", code));
}

void
http_req_stream_begin (http_req_t *self, int status, const char *content_type)
{
    if (self->phase != PHASE_PENDING)
        return;
    if (self->timer_armed) {
        lws_set_timer_usecs (self->wsi, LWS_SET_TIMER_USEC_CANCEL);
        self->timer_armed = false;
    }
    self->status = status;
    self->content_type = content_type;
    self->size = 0;
    self->phase = PHASE_HEADERS;
    self->body = NULL;
    self->stream_ended = false;
    self->streaming = true;
    //  lws's HTTP timeout (timeout_secs) would end the stream 10 s after
    //  the request: a stream lasts until it is ended or the client leaves
    lws_set_timeout (self->wsi, NO_PENDING_TIMEOUT, 0);
    s_want_write (self);
}

static int
s_stream_queue (http_req_t *self, const char *data, size_t size, bool last)
{
    if (!self->streaming || self->stream_ended
    ||  self->phase == PHASE_DONE)
        return -1;
    size_t waiting = self->size - self->sent;
    if (!last && waiting + size > HTTP_REQ_STREAM_MAX)
        return -1;
    if (self->sent && self->sent == self->size) {
        self->sent = self->size = 0;        //  drained: start over
    }
    char *body = realloc (self->body, self->size + size + 1);
    assert (body);
    memcpy (body + self->size, data, size);
    self->body = body;
    self->size += size;
    if (self->phase == PHASE_STREAM)
        lws_callback_on_writable (self->wsi);
    return 0;
}

int
http_req_stream_write (http_req_t *self, const char *data, size_t size)
{
    return s_stream_queue (self, data, size, false);
}

int
http_req_stream_write_last (http_req_t *self, const char *data, size_t size)
{
    int rc = s_stream_queue (self, data, size, true);
    http_req_stream_end (self);
    return rc;
}

void
http_req_stream_end (http_req_t *self)
{
    if (!self->streaming || self->stream_ended)
        return;
    self->stream_ended = true;
    lws_callback_on_writable (self->wsi);
}

void
http_req_deliver_body (http_req_t *self, const void *data, size_t size)
{
    if (self->phase == PHASE_PENDING && self->handler && self->handler->on_body)
        self->handler->on_body (self, data, size);
}

void
http_req_deliver_body_end (http_req_t *self)
{
    bool held = self->body_pending && self->phase != PHASE_PENDING;
    self->body_pending = false;
    if (held)
        lws_callback_on_writable (self->wsi);       //  the answer waited
    else
    if (self->phase == PHASE_PENDING && self->handler
    &&  self->handler->on_body_end)
        self->handler->on_body_end (self);
}

void
http_req_deliver_reply (http_req_t *self, uint64_t ticket, const void *body,
                        size_t size)
{
    if ((self->phase == PHASE_PENDING || self->streaming)
    &&  self->handler && self->handler->on_reply)
        self->handler->on_reply (self, ticket, body, size);
}

void
http_req_deliver_notice (http_req_t *self, uint64_t ticket, const void *body,
                         size_t size)
{
    if ((self->phase == PHASE_PENDING || self->streaming)
    &&  self->handler && self->handler->on_notice)
        self->handler->on_notice (self, ticket, body, size);
}

void
http_req_deliver_timer (http_req_t *self)
{
    self->timer_armed = false;
    if ((self->phase == PHASE_PENDING || self->streaming)
    &&  self->handler && self->handler->on_timer)
        self->handler->on_timer (self);
}

//  On every answer the gateway writes (pages, files, API, errors): the
//  dashboard's strict policy (no inline script or style, nothing from
//  elsewhere, never framed), no type sniffing, no Referer leaving.
static const char *s_security_headers [][2] = {
    { "content-security-policy:", HTTP_REQ_CSP },
    { "x-content-type-options:",  "nosniff" },
    { "referrer-policy:",         "no-referrer" },
    { "x-frame-options:",         "DENY" },
    { NULL, NULL }
};

//  Write the status line and headers.
static http_req_write_t
s_write_headers (http_req_t *self)
{
    unsigned char buffer [LWS_PRE + HTTP_REQ_HEADERS_MAX];
    unsigned char *start = buffer + LWS_PRE, *p = start;
    unsigned char *end = buffer + sizeof buffer - 1;

    if (lws_add_http_common_headers (self->wsi, (unsigned) self->status,
                                     self->content_type,
                                     self->streaming ? LWS_ILLEGAL_HTTP_CONTENT_LEN
                                                     : self->size, &p, end))
        return HTTP_REQ_FAILED;
    //  a page with its own policy (the OAuth consent page: its CSP and
    //  referrer policy) replaces ours
    for (size_t i = 0; s_security_headers [i][0]; i++) {
        bool own = false;
        for (size_t j = 0; j < self->extras; j++)
            if (strcmp (self->extra [j].name, s_security_headers [i][0]) == 0)
                own = true;
        if (!own
        &&  lws_add_http_header_by_name (self->wsi,
                (const unsigned char *) s_security_headers [i][0],
                (const unsigned char *) s_security_headers [i][1],
                (int) strlen (s_security_headers [i][1]), &p, end))
            return HTTP_REQ_FAILED;
    }
    for (size_t i = 0; i < self->extras; i++) {
        header_t *header = &self->extra [i];
        if (lws_add_http_header_by_name (self->wsi,
                (const unsigned char *) header->name,
                (const unsigned char *) header->value,
                (int) strlen (header->value), &p, end))
            return HTTP_REQ_FAILED;
    }
    if (lws_finalize_write_http_header (self->wsi, start, &p, end))
        return HTTP_REQ_FAILED;

    if (self->streaming) {
        self->phase = PHASE_STREAM;
        lws_callback_on_writable (self->wsi);
        return HTTP_REQ_WAIT;
    }
    if (self->head_only || self->size == 0) {
        self->phase = PHASE_DONE;
        return self->close_after ? HTTP_REQ_CLOSE : HTTP_REQ_DONE;
    }
    self->phase = PHASE_BODY;
    lws_callback_on_writable (self->wsi);
    return HTTP_REQ_WAIT;
}

//  Write the next chunk of the body.
static http_req_write_t
s_write_body (http_req_t *self)
{
    unsigned char buffer [LWS_PRE + HTTP_REQ_CHUNK];
    size_t chunk = self->size - self->sent;
    if (chunk > HTTP_REQ_CHUNK)
        chunk = HTTP_REQ_CHUNK;
    bool last = self->sent + chunk == self->size;
    memcpy (buffer + LWS_PRE, self->body + self->sent, chunk);
    if (lws_write (self->wsi, buffer + LWS_PRE, chunk,
                   last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
        return HTTP_REQ_FAILED;
    self->sent += chunk;
    if (last) {
        self->phase = PHASE_DONE;
        return self->close_after ? HTTP_REQ_CLOSE : HTTP_REQ_DONE;
    }
    lws_callback_on_writable (self->wsi);
    return HTTP_REQ_WAIT;
}

//  Write the next part of what a stream has queued; close when ended and
//  drained.
static http_req_write_t
s_write_stream (http_req_t *self)
{
    if (self->sent == self->size) {
        if (self->stream_ended) {
            self->phase = PHASE_DONE;
            return HTTP_REQ_CLOSE;
        }
        return HTTP_REQ_WAIT;
    }
    unsigned char buffer [LWS_PRE + HTTP_REQ_CHUNK];
    size_t chunk = self->size - self->sent;
    if (chunk > HTTP_REQ_CHUNK)
        chunk = HTTP_REQ_CHUNK;
    memcpy (buffer + LWS_PRE, self->body + self->sent, chunk);
    if (lws_write (self->wsi, buffer + LWS_PRE, chunk, LWS_WRITE_HTTP) < 0)
        return HTTP_REQ_FAILED;
    self->sent += chunk;
    if (self->sent < self->size || self->stream_ended)
        lws_callback_on_writable (self->wsi);
    return HTTP_REQ_WAIT;
}

http_req_write_t
http_req_write (http_req_t *self)
{
    switch (self->phase) {
        case PHASE_PENDING: return HTTP_REQ_WAIT;
        case PHASE_HEADERS: return s_write_headers (self);
        case PHASE_BODY:    return s_write_body (self);
        case PHASE_STREAM:  return s_write_stream (self);
        case PHASE_DONE:    return self->close_after ? HTTP_REQ_CLOSE
                                                     : HTTP_REQ_DONE;
    }
    return HTTP_REQ_FAILED;
}

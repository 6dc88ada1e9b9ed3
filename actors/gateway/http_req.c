/*  http_req.c — one HTTP request in flight, and writing its answer.

    The answer goes out in three phases, one lws_write per writable
    callback as lws asks: the header block, then the body in chunks of
    HTTP_REQ_CHUNK bytes (the last one marked final). Every response gets
    Content-Length, so keep-alive works; JSON ones also Cache-Control:
    no-store and X-Content-Type-Options: nosniff. See http_req.h.
*/
#include <string.h>
#include <stdlib.h>
#include <assert.h>

#include "http_req.h"

typedef enum {
    PHASE_PENDING,          //  no answer yet
    PHASE_HEADERS,          //  answer ready, header block not yet written
    PHASE_BODY,             //  headers written, body (part) to write
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
    bool                  head_only;    //  HEAD: write no body
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
};

http_req_t *
http_req_new (gateway_t *gateway, struct lws *wsi, uint64_t id, bool head_only)
{
    http_req_t *self = calloc (1, sizeof *self);
    assert (self);
    self->gateway = gateway;
    self->wsi = wsi;
    self->id = id;
    self->head_only = head_only;
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

uint64_t   http_req_id (http_req_t *self) { return self->id; }
gateway_t *http_req_gateway (http_req_t *self) { return self->gateway; }
void      *http_req_state (http_req_t *self) { return self->state; }
bool       http_req_answered (http_req_t *self) { return self->phase != PHASE_PENDING; }

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
    lws_callback_on_writable (self->wsi);
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
    http_req_add_header (self, "x-content-type-options:", "nosniff");
    http_req_respond (self, status, "application/json", text, strlen (text));
    free (text);
}

void
http_req_respond_error (http_req_t *self, int status, const char *code)
{
    http_req_respond_json (self, status, json_pack ("{s:s}", "error", code));
}

void
http_req_deliver_reply (http_req_t *self, uint64_t ticket, const void *body,
                        size_t size)
{
    if (self->phase == PHASE_PENDING && self->handler && self->handler->on_reply)
        self->handler->on_reply (self, ticket, body, size);
}

void
http_req_deliver_timer (http_req_t *self)
{
    self->timer_armed = false;
    if (self->phase == PHASE_PENDING && self->handler && self->handler->on_timer)
        self->handler->on_timer (self);
}

//  Write the status line and headers.
static http_req_write_t
s_write_headers (http_req_t *self)
{
    unsigned char buffer [LWS_PRE + HTTP_REQ_HEADERS_MAX];
    unsigned char *start = buffer + LWS_PRE, *p = start;
    unsigned char *end = buffer + sizeof buffer - 1;

    if (lws_add_http_common_headers (self->wsi, (unsigned) self->status,
                                     self->content_type, self->size, &p, end))
        return HTTP_REQ_FAILED;
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

    if (self->head_only || self->size == 0) {
        self->phase = PHASE_DONE;
        return HTTP_REQ_DONE;
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
        return HTTP_REQ_DONE;
    }
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
        case PHASE_DONE:    return HTTP_REQ_DONE;
    }
    return HTTP_REQ_FAILED;
}

/*  http_req.h — one HTTP request in flight, and how it is answered.

    The server (http_server.c) makes an http_req_t for every request it
    routes and keeps it in gateway->requests under its id until the answer
    is written or the connection goes away, whichever is first. A route
    handler attaches its state and callbacks, may send bus requests (their
    replies come back to it through on_reply, keyed by ticket), may arm a
    timer, and finally answers once with http_req_respond*. The request
    then writes itself: headers, then the body in chunks, on lws
    writable callbacks.

    Two other shapes of answer exist beside the one-shot one:
      - a body that arrives after the headers (POST): the handler's
        on_body receives it in pieces as lws reads it, on_body_end when
        lws has read all Content-Length bytes (a handler that frames the
        body itself, such as a chunked decoder, ignores on_body_end);
      - a stream (SSE): http_req_stream_begin writes the headers without a
        length (lws adds Connection: close), http_req_stream_write queues
        more body whenever there is some, http_req_stream_end closes it;
        lws's HTTP timeout does not apply to a stream.
    A request marked with http_req_close_after closes its connection once
    the answer is written instead of returning to keep-alive: for answers
    given before a body of unknown or excessive length was read.

    The wsi inside is valid exactly as long as the request exists: the
    server destroys the request when lws unbinds or closes the connection,
    so a late bus reply finds no request and is dropped — it never touches
    a dangling wsi. Everything here runs on the lws thread.
*/
#ifndef MCPBOX_GATEWAY_HTTP_REQ_H
#define MCPBOX_GATEWAY_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "gateway.h"

//  Bounds of what we write.
#define HTTP_REQ_HEADERS_MAX   8192     //  response header block, bytes (an
                                        //  OAuth redirect's Location is long)
#define HTTP_REQ_EXTRA_MAX     12       //  extra headers per response
#define HTTP_REQ_CHUNK         4096     //  body bytes per lws_write
#define HTTP_REQ_STREAM_MAX    (1u << 20) //  queued stream bytes, at most

//  The Content-Security-Policy of every answer (the dashboard's: no inline
//  script or style, nothing from another origin, never framed).
#define HTTP_REQ_CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " \
    "base-uri 'none'; form-action 'self'"

typedef struct _http_req_t http_req_t;

//  Who a request on the remote listener is (remote_listener.c fills it
//  from credentials' remote.verify). Local requests have none.
typedef struct {
    char kind [24];         //  "service_token", "oauth"
    char name [129];        //  the token's or OAuth client's name
    char id [65];           //  its id, as text
} http_principal_t;

//  A route handler's hooks; any may be NULL.
typedef struct {
    //  A bus reply to a ticket this request submitted (raw msgpack body).
    void (*on_reply)  (http_req_t *req, uint64_t ticket,
                       const void *body, size_t size);
    //  A notice about a ticket this request submitted, before its reply
    //  (raw msgpack body; bus_bridge.h).
    void (*on_notice) (http_req_t *req, uint64_t ticket,
                       const void *body, size_t size);
    //  The timer armed with http_req_set_timer went off.
    void (*on_timer)  (http_req_t *req);
    //  The request is over (answered, or the client left): free state.
    void (*free_state)(void *state);
    //  A piece of the request body (never called once answered).
    void (*on_body)   (http_req_t *req, const void *data, size_t size);
    //  lws read the whole body (Content-Length framing).
    void (*on_body_end)(http_req_t *req);
} http_handler_t;

//  Result of writing on a writable callback.
typedef enum {
    HTTP_REQ_WAIT,          //  nothing to write yet, or more to come
    HTTP_REQ_DONE,          //  the whole answer is written
    HTTP_REQ_FAILED,        //  lws refused a write: close the connection
    HTTP_REQ_CLOSE,         //  all written (or a stream ended): close
} http_req_write_t;

//  method is a static string ("GET") or NULL when lws saw none we know.
http_req_t *http_req_new (gateway_t *gateway, struct lws *wsi, uint64_t id,
                          const char *method);
//  Frees the handler state, cancels the timer. Does not touch the map.
void        http_req_destroy (http_req_t **self_p);

uint64_t    http_req_id (http_req_t *self);
gateway_t  *http_req_gateway (http_req_t *self);
const char *http_req_method (http_req_t *self);
struct lws *http_req_wsi (http_req_t *self);

//  The remote listener: every request that came in on it is remote
//  (whatever its peer address: a tunnel connects from loopback), and has
//  a principal once its credential was verified.
void        http_req_mark_remote (http_req_t *self);
bool        http_req_remote (http_req_t *self);
void        http_req_set_principal (http_req_t *self, const http_principal_t *who);
//  NULL for a local request, or a remote one not (yet) verified.
const http_principal_t *http_req_principal (http_req_t *self);

//  Detach the handler, freeing its state (a route that hands the request
//  on to another route's handler).
void        http_req_reset_handler (http_req_t *self);
//  Attach a handler and its state (owned by the request from now on).
void        http_req_set_handler (http_req_t *self,
                                  const http_handler_t *handler, void *state);
void       *http_req_state (http_req_t *self);

//  Send a bus request on behalf of this request: the reply comes to
//  on_reply with the returned ticket. 0 if the bridge refused it.
uint64_t    http_req_submit (http_req_t *self, const char *service,
                             const void *body, size_t size, int timeout_ms);
//  Arm (or re-arm) the one timer of this request.
void        http_req_set_timer (http_req_t *self, int timeout_ms);

//  Add a response header before responding: name with its colon
//  ("allow:"), a value without CR or LF. Quietly ignores excess. A
//  "content-security-policy:" added here replaces HTTP_REQ_CSP.
void        http_req_add_header (http_req_t *self, const char *name,
                                 const char *value);
//  Answer (once; later calls are ignored). The body is copied.
void        http_req_respond (http_req_t *self, int status,
                              const char *content_type,
                              const char *body, size_t size);
//  Answer with JSON (takes the reference) and Cache-Control: no-store.
void        http_req_respond_json (http_req_t *self, int status, json_t *json);
//  Answer {"error": code}.
void        http_req_respond_error (http_req_t *self, int status,
                                    const char *code);
bool        http_req_answered (http_req_t *self);
//  Close the connection after the answer instead of keeping it alive.
void        http_req_close_after (http_req_t *self);
//  Server side: lws will read a Content-Length body for this request.
//  An answer given before lws has read it all is held back until it has
//  (unless the connection is to close): lws 4.1.6 can spin when a kept-
//  alive connection answered early must skip the rest of a body and a
//  POST with a body follows.
void        http_req_expect_body (http_req_t *self);

//  Streams: begin (status, content type, the extra headers added so far;
//  no Content-Length), queue body bytes, end (close the connection once
//  what is queued is written). write returns -1 when more than
//  HTTP_REQ_STREAM_MAX bytes would be waiting (a client that does not
//  read), or when the stream is not open.
void        http_req_stream_begin (http_req_t *self, int status,
                                   const char *content_type);
int         http_req_stream_write (http_req_t *self, const char *data,
                                   size_t size);
void        http_req_stream_end (http_req_t *self);
//  The stream's last piece (a streamed POST's JSON-RPC response): queued
//  whatever is waiting already (its size has its own bound upstream),
//  then the stream ends. -1 only when the stream is not open.
int         http_req_stream_write_last (http_req_t *self, const char *data,
                                        size_t size);
bool        http_req_streaming (http_req_t *self);

//  Server side: deliver a bus reply / a timer to the handler.
void        http_req_deliver_reply (http_req_t *self, uint64_t ticket,
                                    const void *body, size_t size);
void        http_req_deliver_timer (http_req_t *self);
//  Server side: deliver a notice to the handler (while unanswered).
void        http_req_deliver_notice (http_req_t *self, uint64_t ticket,
                                     const void *body, size_t size);
//  Server side: a piece of body / the body's end (lws framing).
void        http_req_deliver_body (http_req_t *self, const void *data,
                                   size_t size);
void        http_req_deliver_body_end (http_req_t *self);
//  Server side: write what is due on a writable callback.
http_req_write_t http_req_write (http_req_t *self);

#endif

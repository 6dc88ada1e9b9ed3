/*  http_req.h — one HTTP request in flight, and how it is answered.

    The server (http_server.c) makes an http_req_t for every request it
    routes and keeps it in gateway->requests under its id until the answer
    is written or the connection goes away, whichever is first. A route
    handler attaches its state and callbacks, may send bus requests (their
    replies come back to it through on_reply, keyed by ticket), may arm a
    timer, and finally answers once with http_req_respond*. The request
    then writes itself: headers, then the body in chunks, on lws
    writable callbacks.

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
#define HTTP_REQ_HEADERS_MAX   1024     //  response header block, bytes
#define HTTP_REQ_EXTRA_MAX     4        //  extra headers per response
#define HTTP_REQ_CHUNK         4096     //  body bytes per lws_write

typedef struct _http_req_t http_req_t;

//  A route handler's hooks; any may be NULL.
typedef struct {
    //  A bus reply to a ticket this request submitted (raw msgpack body).
    void (*on_reply)  (http_req_t *req, uint64_t ticket,
                       const void *body, size_t size);
    //  The timer armed with http_req_set_timer went off.
    void (*on_timer)  (http_req_t *req);
    //  The request is over (answered, or the client left): free state.
    void (*free_state)(void *state);
} http_handler_t;

//  Result of writing on a writable callback.
typedef enum {
    HTTP_REQ_WAIT,          //  nothing to write yet, or more to come
    HTTP_REQ_DONE,          //  the whole answer is written
    HTTP_REQ_FAILED,        //  lws refused a write: close the connection
} http_req_write_t;

http_req_t *http_req_new (gateway_t *gateway, struct lws *wsi, uint64_t id,
                          bool head_only);
//  Frees the handler state, cancels the timer. Does not touch the map.
void        http_req_destroy (http_req_t **self_p);

uint64_t    http_req_id (http_req_t *self);
gateway_t  *http_req_gateway (http_req_t *self);

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
//  ("allow:"), a value without CR or LF. Quietly ignores excess.
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

//  Server side: deliver a bus reply / a timer to the handler.
void        http_req_deliver_reply (http_req_t *self, uint64_t ticket,
                                    const void *body, size_t size);
void        http_req_deliver_timer (http_req_t *self);
//  Server side: write what is due on a writable callback.
http_req_write_t http_req_write (http_req_t *self);

#endif

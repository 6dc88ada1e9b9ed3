/*  http_fetch.h — one HTTP request on behalf of sandboxed tool code.

    The executor parent calls http_fetch() when a tool's `http` object asks
    for a request over its pipe. Everything about the request is untrusted;
    the rules (allowed hosts, policy) come from the job. The request only
    leaves this machine if

      - the URL is http:// or https://, has a host and no userinfo,
      - the method is GET POST PUT PATCH DELETE HEAD or OPTIONS,
      - the headers are well-formed, bounded, and do not override framing
        (Host, Content-Length, Transfer-Encoding, Connection, ...),
      - the host passes ssrf_host_allowed() and EVERY address it resolves
        to passes ssrf_resolve() — private ranges (RFC 1918, 100.64/10,
        fc00::/7) only when the host is an explicit entry of the allowed
        hosts (ssrf_host_listed()), loopback, link-local/metadata and the
        other internal ranges never,

    and the connection is pinned to the checked address. Redirects are not
    followed by libcurl: each hop (at most HTTP_FETCH_MAX_REDIRECTS) is
    parsed and checked again from the start, as if the tool had asked for
    it: a hop reaches a private address only if its own host is listed.

    Thread-safe: several threads may call http_fetch() at once; each call
    uses its own curl handle. libcurl is initialised once, on first use.

    Not here: the pipe protocol to the sandbox, secrets, logging.
*/
#ifndef MCPBOX_HTTP_FETCH_H
#define MCPBOX_HTTP_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "ssrf.h"

#define HTTP_FETCH_URL_MAX          8192                //  bytes of a URL
#define HTTP_FETCH_HEADERS_MAX      64                  //  request headers
#define HTTP_FETCH_HEADER_MAX       8192                //  bytes of name + value
#define HTTP_FETCH_REQ_BODY_MAX     (10u * 1024 * 1024) //  request body bytes
#define HTTP_FETCH_BODY_MAX         (10u * 1024 * 1024) //  response body bytes (decoded)
#define HTTP_FETCH_RESP_HEADERS_MAX (64u * 1024)        //  response header bytes
#define HTTP_FETCH_MAX_REDIRECTS    5                   //  redirects followed
#define HTTP_FETCH_TIMEOUT_DEFAULT  30000               //  ms, when timeout_ms <= 0
#define HTTP_FETCH_TIMEOUT_MAX      300000              //  ms, larger values are clamped
#define HTTP_FETCH_CONNECT_TIMEOUT  10000               //  ms per connection

//  A streaming reader of a response body (see on_body below): called with
//  each piece of the last hop's body as it arrives, with that response's
//  status and headers (lower-case names). Returns HTTP_BODY_MORE to go on,
//  HTTP_BODY_DONE to end the transfer early as a success (the reader has
//  what it wanted: an SSE stream that answered), HTTP_BODY_REFUSE to end it
//  as a failure (the reader keeps its own reason).
typedef enum { HTTP_BODY_MORE = 0, HTTP_BODY_DONE = 1, HTTP_BODY_REFUSE = -1 } http_body_t;
typedef http_body_t (http_body_fn) (void *arg, int status, const json_t *headers,
                                    const char *data, size_t len);

typedef struct {
    const char         *method;         //  NULL = GET; case-insensitive
    const char         *url;            //  absolute http(s) URL
    const char *const  *header_names;   //  header_count names
    const char *const  *header_values;  //  header_count values
    size_t              header_count;   //  number of request headers
    const void         *body;           //  request body, may be NULL
    size_t              body_len;       //  bytes of body
    int                 timeout_ms;     //  whole request incl. redirects
    //  Optional: the body goes to on_body instead of out->body (which is
    //  then ""), so a stream is read as it comes. A redirect's body never
    //  reaches it. body_max bounds the body either way (0: HTTP_FETCH_BODY_MAX,
    //  larger values are clamped to it); past it the request fails.
    http_body_fn       *on_body;
    void               *on_body_arg;
    size_t              body_max;
    //  Optional: when it becomes true the transfer ends (within about a
    //  second, even while the server sends nothing) with "cancelled".
    const atomic_bool  *cancel;
    //  Optional: redirects are not followed; a 3xx comes back as the
    //  response (for a request whose body holds a secret meant for that
    //  one endpoint: an OAuth token or registration request).
    bool                no_redirects;
} http_request_t;

typedef struct {
    int         status;                 //  HTTP status of the last hop
    json_t     *headers;                //  object: lower-case name -> string
    char       *body;                   //  body bytes, NUL-terminated
    size_t      body_len;               //  bytes of body (without the NUL)
    char       *final_url;              //  URL of the last hop
    char        error [512];            //  why the request failed
    bool        reader_refused;         //  on_body answered HTTP_BODY_REFUSE
} http_response_t;

//  Performs the request. Returns 0 when an HTTP response (any status)
//  came back, with *out filled in; -1 with out->error otherwise. *out is
//  overwritten without being freed first (pass a zeroed or cleared one),
//  and must be released with http_response_clear() either way.
int
    http_fetch (const net_rules_t *rules, const http_request_t *req,
                http_response_t *out);

//  Runs every check http_fetch() runs on the first hop of url — scheme,
//  userinfo, allowed hosts, resolution, every address, the private-range
//  exemption for a listed host — without connecting or sending anything.
//  0 with the numeric address that would be connected to in address;
//  -1 with the refusal in error (the same text http_fetch() would give).
//  Either buffer may be NULL with length 0.
int
    http_fetch_check (const net_rules_t *rules, const char *url,
                      char *address, size_t addrlen, char *error, size_t errlen);

//  Frees what *resp holds and zeroes it. Safe on a zeroed struct.
void
    http_response_clear (http_response_t *resp);

#endif

/*  mcp_endpoint.c — the HTTP rules of /mcp (MCP Streamable HTTP).

    Every request, in this order:
      Host not allowed                          403
      Origin present and not allowed            403
    then by method:
      OPTIONS   CORS preflight                  204 (with an allowed Origin)
      POST      Accept lacks application/json or text/event-stream  406
                Content-Type not application/json                   415
                Content-Length and Transfer-Encoding both, a coding
                other than chunked, a bad Content-Length            400
                neither (no body)                                   411
                Content-Length over 1 MiB, or chunked data over it  413
                then the body goes to mcp_rpc (its rules: 400 for a
                parse error, a batch, a bad message, a missing session
                or an unsupported MCP-Protocol-Version; 404 for an
                unknown session; 202 for notifications; 200 otherwise)
      GET       Accept lacks text/event-stream                      406
                no Mcp-Session-Id 400, unknown 404, bad version 400
                a stream already open for the session               409
                else 200 text/event-stream (mcp_sse.c)
      DELETE    no Mcp-Session-Id 400, unknown 404, bad version 400
                else the session ends                               200
      others    405, Allow: GET, POST, DELETE, OPTIONS

    Every JSON refusal carries a JSON-RPC error with id null. A POST that
    has a body of unknown or refused length (chunked, none, too large) is
    answered and its connection closed: lws cannot skip such a body, and
    must not read it as the next request.

    Also here: mcp_t's life, and what the server's wake-up hands over
    (catalog fetch replies, events).
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mcp_call.h"
#include "mcp_post.h"
#include "mcp_rpc.h"
#include "mcp_tools.h"
#include "mcp.h"

#define HEADER_MAX   1024
#define MCP_SKIP_MAX (16u << 20)    //  refused bodies read and dropped, at most

//  --- headers --------------------------------------------------------------

//  Copy a known header into buf. 1 if present (and fits), 0 if absent,
//  -1 if present but too long.
static int
s_header (struct lws *wsi, enum lws_token_indexes token, char *buf, size_t size)
{
    int len = lws_hdr_total_length (wsi, token);
    if (len <= 0) {
        *buf = 0;
        return 0;
    }
    if ((size_t) len >= size || lws_hdr_copy (wsi, buf, (int) size, token) < 0) {
        *buf = 0;
        return -1;
    }
    return 1;
}

//  A custom header by lower-case name with its colon ("mcp-session-id:"),
//  surrounding whitespace trimmed. Same results as s_header.
static int
s_custom_header (struct lws *wsi, const char *name, char *buf, size_t size)
{
    int nlen = (int) strlen (name);
    int len = lws_hdr_custom_length (wsi, name, nlen);
    if (len < 0) {
        *buf = 0;
        return 0;
    }
    if ((size_t) len >= size || lws_hdr_custom_copy (wsi, buf, (int) size, name, nlen) < 0) {
        *buf = 0;
        return -1;
    }
    size_t end = strlen (buf);
    while (end && (buf [end - 1] == ' ' || buf [end - 1] == '\t'))
        buf [--end] = 0;
    size_t start = 0;
    while (buf [start] == ' ' || buf [start] == '\t')
        start++;
    memmove (buf, buf + start, end - start + 1);
    return 1;
}

mcp_allow_t *
mcp_allow_for (http_req_t *req)
{
    mcp_t *mcp = http_req_gateway (req)->mcp;
    return http_req_remote (req) ? mcp->remote_allow : mcp->allow;
}

void
mcp_session_owner (http_req_t *req, char *out, size_t size)
{
    const http_principal_t *who = http_req_principal (req);
    if (who)
        snprintf (out, size, "remote:%s:%s", who->kind, who->id);
    else
    if (http_req_remote (req))
        snprintf (out, size, "remote:?");      //  never reached: /mcp needs a principal
    else
        *out = 0;
}

void
mcp_add_common_headers (http_req_t *req)
{
    char origin [HEADER_MAX];
    struct lws *wsi = http_req_wsi (req);
    if (s_header (wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin) == 1
    &&  mcp_allow_origin (mcp_allow_for (req), origin)) {
        http_req_add_header (req, "access-control-allow-origin:", origin);
        http_req_add_header (req, "vary:", "Origin");
        http_req_add_header (req, "access-control-expose-headers:",
                             "Mcp-Session-Id, Mcp-Protocol-Version");
    }
}

//  Both headers present and well-formed, or a refusal was sent.
static bool
s_host_and_origin_ok (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    mcp_allow_t *allow = mcp_allow_for (req);
    char value [HEADER_MAX];
    if (s_header (wsi, WSI_TOKEN_HOST, value, sizeof value) != 1
    ||  !mcp_allow_host (allow, value)) {
        mcp_http_error (req, HTTP_STATUS_FORBIDDEN, MCP_SERVER_ERROR,
                        "Forbidden: Host header not allowed");
        return false;
    }
    int origin = s_header (wsi, WSI_TOKEN_ORIGIN, value, sizeof value);
    if (origin < 0 || (origin == 1 && !mcp_allow_origin (allow, value))) {
        mcp_http_error (req, HTTP_STATUS_FORBIDDEN, MCP_SERVER_ERROR,
                        "Forbidden: Origin not allowed");
        return false;
    }
    return true;
}

static bool
s_accepts (http_req_t *req, const char *type)
{
    char accept [HEADER_MAX];
    return s_header (http_req_wsi (req), WSI_TOKEN_HTTP_ACCEPT, accept,
                     sizeof accept) == 1
        && mcp_accept_lists (accept, type);
}

//  Read Mcp-Session-Id and MCP-Protocol-Version into the call, and the
//  2026 era's Mcp-Method and Mcp-Name (one too long for its buffer counts
//  as present with an empty value: it then matches nothing).
static void
s_read_session_headers (struct lws *wsi, mcp_call_t *call)
{
    call->session_header = s_custom_header (wsi, "mcp-session-id:",
                           call->session_id, sizeof call->session_id) != 0;
    call->protocol_header = s_custom_header (wsi, "mcp-protocol-version:",
                            call->protocol, sizeof call->protocol) != 0;
    call->has_method_header = s_custom_header (wsi, "mcp-method:",
                              call->method_header, sizeof call->method_header) != 0;
    call->has_name_header = s_custom_header (wsi, "mcp-name:",
                            call->name_header, sizeof call->name_header) != 0;
}

//  The session rules every non-initialize request follows. The session,
//  or NULL when a refusal was sent.
mcp_session_t *
mcp_endpoint_session (http_req_t *req, mcp_t *mcp, const char *session_id,
                      bool session_header, const char *protocol,
                      bool protocol_header)
{
    if (!session_header || !*session_id) {
        mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, MCP_SERVER_ERROR,
                        "Bad Request: Mcp-Session-Id header is required");
        return NULL;
    }
    if (protocol_header && !mcp_protocol_supported (protocol)) {
        mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, MCP_SERVER_ERROR,
                        "Bad Request: Unsupported protocol version (supported "
                        "versions: 2025-11-25, 2025-06-18, 2025-03-26)");
        return NULL;
    }
    int64_t now = gateway_now_ms ();
    mcp_session_t *session = mcp_sessions_lookup (mcp->sessions, session_id, now);
    //  a session is its opener's: another credential (or the other port)
    //  cannot continue it, and learns nothing about it
    char owner [sizeof session->owner];
    mcp_session_owner (req, owner, sizeof owner);
    if (session && strcmp (session->owner, owner) != 0)
        session = NULL;
    if (!session) {
        mcp_http_error (req, HTTP_STATUS_NOT_FOUND, MCP_SESSION_NOT_FOUND,
                        "Session not found");
        return NULL;
    }
    return session;
}

//  --- POST ---------------------------------------------------------------------

static void
s_append (void *arg, const uint8_t *data, size_t size)
{
    mcp_call_t *call = arg;
    if (call->size + size + 1 > call->cap) {
        size_t cap = call->cap ? call->cap : 4096;
        while (cap < call->size + size + 1)
            cap *= 2;
        char *grown = realloc (call->body, cap);
        assert (grown);
        call->body = grown;
        call->cap = cap;
    }
    memcpy (call->body + call->size, data, size);
    call->size += size;
    call->body [call->size] = 0;
}

static void
s_dispatch (mcp_call_t *call)
{
    if (call->dispatched)
        return;
    call->dispatched = true;
    mcp_call_set_backstop (call, MCP_BACKSTOP_MS);
    mcp_rpc_dispatch (call);
}

void
mcp_endpoint_on_body (http_req_t *req, const void *data, size_t size)
{
    mcp_call_t *call = http_req_state (req);
    if (call->dispatched || !size)
        return;
    if (!call->chunked) {
        if (call->size + size > MCP_BODY_MAX) {
            http_req_close_after (req);
            mcp_http_error (req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, MCP_SERVER_ERROR,
                            "Payload Too Large: the body is limited to 1 MiB");
            return;
        }
        s_append (call, data, size);
        return;
    }
    switch (http_chunked_feed (&call->decoder, data, size, NULL, s_append, call)) {
        case HTTP_CHUNKED_MORE:
            break;
        case HTTP_CHUNKED_DONE:
            //  lws still waits for body it will never get: no content timeout
            lws_set_timeout (http_req_wsi (req), NO_PENDING_TIMEOUT, 0);
            s_dispatch (call);
            break;
        case HTTP_CHUNKED_TOO_LARGE:
            mcp_http_error (req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, MCP_SERVER_ERROR,
                            "Payload Too Large: the body is limited to 1 MiB");
            break;
        case HTTP_CHUNKED_BAD:
            mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, MCP_SERVER_ERROR,
                            "Bad Request: malformed chunked body");
            break;
    }
}

void
mcp_endpoint_on_body_end (http_req_t *req)
{
    mcp_call_t *call = http_req_state (req);
    if (!call->chunked)
        s_dispatch (call);
}

static void
s_post (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    mcp_t *mcp = http_req_gateway (req)->mcp;
    char accept [HEADER_MAX];
    char type [HEADER_MAX];
    char te [128];
    char cl [64];
    mcp_post_headers_t headers = {
        .has_accept = s_header (wsi, WSI_TOKEN_HTTP_ACCEPT, accept, sizeof accept),
        .accept = accept,
        .has_type = s_header (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, type, sizeof type),
        .content_type = type,
        .has_te = s_header (wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof te),
        .te = te,
        .has_cl = s_header (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof cl),
        .cl = cl,
    };
    mcp_post_t post;
    mcp_post_check (&headers, MCP_BODY_MAX, MCP_SKIP_MAX, &post);
    if (post.close_after)
        http_req_close_after (req);
    if (post.status) {
        mcp_http_error (req, post.status, MCP_SERVER_ERROR, post.message);
        return;
    }
    uint64_t length = post.length;
    mcp_call_t *call = mcp_call_new (req, mcp);
    http_req_set_handler (req, &mcp_call_handler, call);
    s_read_session_headers (wsi, call);
    if (post.chunked) {
        call->chunked = true;
        http_chunked_init (&call->decoder, MCP_BODY_MAX);
    }
    else
    if (length) {
        call->body = malloc (length + 1);
        assert (call->body);
        call->cap = length + 1;
    }
    //  lws bounds the time the body may take; the backstop is armed once
    //  the body has arrived
}

//  --- DELETE, OPTIONS -----------------------------------------------------------

static void
s_delete (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    mcp_t *mcp = http_req_gateway (req)->mcp;
    mcp_call_t probe = { 0 };
    s_read_session_headers (wsi, &probe);
    mcp_session_t *session = mcp_endpoint_session (req, mcp, probe.session_id,
        probe.session_header, probe.protocol, probe.protocol_header);
    if (!session)
        return;
    log_debug ("mcp session %.8s… ended by the client", session->id);
    mcp_sessions_remove (mcp->sessions, session->id);
    http_req_respond (req, HTTP_STATUS_OK, NULL, "", 0);
}

static void
s_get (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    mcp_t *mcp = http_req_gateway (req)->mcp;
    if (!s_accepts (req, "text/event-stream")) {
        mcp_http_error (req, HTTP_STATUS_NOT_ACCEPTABLE, MCP_SERVER_ERROR,
                        "Not Acceptable: Client must accept text/event-stream");
        return;
    }
    mcp_call_t probe = { 0 };
    s_read_session_headers (wsi, &probe);
    mcp_session_t *session = mcp_endpoint_session (req, mcp, probe.session_id,
        probe.session_header, probe.protocol, probe.protocol_header);
    if (!session)
        return;
    char value [32];
    uint64_t last_event_id = 0;
    int resume = s_custom_header (wsi, "last-event-id:", value, sizeof value);
    if (resume && (resume < 0 || !mcp_events_parse_id (value, &last_event_id))) {
        mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, MCP_SERVER_ERROR,
                        "Bad Request: Last-Event-ID must be an event id this server "
                        "sent (a decimal number)");
        return;
    }
    if (session->sse_request && !resume) {
        mcp_http_error (req, HTTP_STATUS_CONFLICT, MCP_SERVER_ERROR,
                        "Conflict: Only one SSE stream is allowed per session");
        return;
    }
    //  a client that resumes has lost its old stream: this one replaces it
    mcp_sse_close (mcp, session);
    mcp_sse_open (req, session, resume, last_event_id);
}

static void
s_options (http_req_t *req)
{
    char origin [HEADER_MAX];
    if (s_header (http_req_wsi (req), WSI_TOKEN_ORIGIN, origin, sizeof origin) == 1) {
        http_req_add_header (req, "access-control-allow-methods:",
                             "GET, POST, DELETE, OPTIONS");
        http_req_add_header (req, "access-control-allow-headers:",
                             "Content-Type, Accept, Authorization, Mcp-Session-Id, "
                             "Mcp-Protocol-Version, Mcp-Method, Mcp-Name, "
                             "Last-Event-ID");
        http_req_add_header (req, "access-control-max-age:", "600");
    }
    http_req_respond (req, HTTP_STATUS_NO_CONTENT, NULL, "", 0);
}

//  --- the route ------------------------------------------------------------------

static void
s_sweep (mcp_t *mcp)
{
    int64_t now = gateway_now_ms ();
    if (now - mcp->last_sweep_ms < 1000)
        return;
    mcp->last_sweep_ms = now;
    size_t ended = mcp_sessions_sweep (mcp->sessions, now);
    if (ended)
        log_debug ("mcp: %zu idle sessions expired", ended);
}

void
mcp_endpoint_start (http_req_t *req)
{
    mcp_t *mcp = http_req_gateway (req)->mcp;
    const char *method = http_req_method (req);
    s_sweep (mcp);
    if (!s_host_and_origin_ok (req))
        return;
    mcp_add_common_headers (req);
    if (strcmp (method, "POST") == 0)
        s_post (req);
    else
    if (strcmp (method, "GET") == 0)
        s_get (req);
    else
    if (strcmp (method, "DELETE") == 0)
        s_delete (req);
    else
    if (strcmp (method, "OPTIONS") == 0)
        s_options (req);
    else {
        http_req_add_header (req, "allow:", "GET, POST, DELETE, OPTIONS");
        mcp_http_error (req, HTTP_STATUS_METHOD_NOT_ALLOWED, MCP_SERVER_ERROR,
                        "Method Not Allowed");
    }
}

//  --- the state, and what the wake-up brings -----------------------------------

static void
s_on_session_drop (void *arg, mcp_session_t *session)
{
    mcp_t *mcp = arg;
    mcp_sse_close (mcp, session);
}

static void
s_on_catalog_ready (void *arg, uint64_t waiter, bool ok)
{
    mcp_t *mcp = arg;
    http_req_t *req = idmap_lookup (mcp->gateway->requests, waiter);
    if (req && http_req_state (req) && !http_req_answered (req))
        mcp_call_catalog_ready (http_req_state (req), ok);
}

static void
s_on_catalog_changed (void *arg)
{
    mcp_t *mcp = arg;
    log_info ("tool list changed (revision %" PRIu64 "), %zu callable user tools",
              catalog_cache_revision (mcp->catalog), catalog_cache_count (mcp->catalog));
    //  the same event for both eras: 2025 GET streams, 2026 listen streams
    mcp_sse_broadcast (mcp, "notifications/tools/list_changed");
    mcp_listen_broadcast (mcp, "notifications/tools/list_changed");
}

mcp_t *
mcp_new (gateway_t *gateway, const mcp_settings_t *settings, char *err,
         size_t errlen)
{
    mcp_allow_t *allow = mcp_allow_new (settings->allowed_hosts,
                                        settings->allowed_origins, err, errlen);
    if (!allow)
        return NULL;
    mcp_allow_t *remote_allow = mcp_allow_new (settings->remote_hosts,
                                               settings->allowed_origins, err, errlen);
    if (!remote_allow) {
        mcp_allow_destroy (&allow);
        return NULL;
    }
    mcp_t *self = calloc (1, sizeof *self);
    assert (self);
    self->gateway = gateway;
    self->allow = allow;
    self->remote_allow = remote_allow;
    self->keepalive_ms = settings->keepalive_ms > 0 ? settings->keepalive_ms : 15000;
    self->sessions = mcp_sessions_new (settings->sessions_max ? settings->sessions_max
                                                              : MCP_SESSION_MAX,
                                       settings->session_idle_ms > 0
                                       ? settings->session_idle_ms : MCP_SESSION_IDLE_MS,
                                       s_on_session_drop, self);
    self->catalog = catalog_cache_new (gateway->bridge, s_on_catalog_ready,
                                       s_on_catalog_changed, self);
    self->events = mcp_events_new (MCP_EVENTS_REPLAY);
    self->calls = zlistx_new ();
    self->listeners = zlistx_new ();
    if (!self->sessions || !self->catalog) {
        snprintf (err, errlen, "cannot initialise libsodium");
        mcp_destroy (&self);
        return NULL;
    }
    self->tool_schemas = mcp_tools_schemas (err, errlen);
    self->tool_outputs = self->tool_schemas ? mcp_tools_outputs (err, errlen) : NULL;
    if (!self->tool_schemas || !self->tool_outputs) {
        mcp_destroy (&self);
        return NULL;
    }
    return self;
}

void
mcp_destroy (mcp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcp_t *self = *self_p;
    mcp_sessions_destroy (&self->sessions);
    catalog_cache_destroy (&self->catalog);
    mcp_events_destroy (&self->events);
    zlistx_destroy (&self->calls);
    zlistx_destroy (&self->listeners);
    mcp_allow_destroy (&self->allow);
    mcp_allow_destroy (&self->remote_allow);
    json_decref (self->tool_schemas);
    json_decref (self->tool_outputs);
    free (self);
    *self_p = NULL;
}

void
mcp_on_completion (mcp_t *self, uint64_t token, const void *body, size_t size)
{
    if (token & CATALOG_TOKEN_BIT)
        catalog_cache_deliver (self->catalog, token, body, size, gateway_now_ms ());
}

void
mcp_on_event (mcp_t *self, const char *topic, bool lost)
{
    if (lost || strcmp (topic, "tools.changed") == 0
    ||  strcmp (topic, "approval.changed") == 0) {
        log_debug ("event %s: refreshing the tool catalog", topic);
        catalog_cache_invalidate (self->catalog, gateway_now_ms ());
    }
}

/*  mcp_call.c — a POST /mcp request while it is handled. See mcp_call.h.

    The bus requests a call has in flight are a small array of (ticket,
    callback, tag); a reply is matched by ticket, removed, decoded and
    handed to its callback. Answers are JSON-RPC envelopes written through
    http_req_respond_json; the first one wins because http_req ignores
    later ones and stops delivering replies once answered.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "json_schema_check.h"
#include "mcp_era.h"
#include "mcp_notice.h"
#include "mcp_tools.h"
#include "mcp_call.h"
#include "metrics.h"

struct mcp_pending {
    uint64_t    ticket;
    mcp_bus_fn *fn;
    intptr_t    tag;
};

//  --- life ---------------------------------------------------------------

static void
s_call_free (void *state)
{
    mcp_call_t *call = state;
    if (call->calls_handle)
        zlistx_delete (call->mcp->calls, call->calls_handle);
    if (call->tool_name && !call->metric_counted)
        metrics_call (call->mcp->gateway->metrics, call->metric_tool, METRICS_CANCELLED);
    if (call->ctx && call->ctx_free)
        call->ctx_free (call->ctx);
    json_decref (call->message);
    free (call->pending);
    free (call->body);
    free (call);
}

mcp_call_t *
mcp_call_new (http_req_t *req, mcp_t *mcp)
{
    mcp_call_t *call = calloc (1, sizeof *call);
    assert (call);
    call->req = req;
    call->mcp = mcp;
    call->log_rank = -1;
    call->metric_outcome = -1;
    return call;
}

void
mcp_call_set_ctx (mcp_call_t *call, void *ctx, void (*free_fn) (void *))
{
    if (call->ctx && call->ctx_free)
        call->ctx_free (call->ctx);
    call->ctx = ctx;
    call->ctx_free = free_fn;
}

bool
mcp_call_answered (mcp_call_t *call)
{
    if (call->notify_stream)
        return call->final_sent || !http_req_streaming (call->req);
    return http_req_answered (call->req);
}

void
mcp_call_set_backstop (mcp_call_t *call, int timeout_ms)
{
    call->backstop_at = gateway_now_ms () + timeout_ms;
    http_req_set_timer (call->req, timeout_ms);
}

//  One SSE event with a JSON-RPC message on the call's stream. -1 when the
//  stream refused it (a client that does not read): counted by the caller.
//  The last one (the response) is queued past the stream's bound, which is
//  for notifications: a result of several MB must still arrive.
static int
s_stream_send (mcp_call_t *call, json_t *message, bool last)
{
    char *data = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    char *event = data ? zsys_sprintf ("event: message\ndata: %s\n\n", data) : NULL;
    free (data);
    int rc = !event ? -1
           : last ? http_req_stream_write_last (call->req, event, strlen (event))
           : http_req_stream_write (call->req, event, strlen (event));
    zstr_free (&event);
    if (last)
        http_req_stream_end (call->req);
    return rc;
}

void
mcp_call_notice (mcp_call_t *call, const void *body, size_t size)
{
    if (mcp_call_answered (call))
        return;
    json_t *message = NULL;
    mcp_notice_status_t status = mcp_notice_render (body, size, call->progress_token,
                                                    call->log_rank, call->tool_name,
                                                    &message);
    if (status == MCP_NOTICE_FILTERED)
        return;             //  the executor filters the same way: never here
    if (status == MCP_NOTICE_MALFORMED) {
        call->notices_dropped++;
        return;
    }
    if (!call->notify_stream) {
        //  the answer becomes a stream: these headers, then events, then the
        //  response as the last event (Streamable HTTP, both eras)
        call->notify_stream = true;
        http_req_add_header (call->req, "cache-control:", "no-cache, no-transform");
        http_req_add_header (call->req, "x-accel-buffering:", "no");
        http_req_stream_begin (call->req, HTTP_STATUS_OK, "text/event-stream");
        //  stream_begin cancels the timer: the backstop still holds
        int64_t left = call->backstop_at - gateway_now_ms ();
        if (call->backstop_at)
            http_req_set_timer (call->req, left > 0 ? (int) left : 1);
    }
    if (s_stream_send (call, message, false) == 0)
        call->notices_sent++;
    else
        call->notices_dropped++;
}

//  --- the bus ---------------------------------------------------------------

static void
s_deliver (mcp_call_t *call, mcp_bus_fn *fn, intptr_t tag, const void *body,
           size_t size)
{
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    fn (call, &reply, tag);
    bus_json_clear (&reply);
}

static void
s_deliver_error (mcp_call_t *call, mcp_bus_fn *fn, intptr_t tag, bus_error_t code)
{
    bus_json_t reply = { .ok = false, .code = code };
    fn (call, &reply, tag);
}

int
mcp_call_bus (mcp_call_t *call, const char *service, const char *op,
              const json_t *fields, int timeout_ms, mcp_bus_fn *fn, intptr_t tag)
{
    msgw_t *request = bus_json_request (op, fields);
    if (!request) {
        s_deliver_error (call, fn, tag, BUS_ERR_BAD_REQUEST);
        return -1;
    }
    uint64_t ticket = http_req_submit (call->req, service, msgw_data (request),
                                       msgw_size (request), timeout_ms);
    msgw_destroy (&request);
    if (!ticket) {
        s_deliver_error (call, fn, tag, BUS_ERR_UNAVAILABLE);
        return -1;
    }
    if (call->pending_count == call->pending_cap) {
        size_t cap = call->pending_cap ? call->pending_cap * 2 : 4;
        struct mcp_pending *grown = realloc (call->pending, cap * sizeof *grown);
        assert (grown);
        call->pending = grown;
        call->pending_cap = cap;
    }
    call->pending [call->pending_count++] = (struct mcp_pending) { ticket, fn, tag };
    return 0;
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    mcp_call_t *call = http_req_state (req);
    for (size_t i = 0; i < call->pending_count; i++)
        if (call->pending [i].ticket == ticket) {
            struct mcp_pending entry = call->pending [i];
            call->pending [i] = call->pending [--call->pending_count];
            s_deliver (call, entry.fn, entry.tag, body, size);
            return;
        }
}

void
mcp_call_track (mcp_call_t *call)
{
    if (!call->calls_handle)
        call->calls_handle = zlistx_add_end (call->mcp->calls, call);
}

void
mcp_call_cancel (mcp_call_t *call)
{
    if (mcp_call_answered (call))
        return;
    bus_bridge_t *bridge = http_req_gateway (call->req)->bridge;
    for (size_t i = 0; i < call->pending_count; i++)
        bus_bridge_cancel (bridge, call->pending [i].ticket);
    log_info ("%s%s%s cancelled by the client (%zu bus request%s cancelled)",
              call->method ? call->method : "?", call->tool_name ? " " : "",
              call->tool_name ? call->tool_name : "", call->pending_count,
              call->pending_count == 1 ? "" : "s");
    //  no JSON-RPC response for a cancelled request; the POST ends empty
    //  (or its stream of notifications ends)
    if (call->notify_stream) {
        call->final_sent = true;
        http_req_stream_end (call->req);
        return;
    }
    http_req_respond (call->req, HTTP_STATUS_ACCEPTED, NULL, "", 0);
}

void
mcp_call_need_catalog (mcp_call_t *call, mcp_catalog_fn *fn)
{
    //  set first: the cache may report back before it returns (a refused
    //  fetch, or too many waiters)
    call->on_catalog = fn;
    int64_t now = gateway_now_ms ();
    if (catalog_cache_fresh (call->mcp->catalog, CATALOG_CALL_MAX_AGE_MS, now,
                             http_req_id (call->req))) {
        call->on_catalog = NULL;
        fn (call, true);
    }
}

void
mcp_call_catalog_ready (mcp_call_t *call, bool ok)
{
    mcp_catalog_fn *fn = call->on_catalog;
    call->on_catalog = NULL;
    if (fn && !mcp_call_answered (call))
        fn (call, ok);
}

//  --- answers ----------------------------------------------------------------

static json_t *
s_envelope (mcp_call_t *call)
{
    json_t *id = call->id ? json_incref (call->id) : json_null ();
    return json_pack ("{s:s, s:o}", "jsonrpc", "2.0", "id", id);
}

//  2026 era: every result says what it is (resultType) and who made it.
static void
s_decorate (json_t *result)
{
    if (!json_object_get (result, "resultType"))
        json_object_set_new (result, "resultType", json_string ("complete"));
    json_t *meta = json_object_get (result, "_meta");
    if (!json_is_object (meta)) {
        meta = json_object ();
        json_object_set_new (result, "_meta", meta);
    }
    json_object_set_new (meta, MCP_META_SERVER_INFO,
                         json_pack ("{s:s, s:s}", "name", MCP_SERVER_NAME,
                                    "version", MCPBOX_VERSION));
}

json_t *
mcp_call_notices_summary (mcp_call_t *call, const json_t *reply_body)
{
    static const char *const keys [] = {
        "sent", "filtered", "rate_limited", "truncated", "refused", "lost", NULL
    };
    json_t *counts = json_object_get (reply_body, "notices");
    if (!json_is_object (counts) && !call->notices_sent && !call->notices_dropped)
        return NULL;
    json_t *summary = json_object ();
    for (size_t i = 0; keys [i]; i++) {
        json_t *value = json_object_get (counts, keys [i]);
        json_object_set_new (summary, keys [i],
                             json_integer (json_is_integer (value) ? json_integer_value (value) : 0));
    }
    json_object_set_new (summary, "delivered", json_integer ((json_int_t) call->notices_sent));
    json_object_set_new (summary, "dropped_at_gateway",
                         json_integer ((json_int_t) call->notices_dropped));
    return summary;
}

//  A tools/call's answer, counted once (the first answer wins).
static void
s_count (mcp_call_t *call, metrics_outcome_t outcome)
{
    if (!call->tool_name || call->metric_counted)
        return;
    call->metric_counted = true;
    if (call->metric_outcome >= 0)
        outcome = (metrics_outcome_t) call->metric_outcome;
    metrics_call (call->mcp->gateway->metrics, call->metric_tool, outcome);
}

//  The answer: the POST's JSON body, or the stream's last event.
static void
s_respond (mcp_call_t *call, int status, json_t *answer)
{
    if (!call->notify_stream) {
        http_req_respond_json (call->req, status, answer);
        return;
    }
    if (mcp_call_answered (call)) {
        json_decref (answer);
        return;
    }
    call->final_sent = true;
    if (s_stream_send (call, answer, true) != 0)
        log_warn ("mcp: the response to %s could not be written on its stream",
                  call->method ? call->method : "?");
}

void
mcp_call_result (mcp_call_t *call, json_t *result)
{
    json_t *answer = s_envelope (call);
    if (!result)
        result = json_object ();
    if (call->modern)
        s_decorate (result);
    s_count (call, json_is_true (json_object_get (result, "isError"))
                   ? METRICS_TOOL_ERROR : METRICS_OK);
    json_object_set_new (answer, "result", result);
    s_respond (call, HTTP_STATUS_OK, answer);
}

void
mcp_call_error (mcp_call_t *call, int code, const char *message, json_t *data)
{
    json_t *error = json_pack ("{s:i, s:s}", "code", code, "message", message);
    if (!error) {               //  message not UTF-8 (never ours)
        error = json_pack ("{s:i, s:s}", "code", code, "message", "error");
    }
    if (data)
        json_object_set_new (error, "data", data);
    s_count (call, METRICS_ERROR);
    json_t *answer = s_envelope (call);
    json_object_set_new (answer, "error", error);
    s_respond (call, HTTP_STATUS_OK, answer);
}

void
mcp_call_refuse (mcp_call_t *call, int status, int code, const char *message,
                 json_t *data)
{
    json_t *error = json_pack ("{s:i, s:s}", "code", code, "message", message);
    if (!error)
        error = json_pack ("{s:i, s:s}", "code", code, "message", "error");
    if (data)
        json_object_set_new (error, "data", data);
    s_count (call, METRICS_ERROR);
    json_t *answer = s_envelope (call);
    json_object_set_new (answer, "error", error);
    s_respond (call, status, answer);
}

//  A management tool's answer against its own output schema: a mismatch
//  is our bug; it is logged and counted (the answer still goes out, and a
//  client that checks outputSchema refuses it, which is the truth).
static void
s_check_output (mcp_call_t *call, const json_t *object)
{
    int index = mcp_tools_find (call->tool_name);
    json_t *schema = index < 0 ? NULL
                   : json_array_get (call->mcp->tool_outputs, (size_t) index);
    char err [256];
    if (schema && json_schema_check (schema, object, "structuredContent", err, sizeof err)) {
        call->mcp->output_faults++;
        log_error ("%s answered outside its output schema (%zu so far): %s",
                   call->tool_name, call->mcp->output_faults, err);
    }
}

void
mcp_call_tool_ok (mcp_call_t *call, json_t *object)
{
    s_check_output (call, object);
    char *text = json_dumps (object, JSON_COMPACT);
    if (!text) {
        json_decref (object);
        mcp_call_tool_error (call, "the result could not be rendered");
        return;
    }
    json_t *result = json_pack ("{s:[{s:s, s:s}], s:o, s:b}",
                                "content", "type", "text", "text", text,
                                "structuredContent", object,
                                "isError", 0);
    free (text);
    mcp_call_result (call, result);
}

void
mcp_call_tool_error (mcp_call_t *call, const char *fmt, ...)
{
    char message [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    //  a cut in the middle of a UTF-8 sequence: cut back to a whole one
    size_t len = strlen (message);
    json_t *text = json_stringn (message, len);
    for (int tries = 0; !text && len && tries < 4; tries++)
        text = json_stringn (message, --len);
    if (!text)
        text = json_string ("the tool failed");
    json_t *result = json_pack ("{s:[{s:s, s:o}], s:b}",
                                "content", "type", "text", "text", text,
                                "isError", 1);
    mcp_call_result (call, result);
}

void
mcp_bus_error_text (const char *service, const bus_json_t *reply, char *out,
                    size_t size)
{
    const char *code = bus_error_name (reply->code);
    switch (reply->code) {
        case BUS_ERR_BAD_REQUEST:
        case BUS_ERR_NOT_FOUND:
        case BUS_ERR_CONFLICT:
        case BUS_ERR_FORBIDDEN:
        case BUS_ERR_TOO_LARGE:
        case BUS_ERR_RATE_LIMITED:
        case BUS_ERR_UNAUTHORIZED:
            if (*reply->message)
                snprintf (out, size, "%s: %s", code, reply->message);
            else
                snprintf (out, size, "%s", code);
            break;
        case BUS_ERR_NO_WORKER:
        case BUS_ERR_WORKER_LOST:
        case BUS_ERR_TIMEOUT:
        case BUS_ERR_UNAVAILABLE:
            snprintf (out, size, "the %s service is not available right now (%s); "
                      "try again later", service, code);
            break;
        default:
            //  internal, protocol, unknown_op: the text stays in the logs
            snprintf (out, size, "internal error in the %s service", service);
            break;
    }
}

void
mcp_call_tool_bus_error (mcp_call_t *call, const char *service,
                         const bus_json_t *reply)
{
    if (reply->code == BUS_ERR_INTERNAL || reply->code == BUS_ERR_PROTOCOL
    ||  reply->code == BUS_ERR_UNKNOWN_OP)
        log_warn ("mcp %s: %s from %s: %s", call->tool_name ? call->tool_name : "?",
                  bus_error_name (reply->code), service, reply->message);
    char text [1024];
    mcp_bus_error_text (service, reply, text, sizeof text);
    mcp_call_tool_error (call, "%s", text);
}

void
mcp_http_error (http_req_t *req, int status, int code, const char *message)
{
    json_t *answer = json_pack ("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0",
                                "id", "error", "code", code, "message", message);
    http_req_respond_json (req, status, answer);
}

//  --- the HTTP hooks -----------------------------------------------------------

static void
s_on_notice (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    mcp_call_t *call = http_req_state (req);
    for (size_t i = 0; i < call->pending_count; i++)
        if (call->pending [i].ticket == ticket) {
            mcp_call_notice (call, body, size);
            return;
        }
}

static void
s_on_timer (http_req_t *req)
{
    mcp_call_t *call = http_req_state (req);
    if (call->on_timer) {
        call->on_timer (call);
        return;
    }
    if (call->method && strcmp (call->method, "tools/call") == 0)
        mcp_call_tool_error (call, "the call took too long and was abandoned");
    else
    if (call->message)
        mcp_call_error (call, MCP_INTERNAL_ERROR, "the request timed out", NULL);
    else
        mcp_http_error (req, HTTP_STATUS_REQUEST_TIMEOUT, MCP_SERVER_ERROR,
                        "Request Timeout: the body did not arrive in time");
}

//  Provided by mcp_endpoint.c (body handling lives with the HTTP rules).
void mcp_endpoint_on_body (http_req_t *req, const void *data, size_t size);
void mcp_endpoint_on_body_end (http_req_t *req);

const http_handler_t mcp_call_handler = {
    .on_reply    = s_on_reply,
    .on_notice   = s_on_notice,
    .on_timer    = s_on_timer,
    .free_state  = s_call_free,
    .on_body     = mcp_endpoint_on_body,
    .on_body_end = mcp_endpoint_on_body_end,
};

/*  mcp_rpc.c — JSON-RPC dispatch for POST /mcp. See mcp_rpc.h.

    The method table below is the endpoint's whole JSON-RPC interface.
*/
#include <czmq.h>
#include <string.h>

#include "log.h"
#include "json_schema_check.h"
#include "mcp_cursor.h"
#include "mcp_era.h"
#include "mcp_message.h"
#include "mcp_tools.h"
#include "mcp_notice.h"
#include "mcp_rpc.h"
#include "mcp_rate.h"

#define MCP_INSTRUCTIONS \
    "MCPbox lets you build your own tools. Create a server " \
    "(mcpbox_create_server), write a tool in Python as `async def main(...)` " \
    "(mcpbox_create_tool), try it with mcpbox_test_code, then ask for it to be " \
    "published (mcpbox_request_publish). A human admin reviews and approves " \
    "the code; once the server is started the tool appears in this list as " \
    "{server}__{tool}. Network access and extra modules are requested with " \
    "mcpbox_request_network_access and mcpbox_request_module, and also need " \
    "the admin's approval."

typedef void (method_fn) (mcp_call_t *call);

//  notifications/cancelled: the session's request with params.requestId,
//  if it is still unanswered, gets no response and its work is cancelled.
static void
s_cancelled (mcp_call_t *call, mcp_session_t *session)
{
    json_t *request_id = json_object_get (call->params, "requestId");
    if (!json_is_string (request_id) && !json_is_integer (request_id))
        return;
    zlistx_t *calls = call->mcp->calls;
    for (mcp_call_t *other = zlistx_first (calls); other; other = zlistx_next (calls))
        if (other != call && other->id && json_equal (other->id, request_id)
        &&  strcmp (other->session_id, session->id) == 0) {
            mcp_call_cancel (other);        //  may not touch the list
            return;
        }
}

//  --- initialize, ping --------------------------------------------------------

const char *
mcp_rpc_instructions (void)
{
    return MCP_INSTRUCTIONS;
}

static void
s_initialize (mcp_call_t *call)
{
    const char *requested = json_string_value (json_object_get (call->params,
                                                                "protocolVersion"));
    if (!requested) {
        mcp_call_error (call, MCP_INVALID_PARAMS,
                        "Invalid params: protocolVersion (a string) is required", NULL);
        return;
    }
    //  A version we do not speak is answered with the latest we do; the
    //  client decides whether to go on (specification 2025-11-25,
    //  lifecycle: version negotiation).
    if (!mcp_protocol_supported (requested))
        requested = MCP_PROTOCOL_LATEST;
    mcp_t *mcp = call->mcp;
    mcp_session_t *session = mcp_sessions_create (mcp->sessions, requested,
                                                  gateway_now_ms ());
    session->events_from = mcp_events_last (mcp->events);
    mcp_session_owner (call->req, session->owner, sizeof session->owner);
    const char *client = json_string_value (json_object_get (
        json_object_get (call->params, "clientInfo"), "name"));
    if (client) {
        //  kept for the execution log; cut back to a whole UTF-8 character
        size_t len = strnlen (client, sizeof session->client_name - 1);
        while (len && ((unsigned char) client [len] & 0xC0) == 0x80)
            len--;
        memcpy (session->client_name, client, len);
        session->client_name [len] = 0;
    }
    log_info ("mcp session %.8s… opened (protocol %s, client %.64s), %zu open",
              session->id, requested, client ? client : "?",
              mcp_sessions_size (mcp->sessions));
    http_req_add_header (call->req, "mcp-session-id:", session->id);
    json_t *result = json_pack ("{s:s, s:{s:{s:b}, s:{}}, s:{s:s, s:s}, s:s}",
        "protocolVersion", requested,
        "capabilities", "tools", "listChanged", 1, "logging",
        "serverInfo", "name", MCP_SERVER_NAME, "version", MCPBOX_VERSION,
        "instructions", MCP_INSTRUCTIONS);
    mcp_call_result (call, result);
}

static void
s_ping (mcp_call_t *call)
{
    mcp_call_result (call, json_object ());
}

//  --- tools/list -----------------------------------------------------------------

static void
s_tools_list_render (mcp_call_t *call, bool ok)
{
    (void) ok;          //  a failed refresh lists what we had (maybe nothing)
    mcp_t *mcp = call->mcp;
    //  the management tools this request may see (the remote policy)
    size_t *visible = malloc ((mcp_tools_count () + 1) * sizeof *visible);
    assert (visible);
    size_t own = 0;
    for (size_t i = 0; i < mcp_tools_count (); i++)
        if (!mcp_remote_hides (call, i))
            visible [own++] = i;
    size_t users = catalog_cache_count (mcp->catalog);
    size_t total = own + users;
    uint64_t revision = catalog_cache_revision (mcp->catalog);
    uint64_t offset = 0;
    json_t *cursor = json_object_get (call->params, "cursor");
    if (cursor && !json_is_null (cursor)) {
        uint64_t cursor_revision;
        if (!json_is_string (cursor)
        ||  mcp_cursor_decode (json_string_value (cursor), json_string_length (cursor),
                               &cursor_revision, &offset)
        ||  offset == 0 || offset >= total) {
            mcp_call_error (call, MCP_INVALID_PARAMS, "Invalid params: invalid cursor", NULL);
            free (visible);
            return;
        }
        if (cursor_revision != revision) {
            mcp_call_error (call, MCP_INVALID_PARAMS,
                            "Invalid params: the tool list changed since this cursor "
                            "was made; list again without a cursor", NULL);
            free (visible);
            return;
        }
    }
    json_t *tools = json_array ();
    uint64_t end = offset + MCP_PAGE_SIZE < total ? offset + MCP_PAGE_SIZE : total;
    for (uint64_t i = offset; i < end; i++) {
        if (i < own) {
            json_array_append_new (tools, mcp_tools_render (visible [i], mcp->tool_schemas,
                                                            mcp->tool_outputs));
            continue;
        }
        const catalog_tool_t *tool = catalog_cache_tool (mcp->catalog, (size_t) (i - own));
        json_t *entry = json_pack ("{s:s, s:O}", "name", tool->full_name,
                                   "inputSchema", tool->input_schema);
        if (*tool->title)
            json_object_set_new (entry, "title", json_string (tool->title));
        if (tool->output_schema)
            json_object_set (entry, "outputSchema", tool->output_schema);
        //  only what the admin set on review; the LLM's suggestion never
        if (tool->annotations)
            json_object_set (entry, "annotations", tool->annotations);
        //  clients (and the conformance suite) expect a description
        if (*tool->description)
            json_object_set_new (entry, "description", json_string (tool->description));
        else {
            char *text = zsys_sprintf ("Tool '%s' of the MCPbox server '%s'.",
                                       tool->name, tool->server_name);
            json_object_set_new (entry, "description", json_string (text));
            zstr_free (&text);
        }
        json_array_append_new (tools, entry);
    }
    free (visible);
    json_t *result = json_pack ("{s:o}", "tools", tools);
    if (call->modern) {
        //  a client may keep the list no longer than we keep the catalog
        //  before refetching it; private: /mcp may sit behind a credential
        json_object_set_new (result, "ttlMs", json_integer (MCP_TOOLS_TTL_MS));
        json_object_set_new (result, "cacheScope", json_string ("private"));
    }
    if (end < total) {
        char next [MCP_CURSOR_LEN + 1];
        mcp_cursor_encode (revision, end, next);
        json_object_set_new (result, "nextCursor", json_string (next));
    }
    mcp_call_result (call, result);
}

void
mcp_rpc_tools_list (mcp_call_t *call)
{
    mcp_call_need_catalog (call, s_tools_list_render);
}

//  --- tools/call -----------------------------------------------------------------

void
mcp_rpc_tools_call (mcp_call_t *call)
{
    json_t *name = json_object_get (call->params, "name");
    json_t *args = json_object_get (call->params, "arguments");
    if (!json_is_string (name)) {
        mcp_call_error (call, MCP_INVALID_PARAMS,
                        "Invalid params: name (a string) is required", NULL);
        return;
    }
    if (args && !json_is_null (args) && !json_is_object (args)) {
        mcp_call_error (call, MCP_INVALID_PARAMS,
                        "Invalid params: arguments must be an object", NULL);
        return;
    }
    if (!json_is_object (args)) {
        args = json_object ();
        json_object_set_new (call->params, "arguments", args);
    }
    call->tool_name = json_string_value (name);
    call->args = args;
    call->started_us = gateway_now_us ();
    mcp_rpc_metric_tool (call);
    mcp_rate_check (call);
}

void
mcp_rpc_metric_tool (mcp_call_t *call)
{
    //  a name from our table or the catalog (as the cache holds it now: a
    //  user tool's is set again once the call has a fresh catalog), never
    //  the client's string: the label set stays bounded
    const char *label = NULL;
    int index = mcp_tools_find (call->tool_name);
    if (index >= 0)
        label = mcp_tools_get ((size_t) index)->name;
    else {
        const catalog_tool_t *tool = catalog_cache_find (call->mcp->catalog, call->tool_name);
        if (tool)
            label = tool->full_name;
    }
    snprintf (call->metric_tool, sizeof call->metric_tool, "%s", label ? label : "");
}

void
mcp_rpc_tools_admit (mcp_call_t *call)
{
    if (http_req_remote (call->req))
        mcp_remote_tools_call (call);
    else
        mcp_rpc_tools_run (call);
}

void
mcp_rpc_tools_run (mcp_call_t *call)
{
    json_t *args = call->args;
    int index = mcp_tools_find (call->tool_name);
    if (index >= 0)                 //  a name from our table: a bounded label
        snprintf (call->metric_tool, sizeof call->metric_tool, "%s",
                  mcp_tools_get ((size_t) index)->name);
    if (index < 0) {
        mcp_user_tool_call (call);
        return;
    }
    char err [512];
    json_t *schema = json_array_get (call->mcp->tool_schemas, (size_t) index);
    if (json_schema_check (schema, args, "arguments", err, sizeof err)) {
        mcp_call_tool_error (call, "Invalid arguments for %s: %s", call->tool_name, err);
        return;
    }
    mcp_tools_get ((size_t) index)->handler (call, args);
}

//  --- dispatch ---------------------------------------------------------------------

typedef struct {
    const char *method;
    method_fn  *handler;
} method_t;

static const method_t s_methods [] = {
    { "ping",           s_ping },
    { "tools/list",     mcp_rpc_tools_list },
    { "tools/call",     mcp_rpc_tools_call },
    { NULL,             NULL }
};

void
mcp_rpc_dispatch (mcp_call_t *call)
{
    http_req_t *req = call->req;
    mcp_message_t parsed;
    int rc = mcp_message_parse (call->body, call->size, &parsed);
    call->message = parsed.message;
    if (rc) {
        mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, parsed.code, parsed.error);
        return;
    }
    json_t *message = parsed.message;
    call->id = parsed.id;
    call->method = parsed.method;
    call->params = parsed.params;
    bool params_array = parsed.params_array;

    //  which generation: a 2026 message is served statelessly
    mcp_era_headers_t headers = {
        call->protocol_header ? call->protocol : NULL,
        call->has_method_header ? call->method_header : NULL,
        call->has_name_header ? call->name_header : NULL,
    };
    mcp_era_t era;
    mcp_era_classify (message, &headers, &era);
    if (era.modern || era.status) {
        mcp_modern_dispatch (call, &era);
        return;
    }

    bool initialize = call->id && strcmp (call->method, "initialize") == 0;
    if (initialize && call->protocol_header && !mcp_protocol_supported (call->protocol)) {
        //  the header belongs on later requests, but a bad one is bad anywhere
        mcp_http_error (req, HTTP_STATUS_BAD_REQUEST, MCP_SERVER_ERROR,
                        "Bad Request: Unsupported protocol version (supported "
                        "versions: 2025-11-25, 2025-06-18, 2025-03-26)");
        return;
    }
    if (!initialize) {
        mcp_session_t *session = mcp_endpoint_session (req, call->mcp,
            call->session_id, call->session_header, call->protocol,
            call->protocol_header);
        if (!session)
            return;
        memcpy (call->client_name, session->client_name, sizeof call->client_name);
        call->log_rank = session->log_rank;
        if (call->id && strcmp (call->method, "logging/setLevel") == 0) {
            //  the level of the log lines from inside tools that this
            //  session's later calls are sent (mcp_notice.h)
            int rank = mcp_notice_level_rank (json_string_value (
                json_object_get (call->params, "level")));
            if (rank < 0) {
                mcp_call_error (call, MCP_INVALID_PARAMS, "Invalid params: level must be "
                                "debug, info, notice, warning, error, critical, alert or "
                                "emergency", NULL);
                return;
            }
            session->log_rank = rank;
            mcp_call_result (call, json_object ());
            return;
        }
        if (!call->id) {
            //  a notification or a response: nothing to answer
            if (call->method && strcmp (call->method, "notifications/initialized") == 0)
                session->initialized = true;
            else
            if (call->method && strcmp (call->method, "notifications/cancelled") == 0)
                s_cancelled (call, session);
            http_req_respond (req, HTTP_STATUS_ACCEPTED, NULL, "", 0);
            return;
        }
    }
    if (params_array) {
        mcp_call_error (call, MCP_INVALID_PARAMS,
                        "Invalid params: params must be an object", NULL);
        return;
    }
    if (!initialize)
        mcp_call_track (call);          //  a request: cancellable from now on
    if (initialize) {
        s_initialize (call);
        return;
    }
    for (const method_t *entry = s_methods; entry->method; entry++)
        if (strcmp (entry->method, call->method) == 0) {
            entry->handler (call);
            return;
        }
    mcp_call_error (call, MCP_METHOD_NOT_FOUND, "Method not found", NULL);
}

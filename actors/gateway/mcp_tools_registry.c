/*  mcp_tools_registry.c — management tools for servers and tools.

    Each maps to registry ops (docs/BUS_OPS.md); the LLM's writes are
    recorded as created_by / change_source "llm". Two need more than one
    request:
      get_server          server.get, then at once: approval tool.status
                          for each tool (up to GET_SERVER_STATUS_MAX) and
                          pending.list; then the catalog cache for the
                          server's allowed hosts
      start_server        server.start, then a catalog refresh to count
                          the tools it made callable
      update_tool         tool.update, then (new code) approval tool.status,
      rollback_tool       tool.rollback, then approval tool.status: the
                          message says what the code's approval means now
                          (an already approved hash is callable at once)
*/
#include <string.h>

#include "mcp_tools.h"

#define GET_SERVER_STATUS_MAX 100

//  --- one request each ------------------------------------------------------------

static json_t *
s_project_list_servers (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *servers = json_object_get (reply, "servers");
    if (!json_is_array (servers))
        return NULL;
    json_t *out = mcp_pick (reply, "total", "page", "page_size", NULL);
    json_object_set_new (out, "servers", mcp_pick_each (servers, "id", "name",
        "description", "status", "created_at", NULL));
    return out;
}

void
mcp_tool_list_servers (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "server.list", MCP_BUS_TIMEOUT_MS,
                                      s_project_list_servers };
    mcp_tool_simple (call, &def, mcp_pick (args, "page", "page_size", NULL));
}

static json_t *
s_project_create_server (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *server = json_object_get (reply, "server");
    const char *id = bus_json_str (server, "id");
    const char *name = bus_json_str (server, "name");
    if (!id || !name)
        return NULL;
    char message [512];
    snprintf (message, sizeof message, "Server '%s' created. Add tools with "
              "mcpbox_create_tool; start it with mcpbox_start_server.", name);
    return json_pack ("{s:b, s:s, s:s, s:s}", "success", 1, "id", id, "name", name,
                      "message", message);
}

void
mcp_tool_create_server (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "server.create", MCP_BUS_TIMEOUT_MS,
                                      s_project_create_server };
    mcp_tool_simple (call, &def, mcp_pick (args, "name", "description", NULL));
}

static json_t *
s_project_delete_server (const json_t *reply, const json_t *args)
{
    (void) reply;
    (void) args;
    return json_pack ("{s:b, s:s}", "success", 1, "message",
                      "Server deleted, with its tools and their versions.");
}

void
mcp_tool_delete_server (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "server.delete", MCP_BUS_TIMEOUT_MS,
                                      s_project_delete_server };
    mcp_tool_simple (call, &def, mcp_pick (args, "server_id", NULL));
}

static json_t *
s_project_stop_server (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *server = json_object_get (reply, "server");
    const char *name = bus_json_str (server, "name");
    char message [512];
    snprintf (message, sizeof message, "Server '%s' stopped: its tools are no longer "
              "listed or callable.", name ? name : "?");
    return json_pack ("{s:b, s:s, s:s}", "success", 1, "message", message,
                      "status", "stopped");
}

void
mcp_tool_stop_server (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "server.stop", MCP_BUS_TIMEOUT_MS,
                                      s_project_stop_server };
    mcp_tool_simple (call, &def, mcp_pick (args, "server_id", NULL));
}

static json_t *
s_project_list_tools (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *tools = json_object_get (reply, "tools");
    if (!json_is_array (tools))
        return NULL;
    json_t *out = mcp_pick (reply, "server_id", "server_name", "total", NULL);
    json_object_set_new (out, "tools", mcp_pick_each (tools, "id", "name",
                         "description", "enabled", NULL));
    return out;
}

void
mcp_tool_list_tools (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "tool.list", MCP_BUS_TIMEOUT_MS,
                                      s_project_list_tools };
    mcp_tool_simple (call, &def, mcp_pick (args, "server_id", NULL));
}

static json_t *
s_project_get_tool (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *tool = json_object_get (reply, "tool");
    if (!json_is_object (tool))
        return NULL;
    return mcp_pick (tool, "id", "server_id", "server_name", "name", "title",
                     "description", "enabled", "timeout_ms", "input_schema",
                     "output_schema", "suggested_annotations", "current_version",
                     "python_code", "created_at", "updated_at", NULL);
}

void
mcp_tool_get_tool (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "tool.get", MCP_BUS_TIMEOUT_MS,
                                      s_project_get_tool };
    mcp_tool_simple (call, &def, mcp_pick (args, "tool_id", NULL));
}

static json_t *
s_project_create_tool (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *tool = json_object_get (reply, "tool");
    const char *id = bus_json_str (tool, "id");
    const char *name = bus_json_str (tool, "name");
    if (!id || !name)
        return NULL;
    return json_pack ("{s:b, s:s, s:s, s:s, s:s}", "success", 1, "id", id,
        "name", name, "status", "draft",
        "message", "Tool created as a draft (version 1). Try it with "
                   "mcpbox_test_code, then ask for review with mcpbox_request_publish.");
}

void
mcp_tool_create_tool (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "tool.create", MCP_BUS_SLOW_MS,
                                      s_project_create_tool };
    json_t *fields = mcp_pick (args, "server_id", "name", "title", "description",
                               "annotations", "python_code", NULL);
    json_object_set_new (fields, "created_by", json_string ("llm"));
    json_object_set_new (fields, "change_source", json_string ("llm"));
    mcp_tool_simple (call, &def, fields);
}

//  --- update / rollback: the change, then what its approval means ---------------

static void
s_json_free (void *value)
{
    json_decref (value);
}

//  What the code's approval status means for calling the tool.
static const char *
s_status_sentence (const char *status, bool enabled)
{
    if (!status)
        return "Its approval status could not be read (the approval service did not "
               "answer): check it with mcpbox_get_tool_status.";
    if (strcmp (status, "approved") == 0)
        return enabled
            ? "This exact code was approved before, so the tool is callable at once "
              "(while its server is running)."
            : "This exact code was approved before, but the tool is disabled: enable it "
              "to call it.";
    if (strcmp (status, "pending_review") == 0)
        return "This code is waiting for an admin's review; the tool is not callable "
               "until it is approved.";
    if (strcmp (status, "rejected") == 0)
        return "This code was rejected before; the tool is not callable. Change the code "
               "and request publishing again (mcpbox_request_publish).";
    return "This code needs review: the tool is not callable until you request "
           "publishing (mcpbox_request_publish) and an admin approves it.";
}

static void
s_changed_status (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    json_t *out = call->ctx;
    call->ctx = NULL;
    const char *status = reply->ok ? bus_json_str (reply->body, "approval_status") : NULL;
    char message [768];
    snprintf (message, sizeof message, "%s %s", bus_json_str (out, "message"),
              s_status_sentence (status, tag != 0));
    json_object_set_new (out, "message", json_string (message));
    json_object_set_new (out, "approval_status", status ? json_string (status)
                                                        : json_null ());
    mcp_call_tool_ok (call, out);
}

//  out (taken) is the answer so far; ask approval about the tool's code.
static void
s_then_status (mcp_call_t *call, json_t *out, const char *tool_id, bool enabled)
{
    mcp_call_set_ctx (call, out, s_json_free);
    json_t *fields = json_pack ("{s:s}", "tool_id", tool_id);
    mcp_call_bus (call, "approval", "tool.status", fields, MCP_BUS_TIMEOUT_MS,
                  s_changed_status, enabled);
    json_decref (fields);
}

static json_t *
s_project_update_tool (const json_t *reply, const json_t *args)
{
    json_t *tool = json_object_get (reply, "tool");
    const char *id = bus_json_str (tool, "id");
    const char *name = bus_json_str (tool, "name");
    if (!id || !name)
        return NULL;
    bool changed = json_is_true (json_object_get (reply, "changed"));
    const char *message = !changed ? "Nothing changed."
                        : json_object_get (args, "python_code")
                        ? "Tool updated (a new version)."
                        : "Tool updated.";
    json_t *out = json_pack ("{s:b, s:s, s:s, s:b, s:s}", "success", 1, "id", id,
                             "name", name, "changed", changed, "message", message);
    json_t *version = json_object_get (tool, "current_version");
    if (version)
        json_object_set (out, "current_version", version);
    return out;
}

static void
s_updated (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    json_t *out = s_project_update_tool (reply->body, call->args);
    if (!out) {
        mcp_call_tool_error (call, "internal error: the registry service answered "
                             "in an unexpected form");
        return;
    }
    json_t *tool = json_object_get (reply->body, "tool");
    if (json_is_true (json_object_get (out, "changed"))
    &&  json_object_get (call->args, "python_code"))
        s_then_status (call, out, bus_json_str (tool, "id"),
                       json_is_true (json_object_get (tool, "enabled")));
    else
        mcp_call_tool_ok (call, out);
}

void
mcp_tool_update_tool (mcp_call_t *call, json_t *args)
{
    json_t *fields = mcp_pick (args, "tool_id", "name", "title", "description",
                               "annotations", "python_code", "enabled", "timeout_ms",
                               NULL);
    json_object_set_new (fields, "change_source", json_string ("llm"));
    mcp_call_bus (call, "registry", "tool.update", fields, MCP_BUS_SLOW_MS,
                  s_updated, 0);
    json_decref (fields);
}

static json_t *
s_project_delete_tool (const json_t *reply, const json_t *args)
{
    (void) reply;
    (void) args;
    return json_pack ("{s:b, s:s}", "success", 1, "message",
                      "Tool deleted, with its versions.");
}

void
mcp_tool_delete_tool (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "tool.delete", MCP_BUS_TIMEOUT_MS,
                                      s_project_delete_tool };
    mcp_tool_simple (call, &def, mcp_pick (args, "tool_id", NULL));
}

static json_t *
s_project_versions (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *versions = json_object_get (reply, "versions");
    if (!json_is_array (versions))
        return NULL;
    json_t *out = mcp_pick (reply, "tool_id", "tool_name", "current_version",
                            "total_versions", NULL);
    json_object_set_new (out, "versions", mcp_pick_each (versions, "version",
                         "change_summary", "change_source", "created_at", NULL));
    return out;
}

void
mcp_tool_list_tool_versions (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "tool.versions", MCP_BUS_TIMEOUT_MS,
                                      s_project_versions };
    mcp_tool_simple (call, &def, mcp_pick (args, "tool_id", NULL));
}

static json_t *
s_project_rollback (const json_t *reply, const json_t *args)
{
    json_t *tool = json_object_get (reply, "tool");
    const char *id = bus_json_str (tool, "id");
    const char *name = bus_json_str (tool, "name");
    if (!id || !name)
        return NULL;
    char message [512];
    snprintf (message, sizeof message, "Restored version %" JSON_INTEGER_FORMAT
              " as version %" JSON_INTEGER_FORMAT ".",
              bus_json_int (args, "version", 0),
              bus_json_int (tool, "current_version", 0));
    json_t *out = json_pack ("{s:b, s:s, s:s, s:s}", "success", 1, "tool_id", id,
                             "name", name, "message", message);
    json_t *version = json_object_get (tool, "current_version");
    if (version)
        json_object_set (out, "current_version", version);
    return out;
}

static void
s_rolled_back (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    json_t *out = s_project_rollback (reply->body, call->args);
    if (!out) {
        mcp_call_tool_error (call, "internal error: the registry service answered "
                             "in an unexpected form");
        return;
    }
    json_t *tool = json_object_get (reply->body, "tool");
    s_then_status (call, out, bus_json_str (tool, "id"),
                   json_is_true (json_object_get (tool, "enabled")));
}

void
mcp_tool_rollback_tool (mcp_call_t *call, json_t *args)
{
    json_t *fields = mcp_pick (args, "tool_id", "version", NULL);
    mcp_call_bus (call, "registry", "tool.rollback", fields, MCP_BUS_SLOW_MS,
                  s_rolled_back, 0);
    json_decref (fields);
}

//  --- start_server: start, then count what became callable ------------------------

static void
s_started_counted (mcp_call_t *call, bool ok)
{
    json_t *out = call->ctx;
    call->ctx = NULL;
    const char *server_id = bus_json_str (call->args, "server_id");
    catalog_cache_t *catalog = call->mcp->catalog;
    if (ok) {
        json_int_t count = 0;
        for (size_t i = 0; i < catalog_cache_count (catalog); i++)
            if (strcmp (catalog_cache_tool (catalog, i)->server_id, server_id) == 0)
                count++;
        json_object_set_new (out, "registered_tools", json_integer (count));
    }
    else
        json_object_set_new (out, "registered_tools", json_null ());
    mcp_call_tool_ok (call, out);
}

static void
s_started (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    const char *name = bus_json_str (json_object_get (reply->body, "server"), "name");
    char message [512];
    snprintf (message, sizeof message, "Server '%s' started: its enabled, approved "
              "tools are now callable.", name ? name : "?");
    json_t *out = json_pack ("{s:b, s:s, s:s}", "success", 1, "message", message,
                             "status", "running");
    mcp_call_set_ctx (call, out, s_json_free);
    //  the snapshot may predate the start: refetch, then count
    catalog_cache_invalidate (call->mcp->catalog, gateway_now_ms ());
    mcp_call_need_catalog (call, s_started_counted);
}

void
mcp_tool_start_server (mcp_call_t *call, json_t *args)
{
    json_t *fields = mcp_pick (args, "server_id", NULL);
    mcp_call_bus (call, "registry", "server.start", fields, MCP_BUS_TIMEOUT_MS,
                  s_started, 0);
    json_decref (fields);
}

//  --- get_server: the server, its tools' statuses, its pending requests ---------------

typedef struct {
    json_t *server;         //  registry's server{…}
    json_t *statuses;       //  approval_status per tool (null until known)
    json_t *pending;        //  approval pending.list reply, or NULL
    size_t  waiting;        //  approval replies still due
} get_server_t;

static void
s_get_server_free (void *ctx)
{
    get_server_t *self = ctx;
    json_decref (self->server);
    json_decref (self->statuses);
    json_decref (self->pending);
    free (self);
}

//  Does a pending request (module or network) belong to this server?
static bool
s_request_of_server (const json_t *request, const char *server_id, const json_t *tools)
{
    const char *owner = bus_json_str (request, "server_id");
    if (owner)
        return strcmp (owner, server_id) == 0;
    const char *tool_id = bus_json_str (request, "tool_id");
    size_t i;
    json_t *tool;
    json_array_foreach (tools, i, tool) {
        const char *id = bus_json_str (tool, "id");
        if (tool_id && id && strcmp (id, tool_id) == 0)
            return true;
    }
    return false;
}

static json_t *
s_pending_of_server (const json_t *list, const char *server_id, const json_t *tools)
{
    json_t *out = json_array ();
    size_t i;
    json_t *request;
    json_array_foreach (list, i, request)
        if (json_is_object (request) && s_request_of_server (request, server_id, tools))
            json_array_append (out, request);
    return out;
}

static void
s_get_server_render (mcp_call_t *call, bool ok)
{
    get_server_t *self = call->ctx;
    json_t *server = self->server;
    const char *server_id = bus_json_str (server, "id");
    json_t *tools = json_object_get (server, "tools");
    json_t *out = mcp_pick (server, "id", "name", "description", "status",
                            "default_timeout_ms", "created_at", "updated_at", NULL);
    catalog_server_t rules;
    if (ok && catalog_cache_server (call->mcp->catalog, server_id, &rules)) {
        json_object_set_new (out, "allowed_hosts", rules.allowed_hosts
                             ? json_incref (rules.allowed_hosts) : json_array ());
        json_object_set_new (out, "network_policy", json_string (rules.network_policy));
    }
    else
        json_object_set_new (out, "allowed_hosts", ok ? json_array () : json_null ());
    json_t *listed = mcp_pick_each (tools, "id", "name", "description", "enabled", NULL);
    size_t i;
    json_t *tool;
    json_array_foreach (listed, i, tool) {
        json_t *status = json_array_get (self->statuses, i);
        json_object_set (tool, "approval_status", status ? status : json_null ());
    }
    json_object_set_new (out, "tools", listed);
    json_object_set_new (out, "tool_count", json_integer ((json_int_t) json_array_size (tools)));
    json_t *pending = self->pending;
    json_object_set_new (out, "pending_requests", json_pack ("{s:o, s:o}",
        "modules", s_pending_of_server (json_object_get (pending, "pending_module_requests"),
                                        server_id, tools),
        "network", s_pending_of_server (json_object_get (pending, "pending_network_requests"),
                                        server_id, tools)));
    mcp_call_tool_ok (call, out);
}

static void
s_get_server_approval (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    get_server_t *self = call->ctx;
    if (reply->ok) {
        if (tag < 0)
            self->pending = json_incref (reply->body);
        else {
            const char *status = bus_json_str (reply->body, "approval_status");
            if (status)
                json_array_set_new (self->statuses, (size_t) tag, json_string (status));
        }
    }
    //  a failed status leaves null: the rest is still worth showing
    if (--self->waiting == 0)
        mcp_call_need_catalog (call, s_get_server_render);
}

static void
s_get_server_got (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    json_t *server = json_object_get (reply->body, "server");
    if (!json_is_object (server) || !bus_json_str (server, "id")) {
        mcp_call_tool_error (call, "internal error: the registry service answered "
                             "in an unexpected form");
        return;
    }
    get_server_t *self = calloc (1, sizeof *self);
    assert (self);
    self->server = json_incref (server);
    self->statuses = json_array ();
    json_t *tools = json_object_get (server, "tools");
    size_t count = json_array_size (tools);
    for (size_t i = 0; i < count; i++)
        json_array_append_new (self->statuses, json_null ());
    mcp_call_set_ctx (call, self, s_get_server_free);

    size_t asked = count < GET_SERVER_STATUS_MAX ? count : GET_SERVER_STATUS_MAX;
    self->waiting = asked + 1;          //  all counted before any can complete
    mcp_call_bus (call, "approval", "pending.list", NULL, MCP_BUS_TIMEOUT_MS,
                  s_get_server_approval, -1);
    for (size_t i = 0; i < asked; i++) {
        json_t *fields = json_pack ("{s:s?}", "tool_id",
                                    bus_json_str (json_array_get (tools, i), "id"));
        mcp_call_bus (call, "approval", "tool.status", fields, MCP_BUS_TIMEOUT_MS,
                      s_get_server_approval, (intptr_t) i);
        json_decref (fields);
    }
}

void
mcp_tool_get_server (mcp_call_t *call, json_t *args)
{
    json_t *fields = mcp_pick (args, "server_id", NULL);
    mcp_call_bus (call, "registry", "server.get", fields, MCP_BUS_TIMEOUT_MS,
                  s_get_server_got, 0);
    json_decref (fields);
}

//  --- get_server_modules ------------------------------------------------------------

//  Same members, any order.
static bool
s_same_set (const json_t *a, const json_t *b)
{
    if (json_array_size (a) != json_array_size (b))
        return false;
    size_t i, j;
    json_t *x, *y;
    json_array_foreach (a, i, x) {
        bool found = false;
        json_array_foreach (b, j, y)
            if (json_equal (x, y)) {
                found = true;
                break;
            }
        if (!found)
            return false;
    }
    return true;
}

static void
s_modules_render (mcp_call_t *call, bool ok)
{
    json_t *defaults = mcp_default_modules ();
    json_t *allowed = NULL;
    const char *server_id = bus_json_str (call->args, "server_id");
    catalog_server_t rules;
    if (server_id && !ok) {
        json_decref (defaults);
        mcp_call_tool_error (call, "the approval service is not available right now; "
                             "try again later");
        return;
    }
    if (server_id && catalog_cache_server (call->mcp->catalog, server_id, &rules)
    &&  rules.allowed_modules)
        allowed = json_incref (rules.allowed_modules);
    else
        allowed = json_deep_copy (defaults);
    json_t *out = json_pack ("{s:b, s:O, s:o, s:I}",
        "is_custom_config", !s_same_set (allowed, defaults),
        "allowed_modules", allowed,
        "default_modules", defaults,
        "total_allowed", (json_int_t) json_array_size (allowed));
    json_decref (allowed);
    if (server_id)
        json_object_set_new (out, "server_id", json_string (server_id));
    mcp_call_tool_ok (call, out);
}

void
mcp_tool_get_server_modules (mcp_call_t *call, json_t *args)
{
    if (json_object_get (args, "server_id"))
        mcp_call_need_catalog (call, s_modules_render);
    else
        s_modules_render (call, true);
}

/*  api_servers.c — /api/servers: servers (registry), their allowed hosts
    and modules (approval: admin.add_host / admin.add_module, recorded as
    added by the signed-in admin), their secrets (credentials: keys and
    whether a value is set — a value goes in, never comes out).

    GET /api/servers/{id} joins registry server.get with approval
    requests.list (kind tool, that server): a tool's approval_status is the
    review of its current code hash, or "draft".
*/
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "mcp_tools.h"

#define S_NAME_MAX      64
#define S_TEXT_MAX      2000
#define S_HOST_MAX      253
#define S_MODULE_MAX    100
#define S_SECRET_MAX    (8 * 1024)

static const char *
s_id (api_call_t *call)
{
    return api_param (call, 0);
}

static json_t *
s_by_id (api_call_t *call)
{
    return json_pack ("{s:s}", "server_id", s_id (call));
}

//  --- servers ------------------------------------------------------------------------

static json_t *
s_project_list (api_call_t *call, const json_t *reply)
{
    json_t *servers = json_object_get (reply, "servers");
    if (!json_is_array (servers))
        return NULL;
    json_int_t page = bus_json_int (reply, "page", 1);
    json_int_t size = bus_json_int (reply, "page_size", API_LIMIT_DEFAULT);
    json_int_t total = bus_json_int (reply, "total", 0);
    json_int_t next = page * size;
    (void) call;
    char cursor [24];
    snprintf (cursor, sizeof cursor, "%" JSON_INTEGER_FORMAT, next);
    return json_pack ("{s:O, s:I, s:o}", "servers", servers, "total", total,
                      "next_cursor", next < total ? json_string (cursor) : json_null ());
}

void
api_servers_list (api_call_t *call)
{
    static const api_simple_t def = { "registry", "server.list", 200, s_project_list };
    json_int_t offset, limit;
    if (!api_page (call, &offset, &limit))
        return;
    if (offset % limit) {
        api_error (call, 400, "bad_request", "cursor: use the same limit as the page "
                   "that handed it out");
        return;
    }
    api_simple (call, &def, json_pack ("{s:I, s:I}", "page", offset / limit + 1,
                                       "page_size", limit));
}

void
api_servers_create (api_call_t *call)
{
    static const api_simple_t def = { "registry", "server.create", 201, NULL };
    static const char *const keys [] = { "name", "description", NULL };
    const char *name, *description;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "name", true, S_NAME_MAX, &name)
    ||  !api_body_str (call, "description", false, S_TEXT_MAX, &description))
        return;
    api_simple (call, &def, mcp_pick (call->body, "name", "description", NULL));
}

//  GET /api/servers/{id}: the server, then its tools' review status.
static void
s_got_reviews (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *server = json_object_get (call->ctx, "server");
    json_t *tools = json_object_get (server, "tools");
    json_t *reviews = json_object_get (reply->body, "requests");
    json_t *out_tools = json_array ();
    size_t i, j;
    json_t *tool, *review;
    json_array_foreach (tools, i, tool) {
        json_t *item = mcp_pick (tool, "id", "name", "description", "enabled",
                                 "current_version", "code_hash", "removed_at", NULL);
        const char *status = "draft";
        const char *hash = bus_json_str (tool, "code_hash");
        const char *id = bus_json_str (tool, "id");
        json_array_foreach (reviews, j, review) {
            const char *rid = bus_json_str (review, "tool_id");
            const char *rhash = bus_json_str (review, "code_hash");
            if (id && hash && rid && rhash && !strcmp (id, rid) && !strcmp (hash, rhash))
                status = bus_json_str (review, "status") ? bus_json_str (review, "status")
                                                          : status;
        }
        json_object_set_new (item, "approval_status", json_string (status));
        json_array_append_new (out_tools, item);
    }
    json_t *bare = json_deep_copy (server);
    json_object_del (bare, "tools");
    api_ok (call, 200, json_pack ("{s:o, s:o}", "server", bare, "tools", out_tools));
}

static void
s_got_server (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *server = json_object_get (reply->body, "server");
    if (!json_is_object (server)) {
        api_error (call, 500, "internal", "the registry service answered in an "
                   "unexpected form");
        return;
    }
    call->ctx = json_pack ("{s:O}", "server", server);
    json_t *fields = json_pack ("{s:s, s:s, s:i}", "kind", "tool", "server_id", s_id (call),
                                "limit", 1000);
    api_ask (call, "approval", "requests.list", fields, s_got_reviews);
    json_decref (fields);
}

void
api_servers_get (api_call_t *call)
{
    json_t *fields = s_by_id (call);
    api_ask (call, "registry", "server.get", fields, s_got_server);
    json_decref (fields);
}

void
api_servers_delete (api_call_t *call)
{
    static const api_simple_t def = { "registry", "server.delete", 200, NULL };
    api_simple (call, &def, s_by_id (call));
}

static json_t *
s_project_server (api_call_t *call, const json_t *reply)
{
    (void) call;
    json_t *server = json_object_get (reply, "server");
    return json_is_object (server) ? mcp_pick (reply, "server", "changed", "enabled_tools",
                                               NULL) : NULL;
}

void
api_servers_start (api_call_t *call)
{
    static const api_simple_t def = { "registry", "server.start", 200, s_project_server };
    api_simple (call, &def, s_by_id (call));
}

void
api_servers_stop (api_call_t *call)
{
    static const api_simple_t def = { "registry", "server.stop", 200, s_project_server };
    api_simple (call, &def, s_by_id (call));
}

//  --- allowed hosts and modules (approval's requests of the server) -------------------

static json_t *
s_project_hosts (api_call_t *call, const json_t *reply)
{
    (void) call;
    json_t *requests = json_object_get (reply, "requests");
    return json_is_array (requests) ? json_pack ("{s:O}", "hosts", requests) : NULL;
}

static json_t *
s_project_modules (api_call_t *call, const json_t *reply)
{
    (void) call;
    json_t *requests = json_object_get (reply, "requests");
    return json_is_array (requests)
         ? json_pack ("{s:O, s:o}", "modules", requests, "default", mcp_default_modules ())
         : NULL;
}

void
api_servers_hosts (api_call_t *call)
{
    static const api_simple_t def = { "approval", "requests.list", 200, s_project_hosts };
    api_simple_on_server (call, s_id (call), &def, json_pack ("{s:s, s:s, s:i}", "kind",
                          "network", "server_id", s_id (call), "limit", 1000));
}

void
api_servers_modules (api_call_t *call)
{
    static const api_simple_t def = { "approval", "requests.list", 200, s_project_modules };
    api_simple_on_server (call, s_id (call), &def, json_pack ("{s:s, s:s, s:i}", "kind",
                          "module", "server_id", s_id (call), "limit", 1000));
}

void
api_servers_add_host (api_call_t *call)
{
    static const api_simple_t def = { "approval", "admin.add_host", 201, NULL };
    static const char *const keys [] = { "host", "port", NULL };
    const char *host;
    json_int_t port = 0;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "host", true, S_HOST_MAX, &host)
    ||  !api_body_int (call, "port", false, 1, 65535, &port))
        return;
    json_t *fields = json_pack ("{s:s, s:s, s:s}", "server_id", s_id (call), "host", host,
                                "added_by", api_username (call));
    if (port)
        json_object_set_new (fields, "port", json_integer (port));
    api_simple (call, &def, fields);
}

void
api_servers_add_module (api_call_t *call)
{
    static const api_simple_t def = { "approval", "admin.add_module", 201, NULL };
    static const char *const keys [] = { "module_name", NULL };
    const char *module;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "module_name", true, S_MODULE_MAX, &module))
        return;
    api_simple (call, &def, json_pack ("{s:s, s:s, s:s}", "server_id", s_id (call),
                                       "module_name", module, "added_by", api_username (call)));
}

//  --- secrets (credentials; the server checked with the registry first) --------------

static json_t *
s_project_secrets (api_call_t *call, const json_t *reply)
{
    (void) call;
    json_t *secrets = json_object_get (reply, "secrets");
    if (!json_is_array (secrets))
        return NULL;
    //  only these fields: a value never leaves, whatever credentials sends
    return json_pack ("{s:o}", "secrets", mcp_pick_each (secrets, "key", "description",
                      "has_value", "created_at", "updated_at", NULL));
}

static json_t *
s_project_secret (api_call_t *call, const json_t *reply)
{
    (void) call;
    return mcp_pick (reply, "server_id", "key", "description", "has_value", NULL);
}

void
api_servers_secrets (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "secret_list", 200, s_project_secrets };
    api_simple_on_server (call, s_id (call), &def, s_by_id (call));
}

//  POST {key, description?, value?}: a placeholder, and the value if given.
static void
s_secret_created (api_call_t *call, bus_json_t *reply)
{
    static const api_simple_t set = { "credentials", "secret_set", 201, s_project_secret };
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *fields = mcp_pick (call->body, "key", "value", NULL);
    json_object_set_new (fields, "server_id", json_string (s_id (call)));
    api_simple (call, &set, fields);
}

static void
s_secret_server_found (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    api_ask (call, "credentials", "secret_create", call->ctx, s_secret_created);
}

void
api_servers_secret_create (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "secret_create", 201, s_project_secret };
    static const char *const keys [] = { "key", "description", "value", NULL };
    const char *key, *description, *value;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "key", true, 64, &key)
    ||  !api_body_str (call, "description", false, 500, &description)
    ||  !api_body_str (call, "value", false, S_SECRET_MAX, &value))
        return;
    json_t *fields = mcp_pick (call->body, "key", "description", NULL);
    json_object_set_new (fields, "server_id", json_string (s_id (call)));
    if (!value) {
        api_simple_on_server (call, s_id (call), &def, fields);
        return;
    }
    //  the server checked, the placeholder created, then the value set
    call->ctx = fields;
    json_t *check = s_by_id (call);
    api_ask (call, "registry", "server.get", check, s_secret_server_found);
    json_decref (check);
}

void
api_servers_secret_set (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "secret_set", 200, s_project_secret };
    static const char *const keys [] = { "value", NULL };
    const char *value;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "value", true, S_SECRET_MAX, &value))
        return;
    api_simple_on_server (call, s_id (call), &def, json_pack ("{s:s, s:s, s:s}",
                          "server_id", s_id (call), "key", api_param (call, 1),
                          "value", value));
}

void
api_servers_secret_delete (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "secret_delete", 200, s_project_secret };
    api_simple_on_server (call, s_id (call), &def, json_pack ("{s:s, s:s}",
                          "server_id", s_id (call), "key", api_param (call, 1)));
}

/*  mcp_tools_sources.c — the management tools of external MCP sources
    (docs/DESIGN.md, section 14):

      mcpbox_add_external_source      registry source.create
      mcpbox_list_external_sources    registry source.list (with health)
      mcpbox_discover_external_tools  registry source.get -> the catalog's
                                      network rules of its server -> sandbox
                                      `source` {action: discover} -> registry
                                      source.discovered (the listing, or the
                                      failure as the source's health)
      mcpbox_import_external_tools    registry source.import

    Imported tools are mcp_passthrough tools in draft: like any tool they
    are published with mcpbox_request_publish and approved by the admin,
    who sees the remote tool's description and input schema. A discovery
    that finds an imported tool changed on the source gives it a new
    version the admin must approve again; the answer says which, and which
    imported tools the source no longer offers (removed: out of the
    catalog until it offers them again) or offers again (restored).
*/
#include <stdlib.h>
#include <string.h>

#include "mcp_tools.h"

#define DISCOVER_TIMEOUT_MS 30000       //  the whole conversation with the source

static json_t *
s_project_add (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *source = json_object_get (reply, "source");
    const char *id = bus_json_str (source, "id");
    if (!id)
        return NULL;
    json_t *out = mcp_pick (source, "name", "url", "auth_type", "auth_secret_name",
                            "auth_header_name", "transport_type", "status", NULL);
    json_object_set_new (out, "success", json_true ());
    json_object_set_new (out, "source_id", json_string (id));
    json_object_set_new (out, "message", json_string (
        "Source added. Discover its tools with mcpbox_discover_external_tools; the "
        "source's host must be in the server's allowed hosts (ask with "
        "mcpbox_request_network_access) unless the network policy allows public hosts."));
    return out;
}

void
mcp_tool_add_external_source (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "source.create", MCP_BUS_TIMEOUT_MS,
                                      s_project_add };
    mcp_tool_simple (call, &def, mcp_pick (args, "server_id", "name", "url", "auth_type",
                                           "auth_secret_name", "auth_header_name",
                                           "transport_type", NULL));
}

static json_t *
s_project_list (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *sources = json_object_get (reply, "sources");
    if (!json_is_array (sources))
        return NULL;
    return json_pack ("{s:o, s:O}", "sources",
        mcp_pick_each (sources, "id", "name", "url", "auth_type", "transport_type",
                       "status", "tool_count", "last_discovered_at", "last_contact_at",
                       "last_error", "last_error_at", NULL),
        "total", json_object_get (reply, "total") ? json_object_get (reply, "total")
                                                  : json_integer (0));
}

void
mcp_tool_list_external_sources (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "source.list", MCP_BUS_TIMEOUT_MS,
                                      s_project_list };
    mcp_tool_simple (call, &def, mcp_pick (args, "server_id", NULL));
}

//  --- discover -------------------------------------------------------------------

enum { STEP_SOURCE = 1, STEP_SANDBOX, STEP_RECORD };

typedef struct {
    json_t *source;             //  registry's record
    json_t *listing;            //  the sandbox's answer (discover)
    char    error [1024];       //  the sandbox's failure, if any
} discover_t;

static void
s_discover_free (void *ctx)
{
    discover_t *self = ctx;
    json_decref (self->source);
    json_decref (self->listing);
    free (self);
}

static void s_discover_step (mcp_call_t *call, bus_json_t *reply, intptr_t tag);

static void
s_discover_catalog (mcp_call_t *call, bool ok)
{
    discover_t *self = call->ctx;
    if (!ok) {
        mcp_call_tool_error (call, "The server's network rules could not be read (the "
                             "registry or approval service is not answering); try again.");
        return;
    }
    const char *server_id = bus_json_str (self->source, "server_id");
    catalog_server_t rules;
    catalog_cache_server (call->mcp->catalog, server_id, &rules);
    json_t *job = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:i}",
        "action", "discover",
        "url", bus_json_str (self->source, "url"),
        "transport", bus_json_str (self->source, "transport_type"),
        "auth_type", bus_json_str (self->source, "auth_type"),
        "server_id", server_id,
        "allowed_hosts", rules.allowed_hosts ? json_incref (rules.allowed_hosts)
                                             : json_array (),
        "network_policy", rules.network_policy,
        "timeout_ms", DISCOVER_TIMEOUT_MS);
    if (!job) {
        mcp_call_tool_error (call, "The source's record is incomplete");
        return;
    }
    const char *secret = bus_json_str (self->source, "auth_secret_name");
    const char *header = bus_json_str (self->source, "auth_header_name");
    json_object_set (job, "source_id", json_object_get (self->source, "id"));
    if (secret)
        json_object_set_new (job, "auth_secret_name", json_string (secret));
    if (header)
        json_object_set_new (job, "auth_header_name", json_string (header));
    mcp_call_set_backstop (call, DISCOVER_TIMEOUT_MS + 20000);
    mcp_call_bus (call, "sandbox", "source", job, DISCOVER_TIMEOUT_MS + 5000,
                  s_discover_step, STEP_SANDBOX);
    json_decref (job);
}

static void
s_discover_step (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    discover_t *self = call->ctx;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, tag == STEP_SANDBOX ? "sandbox" : "registry", reply);
        return;
    }
    if (tag == STEP_SOURCE) {
        self->source = json_incref (json_object_get (reply->body, "source"));
        if (!json_is_object (self->source)) {
            mcp_call_tool_error (call, "The registry's answer has no source");
            return;
        }
        mcp_call_need_catalog (call, s_discover_catalog);
        return;
    }
    if (tag == STEP_SANDBOX) {
        json_t *fields = json_pack ("{s:O}", "source_id", json_object_get (self->source, "id"));
        if (json_is_true (json_object_get (reply->body, "success"))) {
            self->listing = json_incref (json_object_get (reply->body, "tools"));
            json_object_set (fields, "tools", self->listing);
            const char *version = bus_json_str (reply->body, "protocol_version");
            if (version)
                json_object_set_new (fields, "protocol_version", json_string (version));
        }
        else {
            const char *message = bus_json_str (json_object_get (reply->body, "error"),
                                                "message");
            snprintf (self->error, sizeof self->error, "%s",
                      message ? message : "the source could not be reached");
            json_object_set_new (fields, "error", json_string (self->error));
        }
        mcp_call_bus (call, "registry", "source.discovered", fields, MCP_BUS_TIMEOUT_MS,
                      s_discover_step, STEP_RECORD);
        json_decref (fields);
        return;
    }
    //  STEP_RECORD: stored; now the answer
    if (self->error [0]) {
        mcp_call_tool_error (call, "The external source could not be discovered: %s",
                             self->error);
        return;
    }
    json_t *out = json_pack ("{s:o, s:I, s:O, s:O, s:O}",
        "tools", mcp_pick_each (self->listing, "name", "title", "description",
                                "input_schema", NULL),
        "total", (json_int_t) json_array_size (self->listing),
        "changed_tools", json_object_get (reply->body, "changed_tools"),
        "removed_tools", json_object_get (reply->body, "removed_tools"),
        "restored_tools", json_object_get (reply->body, "restored_tools"));
    if (!out) {
        mcp_call_tool_error (call, "The registry's answer is incomplete");
        return;
    }
    bool changed = json_array_size (json_object_get (out, "changed_tools")) > 0;
    bool removed = json_array_size (json_object_get (out, "removed_tools")) > 0;
    if (changed || removed)
        json_object_set_new (out, "message", json_sprintf ("%s%s%s",
            changed ? "Some imported tools changed on the source: each has a new version "
                      "that must be approved again before it can be called "
                      "(mcpbox_request_publish)." : "",
            changed && removed ? " " : "",
            removed ? "Some imported tools are no longer offered by the source "
                      "(removed_tools): they are not listed or callable until the source "
                      "offers them again." : ""));
    mcp_call_tool_ok (call, out);
}

void
mcp_tool_discover_external_tools (mcp_call_t *call, json_t *args)
{
    discover_t *self = calloc (1, sizeof *self);
    if (!self) {
        mcp_call_tool_error (call, "out of memory");
        return;
    }
    mcp_call_set_ctx (call, self, s_discover_free);
    json_t *fields = mcp_pick (args, "source_id", NULL);
    mcp_call_bus (call, "registry", "source.get", fields, MCP_BUS_TIMEOUT_MS,
                  s_discover_step, STEP_SOURCE);
    json_decref (fields);
}

//  --- import ----------------------------------------------------------------------

static json_t *
s_project_import (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *imported = json_object_get (reply, "imported_tools");
    if (!json_is_array (imported))
        return NULL;
    json_t *out = mcp_pick (reply, "imported_tools", "count", "skipped_tools", NULL);
    json_object_set_new (out, "success", json_true ());
    json_object_set_new (out, "message", json_string (json_array_size (imported)
        ? "Imported as draft tools: ask for their review with mcpbox_request_publish; "
          "they can be called once the admin approves them and the server runs."
        : "Nothing was imported: see skipped_tools."));
    return out;
}

void
mcp_tool_import_external_tools (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "registry", "source.import", MCP_BUS_TIMEOUT_MS,
                                      s_project_import };
    mcp_tool_simple (call, &def, mcp_pick (args, "source_id", "tool_names", NULL));
}

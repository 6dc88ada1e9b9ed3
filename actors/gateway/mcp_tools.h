/*  mcp_tools.h — the management tools: MCPbox's own tools over MCP.

    One table (mcp_tools.c) names each tool with its description, its
    input schema (JSON text, parsed once into mcp_t) and its handler. The
    handlers live by the service they mostly talk to:

      mcp_tools_registry.c   servers and tools (registry), get_server's
                             approval details, get_server_modules
      mcp_tools_approval.c   publish / module / network requests and their
                             status (approval)
      mcp_tools_sandbox.c    test_code and validate_code (sandbox)
      mcp_tools_secrets.c    secret placeholders (credentials)
      mcp_tools_logs.c       a tool's execution logs (logs)

    A handler gets arguments already checked against the schema, sends
    bus requests through mcp_call_bus, and answers with mcp_call_tool_ok
    (JSON text content + structuredContent) or mcp_call_tool_error /
    mcp_call_tool_bus_error (isError true). There is deliberately no tool
    that approves, rejects or revokes anything: that is the admin's, over
    the REST API, never the LLM's.
*/
#ifndef MCPBOX_GATEWAY_MCP_TOOLS_H
#define MCPBOX_GATEWAY_MCP_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "mcp_call.h"

typedef void (mcp_tool_fn) (mcp_call_t *call, json_t *args);

typedef struct {
    const char  *name;          //  "mcpbox_list_servers"
    const char  *description;   //  for the LLM
    const char  *schema;        //  input schema, JSON text
    mcp_tool_fn *handler;
} mcp_tool_def_t;

size_t                mcp_tools_count (void);
const mcp_tool_def_t *mcp_tools_get (size_t index);
//  The index of a tool by name, or -1.
int                   mcp_tools_find (const char *name);
//  A local-only management tool (create/update/delete server and tool,
//  rollback, add external source, import external tools): refused and
//  hidden on the remote listener unless remote_tool_editing is enabled.
bool                  mcp_tools_local_only (const char *name);

//  Parse every schema: a JSON array index-aligned with the table, or NULL
//  with a message in err (a programming error, caught by the tests).
json_t               *mcp_tools_schemas (char *err, size_t errlen);
//  {name, title, description, inputSchema, annotations} for tools/list
//  (new reference): annotations are readOnlyHint, destructiveHint,
//  idempotentHint and openWorldHint, all given explicitly.
//  outputSchema too when outputs (from mcp_tools_outputs) is given.
json_t               *mcp_tools_render (size_t index, json_t *schemas,
                                        json_t *outputs);
//  Parse every output schema: a JSON array index-aligned with the table
//  (what each tool's structuredContent always has), or NULL with a message
//  in err (a programming error, caught by the tests).
json_t               *mcp_tools_outputs (char *err, size_t errlen);
//  A tool's display title, or NULL if the hints table does not line up
//  with the tools table (a programming error, caught by the tests).
const char           *mcp_tools_title (size_t index);

//  --- helpers for handlers ------------------------------------------------------

//  Turn a service's ok reply into the tool's output (new reference), or
//  NULL when the reply lacks what we need.
typedef json_t *(mcp_project_fn) (const json_t *reply, const json_t *args);

//  A tool that is one bus request and a projection of its reply.
typedef struct {
    const char     *service;
    const char     *op;
    int             timeout_ms;
    mcp_project_fn *project;
} mcp_simple_t;

//  Send {"op": def->op, ...fields} (fields: taken) and answer with the
//  projection, or with the bus error.
void    mcp_tool_simple (mcp_call_t *call, const mcp_simple_t *def, json_t *fields);
//  A new object with those of the NULL-terminated keys present in from.
json_t *mcp_pick (const json_t *from, ...) __attribute__ ((sentinel));
//  mcp_pick on each object of an array (non-objects skipped); [] if not
//  an array.
json_t *mcp_pick_each (const json_t *array, ...) __attribute__ ((sentinel));
//  The default module allowlist (docs/DESIGN.md, section 11), as a new array.
json_t *mcp_default_modules (void);

//  --- handlers ----------------------------------------------------------------
void mcp_tool_list_servers (mcp_call_t *call, json_t *args);
void mcp_tool_get_server (mcp_call_t *call, json_t *args);
void mcp_tool_create_server (mcp_call_t *call, json_t *args);
void mcp_tool_delete_server (mcp_call_t *call, json_t *args);
void mcp_tool_start_server (mcp_call_t *call, json_t *args);
void mcp_tool_stop_server (mcp_call_t *call, json_t *args);
void mcp_tool_get_server_modules (mcp_call_t *call, json_t *args);
void mcp_tool_list_tools (mcp_call_t *call, json_t *args);
void mcp_tool_get_tool (mcp_call_t *call, json_t *args);
void mcp_tool_create_tool (mcp_call_t *call, json_t *args);
void mcp_tool_update_tool (mcp_call_t *call, json_t *args);
void mcp_tool_delete_tool (mcp_call_t *call, json_t *args);
void mcp_tool_list_tool_versions (mcp_call_t *call, json_t *args);
void mcp_tool_rollback_tool (mcp_call_t *call, json_t *args);
void mcp_tool_test_code (mcp_call_t *call, json_t *args);
void mcp_tool_validate_code (mcp_call_t *call, json_t *args);
//  mcp_tools_secrets.c
void mcp_tool_create_server_secret (mcp_call_t *call, json_t *args);
void mcp_tool_list_server_secrets (mcp_call_t *call, json_t *args);
void mcp_tool_request_publish (mcp_call_t *call, json_t *args);
void mcp_tool_request_module (mcp_call_t *call, json_t *args);
void mcp_tool_request_network_access (mcp_call_t *call, json_t *args);
void mcp_tool_get_tool_status (mcp_call_t *call, json_t *args);
void mcp_tool_list_pending_requests (mcp_call_t *call, json_t *args);
void mcp_tool_get_tool_logs (mcp_call_t *call, json_t *args);
//  mcp_tools_sources.c
void mcp_tool_add_external_source (mcp_call_t *call, json_t *args);
void mcp_tool_list_external_sources (mcp_call_t *call, json_t *args);
void mcp_tool_discover_external_tools (mcp_call_t *call, json_t *args);
void mcp_tool_import_external_tools (mcp_call_t *call, json_t *args);

//  mcp_user_tools.c: call->tool_name and call->args name a user tool.
void mcp_user_tool_call (mcp_call_t *call);
//  mcp_passthrough.c: the same, for an mcp_passthrough tool already checked
//  (catalog, approval, arguments) by mcp_user_tool_call.
void mcp_passthrough_call (mcp_call_t *call, const catalog_tool_t *tool,
                           const catalog_server_t *rules);

#endif

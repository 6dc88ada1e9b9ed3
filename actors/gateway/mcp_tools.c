/*  mcp_tools.c — the table of management tools. See mcp_tools.h.

    Names, inputs and outputs follow the reference MCPbox's management
    tools, so prompts written for it carry over. Each schema is
    closed (additionalProperties false): a misspelt argument is reported
    to the LLM rather than ignored.
*/
#include <stdarg.h>
#include <string.h>

#include "mcp_tools.h"
#include "python_modules.h"

#define ID_PROP(what) \
    "{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,\"description\":\"" what "\"}"
#define ONLY(prop, name, what) \
    "{\"type\":\"object\",\"properties\":{\"" name "\":" ID_PROP (what) "}," \
    "\"required\":[\"" name "\"],\"additionalProperties\":false}"
#define SERVER_ONLY ONLY ("server_id", "server_id", "The server's id (a UUID).")
#define TOOL_ONLY   ONLY ("tool_id", "tool_id", "The tool's id (a UUID).")

//  A user tool's title and the LLM's suggested annotations: the same
//  properties in mcpbox_create_tool and mcpbox_update_tool.
#define TITLE_AND_HINTS_PROPS \
        "\"title\":{\"type\":\"string\",\"maxLength\":200," \
          "\"description\":\"A short human-readable name clients show (e.g. 'Current " \
          "weather').\"}," \
        "\"annotations\":{\"type\":\"object\",\"additionalProperties\":false," \
          "\"description\":\"Your suggested behaviour hints; the admin reviewing the tool " \
          "decides which are published to clients.\",\"properties\":{" \
          "\"readOnlyHint\":{\"type\":\"boolean\",\"description\":\"Changes nothing " \
          "anywhere.\"}," \
          "\"destructiveHint\":{\"type\":\"boolean\",\"description\":\"May delete or " \
          "overwrite data.\"}," \
          "\"idempotentHint\":{\"type\":\"boolean\",\"description\":\"Calling again with " \
          "the same arguments has no further effect.\"}," \
          "\"openWorldHint\":{\"type\":\"boolean\",\"description\":\"Reaches outside " \
          "systems (the network).\"}}},"

//  The sandbox rules, the same in mcpbox_create_tool and mcpbox_validate_code.
#define SANDBOX_RULES_TEXT \
      "Sandbox rules (checked before the code runs; mcpbox_validate_code lists every " \
      "problem with its line): no files, processes or sockets (no open/eval/exec/" \
      "compile/getattr/setattr/hasattr/type/globals/vars/dir); only the server's " \
      "allowed modules can be imported (by default " MODULES_DEFAULT_TEXT "; os, sys, subprocess, " \
      "socket, io, pathlib, importlib, asyncio, threading, pickle... are never " \
      "available); HTTP only through `await http.get/post/put/patch/delete(url, " \
      "params=, headers=, json=, data=, timeout=)` to hosts the admin allowed. " \
      "Names may start with one '_' (`_`, `_helper`); `obj._x` works only on " \
      "instances of the tool's own classes (and NamedTuple's _asdict/_replace/" \
      "_fields/_make); other '__dunder__' names and attributes are refused, except " \
      "these methods defined in the tool's classes: __init__, __post_init__, " \
      "__repr__, __str__, __format__, __eq__, __ne__, __lt__/__le__/__gt__/__ge__, " \
      "__hash__, __bool__, __len__, __iter__, __next__, __getitem__, __setitem__, " \
      "__delitem__, __contains__, __missing__, __enter__/__exit__, __aenter__/" \
      "__aexit__, __aiter__/__anext__, __call__ and arithmetic; super().__init__(...) " \
      "works. No metaclasses or class keywords, no global/nonlocal (keep state in " \
      "an instance or a dict), no positional class patterns in match (use " \
      "keywords). `await` only MCPbox's own awaitables (http.*, progress). "

static const mcp_tool_def_t s_tools [] = {
    //  --- servers -------------------------------------------------------------
    { "mcpbox_list_servers",
      "List the MCPbox servers (groups of tools), a page at a time. Returns "
      "servers [{id, name, description, status, created_at}], total, page, page_size.",
      "{\"type\":\"object\",\"properties\":{"
        "\"page\":{\"type\":\"integer\",\"minimum\":1,\"default\":1,"
          "\"description\":\"Page number, from 1.\"},"
        "\"page_size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":50,"
          "\"description\":\"Servers per page (1-100).\"}},"
      "\"additionalProperties\":false}",
      mcp_tool_list_servers },

    { "mcpbox_get_server",
      "Get one server: its fields, allowed network hosts, default timeout, its "
      "tools with their approval status, and its pending module and network "
      "requests.",
      SERVER_ONLY,
      mcp_tool_get_server },

    { "mcpbox_create_server",
      "Create a server, a named group of tools. The name must match "
      "^[a-z][a-z0-9_]*$ (at most 61 characters, no '__'); its tools are "
      "listed to MCP clients as {server}__{tool}, which must fit in 64 "
      "characters: keep the server name short.",
      "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":61,"
          "\"description\":\"Server name: lowercase letters, digits and '_', "
          "starting with a letter, no '__'.\"},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000,"
          "\"description\":\"What the server's tools are for.\"}},"
      "\"required\":[\"name\"],\"additionalProperties\":false}",
      mcp_tool_create_server },

    { "mcpbox_delete_server",
      "Delete a server together with all its tools and their versions. "
      "This cannot be undone.",
      SERVER_ONLY,
      mcp_tool_delete_server },

    { "mcpbox_start_server",
      "Start a server: its enabled and approved tools become callable by every "
      "MCP client. Returns how many tools are registered.",
      SERVER_ONLY,
      mcp_tool_start_server },

    { "mcpbox_stop_server",
      "Stop a server: its tools are no longer listed or callable.",
      SERVER_ONLY,
      mcp_tool_stop_server },

    { "mcpbox_get_server_modules",
      "The Python modules tool code may import: the default allowlist and, for a "
      "server, the modules the admin approved for it on top. Returns "
      "is_custom_config, allowed_modules, default_modules, total_allowed.",
      "{\"type\":\"object\",\"properties\":{"
        "\"server_id\":" ID_PROP ("A server's id, for its modules; omit for the defaults.")
      "},\"additionalProperties\":false}",
      mcp_tool_get_server_modules },

    //  --- tools ----------------------------------------------------------------
    { "mcpbox_list_tools",
      "List the tools of a server: [{id, name, description, enabled}].",
      SERVER_ONLY,
      mcp_tool_list_tools },

    { "mcpbox_get_tool",
      "Get a tool: its fields, title, input and output schemas, suggested annotations, "
      "current version and Python code.",
      TOOL_ONLY,
      mcp_tool_get_tool },

    { "mcpbox_create_tool",
      "Create a tool in a server from Python code defining `async def main(...)`. "
      "Parameters with type hints become the input schema; the docstring becomes "
      "the description; the return value is the result. Globals: http (await "
      "http.get/post...), json, datetime, arguments, secrets (read-only mappings), "
      "progress (`await progress(done, total=None, message=None)`: sent to a client "
      "that asked for progress) and log (`log.debug/info/notice/warning/error(text)`: "
      "log notifications at the level the client chose); both are rate-limited. "
      "Optional[X] / X | None parameters accept null. The tool starts as "
      "a draft: test it with mcpbox_test_code, then ask for review with "
      "mcpbox_request_publish. "
      SANDBOX_RULES_TEXT
      "Annotate main's return type (a TypedDict, a dataclass, dict[str, int], "
      "list[...], a plain type) to give the tool an output schema: clients then get "
      "the result as structured content, checked against it. ",
      "{\"type\":\"object\",\"properties\":{"
        "\"server_id\":" ID_PROP ("The server's id.") ","
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":61,"
          "\"description\":\"Tool name: ^[a-z][a-z0-9_]*$, unique in the server; "
          "{server}__{tool} must fit in 64 characters.\"},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000,"
          "\"description\":\"What the tool does (defaults to the docstring).\"},"
        TITLE_AND_HINTS_PROPS
        "\"python_code\":{\"type\":\"string\",\"minLength\":1,"
          "\"description\":\"The code, at most 100 KB, defining async def main(...).\"}},"
      "\"required\":[\"server_id\",\"name\",\"python_code\"],\"additionalProperties\":false}",
      mcp_tool_create_tool },

    { "mcpbox_update_tool",
      "Change a tool's name, title, description, suggested annotations, code, "
      "enabled flag or timeout. A code "
      "change makes a new version; approval belongs to the exact code, so the "
      "answer says whether this code is already approved (callable at once) or "
      "needs review (request publishing again).",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool's id.") ","
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":61},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000},"
        TITLE_AND_HINTS_PROPS
        "\"python_code\":{\"type\":\"string\",\"minLength\":1},"
        "\"enabled\":{\"type\":\"boolean\"},"
        "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":300000,"
          "\"description\":\"Time limit of one call, in milliseconds.\"}},"
      "\"required\":[\"tool_id\"],\"additionalProperties\":false}",
      mcp_tool_update_tool },

    { "mcpbox_delete_tool",
      "Delete a tool and its versions. This cannot be undone.",
      TOOL_ONLY,
      mcp_tool_delete_tool },

    { "mcpbox_list_tool_versions",
      "List a tool's versions: [{version, change_summary, change_source, created_at}].",
      TOOL_ONLY,
      mcp_tool_list_tool_versions },

    { "mcpbox_rollback_tool",
      "Restore an earlier version as a new version. Approval belongs to the exact "
      "code: the answer says whether the restored code is already approved "
      "(callable at once) or needs review.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool's id.") ","
        "\"version\":{\"type\":\"integer\",\"minimum\":1,"
          "\"description\":\"The version whose code to restore.\"}},"
      "\"required\":[\"tool_id\",\"version\"],\"additionalProperties\":false}",
      mcp_tool_rollback_tool },

    //  --- the sandbox -------------------------------------------------------------
    { "mcpbox_test_code",
      "Run a tool's current code once in the sandbox with the given arguments, "
      "with its server's allowed modules and hosts, approved or not. Returns "
      "success, result, error {type, message, line, context}, stdout (first "
      "10 KB) and duration_ms.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool's id.") ","
        "\"arguments\":{\"type\":\"object\",\"default\":{},"
          "\"description\":\"Arguments for main(...).\"}},"
      "\"required\":[\"tool_id\"],\"additionalProperties\":false}",
      mcp_tool_test_code },

    { "mcpbox_validate_code",
      "Check Python tool code without running it: syntax, the sandbox's rules "
      "(the same checks as a call), imports against the server's allowed modules "
      "(give server_id; without it the default modules), and `async def main`. "
      "Returns valid, has_main, error (its message lists EVERY problem as 'line N: "
      "what is wrong; what to write instead', earliest first; error.line is the "
      "first), parameters [{name, type, required}] and the input_schema the tool "
      "would have. "
      SANDBOX_RULES_TEXT,
      "{\"type\":\"object\",\"properties\":{"
        "\"code\":{\"type\":\"string\",\"minLength\":1,"
          "\"description\":\"The Python code.\"},"
        "\"server_id\":" ID_PROP ("The server the tool is for: its allowed modules are "
                                  "checked.") "},"
      "\"required\":[\"code\"],\"additionalProperties\":false}",
      mcp_tool_validate_code },

    //  --- secrets (the admin sets the values) ----------------------------------------
    { "mcpbox_create_server_secret",
      "Declare a secret a server's tools need (an API key, a token): a "
      "placeholder with a key and a description, has_value false. Only the "
      "admin can set its value; tools read it as secrets[\"KEY\"], and "
      "it is never shown to you.",
      "{\"type\":\"object\",\"properties\":{"
        "\"server_id\":" ID_PROP ("The server's id.") ","
        "\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
          "\"pattern\":\"^[A-Z][A-Z0-9_]*$\","
          "\"description\":\"Secret name: upper-case letters, digits and '_', "
          "starting with a letter.\"},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000,"
          "\"description\":\"What the secret is for, for the admin.\"}},"
      "\"required\":[\"server_id\",\"key\"],\"additionalProperties\":false}",
      mcp_tool_create_server_secret },

    { "mcpbox_list_server_secrets",
      "List a server's secrets: key, description and has_value (whether the "
      "admin has set it). Values are never returned.",
      SERVER_ONLY,
      mcp_tool_list_server_secrets },

    //  --- approval requests (a human decides) ----------------------------------------
    { "mcpbox_request_publish",
      "Ask the admin to review a tool's current code for publishing. From draft "
      "or rejected it goes to pending_review; once approved (and its server "
      "started) MCP clients can call it.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool's id.") ","
        "\"notes\":{\"type\":\"string\",\"maxLength\":2000,"
          "\"description\":\"What the reviewer should know.\"}},"
      "\"required\":[\"tool_id\"],\"additionalProperties\":false}",
      mcp_tool_request_publish },

    { "mcpbox_request_module",
      "Ask the admin to allow a Python module beyond the defaults for a tool's "
      "server. Dangerous modules (os, sys, subprocess, socket...) are never allowed.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool that needs the module.") ","
        "\"module_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255,"
          "\"description\":\"The module, e.g. 'xml.etree.ElementTree'.\"},"
        "\"justification\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2000,"
          "\"description\":\"Why the tool needs it.\"}},"
      "\"required\":[\"tool_id\",\"module_name\",\"justification\"],"
      "\"additionalProperties\":false}",
      mcp_tool_request_module },

    { "mcpbox_request_network_access",
      "Ask the admin to let a tool's server reach a host over HTTP(S). Without a "
      "port every port of the host is requested.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool that needs the host.") ","
        "\"host\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255,"
          "\"description\":\"A host name, e.g. 'api.example.com'.\"},"
        "\"port\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535},"
        "\"justification\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2000,"
          "\"description\":\"Why the tool needs it.\"}},"
      "\"required\":[\"tool_id\",\"host\",\"justification\"],"
      "\"additionalProperties\":false}",
      mcp_tool_request_network_access },

    { "mcpbox_get_tool_status",
      "A tool's approval status (draft, pending_review, approved, rejected) with "
      "its review details, and its module and network requests.",
      TOOL_ONLY,
      mcp_tool_get_tool_status },

    { "mcpbox_list_pending_requests",
      "Everything waiting for the admin: tools pending review, module requests "
      "and network requests, with a summary.",
      "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
      mcp_tool_list_pending_requests },

    //  --- logs ---------------------------------------------------------------------
    { "mcpbox_get_tool_logs",
      "A tool's most recent runs, newest first (calls and test runs): id, success, "
      "duration_ms, error, input_args (secrets redacted), result and stdout (each "
      "at most 10 KB), executed_by, created_at, is_test. Use it to see why a tool "
      "failed.",
      "{\"type\":\"object\",\"properties\":{"
        "\"tool_id\":" ID_PROP ("The tool's id.") ","
        "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,\"default\":10,"
          "\"description\":\"How many runs, 1-50.\"}},"
      "\"required\":[\"tool_id\"],\"additionalProperties\":false}",
      mcp_tool_get_tool_logs },

    //  --- external MCP sources -------------------------------------------------------
    { "mcpbox_add_external_source",
      "Add another MCP server (an external source) to a server, so its tools can be "
      "imported beside yours. auth_type none, bearer (Authorization: Bearer <secret>) "
      "or header (<auth_header_name>: <secret>); the credential is the value of the "
      "server secret auth_secret_name (declare it with mcpbox_create_server_secret; "
      "the admin sets its value). transport streamable_http (default) or sse (the "
      "legacy HTTP+SSE transport). The source is reached under the server's network "
      "rules: its host must be allowed.",
      "{\"type\":\"object\",\"properties\":{"
        "\"server_id\":" ID_PROP ("The server's id.") ","
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255,"
          "\"description\":\"A name for the source, unique in the server.\"},"
        "\"url\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":2048,"
          "\"description\":\"The source's MCP endpoint (http:// or https://).\"},"
        "\"auth_type\":{\"type\":\"string\",\"enum\":[\"none\",\"bearer\",\"header\","
          "\"oauth\"],\"default\":\"none\",\"description\":\"How the source authenticates "
          "MCPbox (oauth: no secret; the admin then authorizes it once with "
          "mcpbox sources authorize ID or the dashboard).\"},"
        "\"auth_secret_name\":{\"type\":\"string\",\"maxLength\":255,"
          "\"description\":\"The server secret holding the credential (bearer, header).\"},"
        "\"auth_header_name\":{\"type\":\"string\",\"maxLength\":64,"
          "\"description\":\"The header the credential goes in (header).\"},"
        "\"transport_type\":{\"type\":\"string\",\"enum\":[\"streamable_http\",\"sse\"],"
          "\"default\":\"streamable_http\"}},"
      "\"required\":[\"server_id\",\"name\",\"url\"],\"additionalProperties\":false}",
      mcp_tool_add_external_source },

    { "mcpbox_list_external_sources",
      "List a server's external sources with their health: [{id, name, url, auth_type, "
      "transport_type, status, tool_count, last_discovered_at, last_contact_at, "
      "last_error}].",
      SERVER_ONLY,
      mcp_tool_list_external_sources },

    { "mcpbox_discover_external_tools",
      "Connect to an external source and list its tools: [{name, description, "
      "input_schema}]. Also reports imported tools that changed on the source since "
      "they were approved (changed_tools: each needs approval again), those the source "
      "no longer offers (removed_tools: not listed or callable until it offers them "
      "again) and those it offers again (restored_tools).",
      ONLY ("source_id", "source_id", "The source's id (a UUID)."),
      mcp_tool_discover_external_tools },

    { "mcpbox_import_external_tools",
      "Import tools of an external source (as discovered) into its server. They are "
      "draft tools: ask for review with mcpbox_request_publish; once approved, calls "
      "are passed to the source with the same approval check, logging and limits as "
      "Python tools.",
      "{\"type\":\"object\",\"properties\":{"
        "\"source_id\":" ID_PROP ("The source's id.") ","
        "\"tool_names\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":100,"
          "\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255},"
          "\"description\":\"The source's names of the tools to import.\"}},"
      "\"required\":[\"source_id\",\"tool_names\"],\"additionalProperties\":false}",
      mcp_tool_import_external_tools },
};

#define TOOL_COUNT (sizeof s_tools / sizeof s_tools [0])

//  What a client shows and uses to decide whether to ask the user first
//  (MCP tool annotations; index-aligned with s_tools, by name, which the
//  unit test checks). READ: changes nothing. DESTR: may delete or replace
//  what exists (code, a server, what is callable). IDEM: repeating the call
//  changes nothing more. OPEN: reaches outside MCPbox — only test_code,
//  whose code may use the network hosts its server was allowed.
#define READ    1
#define DESTR   2
#define IDEM    4
#define OPEN    8

//  Output schemas: what each tool's structuredContent always has (its
//  success answer; an isError answer has none). Only what the handler
//  itself guarantees is typed and required; fields copied from a service's
//  reply are described but not constrained, and other properties are
//  allowed, so a service adding a field never breaks a client.
#define OUT(props, required) \
    "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"
#define P_BOOL(n)   "\"" n "\":{\"type\":\"boolean\"}"
#define P_STR(n)    "\"" n "\":{\"type\":\"string\"}"
#define P_INT(n)    "\"" n "\":{\"type\":\"integer\"}"
#define P_ARR(n)    "\"" n "\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}"
#define P_ANY(n)    "\"" n "\":{}"
#define OK_MESSAGE  OUT (P_BOOL ("success") "," P_STR ("message"), "\"success\",\"message\"")
#define OK_ONLY     OUT (P_BOOL ("success"), "\"success\"")
#define ANY_OBJECT  "{\"type\":\"object\"}"

typedef struct {
    const char *name;
    const char *title;
    int         hints;
    const char *output;         //  output schema, JSON text
} tool_hints_t;

static const tool_hints_t s_hints [] = {
    { "mcpbox_list_servers",            "List servers",                 READ | IDEM,
      OUT (P_ARR ("servers") "," P_ANY ("total") "," P_ANY ("page") "," P_ANY ("page_size"),
           "\"servers\"") },
    { "mcpbox_get_server",              "Get a server",                 READ | IDEM,
      OUT ("\"allowed_hosts\":{\"type\":[\"array\",\"null\"]}," P_ARR ("tools") ","
           P_INT ("tool_count") ",\"pending_requests\":{\"type\":\"object\",\"properties\":{"
           P_ARR ("modules") "," P_ARR ("network") "},\"required\":[\"modules\",\"network\"]}",
           "\"allowed_hosts\",\"tools\",\"tool_count\",\"pending_requests\"") },
    { "mcpbox_create_server",           "Create a server",              0,
      OUT (P_BOOL ("success") "," P_STR ("id") "," P_STR ("name") "," P_STR ("message"),
           "\"success\",\"id\",\"name\",\"message\"") },
    { "mcpbox_delete_server",           "Delete a server",              DESTR | IDEM, OK_MESSAGE },
    { "mcpbox_start_server",            "Start a server",               IDEM,
      OUT (P_BOOL ("success") "," P_STR ("message") "," P_STR ("status") ","
           "\"registered_tools\":{\"type\":[\"integer\",\"null\"]}",
           "\"success\",\"message\",\"status\",\"registered_tools\"") },
    { "mcpbox_stop_server",             "Stop a server",                IDEM,
      OUT (P_BOOL ("success") "," P_STR ("message") "," P_STR ("status"),
           "\"success\",\"message\",\"status\"") },
    { "mcpbox_get_server_modules",      "Allowed Python modules",       READ | IDEM,
      OUT (P_BOOL ("is_custom_config") ",\"allowed_modules\":{\"type\":\"array\"},"
           "\"default_modules\":{\"type\":\"array\"}," P_INT ("total_allowed") ","
           P_STR ("server_id"),
           "\"is_custom_config\",\"allowed_modules\",\"default_modules\",\"total_allowed\"") },
    { "mcpbox_list_tools",              "List a server's tools",        READ | IDEM,
      OUT (P_ARR ("tools") "," P_ANY ("server_id") "," P_ANY ("total"), "\"tools\"") },
    { "mcpbox_get_tool",                "Get a tool",                   READ | IDEM, ANY_OBJECT },
    { "mcpbox_create_tool",             "Create a tool",                0,
      OUT (P_BOOL ("success") "," P_STR ("id") "," P_STR ("name") "," P_STR ("status") ","
           P_STR ("message"), "\"success\",\"id\",\"name\",\"status\",\"message\"") },
    { "mcpbox_update_tool",             "Update a tool's code",         DESTR,
      OUT (P_BOOL ("success") "," P_STR ("id") "," P_STR ("name") "," P_BOOL ("changed") ","
           P_STR ("message") ",\"approval_status\":{\"type\":[\"string\",\"null\"]}",
           "\"success\",\"id\",\"name\",\"changed\",\"message\"") },
    { "mcpbox_delete_tool",             "Delete a tool",                DESTR | IDEM, OK_MESSAGE },
    { "mcpbox_list_tool_versions",      "List a tool's versions",       READ | IDEM,
      OUT (P_ARR ("versions") "," P_ANY ("current_version"), "\"versions\"") },
    { "mcpbox_rollback_tool",           "Roll a tool back",             DESTR,
      OUT (P_BOOL ("success") "," P_STR ("tool_id") "," P_STR ("name") "," P_STR ("message")
           ",\"approval_status\":{\"type\":[\"string\",\"null\"]}",
           "\"success\",\"tool_id\",\"name\",\"message\"") },
    { "mcpbox_test_code",               "Run a tool in the sandbox",    DESTR | OPEN,
      OUT (P_BOOL ("success") "," P_ANY ("result") ","
           "\"error\":{\"type\":[\"object\",\"null\"]}," P_ANY ("stdout") "," P_ANY ("duration_ms"),
           "\"success\",\"result\",\"error\"") },
    { "mcpbox_validate_code",           "Check tool code",              READ | IDEM,
      OUT (P_BOOL ("valid") "," P_BOOL ("has_main") ",\"parameters\":{\"type\":\"array\"},"
           "\"error\":{\"type\":[\"object\",\"null\"]}," P_ANY ("input_schema"),
           "\"valid\",\"has_main\",\"parameters\",\"error\"") },
    { "mcpbox_create_server_secret",    "Declare a secret",             0,
      OUT (P_BOOL ("success") "," P_BOOL ("has_value") "," P_STR ("message"),
           "\"success\",\"has_value\",\"message\"") },
    { "mcpbox_list_server_secrets",     "List a server's secrets",      READ | IDEM,
      OUT (P_ARR ("secrets"), "\"secrets\"") },
    { "mcpbox_request_publish",         "Ask for review",               0, OK_ONLY },
    { "mcpbox_request_module",          "Ask for a Python module",      0, OK_ONLY },
    { "mcpbox_request_network_access",  "Ask for network access",       0, OK_ONLY },
    { "mcpbox_get_tool_status",         "Get a tool's review status",   READ | IDEM, ANY_OBJECT },
    { "mcpbox_list_pending_requests",   "List pending requests",        READ | IDEM, ANY_OBJECT },
    { "mcpbox_get_tool_logs",           "Get a tool's execution logs",  READ | IDEM,
      OUT (P_ARR ("logs") "," P_ANY ("total") "," P_ANY ("tool_id"), "\"logs\"") },
    { "mcpbox_add_external_source",     "Add an external MCP source",   0,
      OUT (P_BOOL ("success") "," P_STR ("source_id") "," P_STR ("message"),
           "\"success\",\"source_id\",\"message\"") },
    { "mcpbox_list_external_sources",   "List external sources",        READ | IDEM,
      OUT (P_ARR ("sources") "," P_ANY ("total"), "\"sources\"") },
    { "mcpbox_discover_external_tools", "Discover a source's tools",    IDEM,
      OUT (P_ARR ("tools") "," P_ANY ("total") "," P_ARR ("changed_tools") ","
           P_ANY ("removed_tools") "," P_ARR ("restored_tools"), "\"tools\",\"total\"") },
    { "mcpbox_import_external_tools",   "Import a source's tools",      0,
      OUT (P_BOOL ("success") "," P_ARR ("imported_tools") "," P_ANY ("count") ","
           P_ARR ("skipped_tools"), "\"success\",\"imported_tools\"") },
};

#define HINT_COUNT (sizeof s_hints / sizeof s_hints [0])

size_t
mcp_tools_count (void)
{
    return TOOL_COUNT;
}

const mcp_tool_def_t *
mcp_tools_get (size_t index)
{
    return index < TOOL_COUNT ? &s_tools [index] : NULL;
}

//  The management tools that change what runs: served over the remote
//  listener only when the policy remote_tool_editing is enabled, and left
//  out of a remote tools/list otherwise. Names not (yet) in the table are
//  harmless here; a tool that edits servers, tools or external sources
//  belongs in this list the day it is added.
static const char *const s_local_only [] = {
    "mcpbox_create_server", "mcpbox_update_server", "mcpbox_delete_server",
    "mcpbox_create_tool", "mcpbox_update_tool", "mcpbox_delete_tool",
    "mcpbox_rollback_tool",
    "mcpbox_add_external_source", "mcpbox_import_external_tools",
    NULL
};

bool
mcp_tools_local_only (const char *name)
{
    for (size_t i = 0; name && s_local_only [i]; i++)
        if (strcmp (s_local_only [i], name) == 0)
            return true;
    return false;
}

int
mcp_tools_find (const char *name)
{
    if (!name || strncmp (name, "mcpbox_", 7) != 0)
        return -1;
    for (size_t i = 0; i < TOOL_COUNT; i++)
        if (strcmp (s_tools [i].name, name) == 0)
            return (int) i;
    return -1;
}

json_t *
mcp_tools_schemas (char *err, size_t errlen)
{
    json_t *schemas = json_array ();
    for (size_t i = 0; i < TOOL_COUNT; i++) {
        json_error_t error;
        json_t *schema = json_loads (s_tools [i].schema, 0, &error);
        if (!json_is_object (schema)) {
            snprintf (err, errlen, "%s: schema does not parse: %s", s_tools [i].name,
                      error.text);
            json_decref (schema);
            json_decref (schemas);
            return NULL;
        }
        json_array_append_new (schemas, schema);
    }
    return schemas;
}

const char *
mcp_tools_title (size_t index)
{
    if (index >= TOOL_COUNT || index >= HINT_COUNT
    ||  strcmp (s_hints [index].name, s_tools [index].name) != 0)
        return NULL;
    return s_hints [index].title;
}

json_t *
mcp_tools_outputs (char *err, size_t errlen)
{
    json_t *outputs = json_array ();
    for (size_t i = 0; i < TOOL_COUNT; i++) {
        json_error_t error;
        json_t *schema = mcp_tools_title (i)
                       ? json_loads (s_hints [i].output, 0, &error) : NULL;
        if (!json_is_object (schema)) {
            snprintf (err, errlen, "%s: no output schema, or it does not parse",
                      s_tools [i].name);
            json_decref (schema);
            json_decref (outputs);
            return NULL;
        }
        json_array_append_new (outputs, schema);
    }
    return outputs;
}

json_t *
mcp_tools_render (size_t index, json_t *schemas, json_t *outputs)
{
    json_t *entry = json_pack ("{s:s, s:s, s:O}", "name", s_tools [index].name,
                               "description", s_tools [index].description,
                               "inputSchema", json_array_get (schemas, index));
    json_t *output = json_array_get (outputs, index);
    if (output)
        json_object_set (entry, "outputSchema", output);
    const char *title = mcp_tools_title (index);
    if (title) {
        int hints = s_hints [index].hints;
        json_object_set_new (entry, "title", json_string (title));
        json_object_set_new (entry, "annotations", json_pack (
            "{s:s, s:b, s:b, s:b, s:b}", "title", title,
            "readOnlyHint", (hints & READ) != 0,
            "destructiveHint", (hints & DESTR) != 0,
            "idempotentHint", (hints & IDEM) != 0,
            "openWorldHint", (hints & OPEN) != 0));
    }
    return entry;
}

//  --- helpers -------------------------------------------------------------------

static void
s_simple_reply (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    const mcp_simple_t *def = (const mcp_simple_t *) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, def->service, reply);
        return;
    }
    json_t *output = def->project (reply->body, call->args);
    if (!output) {
        mcp_call_tool_error (call, "internal error: the %s service answered in "
                             "an unexpected form", def->service);
        return;
    }
    mcp_call_tool_ok (call, output);
}

void
mcp_tool_simple (mcp_call_t *call, const mcp_simple_t *def, json_t *fields)
{
    mcp_call_bus (call, def->service, def->op, fields, def->timeout_ms,
                  s_simple_reply, (intptr_t) def);
    json_decref (fields);
}

#define PICK_MAX 32

static size_t
s_keys (va_list args, const char **keys)
{
    size_t count = 0;
    const char *key;
    while ((key = va_arg (args, const char *)) && count < PICK_MAX)
        keys [count++] = key;
    return count;
}

static json_t *
s_pick (const json_t *from, const char **keys, size_t count)
{
    json_t *out = json_object ();
    for (size_t i = 0; i < count; i++) {
        json_t *value = json_object_get (from, keys [i]);
        if (value)
            json_object_set (out, keys [i], value);
    }
    return out;
}

json_t *
mcp_pick (const json_t *from, ...)
{
    const char *keys [PICK_MAX];
    va_list args;
    va_start (args, from);
    size_t count = s_keys (args, keys);
    va_end (args);
    return s_pick (from, keys, count);
}

json_t *
mcp_pick_each (const json_t *array, ...)
{
    const char *keys [PICK_MAX];
    va_list args;
    va_start (args, array);
    size_t count = s_keys (args, keys);
    va_end (args);
    json_t *out = json_array ();
    size_t i;
    json_t *item;
    json_array_foreach (array, i, item)
        if (json_is_object (item))
            json_array_append_new (out, s_pick (item, keys, count));
    return out;
}

json_t *
mcp_default_modules (void)
{
    static const char *modules [] = { MODULES_DEFAULT_LIST, NULL };
    json_t *list = json_array ();
    for (int i = 0; modules [i]; i++)
        json_array_append_new (list, json_string (modules [i]));
    return list;
}

/*  ops.c — the registry's interface: every op it answers, listed once
    (registry_ops, at the bottom), and the handlers that read the request
    fields, make the change in one transaction, reply, and announce it.

    docs/BUS_OPS.md (section registry) is the contract. Fields are checked
    for type and bounds before anything else happens (validate.c), and a
    bad one is answered bad_request naming it:

        server_id, tool_id      UUID
        name                    server: ^[a-z][a-z0-9_]*$, <= 64, no "__"
                                tool:   ^[a-z][a-z0-9_]*$, <= 255
        description             UTF-8, <= 2000 characters
        python_code             UTF-8, 1 byte .. 100 KB
        change_summary          UTF-8, <= 2000 characters
        timeout_ms, default_timeout_ms   1000 .. 300000
        enabled                 boolean
        page                    1 .. 1000000;  page_size 1 .. 100
        version                 >= 1
        created_by              llm | admin
        change_source           llm | manual | import
        title                   UTF-8, <= 200 characters
        annotations             the LLM's suggested hints (proto/tool_hints.h);
                                stored as suggested_annotations, shown to
                                the reviewer, never served to MCP clients

    Order inside a changing handler: fields, cheap refusals (not_found,
    conflict), the sandbox for new code (outside any transaction), then
    BEGIN IMMEDIATE .. rows + version + revision bump .. COMMIT, then the
    catalog is rebuilt and `tools.changed` {"revision", "server_id",
    "tool_id"?} published, then the reply.

    tool.create without a description takes main's docstring (from the
    sandbox's validate reply) as the description.

    Additions to the contract, all optional: default_timeout_ms on
    server.create; timeout_ms and change_summary on tool.create; tool_count
    in every server record; `changed` on server.start / server.stop and
    `enabled_tools` on server.start; tool_id in tools.changed for tool
    changes; tool_type in tool records; the full snapshot (name,
    description, enabled, timeout_ms) in tool.version.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "registry.h"
#include "tool_hints.h"

#define CHANGES_MAX 7               //  fields a tool.update can change

static const char *const s_created_by [] = { "llm", "admin", NULL };
static const char *const s_change_sources [] = { "llm", "manual", "import", NULL };

//  --- helpers -----------------------------------------------------------------

static void
s_error (msgw_t **reply, const bus_err_t *err)
{
    *reply = msgw_error_new (err->code, err->message);
}

char *
registry_ndup (const char *text, size_t len)
{
    char *copy = malloc (len + 1);
    if (!copy)
        abort ();
    memcpy (copy, text, len);
    copy [len] = 0;
    return copy;
}

//  After a commit: the new revision, the catalog rebuilt, the event out.
void
registry_committed (service_t *service, registry_t *reg, int64_t revision,
             const char *server_id, const char *tool_id)
{
    reg->revision = revision;
    store_refresh_catalog (reg);
    msgw_t *event = msgw_new ();
    msgw_map (event, tool_id ? 3 : 2);
    msgw_kv_int (event, "revision", revision);
    msgw_kv_str (event, "server_id", server_id);
    if (tool_id)
        msgw_kv_str (event, "tool_id", tool_id);
    if (service_publish (service, "tools.changed", event))
        log_debug ("tools.changed %lld not published (no event bus)",
                   (long long) revision);
    msgw_destroy (&event);
}

//  {"ok": true, key: <record>...} helpers: the reply map is opened with
//  `pairs` pairs including ok.
static msgw_t *
s_reply_ok (size_t pairs)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, pairs);
    msgw_kv_bool (w, "ok", true);
    return w;
}

//  --- servers -------------------------------------------------------------------

static void
s_server_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    const char *name, *description;
    size_t name_len, description_len;
    int64_t timeout = REG_TIMEOUT_DEFAULT_MS;
    if (field_str (root, "name", true, 0, 0, &name, &name_len, &err) < 0
    ||  validate_server_name ("name", name, name_len, &err)
    ||  field_str (root, "description", false, 0, REG_DESCRIPTION_MAX, &description,
                   &description_len, &err) < 0
    ||  field_int (root, "default_timeout_ms", false, REG_TIMEOUT_MIN_MS,
                   REG_TIMEOUT_MAX_MS, &timeout, &err) < 0) {
        s_error (reply, &err);
        return;
    }

    server_t server = { .default_timeout_ms = timeout };
    memcpy (server.name, name, name_len);
    server.description = registry_ndup (description, description_len);
    snprintf (server.status, sizeof server.status, "ready");
    ids_now_iso (server.created_at);
    memcpy (server.updated_at, server.created_at, sizeof server.updated_at);
    if (ids_uuid4 (server.id))
        bus_err_set (&err, BUS_ERR_INTERNAL, "cannot make an id");
    else
    if (store_server_insert (reg, &server, &err) == 0) {
        log_info ("server %s '%s' created", server.id, server.name);
        activity_record (service, "server.created", server.id,
                         json_pack ("{s:s, s:s}", "server_id", server.id, "name", server.name),
                         "Server '%s' created", server.name);
        *reply = s_reply_ok (2);
        msgw_str (*reply, "server");
        encode_server (*reply, &server, 0);
    }
    if (!*reply)
        s_error (reply, &err);
    server_clear (&server);
}

static void
s_server_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    server_t server = { 0 };
    tool_t *tools = NULL;
    size_t count = 0;
    if (field_id (msg_root (request), "server_id", true, id, &err) < 0
    ||  store_server_get (reg, id, &server, &err)
    ||  store_tool_list (reg, id, &tools, &count, &err))
        s_error (reply, &err);
    else {
        *reply = s_reply_ok (2);
        msgw_str (*reply, "server");
        encode_server (*reply, &server, 1);
        msgw_str (*reply, "tools");
        msgw_array (*reply, count);
        for (size_t i = 0; i < count; i++)
            encode_tool_summary (*reply, &tools [i]);
    }
    for (size_t i = 0; i < count; i++)
        tool_clear (&tools [i]);
    free (tools);
    server_clear (&server);
}

static void
s_server_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    int64_t page = 1, page_size = REG_PAGE_SIZE_DEFAULT, total = 0;
    server_t *servers = NULL;
    size_t count = 0;
    if (field_int (root, "page", false, 1, REG_PAGE_MAX, &page, &err) < 0
    ||  field_int (root, "page_size", false, 1, REG_PAGE_SIZE_MAX, &page_size, &err) < 0
    ||  store_server_list (reg, page, page_size, &servers, &count, &total, &err)) {
        s_error (reply, &err);
        return;
    }
    *reply = s_reply_ok (5);
    msgw_str (*reply, "servers");
    msgw_array (*reply, count);
    for (size_t i = 0; i < count; i++) {
        encode_server (*reply, &servers [i], 0);
        server_clear (&servers [i]);
    }
    free (servers);
    msgw_kv_int (*reply, "total", total);
    msgw_kv_int (*reply, "page", page);
    msgw_kv_int (*reply, "page_size", page_size);
}

static void
s_server_delete (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    int64_t revision = 0;
    server_t gone = { 0 };
    if (field_id (msg_root (request), "server_id", true, id, &err) < 0
    ||  store_server_get (reg, id, &gone, &err)
    ||  store_begin (reg, &err)) {
        server_clear (&gone);
        s_error (reply, &err);
        return;
    }
    if (store_server_delete (reg, id, &err)
    ||  store_bump_revision (reg, &revision, &err)
    ||  store_commit (reg, &err)) {
        store_rollback (reg);
        server_clear (&gone);
        s_error (reply, &err);
        return;
    }
    log_info ("server %s deleted, with its tools", id);
    activity_record (service, "server.deleted", id,
                     json_pack ("{s:s, s:s}", "server_id", id, "name", gone.name),
                     "Server '%s' deleted with its tools", gone.name);
    server_clear (&gone);
    registry_committed (service, reg, revision, id, NULL);
    *reply = s_reply_ok (3);
    msgw_kv_bool (*reply, "deleted", true);
    msgw_kv_str (*reply, "server_id", id);
}

//  start and stop: the same transaction with a different status.
static void
s_server_set_status (service_t *service, msg_t *request, msgw_t **reply,
                     registry_t *reg, const char *status)
{
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    bool changed = false;
    int64_t revision = 0, enabled = 0;
    if (field_id (msg_root (request), "server_id", true, id, &err) < 0
    ||  store_begin (reg, &err)) {
        s_error (reply, &err);
        return;
    }
    if (store_server_set_status (reg, id, status, &changed, &err)
    ||  (changed && store_bump_revision (reg, &revision, &err))
    ||  store_commit (reg, &err)) {
        store_rollback (reg);
        s_error (reply, &err);
        return;
    }
    if (changed) {
        log_info ("server %s %s", id, status);
        registry_committed (service, reg, revision, id, NULL);
    }
    server_t server = { 0 };
    if (store_server_get (reg, id, &server, &err)
    ||  store_server_enabled_tools (reg, id, &enabled, &err)) {
        server_clear (&server);
        s_error (reply, &err);
        return;
    }
    bool start = strcmp (status, "running") == 0;
    if (changed)
        activity_record (service, start ? "server.started" : "server.stopped", id,
                         json_pack ("{s:s, s:s, s:I}", "server_id", id, "name", server.name,
                                    "enabled_tools", (json_int_t) enabled),
                         "Server '%s' %s", server.name, start ? "started" : "stopped");
    *reply = s_reply_ok (start ? 4 : 3);
    msgw_str (*reply, "server");
    encode_server (*reply, &server, 0);
    msgw_kv_bool (*reply, "changed", changed);
    if (start)
        msgw_kv_int (*reply, "enabled_tools", enabled);
    server_clear (&server);
}

static void
s_server_start (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_server_set_status (service, request, reply, state, "running");
}

static void
s_server_stop (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_server_set_status (service, request, reply, state, "stopped");
}

//  --- tools -----------------------------------------------------------------------

//  Write `next` as the tool's new state and its snapshot, in one
//  transaction. `seen` is the current_version the change was computed
//  from: if the row moved on meanwhile, nothing is written (conflict).
static int
s_write_change (service_t *service, registry_t *reg, tool_t *next, int64_t seen,
                const char *summary, const char *source, bus_err_t *err)
{
    if (store_begin (reg, err))
        return -1;
    tool_t now_row = { 0 };
    int64_t revision = 0;
    int rc = store_tool_get (reg, next->id, &now_row, err);
    if (rc == 0 && now_row.current_version != seen)
        rc = bus_err_set (err, BUS_ERR_CONFLICT, "tool %s changed meanwhile (version "
                       "%lld); read it again and retry", next->id,
                       (long long) now_row.current_version);
    tool_clear (&now_row);
    if (rc == 0) {
        next->current_version = seen + 1;
        ids_now_iso (next->updated_at);
        rc = store_tool_update (reg, next, err);
    }
    if (rc == 0)
        rc = store_version_insert (reg, next, summary, source, err);
    if (rc == 0)
        rc = store_bump_revision (reg, &revision, err);
    if (rc == 0)
        rc = store_commit (reg, err);
    if (rc) {
        store_rollback (reg);
        return -1;
    }
    log_info ("tool %s '%s' is now version %lld (%s)", next->id, next->name,
              (long long) next->current_version, source);
    registry_committed (service, reg, revision, next->server_id, next->id);
    return 0;
}

static void
s_tool_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char server_id [REG_ID_LEN + 1];
    const char *name, *description, *code, *summary;
    size_t name_len, description_len, code_len, summary_len;
    const char *created_by = "llm", *source = NULL;
    int64_t timeout = 0;
    int rc_timeout, rc_summary, rc_description;     //  0 present, 1 absent
    const char *title = "";
    size_t title_len = 0;
    char hints [TOOL_HINTS_JSON_MAX];
    int rc_hints;
    if (field_id (root, "server_id", true, server_id, &err) < 0
    ||  field_str (root, "title", false, 0, REG_TITLE_MAX, &title, &title_len, &err) < 0
    ||  (rc_hints = tool_hints_read (root, "annotations", hints, &err)) < 0
    ||  field_str (root, "name", true, 0, 0, &name, &name_len, &err) < 0
    ||  validate_tool_name ("name", name, name_len, &err)
    ||  (rc_description = field_str (root, "description", false, 0,
                                      REG_DESCRIPTION_MAX, &description,
                                      &description_len, &err)) < 0
    ||  field_str (root, "python_code", true, REG_CODE_MAX, 0, &code, &code_len, &err) < 0
    ||  field_enum (root, "created_by", s_created_by, &created_by, &err) < 0
    ||  field_enum (root, "change_source", s_change_sources, &source, &err) < 0
    ||  (rc_timeout = field_int (root, "timeout_ms", false, REG_TIMEOUT_MIN_MS,
                                  REG_TIMEOUT_MAX_MS, &timeout, &err)) < 0
    ||  (rc_summary = field_str (root, "change_summary", false, 0, REG_SUMMARY_MAX,
                                  &summary, &summary_len, &err)) < 0) {
        s_error (reply, &err);
        return;
    }
    if (code_len == 0) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "python_code: must not be empty");
        s_error (reply, &err);
        return;
    }
    if (!source)
        source = strcmp (created_by, "admin") == 0 ? "manual" : "llm";

    tool_t tool = { .enabled = true, .current_version = 1 };
    server_t server = { 0 };
    char *summary_text = rc_summary == 0 ? registry_ndup (summary, summary_len) : NULL;
    char *docstring = NULL;
    int64_t revision = 0;
    memcpy (tool.name, name, name_len);
    if (store_server_get (reg, server_id, &server, &err)
    ||  validate_full_name ("name", server.name, strlen (server.name), name_len, &err))
        goto done;
    int taken = store_tool_name_taken (reg, server_id, tool.name, NULL, &err);
    if (taken) {
        if (taken > 0)
            bus_err_set (&err, BUS_ERR_CONFLICT, "a tool named '%s' already exists on "
                      "server '%s'", tool.name, server.name);
        goto done;
    }
    if (schema_from_sandbox (service, code, code_len, &tool.input_schema,
                             &tool.output_schema,
                             rc_description == 1 ? &docstring : NULL, &err))
        goto done;
    tool.title = registry_ndup (title, title_len);
    tool.suggested_annotations = rc_hints == 0 ? strdup (hints) : NULL;
    if (rc_hints == 0 && !tool.suggested_annotations)
        abort ();
    if (ids_uuid4 (tool.id) || ids_code_hash (code, code_len, tool.code_hash)) {
        bus_err_set (&err, BUS_ERR_INTERNAL, "libsodium is not usable");
        goto done;
    }
    memcpy (tool.server_id, server.id, sizeof tool.server_id);
    memcpy (tool.server_name, server.name, sizeof tool.server_name);
    if (docstring) {
        tool.description = docstring;
        docstring = NULL;
    }
    else
        tool.description = registry_ndup (description, description_len);
    tool.timeout_ms = rc_timeout == 0 ? timeout : server.default_timeout_ms;
    snprintf (tool.tool_type, sizeof tool.tool_type, "python_code");
    tool.python_code = registry_ndup (code, code_len);
    tool.code_len = code_len;
    snprintf (tool.created_by, sizeof tool.created_by, "%s", created_by);
    ids_now_iso (tool.created_at);
    memcpy (tool.updated_at, tool.created_at, sizeof tool.updated_at);

    if (store_begin (reg, &err))
        goto done;
    if (store_tool_insert (reg, &tool, &err)
    ||  store_version_insert (reg, &tool, summary_text ? summary_text : "Initial version",
                              source, &err)
    ||  store_bump_revision (reg, &revision, &err)
    ||  store_commit (reg, &err)) {
        store_rollback (reg);
        goto done;
    }
    log_info ("tool %s '%s__%s' created (%s)", tool.id, tool.server_name, tool.name,
              source);
    registry_committed (service, reg, revision, tool.server_id, tool.id);
    activity_record (service, "tool.created", tool.server_id,
                     json_pack ("{s:s, s:s, s:s, s:s, s:s}", "tool_id", tool.id,
                                "tool_name", tool.name, "server_name", tool.server_name,
                                "created_by", tool.created_by, "code_hash", tool.code_hash),
                     "Tool '%s__%s' created (%s)", tool.server_name, tool.name, source);
    *reply = s_reply_ok (2);
    msgw_str (*reply, "tool");
    encode_tool (*reply, &tool, 0);
done:
    if (!*reply)
        s_error (reply, &err);
    free (summary_text);
    free (docstring);
    server_clear (&server);
    tool_clear (&tool);
}

static void
s_tool_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    tool_t tool = { 0 };
    if (field_id (msg_root (request), "tool_id", true, id, &err) < 0
    ||  store_tool_get (reg, id, &tool, &err))
        s_error (reply, &err);
    else {
        *reply = s_reply_ok (2);
        msgw_str (*reply, "tool");
        encode_tool (*reply, &tool, 0);
    }
    tool_clear (&tool);
}

static void
s_tool_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    server_t server = { 0 };
    tool_t *tools = NULL;
    size_t count = 0;
    if (field_id (msg_root (request), "server_id", true, id, &err) < 0
    ||  store_server_get (reg, id, &server, &err)
    ||  store_tool_list (reg, id, &tools, &count, &err))
        s_error (reply, &err);
    else {
        *reply = s_reply_ok (5);
        msgw_kv_str (*reply, "server_id", server.id);
        msgw_kv_str (*reply, "server_name", server.name);
        msgw_str (*reply, "tools");
        msgw_array (*reply, count);
        for (size_t i = 0; i < count; i++)
            encode_tool_summary (*reply, &tools [i]);
        msgw_kv_int (*reply, "total", (int64_t) count);
    }
    for (size_t i = 0; i < count; i++)
        tool_clear (&tools [i]);
    free (tools);
    server_clear (&server);
}

//  "Updated name", "Updated name and Python code", "Updated a, b, and c".
static void
s_summary (const char *const *changes, size_t count, char *out, size_t size)
{
    size_t used = (size_t) snprintf (out, size, "Updated ");
    for (size_t i = 0; i < count && used < size; i++) {
        const char *sep = i == 0 ? ""
                        : count == 2 ? " and "
                        : i + 1 == count ? ", and " : ", ";
        used += (size_t) snprintf (out + used, size - used, "%s%s", sep, changes [i]);
    }
}

static void
s_tool_update (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    const char *name, *description, *code, *summary;
    size_t name_len, description_len, code_len, summary_len;
    const char *source = "manual";
    bool enabled = false;
    int64_t timeout = 0;
    //  0 present, 1 absent (validate.c)
    int rc_name, rc_description, rc_code, rc_enabled, rc_timeout, rc_summary;
    const char *title = "";
    size_t title_len = 0;
    char hints [TOOL_HINTS_JSON_MAX];
    int rc_title, rc_hints;
    if (field_id (root, "tool_id", true, id, &err) < 0
    ||  (rc_title = field_str (root, "title", false, 0, REG_TITLE_MAX, &title,
                                &title_len, &err)) < 0
    ||  (rc_hints = tool_hints_read (root, "annotations", hints, &err)) < 0
    ||  (rc_name = field_str (root, "name", false, 0, 0, &name, &name_len, &err)) < 0
    ||  (rc_name == 0 && validate_tool_name ("name", name, name_len, &err))
    ||  (rc_description = field_str (root, "description", false, 0,
                                      REG_DESCRIPTION_MAX, &description,
                                      &description_len, &err)) < 0
    ||  (rc_code = field_str (root, "python_code", false, REG_CODE_MAX, 0, &code,
                               &code_len, &err)) < 0
    ||  (rc_enabled = field_bool (root, "enabled", &enabled, &err)) < 0
    ||  (rc_timeout = field_int (root, "timeout_ms", false, REG_TIMEOUT_MIN_MS,
                                  REG_TIMEOUT_MAX_MS, &timeout, &err)) < 0
    ||  field_enum (root, "change_source", s_change_sources, &source, &err) < 0
    ||  (rc_summary = field_str (root, "change_summary", false, 0, REG_SUMMARY_MAX,
                                  &summary, &summary_len, &err)) < 0) {
        s_error (reply, &err);
        return;
    }
    if (rc_code == 0 && code_len == 0) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "python_code: must not be empty");
        s_error (reply, &err);
        return;
    }

    tool_t current = { 0 }, next = { 0 };
    const char *changes [CHANGES_MAX];
    size_t changed = 0;
    char *summary_text = NULL;
    if (store_tool_get (reg, id, &current, &err))
        goto done;
    if (rc_code == 0 && strcmp (current.tool_type, "mcp_passthrough") == 0) {
        //  its definition is the source's: it changes by rediscovery only
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "python_code: tool %s is imported from "
                     "an external source and has no code", id);
        goto done;
    }
    if (tool_copy (&next, &current)) {
        bus_err_set (&err, BUS_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (rc_name == 0 && (strlen (current.name) != name_len
                          || memcmp (current.name, name, name_len))) {
        if (validate_full_name ("name", current.server_name,
                                strlen (current.server_name), name_len, &err))
            goto done;
        memset (next.name, 0, sizeof next.name);
        memcpy (next.name, name, name_len);
        int taken = store_tool_name_taken (reg, current.server_id, next.name, id, &err);
        if (taken) {
            if (taken > 0)
                bus_err_set (&err, BUS_ERR_CONFLICT, "a tool named '%s' already exists on "
                          "server '%s'", next.name, current.server_name);
            goto done;
        }
        changes [changed++] = "name";
    }
    if (rc_description == 0 && (strlen (current.description) != description_len
                                 || memcmp (current.description, description,
                                            description_len))) {
        free (next.description);
        next.description = registry_ndup (description, description_len);
        changes [changed++] = "description";
    }
    if (rc_title == 0 && (strlen (current.title) != title_len
                           || memcmp (current.title, title, title_len))) {
        free (next.title);
        next.title = registry_ndup (title, title_len);
        changes [changed++] = "title";
    }
    if (rc_hints == 0 && (!current.suggested_annotations
                          || strcmp (current.suggested_annotations, hints))) {
        free (next.suggested_annotations);
        next.suggested_annotations = strdup (hints);
        if (!next.suggested_annotations)
            abort ();
        changes [changed++] = "suggested annotations";
    }
    if (rc_enabled == 0 && enabled != current.enabled) {
        next.enabled = enabled;
        changes [changed++] = "enabled status";
    }
    if (rc_timeout == 0 && timeout != current.timeout_ms) {
        next.timeout_ms = timeout;
        changes [changed++] = "timeout";
    }
    if (rc_code == 0 && (!current.python_code || current.code_len != code_len
                          || memcmp (current.python_code, code, code_len))) {
        if (strcmp (current.tool_type, "python_code") != 0) {
            bus_err_set (&err, BUS_ERR_BAD_REQUEST, "python_code: tool %s is an %s tool "
                      "and has no code", id, current.tool_type);
            goto done;
        }
        free (next.input_schema);
        next.input_schema = NULL;
        free (next.output_schema);
        next.output_schema = NULL;
        if (schema_from_sandbox (service, code, code_len, &next.input_schema,
                                 &next.output_schema, NULL, &err))
            goto done;
        free (next.python_code);
        next.python_code = registry_ndup (code, code_len);
        next.code_len = code_len;
        if (ids_code_hash (code, code_len, next.code_hash)) {
            bus_err_set (&err, BUS_ERR_INTERNAL, "libsodium is not usable");
            goto done;
        }
        changes [changed++] = "Python code";
    }
    if (changed == 0) {
        *reply = s_reply_ok (3);
        msgw_str (*reply, "tool");
        encode_tool (*reply, &current, 0);
        msgw_kv_bool (*reply, "changed", false);
        goto done;
    }
    if (rc_summary == 0)
        summary_text = registry_ndup (summary, summary_len);
    else {
        summary_text = malloc (160);
        if (!summary_text)
            abort ();
        s_summary (changes, changed, summary_text, 160);
    }
    if (s_write_change (service, reg, &next, current.current_version, summary_text,
                        source, &err))
        goto done;
    activity_record (service, "tool.updated", next.server_id,
                     json_pack ("{s:s, s:s, s:s, s:I, s:s, s:b, s:s}", "tool_id", next.id,
                                "tool_name", next.name, "server_name", next.server_name,
                                "version", (json_int_t) next.current_version,
                                "change_summary", summary_text,
                                "code_changed", strcmp (next.code_hash, current.code_hash) != 0,
                                "source", source),
                     "Tool '%s__%s' updated to version %lld: %s", next.server_name, next.name,
                     (long long) next.current_version, summary_text);
    *reply = s_reply_ok (3);
    msgw_str (*reply, "tool");
    encode_tool (*reply, &next, 0);
    msgw_kv_bool (*reply, "changed", true);
done:
    if (!*reply)
        s_error (reply, &err);
    free (summary_text);
    tool_clear (&current);
    tool_clear (&next);
}

static void
s_tool_delete (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    tool_t tool = { 0 };
    int64_t revision = 0;
    if (field_id (msg_root (request), "tool_id", true, id, &err) < 0
    ||  store_tool_get (reg, id, &tool, &err)
    ||  store_begin (reg, &err)) {
        tool_clear (&tool);
        s_error (reply, &err);
        return;
    }
    if (store_tool_delete (reg, id, &err)
    ||  store_bump_revision (reg, &revision, &err)
    ||  store_commit (reg, &err)) {
        store_rollback (reg);
        tool_clear (&tool);
        s_error (reply, &err);
        return;
    }
    log_info ("tool %s '%s__%s' deleted, with its versions", id, tool.server_name,
              tool.name);
    registry_committed (service, reg, revision, tool.server_id, id);
    activity_record (service, "tool.deleted", tool.server_id,
                     json_pack ("{s:s, s:s, s:s}", "tool_id", id, "tool_name", tool.name,
                                "server_name", tool.server_name),
                     "Tool '%s__%s' deleted with its versions", tool.server_name, tool.name);
    *reply = s_reply_ok (3);
    msgw_kv_bool (*reply, "deleted", true);
    msgw_kv_str (*reply, "tool_id", id);
    tool_clear (&tool);
}

static void
s_tool_versions (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    tool_t tool = { 0 };
    version_t *versions = NULL;
    size_t count = 0;
    if (field_id (msg_root (request), "tool_id", true, id, &err) < 0
    ||  store_tool_get (reg, id, &tool, &err)
    ||  store_version_list (reg, id, &versions, &count, &err))
        s_error (reply, &err);
    else {
        *reply = s_reply_ok (6);
        msgw_kv_str (*reply, "tool_id", tool.id);
        msgw_kv_str (*reply, "tool_name", tool.name);
        msgw_kv_int (*reply, "current_version", tool.current_version);
        msgw_kv_int (*reply, "total_versions", (int64_t) count);
        msgw_str (*reply, "versions");
        msgw_array (*reply, count);
        for (size_t i = 0; i < count; i++)
            encode_version_summary (*reply, &versions [i]);
    }
    for (size_t i = 0; i < count; i++)
        version_clear (&versions [i]);
    free (versions);
    tool_clear (&tool);
}

static void
s_tool_version (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    int64_t number = 0;
    tool_t tool = { 0 };
    version_t version = { 0 };
    if (field_id (root, "tool_id", true, id, &err) < 0
    ||  field_int (root, "version", true, 1, INT64_MAX, &number, &err) < 0
    ||  store_tool_get (reg, id, &tool, &err)
    ||  store_version_get (reg, id, number, &version, &err))
        s_error (reply, &err);
    else {
        *reply = s_reply_ok (3);
        msgw_kv_str (*reply, "tool_id", tool.id);
        msgw_str (*reply, "version");
        encode_version (*reply, &version, 0);
    }
    version_clear (&version);
    tool_clear (&tool);
}

static void
s_tool_rollback (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    int64_t number = 0;
    tool_t current = { 0 }, next = { 0 };
    version_t version = { 0 };
    if (field_id (root, "tool_id", true, id, &err) < 0
    ||  field_int (root, "version", true, 1, INT64_MAX, &number, &err) < 0
    ||  store_tool_get (reg, id, &current, &err)
    ||  store_version_get (reg, id, number, &version, &err))
        goto done;
    if (strcmp (current.tool_type, "mcp_passthrough") == 0) {
        //  an old definition would be approved again while the source's
        //  tool is what it is now: an imported tool follows its source
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "tool_id: tool %s is imported from an "
                     "external source; it follows the source (rediscover it) and "
                     "cannot be rolled back", id);
        goto done;
    }
    if (tool_copy (&next, &current)) {
        bus_err_set (&err, BUS_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (strcmp (version.name, current.name) != 0) {
        //  a name stored before the 64-character rule is not brought back
        if (validate_full_name ("version", current.server_name,
                                strlen (current.server_name), strlen (version.name),
                                &err))
            goto done;
        int taken = store_tool_name_taken (reg, current.server_id, version.name, id, &err);
        if (taken) {
            if (taken > 0)
                bus_err_set (&err, BUS_ERR_CONFLICT, "version %lld is named '%s', which "
                          "another tool of server '%s' now has", (long long) number,
                          version.name, current.server_name);
            goto done;
        }
    }
    //  the snapshot becomes the tool: move its heap fields over
    memcpy (next.name, version.name, sizeof next.name);
    free (next.description);
    next.description = version.description;
    version.description = NULL;
    next.enabled = version.enabled;
    next.timeout_ms = version.timeout_ms;
    free (next.python_code);
    next.python_code = version.python_code;
    next.code_len = version.code_len;
    version.python_code = NULL;
    memcpy (next.code_hash, version.code_hash, sizeof next.code_hash);
    free (next.input_schema);
    next.input_schema = version.input_schema;
    version.input_schema = NULL;
    //  what the version said of itself comes back with it; the annotations
    //  MCP clients see are approval's, bound to the code hash (DESIGN.md)
    free (next.title);
    next.title = version.title;
    version.title = NULL;
    free (next.output_schema);
    next.output_schema = version.output_schema;
    version.output_schema = NULL;
    free (next.suggested_annotations);
    next.suggested_annotations = version.suggested_annotations;
    version.suggested_annotations = NULL;
    char summary [64];
    snprintf (summary, sizeof summary, "Rolled back to version %lld", (long long) number);
    if (s_write_change (service, reg, &next, current.current_version, summary,
                        "rollback", &err))
        goto done;
    activity_record (service, "tool.rolled_back", next.server_id,
                     json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "tool_id", next.id,
                                "tool_name", next.name, "server_name", next.server_name,
                                "from_version", (json_int_t) current.current_version,
                                "restored_version", (json_int_t) number,
                                "version", (json_int_t) next.current_version,
                                "code_hash", next.code_hash),
                     "Tool '%s__%s' rolled back to version %lld (now version %lld)",
                     next.server_name, next.name, (long long) number,
                     (long long) next.current_version);
    *reply = s_reply_ok (3);
    msgw_str (*reply, "tool");
    encode_tool (*reply, &next, 0);
    msgw_kv_int (*reply, "restored_version", number);
done:
    if (!*reply)
        s_error (reply, &err);
    version_clear (&version);
    tool_clear (&current);
    tool_clear (&next);
}

//  --- catalog -------------------------------------------------------------------

static void
s_catalog (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    registry_t *reg = state;
    if (reg->stale)
        store_refresh_catalog (reg);
    if (reg->stale) {
        *reply = msgw_error_new (BUS_ERR_UNAVAILABLE,
                                 "the catalog could not be rebuilt; try again");
        return;
    }
    *reply = catalog_reply (reg->catalog);
}

//  --- the interface ---------------------------------------------------------------

//  op name -> handler; `health` is answered by the service loop.
const service_op_t registry_ops [] = {
    { "server.create",  s_server_create  },     //  name*, description
    { "server.get",     s_server_get     },     //  server_id*
    { "server.list",    s_server_list    },     //  page, page_size
    { "server.delete",  s_server_delete  },     //  server_id*
    { "server.start",   s_server_start   },     //  server_id*
    { "server.stop",    s_server_stop    },     //  server_id*
    { "tool.create",    s_tool_create    },     //  server_id*, name*, python_code*, ...
    { "tool.get",       s_tool_get       },     //  tool_id*
    { "tool.list",      s_tool_list      },     //  server_id*
    { "tool.update",    s_tool_update    },     //  tool_id*, name, description, ...
    { "tool.delete",    s_tool_delete    },     //  tool_id*
    { "tool.versions",  s_tool_versions  },     //  tool_id*
    { "tool.version",   s_tool_version   },     //  tool_id*, version*
    { "tool.rollback",  s_tool_rollback  },     //  tool_id*, version*
    { "catalog",        s_catalog        },     //  -
    { "export.dump",    export_dump      },     //  servers (names)
    { "import.apply",   import_apply     },     //  servers* (export.c)
    { "source.create",  sources_create   },     //  server_id*, name*, url*, auth...
    { "source.get",     sources_get      },     //  source_id*
    { "source.list",    sources_list     },     //  server_id*
    { "source.discovered", sources_discovered },    //  source_id*, tools | error
    { "source.health",  sources_health   },     //  source_id*, error?
    { "source.import",  sources_import   },     //  source_id*, tool_names*
    { NULL,             NULL             }
};

/*  export.c — servers, tools and every version of them, out and in, for
    export files (docs/BUS_OPS.md, registry: export.dump, import.apply).

    export.dump {servers?: [name...]} reads the servers (all, or those
    named; an unknown name is not_found) with their python tools and every
    version, ordered by name and version so that the same data always
    gives the same answer. mcp_passthrough tools belong to an external
    source and are not exported: they are counted in skipped_tools.

    import.apply {servers: [...], dry_run} writes what export.dump gave
    (without ids) under new ids, in ONE transaction (dry_run: the same,
    rolled back: every check, conflicts included, and nothing kept): every field is checked first
    (unknown fields refused, names, sizes, times, versions 1..n in order,
    each code_hash the SHA-256 of its code); a server whose name exists
    refuses the whole import (conflict) and nothing is written. The tool
    row is its newest version, as always (store_tools.c).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup_limits.h"
#include "json_msgpack.h"
#include "log.h"
#include "registry.h"

#define EXPORT_SERVERS_MAX  1000        //  servers in one import
#define EXPORT_TOOLS_MAX    1000        //  tools of one server
#define EXPORT_VERSIONS_MAX 10000       //  versions of one tool

static const char s_sql_servers [] =
    "SELECT id, name, description, status, default_timeout_ms, created_at, updated_at"
    " FROM servers ORDER BY name";
static const char s_sql_tools [] =
    "SELECT id, name, created_by, created_at, updated_at, current_version, tool_type"
    " FROM tools WHERE server_id = ? ORDER BY name";
static const char s_sql_versions [] =
    "SELECT version, name, title, description, enabled, timeout_ms, python_code,"
    " code_hash, input_schema, output_schema, suggested_annotations, change_summary,"
    " change_source, created_at FROM tool_versions WHERE tool_id = ? ORDER BY version";
static const char s_sql_version_put [] =
    "INSERT INTO tool_versions (tool_id, version, name, description, enabled,"
    " timeout_ms, python_code, code_hash, input_schema, change_summary,"
    " change_source, created_at, title, output_schema, suggested_annotations)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

//  --- export.dump -------------------------------------------------------------

static json_t *
s_col_json (sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *) sqlite3_column_text (stmt, col);
    json_t *value = text ? json_loads (text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    return value ? value : json_null ();
}

static json_t *
s_col_str (sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *) sqlite3_column_text (stmt, col);
    return json_stringn (text ? text : "", text ? (size_t) sqlite3_column_bytes (stmt, col) : 0);
}

static int
s_versions (registry_t *reg, const char *tool_id, json_t *out, size_t *bytes, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (reg, s_sql_versions, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool_id, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        json_t *v = json_object ();
        json_object_set_new (v, "version", json_integer (sqlite3_column_int64 (stmt, 0)));
        json_object_set_new (v, "name", s_col_str (stmt, 1));
        json_object_set_new (v, "title", s_col_str (stmt, 2));
        json_object_set_new (v, "description", s_col_str (stmt, 3));
        json_object_set_new (v, "enabled", json_boolean (sqlite3_column_int (stmt, 4)));
        json_object_set_new (v, "timeout_ms", json_integer (sqlite3_column_int64 (stmt, 5)));
        json_object_set_new (v, "python_code", s_col_str (stmt, 6));
        json_object_set_new (v, "code_hash", s_col_str (stmt, 7));
        json_object_set_new (v, "input_schema", s_col_json (stmt, 8));
        json_object_set_new (v, "output_schema", s_col_json (stmt, 9));
        json_object_set_new (v, "suggested_annotations", s_col_json (stmt, 10));
        json_object_set_new (v, "change_summary", s_col_str (stmt, 11));
        json_object_set_new (v, "change_source", s_col_str (stmt, 12));
        json_object_set_new (v, "created_at", s_col_str (stmt, 13));
        *bytes += (size_t) sqlite3_column_bytes (stmt, 6) + sqlite3_column_bytes (stmt, 8)
                + (size_t) sqlite3_column_bytes (stmt, 3) + 512;
        json_array_append_new (out, v);
    }
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : store_fail (reg, err, "read versions");
}

static int
s_tools (registry_t *reg, const char *server_id, json_t *out, int64_t *skipped,
         size_t *bytes, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (reg, s_sql_tools, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *type = (const char *) sqlite3_column_text (stmt, 6);
        if (!type || strcmp (type, "python_code") != 0) {
            (*skipped)++;
            continue;
        }
        json_t *t = json_object ();
        json_object_set_new (t, "id", s_col_str (stmt, 0));
        json_object_set_new (t, "name", s_col_str (stmt, 1));
        json_object_set_new (t, "created_by", s_col_str (stmt, 2));
        json_object_set_new (t, "created_at", s_col_str (stmt, 3));
        json_object_set_new (t, "updated_at", s_col_str (stmt, 4));
        json_object_set_new (t, "current_version", json_integer (sqlite3_column_int64 (stmt, 5)));
        json_array_append_new (out, t);
    }
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return store_fail (reg, err, "read tools");
    //  versions after the tools statement is done (one statement at a time)
    size_t i;
    json_t *t;
    json_array_foreach (out, i, t) {
        json_t *versions = json_array ();
        json_object_set_new (t, "versions", versions);
        if (s_versions (reg, json_string_value (json_object_get (t, "id")), versions,
                        bytes, err))
            return -1;
        if (*bytes > BACKUP_FILE_MAX)
            return bus_err_set (err, BUS_ERR_TOO_LARGE, "the export would exceed %u bytes: "
                                "export fewer servers at a time", BACKUP_FILE_MAX);
    }
    return 0;
}

void
export_dump (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    const msgpack_object *names = NULL;
    msg_field_t f = msg_get_array (msg_root (request), "servers", &names);
    if (f == MSG_FIELD_WRONG_TYPE || (names && names->via.array.size > EXPORT_SERVERS_MAX)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "servers: an array of server names");
        return;
    }
    size_t wanted = names ? names->via.array.size : 0;
    bool *seen = wanted ? calloc (wanted, sizeof *seen) : NULL;
    for (size_t i = 0; i < wanted; i++) {
        const msgpack_object *n = &names->via.array.ptr [i];
        if (n->type != MSGPACK_OBJECT_STR
        ||  validate_server_name ("servers", n->via.str.ptr, n->via.str.size, &err)) {
            free (seen);
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "servers: an array of server names");
            return;
        }
    }
    json_t *servers = json_array ();
    int64_t skipped = 0;
    size_t bytes = 0;
    int rc = 0;
    sqlite3_stmt *stmt = store_stmt (reg, s_sql_servers, &err);
    if (!stmt)
        rc = -1;
    while (rc == 0 && sqlite3_step (stmt) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 1);
        bool take = !names;
        for (size_t i = 0; i < wanted && !take; i++)
            if (names->via.array.ptr [i].via.str.size == strlen (name)
            &&  memcmp (names->via.array.ptr [i].via.str.ptr, name, strlen (name)) == 0)
                take = seen [i] = true;
        if (!take)
            continue;
        json_t *s = json_object ();
        json_object_set_new (s, "id", s_col_str (stmt, 0));
        json_object_set_new (s, "name", s_col_str (stmt, 1));
        json_object_set_new (s, "description", s_col_str (stmt, 2));
        json_object_set_new (s, "status", s_col_str (stmt, 3));
        json_object_set_new (s, "default_timeout_ms", json_integer (sqlite3_column_int64 (stmt, 4)));
        json_object_set_new (s, "created_at", s_col_str (stmt, 5));
        json_object_set_new (s, "updated_at", s_col_str (stmt, 6));
        json_array_append_new (servers, s);
    }
    if (stmt)
        store_done (stmt);
    for (size_t i = 0; rc == 0 && i < wanted; i++)
        if (!seen [i])
            rc = bus_err_set (&err, BUS_ERR_NOT_FOUND, "servers: no server named '%.*s'",
                              (int) names->via.array.ptr [i].via.str.size,
                              names->via.array.ptr [i].via.str.ptr);
    free (seen);
    size_t i;
    json_t *s;
    json_array_foreach (servers, i, s) {
        if (rc)
            break;
        json_t *tools = json_array ();
        json_object_set_new (s, "tools", tools);
        rc = s_tools (reg, json_string_value (json_object_get (s, "id")), tools, &skipped,
                      &bytes, &err);
    }
    if (rc) {
        json_decref (servers);
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "servers");
    int packed = msgw_json (w, servers);
    msgw_kv_int (w, "skipped_tools", skipped);
    json_decref (servers);
    if (packed != 0 || msgw_size (w) > BACKUP_FILE_MAX) {
        msgw_destroy (&w);
        *reply = msgw_error_new (BUS_ERR_TOO_LARGE, "the export does not fit in an export "
                                 "file: export fewer servers at a time");
        return;
    }
    *reply = w;
}

//  --- import.apply --------------------------------------------------------------

//  "2026-11-29T05:40:00.123Z"
static bool
s_time_ok (const char *text, size_t len)
{
    static const char shape [] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (len != sizeof shape - 1)
        return false;
    for (size_t i = 0; i < len; i++)
        if (shape [i] == 'd' ? !(text [i] >= '0' && text [i] <= '9') : text [i] != shape [i])
            return false;
    return true;
}

static int
s_time (const msgpack_object *map, const char *key, const char *where, char *out,
        bus_err_t *err)
{
    const char *text;
    size_t len;
    if (field_str (map, key, true, REG_TIME_LEN, 0, &text, &len, err) < 0
    ||  !s_time_ok (text, len))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.%s: a time like "
                            "2026-11-29T05:40:00.123Z", where, key);
    memcpy (out, text, len);
    out [len] = 0;
    return 0;
}

//  A JSON object (map) as compact JSON text, or NULL for nil when nullable.
static int
s_schema (const msgpack_object *map, const char *key, bool nullable, const char *where,
          char **out, bus_err_t *err)
{
    *out = NULL;
    const msgpack_object *value = msg_map_get (map, key);
    if ((!value || value->type == MSGPACK_OBJECT_NIL) && nullable)
        return 0;
    json_t *json = value && value->type == MSGPACK_OBJECT_MAP ? json_from_msgpack (value) : NULL;
    if (json)
        *out = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    if (!*out)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.%s: must be a map%s", where, key,
                            nullable ? " or nil" : "");
    return 0;
}

typedef struct {
    version_t v;
    char     *input, *output, *hints;
} in_version_t;

static void
s_in_version_clear (in_version_t *self)
{
    free (self->input);
    free (self->output);
    free (self->hints);
    free (self->v.description);
    free (self->v.python_code);
    free (self->v.title);
    free (self->v.change_summary);
    memset (self, 0, sizeof *self);
}

static int
s_read_version (const msgpack_object *m, const char *where, int64_t expect,
                in_version_t *out, bus_err_t *err)
{
    static const char *const keys [] = { "version", "name", "title", "description",
        "enabled", "timeout_ms", "python_code", "code_hash", "input_schema",
        "output_schema", "suggested_annotations", "change_summary", "change_source",
        "created_at", NULL };
    static const char *const sources [] = { "manual", "llm", "import", "rollback", NULL };
    memset (out, 0, sizeof *out);
    const char *text, *source;
    size_t len;
    int64_t number;
    bool enabled = true;
    if (field_keys_only (m, where, keys, err)
    ||  field_int (m, "version", true, 1, EXPORT_VERSIONS_MAX, &number, err) < 0)
        return -1;
    if (number != expect)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.version: versions must be "
                            "1, 2, ... in order (expected %lld)", where, (long long) expect);
    out->v.version = number;
    if (field_str (m, "name", true, 0, 0, &text, &len, err) < 0
    ||  validate_tool_name ("name", text, len, err))
        return -1;
    memcpy (out->v.name, text, len);
    if (field_str (m, "title", false, 0, REG_TITLE_MAX, &text, &len, err) < 0)
        return -1;
    out->v.title = registry_ndup (text ? text : "", text ? len : 0);
    if (field_str (m, "description", false, 0, REG_DESCRIPTION_MAX, &text, &len, err) < 0)
        return -1;
    out->v.description = registry_ndup (text ? text : "", text ? len : 0);
    if (field_bool (m, "enabled", &enabled, err) < 0
    ||  field_int (m, "timeout_ms", true, REG_TIMEOUT_MIN_MS, REG_TIMEOUT_MAX_MS,
                   &out->v.timeout_ms, err) < 0
    ||  field_str (m, "python_code", true, REG_CODE_MAX, 0, &text, &len, err) < 0)
        return -1;
    out->v.enabled = enabled;
    out->v.python_code = registry_ndup (text, len);
    out->v.code_len = len;
    char hash [REG_HASH_LEN + 1];
    if (ids_code_hash (text, len, hash))
        return bus_err_set (err, BUS_ERR_INTERNAL, "cannot hash code");
    if (field_str (m, "code_hash", true, REG_HASH_LEN, 0, &text, &len, err) < 0
    ||  len != REG_HASH_LEN || memcmp (text, hash, REG_HASH_LEN) != 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.code_hash: not the SHA-256 of "
                            "python_code", where);
    memcpy (out->v.code_hash, hash, sizeof hash);
    if (s_schema (m, "input_schema", false, where, &out->input, err)
    ||  s_schema (m, "output_schema", true, where, &out->output, err)
    ||  s_schema (m, "suggested_annotations", true, where, &out->hints, err)
    ||  field_str (m, "change_summary", false, 0, REG_SUMMARY_MAX, &text, &len, err) < 0)
        return -1;
    out->v.change_summary = registry_ndup (text ? text : "", text ? len : 0);
    if (field_enum (m, "change_source", sources, &source, err) != 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.change_source: one of manual, "
                            "llm, import, rollback", where);
    snprintf (out->v.change_source, sizeof out->v.change_source, "%s", source);
    return s_time (m, "created_at", where, out->v.created_at, err);
}

static int
s_put_version (registry_t *reg, const char *tool_id, const in_version_t *in, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (reg, s_sql_version_put, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, in->v.version);
    sqlite3_bind_text (stmt, 3, in->v.name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, in->v.description, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 5, in->v.enabled ? 1 : 0);
    sqlite3_bind_int64 (stmt, 6, in->v.timeout_ms);
    sqlite3_bind_text (stmt, 7, in->v.python_code, (int) in->v.code_len, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 8, in->v.code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 9, in->input, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, in->v.change_summary, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 11, in->v.change_source, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 12, in->v.created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 13, in->v.title, -1, SQLITE_STATIC);
    if (in->output)
        sqlite3_bind_text (stmt, 14, in->output, -1, SQLITE_STATIC);
    if (in->hints)
        sqlite3_bind_text (stmt, 15, in->hints, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : store_fail (reg, err, "insert version");
}

//  One tool of a server being imported: checked, then written (inside the
//  caller's transaction); its new id and name appended to the reply.
static int
s_import_tool (registry_t *reg, const server_t *server, const msgpack_object *m,
               const char *where, msgw_t *w, bus_err_t *err)
{
    static const char *const keys [] = { "name", "created_by", "created_at", "updated_at",
        "current_version", "versions", NULL };
    static const char *const creators [] = { "llm", "admin", NULL };
    tool_t tool = { 0 };
    const char *text, *creator;
    size_t len;
    const msgpack_object *versions = NULL;
    if (field_keys_only (m, where, keys, err)
    ||  field_str (m, "name", true, 0, 0, &text, &len, err) < 0
    ||  validate_tool_name ("name", text, len, err)
    ||  validate_full_name ("name", server->name, strlen (server->name), len, err))
        return -1;
    memcpy (tool.name, text, len);
    if (field_enum (m, "created_by", creators, &creator, err) != 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.created_by: llm or admin", where);
    snprintf (tool.created_by, sizeof tool.created_by, "%s", creator);
    if (s_time (m, "created_at", where, tool.created_at, err)
    ||  s_time (m, "updated_at", where, tool.updated_at, err)
    ||  field_int (m, "current_version", true, 1, EXPORT_VERSIONS_MAX,
                   &tool.current_version, err) < 0)
        return -1;
    if (msg_get_array (m, "versions", &versions) != MSG_FIELD_OK
    ||  versions->via.array.size != (uint32_t) tool.current_version)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.versions: an array of exactly "
                            "current_version versions", where);
    if (ids_uuid4 (tool.id))
        return bus_err_set (err, BUS_ERR_INTERNAL, "cannot make an id");
    memcpy (tool.server_id, server->id, sizeof tool.server_id);
    snprintf (tool.tool_type, sizeof tool.tool_type, "python_code");
    in_version_t *in = calloc (versions->via.array.size, sizeof *in);
    if (!in)
        abort ();
    int rc = 0;
    uint32_t n = versions->via.array.size;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        char at [96];
        snprintf (at, sizeof at, "%s.versions[%u]", where, i);
        rc = s_read_version (&versions->via.array.ptr [i], at, (int64_t) i + 1, &in [i], err);
    }
    if (rc == 0) {
        const in_version_t *last = &in [n - 1];
        if (strcmp (last->v.name, tool.name) != 0)
            rc = bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.name: not the name of the "
                              "newest version", where);
        else {
            //  the tool row is its newest version (borrowed pointers)
            tool.description = last->v.description;
            tool.enabled = last->v.enabled;
            tool.timeout_ms = last->v.timeout_ms;
            tool.input_schema = last->input;
            tool.title = last->v.title;
            tool.output_schema = last->output;
            tool.suggested_annotations = last->hints;
            tool.python_code = last->v.python_code;
            tool.code_len = last->v.code_len;
            memcpy (tool.code_hash, last->v.code_hash, sizeof tool.code_hash);
            rc = store_tool_insert (reg, &tool, err);
        }
    }
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = s_put_version (reg, tool.id, &in [i], err);
    if (rc == 0) {
        msgw_map (w, 3);
        msgw_kv_str (w, "name", tool.name);
        msgw_kv_str (w, "id", tool.id);
        msgw_kv_str (w, "code_hash", tool.code_hash);
    }
    for (uint32_t i = 0; i < n; i++)
        s_in_version_clear (&in [i]);
    free (in);
    return rc;
}

static int
s_import_server (registry_t *reg, const msgpack_object *m, const char *where,
                 server_t *server, msgw_t *w, bus_err_t *err)
{
    static const char *const keys [] = { "name", "description", "status",
        "default_timeout_ms", "created_at", "updated_at", "tools", NULL };
    static const char *const statuses [] = { "ready", "running", "stopped", "error", NULL };
    const char *text, *status;
    size_t len;
    const msgpack_object *tools = NULL;
    memset (server, 0, sizeof *server);
    if (field_keys_only (m, where, keys, err)
    ||  field_str (m, "name", true, 0, 0, &text, &len, err) < 0
    ||  validate_server_name ("name", text, len, err))
        return -1;
    memcpy (server->name, text, len);
    if (field_str (m, "description", false, 0, REG_DESCRIPTION_MAX, &text, &len, err) < 0)
        return -1;
    server->description = registry_ndup (text ? text : "", text ? len : 0);
    if (field_enum (m, "status", statuses, &status, err) != 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.status: ready, running, stopped "
                            "or error", where);
    snprintf (server->status, sizeof server->status, "%s", status);
    if (field_int (m, "default_timeout_ms", true, REG_TIMEOUT_MIN_MS, REG_TIMEOUT_MAX_MS,
                   &server->default_timeout_ms, err) < 0
    ||  s_time (m, "created_at", where, server->created_at, err)
    ||  s_time (m, "updated_at", where, server->updated_at, err))
        return -1;
    if (msg_get_array (m, "tools", &tools) != MSG_FIELD_OK
    ||  tools->via.array.size > EXPORT_TOOLS_MAX)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.tools: an array of at most %d "
                            "tools", where, EXPORT_TOOLS_MAX);
    if (ids_uuid4 (server->id))
        return bus_err_set (err, BUS_ERR_INTERNAL, "cannot make an id");
    if (store_server_insert (reg, server, err))
        return -1;
    msgw_map (w, 3);
    msgw_kv_str (w, "name", server->name);
    msgw_kv_str (w, "id", server->id);
    msgw_str (w, "tools");
    msgw_array (w, tools->via.array.size);
    for (uint32_t i = 0; i < tools->via.array.size; i++) {
        char at [64];
        snprintf (at, sizeof at, "%s.tools[%u]", where, i);
        if (s_import_tool (reg, server, &tools->via.array.ptr [i], at, w, err))
            return -1;
    }
    return 0;
}

void
import_apply (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    bus_err_t err;
    const msgpack_object *servers = NULL;
    if (msg_get_array (msg_root (request), "servers", &servers) != MSG_FIELD_OK
    ||  servers->via.array.size > EXPORT_SERVERS_MAX) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "servers: an array of at most 1000 "
                                 "servers");
        return;
    }
    bool dry = false;
    if (field_bool (msg_root (request), "dry_run", &dry, &err) < 0) {
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    uint32_t n = servers->via.array.size;
    server_t *made = calloc (n ? n : 1, sizeof *made);
    if (!made)
        abort ();
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "servers");
    msgw_array (w, n);
    int64_t revision = 0;
    int rc = store_begin (reg, &err);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        char at [32];
        snprintf (at, sizeof at, "servers[%u]", i);
        rc = s_import_server (reg, &servers->via.array.ptr [i], at, &made [i], w, &err);
    }
    if (rc == 0 && dry) {
        //  everything was checked and written: undo it, say it would work
        store_rollback (reg);
        msgw_kv_int (w, "revision", 0);
        *reply = w;
        w = NULL;
        rc = 1;
    }
    else
    if (rc == 0)
        rc = store_bump_revision (reg, &revision, &err);
    if (rc == 0)
        rc = store_commit (reg, &err);
    else
    if (rc < 0)
        store_rollback (reg);
    if (rc == 0) {
        msgw_kv_int (w, "revision", revision);
        registry_committed (service, reg, revision, n ? made [0].id : "", NULL);
        for (uint32_t i = 0; i < n; i++) {
            log_info ("server %s '%s' imported", made [i].id, made [i].name);
            activity_record (service, "server.imported", made [i].id,
                             json_pack ("{s:s, s:s}", "server_id", made [i].id,
                                        "name", made [i].name),
                             "Server '%s' imported from an export file", made [i].name);
        }
        *reply = w;
    }
    else
    if (rc < 0) {
        msgw_destroy (&w);
        *reply = msgw_error_new (err.code, err.message);
    }
    for (uint32_t i = 0; i < n; i++)
        server_clear (&made [i]);
    free (made);
}

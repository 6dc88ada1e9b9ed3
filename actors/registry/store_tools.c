/*  store_tools.c — SQL for the tools and tool_versions tables.

    A tool row always holds the state of its newest version
    (current_version); tool_versions holds every state it has had, as full
    snapshots. Writing a change is store_tool_update + store_version_insert
    inside one transaction held by the caller (ops.c), so a tool never has
    a current_version without its snapshot, even after kill -9.

    Name clashes surface as SQLITE_CONSTRAINT_UNIQUE and become `conflict`;
    the caller also checks first (store_tool_name_taken) so that the usual
    case is refused before the sandbox is asked anything.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"

#define TOOL_COLUMNS \
    "t.id, t.server_id, s.name, t.name, t.description, t.enabled, t.timeout_ms," \
    " t.input_schema, t.tool_type, t.python_code, t.code_hash, t.current_version," \
    " t.created_by, t.created_at, t.updated_at, t.title, t.output_schema," \
    " t.suggested_annotations, t.removed_at"

static const char s_sql_get [] =
    "SELECT " TOOL_COLUMNS " FROM tools t JOIN servers s ON s.id = t.server_id"
    " WHERE t.id = ?";
static const char s_sql_insert [] =
    "INSERT INTO tools (id, server_id, name, description, input_schema, enabled,"
    " timeout_ms, tool_type, python_code, code_hash, current_version, created_by,"
    " created_at, updated_at, title, output_schema, suggested_annotations)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char s_sql_update [] =
    "UPDATE tools SET name = ?, description = ?, input_schema = ?, enabled = ?,"
    " timeout_ms = ?, python_code = ?, code_hash = ?, current_version = ?,"
    " updated_at = ?, title = ?, output_schema = ?, suggested_annotations = ?"
    " WHERE id = ?";
static const char s_sql_delete [] =
    "DELETE FROM tools WHERE id = ?";
static const char s_sql_taken [] =
    "SELECT 1 FROM tools WHERE server_id = ? AND name = ? AND id <> ?";
static const char s_sql_list [] =
    "SELECT id, name, description, enabled, timeout_ms, code_hash, current_version,"
    " created_at, updated_at, removed_at FROM tools WHERE server_id = ?"
    " ORDER BY created_at, rowid";
static const char s_sql_version_insert [] =
    "INSERT INTO tool_versions (tool_id, version, name, description, enabled,"
    " timeout_ms, python_code, code_hash, input_schema, change_summary,"
    " change_source, created_at, title, output_schema, suggested_annotations)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char s_sql_version_get [] =
    "SELECT version, name, description, enabled, timeout_ms, python_code, code_hash,"
    " input_schema, change_summary, change_source, created_at, title, output_schema,"
    " suggested_annotations FROM tool_versions WHERE tool_id = ? AND version = ?";
static const char s_sql_version_list [] =
    "SELECT version, name, description, enabled, timeout_ms, code_hash,"
    " change_summary, change_source, created_at, title FROM tool_versions"
    " WHERE tool_id = ? ORDER BY version DESC";

static void
s_tool_row (sqlite3_stmt *stmt, tool_t *out)
{
    memset (out, 0, sizeof *out);
    store_col_copy (stmt, 0, out->id, sizeof out->id);
    store_col_copy (stmt, 1, out->server_id, sizeof out->server_id);
    store_col_copy (stmt, 2, out->server_name, sizeof out->server_name);
    store_col_copy (stmt, 3, out->name, sizeof out->name);
    out->description = store_col_text (stmt, 4);
    out->enabled = sqlite3_column_int (stmt, 5) != 0;
    out->timeout_ms = sqlite3_column_int64 (stmt, 6);
    out->input_schema = store_col_text (stmt, 7);
    store_col_copy (stmt, 8, out->tool_type, sizeof out->tool_type);
    out->python_code = store_col_dup (stmt, 9, &out->code_len);
    store_col_copy (stmt, 10, out->code_hash, sizeof out->code_hash);
    out->current_version = sqlite3_column_int64 (stmt, 11);
    store_col_copy (stmt, 12, out->created_by, sizeof out->created_by);
    store_col_copy (stmt, 13, out->created_at, sizeof out->created_at);
    store_col_copy (stmt, 14, out->updated_at, sizeof out->updated_at);
    out->title = store_col_text (stmt, 15);
    out->output_schema = store_col_dup (stmt, 16, NULL);
    out->suggested_annotations = store_col_dup (stmt, 17, NULL);
    store_col_copy (stmt, 18, out->removed_at, sizeof out->removed_at);
}

int
store_tool_get (registry_t *self, const char *id, tool_t *out, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_get, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        s_tool_row (stmt, out);
    store_done (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s not found", id);
    return store_fail (self, err, "read tool");
}

//  A failed INSERT/UPDATE of a tool row, as the caller should see it.
static int
s_write_failed (registry_t *self, const tool_t *tool, const char *what, bus_err_t *err)
{
    int code = sqlite3_extended_errcode (self->db);
    if (code == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "a tool named '%s' already exists "
                         "on this server", tool->name);
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "server %s not found", tool->server_id);
    return store_fail (self, err, what);
}

int
store_tool_insert (registry_t *self, const tool_t *tool, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_insert, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, tool->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, tool->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, tool->description, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, tool->input_schema, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 6, tool->enabled ? 1 : 0);
    sqlite3_bind_int64 (stmt, 7, tool->timeout_ms);
    sqlite3_bind_text (stmt, 8, tool->tool_type, -1, SQLITE_STATIC);
    if (tool->python_code)
        sqlite3_bind_text (stmt, 9, tool->python_code, (int) tool->code_len, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, tool->code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 11, tool->current_version);
    sqlite3_bind_text (stmt, 12, tool->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 13, tool->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 14, tool->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 15, tool->title ? tool->title : "", -1, SQLITE_STATIC);
    store_bind_text (stmt, 16, tool->output_schema);
    store_bind_text (stmt, 17, tool->suggested_annotations);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : s_write_failed (self, tool, "insert tool", err);
}

int
store_tool_update (registry_t *self, const tool_t *tool, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_update, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, tool->description, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, tool->input_schema, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 4, tool->enabled ? 1 : 0);
    sqlite3_bind_int64 (stmt, 5, tool->timeout_ms);
    if (tool->python_code)
        sqlite3_bind_text (stmt, 6, tool->python_code, (int) tool->code_len, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, tool->code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 8, tool->current_version);
    sqlite3_bind_text (stmt, 9, tool->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, tool->title ? tool->title : "", -1, SQLITE_STATIC);
    store_bind_text (stmt, 11, tool->output_schema);
    store_bind_text (stmt, 12, tool->suggested_annotations);
    sqlite3_bind_text (stmt, 13, tool->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return s_write_failed (self, tool, "update tool", err);
    if (sqlite3_changes (self->db) == 0)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s not found", tool->id);
    return 0;
}

int
store_tool_delete (registry_t *self, const char *id, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_delete, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return store_fail (self, err, "delete tool");
    if (sqlite3_changes (self->db) == 0)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s not found", id);
    return 0;
}

int
store_tool_name_taken (registry_t *self, const char *server_id, const char *name,
                       const char *except_id, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_taken, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, except_id ? except_id : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return store_fail (self, err, "look up a tool name");
}

int
store_tool_list (registry_t *self, const char *server_id, tool_t **items,
                 size_t *count, bus_err_t *err)
{
    *items = NULL;
    *count = 0;
    sqlite3_stmt *stmt = store_stmt (self, s_sql_list, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    tool_t *list = NULL;
    size_t n = 0, size = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (n == size) {
            size_t grow = size ? size * 2 : 16;
            tool_t *bigger = realloc (list, grow * sizeof *list);
            if (!bigger)
                abort ();
            list = bigger;
            size = grow;
        }
        tool_t *tool = &list [n++];
        memset (tool, 0, sizeof *tool);
        store_col_copy (stmt, 0, tool->id, sizeof tool->id);
        snprintf (tool->server_id, sizeof tool->server_id, "%s", server_id);
        store_col_copy (stmt, 1, tool->name, sizeof tool->name);
        tool->description = store_col_text (stmt, 2);
        tool->enabled = sqlite3_column_int (stmt, 3) != 0;
        tool->timeout_ms = sqlite3_column_int64 (stmt, 4);
        store_col_copy (stmt, 5, tool->code_hash, sizeof tool->code_hash);
        tool->current_version = sqlite3_column_int64 (stmt, 6);
        store_col_copy (stmt, 7, tool->created_at, sizeof tool->created_at);
        store_col_copy (stmt, 8, tool->updated_at, sizeof tool->updated_at);
        store_col_copy (stmt, 9, tool->removed_at, sizeof tool->removed_at);
    }
    store_done (stmt);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            tool_clear (&list [i]);
        free (list);
        return store_fail (self, err, "list tools");
    }
    *items = list;
    *count = n;
    return 0;
}

int
store_version_insert (registry_t *self, const tool_t *tool, const char *summary,
                      const char *source, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_version_insert, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, tool->current_version);
    sqlite3_bind_text (stmt, 3, tool->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, tool->description, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 5, tool->enabled ? 1 : 0);
    sqlite3_bind_int64 (stmt, 6, tool->timeout_ms);
    if (tool->python_code)
        sqlite3_bind_text (stmt, 7, tool->python_code, (int) tool->code_len, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 8, tool->code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 9, tool->input_schema, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, summary ? summary : "", -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 11, source, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 12, tool->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 13, tool->title ? tool->title : "", -1, SQLITE_STATIC);
    store_bind_text (stmt, 14, tool->output_schema);
    store_bind_text (stmt, 15, tool->suggested_annotations);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
        return bus_err_set (err, BUS_ERR_CONFLICT, "version %lld of tool %s already "
                         "exists", (long long) tool->current_version, tool->id);
    return store_fail (self, err, "insert tool version");
}

int
store_version_get (registry_t *self, const char *tool_id, int64_t version,
                   version_t *out, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_version_get, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, version);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        memset (out, 0, sizeof *out);
        out->version = sqlite3_column_int64 (stmt, 0);
        store_col_copy (stmt, 1, out->name, sizeof out->name);
        out->description = store_col_text (stmt, 2);
        out->enabled = sqlite3_column_int (stmt, 3) != 0;
        out->timeout_ms = sqlite3_column_int64 (stmt, 4);
        out->python_code = store_col_dup (stmt, 5, &out->code_len);
        store_col_copy (stmt, 6, out->code_hash, sizeof out->code_hash);
        out->input_schema = store_col_text (stmt, 7);
        out->change_summary = store_col_text (stmt, 8);
        store_col_copy (stmt, 9, out->change_source, sizeof out->change_source);
        store_col_copy (stmt, 10, out->created_at, sizeof out->created_at);
        out->title = store_col_text (stmt, 11);
        out->output_schema = store_col_dup (stmt, 12, NULL);
        out->suggested_annotations = store_col_dup (stmt, 13, NULL);
    }
    store_done (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s has no version %lld",
                         tool_id, (long long) version);
    return store_fail (self, err, "read tool version");
}

int
store_version_list (registry_t *self, const char *tool_id, version_t **items,
                    size_t *count, bus_err_t *err)
{
    *items = NULL;
    *count = 0;
    sqlite3_stmt *stmt = store_stmt (self, s_sql_version_list, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool_id, -1, SQLITE_STATIC);
    version_t *list = NULL;
    size_t n = 0, size = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (n == size) {
            size_t grow = size ? size * 2 : 16;
            version_t *bigger = realloc (list, grow * sizeof *list);
            if (!bigger)
                abort ();
            list = bigger;
            size = grow;
        }
        version_t *v = &list [n++];
        memset (v, 0, sizeof *v);
        v->version = sqlite3_column_int64 (stmt, 0);
        store_col_copy (stmt, 1, v->name, sizeof v->name);
        v->description = store_col_text (stmt, 2);
        v->enabled = sqlite3_column_int (stmt, 3) != 0;
        v->timeout_ms = sqlite3_column_int64 (stmt, 4);
        store_col_copy (stmt, 5, v->code_hash, sizeof v->code_hash);
        v->change_summary = store_col_text (stmt, 6);
        store_col_copy (stmt, 7, v->change_source, sizeof v->change_source);
        store_col_copy (stmt, 8, v->created_at, sizeof v->created_at);
        v->title = store_col_text (stmt, 9);
    }
    store_done (stmt);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            version_clear (&list [i]);
        free (list);
        return store_fail (self, err, "list tool versions");
    }
    *items = list;
    *count = n;
    return 0;
}

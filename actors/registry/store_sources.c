/*  store_sources.c — SQL for external_mcp_sources (sql/0002_registry.sql,
    health columns in sql/0012_sources.sql) and for the mcp_passthrough
    tools imported from them.

    A tool the source no longer lists keeps its row, with removed_at set
    (sql/0014_source_tool_removed.sql), until the source lists it again.

    A passthrough tool's row holds the remote tool's definition as it was
    imported or last rediscovered (description, input schema, title) and a
    code_hash over it (sources_definition_hash): approval binds to that
    hash exactly as it binds to a Python tool's code.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"

#define SOURCE_COLUMNS \
    "id, server_id, name, url, auth_type, auth_secret_name, auth_header_name," \
    " transport_type, status, tool_count, discovered_tools, last_discovered_at," \
    " created_at, updated_at, last_contact_at, last_error, last_error_at," \
    " protocol_version"

static const char s_sql_get [] =
    "SELECT " SOURCE_COLUMNS " FROM external_mcp_sources WHERE id = ?";
static const char s_sql_list [] =
    "SELECT " SOURCE_COLUMNS " FROM external_mcp_sources WHERE server_id = ?"
    " ORDER BY created_at, rowid";
static const char s_sql_insert [] =
    "INSERT INTO external_mcp_sources (id, server_id, name, url, auth_type,"
    " auth_secret_name, auth_header_name, transport_type, status, tool_count,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', 0, ?, ?)";
static const char s_sql_discovered [] =
    "UPDATE external_mcp_sources SET status = 'active', tool_count = ?,"
    " discovered_tools = ?, last_discovered_at = ?, last_contact_at = ?,"
    " last_error = NULL, last_error_at = NULL, protocol_version = ?, updated_at = ?"
    " WHERE id = ?";
static const char s_sql_failed [] =
    "UPDATE external_mcp_sources SET status = 'error', last_error = ?,"
    " last_error_at = ?, updated_at = ? WHERE id = ?";
static const char s_sql_contact [] =
    "UPDATE external_mcp_sources SET last_contact_at = ?, status = 'active',"
    " last_error = NULL, last_error_at = NULL WHERE id = ?";
static const char s_sql_imported [] =
    "SELECT id, external_tool_name, code_hash, removed_at, name FROM tools"
    " WHERE external_source_id = ? ORDER BY created_at, rowid";
static const char s_sql_removed [] =
    "UPDATE tools SET removed_at = ?, updated_at = ? WHERE id = ?"
    " AND tool_type = 'mcp_passthrough'";
static const char s_sql_passthrough_insert [] =
    "INSERT INTO tools (id, server_id, name, description, input_schema, enabled,"
    " timeout_ms, tool_type, python_code, code_hash, current_version, created_by,"
    " created_at, updated_at, title, external_source_id, external_tool_name)"
    " VALUES (?, ?, ?, ?, ?, 1, ?, 'mcp_passthrough', NULL, ?, 1, ?, ?, ?, ?, ?, ?)";

void
source_clear (source_t *self)
{
    free (self->name);
    free (self->url);
    free (self->auth_secret_name);
    free (self->auth_header_name);
    free (self->discovered_tools);
    free (self->last_error);
    memset (self, 0, sizeof *self);
}

static void
s_row (sqlite3_stmt *stmt, source_t *out)
{
    memset (out, 0, sizeof *out);
    store_col_copy (stmt, 0, out->id, sizeof out->id);
    store_col_copy (stmt, 1, out->server_id, sizeof out->server_id);
    out->name = store_col_text (stmt, 2);
    out->url = store_col_text (stmt, 3);
    store_col_copy (stmt, 4, out->auth_type, sizeof out->auth_type);
    out->auth_secret_name = store_col_dup (stmt, 5, NULL);
    out->auth_header_name = store_col_dup (stmt, 6, NULL);
    store_col_copy (stmt, 7, out->transport_type, sizeof out->transport_type);
    store_col_copy (stmt, 8, out->status, sizeof out->status);
    out->tool_count = sqlite3_column_int64 (stmt, 9);
    out->discovered_tools = store_col_dup (stmt, 10, NULL);
    store_col_copy (stmt, 11, out->last_discovered_at, sizeof out->last_discovered_at);
    store_col_copy (stmt, 12, out->created_at, sizeof out->created_at);
    store_col_copy (stmt, 13, out->updated_at, sizeof out->updated_at);
    store_col_copy (stmt, 14, out->last_contact_at, sizeof out->last_contact_at);
    out->last_error = store_col_dup (stmt, 15, NULL);
    store_col_copy (stmt, 16, out->last_error_at, sizeof out->last_error_at);
    store_col_copy (stmt, 17, out->protocol_version, sizeof out->protocol_version);
}

int
store_source_get (registry_t *self, const char *id, source_t *out, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_get, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        s_row (stmt, out);
    store_done (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "source %s not found", id);
    return store_fail (self, err, "read source");
}

int
store_source_list (registry_t *self, const char *server_id, source_t **items,
                   size_t *count, bus_err_t *err)
{
    *items = NULL;
    *count = 0;
    sqlite3_stmt *stmt = store_stmt (self, s_sql_list, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            source_t *grown = realloc (*items, cap * sizeof **items);
            if (!grown)
                abort ();
            *items = grown;
        }
        s_row (stmt, &(*items) [(*count)++]);
    }
    store_done (stmt);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < *count; i++)
            source_clear (&(*items) [i]);
        free (*items);
        *items = NULL;
        *count = 0;
        return store_fail (self, err, "list sources");
    }
    return 0;
}

int
store_source_insert (registry_t *self, const source_t *source, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_insert, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, source->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, source->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, source->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, source->url, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, source->auth_type, -1, SQLITE_STATIC);
    store_bind_text (stmt, 6, source->auth_secret_name);
    store_bind_text (stmt, 7, source->auth_header_name);
    sqlite3_bind_text (stmt, 8, source->transport_type, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 9, source->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, source->updated_at, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    int code = sqlite3_extended_errcode (self->db);
    if (code == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "a source named '%s' already exists "
                            "on this server", source->name);
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "server %s not found", source->server_id);
    return store_fail (self, err, "insert source");
}

int
store_source_discovered (registry_t *self, const char *id, const char *tools_json,
                         int64_t tool_count, const char *protocol, bus_err_t *err)
{
    char now [REG_TIME_LEN + 8];
    ids_now_iso (now);
    sqlite3_stmt *stmt = store_stmt (self, s_sql_discovered, err);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, tool_count);
    sqlite3_bind_text (stmt, 2, tools_json, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
    store_bind_text (stmt, 5, protocol);
    sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err, "record discovery");
}

int
store_source_health (registry_t *self, const char *id, const char *error, bus_err_t *err)
{
    char now [REG_TIME_LEN + 8];
    ids_now_iso (now);
    sqlite3_stmt *stmt = store_stmt (self, error ? s_sql_failed : s_sql_contact, err);
    if (!stmt)
        return -1;
    if (error) {
        sqlite3_bind_text (stmt, 1, error, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
    }
    else {
        sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err, "record source health");
}

int
store_source_imported (registry_t *self, const char *source_id, json_t **out,
                       bus_err_t *err)
{
    *out = json_array ();
    sqlite3_stmt *stmt = store_stmt (self, s_sql_imported, err);
    if (!stmt) {
        json_decref (*out);
        *out = NULL;
        return -1;
    }
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        json_array_append_new (*out, json_pack ("{s:s, s:s, s:s, s:b, s:s}",
            "id", (const char *) sqlite3_column_text (stmt, 0),
            "external_tool_name", (const char *) sqlite3_column_text (stmt, 1),
            "code_hash", (const char *) sqlite3_column_text (stmt, 2),
            "removed", sqlite3_column_type (stmt, 3) != SQLITE_NULL,
            "name", (const char *) sqlite3_column_text (stmt, 4)));
    store_done (stmt);
    if (rc != SQLITE_DONE) {
        json_decref (*out);
        *out = NULL;
        return store_fail (self, err, "list imported tools");
    }
    return 0;
}

int
store_tool_removed (registry_t *self, const char *tool_id, const char *removed_at,
                    bus_err_t *err)
{
    char now [REG_TIME_LEN + 8];
    ids_now_iso (now);
    sqlite3_stmt *stmt = store_stmt (self, s_sql_removed, err);
    if (!stmt)
        return -1;
    store_bind_text (stmt, 1, removed_at);
    sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, tool_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err, "mark a tool removed at its source");
}

int
store_passthrough_insert (registry_t *self, const tool_t *tool, const char *source_id,
                          const char *external_name, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_passthrough_insert, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, tool->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, tool->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, tool->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, tool->description, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, tool->input_schema, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, tool->timeout_ms);
    sqlite3_bind_text (stmt, 7, tool->code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 8, tool->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 9, tool->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 10, tool->updated_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 11, tool->title ? tool->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 12, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 13, external_name, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "a tool named '%s' already exists "
                            "on this server", tool->name);
    return store_fail (self, err, "insert passthrough tool");
}

/*  store_servers.c — SQL for the servers table.

    Plain statements over one row or one page; the callers (ops.c) hold the
    transaction around anything that writes. A server's tools, versions and
    external sources go with it (ON DELETE CASCADE in sql/0002_registry.sql).
*/
#include <stdlib.h>
#include <string.h>
#include "registry.h"

#define SERVER_COLUMNS \
    "id, name, description, status, default_timeout_ms, created_at, updated_at," \
    " (SELECT count (*) FROM tools WHERE tools.server_id = servers.id)"

static const char s_sql_insert [] =
    "INSERT INTO servers (id, name, description, status, default_timeout_ms,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char s_sql_get [] =
    "SELECT " SERVER_COLUMNS " FROM servers WHERE id = ?";
static const char s_sql_count [] =
    "SELECT count (*) FROM servers";
static const char s_sql_page [] =
    "SELECT " SERVER_COLUMNS " FROM servers ORDER BY created_at, rowid"
    " LIMIT ? OFFSET ?";
static const char s_sql_status [] =
    "UPDATE servers SET status = ?, updated_at = ? WHERE id = ? AND status <> ?";
static const char s_sql_exists [] =
    "SELECT 1 FROM servers WHERE id = ?";
static const char s_sql_delete [] =
    "DELETE FROM servers WHERE id = ?";
static const char s_sql_enabled [] =
    "SELECT count (*) FROM tools WHERE server_id = ? AND enabled = 1";

static void
s_row (sqlite3_stmt *stmt, server_t *out)
{
    memset (out, 0, sizeof *out);
    store_col_copy (stmt, 0, out->id, sizeof out->id);
    store_col_copy (stmt, 1, out->name, sizeof out->name);
    out->description = store_col_text (stmt, 2);
    store_col_copy (stmt, 3, out->status, sizeof out->status);
    out->default_timeout_ms = sqlite3_column_int64 (stmt, 4);
    store_col_copy (stmt, 5, out->created_at, sizeof out->created_at);
    store_col_copy (stmt, 6, out->updated_at, sizeof out->updated_at);
    out->tool_count = sqlite3_column_int64 (stmt, 7);
}

int
store_server_insert (registry_t *self, const server_t *server, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_insert, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, server->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, server->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, server->description, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, server->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, server->default_timeout_ms);
    sqlite3_bind_text (stmt, 6, server->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, server->updated_at, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "a server named '%s' already exists",
                         server->name);
    return store_fail (self, err, "insert server");
}

int
store_server_get (registry_t *self, const char *id, server_t *out, bus_err_t *err)
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
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "server %s not found", id);
    return store_fail (self, err, "read server");
}

int
store_server_list (registry_t *self, int64_t page, int64_t page_size,
                   server_t **items, size_t *count, int64_t *total, bus_err_t *err)
{
    *items = NULL;
    *count = 0;
    *total = 0;
    sqlite3_stmt *stmt = store_stmt (self, s_sql_count, err);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64 (stmt, 0);
    store_done (stmt);
    if (rc != SQLITE_ROW)
        return store_fail (self, err, "count servers");

    server_t *list = calloc ((size_t) page_size, sizeof *list);
    if (!list)
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    if (!(stmt = store_stmt (self, s_sql_page, err))) {
        free (list);
        return -1;
    }
    sqlite3_bind_int64 (stmt, 1, page_size);
    sqlite3_bind_int64 (stmt, 2, (page - 1) * page_size);
    size_t n = 0;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && n < (size_t) page_size)
        s_row (stmt, &list [n++]);
    store_done (stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        for (size_t i = 0; i < n; i++)
            server_clear (&list [i]);
        free (list);
        return store_fail (self, err, "list servers");
    }
    *items = list;
    *count = n;
    return 0;
}

static int
s_exists (registry_t *self, const char *id, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_exists, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "server %s not found", id);
    return store_fail (self, err, "read server");
}

int
store_server_set_status (registry_t *self, const char *id, const char *status,
                         bool *changed, bus_err_t *err)
{
    *changed = false;
    char now [REG_TIME_LEN + 8];
    ids_now_iso (now);
    sqlite3_stmt *stmt = store_stmt (self, s_sql_status, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, status, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return store_fail (self, err, "update server status");
    if (sqlite3_changes (self->db) > 0) {
        *changed = true;
        return 0;
    }
    return s_exists (self, id, err);
}

int
store_server_delete (registry_t *self, const char *id, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_delete, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return store_fail (self, err, "delete server");
    if (sqlite3_changes (self->db) == 0)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "server %s not found", id);
    return 0;
}

int
store_server_enabled_tools (registry_t *self, const char *id, int64_t *count,
                            bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_enabled, err);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64 (stmt, 0);
    store_done (stmt);
    return rc == SQLITE_ROW ? 0 : store_fail (self, err, "count enabled tools");
}

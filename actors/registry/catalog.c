/*  catalog.c — the callable-tool catalog, kept in memory.

    `catalog` is what the gateway asks on every tools.changed event and at
    least once a second while tools are being called, so it is answered
    without touching SQLite: the whole reply is encoded once, when the
    catalog is rebuilt, and each request gets a copy of those bytes.

    Contents: every enabled python_code tool of every running server, with
    what a call needs (code, hash, schema, timeout) and what tools/list
    shows (title, output schema; annotations are approval's), ordered by full name
    "{server}__{tool}". Approval is NOT applied here: the gateway joins this
    with approval's `effective` view (docs/BUS_OPS.md).

    The catalog is rebuilt from the database after each committed change
    and at start, inside one SELECT (one consistent snapshot). Its revision
    is the revision committed with the change (registry_revision), so it
    only grows, across restarts too. A failed rebuild keeps the previous
    catalog; the caller marks it stale and does not serve it.

    mcp_passthrough tools (imported from an external source) are in it
    too, with tool_type "mcp_passthrough", python_code "" and a `source`
    map: what the gateway needs to send the call to the sandbox service's
    `source` op (source_id, url, transport_type, auth_type,
    auth_secret_name, auth_header_name, external_tool_name). Python tools
    have tool_type "python_code" and source nil. An imported tool its
    source no longer offers (removed_at) is not in `tools` but in
    `removed` [{full_name, source_name, removed_at}], so the gateway can
    refuse a call to it with the reason instead of "unknown tool".
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"

struct _catalog_t {
    msgw_t  *reply;         //  the complete `catalog` reply
    int64_t  revision;      //  its revision
    size_t   count;         //  tools in it
};

static const char s_sql_catalog [] =
    "SELECT t.id, t.server_id, s.name, t.name, t.description, t.input_schema,"
    " t.code_hash, t.python_code, t.timeout_ms, t.title, t.output_schema,"
    " t.tool_type, e.id, e.url, e.transport_type, e.auth_type, e.auth_secret_name,"
    " e.auth_header_name, t.external_tool_name"
    " FROM tools t JOIN servers s ON s.id = t.server_id"
    " LEFT JOIN external_mcp_sources e ON e.id = t.external_source_id"
    " WHERE t.enabled = 1 AND s.status = 'running' AND t.removed_at IS NULL"
    " AND (t.tool_type = 'python_code' OR e.id IS NOT NULL)"
    " ORDER BY s.name, t.name";
//  imported tools their source no longer offers: named, so a call can be
//  told why it is refused
static const char s_sql_removed [] =
    "SELECT s.name || '__' || t.name, e.name, t.removed_at"
    " FROM tools t JOIN servers s ON s.id = t.server_id"
    " JOIN external_mcp_sources e ON e.id = t.external_source_id"
    " WHERE t.enabled = 1 AND s.status = 'running' AND t.removed_at IS NOT NULL"
    " ORDER BY 1";

static void
s_raw (msgw_t *w, const char *data, size_t size)
{
    msgpack_packer *packer = msgw_packer (w);
    packer->callback (packer->data, data, size);
}

static void
s_kv_column (msgw_t *w, const char *key, sqlite3_stmt *stmt, int col)
{
    msgw_str (w, key);
    const unsigned char *text = sqlite3_column_text (stmt, col);
    msgw_strn (w, text ? (const char *) text : "", (size_t) sqlite3_column_bytes (stmt, col));
}

catalog_t *
catalog_new (void)
{
    catalog_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    //  an empty catalog at revision 0 until the first rebuild
    self->reply = msgw_new ();
    msgw_map (self->reply, 4);
    msgw_kv_bool (self->reply, "ok", true);
    msgw_kv_int (self->reply, "revision", 0);
    msgw_str (self->reply, "tools");
    msgw_array (self->reply, 0);
    msgw_str (self->reply, "removed");
    msgw_array (self->reply, 0);
    return self;
}

void
catalog_destroy (catalog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgw_destroy (&(*self_p)->reply);
    free (*self_p);
    *self_p = NULL;
}

int
catalog_rebuild (catalog_t *self, sqlite3 *db, int64_t revision, bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, s_sql_catalog, -1, &stmt, NULL) != SQLITE_OK)
        return bus_err_set (err, BUS_ERR_INTERNAL, "catalog: %s", sqlite3_errmsg (db));
    msgw_t *items = msgw_new ();
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *server_name = (const char *) sqlite3_column_text (stmt, 2);
        const char *name = (const char *) sqlite3_column_text (stmt, 3);
        msgw_map (items, 14);
        s_kv_column (items, "tool_id", stmt, 0);
        s_kv_column (items, "server_id", stmt, 1);
        s_kv_column (items, "server_name", stmt, 2);
        s_kv_column (items, "name", stmt, 3);
        size_t full_len = strlen (server_name ? server_name : "") + 2
                        + strlen (name ? name : "");
        char *full = malloc (full_len + 1);
        if (!full)
            abort ();
        snprintf (full, full_len + 1, "%s__%s", server_name ? server_name : "",
                  name ? name : "");
        msgw_kv_str (items, "full_name", full);
        free (full);
        s_kv_column (items, "description", stmt, 4);
        msgw_str (items, "input_schema");
        encode_schema (items, (const char *) sqlite3_column_text (stmt, 5));
        s_kv_column (items, "code_hash", stmt, 6);
        s_kv_column (items, "python_code", stmt, 7);
        msgw_kv_int (items, "timeout_ms", sqlite3_column_int64 (stmt, 8));
        s_kv_column (items, "title", stmt, 9);
        msgw_str (items, "output_schema");
        encode_schema_or_nil (items, (const char *) sqlite3_column_text (stmt, 10));
        s_kv_column (items, "tool_type", stmt, 11);
        msgw_str (items, "source");
        if (sqlite3_column_type (stmt, 12) == SQLITE_NULL)
            msgw_nil (items);
        else {
            msgw_map (items, 7);
            s_kv_column (items, "source_id", stmt, 12);
            s_kv_column (items, "url", stmt, 13);
            s_kv_column (items, "transport_type", stmt, 14);
            s_kv_column (items, "auth_type", stmt, 15);
            s_kv_column (items, "auth_secret_name", stmt, 16);
            s_kv_column (items, "auth_header_name", stmt, 17);
            s_kv_column (items, "external_tool_name", stmt, 18);
        }
        count++;
    }
    if (rc != SQLITE_DONE) {
        bus_err_set (err, BUS_ERR_INTERNAL, "catalog: %s", sqlite3_errmsg (db));
        sqlite3_finalize (stmt);
        msgw_destroy (&items);
        return -1;
    }
    sqlite3_finalize (stmt);

    msgw_t *removed = msgw_new ();
    size_t removed_count = 0;
    if (sqlite3_prepare_v2 (db, s_sql_removed, -1, &stmt, NULL) != SQLITE_OK) {
        bus_err_set (err, BUS_ERR_INTERNAL, "catalog: %s", sqlite3_errmsg (db));
        msgw_destroy (&items);
        msgw_destroy (&removed);
        return -1;
    }
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        msgw_map (removed, 3);
        s_kv_column (removed, "full_name", stmt, 0);
        s_kv_column (removed, "source_name", stmt, 1);
        s_kv_column (removed, "removed_at", stmt, 2);
        removed_count++;
    }
    if (rc != SQLITE_DONE) {
        bus_err_set (err, BUS_ERR_INTERNAL, "catalog: %s", sqlite3_errmsg (db));
        sqlite3_finalize (stmt);
        msgw_destroy (&items);
        msgw_destroy (&removed);
        return -1;
    }
    sqlite3_finalize (stmt);

    msgw_t *reply = msgw_new ();
    msgw_map (reply, 4);
    msgw_kv_bool (reply, "ok", true);
    msgw_kv_int (reply, "revision", revision);
    msgw_str (reply, "tools");
    msgw_array (reply, count);
    if (count)
        s_raw (reply, msgw_data (items), msgw_size (items));
    msgw_destroy (&items);
    msgw_str (reply, "removed");
    msgw_array (reply, removed_count);
    if (removed_count)
        s_raw (reply, msgw_data (removed), msgw_size (removed));
    msgw_destroy (&removed);

    msgw_destroy (&self->reply);
    self->reply = reply;
    self->revision = revision;
    self->count = count;
    return 0;
}

msgw_t *
catalog_reply (catalog_t *self)
{
    msgw_t *copy = msgw_new ();
    s_raw (copy, msgw_data (self->reply), msgw_size (self->reply));
    return copy;
}

int64_t catalog_revision (catalog_t *self) { return self->revision; }
size_t  catalog_count (catalog_t *self)    { return self->count; }

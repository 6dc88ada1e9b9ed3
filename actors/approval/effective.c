/*  effective.c — the approval view that the gateway (what may be listed and
    called) and the executors' jobs (what a server's code may import and
    reach) are built from.

    {
      "ok": true,
      "revision": n,                 approval_revision after the last commit
      "approved": [{"tool_id", "code_hash", "annotations"}...], every approved
                 review; annotations: the MCP hints the admin set on
                 approving that code, as JSON text, or nil
      "servers": {server_id: {"allowed_modules": [...], "allowed_hosts": [...],
                              "network_policy": "allowlist"|"allow_all_public"}},
      "defaults": {same three fields}, for a server not listed in "servers"
                  (one with no approved module or host)
      "settings": {the security policy, as policy.get}
    }

    allowed_modules = the default list (modules.h) then the server's
    approved module requests, sorted; allowed_hosts = the server's approved
    network requests as "host", "host:port" or "[v6]:port" (a port-less
    entry allows every port), sorted. Rejected and pending requests never
    appear.

    The whole reply is encoded once per change and kept: `effective` is
    asked on every catalog refresh and must cost a copy, not a query.
*/
#include <stdlib.h>
#include <string.h>
#include "approval.h"

struct _effective_t {
    msgw_t  *reply;                 //  the encoded reply, or NULL before a build
    int64_t  revision;              //  the revision it was built at
};

effective_t *
effective_new (void)
{
    return calloc (1, sizeof (effective_t));
}

void
effective_destroy (effective_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgw_destroy (&(*self_p)->reply);
    free (*self_p);
    *self_p = NULL;
}

int64_t
effective_revision (effective_t *self)
{
    return self->revision;
}

msgw_t *
effective_reply (effective_t *self)
{
    if (!self->reply)
        return NULL;
    msgw_t *copy = msgw_new ();
    if (copy)
        appr_raw (copy, msgw_data (self->reply), msgw_size (self->reply));
    return copy;
}

//  Run a query with an optional text parameter and pack each row's first
//  column (a string) into an array; or, when `hosts`, the (host, port)
//  pair as an allowlist entry. `prefix` strings go first.
static int
s_string_array (sqlite3 *db, const char *sql, const char *param, bool hosts,
                const char *const *prefix, size_t prefix_count, msgw_t *w,
                bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize (stmt);
        return bus_err_set (err, BUS_ERR_INTERNAL, "effective: %s", sqlite3_errmsg (db));
    }
    if (param)
        sqlite3_bind_text (stmt, 1, param, -1, SQLITE_TRANSIENT);
    msgw_t *items = msgw_new ();
    if (!items) {
        sqlite3_finalize (stmt);
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    }
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *text = (const char *) sqlite3_column_text (stmt, 0);
        if (!text)
            continue;
        if (hosts) {
            //  a host refused by today's rules (stored by an older build)
            //  never appears
            char host [HOSTS_MAX + 1], entry [HOSTS_ENTRY_MAX];
            const char *why = NULL;
            if (hosts_normalise (text, strlen (text), host, &why) != HOST_OK)
                continue;
            int port = sqlite3_column_type (stmt, 1) == SQLITE_NULL
                     ? 0 : sqlite3_column_int (stmt, 1);
            hosts_entry (host, port, entry, sizeof entry);
            msgw_str (items, entry);
        }
        else {
            //  a module forbidden since it was approved (a newer list) or
            //  already in the defaults never appears
            if (modules_is_forbidden (text) || modules_is_default (text))
                continue;
            msgw_str (items, text);
        }
        n++;
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE) {
        msgw_destroy (&items);
        return bus_err_set (err, BUS_ERR_INTERNAL, "effective: %s", sqlite3_errmsg (db));
    }
    msgw_array (w, prefix_count + n);
    for (size_t i = 0; i < prefix_count; i++)
        msgw_str (w, prefix [i]);
    appr_raw (w, msgw_data (items), msgw_size (items));
    msgw_destroy (&items);
    return 0;
}

static const char *s_modules_sql =
    "SELECT DISTINCT module_name FROM module_requests"
    " WHERE server_id = ? AND status = 'approved' ORDER BY module_name";
static const char *s_hosts_sql =
    "SELECT DISTINCT host, port FROM network_requests"
    " WHERE server_id = ? AND status = 'approved' ORDER BY host, ifnull (port, 0)";
static const char *s_servers_sql =
    "SELECT server_id FROM module_requests WHERE status = 'approved'"
    " UNION SELECT server_id FROM network_requests WHERE status = 'approved'"
    " ORDER BY 1";

static int
s_servers (sqlite3 *db, const char *network_policy, msgw_t *w, bus_err_t *err)
{
    //  the ids first, so the map header can carry the count
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, s_servers_sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize (stmt);
        return bus_err_set (err, BUS_ERR_INTERNAL, "effective: %s", sqlite3_errmsg (db));
    }
    size_t count = 0, size = 0;
    char **ids = NULL;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *id = (const char *) sqlite3_column_text (stmt, 0);
        if (!id)
            continue;
        if (count == size) {
            size_t grown = size ? size * 2 : 16;
            char **bigger = realloc (ids, grown * sizeof *ids);
            if (!bigger) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = bigger;
            size = grown;
        }
        if (!(ids [count] = strdup (id))) {
            rc = SQLITE_NOMEM;
            break;
        }
        count++;
    }
    sqlite3_finalize (stmt);
    int result = 0;
    if (rc != SQLITE_DONE)
        result = bus_err_set (err, BUS_ERR_INTERNAL, "effective: listing servers failed");
    else {
        msgw_map (w, count);
        for (size_t i = 0; i < count && result == 0; i++) {
            msgw_str (w, ids [i]);
            msgw_map (w, 3);
            msgw_str (w, "allowed_modules");
            result = s_string_array (db, s_modules_sql, ids [i], false,
                                     modules_default, modules_default_count, w, err);
            if (result == 0) {
                msgw_str (w, "allowed_hosts");
                result = s_string_array (db, s_hosts_sql, ids [i], true, NULL, 0, w, err);
            }
            msgw_kv_str (w, "network_policy", network_policy);
        }
    }
    for (size_t i = 0; i < count; i++)
        free (ids [i]);
    free (ids);
    return result;
}

int
effective_rebuild (effective_t *self, sqlite3 *db, const policy_t *policy,
                   int64_t revision, bus_err_t *err)
{
    const char *network_policy =
        policy_is (policy, POLICY_NETWORK_ACCESS_POLICY, "allow_all_public")
        ? "allow_all_public" : "allowlist";
    msgw_t *w = msgw_new ();
    if (!w)
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    msgw_map (w, 6);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "revision", revision);

    msgw_str (w, "approved");
    sqlite3_stmt *stmt = NULL;
    int result = 0;
    if (sqlite3_prepare_v2 (db, "SELECT tool_id, code_hash, annotations FROM tool_reviews"
                            " WHERE status = 'approved' ORDER BY tool_id, code_hash",
                            -1, &stmt, NULL) != SQLITE_OK)
        result = bus_err_set (err, BUS_ERR_INTERNAL, "effective: %s", sqlite3_errmsg (db));
    else {
        msgw_t *items = msgw_new ();
        size_t n = 0;
        int rc = SQLITE_NOMEM;
        if (items)
            while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
                appr_row_map (stmt, items);
                n++;
            }
        if (rc != SQLITE_DONE)
            result = bus_err_set (err, BUS_ERR_INTERNAL, "effective: reading reviews failed");
        else {
            msgw_array (w, n);
            appr_raw (w, msgw_data (items), msgw_size (items));
        }
        msgw_destroy (&items);
    }
    sqlite3_finalize (stmt);

    if (result == 0) {
        msgw_str (w, "servers");
        result = s_servers (db, network_policy, w, err);
    }
    if (result == 0) {
        msgw_str (w, "defaults");
        msgw_map (w, 3);
        msgw_str (w, "allowed_modules");
        msgw_array (w, modules_default_count);
        for (size_t i = 0; i < modules_default_count; i++)
            msgw_str (w, modules_default [i]);
        msgw_str (w, "allowed_hosts");
        msgw_array (w, 0);
        msgw_kv_str (w, "network_policy", network_policy);
        msgw_str (w, "settings");
        policy_encode (policy, w);
    }
    if (result) {
        msgw_destroy (&w);
        return -1;
    }
    msgw_destroy (&self->reply);
    self->reply = w;
    self->revision = revision;
    return 0;
}

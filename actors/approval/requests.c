/*  requests.c — module and network-access requests: create (with the
    refusals), decide, list. Rows live in module_requests and
    network_requests; the two kinds share everything but the resource
    (module_name, or host + port).

    A new request is refused when
      - the module is forbidden (never allowed, not even to an admin);
      - it is already covered for the server: a default module, or an
        approved request of the server for the same module / the same host
        with the same port or without a port (a port-less approval covers
        every port);
      - the same tool already has it pending;
      - the same tool had it rejected (for a host: rejected for that port
        or port-less). Asking again after a "no" is for the admin to
        initiate (admin.add_*), not the tool.

    Created as approved at once: admin additions (requested_by "admin",
    reviewed_by the admin) and, for modules, module_approval_mode
    auto_approve (reviewed_by "auto_approve"). Network requests are never
    auto-approved: under network_access_policy allow_all_public public
    hosts need no approval at all (the effective view says so), and a
    per-host approval is what lets a tool reach a *private* address, which
    must stay a human decision.

    Every function here runs inside the caller's transaction (ops.c).
*/
#include <stdio.h>
#include <string.h>
#include "approval.h"

static const char *
s_table (appr_kind_t kind)
{
    return kind == APPR_KIND_MODULE ? "module_requests" : "network_requests";
}

static const char *
s_noun (appr_kind_t kind)
{
    return kind == APPR_KIND_MODULE ? "module request" : "network request";
}

//  Does a row match? The query's parameters: ?1 server or tool id, ?2
//  resource (module or host), ?3 port or NULL. 1 yes, 0 no, -1 + err.
static int
s_exists (approval_t *self, const char *sql, const char *who,
          const char *resource, int port, bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self, sql, err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, who);
    appr_bind (stmt, 2, resource);
    if (sqlite3_bind_parameter_count (stmt) >= 3) {
        if (port > 0)
            sqlite3_bind_int (stmt, 3, port);
        else
            sqlite3_bind_null (stmt, 3);
    }
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return appr_db_fail (self, err, "request lookup");
}

static int
s_refusals_module (approval_t *self, const request_in_t *in, bus_err_t *err)
{
    if (modules_is_forbidden (in->module))
        return bus_err_set (err, BUS_ERR_FORBIDDEN, "module %s is forbidden: it can "
                          "never be imported by a tool", in->module);
    if (modules_is_default (in->module))
        return bus_err_set (err, BUS_ERR_CONFLICT, "module %s is allowed by default",
                          in->module);
    int hit = s_exists (self, "SELECT 1 FROM module_requests WHERE server_id = ?1"
                        " AND module_name = ?2 AND status = 'approved'",
                        in->server_id, in->module, 0, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "module %s is "
                                         "already allowed for this server", in->module);
    if (!in->tool_id)
        return 0;
    hit = s_exists (self, "SELECT 1 FROM module_requests WHERE tool_id = ?1"
                    " AND module_name = ?2 AND status = 'pending'",
                    in->tool_id, in->module, 0, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "module %s is "
                                         "already pending for this tool", in->module);
    hit = s_exists (self, "SELECT 1 FROM module_requests WHERE tool_id = ?1"
                    " AND module_name = ?2 AND status = 'rejected'",
                    in->tool_id, in->module, 0, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "module %s was "
                                         "rejected for this tool before", in->module);
    return 0;
}

static int
s_refusals_network (approval_t *self, const request_in_t *in, bus_err_t *err)
{
    char entry [HOSTS_ENTRY_MAX];
    hosts_entry (in->host, in->port, entry, sizeof entry);
    int hit = s_exists (self, "SELECT 1 FROM network_requests WHERE server_id = ?1"
                        " AND host = ?2 AND status = 'approved'"
                        " AND (port IS NULL OR port IS ?3)",
                        in->server_id, in->host, in->port, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "%s is already "
                                         "allowed for this server", entry);
    if (!in->tool_id)
        return 0;
    hit = s_exists (self, "SELECT 1 FROM network_requests WHERE tool_id = ?1"
                    " AND host = ?2 AND port IS ?3 AND status = 'pending'",
                    in->tool_id, in->host, in->port, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "%s is already "
                                         "pending for this tool", entry);
    hit = s_exists (self, "SELECT 1 FROM network_requests WHERE tool_id = ?1"
                    " AND host = ?2 AND status = 'rejected'"
                    " AND (port IS NULL OR port IS ?3)",
                    in->tool_id, in->host, in->port, err);
    if (hit)
        return hit < 0 ? -1 : bus_err_set (err, BUS_ERR_CONFLICT, "%s was rejected "
                                         "for this tool before", entry);
    return 0;
}

//  Encode the row with `id` as a map appended to w.
static int
s_row (approval_t *self, appr_kind_t kind, const char *id, msgw_t *w,
       bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self, kind == APPR_KIND_MODULE
        ? "SELECT id, tool_id, server_id, module_name, justification, requested_by,"
          " status, reviewed_at, reviewed_by, rejection_reason, revoked_at,"
          " revoked_by, created_at FROM module_requests WHERE id = ?"
        : "SELECT id, tool_id, server_id, host, port, justification, requested_by,"
          " status, reviewed_at, reviewed_by, rejection_reason, revoked_at,"
          " revoked_by, created_at FROM network_requests WHERE id = ?", err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, id);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        appr_row_map (stmt, w);
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW ? 0 : appr_db_fail (self, err, "request read-back");
}

int
requests_create (approval_t *self, const request_in_t *in, msgw_t *w,
                 bus_err_t *err)
{
    bool module = in->kind == APPR_KIND_MODULE;
    if ((module ? s_refusals_module : s_refusals_network) (self, in, err))
        return -1;

    const char *status = "pending", *reviewed_by = NULL;
    if (in->added_by) {
        status = "approved";
        reviewed_by = in->added_by;
    }
    else
    if (module && policy_is (&self->policy, POLICY_MODULE_APPROVAL_MODE, "auto_approve")) {
        status = "approved";
        reviewed_by = "auto_approve";
    }
    char id [APPR_ID_LEN + 1], now [APPR_TIME_LEN + 1];
    ids_uuid4 (id);
    ids_now_iso (now);
    sqlite3_stmt *stmt = appr_prepare (self, module
        ? "INSERT INTO module_requests (id, tool_id, server_id, module_name,"
          " justification, requested_by, status, reviewed_at, reviewed_by, created_at)"
          " VALUES (?1, ?2, ?3, ?4, ?6, ?7, ?8, ?9, ?10, ?11)"
        : "INSERT INTO network_requests (id, tool_id, server_id, host, port,"
          " justification, requested_by, status, reviewed_at, reviewed_by, created_at)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, id);
    appr_bind (stmt, 2, in->tool_id);
    appr_bind (stmt, 3, in->server_id);
    appr_bind (stmt, 4, module ? in->module : in->host);
    if (!module) {
        if (in->port > 0)
            sqlite3_bind_int (stmt, 5, in->port);
        else
            sqlite3_bind_null (stmt, 5);
    }
    appr_bind (stmt, 6, in->justification);
    appr_bind (stmt, 7, in->added_by ? "admin" : in->requested_by);
    appr_bind (stmt, 8, status);
    appr_bind (stmt, 9, reviewed_by ? now : NULL);
    appr_bind (stmt, 10, reviewed_by);
    appr_bind (stmt, 11, now);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "already pending for this tool");
    if (rc != SQLITE_DONE)
        return appr_db_fail (self, err, "request insert");
    return s_row (self, in->kind, id, w, err);
}

int
requests_decide (approval_t *self, appr_kind_t kind, const char *id,
                 appr_action_t action, const char *reason,
                 const char *reviewed_by, const char **status,
                 char server_id [APPR_ID_LEN + 1], bus_err_t *err)
{
    bool module = kind == APPR_KIND_MODULE;
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT status, server_id, %s FROM %s WHERE id = ?",
              module ? "module_name" : "host", s_table (kind));
    sqlite3_stmt *stmt = appr_prepare (self, sql, err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, id);
    int rc = sqlite3_step (stmt);
    char current [16] = "", resource [HOSTS_MAX + 1] = "";
    if (rc == SQLITE_ROW) {
        snprintf (current, sizeof current, "%s", sqlite3_column_text (stmt, 0));
        snprintf (server_id, APPR_ID_LEN + 1, "%s", sqlite3_column_text (stmt, 1));
        snprintf (resource, sizeof resource, "%s", sqlite3_column_text (stmt, 2));
    }
    sqlite3_finalize (stmt);
    if (rc == SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "%s %s not found", s_noun (kind), id);
    if (rc != SQLITE_ROW)
        return appr_db_fail (self, err, "request lookup");

    const char *from = action == APPR_REVOKE ? "approved" : "pending";
    if (strcmp (current, from) != 0) {
        if (action == APPR_APPROVE && strcmp (current, "approved") == 0)
            return bus_err_set (err, BUS_ERR_CONFLICT, "%s %s is already approved",
                              s_noun (kind), id);
        return bus_err_set (err, BUS_ERR_CONFLICT, "%s %s is not %s (it is %s)",
                          s_noun (kind), id, from, current);
    }
    if (action == APPR_APPROVE && module && modules_is_forbidden (resource))
        return bus_err_set (err, BUS_ERR_FORBIDDEN, "module %s is forbidden: it can "
                          "never be imported by a tool", resource);

    char now [APPR_TIME_LEN + 1];
    ids_now_iso (now);
    const char *set =
        action == APPR_APPROVE
        ? "status = 'approved', reviewed_at = ?1, reviewed_by = ?2, rejection_reason = NULL"
        : action == APPR_REJECT
        ? "status = 'rejected', reviewed_at = ?1, reviewed_by = ?2, rejection_reason = ?3"
        : "status = 'pending', reviewed_at = NULL, reviewed_by = NULL,"
          " revoked_at = ?1, revoked_by = ?2";
    char update [384];
    snprintf (update, sizeof update, "UPDATE %s SET %s WHERE id = ?4 AND status = ?5",
              s_table (kind), set);
    stmt = appr_prepare (self, update, err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, now);
    appr_bind (stmt, 2, reviewed_by);
    if (action == APPR_REJECT)
        appr_bind (stmt, 3, reason);
    appr_bind (stmt, 4, id);
    appr_bind (stmt, 5, from);
    rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "%s %s: the same tool already has "
                          "this pending", s_noun (kind), id);
    if (rc != SQLITE_DONE)
        return appr_db_fail (self, err, "request update");
    *status = action == APPR_APPROVE ? "approved"
            : action == APPR_REJECT  ? "rejected" : "pending";
    return 0;
}

int
requests_list (approval_t *self, appr_kind_t kind, const char *status,
               const char *server_id, const char *tool_id, int limit,
               msgw_t *w, size_t *count, bus_err_t *err)
{
    char sql [640];
    snprintf (sql, sizeof sql,
              "SELECT id, tool_id, server_id, %s, justification, requested_by,"
              " status, reviewed_at, reviewed_by, rejection_reason, revoked_at,"
              " revoked_by, created_at FROM %s"
              " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR server_id = ?2)"
              "  AND (?3 IS NULL OR tool_id = ?3)"
              " ORDER BY created_at DESC, id LIMIT ?4",
              kind == APPR_KIND_MODULE ? "module_name" : "host, port", s_table (kind));
    sqlite3_stmt *stmt = appr_prepare (self, sql, err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, status);
    appr_bind (stmt, 2, server_id);
    appr_bind (stmt, 3, tool_id);
    sqlite3_bind_int (stmt, 4, limit);
    int rc = appr_rows (self, stmt, w, count, err);
    sqlite3_finalize (stmt);
    return rc;
}

/*  reviews.c — the tool review state machine (see approval.h for the table).

    A review is one row per (tool_id, code_hash). The tool's approval_status
    is the status of the row for the hash the registry reports now, or
    "draft" when there is none, so:
      - an edit produces a new hash: draft again, nothing to revoke;
      - a rollback to code that was approved is approved again, to code
        that was rejected is rejected again;
      - an approval can never apply to code the reviewer did not see.

    Choices the contract leaves open, made here:
      - At most one review of a tool is pending (a unique index). Publishing
        new code deletes an older pending review of the same tool: that code
        is no longer current, and "approve tool X" must not be ambiguous.
      - review.approve / review.reject may carry the code_hash the reviewer
        was shown; when it is not the pending one the decision is refused
        (conflict), so code that changed under the reviewer's eyes is not
        approved by accident.
      - review.revoke without code_hash revokes the tool, not one version:
        its most recently approved review goes back to pending_review and
        any older approved review of the same tool becomes rejected
        ("approval revoked"), so no rollback can make it callable again
        without a new decision. With code_hash only that review is revoked.
        When another review of the tool is already pending, the revoked one
        becomes rejected instead (one pending review per tool).
      - Re-submitting rejected code clears the rejection fields (the status
        says pending again); the decision history is in the activity log.

    Every function here runs inside the caller's transaction (ops.c).
*/
#include <stdio.h>
#include <string.h>
#include "approval.h"

#define REVOKED_REASON "approval revoked"

//  One text column of the first row of a query on (tool_id [, code_hash]);
//  1 found (copied into out), 0 none, -1 + err.
static int
s_lookup (approval_t *self, const char *sql, const char *tool_id,
          const char *code_hash, char *out, size_t outsize, bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self, sql, err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, tool_id);
    if (code_hash)
        appr_bind (stmt, 2, code_hash);
    int rc = sqlite3_step (stmt);
    int found = 0;
    if (rc == SQLITE_ROW) {
        const char *text = (const char *) sqlite3_column_text (stmt, 0);
        snprintf (out, outsize, "%s", text ? text : "");
        found = 1;
    }
    else
    if (rc != SQLITE_DONE)
        found = appr_db_fail (self, err, "reviews lookup");
    sqlite3_finalize (stmt);
    return found;
}

//  Run a statement whose parameters are all texts (NULL binds NULL).
static int
s_exec (approval_t *self, const char *sql, const char *const *params,
        int count, bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self, sql, err);
    if (!stmt)
        return -1;
    for (int i = 0; i < count; i++)
        appr_bind (stmt, i + 1, params [i]);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return appr_db_fail (self, err, "reviews update");
    return 0;
}

int
reviews_publish (approval_t *self, const tool_ref_t *tool, const char *notes,
                 const char *requested_by, const char **status,
                 const char **message, bus_err_t *err)
{
    char current [32];
    int found = s_lookup (self, "SELECT status FROM tool_reviews"
                          " WHERE tool_id = ? AND code_hash = ?",
                          tool->id, tool->code_hash, current, sizeof current, err);
    if (found < 0)
        return -1;
    if (found && strcmp (current, "pending_review") == 0)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s is already pending review",
                          tool->name);
    if (found && strcmp (current, "approved") == 0)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s is already approved",
                          tool->name);

    //  draft or rejected: an older pending review of other code is superseded
    const char *supersede [] = { tool->id, tool->code_hash };
    if (s_exec (self, "DELETE FROM tool_reviews WHERE tool_id = ?"
                " AND status = 'pending_review' AND code_hash <> ?",
                supersede, 2, err))
        return -1;

    bool automatic = policy_is (&self->policy, POLICY_TOOL_APPROVAL_MODE, "auto_approve");
    char id [APPR_ID_LEN + 1], now [APPR_TIME_LEN + 1];
    ids_uuid4 (id);
    ids_now_iso (now);
    const char *params [] = {
        id, tool->id, tool->server_id, tool->name, tool->code_hash,
        automatic ? "approved" : "pending_review", notes, requested_by, now,
        automatic ? now : NULL, automatic ? "auto_approve" : NULL,
    };
    if (s_exec (self,
            "INSERT INTO tool_reviews (id, tool_id, server_id, tool_name, code_hash,"
            " status, publish_notes, requested_by, requested_at, approved_at,"
            " approved_by, updated_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?9)"
            " ON CONFLICT (tool_id, code_hash) DO UPDATE SET"
            "  server_id = excluded.server_id, tool_name = excluded.tool_name,"
            "  status = excluded.status, publish_notes = excluded.publish_notes,"
            "  requested_by = excluded.requested_by, requested_at = excluded.requested_at,"
            "  approved_at = excluded.approved_at, approved_by = excluded.approved_by,"
            "  rejected_at = NULL, rejected_by = NULL, rejection_reason = NULL,"
            "  annotations = NULL, updated_at = excluded.updated_at",
            params, 11, err))
        return -1;
    *status = automatic ? "approved" : "pending_review";
    *message = automatic
        ? "approved at once: tool_approval_mode is auto_approve"
        : "submitted for review; an admin will approve or reject it";
    return 0;
}

static int
s_not_pending (approval_t *self, const char *tool_id, appr_action_t action,
               bus_err_t *err)
{
    char any [8];
    int reviewed = s_lookup (self, "SELECT 'yes' FROM tool_reviews WHERE tool_id = ?",
                             tool_id, NULL, any, sizeof any, err);
    if (reviewed < 0)
        return -1;
    if (!reviewed)      //  a draft or an unknown id: ops.c asks the registry
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s has no review on record",
                          tool_id);
    //  the newest review says where the tool stands; an older approval of
    //  other code does not make the current code "already approved"
    int approved = s_lookup (self, "SELECT 'yes' FROM tool_reviews WHERE tool_id = ?"
                             " AND status = 'approved' AND updated_at = (SELECT max (updated_at)"
                             " FROM tool_reviews WHERE tool_id = ?1)", tool_id, NULL, any,
                             sizeof any, err);
    if (approved < 0)
        return -1;
    if (approved && action == APPR_APPROVE)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s is already approved "
                          "(if its code changed since, the new code must be submitted first)", tool_id);
    return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s is not pending review", tool_id);
}

static int
s_revoke (approval_t *self, const char *tool_id, const char *reviewed_by,
          const char *code_hash, const char **status, bus_err_t *err)
{
    char target [APPR_ID_LEN + 1], pending [APPR_ID_LEN + 1];
    int found = code_hash
        ? s_lookup (self, "SELECT id FROM tool_reviews WHERE tool_id = ?"
                    " AND code_hash = ? AND status = 'approved'",
                    tool_id, code_hash, target, sizeof target, err)
        : s_lookup (self, "SELECT id FROM tool_reviews WHERE tool_id = ?"
                    " AND status = 'approved' ORDER BY approved_at DESC,"
                    " updated_at DESC LIMIT 1",
                    tool_id, NULL, target, sizeof target, err);
    if (found < 0)
        return -1;
    if (!found)
        return bus_err_set (err, BUS_ERR_CONFLICT, code_hash
                          ? "tool %s is not approved for that code"
                          : "tool %s is not approved", tool_id);
    int has_pending = s_lookup (self, "SELECT id FROM tool_reviews WHERE tool_id = ?"
                                " AND status = 'pending_review'", tool_id, NULL,
                                pending, sizeof pending, err);
    if (has_pending < 0)
        return -1;
    char now [APPR_TIME_LEN + 1];
    ids_now_iso (now);
    //  older approvals of the tool lose theirs too (revoking the tool)
    if (!code_hash) {
        const char *others [] = { now, reviewed_by, REVOKED_REASON, tool_id, target };
        if (s_exec (self, "UPDATE tool_reviews SET status = 'rejected',"
                    " approved_at = NULL, approved_by = NULL,"
                    " rejected_at = ?1, rejected_by = ?2, rejection_reason = ?3,"
                    " revoked_at = ?1, revoked_by = ?2, updated_at = ?1"
                    " WHERE tool_id = ?4 AND status = 'approved' AND id <> ?5",
                    others, 5, err))
            return -1;
    }
    const char *params [] = { now, reviewed_by, REVOKED_REASON, target };
    if (has_pending) {
        *status = "rejected";
        return s_exec (self, "UPDATE tool_reviews SET status = 'rejected',"
                       " approved_at = NULL, approved_by = NULL,"
                       " rejected_at = ?1, rejected_by = ?2, rejection_reason = ?3,"
                       " revoked_at = ?1, revoked_by = ?2, updated_at = ?1 WHERE id = ?4",
                       params, 4, err);
    }
    const char *back [] = { now, reviewed_by, target };
    *status = "pending_review";
    return s_exec (self, "UPDATE tool_reviews SET status = 'pending_review',"
                   " approved_at = NULL, approved_by = NULL,"
                   " revoked_at = ?1, revoked_by = ?2, updated_at = ?1 WHERE id = ?3",
                   back, 3, err);
}

int
reviews_decide (approval_t *self, const char *tool_id, appr_action_t action,
                const char *reason, const char *reviewed_by,
                const char *code_hash, const char *annotations,
                const char **status, bus_err_t *err)
{
    if (action == APPR_REVOKE)
        return s_revoke (self, tool_id, reviewed_by, code_hash, status, err);

    char pending_hash [APPR_HASH_LEN + 1];
    int found = s_lookup (self, "SELECT code_hash FROM tool_reviews WHERE tool_id = ?"
                          " AND status = 'pending_review'", tool_id, NULL,
                          pending_hash, sizeof pending_hash, err);
    if (found < 0)
        return -1;
    if (!found)
        return s_not_pending (self, tool_id, action, err);
    if (code_hash && strcmp (code_hash, pending_hash) != 0)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s: the code under review "
                          "(%.12s...) is not the code_hash given (%.12s...)", tool_id,
                          pending_hash, code_hash);
    char now [APPR_TIME_LEN + 1];
    ids_now_iso (now);
    if (action == APPR_APPROVE) {
        //  the hints are the reviewer's alone: what the LLM suggested is
        //  the registry's and never copied here
        const char *params [] = { now, reviewed_by, tool_id, annotations };
        *status = "approved";
        return s_exec (self, "UPDATE tool_reviews SET status = 'approved',"
                       " approved_at = ?1, approved_by = ?2, updated_at = ?1,"
                       " annotations = ?4"
                       " WHERE tool_id = ?3 AND status = 'pending_review'",
                       params, 4, err);
    }
    const char *params [] = { now, reviewed_by, reason, tool_id };
    *status = "rejected";
    return s_exec (self, "UPDATE tool_reviews SET status = 'rejected',"
                   " rejected_at = ?1, rejected_by = ?2, rejection_reason = ?3,"
                   " updated_at = ?1 WHERE tool_id = ?4 AND status = 'pending_review'",
                   params, 4, err);
}

int
reviews_tool_of_review (approval_t *self, const char *review_id,
                        char tool_id [APPR_ID_LEN + 1], bus_err_t *err)
{
    return s_lookup (self, "SELECT tool_id FROM tool_reviews WHERE id = ?", review_id,
                     NULL, tool_id, APPR_ID_LEN + 1, err);
}

int
reviews_server_of_tool (approval_t *self, const char *tool_id,
                        char server_id [APPR_ID_LEN + 1], bus_err_t *err)
{
    return s_lookup (self, "SELECT server_id FROM tool_reviews WHERE tool_id = ?"
                     " ORDER BY updated_at DESC LIMIT 1", tool_id, NULL,
                     server_id, APPR_ID_LEN + 1, err);
}

int
reviews_status (approval_t *self, const tool_ref_t *tool, msgw_t *reply,
                bus_err_t *err)
{
    static const char *fields [] = {
        "requested_at", "requested_by", "approved_at", "approved_by",
        "rejected_at", "rejected_by", "rejection_reason", "publish_notes", NULL
    };
    sqlite3_stmt *stmt = appr_prepare (self,
        "SELECT status, requested_at, requested_by, approved_at, approved_by,"
        " rejected_at, rejected_by, rejection_reason, publish_notes"
        " FROM tool_reviews WHERE tool_id = ? AND code_hash = ?", err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, tool->id);
    appr_bind (stmt, 2, tool->code_hash);
    int rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize (stmt);
        return appr_db_fail (self, err, "tool status");
    }
    bool found = rc == SQLITE_ROW;
    msgw_map (reply, 16);
    msgw_kv_bool (reply, "ok", true);
    msgw_kv_str (reply, "tool_id", tool->id);
    msgw_kv_str (reply, "name", tool->name);
    msgw_kv_str (reply, "server_id", tool->server_id);
    msgw_kv_str (reply, "code_hash", tool->code_hash);
    msgw_kv_str (reply, "approval_status",
                 found ? (const char *) sqlite3_column_text (stmt, 0) : "draft");
    for (int i = 0; fields [i]; i++)
        msgw_kv_str (reply, fields [i],
                     found ? (const char *) sqlite3_column_text (stmt, i + 1) : NULL);
    sqlite3_finalize (stmt);

    msgw_str (reply, "module_requests");
    if (requests_list (self, APPR_KIND_MODULE, NULL, NULL, tool->id, APPR_LIST_MAX,
                       reply, NULL, err))
        return -1;
    msgw_str (reply, "network_access_requests");
    return requests_list (self, APPR_KIND_NETWORK, NULL, NULL, tool->id, APPR_LIST_MAX,
                          reply, NULL, err);
}

int
reviews_list (approval_t *self, const char *status, const char *server_id,
              const char *tool_id, int limit, msgw_t *w, size_t *count,
              bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self,
        "SELECT id, tool_id, server_id, tool_name AS name, code_hash, status,"
        " publish_notes, requested_by, requested_at, approved_at, approved_by,"
        " rejected_at, rejected_by, rejection_reason, revoked_at, revoked_by,"
        " updated_at, annotations FROM tool_reviews"
        " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR server_id = ?2)"
        "  AND (?3 IS NULL OR tool_id = ?3)"
        " ORDER BY requested_at DESC, id LIMIT ?4", err);
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

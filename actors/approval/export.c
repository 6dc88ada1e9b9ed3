/*  export.c — approval's part of export files (docs/BUS_OPS.md, approval:
    export.dump, import.apply).

    export.dump {server_ids: [...]} answers, for those servers, the
    approved tool reviews (tool_id, code_hash, the annotations the admin
    set), the approved module and network requests, and the policy.

    import.apply {trust, imported_by, tools, modules, hosts, settings,
    dry_run} writes in ONE transaction (a bad item refuses the whole
    import; dry_run makes every check and rolls back):
      trust false  (the default): no review is written, whatever `tools`
                   says — imported tools are drafts; modules and hosts
                   become PENDING requests (requested_by "import") for the
                   admin to decide; settings are refused.
      trust true   (the operator asked for it and the file is signed by
                   this installation's key — the backup actor checks that
                   before asking): reviews approved for those code hashes
                   (approved_by imported_by), modules and hosts approved,
                   the policy settings written.
    A module or host the server already has (a default module, an
    approval) is skipped and counted, not an error.
*/
#include <stdio.h>
#include <string.h>
#include "approval.h"
#include "log.h"
#include "tool_hints.h"

#define IMPORT_ITEMS_MAX 100000

static int
s_stream (approval_t *self, const char *sql, const msgpack_object *ids, msgw_t *w,
          size_t *count, bus_err_t *err)
{
    //  rows of every server, as maps; counted first (msgpack needs the size)
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            msgw_array (w, *count);
        *count = 0;
        for (uint32_t i = 0; i < ids->via.array.size; i++) {
            const msgpack_object *id = &ids->via.array.ptr [i];
            char server_id [APPR_ID_LEN + 1];
            if (id->type != MSGPACK_OBJECT_STR
            ||  !ids_uuid_parse (id->via.str.ptr, id->via.str.size, server_id))
                return bus_err_set (err, BUS_ERR_BAD_REQUEST, "server_ids: an array of "
                                    "server ids");
            sqlite3_stmt *stmt = appr_prepare (self, sql, err);
            if (!stmt)
                return -1;
            appr_bind (stmt, 1, server_id);
            int rc;
            while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
                (*count)++;
                if (pass == 0)
                    continue;
                int cols = sqlite3_column_count (stmt);
                msgw_map (w, (size_t) cols);
                for (int c = 0; c < cols; c++) {
                    msgw_str (w, sqlite3_column_name (stmt, c));
                    if (sqlite3_column_type (stmt, c) == SQLITE_INTEGER)
                        msgw_int (w, sqlite3_column_int64 (stmt, c));
                    else
                    if (sqlite3_column_type (stmt, c) == SQLITE_NULL)
                        msgw_nil (w);
                    else
                        msgw_str (w, (const char *) sqlite3_column_text (stmt, c));
                }
            }
            sqlite3_finalize (stmt);
            if (rc != SQLITE_DONE)
                return appr_db_fail (self, err, "export read");
        }
    }
    return 0;
}

void
approval_export_dump (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    approval_t *self = state;
    bus_err_t err = { 0 };
    const msgpack_object *ids = NULL;
    if (msg_get_array (msg_root (request), "server_ids", &ids) != MSG_FIELD_OK
    ||  ids->via.array.size > 1000) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "server_ids: an array of at most 1000 "
                                 "server ids");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 5);
    msgw_kv_bool (w, "ok", true);
    size_t count = 0;
    int rc = 0;
    msgw_str (w, "approved");
    rc = s_stream (self, "SELECT tool_id, code_hash, annotations FROM tool_reviews"
                   " WHERE server_id = ?1 AND status = 'approved' ORDER BY tool_id, code_hash",
                   ids, w, &count, &err);
    if (rc == 0) {
        msgw_str (w, "modules");
        rc = s_stream (self, "SELECT DISTINCT server_id, module_name FROM module_requests"
                       " WHERE server_id = ?1 AND status = 'approved' ORDER BY module_name",
                       ids, w, &count, &err);
    }
    if (rc == 0) {
        msgw_str (w, "hosts");
        rc = s_stream (self, "SELECT DISTINCT server_id, host, port FROM network_requests"
                       " WHERE server_id = ?1 AND status = 'approved' ORDER BY host, port",
                       ids, w, &count, &err);
    }
    if (rc) {
        msgw_destroy (&w);
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    msgw_str (w, "settings");
    policy_encode (&self->policy, w);
    *reply = w;
}

//  Prefix err's message with where (or replace it with what). -1.
static int
s_where (bus_err_t *err, const char *where, const char *what)
{
    char message [BUS_ERR_MESSAGE_MAX];
    snprintf (message, sizeof message, "%s", what ? what : err->message);
    return bus_err_set (err, what ? BUS_ERR_BAD_REQUEST : err->code, "%s: %s", where,
                        message);
}

static int
s_array (const msgpack_object *root, const char *key, const msgpack_object **out,
         bus_err_t *err)
{
    msg_field_t f = msg_get_array (root, key, out);
    if (f == MSG_FIELD_MISSING) {
        *out = NULL;
        return 0;
    }
    if (f != MSG_FIELD_OK || (*out)->via.array.size > IMPORT_ITEMS_MAX)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: an array of at most %d maps",
                            key, IMPORT_ITEMS_MAX);
    return 0;
}

static int
s_review_insert (approval_t *self, const msgpack_object *item, const char *by,
                 const char *now, bus_err_t *err)
{
    static const char *const keys [] = { "tool_id", "server_id", "tool_name", "code_hash",
                                         "annotations", NULL };
    char tool_id [APPR_ID_LEN + 1], server_id [APPR_ID_LEN + 1], review_id [APPR_ID_LEN + 1];
    char name [APPR_TOOL_NAME_MAX + 1], hash [APPR_HASH_LEN + 1];
    char hints [TOOL_HINTS_JSON_MAX];
    int absent = 1;
    if (field_keys_only (item, "tools[]", keys, err)
    ||  fields_id (item, "tool_id", tool_id, err)
    ||  fields_id (item, "server_id", server_id, err)
    ||  field_text (item, "tool_name", true, APPR_TOOL_NAME_MAX, true, name, err)
    ||  (absent = fields_hash (item, hash, err)) != 0
    ||  (absent = tool_hints_read (item, "annotations", hints, err)) < 0)
        return s_where (err, "tools[]", absent == 1 ? "code_hash: required" : NULL);
    if (ids_uuid4 (review_id))
        return bus_err_set (err, BUS_ERR_INTERNAL, "cannot make an id");
    sqlite3_stmt *stmt = appr_prepare (self, "INSERT INTO tool_reviews (id, tool_id, "
        "server_id, tool_name, code_hash, status, publish_notes, requested_by, requested_at,"
        " approved_at, approved_by, updated_at, annotations) VALUES (?1, ?2, ?3, ?4, ?5,"
        " 'approved', 'imported from an export file', ?6, ?7, ?7, ?6, ?7, ?8)", err);
    if (!stmt)
        return -1;
    appr_bind (stmt, 1, review_id);
    appr_bind (stmt, 2, tool_id);
    appr_bind (stmt, 3, server_id);
    appr_bind (stmt, 4, name);
    appr_bind (stmt, 5, hash);
    appr_bind (stmt, 6, by);
    appr_bind (stmt, 7, now);
    appr_bind (stmt, 8, absent ? NULL : hints);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s already has a review of code "
                            "%.12s", tool_id, hash);
    return appr_db_fail (self, err, "insert review");
}

//  A module or host entry as a request (pending, or approved on trust).
//  1 when the server already has it (skipped), 0 made, -1 + err.
static int
s_request (approval_t *self, appr_kind_t kind, const msgpack_object *item, bool trust,
           const char *by, bus_err_t *err)
{
    static const char *const module_keys [] = { "server_id", "module_name", NULL };
    static const char *const host_keys [] = { "server_id", "host", "port", NULL };
    char server_id [APPR_ID_LEN + 1], module [MODULES_NAME_MAX + 1], host [HOSTS_MAX + 1];
    int port = 0;
    const char *where = kind == APPR_KIND_MODULE ? "modules[]" : "hosts[]";
    if (field_keys_only (item, where, kind == APPR_KIND_MODULE ? module_keys : host_keys, err)
    ||  fields_id (item, "server_id", server_id, err)
    ||  (kind == APPR_KIND_MODULE ? fields_module (item, module, err)
                                  : (fields_host (item, host, err)
                                     || fields_port (item, &port, err) < 0)))
        return s_where (err, where, NULL);
    request_in_t in = {
        .kind = kind, .server_id = server_id,
        .module = kind == APPR_KIND_MODULE ? module : NULL,
        .host = kind == APPR_KIND_NETWORK ? host : NULL, .port = port,
        .justification = trust ? "imported from an export file of this installation"
                               : "imported from an export file: review before use",
        .requested_by = trust ? "admin" : "import",
        .added_by = trust ? by : NULL,
    };
    msgw_t *scratch = msgw_new ();
    int rc = requests_create (self, &in, scratch, err);
    msgw_destroy (&scratch);
    if (rc && err->code == BUS_ERR_CONFLICT)
        return 1;
    return rc ? -1 : 0;
}

void
approval_import_apply (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    static const char *const keys [] = { "op", "trust", "imported_by", "tools", "modules",
                                         "hosts", "settings", "dry_run", NULL };
    bus_err_t err = { 0 };
    bool trust = false, dry = false;
    char by [APPR_WHO_MAX + 1], now [APPR_TIME_LEN + 1];
    const msgpack_object *tools, *modules, *hosts, *settings = msg_map_get (root, "settings");
    if (field_keys_only (root, "request", keys, &err)
    ||  field_bool (root, "trust", &trust, &err) < 0
    ||  field_bool (root, "dry_run", &dry, &err) < 0
    ||  fields_who (root, "imported_by", NULL, by, &err)
    ||  s_array (root, "tools", &tools, &err)
    ||  s_array (root, "modules", &modules, &err)
    ||  s_array (root, "hosts", &hosts, &err)) {
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    if (settings && settings->type == MSGPACK_OBJECT_NIL)
        settings = NULL;
    if (settings && settings->type != MSGPACK_OBJECT_MAP) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "settings: a map {key: value}");
        return;
    }
    if (!trust && ((tools && tools->via.array.size) || settings)) {
        *reply = msgw_error_new (BUS_ERR_FORBIDDEN, "approvals and settings are imported "
                                 "only with trust (the operator's --trust-approvals on a "
                                 "file signed by this installation)");
        return;
    }
    //  settings are parsed before anything is written
    char values [POLICY_COUNT][POLICY_VALUE_MAX];
    bool set [POLICY_COUNT] = { false };
    for (uint32_t i = 0; settings && i < settings->via.map.size; i++) {
        const msgpack_object_kv *kv = &settings->via.map.ptr [i];
        char name [40];
        snprintf (name, sizeof name, "%.*s", (int) (kv->key.via.str.size < 39
                  ? kv->key.via.str.size : 39), kv->key.via.str.ptr);
        int key = policy_key (name);
        if (key < 0 || kv->key.via.str.size >= sizeof name) {
            bus_err_set (&err, BUS_ERR_BAD_REQUEST, "settings: unknown setting '%s'", name);
            *reply = msgw_error_new (err.code, err.message);
            return;
        }
        if (policy_parse_value (key, &kv->val, values [key], &err)) {
            *reply = msgw_error_new (err.code, err.message);
            return;
        }
        set [key] = true;
    }
    ids_now_iso (now);
    int64_t reviews = 0, made [2] = { 0, 0 }, skipped [2] = { 0, 0 }, settings_set = 0;
    int rc = appr_begin (self, &err);
    for (uint32_t i = 0; rc == 0 && tools && i < tools->via.array.size; i++) {
        rc = s_review_insert (self, &tools->via.array.ptr [i], by, now, &err);
        reviews += rc == 0;
    }
    for (int k = 0; k < 2; k++) {
        const msgpack_object *list = k == 0 ? modules : hosts;
        for (uint32_t i = 0; rc == 0 && list && i < list->via.array.size; i++) {
            int one = s_request (self, k == 0 ? APPR_KIND_MODULE : APPR_KIND_NETWORK,
                                 &list->via.array.ptr [i], trust, by, &err);
            if (one < 0)
                rc = -1;
            else
                (one ? skipped : made) [k]++;
        }
    }
    for (int key = 0; rc == 0 && key < POLICY_COUNT; key++)
        if (set [key]) {
            rc = policy_store (self->db, key, values [key], by, now, &err);
            settings_set += rc == 0;
        }
    if (dry) {
        //  every check made and every row written: undone
        appr_rollback (self);
        if (rc) {
            *reply = msgw_error_new (err.code, err.message);
            return;
        }
    }
    else
    if (approval_end (service, self, rc, NULL, NULL, &err)) {
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    if (!dry) {
    log_info ("import: %lld approvals, %lld modules (%lld skipped), %lld hosts (%lld "
              "skipped), %lld settings, trust %s, by %s", (long long) reviews,
              (long long) made [0], (long long) skipped [0], (long long) made [1],
              (long long) skipped [1], (long long) settings_set, trust ? "yes" : "no", by);
    activity_note (service, "approval.imported", trust ? "warning" : "info", NULL,
                   json_pack ("{s:b, s:s, s:I, s:I, s:I, s:I}", "trust", trust,
                              "imported_by", by, "approvals", (json_int_t) reviews,
                              "modules", (json_int_t) made [0], "hosts", (json_int_t) made [1],
                              "settings", (json_int_t) settings_set),
                   "Imported from an export file by %s: %lld approvals, %lld modules, "
                   "%lld hosts (%s), %lld settings", by, (long long) reviews,
                   (long long) made [0], (long long) made [1],
                   trust ? "approved" : "pending review", (long long) settings_set);
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 8);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "approvals", reviews);
    msgw_kv_int (w, "modules", made [0]);
    msgw_kv_int (w, "modules_skipped", skipped [0]);
    msgw_kv_int (w, "hosts", made [1]);
    msgw_kv_int (w, "hosts_skipped", skipped [1]);
    msgw_kv_int (w, "settings", settings_set);
    msgw_kv_str (w, "requests_status", trust ? "approved" : "pending");
    *reply = w;
}

/*  ops.c — the approval actor's interface: every op it answers, listed once
    (approval_ops, at the bottom), and the handlers that read the request
    fields, run the change in one transaction, reply, and announce it.

    docs/BUS_OPS.md (section approval) is the contract. Every field is
    read through fields.c, which answers `bad_request` naming a bad one.

    Order inside a handler: fields, cheap refusals (a forbidden module is
    refused before the registry is asked), the registry (outside any
    transaction: no write lock is held while waiting on the bus), then
    BEGIN IMMEDIATE .. logic .. COMMIT (which bumps the revision and
    rebuilds the effective view), then `approval.changed`
    {"revision", "tool_id"?, "server_id"?} on the event bus.

    Additions to the contract, all optional: code_hash on review.approve /
    review.reject / review.revoke (see reviews.c); justification on
    admin.add_*; server_id, tool_id and limit filters on requests.list;
    kind "tool" for requests.list; succeeded / failed counts in review.bulk;
    annotations (the MCP hints the admin sets, proto/tool_hints.h) on a tool
    review.approve (review.bulk approves with none).
*/
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include "approval.h"
#include "log.h"
#include "tool_hints.h"

#define LIST_DEFAULT 200            //  requests.list rows when no limit given

//  --- replies and events ----------------------------------------------------

static void
s_error (msgw_t **reply, const bus_err_t *err)
{
    *reply = msgw_error_new (err->code ? err->code : BUS_ERR_INTERNAL,
                             err->message [0] ? err->message : "internal error");
}

//  approval.changed {"revision", "tool_id"?, "server_id"?}
static void
s_announce (service_t *service, approval_t *self, const char *tool_id,
            const char *server_id)
{
    msgw_t *event = msgw_new ();
    if (!event)
        return;
    msgw_map (event, 1 + (tool_id != NULL) + (server_id != NULL));
    msgw_kv_int (event, "revision", self->revision);
    if (tool_id)
        msgw_kv_str (event, "tool_id", tool_id);
    if (server_id)
        msgw_kv_str (event, "server_id", server_id);
    if (service_publish (service, "approval.changed", event))
        log_debug ("approval.changed %lld not published (no event bus)",
                   (long long) self->revision);
    msgw_destroy (&event);
}

//  End a change: commit and announce when rc is 0, else roll back. 0 / -1.
int
approval_end (service_t *service, approval_t *self, int rc, const char *tool_id,
       const char *server_id, bus_err_t *err)
{
    if (rc) {
        appr_rollback (self);
        return -1;
    }
    if (appr_commit (self, err))
        return -1;
    s_announce (service, self, tool_id, server_id);
    return 0;
}

//  {"ok": true, "request": {...}} around a request map built by requests.c
static void
s_request_reply (msgw_t **reply, msgw_t *request)
{
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 2);
    msgw_kv_bool (*reply, "ok", true);
    msgw_str (*reply, "request");
    appr_raw (*reply, msgw_data (request), msgw_size (request));
}

static void
s_policy_reply (approval_t *self, msgw_t **reply)
{
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 3);
    msgw_kv_bool (*reply, "ok", true);
    msgw_str (*reply, "settings");
    policy_encode (&self->policy, *reply);
    msgw_kv_str (*reply, "profile", policy_profile_of (&self->policy));
}

//  --- tools/call budgets (rate.h) ---------------------------------------------

//  rate.take {client}: one call of that client against mcp_rate_limit_rpm.
//  Answered ok either way: {allowed, limit_rpm, remaining, retry_after_ms}.
static void
s_rate_take (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    approval_t *self = state;
    bus_err_t err = { 0 };
    char client [RATE_CLIENT_MAX + 1];
    if (field_text (msg_root (request), "client", true, RATE_CLIENT_MAX, true, client,
                    &err)) {
        s_error (reply, &err);
        return;
    }
    int64_t rpm = policy_int (&self->policy, POLICY_MCP_RATE_LIMIT_RPM);
    rate_verdict_t verdict;
    rate_take (self->rate, client, rpm, zclock_mono (), &verdict);
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 5);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_bool (*reply, "allowed", verdict.allowed);
    msgw_kv_int (*reply, "limit_rpm", rpm);
    msgw_kv_int (*reply, "remaining", verdict.remaining);
    msgw_kv_int (*reply, "retry_after_ms", verdict.retry_after_ms);
}

//  rate.stats: the table's counters.
static void
s_rate_stats (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    approval_t *self = state;
    rate_stats_t stats;
    rate_stats (self->rate, &stats);
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 8);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_int (*reply, "limit_rpm", policy_int (&self->policy, POLICY_MCP_RATE_LIMIT_RPM));
    msgw_kv_int (*reply, "clients", (int64_t) stats.clients);
    msgw_kv_int (*reply, "clients_max", (int64_t) stats.clients_max);
    msgw_kv_int (*reply, "allowed", (int64_t) stats.allowed);
    msgw_kv_int (*reply, "limited", (int64_t) stats.limited);
    msgw_kv_int (*reply, "expired", (int64_t) stats.expired);
    msgw_kv_int (*reply, "evicted", (int64_t) stats.evicted);
}

//  --- tool reviews ----------------------------------------------------------

static void
s_publish_request (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char tool_id [APPR_ID_LEN + 1], by [APPR_WHO_MAX + 1];
    char notes [APPR_TEXT_MAX + 1];
    tool_ref_t tool;
    const char *status = NULL, *message = NULL;
    int notes_absent = 0;
    if (fields_id (root, "tool_id", tool_id, &err)
    ||  (notes_absent = field_text (root, "notes", false, APPR_TEXT_MAX, false, notes, &err)) < 0
    ||  fields_who (root, "requested_by", "llm", by, &err)
    ||  registry_tool_get (service, tool_id, &tool, &err)
    ||  appr_begin (self, &err)
    ||  approval_end (service, self, reviews_publish (self, &tool, notes_absent ? NULL : notes,
                                               by, &status, &message, &err),
               tool.id, tool.server_id, &err)) {
        s_error (reply, &err);
        return;
    }
    activity_note (service, "tool.publish_requested", "info", tool.server_id,
                   json_pack ("{s:s, s:s, s:s, s:s, s:s}", "tool_id", tool.id,
                              "tool_name", tool.name, "code_hash", tool.code_hash,
                              "status", status, "requested_by", by),
                   "Tool '%s' submitted for review by %s: %s", tool.name, by, status);
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 6);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_str (*reply, "tool_id", tool.id);
    msgw_kv_str (*reply, "name", tool.name);
    msgw_kv_str (*reply, "code_hash", tool.code_hash);
    msgw_kv_str (*reply, "status", status);
    msgw_kv_str (*reply, "message", message);
}

static void
s_tool_status (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    bus_err_t err = { 0 };
    char tool_id [APPR_ID_LEN + 1];
    tool_ref_t tool;
    if (fields_id (msg_root (request), "tool_id", tool_id, &err)
    ||  registry_tool_get (service, tool_id, &tool, &err)) {
        s_error (reply, &err);
        return;
    }
    msgw_t *w = msgw_new ();
    if (!w)
        return;
    if (reviews_status (self, &tool, w, &err)) {
        msgw_destroy (&w);
        s_error (reply, &err);
        return;
    }
    *reply = w;
}

//  --- decisions -------------------------------------------------------------

//  A decision on a tool with no review on record: say whether the id is a
//  review's (the commands take the tool's id), a draft (conflict) or
//  nothing at all (not_found). *registry is set to NULL when the registry
//  does not answer, so that a bulk decision waits for it once at most.
static int
s_unreviewed (service_t **registry, approval_t *self, const char *id, bus_err_t *err)
{
    char owner [APPR_ID_LEN + 1];
    int is_review = reviews_tool_of_review (self, id, owner, err);
    if (is_review < 0)
        return -1;
    if (is_review)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "no tool %s: that is the id of a "
                          "review of tool %s, and decisions on tools take the tool's "
                          "id (tool_id)", id, owner);
    tool_ref_t tool;
    bus_err_t asked = { 0 };
    if (*registry && registry_tool_get (*registry, id, &tool, &asked) == 0)
        return bus_err_set (err, BUS_ERR_CONFLICT, "tool %s is a draft: it was never "
                          "submitted for publishing", id);
    if (*registry && asked.code == BUS_ERR_NOT_FOUND)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "no tool %s", id);
    *registry = NULL;
    return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s has no review on record (the "
                      "registry did not answer to tell a draft from an unknown id)", id);
}

//  One decision on one id; the caller owns the transaction. The event's
//  tool_id / server_id go into the given buffers ("" when none).
static int
s_decide (service_t **registry, approval_t *self, appr_kind_t kind, const char *id,
          appr_action_t action, const char *reason, const char *by,
          const char *code_hash, const char *annotations, const char **status,
          char tool_id [APPR_ID_LEN + 1], char server_id [APPR_ID_LEN + 1],
          bus_err_t *err)
{
    tool_id [0] = server_id [0] = 0;
    if (kind == APPR_KIND_TOOL) {
        snprintf (tool_id, APPR_ID_LEN + 1, "%s", id);
        int rc = reviews_decide (self, id, action, reason, by, code_hash, annotations,
                                 status, err);
        if (rc && err->code == BUS_ERR_NOT_FOUND)
            rc = s_unreviewed (registry, self, id, err);
        //  the server too, so that /ws filters and pages by server see the decision
        bus_err_t ignored = { 0 };
        if (rc == 0 && reviews_server_of_tool (self, id, server_id, &ignored) != 1)
            server_id [0] = 0;
        return rc;
    }
    return requests_decide (self, kind, id, action, reason, by, status, server_id, err);
}

static void
s_review (service_t *service, msg_t *request, msgw_t **reply, approval_t *self,
          appr_action_t action)
{
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    appr_kind_t kind;
    char id [APPR_ID_LEN + 1], by [APPR_WHO_MAX + 1], reason [APPR_TEXT_MAX + 1];
    char hash [APPR_HASH_LEN + 1], tool_id [APPR_ID_LEN + 1], server_id [APPR_ID_LEN + 1];
    const char *status = NULL;
    int hash_absent = 1, hints_absent = 1;
    char hints [TOOL_HINTS_JSON_MAX];
    reason [0] = 0;
    if (fields_kind (root, true, &kind, &err)
    ||  fields_id (root, "id", id, &err)
    ||  fields_who (root, "reviewed_by", NULL, by, &err)
    ||  (action == APPR_REJECT
         && field_text (root, "reason", true, APPR_TEXT_MAX, true, reason, &err))
    ||  (kind == APPR_KIND_TOOL && (hash_absent = fields_hash (root, hash, &err)) < 0)
    ||  (kind == APPR_KIND_TOOL && action == APPR_APPROVE
         && (hints_absent = tool_hints_read (root, "annotations", hints, &err)) < 0)
    ||  appr_begin (self, &err)) {
        s_error (reply, &err);
        return;
    }
    service_t *registry = service;
    int rc = s_decide (&registry, self, kind, id, action, reason, by,
                       hash_absent ? NULL : hash, hints_absent ? NULL : hints,
                       &status, tool_id, server_id, &err);
    if (approval_end (service, self, rc, *tool_id ? tool_id : NULL,
               *server_id ? server_id : NULL, &err)) {
        s_error (reply, &err);
        return;
    }
    activity_decision (service, kind, action, id, server_id, status, by, reason, false);
    *reply = msgw_new ();
    if (!*reply)
        return;
    msgw_map (*reply, 4);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_str (*reply, "kind", kind == APPR_KIND_TOOL ? "tool"
                                : kind == APPR_KIND_MODULE ? "module" : "network");
    msgw_kv_str (*reply, "id", id);
    msgw_kv_str (*reply, "status", status);
}

static void
s_review_approve (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_review (service, request, reply, state, APPR_APPROVE);
}

static void
s_review_reject (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_review (service, request, reply, state, APPR_REJECT);
}

static void
s_review_revoke (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_review (service, request, reply, state, APPR_REVOKE);
}

//  review.bulk: one transaction, one savepoint per id, a result per id; one
//  revision and one event for the lot.
static void
s_review_bulk (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    appr_kind_t kind;
    appr_action_t action = APPR_APPROVE;
    char verb [16], by [APPR_WHO_MAX + 1], reason [APPR_TEXT_MAX + 1];
    const msgpack_object *ids = NULL;
    if (fields_kind (root, true, &kind, &err)
    ||  field_text (root, "action", true, sizeof verb - 1, true, verb, &err)
    ||  fields_who (root, "reviewed_by", NULL, by, &err)) {
        s_error (reply, &err);
        return;
    }
    if (strcmp (verb, "reject") == 0)
        action = APPR_REJECT;
    else
    if (strcmp (verb, "approve") != 0) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "action: must be approve or reject");
        return;
    }
    if (action == APPR_REJECT
    &&  field_text (root, "reason", true, APPR_TEXT_MAX, true, reason, &err)) {
        s_error (reply, &err);
        return;
    }
    if (msg_get_array (root, "ids", &ids) != MSG_FIELD_OK) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "ids: an array of ids is required");
        return;
    }
    if (ids->via.array.size > APPR_BULK_MAX) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "ids: at most 100 per request");
        return;
    }
    msgw_t *results = msgw_new ();
    if (!results || appr_begin (self, &err)) {
        msgw_destroy (&results);
        s_error (reply, &err);
        return;
    }
    size_t succeeded = 0, failed = 0;
    service_t *registry = service;      //  NULL once it failed to answer
    json_t *decided = json_array ();    //  [id, server_id, status] per success
    char last_tool [APPR_ID_LEN + 1] = "", last_server [APPR_ID_LEN + 1] = "";
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        const msgpack_object *item = &ids->via.array.ptr [i];
        char id [APPR_ID_LEN + 1], tool_id [APPR_ID_LEN + 1], server_id [APPR_ID_LEN + 1];
        const char *status = NULL;
        bus_err_t one = { 0 };
        bool valid = item->type == MSGPACK_OBJECT_STR
                  && ids_uuid_parse (item->via.str.ptr, item->via.str.size, id);
        int rc = -1;
        if (!valid)
            bus_err_set (&one, BUS_ERR_BAD_REQUEST, "ids[%u]: must be a UUID", i);
        else
        if (appr_savepoint (self, &one) == 0) {
            rc = s_decide (&registry, self, kind, id, action, reason, by, NULL, NULL,
                           &status, tool_id, server_id, &one);
            appr_release (self, rc == 0);
        }
        if (rc == 0) {
            succeeded++;
            json_array_append_new (decided, json_pack ("[s, s, s]", id, server_id,
                                                       status ? status : ""));
            snprintf (last_tool, sizeof last_tool, "%s", tool_id);
            snprintf (last_server, sizeof last_server, "%s", server_id);
            msgw_map (results, 3);
            msgw_kv_str (results, "id", id);
            msgw_kv_bool (results, "ok", true);
            msgw_kv_str (results, "status", status);
        }
        else {
            failed++;
            msgw_map (results, 3);
            if (valid)
                msgw_kv_str (results, "id", id);
            else
            if (item->type == MSGPACK_OBJECT_STR)
                msgw_kv_str (results, "id", "");
            else
                msgw_kv_str (results, "id", NULL);
            msgw_kv_bool (results, "ok", false);
            msgw_str (results, "error");
            msgw_map (results, 2);
            msgw_kv_str (results, "code", bus_error_name (one.code));
            msgw_kv_str (results, "message", one.message);
        }
    }
    //  name the tool / server in the event only when there was exactly one
    int rc = succeeded ? 0 : 1;
    if (rc)
        appr_rollback (self);
    else
    if (approval_end (service, self, 0,
               succeeded == 1 && *last_tool ? last_tool : NULL,
               succeeded == 1 && *last_server ? last_server : NULL, &err)) {
        msgw_destroy (&results);
        json_decref (decided);
        s_error (reply, &err);
        return;
    }
    if (rc == 0) {
        size_t index;
        json_t *one;
        json_array_foreach (decided, index, one)
            activity_decision (service, kind, action,
                               json_string_value (json_array_get (one, 0)),
                               json_string_value (json_array_get (one, 1)),
                               json_string_value (json_array_get (one, 2)), by,
                               action == APPR_REJECT ? reason : NULL, true);
    }
    json_decref (decided);
    *reply = msgw_new ();
    if (*reply) {
        msgw_map (*reply, 4);
        msgw_kv_bool (*reply, "ok", true);
        msgw_str (*reply, "results");
        msgw_array (*reply, ids->via.array.size);
        appr_raw (*reply, msgw_data (results), msgw_size (results));
        msgw_kv_int (*reply, "succeeded", (int64_t) succeeded);
        msgw_kv_int (*reply, "failed", (int64_t) failed);
    }
    msgw_destroy (&results);
}

//  --- module and network requests ---------------------------------------------

//  module.requested / network.requested (a tool asked) or module.added /
//  network.added (the admin added it), with the new request's id and status.
static void
s_request_activity (service_t *service, const request_in_t *in, msgw_t *created)
{
    const char *why = NULL;
    msg_t *request = msg_decode (msgw_data (created), msgw_size (created), NULL, &why);
    char id [APPR_ID_LEN + 1] = "", status [24] = "";
    if (request) {
        msg_get_cstr (msg_root (request), "id", id, sizeof id);
        msg_get_cstr (msg_root (request), "status", status, sizeof status);
        msg_destroy (&request);
    }
    bool network = in->kind == APPR_KIND_NETWORK;
    bool admin = in->tool_id == NULL;
    char what [300];
    if (network && in->port)
        snprintf (what, sizeof what, "%s:%d", in->host, in->port);
    else
        snprintf (what, sizeof what, "%s", network ? in->host : in->module);
    char type [32];
    snprintf (type, sizeof type, "%s.%s", network ? "network" : "module",
              admin ? "added" : "requested");
    json_t *details = json_pack ("{s:s, s:s, s:s, s:s, s:s?, s:s}",
        "request_id", id, "status", status, network ? "host" : "module", what,
        "justification", in->justification, "tool_id", in->tool_id,
        "by", admin ? (in->added_by ? in->added_by : "admin")
                    : (in->requested_by ? in->requested_by : "llm"));
    activity_note (service, type, "info", in->server_id, details,
                   "%s %s %s (%s)", network ? "Network access to" : "Module", what,
                   admin ? "added by the admin" : "requested by a tool", status);
}

//  Create a request described by `in` (fields already checked) and reply.
static void
s_create (service_t *service, approval_t *self, request_in_t *in, msgw_t **reply,
          bus_err_t *err)
{
    msgw_t *created = msgw_new ();
    if (!created || appr_begin (self, err)) {
        msgw_destroy (&created);
        s_error (reply, err);
        return;
    }
    if (approval_end (service, self, requests_create (self, in, created, err),
               in->tool_id, in->server_id, err))
        s_error (reply, err);
    else {
        s_request_reply (reply, created);
        s_request_activity (service, in, created);
    }
    msgw_destroy (&created);
}

static void
s_module_request (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char tool_id [APPR_ID_LEN + 1], module [MODULES_NAME_MAX + 1];
    char why [APPR_TEXT_MAX + 1], by [APPR_WHO_MAX + 1];
    tool_ref_t tool;
    if (fields_id (root, "tool_id", tool_id, &err)
    ||  fields_module (root, module, &err)
    ||  field_text (root, "justification", true, APPR_TEXT_MAX, true, why, &err)
    ||  fields_who (root, "requested_by", "llm", by, &err)
    ||  registry_tool_get (service, tool_id, &tool, &err)) {
        s_error (reply, &err);
        return;
    }
    request_in_t in = {
        .kind = APPR_KIND_MODULE, .tool_id = tool.id, .server_id = tool.server_id,
        .module = module, .justification = why, .requested_by = by,
    };
    s_create (service, self, &in, reply, &err);
}

static void
s_network_request (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char tool_id [APPR_ID_LEN + 1], host [HOSTS_MAX + 1];
    char why [APPR_TEXT_MAX + 1], by [APPR_WHO_MAX + 1];
    int port = 0;
    tool_ref_t tool;
    if (fields_id (root, "tool_id", tool_id, &err)
    ||  fields_host (root, host, &err)
    ||  fields_port (root, &port, &err)
    ||  field_text (root, "justification", true, APPR_TEXT_MAX, true, why, &err)
    ||  fields_who (root, "requested_by", "llm", by, &err)
    ||  registry_tool_get (service, tool_id, &tool, &err)) {
        s_error (reply, &err);
        return;
    }
    request_in_t in = {
        .kind = APPR_KIND_NETWORK, .tool_id = tool.id, .server_id = tool.server_id,
        .host = host, .port = port, .justification = why, .requested_by = by,
    };
    s_create (service, self, &in, reply, &err);
}

static void
s_admin_add_module (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char server_id [APPR_ID_LEN + 1], module [MODULES_NAME_MAX + 1];
    char why [APPR_TEXT_MAX + 1], by [APPR_WHO_MAX + 1];
    int why_absent = 0;
    if (fields_id (root, "server_id", server_id, &err)
    ||  fields_module (root, module, &err)
    ||  fields_who (root, "added_by", NULL, by, &err)
    ||  (why_absent = field_text (root, "justification", false, APPR_TEXT_MAX, false, why,
                           &err)) < 0) {
        s_error (reply, &err);
        return;
    }
    request_in_t in = {
        .kind = APPR_KIND_MODULE, .server_id = server_id, .module = module,
        .justification = why_absent || !*why ? "added by the admin" : why,
        .added_by = by,
    };
    s_create (service, self, &in, reply, &err);
}

static void
s_admin_add_host (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char server_id [APPR_ID_LEN + 1], host [HOSTS_MAX + 1];
    char why [APPR_TEXT_MAX + 1], by [APPR_WHO_MAX + 1];
    int port = 0, why_absent = 0;
    if (fields_id (root, "server_id", server_id, &err)
    ||  fields_host (root, host, &err)
    ||  fields_port (root, &port, &err)
    ||  fields_who (root, "added_by", NULL, by, &err)
    ||  (why_absent = field_text (root, "justification", false, APPR_TEXT_MAX, false, why,
                           &err)) < 0) {
        s_error (reply, &err);
        return;
    }
    request_in_t in = {
        .kind = APPR_KIND_NETWORK, .server_id = server_id, .host = host, .port = port,
        .justification = why_absent || !*why ? "added by the admin" : why,
        .added_by = by,
    };
    s_create (service, self, &in, reply, &err);
}

//  --- lists -----------------------------------------------------------------

static void
s_pending_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    approval_t *self = state;
    bus_err_t err = { 0 };
    size_t tools = 0, modules = 0, network = 0;
    msgw_t *w = msgw_new ();
    if (!w)
        return;
    msgw_map (w, 5);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "pending_tools");
    int rc = reviews_list (self, "pending_review", NULL, NULL, APPR_LIST_MAX, w,
                           &tools, &err);
    if (rc == 0) {
        msgw_str (w, "pending_module_requests");
        rc = requests_list (self, APPR_KIND_MODULE, "pending", NULL, NULL,
                            APPR_LIST_MAX, w, &modules, &err);
    }
    if (rc == 0) {
        msgw_str (w, "pending_network_requests");
        rc = requests_list (self, APPR_KIND_NETWORK, "pending", NULL, NULL,
                            APPR_LIST_MAX, w, &network, &err);
    }
    if (rc) {
        msgw_destroy (&w);
        s_error (reply, &err);
        return;
    }
    msgw_str (w, "summary");
    msgw_map (w, 4);
    msgw_kv_int (w, "tools", (int64_t) tools);
    msgw_kv_int (w, "modules", (int64_t) modules);
    msgw_kv_int (w, "network", (int64_t) network);
    msgw_kv_int (w, "total", (int64_t) (tools + modules + network));
    *reply = w;
}

static void
s_requests_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    appr_kind_t kind;
    char status [24], server_id [APPR_ID_LEN + 1], tool_id [APPR_ID_LEN + 1];
    bool has_server = msg_map_get (root, "server_id") != NULL;
    bool has_tool = msg_map_get (root, "tool_id") != NULL;
    int64_t limit = LIST_DEFAULT;
    msg_field_t field = msg_get_int (root, "limit", &limit);
    int has_status = 0;
    if (fields_kind (root, true, &kind, &err)
    ||  (has_status = field_text (root, "status", false, sizeof status - 1, true, status,
                              &err)) < 0
    ||  (has_server && fields_id (root, "server_id", server_id, &err))
    ||  (has_tool && fields_id (root, "tool_id", tool_id, &err))) {
        s_error (reply, &err);
        return;
    }
    if (field == MSG_FIELD_WRONG_TYPE || field == MSG_FIELD_TOO_LONG
    ||  limit < 1 || limit > APPR_LIST_MAX) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "limit: an integer from 1 to 1000");
        return;
    }
    if (has_status == 0) {
        bool valid = kind == APPR_KIND_TOOL
            ? !strcmp (status, "pending_review") || !strcmp (status, "approved")
              || !strcmp (status, "rejected")
            : !strcmp (status, "pending") || !strcmp (status, "approved")
              || !strcmp (status, "rejected");
        if (!valid) {
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, kind == APPR_KIND_TOOL
                ? "status: must be pending_review, approved or rejected"
                : "status: must be pending, approved or rejected");
            return;
        }
    }
    msgw_t *w = msgw_new ();
    if (!w)
        return;
    size_t count = 0;
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "kind", kind == APPR_KIND_TOOL ? "tool"
                          : kind == APPR_KIND_MODULE ? "module" : "network");
    msgw_str (w, "requests");
    const char *st = has_status == 0 ? status : NULL;
    const char *sv = has_server ? server_id : NULL;
    const char *tl = has_tool ? tool_id : NULL;
    int rc = kind == APPR_KIND_TOOL
        ? reviews_list (self, st, sv, tl, (int) limit, w, &count, &err)
        : requests_list (self, kind, st, sv, tl, (int) limit, w, &count, &err);
    if (rc) {
        msgw_destroy (&w);
        s_error (reply, &err);
        return;
    }
    msgw_kv_int (w, "total", (int64_t) count);
    *reply = w;
}

//  --- the effective view and the policy ------------------------------------------

static void
s_effective (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    approval_t *self = state;
    if (self->stale) {
        bus_err_t err = { 0 };
        if (effective_rebuild (self->effective, self->db, &self->policy,
                               self->revision, &err) == 0)
            self->stale = false;
        else {
            s_error (reply, &err);
            return;
        }
    }
    *reply = effective_reply (self->effective);
}

static void
s_policy_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    s_policy_reply (state, reply);
}

static void
s_policy_set (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char name [40], value [POLICY_VALUE_MAX], by [APPR_WHO_MAX + 1], now [APPR_TIME_LEN + 1];
    if (field_text (root, "key", true, sizeof name - 1, true, name, &err)
    ||  fields_who (root, "changed_by", NULL, by, &err)) {
        s_error (reply, &err);
        return;
    }
    int key = policy_key (name);
    const msgpack_object *given = msg_map_get (root, "value");
    if (key < 0)
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "key: unknown setting '%s'", name);
    else
    if (!given)
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "value: required");
    if (key < 0 || !given
    ||  policy_parse_value (key, given, value, &err)
    ||  appr_begin (self, &err)) {
        s_error (reply, &err);
        return;
    }
    ids_now_iso (now);
    if (approval_end (service, self, policy_store (self->db, key, value, by, now, &err),
               NULL, NULL, &err)) {
        s_error (reply, &err);
        return;
    }
    log_info ("policy: %s = %s (by %s)", policy_key_name (key), value, by);
    activity_note (service, "policy.changed", "warning", NULL,
                   json_pack ("{s:s, s:s, s:s}", "key", policy_key_name (key),
                              "value", value, "changed_by", by),
                   "Security policy: %s set to %s by %s", policy_key_name (key), value, by);
    s_policy_reply (self, reply);
}

static void
s_policy_profile (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    approval_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    char name [24], by [APPR_WHO_MAX + 1], now [APPR_TIME_LEN + 1];
    policy_t wanted = self->policy;
    if (field_text (root, "name", true, sizeof name - 1, true, name, &err)
    ||  fields_who (root, "changed_by", NULL, by, &err)
    ||  policy_profile_apply (name, &wanted, &err)
    ||  appr_begin (self, &err)) {
        s_error (reply, &err);
        return;
    }
    ids_now_iso (now);
    int rc = 0;
    json_t *changed = json_object ();
    for (int key = 0; key < POLICY_COUNT && rc == 0; key++)
        if (!policy_is (&self->policy, key, wanted.value [key])) {
            rc = policy_store (self->db, key, wanted.value [key], by, now, &err);
            json_object_set_new (changed, policy_key_name (key),
                                 json_string (wanted.value [key]));
        }
    if (approval_end (service, self, rc, NULL, NULL, &err)) {
        json_decref (changed);
        s_error (reply, &err);
        return;
    }
    log_info ("policy: profile %s (by %s)", name, by);
    activity_note (service, "policy.profile_applied", "warning", NULL,
                   json_pack ("{s:s, s:o, s:s}", "profile", name, "changed", changed,
                              "changed_by", by),
                   "Security policy: profile %s applied by %s", name, by);
    s_policy_reply (self, reply);
}

//  --- the interface -------------------------------------------------------------

//  op name -> handler; `health` is answered by the service loop.
const service_op_t approval_ops [] = {
    { "publish.request",  s_publish_request  },     //  draft|rejected -> pending_review
    { "review.approve",   s_review_approve   },     //  pending -> approved
    { "review.reject",    s_review_reject    },     //  pending -> rejected (reason)
    { "review.revoke",    s_review_revoke    },     //  approved -> pending
    { "review.bulk",      s_review_bulk      },     //  approve/reject <= 100 ids
    { "module.request",   s_module_request   },     //  a tool asks for a module
    { "network.request",  s_network_request  },     //  a tool asks for a host
    { "admin.add_module", s_admin_add_module },     //  recorded as approved
    { "admin.add_host",   s_admin_add_host   },     //  recorded as approved
    { "tool.status",      s_tool_status      },     //  status of the current code
    { "pending.list",     s_pending_list     },
    { "requests.list",    s_requests_list    },
    { "effective",        s_effective        },     //  the view callers enforce
    { "policy.get",       s_policy_get       },
    { "policy.set",       s_policy_set       },
    { "policy.profile",   s_policy_profile   },     //  strict/balanced/permissive
    { "export.dump",      approval_export_dump   },     //  export.c
    { "import.apply",     approval_import_apply  },     //  export.c
    { "rate.take",        s_rate_take        },     //  one tools/call of a client
    { "rate.stats",       s_rate_stats       },
    { NULL, NULL }
};

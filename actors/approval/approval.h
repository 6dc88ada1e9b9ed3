/*  approval.h — the approval actor's internals, shared by its files.

    The actor owns tool_reviews, module_requests, network_requests, settings
    and approval_revision (sql/0003_approval.sql) and answers the `approval`
    section of docs/BUS_OPS.md. Its files, one concern each:

        main.c       process wiring (config, database, the service loop)
        ops.c        the op table — the whole interface — and its handlers
        fields.c     reading and checking request fields
        registry_client.c   the one question asked of another actor: tool.get
        store.c      the connection, transactions, ids, times, row encoding
        reviews.c    the tool review state machine
        requests.c   module and network-access requests
        policy.c     security policy settings and profiles
        effective.c  the in-memory view the gateway and executors use
        hosts.c      host normalising and validation (hosts.h)
        modules.c    module names, defaults, forbidden list (modules.h)
        export.c     export.dump / import.apply for export files
        rate.c       tools/call budgets per client, in memory (rate.h)

    Every change runs in one transaction that also bumps the revision
    (store.c); after the commit the policy is reloaded, the effective view
    rebuilt, and ops.c publishes `approval.changed`. A refusal changes
    nothing and publishes nothing.

    State machines (docs/DESIGN.md, section 11; docs/BUS_OPS.md, approval):

      tool review (per tool_id + code_hash; none = draft)
        draft | rejected  --publish-->  pending_review
                                        (approved at once, approved_by
                                        "auto_approve", in auto_approve mode)
        pending_review    --approve-->  approved
        pending_review    --reject--->  rejected      (reason required)
        approved          --revoke--->  pending_review
        anything else: conflict ("already pending review", "already
        approved", "not pending", "not approved").

      module / network request
        (new)    --request--> pending (approved at once: module_approval_mode
                              auto_approve; admin additions)
        pending  --approve--> approved
        pending  --reject---> rejected                (reason required)
        approved --revoke---> pending
*/
#ifndef MCPBOX_APPROVAL_H
#define MCPBOX_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "fields.h"
#include "ids.h"
#include "service.h"
#include "utf8.h"
#include "hosts.h"
#include "modules.h"
#include "rate.h"

#define APPR_ID_LEN         36      //  UUID text
#define APPR_HASH_LEN       64      //  SHA-256, lower-case hex
#define APPR_WHO_MAX        64      //  requested_by, reviewed_by, changed_by
#define APPR_TEXT_MAX       2000    //  notes, justification, reason
#define APPR_TOOL_NAME_MAX  255
#define APPR_BULK_MAX       100     //  ids in one review.bulk
#define APPR_LIST_MAX       1000    //  rows in one requests.list
#define APPR_TIME_LEN       24      //  "2026-11-29T05:40:00.123Z"

//  Errors travel as bus_err_t values, filled with bus_err_set (proto/bus_errors.h).

typedef enum {
    APPR_KIND_TOOL = 0,
    APPR_KIND_MODULE,
    APPR_KIND_NETWORK,
} appr_kind_t;

typedef enum {
    APPR_APPROVE = 0,
    APPR_REJECT,
    APPR_REVOKE,
} appr_action_t;

//  --- policy.c --------------------------------------------------------------
typedef enum {
    POLICY_REMOTE_TOOL_EDITING = 0,
    POLICY_TOOL_APPROVAL_MODE,
    POLICY_NETWORK_ACCESS_POLICY,
    POLICY_MODULE_APPROVAL_MODE,
    POLICY_REDACT_SECRETS,
    POLICY_LOG_RETENTION_DAYS,
    POLICY_MCP_RATE_LIMIT_RPM,
    POLICY_COUNT
} policy_key_t;

#define POLICY_VALUE_MAX 24

//  The current value of every setting, as text ("enabled", "30").
typedef struct {
    char value [POLICY_COUNT][POLICY_VALUE_MAX];
} policy_t;

void        policy_defaults (policy_t *self);
//  Index of a setting name, or -1.
int         policy_key (const char *name);
const char *policy_key_name (int key);
//  Check a request's value for a setting and write its text into out
//  (POLICY_VALUE_MAX bytes). 0, or -1 + err (bad_request naming the rule).
int         policy_parse_value (int key, const msgpack_object *value, char *out,
                                bus_err_t *err);
bool        policy_is (const policy_t *self, int key, const char *value);
int64_t     policy_int (const policy_t *self, int key);
//  "strict", "balanced", "permissive", or "custom".
const char *policy_profile_of (const policy_t *self);
//  Set the settings a profile covers in *self. -1 + err for an unknown name.
int         policy_profile_apply (const char *name, policy_t *self, bus_err_t *err);
//  A map {key: value} of all settings, integers as integers.
void        policy_encode (const policy_t *self, msgw_t *w);
//  Read the settings table (defaults for missing keys; a stored value that
//  no longer validates falls back to the default, with a warning).
int         policy_load (sqlite3 *db, policy_t *self, bus_err_t *err);
//  Write one setting (inside the caller's transaction).
int         policy_store (sqlite3 *db, int key, const char *value,
                          const char *changed_by, const char *now,
                          bus_err_t *err);

//  --- effective.c -----------------------------------------------------------
typedef struct _effective_t effective_t;

effective_t *effective_new (void);
void         effective_destroy (effective_t **self_p);
//  Rebuild from the database; the previous view stays on failure.
int          effective_rebuild (effective_t *self, sqlite3 *db,
                                const policy_t *policy, int64_t revision,
                                bus_err_t *err);
//  A complete `effective` reply (a copy of the cached encoding).
msgw_t      *effective_reply (effective_t *self);
int64_t      effective_revision (effective_t *self);

//  --- store.c ---------------------------------------------------------------
typedef struct {
    sqlite3     *db;                //  our connection (db_open)
    policy_t     policy;            //  settings as last committed
    effective_t *effective;         //  the view `effective` answers
    int64_t      revision;          //  revision of the last commit
    bool         stale;             //  effective failed to rebuild
    bool         in_tx;             //  a transaction is open
    rate_t      *rate;              //  tools/call budgets per client (rate.h)
} approval_t;

//  Open the database (applying missing migrations, as `mcpbox migrate`),
//  load the policy and build the view. NULL + err.
approval_t *approval_new (const char *db_path, char *err, size_t errlen);
void        approval_destroy (approval_t **self_p);


//  BEGIN IMMEDIATE. Then either appr_commit, which bumps the revision in
//  the same transaction, commits, reloads the policy and rebuilds the view,
//  or appr_rollback.
int  appr_begin (approval_t *self, bus_err_t *err);
int  appr_commit (approval_t *self, bus_err_t *err);
void appr_rollback (approval_t *self);
//  Savepoints for review.bulk: one per id inside the bulk transaction.
int  appr_savepoint (approval_t *self, bus_err_t *err);
void appr_release (approval_t *self, bool keep);

//  An `internal` error for a failed SQLite call, logged with its detail.
int  appr_db_fail (approval_t *self, bus_err_t *err, const char *what);
sqlite3_stmt *appr_prepare (approval_t *self, const char *sql, bus_err_t *err);
//  Bind text, or NULL for SQL NULL.
int  appr_bind (sqlite3_stmt *stmt, int index, const char *text);

//  Encode the current row as a map {column name: value} (TEXT -> str,
//  INTEGER -> int, NULL -> nil).
void appr_row_map (sqlite3_stmt *stmt, msgw_t *w);
//  Step every row into an array of maps appended to w; *count rows.
int  appr_rows (approval_t *self, sqlite3_stmt *stmt, msgw_t *w, size_t *count,
                bus_err_t *err);
//  Append already-encoded msgpack bytes.
void appr_raw (msgw_t *w, const void *data, size_t size);

//  --- activity.c ------------------------------------------------------------
//  One activity record through the service's log spool (takes details).
void activity_note (service_t *service, const char *type, const char *level,
                    const char *server_id, json_t *details, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));
//  "tool" | "module" | "network"
const char *activity_kind_name (appr_kind_t kind);
//  approval.<kind>_<approved|rejected|revoked>
void activity_decision (service_t *service, appr_kind_t kind, appr_action_t action,
                        const char *id, const char *server_id, const char *status,
                        const char *by, const char *reason, bool bulk);

//  --- registry_client.c ------------------------------------------------------------
//  What approval needs to know about a tool, as the registry says now.
typedef struct {
    char id        [APPR_ID_LEN + 1];
    char server_id [APPR_ID_LEN + 1];
    char name      [APPR_TOOL_NAME_MAX + 1];
    char code_hash [APPR_HASH_LEN + 1];
} tool_ref_t;

//  Ask the registry (tool.get). not_found when it has no such tool,
//  unavailable when it cannot be reached, internal when its reply is bad.
int registry_tool_get (service_t *service, const char *tool_id, tool_ref_t *tool,
                       bus_err_t *err);
//  How long to wait for the registry: up to 5 s, less when heartbeats are
//  short (a handler blocking longer than the liveness window would get
//  this worker dropped by the broker).
int registry_timeout_ms (void);

//  True for a canonical UUID (8-4-4-4-12 hex); writes the lower-case form.

//  --- ops.c -----------------------------------------------------------------
//  op name -> handler, NULL-terminated: the actor's whole interface.
extern const service_op_t approval_ops [];
//  End a change: commit, then announce approval.changed, when rc is 0; else
//  roll back. 0 / -1 + err.
int approval_end (service_t *service, approval_t *self, int rc, const char *tool_id,
                  const char *server_id, bus_err_t *err);
//  --- export.c ----------------------------------------------------------------
//  export.dump and import.apply (docs/BUS_OPS.md, approval).
void approval_export_dump (service_t *service, msg_t *request, msgw_t **reply, void *state);
void approval_import_apply (service_t *service, msg_t *request, msgw_t **reply, void *state);

//  --- fields.c --------------------------------------------------------------
//  Approval's own request fields, on the shared readers (common/fields.h:
//  field_text, field_int…). Each returns 0 when the field is present and
//  valid, -1 + err (bad_request naming the field, or forbidden); the
//  optional ones return 1 when the field is absent or nil.
//  Who did it; fallback when absent (NULL: required).
int fields_who (const msgpack_object *root, const char *key, const char *fallback,
                char out [APPR_WHO_MAX + 1], bus_err_t *err);
//  A required UUID, lower-cased.
int fields_id (const msgpack_object *root, const char *key,
               char out [APPR_ID_LEN + 1], bus_err_t *err);
//  Optional "code_hash".
int fields_hash (const msgpack_object *root, char out [APPR_HASH_LEN + 1],
                 bus_err_t *err);
//  Required "kind"; "tool" only when allow_tool.
int fields_kind (const msgpack_object *root, bool allow_tool, appr_kind_t *kind,
                 bus_err_t *err);
//  Optional "port": *port 0 when absent (any port).
int fields_port (const msgpack_object *root, int *port, bus_err_t *err);
//  Required "module_name", checked (modules.h); forbidden -> forbidden.
int fields_module (const msgpack_object *root, char out [MODULES_NAME_MAX + 1],
                   bus_err_t *err);
//  Required "host", normalised (hosts.h); never reachable -> forbidden.
int fields_host (const msgpack_object *root, char out [HOSTS_MAX + 1],
                 bus_err_t *err);

//  --- reviews.c -------------------------------------------------------------
//  publish.request for the tool's current code. *status: the new state.
int reviews_publish (approval_t *self, const tool_ref_t *tool, const char *notes,
                     const char *requested_by, const char **status,
                     const char **message, bus_err_t *err);
//  1 and the server of the tool's review in server_id, 0 none, -1 + err.
int reviews_server_of_tool (approval_t *self, const char *tool_id,
                            char server_id [APPR_ID_LEN + 1], bus_err_t *err);
//  review.approve / reject / revoke of a tool. code_hash (or NULL) pins the
//  decision to the code the reviewer saw. A tool with no review at all is
//  not_found here: a draft and an unknown id look alike to this store (the
//  caller asks the registry which it is).
//  annotations: on approve, the MCP hints the admin set (canonical JSON
//  text, proto/tool_hints.h) or NULL for none; stored with that code hash.
int reviews_decide (approval_t *self, const char *tool_id, appr_action_t action,
                    const char *reason, const char *reviewed_by,
                    const char *code_hash, const char *annotations,
                    const char **status, bus_err_t *err);
//  1 and the tool's id in tool_id when review_id is the id of a review (not
//  of a tool), 0 when it is not, -1 + err.
int reviews_tool_of_review (approval_t *self, const char *review_id,
                            char tool_id [APPR_ID_LEN + 1], bus_err_t *err);
//  The tool.status reply for the tool's current code (complete body).
int reviews_status (approval_t *self, const tool_ref_t *tool, msgw_t *reply,
                    bus_err_t *err);
//  Reviews as an array appended to w: status / server_id / tool_id filters
//  (NULL: any), newest first, at most limit.
int reviews_list (approval_t *self, const char *status, const char *server_id,
                  const char *tool_id, int limit, msgw_t *w, size_t *count,
                  bus_err_t *err);

//  --- requests.c ------------------------------------------------------------
typedef struct {
    appr_kind_t kind;               //  APPR_KIND_MODULE or APPR_KIND_NETWORK
    const char *tool_id;            //  NULL for an admin addition
    const char *server_id;
    const char *module;             //  module: checked name
    const char *host;               //  network: normalised host
    int         port;               //  network: 1-65535, 0 = any port
    const char *justification;
    const char *requested_by;
    const char *added_by;           //  admin addition: who; else NULL
} request_in_t;

//  module.request / network.request / admin.add_*: the new request as a
//  map appended to w (w untouched on failure).
int requests_create (approval_t *self, const request_in_t *in, msgw_t *w,
                     bus_err_t *err);
//  review.approve / reject / revoke of a request; server_id gets its server.
int requests_decide (approval_t *self, appr_kind_t kind, const char *id,
                     appr_action_t action, const char *reason,
                     const char *reviewed_by, const char **status,
                     char server_id [APPR_ID_LEN + 1], bus_err_t *err);
int requests_list (approval_t *self, appr_kind_t kind, const char *status,
                   const char *server_id, const char *tool_id, int limit,
                   msgw_t *w, size_t *count, bus_err_t *err);

#endif

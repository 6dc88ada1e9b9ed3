/*  logkeeper.h — the logs actor: what its files share.

    main.c       wiring: options, hooks, the op table
    ops.c        the op table (logkeeper_ops) and the handlers
    ingest.c     decoding one hostile record of an `ingest` batch into a row
                 (redacted and bounded again: publishers are not trusted)
    store.c      the connection, the batch insert (one transaction,
                 INSERT OR IGNORE on record_id) and the events after it
    query.c      exec.query / activity.query / exec.stats
    retention.c  log_retention_days from approval, and pruning in batches

    The contract is docs/BUS_OPS.md, section logs.
*/
#ifndef MCPBOX_LOGKEEPER_H
#define MCPBOX_LOGKEEPER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>
#include "bus.h"
#include "ids.h"
#include "msg.h"
#include "service.h"

#define LK_BATCH_MAX        1000        //  records in one ingest request
#define LK_ID_MAX           64          //  record ids, tool/server ids
#define LK_NAME_MAX         255         //  names, client names, executed_by
#define LK_TYPE_MAX         64
#define LK_MESSAGE_MAX      2000
#define LK_DETAILS_MAX      (16u * 1024)
#define LK_TIME_LEN         IDS_TIME_LEN    //  "2026-11-29T05:40:00.123Z"
#define LK_QUERY_LIMIT_MAX  200
#define LK_QUERY_LIMIT_DEF  50
#define LK_STATS_ROWS_MAX   1000000     //  rows one stats query may read

//  --- one decoded record ------------------------------------------------------
typedef enum { LK_EXEC = 1, LK_ACTIVITY } lk_kind_t;

//  Every text is owned (NUL-terminated, valid UTF-8) or NULL.
typedef struct {
    lk_kind_t kind;
    char     *record_id;
    char     *source;
    char      created_at [LK_TIME_LEN + 1];
    //  exec
    char     *tool_id, *tool_name, *server_id, *server_name, *request_id;
    char     *client_name, *session_id, *input_args, *result, *stdout_text;
    char     *error, *executed_by;
    int64_t   duration_ms;
    bool      success, is_test;
    //  activity
    char     *type, *level, *message, *details;
} lk_record_t;

//  Decode one element of `records`. 0, or -1 with the reason in why.
//  source_default: the batch's source, used when the record has none.
int  lk_record_decode (const msgpack_object *obj, const char *source_default,
                       lk_record_t *record, char *why, size_t whylen);
void lk_record_clear (lk_record_t *record);

//  Unix ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ"
//  A time field of a query: unix ms (integer) or an ISO-8601 UTC text
//  ("2026-11-29T05:40:00Z", fractions allowed). 1 absent, 0 ok, -1 bad.
int  lk_time_field (const msgpack_object *map, const char *key,
                    char out [LK_TIME_LEN + 1]);

//  --- the actor ----------------------------------------------------------------
typedef struct {
    int first_prune_s;          //  first prune after start (60)
    int prune_every_s;          //  then every (3600)
    int prune_batch;            //  rows per delete transaction (1000)
    int policy_refresh_s;       //  ask approval again at least this often (300)
} lk_config_t;

typedef struct {
    sqlite3       *db;
    sqlite3_stmt  *insert_exec;
    sqlite3_stmt  *insert_activity;
    lk_config_t    config;
    char           nonce [17];      //  for ids of records we write ourselves
    uint64_t       own_sequence;
    bus_sub_t     *sub;             //  approval.changed, or NULL
    //  retention
    int            retention_days;  //  0 until approval has told us
    bool           policy_stale;    //  ask approval at the next tick
    int64_t        policy_at;       //  monotonic ms of the next refresh
    int64_t        prune_at;        //  monotonic ms of the next prune
    bool           pruning;         //  a prune is under way
    char           prune_cutoff [LK_TIME_LEN + 1];
    int64_t        prune_started;
    int64_t        pruned_exec;
    int64_t        pruned_activity;
    int            prune_batches;
    int64_t        last_prune_at;   //  unix ms, 0 never
    int64_t        last_pruned;     //  rows, last run
    //  counters (health)
    uint64_t       ingested;        //  rows written
    uint64_t       duplicates;      //  records already present
    uint64_t       rejected;        //  records refused as malformed
    uint64_t       batches;
} logkeeper_t;

logkeeper_t *logkeeper_new (const char *db_path, const lk_config_t *config,
                            const char *events_out, char *err, size_t errlen);
void         logkeeper_destroy (logkeeper_t **self_p);

//  store.c: write the decoded records in one transaction; new rows are
//  published as events. *accepted / *duplicates count them. 0 or -1.
int  store_ingest (logkeeper_t *self, service_t *service, lk_record_t *records,
                   size_t count, size_t *accepted, size_t *duplicates);
//  store.c: an activity row of our own (prunes), written and published.
void store_own_activity (logkeeper_t *self, service_t *service, const char *type,
                         const char *level, const char *message, json_t *details);
//  store.c: encode the current row of a select on execution_logs or
//  activity_log as a map (input_args/details as maps).
void store_row_map (sqlite3_stmt *stmt, msgw_t *w);

//  query.c — each builds the whole reply, or an error reply.
msgw_t *query_exec (logkeeper_t *self, const msgpack_object *root);
msgw_t *query_activity (logkeeper_t *self, const msgpack_object *root);
msgw_t *query_stats (logkeeper_t *self, const msgpack_object *root);

//  retention.c
void    retention_tick (logkeeper_t *self, service_t *service);
//  Start a prune now (admin op, tests); -1 when the policy is not known.
int     retention_start (logkeeper_t *self, service_t *service);
msgw_t *retention_status (logkeeper_t *self);

extern const service_op_t logkeeper_ops [];

#endif

/*  ops.c — the logs actor's interface: every op it answers, listed once
    (logkeeper_ops, at the bottom). docs/BUS_OPS.md (section logs) is the
    contract.

    `ingest` is the write path of every publisher's log spool: a batch
    {"source", "records": [...]} of at most 1000 records. A record that
    does not decode is refused alone and counted (`rejected`); the others
    are written in one transaction. The reply is sent only after the
    commit, so an acknowledged record is on disk; if the write fails the
    reply is an error and the spool sends the batch again.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "logkeeper.h"

static void
s_ingest (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    logkeeper_t *self = state;
    const msgpack_object *root = msg_root (request);
    char source [65];
    const msgpack_object *records = NULL;
    msg_field_t got = msg_get_cstr (root, "source", source, sizeof source);
    bool source_ok = got == MSG_FIELD_OK && *source;
    for (const char *c = source; source_ok && *c; c++)
        source_ok = *c >= 0x20 && *c < 0x7f;
    if (!source_ok) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST,
                                 "'source' must be 1..64 bytes of printable ASCII");
        return;
    }
    if (msg_get_array (root, "records", &records) != MSG_FIELD_OK
    ||  records->via.array.size < 1 || records->via.array.size > LK_BATCH_MAX) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST,
                                 "'records' must be an array of 1..1000 records");
        return;
    }
    size_t count = records->via.array.size, rejected = 0;
    lk_record_t *decoded = calloc (count, sizeof *decoded);
    if (!decoded)
        return;                             //  internal: the spool resends
    char why [128] = "";
    for (size_t i = 0; i < count; i++) {
        char reason [128];
        if (lk_record_decode (&records->via.array.ptr [i], source, &decoded [i],
                              reason, sizeof reason)) {
            if (!rejected)
                snprintf (why, sizeof why, "%s", reason);
            rejected++;
        }
    }
    if (rejected) {
        self->rejected += rejected;
        log_warn ("ingest from %s: %zu of %zu record(s) refused (first: %s)",
                  source, rejected, count, why);
    }
    size_t accepted = 0, duplicates = 0;
    if (store_ingest (self, service, decoded, count, &accepted, &duplicates) == 0) {
        *reply = msgw_new ();
        msgw_map (*reply, 4);
        msgw_kv_bool (*reply, "ok", true);
        msgw_kv_int (*reply, "accepted", (int64_t) accepted);
        msgw_kv_int (*reply, "duplicates", (int64_t) duplicates);
        msgw_kv_int (*reply, "rejected", (int64_t) rejected);
    }
    else
        *reply = msgw_error_new (BUS_ERR_UNAVAILABLE, "the log database could not be written");
    for (size_t i = 0; i < count; i++)
        lk_record_clear (&decoded [i]);
    free (decoded);
}

static void
s_exec_query (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    *reply = query_exec (state, msg_root (request));
}

static void
s_activity_query (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    *reply = query_activity (state, msg_root (request));
}

static void
s_exec_stats (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    *reply = query_stats (state, msg_root (request));
}

static void
s_retention_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    *reply = retention_status (state);
}

static void
s_retention_prune (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) request;
    if (retention_start (state, service))
        *reply = msgw_error_new (BUS_ERR_UNAVAILABLE,
                                 "log_retention_days is not known yet (approval not answering)");
    else
        *reply = retention_status (state);
}

const service_op_t logkeeper_ops [] = {
    { "ingest",          s_ingest          },   //  a spool's batch -> rows
    { "exec.query",      s_exec_query      },   //  execution log, filtered, paged
    { "activity.query",  s_activity_query  },   //  activity log, filtered, paged
    { "exec.stats",      s_exec_stats      },   //  per tool: calls, errors, p50/p95
    { "retention.get",   s_retention_get   },   //  window, prune state, counters
    { "retention.prune", s_retention_prune },   //  start a prune now
    { NULL, NULL }
};

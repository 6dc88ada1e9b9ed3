/*  logspool.h — a publisher's bounded spool of log records, delivered to
    logkeeper as acknowledged bus requests.

    Every process that writes to the execution log or the activity log
    owns one spool. Adding a record never blocks and never waits for
    logkeeper: it encodes the record (redacted and truncated, see
    log_redact.h), gives it a record id, and queues it. A background
    thread owned by the spool sends the queue in batches to service `logs`
    (op `ingest`) and keeps every record until logkeeper acknowledges its
    batch. A batch that is not acknowledged (timeout, worker_lost,
    no_worker, unavailable, a broker restart) is sent again, the same
    records with the same ids, after a backoff (100 ms doubling to 5 s);
    logkeeper inserts idempotently on the record id, so a resend after a
    lost acknowledgement writes nothing twice.

    Bounds. The spool holds at most max_records records and max_bytes
    bytes of encoded records (defaults 20,000 and 32 MiB), in flight or
    queued. A record that does not fit is dropped and counted, never
    silently: the counts are in logspool_stats (and in the process's
    health answer), and once there is room again the spool queues one
    activity record of type `logs.dropped` (level error) with the number
    lost since the last such record. A record that logkeeper refuses as
    malformed is counted as `rejected` the same way. On destroy the spool
    tries for up to linger_ms to deliver what it holds; what is left is
    counted as dropped and written to the process log.

    Record ids are "<16 hex random>-<sequence>", unique per spool instance
    and so across restarts of the process.

    Thread-safe: any thread may add records; the stats are a snapshot.
*/
#ifndef MCPBOX_LOGSPOOL_H
#define MCPBOX_LOGSPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct _logspool_t logspool_t;

typedef struct {
    size_t max_records;     //  records held at once (0: 20000)
    size_t max_bytes;       //  encoded bytes held at once (0: 32 MiB)
    size_t batch_records;   //  records per ingest request (0: 500)
    size_t batch_bytes;     //  bytes per ingest request (0: 1 MiB)
    int    ack_timeout_ms;  //  wait for an acknowledgement (0: 5000)
    int    backoff_max_ms;  //  longest pause between resends (0: 5000)
    int    linger_ms;       //  on destroy, try this long (0: two heartbeats,
                            //  2 s by default; <0: none)
    const char *service;    //  logkeeper's service name (NULL: "logs")
} logspool_config_t;

typedef struct {
    uint64_t added;         //  records accepted into the spool
    uint64_t acked;         //  records logkeeper acknowledged
    uint64_t dropped;       //  records lost at a bound (or at shutdown)
    uint64_t rejected;      //  records logkeeper refused as malformed
    uint64_t resends;       //  batches sent again
    uint64_t batches;       //  batches acknowledged
    size_t   queued;        //  records held now (in flight included)
    size_t   bytes;         //  their encoded size
    int64_t  oldest_age_ms; //  how long the oldest record held has waited
                            //  (0: none held): the ingestion lag
} logspool_stats_t;

//  endpoint: the broker; source: this process's name ("mcpbox-gateway"),
//  recorded with every record. config NULL: the defaults. NULL when the
//  arguments are bad or the thread could not start.
logspool_t *logspool_new (const char *endpoint, const char *source,
                          const logspool_config_t *config);
//  Stops the thread after the linger described above.
void        logspool_destroy (logspool_t **self_p);

//  Levels of an activity record.
#define LOGSPOOL_DEBUG   "debug"
#define LOGSPOOL_INFO    "info"
#define LOGSPOOL_WARNING "warning"
#define LOGSPOOL_ERROR   "error"

//  One activity record. type: 1..64 of [a-z0-9_.] starting with a letter
//  ("server.created"); level: one of the four above; server_id: NULL or
//  1..64 bytes; message: up to 2000 bytes kept (truncated with a marker);
//  details_json: NULL or the text of a JSON object (secret-looking keys
//  redacted, at most 16 KB encoded). Returns 0 when queued, -1 when the
//  arguments are invalid (nothing queued, nothing counted) and -2 when
//  the spool is full (counted as dropped).
int logspool_activity (logspool_t *self, const char *type, const char *level,
                       const char *server_id, const char *message,
                       const char *details_json);
//  The same with details as a jansson object (borrowed; NULL for none).
int logspool_activity_json (logspool_t *self, const char *type,
                            const char *level, const char *server_id,
                            const char *message, const json_t *details);

//  One execution log record. Strings may be NULL. args is borrowed and
//  redacted in a copy: pass the executor's `args_redacted` when there is
//  one. result/stdout/error are truncated to 10/10/5 KB with a marker.
typedef struct {
    const char   *tool_id;
    const char   *tool_name;    //  the tool's own name ("weather")
    const char   *server_id;
    const char   *server_name;
    const char   *request_id;   //  JSON-RPC id as text, or another id
    const char   *client_name;  //  MCP clientInfo.name
    const char   *session_id;   //  MCP session id
    const json_t *args;         //  the input arguments (an object)
    const char   *result;       //  the result as text (JSON or a string)
    const char   *stdout_text;
    const char   *error;
    int64_t       duration_ms;
    bool          success;
    bool          is_test;      //  mcpbox_test_code, not a tools/call
    const char   *executed_by;  //  who asked: "mcp:<client>", "admin:<user>"
} logspool_exec_t;

//  Returns 0 when queued, -1 invalid, -2 full (counted as dropped).
int logspool_exec (logspool_t *self, const logspool_exec_t *record);

void logspool_stats (logspool_t *self, logspool_stats_t *stats);

//  Wait until everything added so far is acknowledged or timeout_ms has
//  passed; true when the spool is empty. For tests and orderly shutdown.
bool logspool_flush (logspool_t *self, int timeout_ms);

#endif

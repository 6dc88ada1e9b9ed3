/*  test_logspool.c — the publisher's log spool against the real broker
    (in-process) and a hand-driven `logs` worker: bounds and loss
    counting, the loss report, resends after a lost acknowledgement with
    the same record ids, refused batches, redaction and truncation, and
    what shutdown does with records nobody acknowledged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include "broker.h"
#include "bus.h"
#include "json_msgpack.h"
#include "log_redact.h"
#include "logspool.h"

typedef struct {
    char              dir [64];
    char              endpoint [128];
    broker_config_t   config;
    zactor_t         *broker;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    strcpy (f->dir, "/tmp/mbspoolXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/bus", f->dir);
    f->config = (broker_config_t) { .endpoint = f->endpoint };
    f->broker = zactor_new (broker_actor, &f->config);
    assert_non_null (f->broker);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    zactor_destroy (&f->broker);
    char command [128];
    snprintf (command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal (system (command), 0);
    free (f);
    return 0;
}

//  What the fake logkeeper saw: every record as JSON, by rid.
typedef struct {
    json_t *by_rid;             //  rid -> record (JSON)
    size_t  received;           //  records received, duplicates included
    size_t  batches;
} seen_t;

//  Take one ingest request; answer it with `reply` ("ok", "none" to drop
//  it unanswered, "bad" for bad_request). Returns the batch size or -1.
static int
s_serve_one (bus_worker_t *worker, seen_t *seen, const char *reply, int wait_ms)
{
    bus_request_t *request = bus_worker_recv (worker, wait_ms);
    if (!request)
        return -1;
    size_t size;
    const void *body = bus_request_body (request, &size);
    const char *why = NULL;
    msg_t *msg = msg_decode (body, size, NULL, &why);
    assert_non_null (msg);
    assert_string_equal (msg_op (msg), "ingest");
    const msgpack_object *records = NULL;
    assert_int_equal (msg_get_array (msg_root (msg), "records", &records), MSG_FIELD_OK);
    int count = (int) records->via.array.size;
    for (int i = 0; i < count; i++) {
        json_t *record = json_from_msgpack (&records->via.array.ptr [i]);
        assert_non_null (record);
        const char *rid = json_string_value (json_object_get (record, "rid"));
        assert_non_null (rid);
        json_object_set_new (seen->by_rid, rid, record);
        seen->received++;
    }
    seen->batches++;
    msg_destroy (&msg);
    if (strcmp (reply, "none") == 0) {
        bus_request_destroy (&request);
        return count;
    }
    msgw_t *w = strcmp (reply, "bad") == 0
              ? msgw_error_new (BUS_ERR_BAD_REQUEST, "no")
              : msgw_new ();
    if (strcmp (reply, "ok") == 0) {
        msgw_map (w, 2);
        msgw_kv_bool (w, "ok", true);
        msgw_kv_int (w, "accepted", count);
    }
    assert_int_equal (bus_worker_reply (worker, &request, msgw_data (w), msgw_size (w)), 0);
    msgw_destroy (&w);
    return count;
}

//  Serve with "ok" until the spool is empty (bounded).
static void
s_serve_until_empty (bus_worker_t *worker, seen_t *seen, logspool_t *spool)
{
    for (int round = 0; round < 200; round++) {
        logspool_stats_t stats;
        logspool_stats (spool, &stats);
        if (stats.queued == 0)
            return;
        s_serve_one (worker, seen, "ok", 100);
    }
    fail_msg ("the spool did not drain");
}

static void
test_bounds_and_loss_report (void **state)
{
    fixture_t *f = *state;
    logspool_config_t config = { .max_records = 5, .linger_ms = -1 };
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", &config);
    assert_non_null (spool);
    //  nobody serves `logs` yet: the first five wait, the rest are dropped
    for (int i = 0; i < 8; i++) {
        char message [32];
        snprintf (message, sizeof message, "event %d", i);
        int rc = logspool_activity (spool, "test.event", LOGSPOOL_INFO, NULL, message, NULL);
        assert_int_equal (rc, i < 5 ? 0 : -2);
    }
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    assert_int_equal (stats.added, 5);
    assert_int_equal (stats.dropped, 3);
    assert_int_equal (stats.queued, 5);

    bus_worker_t *worker = bus_worker_new (f->endpoint, "logs", 8, NULL);
    seen_t seen = { .by_rid = json_object () };
    s_serve_until_empty (worker, &seen, spool);
    //  room came back: the loss is reported as an activity record
    s_serve_until_empty (worker, &seen, spool);
    logspool_stats (spool, &stats);
    assert_int_equal (stats.acked, 6);
    assert_int_equal (stats.dropped, 3);
    assert_int_equal (json_object_size (seen.by_rid), 6);
    const char *rid;
    json_t *record, *report = NULL;
    json_object_foreach (seen.by_rid, rid, record)
        if (strcmp (json_string_value (json_object_get (record, "type")), "logs.dropped") == 0)
            report = record;
    assert_non_null (report);
    assert_string_equal (json_string_value (json_object_get (report, "level")), "error");
    assert_string_equal (json_string_value (json_object_get (report, "source")), "test-proc");
    json_t *details = json_object_get (report, "details");
    assert_int_equal (json_integer_value (json_object_get (details, "dropped")), 3);
    //  one report per loss: nothing more is queued
    assert_true (logspool_flush (spool, 100));
    json_decref (seen.by_rid);
    logspool_destroy (&spool);
    bus_worker_destroy (&worker);
}

static void
test_byte_bound (void **state)
{
    fixture_t *f = *state;
    logspool_config_t config = { .max_bytes = 3000, .linger_ms = -1 };
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", &config);
    char big [3000];
    memset (big, 'x', sizeof big - 1);
    big [sizeof big - 1] = 0;
    assert_int_equal (logspool_activity (spool, "a", LOGSPOOL_INFO, NULL, big, NULL), 0);
    assert_int_equal (logspool_activity (spool, "a", LOGSPOOL_INFO, NULL, big, NULL), -2);
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    assert_int_equal (stats.dropped, 1);
    assert_true (stats.bytes <= 3000);
    logspool_destroy (&spool);
    //  at shutdown with no logkeeper, what is held is counted, not hidden
}

static void
test_resend_same_ids (void **state)
{
    fixture_t *f = *state;
    logspool_config_t config = { .ack_timeout_ms = 200, .backoff_max_ms = 200,
                                 .linger_ms = -1 };
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", &config);
    bus_worker_t *worker = bus_worker_new (f->endpoint, "logs", 8, NULL);
    for (int i = 0; i < 50; i++)
        assert_int_equal (logspool_activity (spool, "test.event", LOGSPOOL_INFO,
                                             "srv-1", "x", "{\"n\": 1}"), 0);
    seen_t seen = { .by_rid = json_object () };
    //  the first batch is taken and never acknowledged (a crash after the
    //  commit): the same records come again
    int first = -1;
    for (int tries = 0; tries < 50 && first < 0; tries++)
        first = s_serve_one (worker, &seen, "none", 100);
    assert_true (first > 0);
    size_t unique_after_first = json_object_size (seen.by_rid);
    s_serve_until_empty (worker, &seen, spool);
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    assert_true (stats.resends >= 1);
    assert_int_equal (stats.acked, 50);
    assert_int_equal (stats.dropped, 0);
    //  every record reached us at least once, the resent ones with the same ids
    assert_int_equal (json_object_size (seen.by_rid), 50);
    assert_true (seen.received >= 50 + unique_after_first);
    json_decref (seen.by_rid);
    logspool_destroy (&spool);
    bus_worker_destroy (&worker);
}

static void
test_refused_batch_counted (void **state)
{
    fixture_t *f = *state;
    logspool_config_t config = { .linger_ms = -1 };
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", &config);
    bus_worker_t *worker = bus_worker_new (f->endpoint, "logs", 8, NULL);
    for (int i = 0; i < 3; i++)
        logspool_activity (spool, "test.event", LOGSPOOL_INFO, NULL, "x", NULL);
    seen_t seen = { .by_rid = json_object () };
    int count = 0;
    while (count < 3) {
        int got = s_serve_one (worker, &seen, "bad", 1000);
        assert_true (got > 0);
        count += got;
    }
    assert_true (logspool_flush (spool, 2000));
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    assert_int_equal (stats.rejected, 3);
    assert_int_equal (stats.acked, 0);
    json_decref (seen.by_rid);
    logspool_destroy (&spool);
    bus_worker_destroy (&worker);
}

static void
test_redaction_and_truncation (void **state)
{
    fixture_t *f = *state;
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", NULL);
    bus_worker_t *worker = bus_worker_new (f->endpoint, "logs", 8, NULL);
    json_t *args = json_loads ("{\"city\": \"Oslo\", \"password\": \"hunter2\","
                               " \"nested\": [{\"X-Api-Key\": \"k1\", \"Authorization\": {\"a\": 1}}],"
                               " \"session_token\": 7, \"author\": \"me\"}", 0, NULL);
    assert_non_null (args);
    size_t big_len = LOG_RESULT_MAX + 500;
    char *big = malloc (big_len + 1);
    memset (big, 'r', big_len);
    big [big_len] = 0;
    logspool_exec_t record = {
        .tool_id = "t1", .tool_name = "weather", .server_id = "s1", .server_name = "srv",
        .request_id = "42", .client_name = "cli", .session_id = "sess", .args = args,
        .result = big, .stdout_text = "hi", .error = NULL, .duration_ms = 12,
        .success = true, .is_test = false, .executed_by = "mcp:cli",
    };
    assert_int_equal (logspool_exec (spool, &record), 0);
    assert_int_equal (logspool_activity (spool, "test.event", LOGSPOOL_INFO, NULL, "m",
                                         "{\"token\": \"abc\", \"ok\": 1}"), 0);
    //  the caller's arguments are not touched
    assert_string_equal (json_string_value (json_object_get (args, "password")), "hunter2");
    seen_t seen = { .by_rid = json_object () };
    s_serve_until_empty (worker, &seen, spool);
    const char *rid;
    json_t *got, *exec = NULL, *activity = NULL;
    json_object_foreach (seen.by_rid, rid, got) {
        if (strcmp (json_string_value (json_object_get (got, "kind")), "exec") == 0)
            exec = got;
        else
            activity = got;
    }
    assert_non_null (exec);
    assert_non_null (activity);
    char *text = json_dumps (exec, JSON_COMPACT);
    assert_null (strstr (text, "hunter2"));
    assert_null (strstr (text, "k1"));
    free (text);
    json_t *logged = json_object_get (exec, "args");
    assert_string_equal (json_string_value (json_object_get (logged, "password")), LOG_REDACTED);
    assert_string_equal (json_string_value (json_object_get (logged, "session_token")), LOG_REDACTED);
    assert_string_equal (json_string_value (json_object_get (logged, "city")), "Oslo");
    assert_string_equal (json_string_value (json_object_get (logged, "author")), "me");
    json_t *inner = json_array_get (json_object_get (logged, "nested"), 0);
    assert_string_equal (json_string_value (json_object_get (inner, "X-Api-Key")), LOG_REDACTED);
    assert_string_equal (json_string_value (json_object_get (inner, "Authorization")), LOG_REDACTED);
    const char *result = json_string_value (json_object_get (exec, "result"));
    assert_true (strlen (result) < LOG_RESULT_MAX + 64);
    assert_non_null (strstr (result, "[truncated, 10740 bytes]"));
    assert_true (json_is_null (json_object_get (exec, "error")));
    assert_true (json_is_true (json_object_get (exec, "success")));
    json_t *details = json_object_get (activity, "details");
    assert_string_equal (json_string_value (json_object_get (details, "token")), LOG_REDACTED);
    json_decref (seen.by_rid);
    json_decref (args);
    free (big);
    logspool_destroy (&spool);
    bus_worker_destroy (&worker);
}

static void
test_invalid_records_refused (void **state)
{
    fixture_t *f = *state;
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", NULL);
    assert_int_equal (logspool_activity (spool, "Bad Type", LOGSPOOL_INFO, NULL, "m", NULL), -1);
    assert_int_equal (logspool_activity (spool, "ok.type", "loud", NULL, "m", NULL), -1);
    assert_int_equal (logspool_activity (spool, "ok.type", LOGSPOOL_INFO, NULL, "m", "[1]"), -1);
    assert_int_equal (logspool_activity (spool, "ok.type", LOGSPOOL_INFO, NULL, "m", "{"), -1);
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    assert_int_equal (stats.added, 0);
    assert_int_equal (stats.dropped, 0);
    assert_null (logspool_new (f->endpoint, "", NULL));
    logspool_destroy (&spool);
}

static void
test_shutdown_counts_undelivered (void **state)
{
    fixture_t *f = *state;
    logspool_config_t config = { .linger_ms = 200 };
    logspool_t *spool = logspool_new (f->endpoint, "test-proc", &config);
    for (int i = 0; i < 4; i++)
        logspool_activity (spool, "test.event", LOGSPOOL_INFO, NULL, "x", NULL);
    int64_t start = zclock_mono ();
    logspool_destroy (&spool);         //  nobody serves: 4 lost, logged
    assert_true (zclock_mono () - start < 2000);
    assert_null (spool);
}

static void
test_truncate_utf8 (void **state)
{
    (void) state;
    //  "é" is two bytes; a cut at 3 must not split the second one
    const char *text = "\xC3\xA9\xC3\xA9\xC3\xA9";
    size_t len = 0;
    char *cut = log_truncate (text, 6, 3, &len);
    assert_memory_equal (cut, "\xC3\xA9\xE2\x80\xA6", 5);
    assert_non_null (strstr (cut, "[truncated, 6 bytes]"));
    assert_int_equal (len, strlen (cut));
    free (cut);
    cut = log_truncate ("short", 5, 10, &len);
    assert_string_equal (cut, "short");
    free (cut);
    assert_true (log_redact_key_is_secret ("API_KEY", 7));
    assert_true (log_redact_key_is_secret ("client-secret", 13));
    assert_true (log_redact_key_is_secret ("Cookie", 6));
    assert_true (log_redact_key_is_secret ("private_key", 11));
    assert_true (log_redact_key_is_secret ("pwd", 3));
    assert_false (log_redact_key_is_secret ("author", 6));
    assert_false (log_redact_key_is_secret ("city", 4));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_bounds_and_loss_report, setup, teardown),
        cmocka_unit_test_setup_teardown (test_byte_bound, setup, teardown),
        cmocka_unit_test_setup_teardown (test_resend_same_ids, setup, teardown),
        cmocka_unit_test_setup_teardown (test_refused_batch_counted, setup, teardown),
        cmocka_unit_test_setup_teardown (test_redaction_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown (test_invalid_records_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_shutdown_counts_undelivered, setup, teardown),
        cmocka_unit_test (test_truncate_utf8),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  test_http_health.c — turning a service's msgpack health reply into JSON.

    Only ok, version (a string of at most 64 bytes, valid UTF-8),
    uptime_s (an integer >= 0) and pid (an integer in 1..INT32_MAX) may
    come through; errors only as a code from the closed set.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "msg.h"
#include "http_health.h"

static char *
s_entry_text (const void *body, size_t size)
{
    json_t *entry = http_health_entry (body, size);
    assert_non_null (entry);
    char *text = json_dumps (entry, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (entry);
    return text;
}

static void
s_expect (msgw_t *w, const char *expected)
{
    char *text = s_entry_text (msgw_data (w), msgw_size (w));
    assert_string_equal (text, expected);
    free (text);
    msgw_destroy (&w);
}

static void
test_good_reply_copies_the_expected_fields (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 7);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "service", "registry");
    msgw_kv_str (w, "version", "0.1.0");
    msgw_kv_int (w, "pid", 1234);
    msgw_kv_int (w, "uptime_s", 99);
    msgw_kv_str (w, "secret", "never copied");
    msgw_str (w, "owns");
    msgw_array (w, 1);
    msgw_str (w, "tools");
    s_expect (w, "{\"ok\":true,\"pid\":1234,\"uptime_s\":99,\"version\":\"0.1.0\"}");
}

static void
test_wrong_types_and_ranges_are_left_out (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "version", 3);
    msgw_kv_str (w, "pid", "12");
    msgw_kv_int (w, "uptime_s", -1);
    s_expect (w, "{\"ok\":true}");

    w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "pid", (int64_t) 1 << 40);
    char long_version [200];
    memset (long_version, 'v', sizeof long_version - 1);
    long_version [sizeof long_version - 1] = 0;
    msgw_kv_str (w, "version", long_version);
    s_expect (w, "{\"ok\":true}");

    w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "version");
    msgw_strn (w, "\xff\xfe", 2);               //  not UTF-8
    s_expect (w, "{\"ok\":true}");
}

static void
test_errors_report_only_their_code (void **state)
{
    (void) state;
    s_expect (msgw_error_new (BUS_ERR_NO_WORKER, "<script>"),
              "{\"error\":\"no_worker\",\"ok\":false}");

    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", false);
    msgw_str (w, "error");
    msgw_map (w, 2);
    msgw_kv_str (w, "code", "made_up\"code");
    msgw_kv_str (w, "message", "m");
    s_expect (w, "{\"error\":\"internal\",\"ok\":false}");
}

static void
test_malformed_bodies_are_protocol_errors (void **state)
{
    (void) state;
    static const struct { const char *data; size_t size; } bodies [] = {
        { "\xc1", 1 },                              //  never-used byte
        { "\x93\x01\x02\x03", 4 },                  //  array, not map
        { "\x81\xa2ok", 3 },                        //  truncated
        { "\x81\xa7version\xa1x", 10 },             //  no "ok"
        { "\xdf\xff\xff\xff\xff", 5 },              //  huge declared map
        { "", 0 },
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        char *text = s_entry_text (bodies [i].data, bodies [i].size);
        assert_string_equal (text, "{\"error\":\"protocol\",\"ok\":false}");
        free (text);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_good_reply_copies_the_expected_fields),
        cmocka_unit_test (test_wrong_types_and_ranges_are_left_out),
        cmocka_unit_test (test_errors_report_only_their_code),
        cmocka_unit_test (test_malformed_bodies_are_protocol_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

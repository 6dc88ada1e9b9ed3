/*  test_live_msg.c — the /ws wire (live_msg.c): client messages accepted
    and refused as a whole, the filter's matching, and the log message
    built from a logkeeper activity event.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "live_msg.h"
#include "msg.h"

static live_msg_kind_t
s_parse (const char *text, live_filter_t *filter)
{
    const char *why = NULL;
    return live_msg_parse (text, strlen (text), filter, &why);
}

static void
test_messages (void **state)
{
    (void) state;
    live_filter_t filter;
    memset (&filter, 0, sizeof filter);
    assert_int_equal (s_parse ("{\"type\":\"ping\"}", &filter), LIVE_MSG_PING);
    assert_int_equal (s_parse ("{\"type\":\"filter\",\"server_id\":\"s-1\",\"types\":[\"tool.\"],"
                               "\"level\":\"warning\"}", &filter), LIVE_MSG_FILTER);
    assert_string_equal (filter.server_id, "s-1");
    assert_int_equal (filter.type_count, 1);
    assert_int_equal (filter.level, LIVE_LEVEL_WARNING);
    const char *bad [] = {
        "", "[]", "{}", "{\"type\":\"ping\",\"x\":1}", "{\"type\":\"filter\",\"x\":1}",
        "{\"type\":\"filter\",\"level\":\"loud\"}", "{\"type\":\"filter\",\"types\":[\"A\"]}",
        "{\"type\":\"filter\",\"server_id\":\"a b\"}", "{\"type\":\"ping\",\"type\":\"ping\"}",
        "{\"type\":\"filter\",\"types\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
        "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}", NULL
    };
    for (const char **p = bad; *p; p++) {
        live_filter_t kept = filter;
        assert_int_equal (s_parse (*p, &filter), LIVE_MSG_BAD);
        assert_memory_equal (&kept, &filter, sizeof filter);      //  untouched
    }
}

static void
test_match (void **state)
{
    (void) state;
    live_filter_t filter;
    memset (&filter, 0, sizeof filter);
    assert_true (live_filter_match (&filter, "tool.called", "info", NULL));
    assert_int_equal (s_parse ("{\"type\":\"filter\",\"server_id\":\"s1\",\"types\":[\"tool.\","
                               "\"auth.\"],\"level\":\"warning\"}", &filter), LIVE_MSG_FILTER);
    assert_true (live_filter_match (&filter, "tool.called", "warning", "s1"));
    assert_true (live_filter_match (&filter, "auth.login_failed", "error", "s1"));
    assert_false (live_filter_match (&filter, "tool.called", "info", "s1"));
    assert_false (live_filter_match (&filter, "tool.called", "error", "s2"));
    assert_false (live_filter_match (&filter, "tool.called", "error", NULL));
    assert_false (live_filter_match (&filter, "server.created", "error", "s1"));
}

static void
test_log (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 8);
    msgw_kv_int (w, "id", 7);
    msgw_kv_str (w, "type", "tool.called");
    msgw_kv_str (w, "level", "info");
    msgw_kv_str (w, "server_id", "s1");
    msgw_kv_str (w, "message", "<script>x</script>");
    msgw_str (w, "details");
    msgw_nil (w);
    msgw_kv_str (w, "source", "mcpbox-gateway");
    msgw_kv_str (w, "created_at", "2026-12-05T20:00:00Z");
    const char *type, *level, *server_id;
    json_t *log = live_msg_log (msgw_data (w), msgw_size (w), &type, &level, &server_id);
    assert_non_null (log);
    assert_string_equal (type, "tool.called");
    assert_string_equal (server_id, "s1");
    json_t *data = json_object_get (log, "data");
    assert_int_equal (json_integer_value (json_object_get (data, "id")), 7);
    assert_true (json_is_null (json_object_get (data, "details")));
    json_decref (log);
    //  not a record
    assert_null (live_msg_log (msgw_data (w), msgw_size (w) - 3, &type, &level, &server_id));
    assert_null (live_msg_log ("\x90", 1, &type, &level, &server_id));
    msgw_destroy (&w);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_messages),
        cmocka_unit_test (test_match),
        cmocka_unit_test (test_log),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

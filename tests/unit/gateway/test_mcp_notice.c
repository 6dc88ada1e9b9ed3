/*  test_mcp_notice.c — a sandbox call's notice as the MCP notification its
    client asked for (actors/gateway/mcp_notice.c): progress only with a
    progress token (string or integer, echoed as is), log lines only at or
    above the client's level and never without one, the tool named as the
    logger, and malformed notices (not msgpack, unknown kinds or keys, bad
    numbers, NUL, oversize) refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "json_msgpack.h"
#include "msg.h"
#include "mcp_notice.h"

static msgw_t *
s_pack (const char *json)
{
    json_t *value = json_loads (json, JSON_ALLOW_NUL, NULL);
    assert_non_null (value);
    msgw_t *w = msgw_new ();
    assert_int_equal (msgw_json (w, value), 0);
    json_decref (value);
    return w;
}

static mcp_notice_status_t
s_render (const char *json, const json_t *token, int rank, json_t **out)
{
    msgw_t *w = s_pack (json);
    mcp_notice_status_t status = mcp_notice_render (msgw_data (w), msgw_size (w), token, rank,
                                                    "srv__tool", out);
    msgw_destroy (&w);
    return status;
}

static void
test_progress (void **state)
{
    (void) state;
    json_t *token = json_string ("tok-1"), *out = NULL;
    const char *p = "{\"kind\":\"progress\",\"progress\":2.0,\"total\":4.0,\"message\":\"half\"}";
    assert_int_equal (s_render (p, token, -1, &out), MCP_NOTICE_SEND);
    assert_string_equal (json_string_value (json_object_get (out, "method")), "notifications/progress");
    json_t *params = json_object_get (out, "params");
    assert_true (json_equal (json_object_get (params, "progressToken"), token));
    assert_true (json_number_value (json_object_get (params, "progress")) == 2.0);
    assert_true (json_number_value (json_object_get (params, "total")) == 4.0);
    assert_string_equal (json_string_value (json_object_get (params, "message")), "half");
    json_decref (out);
    json_decref (token);
    token = json_integer (7);
    assert_int_equal (s_render (p, token, -1, &out), MCP_NOTICE_SEND);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (out, "params"),
                                                           "progressToken")), 7);
    json_decref (out);
    json_decref (token);
    //  no token (or one of another type): not sent
    assert_int_equal (s_render (p, NULL, 0, &out), MCP_NOTICE_FILTERED);
    assert_null (out);
    token = json_real (1.5);
    assert_int_equal (s_render (p, token, 0, &out), MCP_NOTICE_FILTERED);
    json_decref (token);
}

static void
test_log_levels (void **state)
{
    (void) state;
    json_t *out = NULL;
    const char *warning = "{\"kind\":\"log\",\"level\":\"warning\",\"data\":\"careful\"}";
    assert_int_equal (s_render (warning, NULL, -1, &out), MCP_NOTICE_FILTERED);
    assert_int_equal (s_render (warning, NULL, mcp_notice_level_rank ("error"), &out),
                      MCP_NOTICE_FILTERED);
    assert_int_equal (s_render (warning, NULL, mcp_notice_level_rank ("warning"), &out),
                      MCP_NOTICE_SEND);
    assert_string_equal (json_string_value (json_object_get (out, "method")), "notifications/message");
    json_t *params = json_object_get (out, "params");
    assert_string_equal (json_string_value (json_object_get (params, "level")), "warning");
    assert_string_equal (json_string_value (json_object_get (params, "data")), "careful");
    assert_string_equal (json_string_value (json_object_get (params, "logger")), "srv__tool");
    json_decref (out);
    assert_int_equal (s_render (warning, NULL, 0, &out), MCP_NOTICE_SEND);
    json_decref (out);
    assert_int_equal (mcp_notice_level_rank ("emergency"), 7);
    assert_int_equal (mcp_notice_level_rank ("fatal"), -1);
}

static void
test_malformed (void **state)
{
    (void) state;
    json_t *token = json_string ("t"), *out = NULL;
    const char *bad [] = {
        "{}",
        "{\"kind\":\"result\"}",
        "{\"kind\":\"progress\"}",
        "{\"kind\":\"progress\",\"progress\":-1.0}",
        "{\"kind\":\"progress\",\"progress\":\"1\"}",
        "{\"kind\":\"progress\",\"progress\":1,\"total\":true}",
        "{\"kind\":\"progress\",\"progress\":1,\"progressToken\":\"other\"}",
        "{\"kind\":\"log\",\"level\":\"loud\",\"data\":\"x\"}",
        "{\"kind\":\"log\",\"level\":\"info\",\"data\":1}",
        "{\"kind\":\"log\",\"level\":\"info\",\"data\":\"a\\u0000b\"}",
        "{\"kind\":\"log\",\"level\":\"info\",\"data\":\"x\",\"method\":\"notifications/cancelled\"}",
        NULL
    };
    for (int i = 0; bad [i]; i++)
        if (s_render (bad [i], token, 0, &out) != MCP_NOTICE_MALFORMED)
            fail_msg ("not refused: %s", bad [i]);
    //  not msgpack, not a map, too long a text
    assert_int_equal (mcp_notice_render ("\xc1", 1, token, 0, NULL, &out), MCP_NOTICE_MALFORMED);
    assert_int_equal (mcp_notice_render ("\x93\x01\x02\x03", 4, token, 0, NULL, &out),
                      MCP_NOTICE_MALFORMED);
    char big [MCP_NOTICE_TEXT_MAX + 100];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = 0;
    json_t *notice = json_pack ("{s:s, s:s, s:s}", "kind", "log", "level", "info", "data", big);
    msgw_t *w = msgw_new ();
    msgw_json (w, notice);
    assert_int_equal (mcp_notice_render (msgw_data (w), msgw_size (w), token, 0, NULL, &out),
                      MCP_NOTICE_MALFORMED);
    msgw_destroy (&w);
    json_decref (notice);
    json_decref (token);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_progress),
        cmocka_unit_test (test_log_levels),
        cmocka_unit_test (test_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

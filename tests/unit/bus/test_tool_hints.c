/*  test_tool_hints.c — MCP tool annotations read from a request map: the
    four hints only, booleans only, each once, written back canonically
    (fixed order, compact) so a suggestion and a review compare as text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "msg.h"
#include "tool_hints.h"

//  Unpack a request built by the caller, without msg_decode's checks (which
//  refuse duplicate and non-string keys before any handler sees them): the
//  reader must stand on its own, as in fuzz_tool_hints.
static int
s_read (msgw_t *w, char out [TOOL_HINTS_JSON_MAX], bus_err_t *err)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, msgw_data (w), msgw_size (w), NULL),
                      MSGPACK_UNPACK_SUCCESS);
    memset (err, 0, sizeof *err);
    int rc = tool_hints_read (&unpacked.data, "annotations", out, err);
    msgpack_unpacked_destroy (&unpacked);
    msgw_destroy (&w);
    return rc;
}

static msgw_t *
s_with (size_t pairs)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_str (w, "op", "x");
    msgw_str (w, "annotations");
    msgw_map (w, pairs);
    return w;
}

static void
test_canonical (void **state)
{
    (void) state;
    char out [TOOL_HINTS_JSON_MAX];
    bus_err_t err;
    //  any order in, the fixed order out
    msgw_t *w = s_with (3);
    msgw_kv_bool (w, "openWorldHint", false);
    msgw_kv_bool (w, "readOnlyHint", true);
    msgw_kv_bool (w, "idempotentHint", true);
    assert_int_equal (s_read (w, out, &err), 0);
    assert_string_equal (out, "{\"readOnlyHint\":true,\"idempotentHint\":true,"
                              "\"openWorldHint\":false}");
    //  all four fit the buffer
    w = s_with (4);
    for (size_t i = 0; i < TOOL_HINTS_COUNT; i++)
        msgw_kv_bool (w, tool_hints_names [i], true);
    assert_int_equal (s_read (w, out, &err), 0);
    assert_string_equal (out, "{\"readOnlyHint\":true,\"destructiveHint\":true,"
                              "\"idempotentHint\":true,\"openWorldHint\":true}");
    //  an empty object says "no hints", and is kept as such
    w = s_with (0);
    assert_int_equal (s_read (w, out, &err), 0);
    assert_string_equal (out, "{}");
}

static void
test_absent (void **state)
{
    (void) state;
    char out [TOOL_HINTS_JSON_MAX];
    bus_err_t err;
    msgw_t *w = msgw_new ();
    msgw_map (w, 1);
    msgw_kv_str (w, "op", "x");
    assert_int_equal (s_read (w, out, &err), 1);
    assert_string_equal (out, "");
    w = msgw_new ();
    msgw_map (w, 1);
    msgw_str (w, "annotations");
    msgw_nil (w);
    assert_int_equal (s_read (w, out, &err), 1);
}

static void
test_refused (void **state)
{
    (void) state;
    char out [TOOL_HINTS_JSON_MAX];
    bus_err_t err;
    //  not a map
    msgw_t *w = msgw_new ();
    msgw_map (w, 1);
    msgw_kv_str (w, "annotations", "readOnlyHint");
    assert_int_equal (s_read (w, out, &err), -1);
    assert_int_equal (err.code, BUS_ERR_BAD_REQUEST);
    assert_non_null (strstr (err.message, "annotations: must be an object"));
    //  an unknown hint (title is not a hint: it has its own field)
    w = s_with (1);
    msgw_kv_str (w, "title", "x");
    assert_int_equal (s_read (w, out, &err), -1);
    assert_non_null (strstr (err.message, "unknown hint 'title'"));
    //  a value that is not a boolean
    w = s_with (1);
    msgw_kv_int (w, "readOnlyHint", 1);
    assert_int_equal (s_read (w, out, &err), -1);
    assert_non_null (strstr (err.message, "annotations.readOnlyHint: must be true or false"));
    //  named twice
    w = s_with (2);
    msgw_kv_bool (w, "readOnlyHint", true);
    msgw_kv_bool (w, "readOnlyHint", false);
    assert_int_equal (s_read (w, out, &err), -1);
    assert_non_null (strstr (err.message, "named twice"));
    //  a key that is not a string
    w = s_with (1);
    msgw_int (w, 7);
    msgw_bool (w, true);
    assert_int_equal (s_read (w, out, &err), -1);
    assert_non_null (strstr (err.message, "unknown hint"));
    //  a long or NUL-carrying key is not echoed
    w = s_with (1);
    msgw_strn (w, "read\0OnlyHint", 13);
    msgw_bool (w, true);
    assert_int_equal (s_read (w, out, &err), -1);
    assert_non_null (strstr (err.message, "annotations: unknown hint (readOnlyHint"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_canonical),
        cmocka_unit_test (test_absent),
        cmocka_unit_test (test_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  test_msg.c — the msgpack body codec, including hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "msg.h"

static msg_t *
s_decode (const void *data, size_t size)
{
    const char *why = NULL;
    msg_t *msg = msg_decode (data, size, NULL, &why);
    if (!msg)
        assert_non_null (why);
    return msg;
}

static void
test_roundtrip (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 5);
    msgw_kv_str (w, "op", "health");
    msgw_kv_int (w, "n", -42);
    msgw_kv_bool (w, "flag", true);
    msgw_str (w, "nested");
    msgw_map (w, 1);
    msgw_kv_str (w, "k", "v");
    msgw_str (w, "list");
    msgw_array (w, 2);
    msgw_int (w, 1);
    msgw_str (w, NULL);

    msg_t *msg = s_decode (msgw_data (w), msgw_size (w));
    assert_non_null (msg);
    assert_string_equal (msg_op (msg), "health");
    int64_t n = 0;
    assert_int_equal (msg_get_int (msg_root (msg), "n", &n), MSG_FIELD_OK);
    assert_int_equal (n, -42);
    bool flag = false;
    assert_int_equal (msg_get_bool (msg_root (msg), "flag", &flag), MSG_FIELD_OK);
    assert_true (flag);
    const msgpack_object *nested, *list;
    assert_int_equal (msg_get_map (msg_root (msg), "nested", &nested), MSG_FIELD_OK);
    char value [8];
    assert_int_equal (msg_get_cstr (nested, "k", value, sizeof value), MSG_FIELD_OK);
    assert_string_equal (value, "v");
    assert_int_equal (msg_get_array (msg_root (msg), "list", &list), MSG_FIELD_OK);
    assert_int_equal (list->via.array.size, 2);
    //  exact types: no coercion
    assert_int_equal (msg_get_int (msg_root (msg), "op", &n), MSG_FIELD_WRONG_TYPE);
    assert_int_equal (msg_get_bool (msg_root (msg), "n", &flag), MSG_FIELD_WRONG_TYPE);
    assert_int_equal (msg_get_str (msg_root (msg), "missing", &(const char *) {0}, &(size_t) {0}),
                      MSG_FIELD_MISSING);
    char tiny [3];
    assert_int_equal (msg_get_cstr (msg_root (msg), "op", tiny, sizeof tiny), MSG_FIELD_TOO_LONG);
    msg_destroy (&msg);
    assert_null (msg);
    msgw_destroy (&w);
}

static void
test_error_reply (void **state)
{
    (void) state;
    msgw_t *w = msgw_error_new (BUS_ERR_NOT_FOUND, "no such tool");
    msg_t *msg = s_decode (msgw_data (w), msgw_size (w));
    assert_non_null (msg);
    assert_false (msg_is_ok (msg));
    assert_int_equal (msg_error_code (msg), BUS_ERR_NOT_FOUND);
    assert_string_equal (msg_error_message (msg), "no such tool");
    assert_null (msg_op (msg));
    msg_destroy (&msg);
    msgw_destroy (&w);

    //  an unknown code name maps to internal, never to "none"
    w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", false);
    msgw_str (w, "error");
    msgw_map (w, 1);
    msgw_kv_str (w, "code", "none");
    msg = s_decode (msgw_data (w), msgw_size (w));
    assert_int_equal (msg_error_code (msg), BUS_ERR_INTERNAL);
    msg_destroy (&msg);
    msgw_destroy (&w);

    assert_int_equal (bus_error_from_name ("worker_lost", 11), BUS_ERR_WORKER_LOST);
    assert_int_equal (bus_error_from_name ("bogus", 5), BUS_ERR_INTERNAL);
    assert_string_equal (bus_error_name (BUS_ERR_NO_WORKER), "no_worker");
    assert_string_equal (bus_error_name ((bus_error_t) 999), "internal");
}

static void
test_op_rules (void **state)
{
    (void) state;
    //  op with an embedded NUL is not an op
    const uint8_t nul_op [] = { 0x81, 0xa2, 'o', 'p', 0xa3, 'a', 0x00, 'b' };
    msg_t *msg = s_decode (nul_op, sizeof nul_op);
    assert_non_null (msg);
    assert_null (msg_op (msg));
    msg_destroy (&msg);
    //  op of the wrong type
    const uint8_t int_op [] = { 0x81, 0xa2, 'o', 'p', 0x07 };
    msg = s_decode (int_op, sizeof int_op);
    assert_null (msg_op (msg));
    msg_destroy (&msg);
}

typedef struct { const char *name; const uint8_t *data; size_t size; } hostile_t;

static void
test_hostile (void **state)
{
    (void) state;
    static const uint8_t not_map [] = { 0x91, 0x01 };
    static const uint8_t truncated [] = { 0x82, 0xa1, 'a' };
    static const uint8_t huge_array [] = { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t huge_map [] = { 0xdf, 0x7f, 0xff, 0xff, 0xff };
    static const uint8_t huge_str [] = { 0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x' };
    static const uint8_t ext [] = { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x02 };
    static const uint8_t reserved [] = { 0x81, 0xa1, 'a', 0xc1 };
    static const uint8_t trailing [] = { 0x80, 0x00 };
    static const uint8_t int_key [] = { 0x81, 0x01, 0x02 };
    static const uint8_t dup_key [] = { 0x82, 0xa2, 'o', 'p', 0x01, 0xa2, 'o', 'p', 0x02 };
    static const uint8_t empty [] = { 0 };
    static const uint8_t short_len [] = { 0x81, 0xa1, 'a', 0xda, 0x00 };
    hostile_t cases [] = {
        { "not a map", not_map, sizeof not_map },
        { "truncated", truncated, sizeof truncated },
        { "array claims 4G items", huge_array, sizeof huge_array },
        { "map claims 2G pairs", huge_map, sizeof huge_map },
        { "str claims 4 GiB", huge_str, sizeof huge_str },
        { "extension type", ext, sizeof ext },
        { "reserved 0xc1", reserved, sizeof reserved },
        { "trailing bytes", trailing, sizeof trailing },
        { "integer key", int_key, sizeof int_key },
        { "duplicate key", dup_key, sizeof dup_key },
        { "zero length", empty, 0 },
        { "truncated length prefix", short_len, sizeof short_len },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const char *why = NULL;
        msg_t *msg = msg_decode (cases [i].data, cases [i].size, NULL, &why);
        if (msg)
            fail_msg ("accepted hostile input: %s", cases [i].name);
        assert_non_null (why);
    }
    assert_null (msg_decode (NULL, 10, NULL, NULL));
}

static void
test_depth_and_limits (void **state)
{
    (void) state;
    //  {"a": [[[[...]]]]} nested past the limit
    uint8_t deep [200];
    size_t n = 0;
    deep [n++] = 0x81;
    deep [n++] = 0xa1;
    deep [n++] = 'a';
    for (int i = 0; i < 100; i++)
        deep [n++] = 0x91;
    deep [n++] = 0x00;
    assert_null (s_decode (deep, n));

    //  exactly at the depth limit is fine
    msg_limits_t limits = msg_default_limits;
    limits.max_depth = 4;           //  root map + 3 arrays
    n = 3;
    for (int i = 0; i < 3; i++)
        deep [n++] = 0x91;
    deep [n++] = 0x00;
    const char *why;
    msg_t *msg = msg_decode (deep, n, &limits, &why);
    assert_non_null (msg);
    msg_destroy (&msg);
    limits.max_depth = 3;
    assert_null (msg_decode (deep, n, &limits, &why));
    assert_string_equal (why, "nested too deeply");

    //  size and item limits
    limits = msg_default_limits;
    limits.max_size = 4;
    assert_null (msg_decode (deep, n, &limits, &why));
    assert_string_equal (why, "body too large");
    limits = msg_default_limits;
    limits.max_items = 3;
    assert_null (msg_decode (deep, n, &limits, &why));
    assert_string_equal (why, "too many items");
    limits = msg_default_limits;
    limits.max_str = 2;
    msgw_t *w = msgw_op_new ("health");
    assert_null (msg_decode (msgw_data (w), msgw_size (w), &limits, &why));
    assert_string_equal (why, "string too long");
    msgw_destroy (&w);
}

//  Every prefix of a valid body is refused, and never read past.
static void
test_all_truncations (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_str (w, "op", "tools.call");
    msgw_kv_int (w, "big", 1234567890123LL);
    msgw_str (w, "args");
    msgw_array (w, 3);
    msgw_str (w, "x");
    msgw_bool (w, false);
    msgw_nil (w);
    size_t size = msgw_size (w);
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1);
        memcpy (copy, msgw_data (w), cut);
        assert_null (s_decode (copy, cut));
        free (copy);
    }
    msg_t *msg = s_decode (msgw_data (w), size);
    assert_non_null (msg);
    msg_destroy (&msg);
    msgw_destroy (&w);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_roundtrip),
        cmocka_unit_test (test_error_reply),
        cmocka_unit_test (test_op_rules),
        cmocka_unit_test (test_hostile),
        cmocka_unit_test (test_depth_and_limits),
        cmocka_unit_test (test_all_truncations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

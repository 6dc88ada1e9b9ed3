/*  test_registry_validate.c — what the registry accepts in a request field
    (actors/registry/validate.c): UTF-8 without NUL, character counts,
    server and tool names, UUIDs, and the typed field readers, each refusal
    a bad_request whose message starts with the field name.

    Links registry_core (see actors/registry/CMakeLists.txt).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "registry.h"

//  A decoded request built with the msgw encoder; the caller destroys it.
static msg_t *
s_decode (msgw_t *w)
{
    const char *why = NULL;
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, &why);
    assert_non_null (msg);
    return msg;
}

static void
s_refused (const bus_err_t *err, const char *field)
{
    assert_int_equal (err->code, BUS_ERR_BAD_REQUEST);
    assert_int_equal (strncmp (err->message, field, strlen (field)), 0);
    assert_int_equal (err->message [strlen (field)], ':');
}

static void
test_utf8 (void **state)
{
    (void) state;
    assert_true (utf8_valid ("", 0));
    assert_true (utf8_valid ("plain text", 10));
    assert_true (utf8_valid ("\xc3\xa9", 2));                //  é
    assert_true (utf8_valid ("\xe2\x82\xac", 3));            //  €
    assert_true (utf8_valid ("\xf0\x9f\x98\x80", 4));        //  😀
    assert_true (utf8_valid ("\xf4\x8f\xbf\xbf", 4));        //  U+10FFFF
    assert_false (utf8_valid ("a\0b", 3));                   //  NUL
    assert_false (utf8_valid ("\xc0\x80", 2));               //  overlong NUL
    assert_false (utf8_valid ("\xe0\x80\xaf", 3));           //  overlong '/'
    assert_false (utf8_valid ("\xed\xa0\x80", 3));           //  surrogate
    assert_false (utf8_valid ("\xf4\x90\x80\x80", 4));       //  > U+10FFFF
    assert_false (utf8_valid ("\xe2\x82", 2));               //  truncated
    assert_false (utf8_valid ("\xc3", 1));
    assert_false (utf8_valid ("\x80", 1));                   //  stray continuation
    assert_false (utf8_valid ("\xf8\x88\x80\x80\x80", 5));
    assert_false (utf8_valid ("\xc3\x28", 2));               //  bad continuation
    assert_false (utf8_valid ("\xff", 1));

    assert_int_equal (utf8_chars ("", 0), 0);
    assert_int_equal (utf8_chars ("abc", 3), 3);
    assert_int_equal (utf8_chars ("\xc3\xa9\xc3\xa9\xe2\x82\xac", 7), 3);
    assert_int_equal (utf8_chars ("\xf0\x9f\x98\x80x", 5), 2);
}

static void
test_server_names (void **state)
{
    (void) state;
    const char *good [] = { "a", "weather", "a1", "a_b", "a_b_c9", "z9_", NULL };
    const char *bad [] = { "", "A", "Weather", "1a", "_a", "a-b", "a b", "a.b", "a__b",
                           "ab__", "__", "a\xc3\xa9", NULL };
    bus_err_t err;
    for (int i = 0; good [i]; i++)
        assert_int_equal (validate_server_name ("name", good [i], strlen (good [i]), &err), 0);
    for (int i = 0; bad [i]; i++) {
        memset (&err, 0, sizeof err);
        assert_int_equal (validate_server_name ("name", bad [i], strlen (bad [i]), &err), -1);
        s_refused (&err, "name");
    }
    //  61: room for "__" and a one-letter tool within the 64 clients accept
    char long_name [REG_SERVER_NAME_MAX + 2];
    memset (long_name, 'a', sizeof long_name);
    assert_int_equal (validate_server_name ("name", long_name, 61, &err), 0);
    assert_int_equal (validate_server_name ("name", long_name, 62, &err), -1);
    s_refused (&err, "name");
    assert_non_null (strstr (err.message, "61"));
    assert_non_null (strstr (err.message, "64"));
}

static void
test_tool_names (void **state)
{
    (void) state;
    bus_err_t err;
    assert_int_equal (validate_tool_name ("name", "get_weather", 11, &err), 0);
    assert_int_equal (validate_tool_name ("name", "a__b", 4, &err), 0);   //  allowed here
    assert_int_equal (validate_tool_name ("name", "Get", 3, &err), -1);
    s_refused (&err, "name");
    assert_int_equal (validate_tool_name ("new_name", "", 0, &err), -1);
    s_refused (&err, "new_name");
    char long_name [REG_TOOL_NAME_MAX + 1];
    memset (long_name, 'b', sizeof long_name);
    assert_int_equal (validate_tool_name ("name", long_name, 61, &err), 0);
    assert_int_equal (validate_tool_name ("name", long_name, 62, &err), -1);
    assert_int_equal (validate_tool_name ("name", long_name, REG_TOOL_NAME_MAX, &err), -1);
}

static void
test_full_names (void **state)
{
    (void) state;
    bus_err_t err;
    //  "weather__" + 55 = 64 fits, 56 does not
    assert_int_equal (validate_full_name ("name", "weather", 7, 55, &err), 0);
    memset (&err, 0, sizeof err);
    assert_int_equal (validate_full_name ("name", "weather", 7, 56, &err), -1);
    s_refused (&err, "name");
    assert_non_null (strstr (err.message, "65 characters"));
    assert_non_null (strstr (err.message, "at most 55"));
    assert_non_null (strstr (err.message, "'weather'"));
    assert_int_equal (validate_full_name ("version", "a", 1, 61, &err), 0);
    assert_int_equal (validate_full_name ("version", "a", 1, 62, &err), -1);
    s_refused (&err, "version");
}

static void
test_uuids (void **state)
{
    (void) state;
    char out [REG_ID_LEN + 1];
    const char *lower = "0f8fad5b-d9cb-469f-a165-70867728950e";
    assert_true (ids_uuid_parse (lower, strlen (lower), out));
    assert_string_equal (out, lower);
    assert_true (ids_uuid_parse ("0F8FAD5B-D9CB-469F-A165-70867728950E", 36, out));
    assert_string_equal (out, lower);
    const char *bad [] = {
        "", "0f8fad5b", "0f8fad5b-d9cb-469f-a165-70867728950", "0f8fad5b-d9cb-469f-a165-70867728950e0",
        "0f8fad5bd-9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165_70867728950e",
        "0f8fad5g-d9cb-469f-a165-70867728950e", "{f8fad5b-d9cb-469f-a165-70867728950e", NULL
    };
    for (int i = 0; bad [i]; i++)
        assert_false (ids_uuid_parse (bad [i], strlen (bad [i]), out));
}

static void
test_field_str (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 6);
    msgw_kv_str (w, "name", "demo");
    msgw_str (w, "nil");
    msgw_nil (w);
    msgw_kv_int (w, "number", 5);
    msgw_str (w, "nul");
    msgw_strn (w, "a\0b", 3);
    msgw_kv_str (w, "accented", "\xc3\xa9\xc3\xa9\xc3\xa9");      //  3 chars, 6 bytes
    msgw_str (w, "latin1");
    msgw_strn (w, "\xe9t\xe9", 3);
    msg_t *msg = s_decode (w);
    const msgpack_object *root = msg_root (msg);
    const char *ptr;
    size_t len;
    bus_err_t err;

    assert_int_equal (field_str (root, "name", true, 0, 0, &ptr, &len, &err), 0);
    assert_int_equal (len, 4);
    assert_memory_equal (ptr, "demo", 4);
    assert_int_equal (field_str (root, "absent", false, 0, 0, &ptr, &len, &err), 1);
    assert_int_equal (len, 0);
    assert_int_equal (field_str (root, "nil", false, 0, 0, &ptr, &len, &err), 1);
    assert_int_equal (field_str (root, "absent", true, 0, 0, &ptr, &len, &err), -1);
    s_refused (&err, "absent");
    assert_int_equal (field_str (root, "nil", true, 0, 0, &ptr, &len, &err), -1);
    s_refused (&err, "nil");
    assert_int_equal (field_str (root, "number", false, 0, 0, &ptr, &len, &err), -1);
    s_refused (&err, "number");
    assert_int_equal (field_str (root, "nul", false, 0, 0, &ptr, &len, &err), -1);
    s_refused (&err, "nul");
    assert_int_equal (field_str (root, "latin1", false, 0, 0, &ptr, &len, &err), -1);
    s_refused (&err, "latin1");
    //  bounds: bytes and characters apart
    assert_int_equal (field_str (root, "accented", false, 6, 3, &ptr, &len, &err), 0);
    assert_int_equal (field_str (root, "accented", false, 5, 0, &ptr, &len, &err), -1);
    s_refused (&err, "accented");
    assert_int_equal (field_str (root, "accented", false, 0, 2, &ptr, &len, &err), -1);
    s_refused (&err, "accented");
    msg_destroy (&msg);
    msgw_destroy (&w);
}

static void
test_field_numbers_and_more (void **state)
{
    (void) state;
    msgw_t *w = msgw_new ();
    msgw_map (w, 9);
    msgw_kv_int (w, "timeout", 30000);
    msgw_kv_int (w, "negative", -5);
    msgw_str (w, "huge");
    msgpack_pack_uint64 (msgw_packer (w), UINT64_MAX);
    msgw_str (w, "float");
    msgpack_pack_double (msgw_packer (w), 1.5);
    msgw_kv_str (w, "text", "30000");
    msgw_kv_bool (w, "flag", true);
    msgw_kv_str (w, "source", "llm");
    msgw_kv_str (w, "id", "0F8FAD5B-D9CB-469F-A165-70867728950E");
    msgw_kv_str (w, "bad_id", "nope");
    msg_t *msg = s_decode (w);
    const msgpack_object *root = msg_root (msg);
    bus_err_t err;
    int64_t n = 0;

    assert_int_equal (field_int (root, "timeout", true, 1000, 300000, &n, &err), 0);
    assert_int_equal (n, 30000);
    assert_int_equal (field_int (root, "timeout", true, 1000, 20000, &n, &err), -1);
    s_refused (&err, "timeout");
    assert_int_equal (field_int (root, "negative", true, 1, 10, &n, &err), -1);
    s_refused (&err, "negative");
    assert_int_equal (field_int (root, "negative", true, -10, 10, &n, &err), 0);
    assert_int_equal (n, -5);
    assert_int_equal (field_int (root, "huge", true, 1, INT64_MAX - 1, &n, &err), -1);
    s_refused (&err, "huge");
    assert_int_equal (field_int (root, "float", true, 0, 10, &n, &err), -1);
    s_refused (&err, "float");
    assert_int_equal (field_int (root, "text", true, 0, 100000, &n, &err), -1);
    s_refused (&err, "text");
    assert_int_equal (field_int (root, "flag", true, 0, 1, &n, &err), -1);
    assert_int_equal (field_int (root, "absent", false, 0, 1, &n, &err), 1);
    assert_int_equal (field_int (root, "absent", true, 0, 1, &n, &err), -1);
    s_refused (&err, "absent");

    bool flag = false;
    assert_int_equal (field_bool (root, "flag", &flag, &err), 0);
    assert_true (flag);
    assert_int_equal (field_bool (root, "absent", &flag, &err), 1);
    assert_int_equal (field_bool (root, "timeout", &flag, &err), -1);
    s_refused (&err, "timeout");
    assert_int_equal (field_bool (root, "text", &flag, &err), -1);

    static const char *const sources [] = { "llm", "manual", "import", NULL };
    const char *source = NULL;
    assert_int_equal (field_enum (root, "source", sources, &source, &err), 0);
    assert_ptr_equal (source, sources [0]);
    assert_int_equal (field_enum (root, "text", sources, &source, &err), -1);
    s_refused (&err, "text");
    assert_non_null (strstr (err.message, "llm, manual, import"));
    assert_int_equal (field_enum (root, "timeout", sources, &source, &err), -1);
    assert_int_equal (field_enum (root, "absent", sources, &source, &err), 1);

    char id [REG_ID_LEN + 1];
    assert_int_equal (field_id (root, "id", true, id, &err), 0);
    assert_string_equal (id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_int_equal (field_id (root, "bad_id", true, id, &err), -1);
    s_refused (&err, "bad_id");
    assert_int_equal (field_id (root, "timeout", true, id, &err), -1);
    s_refused (&err, "timeout");
    assert_int_equal (field_id (root, "absent", false, id, &err), 1);
    assert_int_equal (field_id (root, "absent", true, id, &err), -1);
    msg_destroy (&msg);
    msgw_destroy (&w);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_utf8),
        cmocka_unit_test (test_server_names),
        cmocka_unit_test (test_full_names),
        cmocka_unit_test (test_tool_names),
        cmocka_unit_test (test_uuids),
        cmocka_unit_test (test_field_str),
        cmocka_unit_test (test_field_numbers_and_more),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

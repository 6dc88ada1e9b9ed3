/*  test_ids_utf8.c — the one UTF-8 check (common/utf8.c) and the one
    timestamp format (common/ids.c) that every actor uses.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "ids.h"
#include "utf8.h"

static void
test_utf8_seq_lengths (void **state)
{
    (void) state;
    assert_int_equal (utf8_seq ("a", 1), 1);
    assert_int_equal (utf8_seq ("\xc3\xa9", 2), 2);             //  é
    assert_int_equal (utf8_seq ("\xe2\x82\xac", 3), 3);         //  €
    assert_int_equal (utf8_seq ("\xf0\x9f\x98\x80", 4), 4);     //  😀
    assert_int_equal (utf8_seq ("\xf4\x8f\xbf\xbf", 4), 4);     //  U+10FFFF
    //  none at all
    assert_int_equal (utf8_seq ("", 0), 0);
    assert_int_equal (utf8_seq ("\0", 1), 0);                   //  NUL
    assert_int_equal (utf8_seq ("\x80", 1), 0);                 //  lone continuation
    assert_int_equal (utf8_seq ("\xc3", 1), 0);                 //  truncated
    assert_int_equal (utf8_seq ("\xe2\x82", 2), 0);
    assert_int_equal (utf8_seq ("\xc0\xaf", 2), 0);             //  overlong '/'
    assert_int_equal (utf8_seq ("\xe0\x80\xaf", 3), 0);
    assert_int_equal (utf8_seq ("\xf0\x80\x80\xaf", 4), 0);
    assert_int_equal (utf8_seq ("\xed\xa0\x80", 3), 0);         //  U+D800
    assert_int_equal (utf8_seq ("\xf4\x90\x80\x80", 4), 0);     //  U+110000
    assert_int_equal (utf8_seq ("\xf8\x88\x80\x80\x80", 5), 0); //  5-byte form
    assert_int_equal (utf8_seq ("\xc3\x28", 2), 0);             //  bad continuation
}

static void
test_utf8_valid_strings (void **state)
{
    (void) state;
    const char *good = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_true (utf8_valid (good, strlen (good)));
    assert_true (utf8_valid ("", 0));
    assert_false (utf8_valid ("ab\0cd", 5));
    assert_false (utf8_valid ("ab\xc3", 3));
    assert_false (utf8_valid ("\xed\xbf\xbf", 3));
}

static void
test_time_iso (void **state)
{
    (void) state;
    char out [IDS_TIME_LEN + 1];
    ids_time_iso (0, out);
    assert_string_equal (out, "1970-01-01T00:00:00.000Z");
    ids_time_iso (-5, out);
    assert_string_equal (out, "1970-01-01T00:00:00.000Z");
    ids_time_iso (1764394800123LL, out);
    assert_string_equal (out, "2025-11-29T05:40:00.123Z");
    ids_now_iso (out);
    assert_int_equal (strlen (out), IDS_TIME_LEN);
    int64_t now = ids_now_ms ();
    assert_true (now > 1764394800000LL);
    assert_true (out [4] == '-' && out [7] == '-' && out [10] == 'T' && out [13] == ':'
              && out [16] == ':' && out [19] == '.' && out [23] == 'Z');
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_utf8_seq_lengths),
        cmocka_unit_test (test_utf8_valid_strings),
        cmocka_unit_test (test_time_iso),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

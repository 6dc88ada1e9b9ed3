/*  test_api_headers.c — the /api credential header parsers.

    A cookie named twice, or named once with a malformed value, is refused
    and leaves no token behind in the output (the caller must not find the
    first of two session cookies there); bearer and plain tokens accept
    exactly one well-formed token.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "api_headers.h"

#define TOKEN_A "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
#define TOKEN_B "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210_-zyxwv"

static int
s_cookie (const char *header, const char *name, char out [API_TOKEN_LEN + 1])
{
    return api_cookie_token (header, strlen (header), name, out);
}

static void
test_cookie_found_once (void **state)
{
    (void) state;
    char out [API_TOKEN_LEN + 1];
    assert_int_equal (strlen (TOKEN_A), API_TOKEN_LEN);
    assert_int_equal (s_cookie ("theme=dark; mcpbox_session=" TOKEN_A "; x=1",
                                API_COOKIE_SESSION, out), 1);
    assert_string_equal (out, TOKEN_A);
    assert_int_equal (s_cookie ("mcpbox_session=\"" TOKEN_A "\"", API_COOKIE_SESSION, out), 1);
    assert_string_equal (out, TOKEN_A);
    assert_int_equal (s_cookie ("theme=dark", API_COOKIE_SESSION, out), 0);
    assert_string_equal (out, "");
    //  a longer name that starts with ours is another cookie
    assert_int_equal (s_cookie ("mcpbox_session_x=" TOKEN_A, API_COOKIE_SESSION, out), 0);
}

static void
test_cookie_twice_leaves_nothing (void **state)
{
    (void) state;
    char out [API_TOKEN_LEN + 1];
    assert_int_equal (s_cookie ("mcpbox_session=" TOKEN_A "; mcpbox_session=" TOKEN_B,
                                API_COOKIE_SESSION, out), -1);
    assert_string_equal (out, "");
    assert_int_equal (s_cookie ("mcpbox_session=" TOKEN_A "; mcpbox_session=short",
                                API_COOKIE_SESSION, out), -1);
    assert_string_equal (out, "");
    assert_int_equal (s_cookie ("mcpbox_session=" TOKEN_A "; mcpbox_session=" TOKEN_A,
                                API_COOKIE_SESSION, out), -1);
    assert_string_equal (out, "");
}

static void
test_cookie_malformed_value (void **state)
{
    (void) state;
    char out [API_TOKEN_LEN + 1];
    assert_int_equal (s_cookie ("mcpbox_session=" TOKEN_A "x", API_COOKIE_SESSION, out), -1);
    assert_string_equal (out, "");
    assert_int_equal (s_cookie ("mcpbox_session=abc\xff" TOKEN_A, API_COOKIE_SESSION, out), -1);
    assert_string_equal (out, "");
}

static void
test_bearer_and_plain (void **state)
{
    (void) state;
    char out [API_TOKEN_LEN + 1];
    const char *bearer = "Bearer  " TOKEN_B " ";
    assert_int_equal (api_bearer_token (bearer, strlen (bearer), out), 1);
    assert_string_equal (out, TOKEN_B);
    const char *basic = "Basic " TOKEN_B;
    assert_int_equal (api_bearer_token (basic, strlen (basic), out), -1);
    assert_string_equal (out, "");
    const char *two = "Bearer " TOKEN_A " " TOKEN_B;
    assert_int_equal (api_bearer_token (two, strlen (two), out), -1);
    assert_string_equal (out, "");
    assert_int_equal (api_plain_token (" " TOKEN_A, strlen (TOKEN_A) + 1, out), 1);
    assert_string_equal (out, TOKEN_A);
    assert_int_equal (api_plain_token (TOKEN_A "!", strlen (TOKEN_A) + 1, out), -1);
    assert_string_equal (out, "");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_cookie_found_once),
        cmocka_unit_test (test_cookie_twice_leaves_nothing),
        cmocka_unit_test (test_cookie_malformed_value),
        cmocka_unit_test (test_bearer_and_plain),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

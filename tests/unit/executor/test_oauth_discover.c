/*  test_oauth_discover.c — the WWW-Authenticate reader of the OAuth client
    for external sources (actors/executor/oauth_discover.c): the
    resource_metadata of the Bearer challenge, quoted or not, among other
    challenges and parameters; absent; and malformed headers refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "oauth_discover.h"

static int
s_get (const char *header, char *out)
{
    return oauth_www_authenticate_param (header, "Bearer", "resource_metadata", out, 256);
}

static void
test_found (void **state)
{
    (void) state;
    char out [256];
    assert_int_equal (s_get ("Bearer resource_metadata=\"https://a/.well-known/x\"", out), 0);
    assert_string_equal (out, "https://a/.well-known/x");
    assert_int_equal (s_get ("Bearer error=\"invalid_token\", error_description=\"a, \\\"b\\\"\","
                             " resource_metadata=\"http://h/m\"", out), 0);
    assert_string_equal (out, "http://h/m");
    assert_int_equal (s_get ("Basic realm=\"x\", bearer Resource_Metadata=tok", out), 0);
    assert_string_equal (out, "tok");
    assert_int_equal (s_get ("Negotiate abc==, Bearer realm=r,resource_metadata=\"u\"", out), 0);
    assert_string_equal (out, "u");
}

static void
test_absent (void **state)
{
    (void) state;
    char out [256];
    assert_int_equal (s_get ("Bearer", out), 1);
    assert_int_equal (s_get ("Bearer realm=\"x\"", out), 1);
    assert_int_equal (s_get ("Basic resource_metadata=\"http://other\"", out), 1);
    assert_int_equal (s_get ("", out), 1);
    assert_string_equal (out, "");
}

static void
test_malformed (void **state)
{
    (void) state;
    char out [256];
    static const char *bad [] = {
        "Bearer resource_metadata=\"unterminated",
        "Bearer realm=\"a\", resource_metadata=",
        "Bearer resource_metadata=\"a\" junk",
        "Bearer resource_metadata=\"a\x01\"",
        "=x",
        NULL
    };
    for (int i = 0; bad [i]; i++)
        if (s_get (bad [i], out) != -1)
            fail_msg ("accepted: %s", bad [i]);
    char big [600];
    memset (big, 'a', sizeof big);
    memcpy (big, "Bearer resource_metadata=", 25);
    big [sizeof big - 1] = '\0';
    assert_int_equal (s_get (big, out), -1);        //  longer than out
}

//  The issuer as kept and compared with an authorization response's iss
//  (RFC 9207): trailing slashes off; visible ASCII http(s) only.
static void
test_issuer_normal (void **state)
{
    (void) state;
    char out [128];
    assert_int_equal (oauth_issuer_normal ("http://as.example:3011/", out, sizeof out), 0);
    assert_string_equal (out, "http://as.example:3011");
    assert_int_equal (oauth_issuer_normal ("https://as.example/tenant//", out, sizeof out), 0);
    assert_string_equal (out, "https://as.example/tenant");
    static const char *bad [] = {
        "javascript:alert(1)", "data:text/html,x", "http://u:p@as.example/",
        "http://as.example/#f", "http://as.example/\xe2\x80\xae", "http://as.example/a b",
        "as.example", "", NULL
    };
    for (int i = 0; bad [i]; i++)
        if (oauth_issuer_normal (bad [i], out, sizeof out) != -1)
            fail_msg ("accepted: %s", bad [i]);
    assert_int_equal (oauth_issuer_normal ("http://as.example/long-path", out, 10), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_found),
        cmocka_unit_test (test_absent),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_issuer_normal),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

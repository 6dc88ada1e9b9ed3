/*  test_oauth_form.c — what the OAuth endpoints accept: the form decoder
    (actors/gateway/oauth_form.c) and the checks of redirect URIs, metadata
    URLs, client names and PKCE strings (common/oauth_uri.c).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "oauth_form.h"
#include "oauth_uri.h"

static json_t *
s_parse (const char *text, const char **why)
{
    *why = NULL;
    return oauth_form_parse (text, strlen (text), 64, why);
}

static void
test_form_decodes (void **state)
{
    (void) state;
    const char *why;
    json_t *form = s_parse ("grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1"
                            "%3A9%2Fcb&state=a+b%20c&empty=&flag&&", &why);
    assert_non_null (form);
    assert_string_equal (json_string_value (json_object_get (form, "grant_type")),
                         "authorization_code");
    assert_string_equal (json_string_value (json_object_get (form, "redirect_uri")),
                         "http://127.0.0.1:9/cb");
    assert_string_equal (json_string_value (json_object_get (form, "state")), "a b c");
    assert_string_equal (json_string_value (json_object_get (form, "empty")), "");
    assert_string_equal (json_string_value (json_object_get (form, "flag")), "");
    assert_int_equal (json_object_size (form), 5);
    json_decref (form);
    form = s_parse ("", &why);
    assert_non_null (form);
    assert_int_equal (json_object_size (form), 0);
    json_decref (form);
}

static void
test_form_refuses (void **state)
{
    (void) state;
    static const char *const bad [] = {
        "a=1&a=2",                  //  repeated (RFC 6749 §3.1)
        "a=%zz", "a=%4", "a=%",     //  bad escapes
        "a=%00", "a=%0a", "a=%7f",  //  NUL and control characters
        "a=%c3%28", "a=%ff",        //  not UTF-8
        "=1", "A=1", "a-b=1",       //  names: a-z and _ only
        "abcdefghijklmnopqrstuvwxyzabcdefg=1",  //  33-byte name
        "a=" "0123456789012345678901234567890123456789012345678901234567890123456789",
        "a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1&q=1",
        NULL
    };
    for (size_t i = 0; bad [i]; i++) {
        const char *why;
        json_t *form = s_parse (bad [i], &why);
        if (form)
            fail_msg ("accepted: %s", bad [i]);
        assert_non_null (why);
    }
}

static void
test_form_encode (void **state)
{
    (void) state;
    char out [64] = "x=";
    assert_int_equal (oauth_form_encode (out, sizeof out, "a b&c=/~é"), 0);
    assert_string_equal (out, "x=a%20b%26c%3D%2F~%C3%A9");
    char small [8] = "";
    assert_int_equal (oauth_form_encode (small, sizeof small, "%%%"), -1);
}

static void
test_redirect_uris (void **state)
{
    (void) state;
    char why [160];
    static const char *const good [] = {
        "https://claude.ai/api/mcp/auth_callback", "https://app.example:8443/cb?x=1",
        "http://127.0.0.1:33418/callback", "http://localhost/cb", "http://[::1]:9/cb",
        "http://127.255.0.1/", NULL
    };
    static const char *const bad [] = {
        "http://evil.example/cb", "http://127.0.0.1.evil.example/cb", "http://1270.0.0.1/",
        "javascript:alert(1)", "https://a.example/cb#frag", "https://user@a.example/cb",
        "https:///cb", "https://a.example:0/", "https://a.example:99999/", "https://a b/",
        "https://a.example/<x>", "https://a.example/\x01", "//a.example/cb", "", "data:,x",
        "https://a_b.example/", "HTTP://127.0.0.1/", NULL
    };
    for (size_t i = 0; good [i]; i++)
        if (!oauth_redirect_uri_valid (good [i], why, sizeof why))
            fail_msg ("refused %s: %s", good [i], why);
    for (size_t i = 0; bad [i]; i++)
        if (oauth_redirect_uri_valid (bad [i], why, sizeof why))
            fail_msg ("accepted %s", bad [i]);
}

static void
test_cimd_urls (void **state)
{
    (void) state;
    char why [160];
    assert_true (oauth_cimd_url_valid ("https://app.example/oauth/client.json", why, sizeof why));
    assert_false (oauth_cimd_url_valid ("https://app.example/", why, sizeof why));
    assert_false (oauth_cimd_url_valid ("https://app.example", why, sizeof why));
    assert_false (oauth_cimd_url_valid ("https://app.example/a/../b", why, sizeof why));
    assert_false (oauth_cimd_url_valid ("https://app.example/./b", why, sizeof why));
    assert_false (oauth_cimd_url_valid ("http://app.example/client.json", why, sizeof why)
                  && !getenv ("MCPBOX_TEST_CIMD_HTTP"));
    assert_false (oauth_cimd_url_valid ("https://app.example/c#f", why, sizeof why));
}

static void
test_client_names (void **state)
{
    (void) state;
    assert_true (oauth_client_name_valid ("Claude", 6));
    assert_true (oauth_client_name_valid ("Café app ✓", strlen ("Café app ✓")));
    assert_false (oauth_client_name_valid ("", 0));
    assert_false (oauth_client_name_valid ("   ", 3));
    assert_false (oauth_client_name_valid ("a\nb", 3));
    assert_false (oauth_client_name_valid ("\xe2\x80\xae" "evil", 7));     //  RLO
    assert_false (oauth_client_name_valid ("\xe2\x81\xa6" "evil", 7));     //  LRI
    assert_false (oauth_client_name_valid ("a\xc2\x85" "b", 4));           //  NEL (C1)
    assert_false (oauth_client_name_valid ("\xc3\x28", 2));                //  not UTF-8
    char long_name [102];
    memset (long_name, 'x', 101);
    long_name [101] = 0;
    assert_false (oauth_client_name_valid (long_name, 101));
    assert_true (oauth_client_name_valid (long_name, 100));
}

static void
test_pkce (void **state)
{
    (void) state;
    //  RFC 7636 appendix B
    const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const char *challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_true (oauth_pkce_challenge_valid (challenge));
    assert_true (oauth_pkce_verifier_valid (verifier));
    assert_true (oauth_pkce_matches (verifier, challenge));
    assert_false (oauth_pkce_matches ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", challenge));
    assert_false (oauth_pkce_matches (challenge, challenge));
    assert_false (oauth_pkce_verifier_valid ("short"));
    assert_false (oauth_pkce_verifier_valid ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"));
    assert_false (oauth_pkce_challenge_valid ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="));
    char max [130];
    memset (max, 'a', 129);
    max [129] = 0;
    assert_false (oauth_pkce_verifier_valid (max));
    max [128] = 0;
    assert_true (oauth_pkce_verifier_valid (max));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_form_decodes),
        cmocka_unit_test (test_form_refuses),
        cmocka_unit_test (test_form_encode),
        cmocka_unit_test (test_redirect_uris),
        cmocka_unit_test (test_cimd_urls),
        cmocka_unit_test (test_client_names),
        cmocka_unit_test (test_pkce),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

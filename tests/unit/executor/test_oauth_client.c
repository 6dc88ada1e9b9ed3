/*  test_oauth_client.c — the pure parts of the OAuth client for external
    sources (actors/executor/oauth_client.c): the token endpoint's answer
    (typed, bounded, Bearer in any case, visible-ASCII tokens), the
    registration answer and its token endpoint auth method, an OAuth error
    made safe to show, the authorization URL (percent-encoding, an endpoint
    with a query of its own, a fragment refused, the length bound), the
    form body, PKCE S256 (the challenge is SHA-256 of the verifier) and the
    state (its source id read back, a forged one refused). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "oauth_client.h"
#include "oauth_uri.h"

static int
s_tokens (const char *body, oauth_tokens_t *out, char *err)
{
    return oauth_tokens_parse (body, strlen (body), out, err, 256);
}

static void
test_tokens_good (void **state)
{
    (void) state;
    oauth_tokens_t t;
    char err [256];
    assert_int_equal (s_tokens ("{\"access_token\":\"a.b-c\",\"token_type\":\"bearer\","
                                "\"expires_in\":3600,\"refresh_token\":\"r1\",\"scope\":\"mcp\"}",
                                &t, err), 0);
    assert_string_equal (t.access_token, "a.b-c");
    assert_string_equal (t.refresh_token, "r1");
    assert_string_equal (t.scope, "mcp");
    assert_int_equal (t.expires_in, 3600);
    oauth_tokens_clear (&t);
    assert_null (t.access_token);
    //  optional fields absent (or null)
    assert_int_equal (s_tokens ("{\"access_token\":\"x\",\"token_type\":\"Bearer\","
                                "\"refresh_token\":null}", &t, err), 0);
    assert_null (t.refresh_token);
    assert_int_equal (t.expires_in, -1);
    oauth_tokens_clear (&t);
}

static void
test_tokens_bad (void **state)
{
    (void) state;
    static const struct { const char *body; const char *word; } bad [] = {
        { "{\"access_token\":\"x\",\"token_type\":\"mac\"}", "token_type" },
        { "{\"access_token\":\"x\"}", "token_type" },
        { "{\"token_type\":\"Bearer\"}", "access_token" },
        { "{\"access_token\":\"\",\"token_type\":\"Bearer\"}", "access_token" },
        { "{\"access_token\":\"a b\",\"token_type\":\"Bearer\"}", "access_token" },
        { "{\"access_token\":\"a\\r\\nX: y\",\"token_type\":\"Bearer\"}", "access_token" },
        { "{\"access_token\":7,\"token_type\":\"Bearer\"}", "access_token" },
        { "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"expires_in\":\"3600\"}",
          "expires_in" },
        { "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"expires_in\":-1}", "expires_in" },
        { "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"expires_in\":1.5}", "expires_in" },
        { "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"refresh_token\":\"\"}",
          "refresh_token" },
        { "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"scope\":[1]}", "scope" },
        { "{\"access_token\":\"x\",\"access_token\":\"y\",\"token_type\":\"Bearer\"}", "JSON" },
        { "[1]", "JSON object" },
        { "not json", "JSON object" },
        { NULL, NULL }
    };
    for (int i = 0; bad [i].body; i++) {
        oauth_tokens_t t;
        char err [256] = "";
        assert_int_equal (s_tokens (bad [i].body, &t, err), -1);
        if (!strstr (err, bad [i].word))
            fail_msg ("%s: %s", bad [i].body, err);
        assert_null (t.access_token);
    }
    //  the size bound
    size_t big = OAUTH_RESPONSE_MAX + 1;
    char *body = malloc (big + 1);
    memset (body, ' ', big);
    body [big] = 0;
    oauth_tokens_t t;
    char err [256];
    assert_int_equal (oauth_tokens_parse (body, big, &t, err, sizeof err), -1);
    assert_non_null (strstr (err, "larger"));
    free (body);
    //  a token of OAUTH_TOKEN_MAX + 1 bytes
    char *json = malloc (OAUTH_TOKEN_MAX + 100);
    strcpy (json, "{\"token_type\":\"Bearer\",\"access_token\":\"");
    size_t n = strlen (json);
    memset (json + n, 'a', OAUTH_TOKEN_MAX + 1);
    strcpy (json + n + OAUTH_TOKEN_MAX + 1, "\"}");
    assert_int_equal (s_tokens (json, &t, err), -1);
    json [n + OAUTH_TOKEN_MAX] = 0;         //  exactly the bound: fine
    strcat (json, "\"}");
    assert_int_equal (s_tokens (json, &t, err), 0);
    oauth_tokens_clear (&t);
    free (json);
}

static void
test_registration (void **state)
{
    (void) state;
    oauth_registration_t r;
    char err [256];
    const char *body = "{\"client_id\":\"c1\",\"redirect_uris\":[\"x\"]}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), NULL, &r, err, sizeof err), 0);
    assert_string_equal (r.client_id, "c1");
    assert_null (r.client_secret);
    assert_string_equal (r.auth_method, "none");
    oauth_registration_clear (&r);
    body = "{\"client_id\":\"c2\",\"client_secret\":\"s\"}";     //  RFC 7591 default: basic
    assert_int_equal (oauth_registration_parse (body, strlen (body), NULL, &r, err, sizeof err), 0);
    assert_string_equal (r.client_secret, "s");
    assert_string_equal (r.auth_method, "client_secret_basic");
    oauth_registration_clear (&r);
    body = "{\"client_id\":\"c3\",\"client_secret\":\"s\","
           "\"token_endpoint_auth_method\":\"client_secret_post\"}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), NULL, &r, err, sizeof err), 0);
    assert_string_equal (r.auth_method, "client_secret_post");
    oauth_registration_clear (&r);
    //  a secret with method none is not kept
    body = "{\"client_id\":\"c4\",\"client_secret\":\"s\",\"token_endpoint_auth_method\":\"none\"}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), NULL, &r, err, sizeof err), 0);
    assert_null (r.client_secret);
    oauth_registration_clear (&r);
    static const char *bad [] = {
        "{}", "{\"client_id\":\"\"}", "{\"client_id\":\"a b\"}", "{\"client_id\":1}",
        "{\"client_id\":\"c\",\"client_secret\":\"\"}",
        "{\"client_id\":\"c\",\"token_endpoint_auth_method\":\"private_key_jwt\"}",
        "{\"client_id\":\"c\",\"token_endpoint_auth_method\":\"client_secret_post\"}",
        "nope", NULL
    };
    for (int i = 0; bad [i]; i++) {
        assert_int_equal (oauth_registration_parse (bad [i], strlen (bad [i]), NULL, &r, err,
                                                    sizeof err), -1);
        assert_null (r.client_id);
    }
    //  redirect_uris echoed: must hold ours exactly; absent is fine
    const char *ours = "http://127.0.0.1:8000/sources/oauth/callback";
    body = "{\"client_id\":\"c5\",\"redirect_uris\":[\"https://a.example/cb\","
           "\"http://127.0.0.1:8000/sources/oauth/callback\"]}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), ours, &r, err, sizeof err), 0);
    oauth_registration_clear (&r);
    body = "{\"client_id\":\"c6\"}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), ours, &r, err, sizeof err), 0);
    oauth_registration_clear (&r);
    static const char *other [] = {
        "{\"client_id\":\"c\",\"redirect_uris\":[\"https://evil.example/cb\"]}",
        "{\"client_id\":\"c\",\"redirect_uris\":[]}",
        "{\"client_id\":\"c\",\"redirect_uris\":\"http://127.0.0.1:8000/sources/oauth/callback\"}",
        "{\"client_id\":\"c\",\"redirect_uris\":[\"http://127.0.0.1:8000/sources/oauth/callback/\"]}",
        "{\"client_id\":\"c\",\"redirect_uris\":[1]}",
        NULL
    };
    for (int i = 0; other [i]; i++) {
        assert_int_equal (oauth_registration_parse (other [i], strlen (other [i]), ours, &r,
                                                    err, sizeof err), -1);
        assert_non_null (strstr (err, "redirect_uris"));
        assert_null (r.client_id);
    }
    //  ours followed by a NUL is not ours (refused as it is read)
    body = "{\"client_id\":\"c\",\"redirect_uris\":"
           "[\"http://127.0.0.1:8000/sources/oauth/callback\\u0000x\"]}";
    assert_int_equal (oauth_registration_parse (body, strlen (body), ours, &r, err, sizeof err), -1);
    assert_null (r.client_id);
}

static void
test_error_text (void **state)
{
    (void) state;
    char out [64];
    const char *body = "{\"error\":\"invalid_grant\",\"error_description\":\"bad\\u0007<b>\"}";
    oauth_error_text (body, strlen (body), out, sizeof out);
    assert_string_equal (out, "invalid_grant: bad?<b>");
    oauth_error_text ("x", 1, out, sizeof out);
    assert_string_equal (out, "");
    body = "{\"error\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
    oauth_error_text (body, strlen (body), out, sizeof out);
    assert_int_equal (strlen (out), sizeof out - 1);
}

static void
test_authorize_url (void **state)
{
    (void) state;
    const char *names [] = { "response_type", "client_id", "redirect_uri", "state", "scope" };
    const char *values [] = { "code", "https://mcpbox.example/client.json",
                              "http://127.0.0.1:8000/sources/oauth/callback", "a.b_c-~",
                              "mcp read" };
    char *url = oauth_authorize_url ("https://as.example/authorize", names, values, 5);
    assert_string_equal (url, "https://as.example/authorize?response_type=code"
        "&client_id=https%3A%2F%2Fmcpbox.example%2Fclient.json"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fsources%2Foauth%2Fcallback"
        "&state=a.b_c-~&scope=mcp%20read");
    free (url);
    //  an endpoint with a query of its own keeps it; a NULL value is left out
    values [4] = NULL;
    url = oauth_authorize_url ("https://as/auth?tenant=x", names, values, 5);
    assert_non_null (strstr (url, "https://as/auth?tenant=x&response_type=code&"));
    assert_null (strstr (url, "scope"));
    free (url);
    url = oauth_authorize_url ("https://as/auth?", names, values, 1);
    assert_string_equal (url, "https://as/auth?response_type=code");
    free (url);
    //  a value that would inject a parameter stays one value
    const char *evil [] = { "x&client_id=evil#frag" };
    url = oauth_authorize_url ("https://as/a", names, evil, 1);
    assert_string_equal (url, "https://as/a?response_type=x%26client_id%3Devil%23frag");
    free (url);
    assert_null (oauth_authorize_url ("https://as/a#f", names, values, 1));
    char *long_value = malloc (OAUTH_AUTH_URL_MAX);
    memset (long_value, 'a', OAUTH_AUTH_URL_MAX - 1);
    long_value [OAUTH_AUTH_URL_MAX - 1] = 0;
    const char *longs [] = { long_value };
    assert_null (oauth_authorize_url ("https://as/a", names, longs, 1));
    free (long_value);
}

static void
test_form_body (void **state)
{
    (void) state;
    const char *names [] = { "grant_type", "code", "client_id", "resource" };
    const char *values [] = { "authorization_code", "c+d=e&f", NULL, "http://h:1/mcp" };
    char *form = oauth_form_body (names, values, 4);
    assert_string_equal (form, "grant_type=authorization_code&code=c%2Bd%3De%26f"
                               "&resource=http%3A%2F%2Fh%3A1%2Fmcp");
    free (form);
}

static void
test_pkce_and_state (void **state)
{
    (void) state;
    char verifier [OAUTH_VERIFIER_LEN + 1], challenge [OAUTH_VERIFIER_LEN + 1];
    char other [OAUTH_VERIFIER_LEN + 1], other_challenge [OAUTH_VERIFIER_LEN + 1];
    oauth_pkce_new (verifier, challenge);
    oauth_pkce_new (other, other_challenge);
    assert_int_equal (strlen (verifier), 43);
    assert_true (oauth_pkce_verifier_valid (verifier));
    assert_true (oauth_pkce_challenge_valid (challenge));
    assert_true (oauth_pkce_matches (verifier, challenge));      //  the AS's own check
    assert_false (oauth_pkce_matches (other, challenge));
    assert_string_not_equal (verifier, other);

    const char *id = "0b5e7c2a-1d2f-4a3b-9c8d-7e6f5a4b3c2d";
    char state_text [OAUTH_STATE_BYTES], again [OAUTH_STATE_BYTES], back [65];
    assert_int_equal (oauth_state_new (id, state_text, sizeof state_text), 0);
    assert_int_equal (oauth_state_new (id, again, sizeof again), 0);
    assert_string_not_equal (state_text, again);
    assert_int_equal (strlen (state_text), strlen (id) + 1 + 43);
    assert_int_equal (oauth_state_source (state_text, back, sizeof back), 0);
    assert_string_equal (back, id);
    assert_int_equal (oauth_state_new ("../x", state_text, sizeof state_text), -1);
    assert_int_equal (oauth_state_new (id, state_text, 20), -1);
    static const char *bad [] = { "nodot", ".abc", "ABC.x", "a/b.x", "", NULL };
    for (int i = 0; bad [i]; i++)
        assert_int_equal (oauth_state_source (bad [i], back, sizeof back), -1);
}

//  common/oauth_uri.c: the callback URL the gateway and the CLI both build
static void
test_source_redirect (void **state)
{
    (void) state;
    char out [OAUTH_URI_MAX + 1], why [256];
    assert_int_equal (oauth_source_redirect ("", "127.0.0.1", 8000, out, sizeof out, why,
                                             sizeof why), 0);
    assert_string_equal (out, "http://127.0.0.1:8000/sources/oauth/callback");
    assert_int_equal (oauth_source_redirect (NULL, "0.0.0.0", 9, out, sizeof out, why,
                                             sizeof why), 0);
    assert_string_equal (out, "http://127.0.0.1:9/sources/oauth/callback");
    assert_int_equal (oauth_source_redirect ("", "::1", 8000, out, sizeof out, why,
                                             sizeof why), 0);
    assert_string_equal (out, "http://[::1]:8000/sources/oauth/callback");
    assert_int_equal (oauth_source_redirect ("https://box.lan/sources/oauth/callback", "x", 1,
                                             out, sizeof out, why, sizeof why), 0);
    assert_string_equal (out, "https://box.lan/sources/oauth/callback");
    static const char *bad [] = { "ftp://x/cb", "http://x/cb#f", "http://x/a b",
                                  "javascript:alert(1)", "http://x/\x01", NULL };
    for (int i = 0; bad [i]; i++)
        assert_int_equal (oauth_source_redirect (bad [i], "h", 1, out, sizeof out, why,
                                                 sizeof why), -1);
    char small [16];
    assert_int_equal (oauth_source_redirect ("", "127.0.0.1", 8000, small, sizeof small, why,
                                             sizeof why), -1);
    //  the percent-encoder alone: unreserved kept, the rest %XX, a bound kept
    char text [16] = "";
    assert_int_equal (oauth_percent_append (text, sizeof text, "a b/~"), 0);
    assert_string_equal (text, "a%20b%2F~");
    assert_int_equal (oauth_percent_append (text, sizeof text, "\xff\xff\xff"), -1);
    assert_true (strlen (text) < sizeof text);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_tokens_good),
        cmocka_unit_test (test_tokens_bad),
        cmocka_unit_test (test_registration),
        cmocka_unit_test (test_error_text),
        cmocka_unit_test (test_authorize_url),
        cmocka_unit_test (test_form_body),
        cmocka_unit_test (test_pkce_and_state),
        cmocka_unit_test (test_source_redirect),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

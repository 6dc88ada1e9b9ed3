/*  test_remote_rules.c — the remote listener's pure rules: bearer
    credentials, the public base URL, the 401 challenge, and the route
    table (only /mcp until OAuth adds its endpoints).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "remote_listener.h"
#include "remote_rules.h"

static void
test_bearer (void **state)
{
    (void) state;
    char out [64];
    assert_int_equal (remote_bearer ("Bearer abc.DEF-_~+/==", out, sizeof out), 1);
    assert_string_equal (out, "abc.DEF-_~+/==");
    assert_int_equal (remote_bearer ("bearer    tok  ", out, sizeof out), 1);
    assert_string_equal (out, "tok");
    assert_int_equal (remote_bearer ("BEARER tok", out, sizeof out), 1);
    assert_int_equal (remote_bearer (NULL, out, sizeof out), 0);
    assert_int_equal (remote_bearer ("", out, sizeof out), 0);
    assert_int_equal (remote_bearer ("Basic YWRtaW4=", out, sizeof out), 0);
    assert_int_equal (remote_bearer ("Bearertok", out, sizeof out), 0);
    assert_int_equal (remote_bearer ("Bearer", out, sizeof out), -1);
    assert_int_equal (remote_bearer ("Bearer ", out, sizeof out), -1);
    assert_int_equal (remote_bearer ("Bearer a b", out, sizeof out), -1);
    assert_int_equal (remote_bearer ("Bearer \"tok\"", out, sizeof out), -1);
    assert_int_equal (remote_bearer ("Bearer a=b", out, sizeof out), -1);
    assert_string_equal (out, "");
    char tiny [4];
    assert_int_equal (remote_bearer ("Bearer abcd", tiny, sizeof tiny), -1);
}

static void
test_public_url (void **state)
{
    (void) state;
    char base [REMOTE_BASE_MAX], host [256], err [256];
    assert_int_equal (remote_public_url_parse ("https://MCP.Example.com/", base, sizeof base,
                                               host, sizeof host, err, sizeof err), 0);
    assert_string_equal (base, "https://mcp.example.com");
    assert_string_equal (host, "mcp.example.com");
    assert_int_equal (remote_public_url_parse ("HTTP://box.lan:8443", base, sizeof base,
                                               host, sizeof host, err, sizeof err), 0);
    assert_string_equal (base, "http://box.lan:8443");
    assert_string_equal (host, "box.lan");
    assert_int_equal (remote_public_url_parse ("https://[::1]:9", base, sizeof base,
                                               host, sizeof host, err, sizeof err), 0);
    assert_string_equal (host, "[::1]");
    const char *bad [] = {
        "mcp.example.com", "ftp://x", "https://", "https://u@host", "https://host/path",
        "https://host?q", "https://host#f", "https://host:0", "https://host:65536",
        "https://host:", "https://ho\"st", "https://-host", "https://[zz]", "https://[::1",
        "https://host:80/x", "https://host name", NULL
    };
    for (const char **url = bad; *url; url++)
        assert_int_equal (remote_public_url_parse (*url, base, sizeof base, host, sizeof host,
                                                   err, sizeof err), -1);
}

static void
test_challenge (void **state)
{
    (void) state;
    char out [200];
    assert_true (remote_challenge ("https://mcp.example.com", NULL, false, out, sizeof out));
    assert_string_equal (out, "Bearer resource_metadata=\"https://mcp.example.com"
                              "/.well-known/oauth-protected-resource\"");
    assert_true (remote_challenge (NULL, "127.0.0.1:8001", true, out, sizeof out));
    assert_string_equal (out, "Bearer resource_metadata=\"http://127.0.0.1:8001"
                              "/.well-known/oauth-protected-resource\", error=\"invalid_token\"");
    char small [20];
    assert_false (remote_challenge ("https://mcp.example.com", NULL, false, small, sizeof small));
}

static void
test_routes (void **state)
{
    (void) state;
    const remote_route_t *mcp = remote_route_find ("/mcp", 4);
    assert_non_null (mcp);
    assert_true (mcp->credential);
    const char *none [] = { "/", "/mcp/", "/mcpx", "/api/tools", "/api/", "/ws", "/health",
                            "/index.html", "/MCP", "", NULL };
    for (const char **path = none; *path; path++)
        assert_null (remote_route_find (*path, strlen (*path)));
    assert_null (remote_route_find (NULL, 0));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_bearer),
        cmocka_unit_test (test_public_url),
        cmocka_unit_test (test_challenge),
        cmocka_unit_test (test_routes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

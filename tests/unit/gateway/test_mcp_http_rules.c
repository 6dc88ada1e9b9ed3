/*  test_mcp_http_rules.c — /mcp's header rules and the tools/list cursor.

    Accept and Content-Type parsing, protocol versions, the Host/Origin
    allowlist (defaults, configured entries, hostile spellings), and the
    cursor codec (round trip, refusal of anything we did not make).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mcp_cursor.h"
#include "mcp_http_rules.h"

static void
test_accept (void **state)
{
    (void) state;
    assert_true (mcp_accept_lists ("application/json, text/event-stream", "application/json"));
    assert_true (mcp_accept_lists ("application/json, text/event-stream", "text/event-stream"));
    assert_true (mcp_accept_lists ("TEXT/Event-Stream;q=0.5", "text/event-stream"));
    assert_true (mcp_accept_lists (" application/json ; charset=utf-8 ,x/y", "application/json"));
    assert_true (mcp_accept_lists ("text/event-stream;q=0.01", "text/event-stream"));
    assert_false (mcp_accept_lists ("text/event-stream;q=0", "text/event-stream"));
    assert_false (mcp_accept_lists ("text/event-stream; Q=0.000", "text/event-stream"));
    assert_false (mcp_accept_lists ("*/*", "application/json"));
    assert_false (mcp_accept_lists ("application/*", "application/json"));
    assert_false (mcp_accept_lists ("application/jsonx", "application/json"));
    assert_false (mcp_accept_lists ("application/json-seq", "application/json"));
    assert_false (mcp_accept_lists ("", "application/json"));
    assert_false (mcp_accept_lists (NULL, "application/json"));
    assert_false (mcp_accept_lists (",,,;;;", "application/json"));
}

static void
test_content_type (void **state)
{
    (void) state;
    assert_true (mcp_content_type_json ("application/json"));
    assert_true (mcp_content_type_json ("Application/JSON"));
    assert_true (mcp_content_type_json ("application/json; charset=utf-8"));
    assert_true (mcp_content_type_json ("application/json;charset=\"UTF-8\""));
    assert_false (mcp_content_type_json ("application/json; charset=latin1"));
    assert_false (mcp_content_type_json ("application/json, text/plain"));
    assert_false (mcp_content_type_json ("text/plain"));
    assert_false (mcp_content_type_json ("application/jsonp"));
    assert_false (mcp_content_type_json (""));
    assert_false (mcp_content_type_json (NULL));
}

static void
test_protocol_versions (void **state)
{
    (void) state;
    assert_true (mcp_protocol_supported ("2025-11-25"));
    assert_true (mcp_protocol_supported ("2025-06-18"));
    assert_true (mcp_protocol_supported ("2025-03-26"));
    assert_false (mcp_protocol_supported ("2024-11-05"));
    assert_false (mcp_protocol_supported ("2099-01-01"));
    assert_false (mcp_protocol_supported ("2025-11-25 "));
    assert_false (mcp_protocol_supported (""));
    assert_false (mcp_protocol_supported (NULL));
    assert_string_equal (mcp_protocol_versions [0], MCP_PROTOCOL_LATEST);
}

static void
test_default_hosts (void **state)
{
    (void) state;
    char err [256];
    mcp_allow_t *allow = mcp_allow_new (NULL, "", err, sizeof err);
    assert_non_null (allow);
    const char *good [] = { "localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:1",
                            "[::1]", "[::1]:65535", "LocalHost:80", NULL };
    for (int i = 0; good [i]; i++)
        assert_true (mcp_allow_host (allow, good [i]));
    const char *bad [] = { "evil.com", "localhost.evil.com", "evil.com:8000", "127.0.0.2",
                           "127.0.0.1.nip.io", "[::2]", "[::1", "localhost:", "localhost:0",
                           "localhost:65536", "localhost:80:80", "localhost:8a",
                           "local host", "", ":8000", "[]:80", "localhost.", NULL };
    for (int i = 0; bad [i]; i++)
        assert_false (mcp_allow_host (allow, bad [i]));
    assert_false (mcp_allow_host (allow, NULL));
    mcp_allow_destroy (&allow);
    assert_null (allow);
}

static void
test_default_origins (void **state)
{
    (void) state;
    char err [256];
    mcp_allow_t *allow = mcp_allow_new (NULL, NULL, err, sizeof err);
    const char *good [] = { "http://localhost", "http://localhost:6274", "https://127.0.0.1",
                            "HTTP://LOCALHOST:3000", "http://[::1]:8000", NULL };
    for (int i = 0; good [i]; i++)
        assert_true (mcp_allow_origin (allow, good [i]));
    const char *bad [] = { "null", "http://evil.com", "https://localhost.evil.com",
                           "file://localhost", "ftp://localhost", "http://", "localhost",
                           "http://localhost/path", "http://user@localhost", "", NULL };
    for (int i = 0; bad [i]; i++)
        assert_false (mcp_allow_origin (allow, bad [i]));
    mcp_allow_destroy (&allow);
}

static void
test_configured_entries (void **state)
{
    (void) state;
    char err [256];
    mcp_allow_t *allow = mcp_allow_new (" mybox.lan , other:8443,,",
                                        "https://app.example.com, http://x.test:81", err,
                                        sizeof err);
    assert_non_null (allow);
    assert_true (mcp_allow_host (allow, "mybox.lan"));
    assert_true (mcp_allow_host (allow, "MYBOX.LAN:9000"));
    assert_true (mcp_allow_host (allow, "other:8443"));
    assert_false (mcp_allow_host (allow, "other:8444"));
    assert_false (mcp_allow_host (allow, "other"));
    assert_true (mcp_allow_host (allow, "localhost:1"));              //  defaults stay
    assert_true (mcp_allow_origin (allow, "https://app.example.com"));
    assert_true (mcp_allow_origin (allow, "https://app.example.com:8443"));
    assert_false (mcp_allow_origin (allow, "http://app.example.com"));
    assert_true (mcp_allow_origin (allow, "http://x.test:81"));
    assert_false (mcp_allow_origin (allow, "http://x.test:82"));
    assert_true (mcp_allow_origin (allow, "http://mybox.lan:8000"));  //  an allowed host
    mcp_allow_destroy (&allow);

    allow = mcp_allow_new ("*", "*", err, sizeof err);
    assert_true (mcp_allow_host (allow, "anything.example:1"));
    assert_true (mcp_allow_origin (allow, "https://anything.example"));
    assert_false (mcp_allow_host (allow, ""));
    mcp_allow_destroy (&allow);

    assert_null (mcp_allow_new ("bad host!", NULL, err, sizeof err));
    assert_non_null (strstr (err, "allowed_hosts"));
    assert_null (mcp_allow_new ("h:99999", NULL, err, sizeof err));
    assert_null (mcp_allow_new (NULL, "app.example.com", err, sizeof err));
    assert_non_null (strstr (err, "allowed_origins"));
}

static void
test_cursor (void **state)
{
    (void) state;
    char text [MCP_CURSOR_LEN + 1];
    uint64_t revision, offset;
    mcp_cursor_encode (0x1234, 100, text);
    assert_int_equal (strlen (text), MCP_CURSOR_LEN);
    assert_int_equal (mcp_cursor_decode (text, strlen (text), &revision, &offset), 0);
    assert_int_equal (revision, 0x1234);
    assert_int_equal (offset, 100);
    mcp_cursor_encode (UINT64_MAX, UINT64_MAX, text);
    assert_int_equal (mcp_cursor_decode (text, strlen (text), &revision, &offset), 0);
    assert_true (revision == UINT64_MAX && offset == UINT64_MAX);
    const char *bad [] = { "", "abc", "0000000000001234000000000000006",
                           "00000000000012340000000000000064z",
                           "000000000000123400000000000000G4",
                           "000000000000123400000000000000A4", NULL };
    for (int i = 0; bad [i]; i++)
        assert_int_equal (mcp_cursor_decode (bad [i], strlen (bad [i]), &revision, &offset), -1);
    assert_int_equal (mcp_cursor_decode (NULL, 0, &revision, &offset), -1);
    //  a NUL inside the declared length
    assert_int_equal (mcp_cursor_decode ("0000000000001234\0" "000000000000064", 32,
                                         &revision, &offset), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_accept),
        cmocka_unit_test (test_content_type),
        cmocka_unit_test (test_protocol_versions),
        cmocka_unit_test (test_default_hosts),
        cmocka_unit_test (test_default_origins),
        cmocka_unit_test (test_configured_entries),
        cmocka_unit_test (test_cursor),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  test_mcp_era.c — which protocol generation a /mcp message speaks, and
    the 2026-07-28 request rules (actors/gateway/mcp_era.c).

    2025 traffic stays 2025 (no _meta version, a 2025 version in _meta,
    responses); 2026 refusals in the specification's order with their
    HTTP statuses and codes: -32602 for a missing or malformed envelope,
    -32020 for header mismatches (including Mcp-Name in base64),
    -32022 with {supported, requested}.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mcp_era.h"

#define META_OK "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
                "\"io.modelcontextprotocol/clientCapabilities\":{}," \
                "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}"

//  The verdict borrows from the message: it lives until the next call.
static json_t *s_message;

static mcp_era_t
s_classify (const char *text, const char *protocol, const char *method, const char *name)
{
    json_error_t error;
    json_decref (s_message);
    s_message = json_loads (text, JSON_ALLOW_NUL, &error);
    assert_non_null (s_message);
    mcp_era_headers_t headers = { protocol, method, name };
    mcp_era_t era;
    mcp_era_classify (s_message, &headers, &era);
    return era;
}

static void
test_legacy (void **state)
{
    (void) state;
    //  a 2025 client: no _meta version, any (or no) 2025 header
    mcp_era_t era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                "\"params\":{\"protocolVersion\":\"2025-11-25\"}}",
                                NULL, NULL, NULL);
    assert_false (era.modern);
    assert_int_equal (era.status, 0);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                      "2025-11-25", NULL, NULL);
    assert_false (era.modern);
    assert_int_equal (era.status, 0);
    //  a 2025 version in _meta is 2025 traffic
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                      "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2025-06-18\"}}}",
                      "2025-06-18", NULL, NULL);
    assert_false (era.modern);
    assert_int_equal (era.status, 0);
    //  a response
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "2026-07-28", NULL, NULL);
    assert_false (era.modern);
    assert_int_equal (era.status, 0);
    //  an unknown header without _meta stays with the 2025 rules (400 there)
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                      "v999", NULL, NULL);
    assert_false (era.modern);
}

static void
test_modern_ok (void **state)
{
    (void) state;
    mcp_era_t era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
                                "\"params\":{" META_OK "}}",
                                "2026-07-28", "tools/list", NULL);
    assert_true (era.modern);
    assert_int_equal (era.status, 0);
    assert_string_equal (era.client_name, "c");
    assert_null (era.log_level);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"a__b\"," META_OK "}}",
                      "2026-07-28", "tools/call", "a__b");
    assert_true (era.modern);
    assert_int_equal (era.status, 0);
    //  Mcp-Name in base64 ("a__b")
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\","
                      "\"params\":{\"name\":\"a__b\"," META_OK "}}",
                      "2026-07-28", "tools/call", "=?base64?YV9fYg==?=");
    assert_int_equal (era.status, 0);
    //  a 2026 notification needs neither _meta nor the standard headers
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                      "\"params\":{\"requestId\":1}}", "2026-07-28", NULL, NULL);
    assert_true (era.modern);
    assert_int_equal (era.status, 0);
    //  a log level
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                      "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                      "\"io.modelcontextprotocol/clientCapabilities\":{},"
                      "\"io.modelcontextprotocol/logLevel\":\"warning\"}}}",
                      "2026-07-28", "tools/list", NULL);
    assert_int_equal (era.status, 0);
    assert_string_equal (era.log_level, "warning");
    assert_null (era.client_name);
}

static void
s_expect (mcp_era_t era, int status, int code)
{
    assert_true (era.modern);
    assert_int_equal (era.status, status);
    assert_int_equal (era.code, code);
    assert_true (strlen (era.message) > 0);
}

static void
test_envelope (void **state)
{
    (void) state;
    //  header 2026, no _meta at all / no version in it
    mcp_era_t era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":101,\"method\":\"server/discover\","
                                "\"params\":{}}", "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, -32602);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":"
                      "{\"_meta\":{\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                      "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, -32602);
    //  no capabilities; capabilities not an object; version not a string
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":"
                      "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
                      "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, -32602);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":"
                      "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                      "\"io.modelcontextprotocol/clientCapabilities\":[]}}}",
                      "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, -32602);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":"
                      "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":7}}}",
                      "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, -32602);
    //  a log level that is not one
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                      "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                      "\"io.modelcontextprotocol/clientCapabilities\":{},"
                      "\"io.modelcontextprotocol/logLevel\":\"loud\"}}}",
                      "2026-07-28", "tools/list", NULL);
    s_expect (era, 400, -32602);
}

static void
test_versions (void **state)
{
    (void) state;
    //  unknown version in both: -32022 with what we speak and what was asked
    mcp_era_t era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":301,\"method\":\"server/discover\","
                                "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                                "\"v999.0.0\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                                "v999.0.0", "server/discover", NULL);
    s_expect (era, 400, MCP_UNSUPPORTED_VERSION);
    assert_non_null (era.data);
    assert_string_equal (json_string_value (json_object_get (era.data, "requested")), "v999.0.0");
    json_t *supported = json_object_get (era.data, "supported");
    assert_int_equal (json_array_size (supported), 4);
    assert_string_equal (json_string_value (json_array_get (supported, 0)), "2026-07-28");
    assert_string_equal (json_string_value (json_array_get (supported, 1)), "2025-11-25");
    json_decref (era.data);
    //  header and _meta disagree: -32020 (before the version check)
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":302,\"method\":\"server/discover\","
                      "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                      "\"v999.0.0\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                      "2026-07-28", "server/discover", NULL);
    s_expect (era, 400, MCP_HEADER_MISMATCH);
    assert_null (era.data);
    era = s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" META_OK "}}",
                      "2025-11-25", "tools/list", NULL);
    s_expect (era, 400, MCP_HEADER_MISMATCH);
}

static void
test_headers (void **state)
{
    (void) state;
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                       "\"params\":{\"name\":\"a__b\"," META_OK "}}";
    //  missing MCP-Protocol-Version, Mcp-Method; wrong method; method case
    s_expect (s_classify (call, NULL, "tools/call", "a__b"), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", NULL, "a__b"), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/list", "a__b"), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "Tools/Call", "a__b"), 400, MCP_HEADER_MISMATCH);
    //  Mcp-Name missing, different, a prefix, bad base64, base64 of another name
    s_expect (s_classify (call, "2026-07-28", "tools/call", NULL), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/call", "a__c"), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/call", "a__"), 400, MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/call", "=?base64?!!!?="), 400,
              MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/call", "=?base64?YV9fYw==?="), 400,
              MCP_HEADER_MISMATCH);
    s_expect (s_classify (call, "2026-07-28", "tools/call", "=?base64?" "?="), 400,
              MCP_HEADER_MISMATCH);
    //  a name with a NUL inside does not match its prefix
    s_expect (s_classify ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                          "\"params\":{\"name\":\"a\\u0000b\"," META_OK "}}",
                          "2026-07-28", "tools/call", "a"), 400, MCP_HEADER_MISMATCH);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_legacy),
        cmocka_unit_test (test_modern_ok),
        cmocka_unit_test (test_envelope),
        cmocka_unit_test (test_versions),
        cmocka_unit_test (test_headers),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    json_decref (s_message);
    return rc;
}

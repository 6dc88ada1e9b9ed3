/*  test_mcp_post.c — POST /mcp before a handler runs: the header rules and
    body framing (mcp_post.c) and the JSON-RPC envelope (mcp_message.c).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mcp_call.h"
#include "mcp_message.h"
#include "mcp_post.h"

#define BOTH "application/json, text/event-stream"
#define JSON "application/json"

static int
s_post (const char *accept, const char *type, int has_te, const char *te,
        int has_cl, const char *cl, mcp_post_t *out)
{
    mcp_post_headers_t headers = {
        accept ? 1 : 0, accept, type ? 1 : 0, type, has_te, te, has_cl, cl
    };
    mcp_post_check (&headers, 1u << 20, 16u << 20, out);
    return out->status;
}

static void
test_post_framing (void **state)
{
    (void) state;
    mcp_post_t post;
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "12", &post), 0);
    assert_int_equal (post.length, 12);
    assert_false (post.chunked);
    assert_false (post.close_after);
    assert_int_equal (s_post (BOTH, JSON, 1, " Chunked ", 0, NULL, &post), 0);
    assert_true (post.chunked);
    assert_true (post.close_after);
    assert_int_equal (s_post (JSON, JSON, 0, NULL, 1, "2", &post), 406);
    assert_false (post.close_after);        //  a small body is read and dropped
    assert_int_equal (s_post (NULL, JSON, 0, NULL, 1, "2", &post), 406);
    assert_int_equal (s_post (BOTH, "text/plain", 0, NULL, 1, "2", &post), 415);
    assert_int_equal (s_post (BOTH, JSON, 1, "chunked", 1, "2", &post), 400);
    assert_string_equal (post.message, "Bad Request: both Content-Length and Transfer-Encoding");
    assert_true (post.close_after);
    assert_int_equal (s_post (BOTH, JSON, 1, "gzip, chunked", 0, NULL, &post), 400);
    assert_int_equal (s_post (BOTH, JSON, -1, NULL, 0, NULL, &post), 400);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 0, NULL, &post), 411);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "-1", &post), 400);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "", &post), 400);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, -1, NULL, &post), 400);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "1048577", &post), 413);
    assert_false (post.close_after);        //  skippable: within 16 MiB
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "99999999999999999999", &post), 413);
    assert_true (post.close_after);
    assert_int_equal (s_post (BOTH, JSON, 0, NULL, 1, "1048576", &post), 0);
}

static int
s_parse (const char *body, mcp_message_t *out)
{
    int rc = mcp_message_parse (body, strlen (body), out);
    return rc ? out->code : 0;
}

static void
test_message (void **state)
{
    (void) state;
    mcp_message_t m;
    assert_int_equal (s_parse ("", &m), MCP_PARSE_ERROR);
    assert_null (m.message);
    assert_int_equal (s_parse ("{\"a\":1,\"a\":2}", &m), MCP_PARSE_ERROR);
    assert_int_equal (s_parse ("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &m),
                      MCP_INVALID_REQUEST);
    assert_non_null (strstr (m.error, "batches"));
    json_decref (m.message);
    const char *invalid [] = {
        "1", "{\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{}}",
        NULL
    };
    for (int i = 0; invalid [i]; i++) {
        assert_int_equal (s_parse (invalid [i], &m), MCP_INVALID_REQUEST);
        assert_null (m.id);
        json_decref (m.message);
    }
    assert_int_equal (s_parse ("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}", &m), 0);
    assert_string_equal (m.method, "ping");
    assert_string_equal (json_string_value (m.id), "a");
    assert_true (json_is_object (m.params));   //  added: handlers read an object
    assert_ptr_equal (json_object_get (m.message, "params"), m.params);
    json_decref (m.message);
    assert_int_equal (s_parse ("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":[1]}", &m), 0);
    assert_true (m.params_array);
    assert_null (m.params);
    assert_null (m.id);
    json_decref (m.message);
    assert_int_equal (s_parse ("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{}}", &m), 0);
    assert_true (m.is_response);
    assert_null (m.id);
    assert_null (m.method);
    assert_null (m.params);
    json_decref (m.message);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_post_framing),
        cmocka_unit_test (test_message),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

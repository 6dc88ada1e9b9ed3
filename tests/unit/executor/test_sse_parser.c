/*  test_sse_parser.c — the bounded SSE reader of external MCP sources
    (actors/executor/sse_parser.c): events split at every byte give the
    same events as whole; CRLF split between pieces is one line ending;
    comments (keepalives) counted, not dispatched; an event without data
    not dispatched; the line and data bounds and a NUL refuse the stream
    for good; mcp_client_check_answer tells ours, others' and
    malformed JSON-RPC answers apart; mcp_client_server_request answers
    the source's own requests as a client with no capability. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "mcp_client.h"
#include "sse_parser.h"

typedef struct {
    char   log [4096];      //  "name|data|id;" per event
    int    stop_after;      //  stop (return 7) after this many events; 0 never
    int    seen;
} s_sink_t;

static int
s_on_event (void *arg, const sse_event_t *event)
{
    s_sink_t *sink = arg;
    size_t used = strlen (sink->log);
    snprintf (sink->log + used, sizeof sink->log - used, "%s|%s|%s;",
              event->name, event->data, event->id);
    sink->seen++;
    return sink->stop_after && sink->seen >= sink->stop_after ? 7 : 0;
}

static const char *s_stream =
    "\xEF\xBB\xBF: keepalive\r\n"
    "event: endpoint\r\n"
    "data: /messages?s=1\r\n\r\n"
    "id: 42\n"
    "data:{\"a\":1}\n"
    "data:  two spaces\n"
    "retry: 100\n"
    "unknown: x\n"
    "\n"
    "event: nodata\n"
    "\n"
    "data\r"
    "\r"
    "data: tail-waits";

static const char *s_expected =
    "endpoint|/messages?s=1|;"
    "message|{\"a\":1}\n two spaces|42;"
    "message||42;";

static void
test_whole_and_split (void **state)
{
    (void) state;
    size_t len = strlen (s_stream);
    for (size_t cut = 0; cut <= len; cut++) {
        s_sink_t sink = { .log = "" };
        sse_parser_t *p = sse_parser_new (1024, s_on_event, &sink);
        assert_int_equal (sse_parser_feed (p, s_stream, cut), 0);
        assert_int_equal (sse_parser_feed (p, s_stream + cut, len - cut), 0);
        assert_string_equal (sink.log, s_expected);
        assert_int_equal (sse_parser_comments (p), 1);
        sse_parser_destroy (&p);
    }
    //  one byte at a time
    s_sink_t sink = { .log = "" };
    sse_parser_t *p = sse_parser_new (1024, s_on_event, &sink);
    for (size_t i = 0; i < len; i++)
        assert_int_equal (sse_parser_feed (p, s_stream + i, 1), 0);
    assert_string_equal (sink.log, s_expected);
    assert_int_equal (sse_parser_events (p), 3);
    sse_parser_destroy (&p);
}

static void
test_stop_value (void **state)
{
    (void) state;
    s_sink_t sink = { .log = "", .stop_after = 1 };
    sse_parser_t *p = sse_parser_new (1024, s_on_event, &sink);
    assert_int_equal (sse_parser_feed (p, "data: a\n\ndata: b\n\n", 18), 7);
    assert_string_equal (sink.log, "message|a|;");
    sse_parser_destroy (&p);
}

static void
test_bounds (void **state)
{
    (void) state;
    s_sink_t sink = { .log = "" };
    //  data over data_max, across two lines
    sse_parser_t *p = sse_parser_new (8, s_on_event, &sink);
    assert_int_equal (sse_parser_feed (p, "data: 1234\ndata: 5678\n", 22), -1);
    assert_non_null (strstr (sse_parser_error (p), "larger"));
    assert_int_equal (sse_parser_feed (p, "\n", 1), -1);       //  broken for good
    assert_string_equal (sink.log, "");
    sse_parser_destroy (&p);
    //  a NUL byte
    p = sse_parser_new (1024, s_on_event, &sink);
    assert_int_equal (sse_parser_feed (p, "data: a\0b\n\n", 11), -1);
    assert_non_null (strstr (sse_parser_error (p), "NUL"));
    sse_parser_destroy (&p);
    //  a line without an end, longer than SSE_LINE_MAX, fed in pieces
    p = sse_parser_new (SSE_LINE_MAX * 2, s_on_event, &sink);
    char *chunk = malloc (65536);
    memset (chunk, 'x', 65536);
    int rc = 0;
    size_t fed = 0;
    while (rc == 0 && fed <= SSE_LINE_MAX) {
        rc = sse_parser_feed (p, chunk, 65536);
        fed += 65536;
    }
    assert_int_equal (rc, -1);
    assert_non_null (strstr (sse_parser_error (p), "line"));
    free (chunk);
    sse_parser_destroy (&p);
    //  keepalives forever are only counted
    p = sse_parser_new (16, s_on_event, &sink);
    for (int i = 0; i < 100000; i++)
        assert_int_equal (sse_parser_feed (p, ":\n", 2), 0);
    assert_int_equal (sse_parser_comments (p), 100000);
    assert_int_equal (sse_parser_events (p), 0);
    sse_parser_destroy (&p);
}

static void
test_check_answer (void **state)
{
    (void) state;
    char err [256];
    json_t *result = NULL;
    json_t *m = json_loads ("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"x\":1}}", 0, NULL);
    assert_int_equal (mcp_client_check_answer (m, 3, &result, err, sizeof err), 0);
    assert_ptr_equal (result, json_object_get (m, "result"));
    assert_int_equal (mcp_client_check_answer (m, 4, &result, err, sizeof err), 1);
    json_decref (m);
    m = json_loads ("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", 0, NULL);
    assert_int_equal (mcp_client_check_answer (m, 3, &result, err, sizeof err), 1);
    json_decref (m);
    m = json_loads ("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,"
                    "\"message\":\"nope\"}}", 0, NULL);
    assert_int_equal (mcp_client_check_answer (m, 3, &result, err, sizeof err), -1);
    assert_non_null (strstr (err, "-32601: nope"));
    json_decref (m);
    static const char *bad [] = {
        "[]",
        "{\"id\":3,\"result\":{}}",
        "{\"jsonrpc\":\"1.0\",\"id\":3,\"result\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{},\"error\":{\"code\":1,\"message\":\"m\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[1]}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":\"1\",\"message\":\"m\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}",
        NULL
    };
    for (int i = 0; bad [i]; i++) {
        m = json_loads (bad [i], 0, NULL);
        assert_non_null (m);
        if (mcp_client_check_answer (m, 3, &result, err, sizeof err) != -1)
            fail_msg ("accepted: %s", bad [i]);
        json_decref (m);
    }
}

//  The source's own requests: ping gets {}, anything else -32601, each
//  with the request's id (integer or string) as it was; notifications
//  and answers get nothing; a malformed request is refused.
static void
test_server_request (void **state)
{
    (void) state;
    char err [256];
    json_t *reply = NULL;
    json_t *m = json_loads ("{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"method\":\"ping\"}",
                            0, NULL);
    assert_int_equal (mcp_client_server_request (m, &reply, err, sizeof err), 1);
    char *text = json_dumps (reply, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal (text, "{\"id\":\"p-1\",\"jsonrpc\":\"2.0\",\"result\":{}}");
    free (text);
    json_decref (reply);
    json_decref (m);
    static const char *refused [] = { "elicitation/create", "sampling/createMessage",
                                      "roots/list", "tools/call", NULL };
    for (int i = 0; refused [i]; i++) {
        m = json_pack ("{s:s, s:i, s:s, s:{}}", "jsonrpc", "2.0", "id", 7 + i,
                       "method", refused [i], "params");
        assert_int_equal (mcp_client_server_request (m, &reply, err, sizeof err), 1);
        assert_int_equal (json_integer_value (json_object_get (reply, "id")), 7 + i);
        assert_int_equal (json_integer_value (json_object_get (json_object_get (reply,
                          "error"), "code")), -32601);
        assert_null (json_object_get (reply, "result"));
        json_decref (reply);
        json_decref (m);
    }
    static const char *nothing [] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}",
        "[]",
        NULL
    };
    for (int i = 0; nothing [i]; i++) {
        m = json_loads (nothing [i], 0, NULL);
        assert_int_equal (mcp_client_server_request (m, &reply, err, sizeof err), 0);
        assert_null (reply);
        json_decref (m);
    }
    char long_id [MCP_CLIENT_ASK_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id [sizeof long_id - 1] = '\0';
    json_t *bad [] = {
        json_pack ("{s:s, s:n, s:s}", "jsonrpc", "2.0", "id", "method", "ping"),
        json_pack ("{s:s, s:f, s:s}", "jsonrpc", "2.0", "id", 1.5, "method", "ping"),
        json_pack ("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", long_id, "method", "ping"),
        json_pack ("{s:s, s:i, s:i}", "jsonrpc", "2.0", "id", 1, "method", 5),
        json_pack ("{s:s, s:i, s:s}", "jsonrpc", "1.0", "id", 1, "method", "ping"),
        json_pack ("{s:i, s:s}", "id", 1, "method", "ping"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_non_null (bad [i]);
        if (mcp_client_server_request (bad [i], &reply, err, sizeof err) != -1)
            fail_msg ("answered malformed request %zu", i);
        assert_null (reply);
        json_decref (bad [i]);
    }
}

//  A tools/list page: kept tools reduced to what MCPbox keeps; a tool
//  without a name or inputSchema object, a control character in a name, a
//  name listed twice (also across pages) or an oversized cursor refuse it.
static void
test_tools_page (void **state)
{
    (void) state;
    char err [256];
    const char *next = NULL;
    json_t *all = json_array (), *seen = json_object ();
    json_t *page = json_loads ("{\"tools\":[{\"name\":\"a\",\"inputSchema\":{},"
                               "\"extra\":1,\"title\":\"A\"}],\"nextCursor\":\"p2\"}", 0, NULL);
    assert_int_equal (mcp_client_tools_page (page, all, seen, &next, err, sizeof err), 0);
    assert_string_equal (next, "p2");
    json_t *kept = json_array_get (all, 0);
    assert_string_equal (json_string_value (json_object_get (kept, "description")), "");
    assert_string_equal (json_string_value (json_object_get (kept, "title")), "A");
    assert_null (json_object_get (kept, "extra"));
    json_decref (page);
    static const char *bad [] = {
        "{}",
        "{\"tools\":[{\"inputSchema\":{}}]}",
        "{\"tools\":[{\"name\":\"b\"}]}",
        "{\"tools\":[{\"name\":\"b\",\"inputSchema\":[]}]}",
        "{\"tools\":[{\"name\":\"b\\n\",\"inputSchema\":{}}]}",
        "{\"tools\":[{\"name\":\"\",\"inputSchema\":{}}]}",
        "{\"tools\":[{\"name\":\"b\",\"description\":7,\"inputSchema\":{}}]}",
        "{\"tools\":[{\"name\":\"a\",\"inputSchema\":{}}]}",      //  seen on page 1
        NULL
    };
    for (int i = 0; bad [i]; i++) {
        page = json_loads (bad [i], 0, NULL);
        assert_non_null (page);
        if (mcp_client_tools_page (page, all, seen, &next, err, sizeof err) != -1)
            fail_msg ("accepted: %s", bad [i]);
        json_decref (page);
    }
    assert_int_equal (json_array_size (all), 1);
    json_decref (all);
    json_decref (seen);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_whole_and_split),
        cmocka_unit_test (test_stop_value),
        cmocka_unit_test (test_bounds),
        cmocka_unit_test (test_check_answer),
        cmocka_unit_test (test_server_request),
        cmocka_unit_test (test_tools_page),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

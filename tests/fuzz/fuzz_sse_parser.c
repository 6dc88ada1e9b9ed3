/*  fuzz_sse_parser — libFuzzer target for the SSE reader of external MCP
    sources (actors/executor/sse_parser.c) and the JSON-RPC answer check
    that follows it (mcp_client_check_answer), and of a tools/list page
    in an answer (mcp_client_tools_page), and the answer to a request of
    the source's own (mcp_client_server_request). The first byte picks where
    the rest is split into two pieces, so line endings and BOMs torn
    across reads are covered. Every event must stay within its bound and
    be NUL-free; every check must return -1, 0 or 1 with a result object
    only on 0. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "mcp_client.h"
#include "sse_parser.h"

#define DATA_MAX 4096

static int
s_event (void *arg, const sse_event_t *event)
{
    (void) arg;
    if (event->data_len > DATA_MAX || strlen (event->data) != event->data_len
    ||  strlen (event->name) > SSE_NAME_MAX || strlen (event->id) > SSE_ID_MAX)
        __builtin_trap ();
    json_t *msg = json_loadb (event->data, event->data_len, JSON_REJECT_DUPLICATES, NULL);
    if (msg) {
        char err [MCP_CLIENT_ERROR_MAX];
        json_t *result = NULL;
        int rc = mcp_client_check_answer (msg, 1, &result, err, sizeof err);
        if (rc < -1 || rc > 1 || (rc == 0 && !json_is_object (result)))
            __builtin_trap ();
        //  an answer to the source's request: its id, exactly one of
        //  result {} and error -32601, and only for a request
        json_t *reply = NULL;
        int asked = mcp_client_server_request (msg, &reply, err, sizeof err);
        if (asked < -1 || asked > 1 || (asked == 1) != (reply != NULL))
            __builtin_trap ();
        if (reply) {
            json_t *id = json_object_get (reply, "id");
            json_t *res = json_object_get (reply, "result");
            json_t *error = json_object_get (reply, "error");
            if (!json_is_object (msg) || !json_object_get (msg, "method")
            ||  !json_equal (id, json_object_get (msg, "id"))
            ||  (json_is_string (id) && json_string_length (id) > MCP_CLIENT_ASK_ID_MAX)
            ||  (res != NULL) == (error != NULL)
            ||  (res && json_object_size (res) != 0)
            ||  (error && json_integer_value (json_object_get (error, "code")) != -32601))
                __builtin_trap ();
            json_decref (reply);
        }
        if (rc == 0) {
            //  a tools/list page: what is kept is checked and bounded
            json_t *all = json_array (), *seen = json_object ();
            const char *next = NULL;
            if (mcp_client_tools_page (result, all, seen, &next, err, sizeof err) == 0) {
                size_t i;
                json_t *tool;
                json_array_foreach (all, i, tool) {
                    json_t *name = json_object_get (tool, "name");
                    if (!json_is_string (name) || json_string_length (name) == 0
                    ||  json_string_length (name) > MCP_CLIENT_TOOL_NAME_MAX
                    ||  !json_is_object (json_object_get (tool, "input_schema"))
                    ||  !json_is_string (json_object_get (tool, "description")))
                        __builtin_trap ();
                }
                if (json_array_size (all) > MCP_CLIENT_TOOLS_MAX
                ||  (next && strlen (next) > MCP_CLIENT_CURSOR_MAX))
                    __builtin_trap ();
            }
            json_decref (all);
            json_decref (seen);
        }
        json_decref (msg);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = data [0] % size;
    const char *rest = (const char *) data + 1;
    size_t len = size - 1;
    if (cut > len)
        cut = len;
    sse_parser_t *p = sse_parser_new (DATA_MAX, s_event, NULL);
    if (sse_parser_feed (p, rest, cut) == 0)
        sse_parser_feed (p, rest + cut, len - cut);
    sse_parser_destroy (&p);
    return 0;
}

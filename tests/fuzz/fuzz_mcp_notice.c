/*  fuzz_mcp_notice — libFuzzer target for the gateway's rendering of a bus
    notice into an MCP notification (actors/gateway/mcp_notice.c): any body
    a worker could send must be refused, filtered, or become a notification
    that is one of the two methods and carries the client's own token. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "mcp_notice.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static json_t *token;
    if (!token)
        token = json_string ("the-clients-token");
    //  the first byte picks the client's log level (-1 .. 7)
    int rank = size ? (int) (data [0] % 9) - 1 : -1;
    json_t *out = NULL;
    mcp_notice_status_t status = mcp_notice_render (size ? data + 1 : data, size ? size - 1 : 0,
                                                    token, rank, "srv__tool", &out);
    if ((status == MCP_NOTICE_SEND) != (out != NULL))
        __builtin_trap ();
    if (out) {
        const char *method = json_string_value (json_object_get (out, "method"));
        json_t *params = json_object_get (out, "params");
        if (!method || !json_is_object (params))
            __builtin_trap ();
        if (strcmp (method, "notifications/progress") == 0) {
            if (!json_equal (json_object_get (params, "progressToken"), token))
                __builtin_trap ();
        }
        else
        if (strcmp (method, "notifications/message") != 0 || rank < 0)
            __builtin_trap ();
        json_decref (out);
    }
    return 0;
}

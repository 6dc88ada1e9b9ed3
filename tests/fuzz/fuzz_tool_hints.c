/*  fuzz_tool_hints — libFuzzer target for tool_hints_read, the reader of
    MCP tool annotations in registry and approval requests. Any msgpack
    value that passes the raw scan (bounded sizes; duplicate and non-string
    keys still included, which msg_decode would refuse next) must be read
    or refused with a message; on success
    the output is the canonical form, which reads back the same. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "msg.h"
#include "tool_hints.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  msg_scan first, as msg_decode does: msgpack-c would allocate for the
    //  element counts a header declares before reading them
    msg_limits_t limits = msg_default_limits;
    limits.max_size = 4096;
    const char *why = NULL;
    if (!msg_scan (data, size, &limits, &why))
        return 0;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (msgpack_unpack_next (&unpacked, (const char *) data, size, NULL)
        != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy (&unpacked);
        return 0;
    }
    char out [TOOL_HINTS_JSON_MAX];
    bus_err_t err = { 0 };
    int rc = tool_hints_read (&unpacked.data, "annotations", out, &err);
    if (rc < 0 && (err.code != BUS_ERR_BAD_REQUEST || !*err.message))
        abort ();
    if (rc == 0) {
        size_t len = strlen (out);
        if (len < 2 || out [0] != '{' || out [len - 1] != '}')
            abort ();
    }
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}

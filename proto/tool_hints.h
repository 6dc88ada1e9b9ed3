/*  tool_hints.h — a tool's MCP annotations: the four behaviour hints.

    readOnlyHint, destructiveHint, idempotentHint, openWorldHint, each a
    boolean, each optional. The LLM may suggest them (registry: stored with
    the tool version as its suggestion); the admin sets them on review
    (approval: stored with the review of that code hash), and only those
    reach tools/list. Both actors read them from a request with
    tool_hints_read, so a suggestion and a decision obey one rule and are
    stored as the same canonical JSON text: the hints present, in the order
    above, e.g. {"readOnlyHint":true,"openWorldHint":false}.
*/
#ifndef MCPBOX_PROTO_TOOL_HINTS_H
#define MCPBOX_PROTO_TOOL_HINTS_H

#include <msgpack.h>
#include "bus_errors.h"

#define TOOL_HINTS_COUNT    4
#define TOOL_HINTS_JSON_MAX 128     //  all four true, with braces and NUL

extern const char *const tool_hints_names [TOOL_HINTS_COUNT];

//  The map under `key` in `root`: 0 when present and valid (out holds its
//  canonical JSON text), 1 when absent or nil (out ""), -1 with a
//  bad_request naming the key and the offending hint otherwise (not a map,
//  an unknown key, a value that is not true/false, a hint named twice).
int tool_hints_read (const msgpack_object *root, const char *key,
                     char out [TOOL_HINTS_JSON_MAX], bus_err_t *err);

#endif

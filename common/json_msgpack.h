/*  json_msgpack.h — convert between jansson values and msgpack.

    Bodies on the bus are msgpack; MCP, the sandbox pipes and the REST API
    speak JSON. Both directions are bounded in depth, and refuse what JSON
    cannot hold (binary, non-string map keys, NaN/inf) rather than guess.
*/
#ifndef MCPBOX_JSON_MSGPACK_H
#define MCPBOX_JSON_MSGPACK_H

#include <jansson.h>
#include "msg.h"

#define JSON_MSGPACK_MAX_DEPTH 64

//  New reference, or NULL (depth, binary, non-string key, invalid UTF-8).
json_t *json_from_msgpack (const msgpack_object *obj);

//  Pack `value` into w. -1 (and w left partially written: discard it) on a
//  value deeper than the limit.
int     msgw_json (msgw_t *w, const json_t *value);

#endif

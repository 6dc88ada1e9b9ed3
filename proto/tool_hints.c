/*  tool_hints.c — read and canonicalise MCP tool annotations. See tool_hints.h.
*/
#include <stdio.h>
#include <string.h>
#include "msg.h"
#include "tool_hints.h"

const char *const tool_hints_names [TOOL_HINTS_COUNT] = {
    "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"
};

int
tool_hints_read (const msgpack_object *root, const char *key,
                 char out [TOOL_HINTS_JSON_MAX], bus_err_t *err)
{
    out [0] = 0;
    const msgpack_object *map = root && root->type == MSGPACK_OBJECT_MAP
                              ? msg_map_get (root, key) : NULL;
    if (!map || map->type == MSGPACK_OBJECT_NIL)
        return 1;
    if (map->type != MSGPACK_OBJECT_MAP)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be an object of "
                            "readOnlyHint, destructiveHint, idempotentHint, "
                            "openWorldHint (each true or false)", key);
    int value [TOOL_HINTS_COUNT] = { -1, -1, -1, -1 };
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        const msgpack_object *v = &map->via.map.ptr [i].val;
        size_t which = TOOL_HINTS_COUNT;
        if (k->type == MSGPACK_OBJECT_STR)
            for (size_t h = 0; h < TOOL_HINTS_COUNT; h++)
                if (k->via.str.size == strlen (tool_hints_names [h])
                &&  memcmp (k->via.str.ptr, tool_hints_names [h], k->via.str.size) == 0)
                    which = h;
        if (which == TOOL_HINTS_COUNT) {
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size <= 40
            &&  !memchr (k->via.str.ptr, 0, k->via.str.size))
                return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: unknown hint '%.*s' "
                                    "(readOnlyHint, destructiveHint, idempotentHint, "
                                    "openWorldHint)", key, (int) k->via.str.size,
                                    k->via.str.ptr);
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: unknown hint (readOnlyHint, "
                                "destructiveHint, idempotentHint, openWorldHint)", key);
        }
        if (value [which] != -1)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.%s: named twice", key,
                                tool_hints_names [which]);
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s.%s: must be true or false",
                                key, tool_hints_names [which]);
        value [which] = v->via.boolean ? 1 : 0;
    }
    size_t used = 0;
    out [used++] = '{';
    for (size_t h = 0; h < TOOL_HINTS_COUNT; h++) {
        if (value [h] < 0)
            continue;
        int n = snprintf (out + used, TOOL_HINTS_JSON_MAX - used, "%s\"%s\":%s",
                          used > 1 ? "," : "", tool_hints_names [h],
                          value [h] ? "true" : "false");
        used += (size_t) n;         //  fits: TOOL_HINTS_JSON_MAX holds all four
    }
    out [used++] = '}';
    out [used] = 0;
    return 0;
}

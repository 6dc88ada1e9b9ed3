/*  validate.c — what the registry accepts in a request field: types,
    names, sizes, patterns (docs/BUS_OPS.md, registry).

        server name   ^[a-z][a-z0-9_]*$, <= 61, no "__" (so that
                      "{server}__{tool}" splits at its first "__")
        tool name     ^[a-z][a-z0-9_]*$, <= 61
        full name     "{server}__{tool}" <= 64: what MCP clients (Claude,
                      Cursor, OpenAI) accept as a tool name. Names stored
                      before this rule (server <= 64, tool <= 255) still load.
        ids           UUID 8-4-4-4-12 hex (lower-cased here)
        text          UTF-8 (shortest form, no surrogates), no NUL; bounded
                      in bytes and/or characters (code points)
        integers      bounded; a float or a string is the wrong type
        booleans      true/false only

    Every refusal is a bad_request whose message starts with the field name.
    The generic readers (text, ids, integers, booleans, enums) are the
    shared ones of common/fields.h; these are the registry's names. Pure
    functions: no I/O, so tests/unit can drive them directly.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "registry.h"

//  ^[a-z][a-z0-9_]*$ of 1..max bytes.
static int
s_identifier (const char *key, const char *text, size_t len, size_t max,
              bus_err_t *err)
{
    if (len == 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must not be empty", key);
    if (len > max)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: at most %zu characters "
                         "(so that {server}__{tool} fits in the %d characters MCP "
                         "clients accept)", key, max, REG_FULL_NAME_MAX);
    bool ok = text [0] >= 'a' && text [0] <= 'z';
    for (size_t i = 1; i < len && ok; i++)
        ok = (text [i] >= 'a' && text [i] <= 'z')
          || (text [i] >= '0' && text [i] <= '9') || text [i] == '_';
    if (!ok)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                         "%s: must match ^[a-z][a-z0-9_]*$ (lower-case letter first, "
                         "then lower-case letters, digits, underscores)", key);
    return 0;
}

int
validate_server_name (const char *key, const char *text, size_t len, bus_err_t *err)
{
    if (s_identifier (key, text, len, REG_NEW_NAME_MAX, err))
        return -1;
    for (size_t i = 0; i + 1 < len; i++)
        if (text [i] == '_' && text [i + 1] == '_')
            return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                             "%s: must not contain \"__\" (it separates server and "
                             "tool in tool names)", key);
    return 0;
}

int
validate_tool_name (const char *key, const char *text, size_t len, bus_err_t *err)
{
    return s_identifier (key, text, len, REG_NEW_NAME_MAX, err);
}

int
validate_full_name (const char *key, const char *server, size_t server_len,
                    size_t tool_len, bus_err_t *err)
{
    size_t full = server_len + 2 + tool_len;
    if (full <= REG_FULL_NAME_MAX)
        return 0;
    size_t room = server_len + 3 <= REG_FULL_NAME_MAX
                ? REG_FULL_NAME_MAX - 2 - server_len : 0;
    return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                     "%s: the full tool name {server}__{tool} would be %zu characters; "
                     "MCP clients accept at most %d, so on server '%.*s' a tool name "
                     "may have at most %zu", key, full, REG_FULL_NAME_MAX,
                     (int) server_len, server, room);
}

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
    A field that is absent or nil counts as absent. Pure functions over the
    decoded request: no I/O, so tests/unit can drive them directly.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "registry.h"

size_t
validate_chars (const char *text, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) text [i] & 0xc0) != 0x80)
            count++;
    return count;
}

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

//  The value under key, or NULL when absent or nil.
static const msgpack_object *
s_value (const msgpack_object *root, const char *key)
{
    const msgpack_object *value = msg_map_get (root, key);
    return value && value->type != MSGPACK_OBJECT_NIL ? value : NULL;
}

static int
s_absent (const char *key, bool required, bus_err_t *err)
{
    if (required)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: required", key);
    return 1;
}

int
field_str (const msgpack_object *root, const char *key, bool required,
           size_t max_bytes, size_t max_chars, const char **ptr, size_t *len,
           bus_err_t *err)
{
    *ptr = "";
    *len = 0;
    if (!s_value (root, key))
        return s_absent (key, required, err);
    const char *text = NULL;
    size_t size = 0;
    if (msg_get_str (root, key, &text, &size) != MSG_FIELD_OK)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a string", key);
    if (max_bytes && size > max_bytes)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: at most %zu bytes (got %zu)",
                         key, max_bytes, size);
    if (!utf8_valid (text, size))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                         "%s: must be UTF-8 text without NUL", key);
    if (max_chars && validate_chars (text, size) > max_chars)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: at most %zu characters",
                         key, max_chars);
    *ptr = text;
    *len = size;
    return 0;
}

int
field_id (const msgpack_object *root, const char *key, bool required,
          char out [REG_ID_LEN + 1], bus_err_t *err)
{
    out [0] = 0;
    if (!s_value (root, key))
        return s_absent (key, required, err);
    const char *text = NULL;
    size_t size = 0;
    if (msg_get_str (root, key, &text, &size) != MSG_FIELD_OK)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a string", key);
    if (!ids_uuid_parse (text, size, out))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                         "%s: must be a UUID (8-4-4-4-12 hex digits)", key);
    return 0;
}

int
field_int (const msgpack_object *root, const char *key, bool required,
           int64_t min, int64_t max, int64_t *out, bus_err_t *err)
{
    if (!s_value (root, key))
        return s_absent (key, required, err);
    int64_t value = 0;
    msg_field_t rc = msg_get_int (root, key, &value);
    if (rc == MSG_FIELD_TOO_LONG)
        value = INT64_MAX;          //  a huge positive number: out of range
    else
    if (rc != MSG_FIELD_OK)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be an integer", key);
    if (value < min || value > max)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be between %lld and %lld",
                         key, (long long) min, (long long) max);
    *out = value;
    return 0;
}

int
field_bool (const msgpack_object *root, const char *key, bool *out, bus_err_t *err)
{
    if (!s_value (root, key))
        return 1;
    if (msg_get_bool (root, key, out) != MSG_FIELD_OK)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be true or false", key);
    return 0;
}

int
field_enum (const msgpack_object *root, const char *key,
            const char *const *choices, const char **out, bus_err_t *err)
{
    if (!s_value (root, key))
        return 1;
    const char *text = NULL;
    size_t size = 0;
    if (msg_get_str (root, key, &text, &size) != MSG_FIELD_OK)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a string", key);
    char list [160] = "";
    size_t used = 0;
    for (size_t i = 0; choices [i]; i++) {
        if (strlen (choices [i]) == size && memcmp (choices [i], text, size) == 0) {
            *out = choices [i];
            return 0;
        }
        int n = snprintf (list + used, sizeof list - used, "%s%s", i ? ", " : "",
                          choices [i]);
        if (n > 0 && (size_t) n < sizeof list - used)
            used += (size_t) n;
    }
    return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be one of %s", key, list);
}

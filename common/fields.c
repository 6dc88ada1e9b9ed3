/*  fields.c — the one set of request-field readers (fields.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fields.h"
#include "utf8.h"

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
    if (max_chars && utf8_chars (text, size) > max_chars)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: at most %zu characters",
                         key, max_chars);
    *ptr = text;
    *len = size;
    return 0;
}

int
field_text (const msgpack_object *root, const char *key, bool required, size_t max,
            bool nonblank, char *out, bus_err_t *err)
{
    out [0] = 0;
    const char *ptr;
    size_t len;
    int rc = field_str (root, key, required, max, 0, &ptr, &len, err);
    if (rc != 0)
        return rc;
    memcpy (out, ptr, len);
    out [len] = 0;
    if (nonblank && strspn (out, " \t\r\n\f\v") == len)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must not be empty", key);
    return 0;
}

int
field_id (const msgpack_object *root, const char *key, bool required,
          char out [IDS_UUID_LEN + 1], bus_err_t *err)
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

int
field_keys_only (const msgpack_object *map, const char *where, const char *const *keys,
                 bus_err_t *err)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a map", where);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        bool known = false;
        for (size_t j = 0; keys [j] && !known; j++)
            known = k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen (keys [j])
                 && memcmp (k->via.str.ptr, keys [j], k->via.str.size) == 0;
        if (!known)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: unknown field '%.*s'", where,
                                (int) (k->via.str.size > 64 ? 64 : k->via.str.size),
                                k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "");
    }
    return 0;
}

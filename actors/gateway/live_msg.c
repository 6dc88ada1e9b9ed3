/*  live_msg.c — the /ws wire. See live_msg.h. */
#include <string.h>

#include "json_msgpack.h"
#include "live_msg.h"
#include "msg.h"

//  An activity event is small (message 2000 bytes, details 16 KB): a bound
//  well above that.
static const msg_limits_t s_event_limits = {
    .max_size = 64 * 1024, .max_depth = 16, .max_items = 4096, .max_str = 32 * 1024,
};

static const char *s_levels [] = { "", "debug", "info", "warning", "error", NULL };

live_level_t
live_level (const char *name)
{
    for (int i = 1; name && s_levels [i]; i++)
        if (strcmp (name, s_levels [i]) == 0)
            return (live_level_t) i;
    return LIVE_LEVEL_ANY;
}

static bool
s_text_ok (const char *text, size_t len, const char *extra, bool upper)
{
    if (len == 0 || len > LIVE_FILTER_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || (upper && c >= 'A' && c <= 'Z') || (c && strchr (extra, c))))
            return false;
    }
    return true;
}

static live_msg_kind_t
s_bad (const char **why, const char *text)
{
    if (why)
        *why = text;
    return LIVE_MSG_BAD;
}

static live_msg_kind_t
s_filter (json_t *root, live_filter_t *out, const char **why)
{
    live_filter_t filter;
    memset (&filter, 0, sizeof filter);
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        if (strcmp (key, "type") == 0)
            continue;
        if (strcmp (key, "server_id") == 0) {
            if (json_is_null (value))
                continue;
            if (!json_is_string (value)
            ||  !s_text_ok (json_string_value (value), json_string_length (value), "._:-", true))
                return s_bad (why, "server_id: 1-64 of [A-Za-z0-9._:-], or null");
            memcpy (filter.server_id, json_string_value (value), json_string_length (value) + 1);
        }
        else
        if (strcmp (key, "types") == 0) {
            if (json_is_null (value))
                continue;
            if (!json_is_array (value) || json_array_size (value) > LIVE_FILTER_TYPES)
                return s_bad (why, "types: a list of at most 16 prefixes, or null");
            size_t i;
            json_t *item;
            json_array_foreach (value, i, item) {
                if (!json_is_string (item)
                ||  !s_text_ok (json_string_value (item), json_string_length (item), "._", false))
                    return s_bad (why, "types: each prefix 1-64 of [a-z0-9_.]");
                memcpy (filter.types [i], json_string_value (item), json_string_length (item) + 1);
            }
            filter.type_count = json_array_size (value);
        }
        else
        if (strcmp (key, "level") == 0) {
            if (json_is_null (value))
                continue;
            filter.level = json_is_string (value) ? live_level (json_string_value (value))
                                                  : LIVE_LEVEL_ANY;
            if (filter.level == LIVE_LEVEL_ANY)
                return s_bad (why, "level: debug, info, warning, error or null");
        }
        else
            return s_bad (why, "filter: only server_id, types and level");
    }
    *out = filter;
    return LIVE_MSG_FILTER;
}

live_msg_kind_t
live_msg_parse (const char *text, size_t len, live_filter_t *filter, const char **why)
{
    if (!text || len == 0 || len > LIVE_MSG_IN_MAX)
        return s_bad (why, "a message is one JSON object of at most 4096 bytes");
    json_error_t error;
    json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object (root)) {
        json_decref (root);
        return s_bad (why, "a message is one JSON object");
    }
    const char *type = json_string_value (json_object_get (root, "type"));
    live_msg_kind_t kind;
    if (type && strcmp (type, "ping") == 0)
        kind = json_object_size (root) == 1 ? LIVE_MSG_PING
                                            : s_bad (why, "ping: no other fields");
    else
    if (type && strcmp (type, "filter") == 0)
        kind = s_filter (root, filter, why);
    else
        kind = s_bad (why, "type: ping or filter");
    json_decref (root);
    return kind;
}

bool
live_filter_match (const live_filter_t *filter, const char *type, const char *level,
                   const char *server_id)
{
    if (*filter->server_id && (!server_id || strcmp (server_id, filter->server_id) != 0))
        return false;
    if (filter->level != LIVE_LEVEL_ANY && live_level (level) < filter->level)
        return false;
    if (filter->type_count == 0)
        return true;
    for (size_t i = 0; i < filter->type_count; i++)
        if (type && strncmp (type, filter->types [i], strlen (filter->types [i])) == 0)
            return true;
    return false;
}

//  The keys of an activity record and whether each must be a string.
static const struct {
    const char *key;
    bool        required;
} s_fields [] = {
    { "type", true }, { "level", true }, { "server_id", false }, { "message", false },
    { "source", false }, { "created_at", true }, { NULL, false }
};

json_t *
live_msg_log (const void *body, size_t size, const char **type, const char **level,
              const char **server_id)
{
    msg_t *msg = msg_decode (body, size, &s_event_limits, NULL);
    json_t *record = msg ? json_from_msgpack (msg_root (msg)) : NULL;
    msg_destroy (&msg);
    if (!json_is_object (record))
        goto bad;
    json_t *data = json_object ();
    json_t *id = json_object_get (record, "id");
    if (!json_is_integer (id))
        goto bad_data;
    json_object_set (data, "id", id);
    for (size_t i = 0; s_fields [i].key; i++) {
        json_t *value = json_object_get (record, s_fields [i].key);
        if (json_is_string (value))
            json_object_set (data, s_fields [i].key, value);
        else
        if (!s_fields [i].required && (!value || json_is_null (value)))
            json_object_set_new (data, s_fields [i].key, json_null ());
        else
            goto bad_data;
    }
    json_t *details = json_object_get (record, "details");
    json_object_set_new (data, "details", json_is_object (details) ? json_incref (details)
                                                                   : json_null ());
    json_decref (record);
    *type = json_string_value (json_object_get (data, "type"));
    *level = json_string_value (json_object_get (data, "level"));
    *server_id = json_string_value (json_object_get (data, "server_id"));
    return json_pack ("{s:s, s:o}", "type", "log", "data", data);
bad_data:
    json_decref (data);
bad:
    json_decref (record);
    return NULL;
}

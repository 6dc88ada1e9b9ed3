/*  api_args.c — typed reading of an /api call's query and body (api.h).

    Every reader answers the call with a 400 naming the field when the
    value is missing (if required), of the wrong type, or out of bounds,
    and returns false; the handler then just returns. Lists page with an
    opaque cursor (the decimal offset of the next item, as we handed it
    out) and a limit of 1..API_LIMIT_MAX (default API_LIMIT_DEFAULT).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static bool
s_bad (api_call_t *call, const char *where, const char *name, const char *what)
{
    char message [256];
    snprintf (message, sizeof message, "%s '%.64s': %s", where, name, what);
    api_error (call, 400, "bad_request", message);
    return false;
}

bool
api_body_only (api_call_t *call, const char *const *keys)
{
    const char *key;
    json_t *value;
    json_object_foreach (call->body, key, value) {
        bool known = false;
        for (const char *const *k = keys; *k && !known; k++)
            known = strcmp (*k, key) == 0;
        if (!known)
            return s_bad (call, "field", key, "not accepted here");
    }
    return true;
}

bool
api_body_str (api_call_t *call, const char *key, bool required, size_t max,
              const char **out)
{
    json_t *value = json_object_get (call->body, key);
    *out = NULL;
    if (!value)
        return required ? s_bad (call, "field", key, "required") : true;
    if (!json_is_string (value))
        return s_bad (call, "field", key, "must be a string");
    size_t len = json_string_length (value);
    if (len == 0 || len > max) {
        char what [64];
        snprintf (what, sizeof what, "must be 1 to %zu bytes", max);
        return s_bad (call, "field", key, what);
    }
    if (memchr (json_string_value (value), 0, len))
        return s_bad (call, "field", key, "must not contain NUL");
    *out = json_string_value (value);
    return true;
}

bool
api_body_int (api_call_t *call, const char *key, bool required, json_int_t min,
              json_int_t max, json_int_t *out)
{
    json_t *value = json_object_get (call->body, key);
    if (!value)
        return required ? s_bad (call, "field", key, "required") : true;
    if (!json_is_integer (value))
        return s_bad (call, "field", key, "must be an integer");
    json_int_t n = json_integer_value (value);
    if (n < min || n > max) {
        char what [96];
        snprintf (what, sizeof what, "must be %" JSON_INTEGER_FORMAT " to %"
                  JSON_INTEGER_FORMAT, min, max);
        return s_bad (call, "field", key, what);
    }
    *out = n;
    return true;
}

bool
api_body_bool (api_call_t *call, const char *key, bool required, int *out)
{
    json_t *value = json_object_get (call->body, key);
    if (!value)
        return required ? s_bad (call, "field", key, "required") : true;
    if (!json_is_boolean (value))
        return s_bad (call, "field", key, "must be true or false");
    *out = json_is_true (value);
    return true;
}

bool
api_query_str (api_call_t *call, const char *name, size_t max, const char **out)
{
    json_t *value = json_object_get (call->query, name);
    *out = NULL;
    if (!value)
        return true;
    size_t len = json_string_length (value);
    if (len == 0 || len > max || memchr (json_string_value (value), 0, len)) {
        char what [64];
        snprintf (what, sizeof what, "must be 1 to %zu bytes", max);
        return s_bad (call, "query argument", name, what);
    }
    *out = json_string_value (value);
    return true;
}

//  Plain decimal digits (with an optional '-'), no overflow.
static bool
s_parse_int (const char *text, json_int_t *out)
{
    const char *p = text;
    bool negative = *p == '-';
    if (negative)
        p++;
    if (!*p || strlen (p) > 15)
        return false;
    json_int_t n = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    *out = negative ? -n : n;
    return true;
}

bool
api_query_int (api_call_t *call, const char *name, json_int_t min, json_int_t max,
               json_int_t *out)
{
    const char *text;
    if (!api_query_str (call, name, 20, &text))
        return false;
    if (!text)
        return true;
    json_int_t n;
    if (!s_parse_int (text, &n) || n < min || n > max) {
        char what [96];
        snprintf (what, sizeof what, "must be an integer from %" JSON_INTEGER_FORMAT
                  " to %" JSON_INTEGER_FORMAT, min, max);
        return s_bad (call, "query argument", name, what);
    }
    *out = n;
    return true;
}

bool
api_query_bool (api_call_t *call, const char *name, int *out)
{
    const char *text;
    if (!api_query_str (call, name, 8, &text))
        return false;
    if (!text)
        return true;
    if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
        *out = 1;
    else
    if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
        *out = 0;
    else
        return s_bad (call, "query argument", name, "must be true or false");
    return true;
}

bool
api_page (api_call_t *call, json_int_t *offset, json_int_t *limit)
{
    *offset = 0;
    *limit = API_LIMIT_DEFAULT;
    if (!api_query_int (call, "limit", 1, API_LIMIT_MAX, limit))
        return false;
    const char *cursor;
    if (!api_query_str (call, "cursor", 20, &cursor))
        return false;
    if (cursor && (!s_parse_int (cursor, offset) || *offset < 0))
        return s_bad (call, "query argument", "cursor", "not a cursor this API handed out");
    return true;
}

json_t *
api_slice (const json_t *array, json_int_t offset, json_int_t limit, json_t **next)
{
    json_t *out = json_array ();
    size_t size = json_array_size (array);
    for (size_t i = (size_t) offset; i < size && i < (size_t) (offset + limit); i++)
        json_array_append (out, json_array_get (array, i));
    if ((size_t) (offset + limit) < size) {
        char text [24];
        snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, offset + limit);
        *next = json_string (text);
    }
    else
        *next = json_null ();
    return out;
}

/*  json_schema_check.c — the JSON Schema subset. See json_schema_check.h.

    One recursive walk, s_check, over (schema, value) with the path built
    in a fixed buffer as it goes down and cut back as it comes up. The
    first failure fills err and stops the walk; anyOf/oneOf try their
    branches with a scratch message and report the branch failure only
    when no branch fits.
*/
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json_schema_check.h"
#include "utf8.h"

#define PATH_MAX_LEN 256

typedef struct {
    char   path [PATH_MAX_LEN];     //  where we are, e.g. "arguments.a[3]"
    size_t len;                     //  strlen (path)
    char  *err;                     //  the caller's buffer
    size_t errlen;
    const json_t *root;             //  the whole schema, where $ref looks
} walk_t;

static int s_check (walk_t *walk, const json_t *schema, const json_t *value,
                    int depth);

const char *
json_schema_type_name (const json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_OBJECT:  return "object";
        case JSON_ARRAY:   return "array";
        case JSON_STRING:  return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL: {
            double d = json_real_value (value);
            return isfinite (d) && d == floor (d) && fabs (d) < 9007199254740992.0
                   ? "integer" : "number";
        }
        case JSON_TRUE:
        case JSON_FALSE:   return "boolean";
        case JSON_NULL:    return "null";
    }
    return "unknown";
}

static int
s_fail (walk_t *walk, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (walk_t *walk, const char *fmt, ...)
{
    if (walk->err && walk->errlen) {
        int n = snprintf (walk->err, walk->errlen, "%s: ", walk->path);
        if (n >= 0 && (size_t) n < walk->errlen) {
            va_list args;
            va_start (args, fmt);
            vsnprintf (walk->err + n, walk->errlen - (size_t) n, fmt, args);
            va_end (args);
        }
    }
    return -1;
}

//  Append ".key" or "[index]" to the path; returns the length to restore.
static size_t
s_push_key (walk_t *walk, const char *key)
{
    size_t saved = walk->len;
    int n = snprintf (walk->path + walk->len, sizeof walk->path - walk->len,
                      ".%.64s", key);
    if (n > 0)
        walk->len = strnlen (walk->path, sizeof walk->path - 1);
    return saved;
}

static size_t
s_push_index (walk_t *walk, size_t index)
{
    size_t saved = walk->len;
    int n = snprintf (walk->path + walk->len, sizeof walk->path - walk->len,
                      "[%zu]", index);
    if (n > 0)
        walk->len = strnlen (walk->path, sizeof walk->path - 1);
    return saved;
}

static void
s_pop (walk_t *walk, size_t saved)
{
    walk->len = saved;
    walk->path [saved] = 0;
}

static bool
s_type_known (const char *type)
{
    static const char *known [] = {
        "string", "integer", "number", "boolean", "array", "object", "null", NULL
    };
    for (int i = 0; known [i]; i++)
        if (strcmp (type, known [i]) == 0)
            return true;
    return false;
}

static bool
s_type_matches (const char *type, const json_t *value)
{
    if (!s_type_known (type))
        return true;            //  a type we cannot read never refuses
    const char *actual = json_schema_type_name (value);
    if (strcmp (type, actual) == 0)
        return true;
    return strcmp (type, "number") == 0 && strcmp (actual, "integer") == 0;
}

static int
s_check_type (walk_t *walk, const json_t *type, const json_t *value)
{
    if (json_is_string (type)) {
        if (s_type_matches (json_string_value (type), value))
            return 0;
        return s_fail (walk, "expected %s, got %s", json_string_value (type),
                       json_schema_type_name (value));
    }
    if (json_is_array (type)) {
        size_t i;
        json_t *item;
        char wanted [128] = "";
        json_array_foreach (type, i, item) {
            if (!json_is_string (item))
                continue;
            if (s_type_matches (json_string_value (item), value))
                return 0;
            size_t used = strlen (wanted);
            snprintf (wanted + used, sizeof wanted - used, "%s%s",
                      used ? " or " : "", json_string_value (item));
        }
        return s_fail (walk, "expected %s, got %s", wanted,
                       json_schema_type_name (value));
    }
    return 0;                   //  a type we cannot read never refuses
}

static double
s_number (const json_t *value)
{
    return json_is_integer (value) ? (double) json_integer_value (value)
                                   : json_real_value (value);
}

static int
s_check_numeric (walk_t *walk, const json_t *schema, const json_t *value)
{
    if (!json_is_number (value))
        return 0;
    double x = s_number (value);
    const json_t *bound;
    if ((bound = json_object_get (schema, "minimum")) && json_is_number (bound)
    &&  x < s_number (bound))
        return s_fail (walk, "must be at least %g", s_number (bound));
    if ((bound = json_object_get (schema, "maximum")) && json_is_number (bound)
    &&  x > s_number (bound))
        return s_fail (walk, "must be at most %g", s_number (bound));
    if ((bound = json_object_get (schema, "exclusiveMinimum"))
    &&  json_is_number (bound) && x <= s_number (bound))
        return s_fail (walk, "must be greater than %g", s_number (bound));
    if ((bound = json_object_get (schema, "exclusiveMaximum"))
    &&  json_is_number (bound) && x >= s_number (bound))
        return s_fail (walk, "must be less than %g", s_number (bound));
    return 0;
}

static int
s_check_string (walk_t *walk, const json_t *schema, const json_t *value)
{
    if (!json_is_string (value))
        return 0;
    size_t length = utf8_chars (json_string_value (value),
                                   json_string_length (value));
    const json_t *bound;
    if ((bound = json_object_get (schema, "minLength")) && json_is_integer (bound)
    &&  (json_int_t) length < json_integer_value (bound))
        return s_fail (walk, "must be at least %" JSON_INTEGER_FORMAT
                       " characters long", json_integer_value (bound));
    if ((bound = json_object_get (schema, "maxLength")) && json_is_integer (bound)
    &&  (json_int_t) length > json_integer_value (bound))
        return s_fail (walk, "must be at most %" JSON_INTEGER_FORMAT
                       " characters long", json_integer_value (bound));
    return 0;
}

static int
s_check_array (walk_t *walk, const json_t *schema, const json_t *value,
               int depth)
{
    if (!json_is_array (value))
        return 0;
    size_t count = json_array_size (value);
    const json_t *bound;
    if ((bound = json_object_get (schema, "minItems")) && json_is_integer (bound)
    &&  (json_int_t) count < json_integer_value (bound))
        return s_fail (walk, "must have at least %" JSON_INTEGER_FORMAT " items",
                       json_integer_value (bound));
    if ((bound = json_object_get (schema, "maxItems")) && json_is_integer (bound)
    &&  (json_int_t) count > json_integer_value (bound))
        return s_fail (walk, "must have at most %" JSON_INTEGER_FORMAT " items",
                       json_integer_value (bound));
    //  2020-12: prefixItems describe the first elements, items the rest
    const json_t *prefix = json_object_get (schema, "prefixItems");
    size_t first = 0;
    if (json_is_array (prefix)) {
        for (; first < count && first < json_array_size (prefix); first++) {
            size_t saved = s_push_index (walk, first);
            int rc = s_check (walk, json_array_get (prefix, first),
                              json_array_get (value, first), depth + 1);
            s_pop (walk, saved);
            if (rc)
                return rc;
        }
        first = json_array_size (prefix);
    }
    const json_t *items = json_object_get (schema, "items");
    if (items && (json_is_object (items) || json_is_boolean (items))) {
        for (size_t i = first; i < count; i++) {
            size_t saved = s_push_index (walk, i);
            int rc = s_check (walk, items, json_array_get (value, i), depth + 1);
            s_pop (walk, saved);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int
s_check_object (walk_t *walk, const json_t *schema, const json_t *value,
                int depth)
{
    if (!json_is_object (value))
        return 0;
    const json_t *required = json_object_get (schema, "required");
    if (json_is_array (required)) {
        size_t i;
        json_t *name;
        json_array_foreach (required, i, name) {
            if (json_is_string (name)
            &&  !json_object_get (value, json_string_value (name)))
                return s_fail (walk, "missing required property '%.64s'",
                               json_string_value (name));
        }
    }
    const json_t *properties = json_object_get (schema, "properties");
    if (!json_is_object (properties))
        properties = NULL;
    const json_t *additional = json_object_get (schema, "additionalProperties");
    const char *key;
    json_t *member;
    json_object_foreach ((json_t *) value, key, member) {
        const json_t *sub = properties ? json_object_get (properties, key) : NULL;
        if (!sub) {
            if (json_is_false (additional))
                return s_fail (walk, "unexpected property '%.64s'", key);
            if (json_is_object (additional))
                sub = additional;
        }
        if (sub) {
            size_t saved = s_push_key (walk, key);
            int rc = s_check (walk, sub, member, depth + 1);
            s_pop (walk, saved);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int
s_check_enum (walk_t *walk, const json_t *schema, const json_t *value)
{
    const json_t *constant = json_object_get (schema, "const");
    if (constant && !json_equal ((json_t *) constant, (json_t *) value))
        return s_fail (walk, "must be the constant value");
    const json_t *choices = json_object_get (schema, "enum");
    if (json_is_array (choices)) {
        size_t i;
        json_t *choice;
        json_array_foreach (choices, i, choice)
            if (json_equal (choice, (json_t *) value))
                return 0;
        char listed [200] = "";
        json_array_foreach (choices, i, choice) {
            if (i == 8)
                break;
            char *text = json_dumps (choice, JSON_ENCODE_ANY | JSON_COMPACT);
            size_t used = strlen (listed);
            snprintf (listed + used, sizeof listed - used, "%s%.40s",
                      used ? ", " : "", text ? text : "?");
            free (text);
        }
        return s_fail (walk, "must be one of %s%s", listed,
                       json_array_size (choices) > 8 ? ", ..." : "");
    }
    return 0;
}

//  anyOf / oneOf / allOf.
static int
s_check_combinators (walk_t *walk, const json_t *schema, const json_t *value,
                     int depth)
{
    const json_t *all = json_object_get (schema, "allOf");
    if (json_is_array (all)) {
        size_t i;
        json_t *sub;
        json_array_foreach (all, i, sub)
            if (s_check (walk, sub, value, depth + 1))
                return -1;
    }
    const char *names [] = { "anyOf", "oneOf" };
    for (int n = 0; n < 2; n++) {
        const json_t *branches = json_object_get (schema, names [n]);
        if (!json_is_array (branches) || json_array_size (branches) == 0)
            continue;
        size_t i, matched = 0;
        json_t *sub;
        char first [256] = "";
        json_array_foreach (branches, i, sub) {
            walk_t scratch = *walk;
            char message [256];
            scratch.err = message;
            scratch.errlen = sizeof message;
            if (s_check (&scratch, sub, value, depth + 1) == 0)
                matched++;
            else
            if (!*first)
                snprintf (first, sizeof first, "%s", message);
        }
        if (matched == 0)
            return s_fail (walk, "matches none of the allowed forms (%s)", first);
        if (n == 1 && matched > 1)
            return s_fail (walk, "matches more than one of the allowed forms");
    }
    return 0;
}

//  "$ref": "#/$defs/Name" (or "#/definitions/Name") in the root schema. A
//  reference of any other form, or to nothing, is a keyword we cannot read:
//  it never refuses. Each step through a reference is a level of depth, so
//  a reference to itself ends at JSON_SCHEMA_MAX_DEPTH with a refusal.
static int
s_check_ref (walk_t *walk, const json_t *schema, const json_t *value, int depth)
{
    const char *ref = json_string_value (json_object_get (schema, "$ref"));
    if (!ref || !walk->root)
        return 0;
    const char *section = NULL;
    if (strncmp (ref, "#/$defs/", 8) == 0)
        section = "$defs";
    else
    if (strncmp (ref, "#/definitions/", 14) == 0)
        section = "definitions";
    else
        return 0;
    const char *name = ref + (section [0] == '$' ? 8 : 14);
    if (!*name || strpbrk (name, "/~"))
        return 0;
    const json_t *target = json_object_get (json_object_get (walk->root, section), name);
    if (!target)
        return 0;
    return s_check (walk, target, value, depth + 1);
}

static int
s_check (walk_t *walk, const json_t *schema, const json_t *value, int depth)
{
    if (depth > JSON_SCHEMA_MAX_DEPTH)
        return s_fail (walk, "nested too deeply (more than %d levels)",
                       JSON_SCHEMA_MAX_DEPTH);
    if (json_is_true (schema))
        return 0;
    if (json_is_false (schema))
        return s_fail (walk, "no value is allowed here");
    if (!json_is_object (schema))
        return 0;
    const json_t *type = json_object_get (schema, "type");
    if (type && s_check_type (walk, type, value))
        return -1;
    if (s_check_enum (walk, schema, value)
    ||  s_check_numeric (walk, schema, value)
    ||  s_check_string (walk, schema, value)
    ||  s_check_array (walk, schema, value, depth)
    ||  s_check_object (walk, schema, value, depth)
    ||  s_check_combinators (walk, schema, value, depth)
    ||  s_check_ref (walk, schema, value, depth))
        return -1;
    return 0;
}

int
json_schema_check (const json_t *schema, const json_t *value,
                   const char *root, char *err, size_t errlen)
{
    walk_t walk = { .err = err, .errlen = errlen, .root = schema };
    snprintf (walk.path, sizeof walk.path, "%.64s", root ? root : "value");
    walk.len = strlen (walk.path);
    if (err && errlen)
        *err = 0;
    if (!schema || !value)
        return s_fail (&walk, "missing");
    return s_check (&walk, schema, value, 1);
}

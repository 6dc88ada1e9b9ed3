/*  result_frame.c — see result_frame.h. */
#include <string.h>
#include "result_frame.h"

//  A redacted copy of a string value, at most max bytes (cut at a
//  character boundary); with cut, the text was already truncated.
static json_t *
s_text (const redactor_t *redactor, json_t *value, size_t max, bool cut)
{
    const char *text = json_string_value (value);
    size_t len = json_string_length (value);
    if (len > max) {
        while (max > 0 && (text [max] & 0xC0) == 0x80)
            max--;              //  not inside a character
        len = max;
        cut = true;
    }
    if (!redactor_active (redactor))
        return json_stringn (text, len);
    size_t out_len;
    char *redacted = redactor_text (redactor, text, len, cut, &out_len);
    if (!redacted)
        return NULL;
    json_t *copy = json_stringn (redacted, out_len);
    explicit_bzero (redacted, out_len);
    free (redacted);
    return copy;
}

static int
s_set (json_t *object, const char *key, json_t *value)
{
    return value ? json_object_set_new (object, key, value) : -1;
}

//  result_json: parse, redact every value and key, write back only if
//  something was redacted (so an untouched result keeps its exact text).
static int
s_result_json (json_t *clean, json_t *raw, const redactor_t *redactor)
{
    json_t *text = json_object_get (raw, "result_json");
    if (!text)
        return 0;
    if (!json_is_string (text))
        return -1;
    json_t *parsed = json_loadb (json_string_value (text), json_string_length (text),
                                 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (!parsed)
        return -1;
    bool changed = false;
    json_t *redacted = redactor_active (redactor) ? redactor_json (redactor, parsed, &changed) : NULL;
    json_decref (parsed);
    if (!changed) {
        json_decref (redacted);
        return json_object_set (clean, "result_json", text);
    }
    if (!redacted)
        return -1;
    size_t flags = JSON_ENCODE_ANY;
    if (!json_is_true (json_object_get (raw, "structured")))
        flags |= JSON_ENSURE_ASCII;         //  str() of the value, as the harness writes it
    char *dumped = json_dumps (redacted, flags);
    json_decref (redacted);
    if (!dumped)
        return -1;
    int rc = json_object_set_new (clean, "result_json", json_string (dumped));
    explicit_bzero (dumped, strlen (dumped));
    free (dumped);
    return rc;
}

static int
s_error (json_t *clean, json_t *error, const redactor_t *redactor)
{
    json_t *type = json_object_get (error, "type"), *message = json_object_get (error, "message");
    json_t *line = json_object_get (error, "line"), *context = json_object_get (error, "context");
    json_t *out = json_object ();
    json_object_set_new (clean, "error", out);
    json_t *fallback = json_string ("Error");
    int rc = s_set (out, "type", json_is_string (type) && json_string_length (type) <= RESULT_TYPE_MAX
                                 ? s_text (redactor, type, RESULT_TYPE_MAX, false)
                                 : json_incref (fallback));
    json_decref (fallback);
    json_t *empty = json_string ("");
    rc |= s_set (out, "message", json_is_string (message)
                                 ? s_text (redactor, message, RESULT_MESSAGE_MAX, false)
                                 : json_incref (empty));
    json_decref (empty);
    rc |= s_set (out, "line", json_is_integer (line) ? json_incref (line) : json_null ());
    json_t *lines = json_array ();
    rc |= s_set (out, "context", lines);
    for (size_t i = 0; json_is_array (context) && i < json_array_size (context)
                       && i < RESULT_CONTEXT_MAX; i++)
        if (json_is_string (json_array_get (context, i)))
            rc |= json_array_append_new (lines, s_text (redactor, json_array_get (context, i),
                                                        1000, false));
    return rc ? -1 : 0;
}

json_t *
result_frame_clean (json_t *raw, const redactor_t *redactor)
{
    json_t *success = json_object_get (raw, "success");
    if (!json_is_boolean (success))
        return NULL;
    json_t *clean = json_object ();
    int rc = json_object_set (clean, "success", success);
    const char *bools [] = { "structured", "stdout_truncated", "valid", "has_main" };
    for (size_t i = 0; i < sizeof bools / sizeof bools [0]; i++) {
        json_t *value = json_object_get (raw, bools [i]);
        if (json_is_boolean (value))
            rc |= json_object_set (clean, bools [i], value);
    }
    rc |= s_result_json (clean, raw, redactor);

    json_t *out = json_object_get (raw, "stdout");
    bool truncated = json_is_true (json_object_get (raw, "stdout_truncated"));
    if (json_is_string (out) && json_string_length (out) > RESULT_STDOUT_MAX) {
        truncated = true;           //  counted, not silently lost
        rc |= json_object_set_new (clean, "stdout_truncated", json_true ());
    }
    rc |= s_set (clean, "stdout", json_is_string (out)
                                  ? s_text (redactor, out, RESULT_STDOUT_MAX, truncated)
                                  : json_string (""));

    json_t *error = json_object_get (raw, "error");
    if (json_is_object (error))
        rc |= s_error (clean, error, redactor);

    //  validate: the schemas and parameters the harness derived
    const char *derived [] = { "input_schema", "parameters", "description",
                               "output_schema" };
    for (size_t i = 0; i < 4; i++) {
        json_t *value = json_object_get (raw, derived [i]);
        bool wanted = i == 0 || i == 3 ? json_is_object (value)
                    : i == 1 ? json_is_array (value) : json_is_string (value);
        if (wanted)
            rc |= s_set (clean, derived [i], redactor_active (redactor)
                                             ? redactor_json (redactor, value, NULL)
                                             : json_deep_copy (value));
    }
    if (rc != 0) {
        json_decref (clean);
        return NULL;
    }
    return clean;
}

json_t *
result_frame_decode (const char *frame, size_t size, const redactor_t *redactor)
{
    json_t *raw = json_loadb (frame, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    const char *type = json_string_value (json_object_get (raw, "type"));
    json_t *clean = type && strcmp (type, "result") == 0 ? result_frame_clean (raw, redactor) : NULL;
    json_decref (raw);
    return clean;
}

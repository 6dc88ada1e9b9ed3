/*  notice_frame.c — see notice_frame.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "notice_frame.h"

static const char *const s_levels [NOTICE_LEVELS] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
};

int
notice_level_rank (const char *name)
{
    for (int i = 0; name && i < NOTICE_LEVELS; i++)
        if (strcmp (name, s_levels [i]) == 0)
            return i;
    return -1;
}

//  Bytes of text that fit max without splitting a UTF-8 sequence (the
//  text is valid UTF-8: jansson checked it).
static size_t
s_utf8_cut (const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char) text [cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

//  A cut, redacted copy of a string value; NULL if it is not one.
static json_t *
s_text (const json_t *value, size_t max, const redactor_t *redactor, bool *truncated)
{
    if (!json_is_string (value))
        return NULL;
    const char *text = json_string_value (value);
    size_t len = json_string_length (value);
    if (strlen (text) != len)
        return NULL;                //  a NUL inside: not text for a client
    size_t keep = s_utf8_cut (text, len, max);
    if (keep < len)
        *truncated = true;
    if (!redactor || !redactor_active (redactor))
        return json_stringn (text, keep);
    size_t out_len = 0;
    char *clean = redactor_text (redactor, text, keep, keep < len, &out_len);
    if (!clean)
        return NULL;
    if (out_len > max) {
        //  redaction lengthened it (a marker longer than what it hides, many
        //  times): cut the redacted text, and redact that again as cut, so a
        //  secret's first bytes left at the new end are hidden too
        *truncated = true;
        size_t again_len = 0;
        char *again = redactor_text (redactor, clean, s_utf8_cut (clean, out_len, max),
                                     true, &again_len);
        explicit_bzero (clean, out_len);
        free (clean);
        if (!again)
            return NULL;
        clean = again;
        out_len = again_len;
    }
    json_t *result = json_stringn (clean, out_len);
    explicit_bzero (clean, out_len);
    free (clean);
    return result;
}

static bool
s_number (const json_t *value, double *out)
{
    if (!json_is_number (value))
        return false;
    double number = json_number_value (value);
    if (!isfinite (number) || number < 0)
        return false;
    *out = number;
    return true;
}

//  A progress or total whose decimal text holds a secret (a numeric secret
//  reported as progress): the same rule as numbers in the result
//  (redactor_json), but a notice's number cannot become "[REDACTED]", so
//  the notice is refused.
static bool
s_number_leaks (double number, const redactor_t *redactor)
{
    if (!redactor || !redactor_active (redactor))
        return false;
    json_t *value = json_real (number);
    bool changed = false;
    json_t *copy = value ? redactor_json (redactor, value, &changed) : NULL;
    json_decref (copy);
    json_decref (value);
    return !copy || changed;        //  out of memory: refuse rather than guess
}

//  Only these keys, each at most once (jansson refused duplicates).
static bool
s_keys_only (const json_t *raw, const char *const *keys)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) raw, key, value) {
        bool known = false;
        for (size_t i = 0; keys [i] && !known; i++)
            known = strcmp (key, keys [i]) == 0;
        if (!known)
            return false;
    }
    return true;
}

json_t *
notice_frame_clean (const json_t *raw, const redactor_t *redactor, bool *truncated)
{
    bool cut = false;
    if (!json_is_object (raw))
        return NULL;
    const char *type = json_string_value (json_object_get (raw, "type"));
    json_t *mark = json_object_get (raw, "cut");
    if (mark && !json_is_true (mark))
        return NULL;
    if (mark)
        cut = true;
    json_t *notice = NULL;
    if (type && strcmp (type, "progress") == 0) {
        static const char *const keys [] = { "type", "progress", "total", "message", "cut", NULL };
        double progress, total;
        json_t *total_value = json_object_get (raw, "total");
        json_t *message_value = json_object_get (raw, "message");
        if (!s_keys_only (raw, keys)
        ||  !s_number (json_object_get (raw, "progress"), &progress)
        ||  (total_value && !s_number (total_value, &total))
        ||  s_number_leaks (progress, redactor)
        ||  (total_value && s_number_leaks (total, redactor)))
            return NULL;
        notice = json_pack ("{s:s, s:f}", "kind", "progress", "progress", progress);
        if (total_value)
            json_object_set_new (notice, "total", json_real (total));
        if (message_value) {
            json_t *message = s_text (message_value, NOTICE_MESSAGE_MAX, redactor, &cut);
            if (!message) {
                json_decref (notice);
                return NULL;
            }
            json_object_set_new (notice, "message", message);
        }
    }
    else
    if (type && strcmp (type, "log") == 0) {
        static const char *const keys [] = { "type", "level", "data", "cut", NULL };
        const char *level = json_string_value (json_object_get (raw, "level"));
        if (!s_keys_only (raw, keys) || notice_level_rank (level) < 0)
            return NULL;
        json_t *data = s_text (json_object_get (raw, "data"), NOTICE_DATA_MAX, redactor, &cut);
        if (!data)
            return NULL;
        notice = json_pack ("{s:s, s:s, s:o}", "kind", "log", "level", level, "data", data);
    }
    if (notice && truncated)
        *truncated = cut;
    return notice;
}

json_t *
notice_frame_decode (const char *frame, size_t size, const redactor_t *redactor,
                     bool *truncated)
{
    //  no JSON_ALLOW_NUL: a NUL in a notice text is refused
    json_t *raw = json_loadb (frame, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *notice = notice_frame_clean (raw, redactor, truncated);
    json_decref (raw);
    return notice;
}

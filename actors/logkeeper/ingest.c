/*  ingest.c — one record of an `ingest` batch, decoded as hostile input.

    A record is a msgpack map (as common/logspool.c writes it):
      rid*     1..64 of [A-Za-z0-9._:-]
      kind*    "exec" | "activity"
      ts*      unix ms, years 2000..2100
      source   1..64 printable ASCII (else the batch's source)
      exec:     tool_id, server_id, request_id, session_id (≤ 64/128),
                tool_name, server_name, client_name, executed_by (≤ 255),
                args (map|nil), result, stdout (10 KB), error (5 KB),
                duration_ms (int ≥ 0), success* (bool), is_test (bool)
      activity: type* (1..64 of [a-z0-9_.], a letter first), level*
                (debug|info|warning|error), server_id (≤ 64), message
                (2000 bytes), details (map|nil, 16 KB)
    Unknown keys are ignored. A field of the wrong type refuses the record.
    Texts are copied as valid UTF-8 (a bad byte or NUL becomes U+FFFD),
    long ones are cut with the marker of log_redact.h; ids that are too
    long refuse the record. args and details are redacted again here (a
    publisher is not trusted to have done it) and stored as JSON text.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json_msgpack.h"
#include "ids.h"
#include "log_redact.h"
#include "utf8.h"
#include "logkeeper.h"

#define TS_MIN  946684800000LL      //  2000-01-01
#define TS_MAX  4102444800000LL     //  2100-01-01
#define DURATION_MAX 86400000LL     //  a day; longer is clamped

//  --- time ---------------------------------------------------------------------

static bool
s_digits (const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (text [i] < '0' || text [i] > '9')
            return false;
    return true;
}

int
lk_time_field (const msgpack_object *map, const char *key, char out [LK_TIME_LEN + 1])
{
    const msgpack_object *value = msg_map_get (map, key);
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return 1;
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (value->via.u64 > (uint64_t) TS_MAX)
            return -1;
        ids_time_iso ((int64_t) value->via.u64, out);
        return 0;
    }
    if (value->type != MSGPACK_OBJECT_STR)
        return -1;
    //  YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
    const char *text = value->via.str.ptr;
    size_t len = value->via.str.size;
    if (len < 20 || len > 30 || !s_digits (text, 4) || text [4] != '-'
    ||  !s_digits (text + 5, 2) || text [7] != '-' || !s_digits (text + 8, 2)
    ||  text [10] != 'T' || !s_digits (text + 11, 2) || text [13] != ':'
    ||  !s_digits (text + 14, 2) || text [16] != ':' || !s_digits (text + 17, 2)
    ||  text [len - 1] != 'Z')
        return -1;
    char millis [4] = "000";
    if (len > 20) {
        if (text [19] != '.' || len < 22 || !s_digits (text + 20, len - 21))
            return -1;
        for (size_t i = 0; i < 3 && 20 + i < len - 1; i++)
            millis [i] = text [20 + i];
    }
    snprintf (out, LK_TIME_LEN + 1, "%.19s.%sZ", text, millis);
    return 0;
}

//  --- texts ----------------------------------------------------------------------

//  A NUL-terminated, valid UTF-8 copy; bad bytes and NUL become U+FFFD.
static char *
s_utf8_copy (const char *text, size_t len)
{
    char *copy = malloc (len * 3 + 1);
    if (!copy)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < len; ) {
        size_t seq = utf8_seq (text + i, len - i);
        if (seq) {
            memcpy (copy + at, text + i, seq);
            at += seq;
            i += seq;
        }
        else {
            memcpy (copy + at, "\xEF\xBF\xBD", 3);
            at += 3;
            i++;
        }
    }
    copy [at] = 0;
    return copy;
}

//  Optional text, cut to max bytes with a marker. 0 ok (*out may be
//  NULL), -1 wrong type.
static int
s_text (const msgpack_object *map, const char *key, size_t max, char **out)
{
    *out = NULL;
    const msgpack_object *value = msg_map_get (map, key);
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (value->type != MSGPACK_OBJECT_STR)
        return -1;
    char *clean = s_utf8_copy (value->via.str.ptr, value->via.str.size);
    if (!clean)
        return -1;
    *out = log_truncate (clean, strlen (clean), max, NULL);
    free (clean);
    return *out ? 0 : -1;
}

//  An identifier-like text: 1..max bytes of printable ASCII. 0 ok / absent
//  (*out NULL), -1 wrong.
static int
s_ident (const msgpack_object *map, const char *key, size_t max, bool strict, char **out)
{
    *out = NULL;
    const msgpack_object *value = msg_map_get (map, key);
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (value->type != MSGPACK_OBJECT_STR || value->via.str.size < 1
    ||  value->via.str.size > max)
        return -1;
    for (size_t i = 0; i < value->via.str.size; i++) {
        unsigned char c = (unsigned char) value->via.str.ptr [i];
        bool ok = strict ? ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9') || c == '.' || c == '_'
                            || c == ':' || c == '-')
                         : (c >= 0x20 && c < 0x7f);
        if (!ok)
            return -1;
    }
    *out = strndup (value->via.str.ptr, value->via.str.size);
    return *out ? 0 : -1;
}

//  True if a key anywhere in value holds a NUL byte (JSON text with such a
//  key cannot be read back by jansson).
static bool
s_nul_key (const json_t *value, int depth)
{
    if (depth > JSON_MSGPACK_MAX_DEPTH)
        return true;
    const char *key;
    size_t key_len, index;
    json_t *child;
    void *tmp;
    if (json_is_object (value)) {
        json_object_keylen_foreach_safe ((json_t *) value, tmp, key, key_len, child)
            if (memchr (key, 0, key_len) || s_nul_key (child, depth + 1))
                return true;
    }
    else
    if (json_is_array (value))
        json_array_foreach (value, index, child)
            if (s_nul_key (child, depth + 1))
                return true;
    return false;
}

//  A map (or nil) as redacted JSON text of at most max bytes; a larger one
//  keeps its first max bytes as {"_truncated": "..."}.
static int
s_json (const msgpack_object *map, const char *key, size_t max, char **out)
{
    *out = NULL;
    const msgpack_object *value = msg_map_get (map, key);
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (value->type != MSGPACK_OBJECT_MAP)
        return -1;
    json_t *json = json_from_msgpack (value);
    if (!json)
        return -1;
    if (s_nul_key (json, 1)) {
        json_decref (json);
        json = json_pack ("{s:s}", "_invalid", "a key held a NUL byte");
    }
    log_redact_json (json);
    char *text = json ? json_dumps (json, JSON_COMPACT) : NULL;
    json_decref (json);
    if (!text)
        return -1;
    if (strlen (text) > max) {
        char *cut = log_truncate (text, strlen (text), max, NULL);
        json_t *wrapper = json_pack ("{s:s?}", "_truncated", cut);
        free (text);
        free (cut);
        text = wrapper ? json_dumps (wrapper, JSON_COMPACT) : NULL;
        json_decref (wrapper);
    }
    *out = text;
    return text ? 0 : -1;
}

static bool
s_valid_type (const char *type)
{
    if (!type || type [0] < 'a' || type [0] > 'z')
        return false;
    for (const char *c = type; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return false;
    return true;
}

static int
s_fail (char *why, size_t whylen, const char *field)
{
    snprintf (why, whylen, "record field '%s' is missing or invalid", field);
    return -1;
}

void
lk_record_clear (lk_record_t *r)
{
    char **texts [] = {
        &r->record_id, &r->source, &r->tool_id, &r->tool_name, &r->server_id,
        &r->server_name, &r->request_id, &r->client_name, &r->session_id,
        &r->input_args, &r->result, &r->stdout_text, &r->error, &r->executed_by,
        &r->type, &r->level, &r->message, &r->details,
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts [0]; i++) {
        free (*texts [i]);
        *texts [i] = NULL;
    }
    memset (r, 0, sizeof *r);
}

static int
s_decode_exec (const msgpack_object *obj, lk_record_t *r, char *why, size_t whylen)
{
    if (s_ident (obj, "tool_id", LK_ID_MAX, false, &r->tool_id))
        return s_fail (why, whylen, "tool_id");
    if (s_ident (obj, "server_id", LK_ID_MAX, false, &r->server_id))
        return s_fail (why, whylen, "server_id");
    if (s_text (obj, "tool_name", LK_NAME_MAX, &r->tool_name))
        return s_fail (why, whylen, "tool_name");
    if (s_text (obj, "server_name", LK_NAME_MAX, &r->server_name))
        return s_fail (why, whylen, "server_name");
    if (s_text (obj, "request_id", 128, &r->request_id))
        return s_fail (why, whylen, "request_id");
    if (s_text (obj, "client_name", LK_NAME_MAX, &r->client_name))
        return s_fail (why, whylen, "client_name");
    if (s_text (obj, "session_id", 128, &r->session_id))
        return s_fail (why, whylen, "session_id");
    if (s_text (obj, "executed_by", LK_NAME_MAX, &r->executed_by))
        return s_fail (why, whylen, "executed_by");
    if (s_json (obj, "args", LOG_ARGS_MAX, &r->input_args))
        return s_fail (why, whylen, "args");
    if (s_text (obj, "result", LOG_RESULT_MAX, &r->result))
        return s_fail (why, whylen, "result");
    if (s_text (obj, "stdout", LOG_STDOUT_MAX, &r->stdout_text))
        return s_fail (why, whylen, "stdout");
    if (s_text (obj, "error", LOG_ERROR_MAX, &r->error))
        return s_fail (why, whylen, "error");
    int64_t duration = 0;
    msg_field_t got = msg_get_int (obj, "duration_ms", &duration);
    if (got == MSG_FIELD_WRONG_TYPE || duration < 0)
        return s_fail (why, whylen, "duration_ms");
    r->duration_ms = duration > DURATION_MAX ? DURATION_MAX : duration;
    if (msg_get_bool (obj, "success", &r->success) != MSG_FIELD_OK)
        return s_fail (why, whylen, "success");
    if (msg_get_bool (obj, "is_test", &r->is_test) == MSG_FIELD_WRONG_TYPE)
        return s_fail (why, whylen, "is_test");
    return 0;
}

static int
s_decode_activity (const msgpack_object *obj, lk_record_t *r, char *why, size_t whylen)
{
    if (s_ident (obj, "type", LK_TYPE_MAX, true, &r->type) || !s_valid_type (r->type))
        return s_fail (why, whylen, "type");
    if (s_ident (obj, "level", 16, true, &r->level) || !r->level
    ||  (strcmp (r->level, "debug") && strcmp (r->level, "info")
         && strcmp (r->level, "warning") && strcmp (r->level, "error")))
        return s_fail (why, whylen, "level");
    if (s_ident (obj, "server_id", LK_ID_MAX, false, &r->server_id))
        return s_fail (why, whylen, "server_id");
    if (s_text (obj, "message", LK_MESSAGE_MAX, &r->message))
        return s_fail (why, whylen, "message");
    if (!r->message && !(r->message = strdup ("")))
        return s_fail (why, whylen, "message");
    if (s_json (obj, "details", LK_DETAILS_MAX, &r->details))
        return s_fail (why, whylen, "details");
    return 0;
}

int
lk_record_decode (const msgpack_object *obj, const char *source_default,
                  lk_record_t *r, char *why, size_t whylen)
{
    memset (r, 0, sizeof *r);
    int rc = -1;
    if (!obj || obj->type != MSGPACK_OBJECT_MAP) {
        snprintf (why, whylen, "a record must be a map");
        return -1;
    }
    char kind [16];
    int64_t ts = 0;
    if (s_ident (obj, "rid", LK_ID_MAX, true, &r->record_id) || !r->record_id)
        s_fail (why, whylen, "rid");
    else
    if (msg_get_cstr (obj, "kind", kind, sizeof kind) != MSG_FIELD_OK
    ||  (strcmp (kind, "exec") && strcmp (kind, "activity")))
        s_fail (why, whylen, "kind");
    else
    if (msg_get_int (obj, "ts", &ts) != MSG_FIELD_OK || ts < TS_MIN || ts > TS_MAX)
        s_fail (why, whylen, "ts");
    else
    if (s_ident (obj, "source", 64, false, &r->source))
        s_fail (why, whylen, "source");
    else {
        if (!r->source)
            r->source = source_default ? strdup (source_default) : NULL;
        if (!r->source)
            s_fail (why, whylen, "source");
        else {
            ids_time_iso (ts, r->created_at);
            r->kind = strcmp (kind, "exec") == 0 ? LK_EXEC : LK_ACTIVITY;
            rc = r->kind == LK_EXEC ? s_decode_exec (obj, r, why, whylen)
                                    : s_decode_activity (obj, r, why, whylen);
        }
    }
    if (rc)
        lk_record_clear (r);
    return rc;
}

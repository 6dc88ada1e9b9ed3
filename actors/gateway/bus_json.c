/*  bus_json.c — msgpack replies as jansson values. See bus_json.h. */
#include <string.h>

#include "bus.h"
#include "json_msgpack.h"
#include "bus_json.h"

static const msg_limits_t s_limits = {
    .max_size  = BUS_BODY_MAX,
    .max_depth = 32,
    .max_items = 1u << 20,
    .max_str   = BUS_BODY_MAX,
};

//  Copy at most max-1 bytes of text, cut back to a UTF-8 boundary, and
//  keep it only if it is valid UTF-8 without NUL.
static void
s_copy_message (char *out, size_t max, const char *text)
{
    size_t len = strnlen (text, max - 1);
    while (len > 0 && len < strlen (text)
       &&  ((unsigned char) text [len] & 0xC0) == 0x80)
        len--;
    json_t *check = json_stringn (text, len);
    if (check && !memchr (text, 0, len)) {
        memcpy (out, text, len);
        out [len] = 0;
    }
    else
        out [0] = 0;
    json_decref (check);
}

void
bus_json_parse (const void *body, size_t size, bus_json_t *out)
{
    memset (out, 0, sizeof *out);
    const char *why;
    msg_t *msg = msg_decode (body, size, &s_limits, &why);
    if (!msg) {
        out->code = BUS_ERR_PROTOCOL;
        return;
    }
    if (!msg_is_ok (msg)) {
        out->code = msg_error_code (msg);
        if (out->code == BUS_ERR_NONE)
            out->code = BUS_ERR_PROTOCOL;
        s_copy_message (out->message, sizeof out->message, msg_error_message (msg));
        msg_destroy (&msg);
        return;
    }
    out->body = json_from_msgpack (msg_root (msg));
    msg_destroy (&msg);
    if (!json_is_object (out->body)) {
        json_decref (out->body);
        out->body = NULL;
        out->code = BUS_ERR_PROTOCOL;
        return;
    }
    out->ok = true;
}

void
bus_json_clear (bus_json_t *self)
{
    json_decref (self->body);
    self->body = NULL;
}

const char *
bus_json_str (const json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

json_int_t
bus_json_int (const json_t *object, const char *key, json_int_t fallback)
{
    const json_t *value = json_object_get (object, key);
    return json_is_integer (value) ? json_integer_value (value) : fallback;
}

msgw_t *
bus_json_request (const char *op, const json_t *fields)
{
    json_t *request = fields ? json_deep_copy (fields) : json_object ();
    if (!request)
        return NULL;
    json_object_set_new (request, "op", json_string (op));
    msgw_t *w = msgw_new ();
    if (msgw_json (w, request) != 0)
        msgw_destroy (&w);
    json_decref (request);
    return w;
}

int64_t
bus_json_retry_after (const void *body, size_t size)
{
    msg_t *raw = msg_decode (body, size, NULL, NULL);
    int64_t retry = 0;
    if (!raw || msg_get_int (msg_root (raw), "retry_after", &retry) != MSG_FIELD_OK)
        retry = 0;
    msg_destroy (&raw);
    return retry;
}

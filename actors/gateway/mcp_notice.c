/*  mcp_notice.c — see mcp_notice.h. */
#include <math.h>
#include <string.h>

#include "json_msgpack.h"
#include "msg.h"
#include "mcp_notice.h"

static const char *const s_levels [] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency", NULL
};

//  A notice is small (BUS_NOTICE_MAX on the bus): tight decoding bounds.
static const msg_limits_t s_limits = {
    .max_size  = 16 * 1024,
    .max_depth = 2,
    .max_items = 16,
    .max_str   = MCP_NOTICE_TEXT_MAX,
};

int
mcp_notice_level_rank (const char *level)
{
    for (int i = 0; level && s_levels [i]; i++)
        if (strcmp (level, s_levels [i]) == 0)
            return i;
    return -1;
}

static bool
s_number (const json_t *value)
{
    if (!json_is_number (value))
        return false;
    double number = json_number_value (value);
    return isfinite (number) && number >= 0;
}

static bool
s_text (const json_t *value)
{
    return json_is_string (value)
        && json_string_length (value) <= MCP_NOTICE_TEXT_MAX
        && strlen (json_string_value (value)) == json_string_length (value);
}

static bool
s_keys_only (const json_t *object, const char *const *keys)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) object, key, value) {
        bool known = false;
        for (size_t i = 0; keys [i] && !known; i++)
            known = strcmp (key, keys [i]) == 0;
        if (!known)
            return false;
    }
    return true;
}

static json_t *
s_notification (const char *method, json_t *params)
{
    return json_pack ("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method,
                      "params", params);
}

mcp_notice_status_t
mcp_notice_render (const void *body, size_t size, const json_t *progress_token,
                   int log_rank, const char *logger, json_t **out)
{
    *out = NULL;
    const char *why;
    msg_t *msg = msg_decode (body, size, &s_limits, &why);
    if (!msg)
        return MCP_NOTICE_MALFORMED;
    json_t *notice = json_from_msgpack (msg_root (msg));
    msg_destroy (&msg);
    mcp_notice_status_t status = MCP_NOTICE_MALFORMED;
    const char *kind = json_string_value (json_object_get (notice, "kind"));
    if (kind && strcmp (kind, "progress") == 0) {
        static const char *const keys [] = { "kind", "progress", "total", "message", NULL };
        json_t *progress = json_object_get (notice, "progress");
        json_t *total = json_object_get (notice, "total");
        json_t *message = json_object_get (notice, "message");
        if (!s_keys_only (notice, keys) || !s_number (progress)
        ||  (total && !s_number (total)) || (message && !s_text (message)))
            goto done;
        status = MCP_NOTICE_FILTERED;
        if (!json_is_string (progress_token) && !json_is_integer (progress_token))
            goto done;
        json_t *params = json_pack ("{s:O, s:O}", "progressToken", progress_token,
                                    "progress", progress);
        if (total)
            json_object_set (params, "total", total);
        if (message)
            json_object_set (params, "message", message);
        *out = s_notification ("notifications/progress", params);
        status = MCP_NOTICE_SEND;
    }
    else
    if (kind && strcmp (kind, "log") == 0) {
        static const char *const keys [] = { "kind", "level", "data", NULL };
        const char *level = json_string_value (json_object_get (notice, "level"));
        json_t *data = json_object_get (notice, "data");
        int rank = mcp_notice_level_rank (level);
        if (!s_keys_only (notice, keys) || rank < 0 || !s_text (data))
            goto done;
        status = MCP_NOTICE_FILTERED;
        if (log_rank < 0 || rank < log_rank)
            goto done;
        json_t *params = json_pack ("{s:s, s:O}", "level", level, "data", data);
        json_t *name = logger ? json_string (logger) : NULL;
        if (name)
            json_object_set_new (params, "logger", name);
        *out = s_notification ("notifications/message", params);
        status = MCP_NOTICE_SEND;
    }
done:
    json_decref (notice);
    if (status == MCP_NOTICE_SEND && !*out)
        status = MCP_NOTICE_MALFORMED;
    return status;
}

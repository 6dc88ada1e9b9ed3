/*  api_logs.c — /api/logs (execution logs and their stats) and
    /api/activity, from logkeeper (service `logs`). The cursor is
    logkeeper's own (a row id), handed through as a string; limit 1–100.
*/
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "mcp_tools.h"

//  cursor/limit into fields; false after a 400.
static bool
s_page (api_call_t *call, json_t *fields)
{
    json_int_t cursor, limit;
    if (!api_page (call, &cursor, &limit))
        return false;
    json_object_set_new (fields, "limit", json_integer (limit));
    if (cursor)
        json_object_set_new (fields, "cursor", json_integer (cursor));
    return true;
}

//  Copy the string query arguments named (NULL-terminated) into fields.
static bool
s_strings (api_call_t *call, json_t *fields, const char *const *names, size_t max)
{
    for (const char *const *name = names; *name; name++) {
        const char *value;
        if (!api_query_str (call, *name, max, &value))
            return false;
        if (value)
            json_object_set_new (fields, *name, json_string (value));
    }
    return true;
}

static bool
s_bools (api_call_t *call, json_t *fields, const char *const *names)
{
    for (const char *const *name = names; *name; name++) {
        int value = -1;
        if (!api_query_bool (call, *name, &value))
            return false;
        if (value >= 0)
            json_object_set_new (fields, *name, json_boolean (value));
    }
    return true;
}

//  {key: [...], total, next_cursor (string or null)}
static json_t *
s_project_page (const json_t *reply, const char *key)
{
    json_t *items = json_object_get (reply, key);
    if (!json_is_array (items))
        return NULL;
    json_t *next = json_object_get (reply, "next_cursor");
    char text [24];
    if (json_is_integer (next))
        snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value (next));
    return json_pack ("{s:O, s:O, s:o}", key, items, "total",
                      json_object_get (reply, "total") ? json_object_get (reply, "total")
                                                       : json_null (),
                      "next_cursor", json_is_integer (next) ? json_string (text)
                                                            : json_null ());
}

static json_t *
s_project_logs (api_call_t *call, const json_t *reply)
{
    (void) call;
    return s_project_page (reply, "logs");
}

static json_t *
s_project_activity (api_call_t *call, const json_t *reply)
{
    (void) call;
    return s_project_page (reply, "activity");
}

void
api_logs_list (api_call_t *call)
{
    static const api_simple_t def = { "logs", "exec.query", 200, s_project_logs };
    static const char *const ids [] = { "server_id", "tool_id", "tool_name", NULL };
    static const char *const flags [] = { "success", "is_test", NULL };
    json_t *fields = json_object ();
    if (!s_page (call, fields) || !s_strings (call, fields, ids, API_PARAM_MAX)
    ||  !s_bools (call, fields, flags)) {
        json_decref (fields);
        return;
    }
    api_simple (call, &def, fields);
}

void
api_logs_stats (api_call_t *call)
{
    static const api_simple_t def = { "logs", "exec.stats", 200, NULL };
    static const char *const ids [] = { "server_id", "tool_id", NULL };
    static const char *const flags [] = { "include_tests", NULL };
    json_int_t window = 86400;
    json_t *fields = json_object ();
    if (!api_query_int (call, "window_s", 1, 3650LL * 86400, &window)
    ||  !s_strings (call, fields, ids, API_PARAM_MAX) || !s_bools (call, fields, flags)) {
        json_decref (fields);
        return;
    }
    json_object_set_new (fields, "window_s", json_integer (window));
    api_simple (call, &def, fields);
}

void
api_activity_list (api_call_t *call)
{
    static const api_simple_t def = { "logs", "activity.query", 200, s_project_activity };
    static const char *const names [] = { "type", "type_prefix", "level", "server_id",
                                          "source", NULL };
    json_t *fields = json_object ();
    if (!s_page (call, fields) || !s_strings (call, fields, names, API_PARAM_MAX)) {
        json_decref (fields);
        return;
    }
    api_simple (call, &def, fields);
}

/*  api_settings.c — /api/settings: the security policy (approval
    policy.get / policy.set / policy.profile, changed_by = the signed-in
    admin), and the default module allowlist.

    GET answers, beside the values, `weaker`: for each setting with
    choices, {choice: warning} for every choice weaker than the default;
    for a number, the warning text when the current value is weaker than
    the default. `current_warnings` lists the warnings of the values in
    force now. PUT takes {key: value, …} (at most every key once): all
    are checked here first against the table below, then set one by one;
    if approval refuses one, the answer says which were applied already.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "mcp_tools.h"
#include "python_modules.h"

typedef struct {
    const char *key;
    const char *choices [3];        //  default (the most restrictive) first; NULL: a number
    const char *warning;            //  for each choice after the first / a weaker number
    json_int_t  min, max, fallback;
    bool        higher_is_weaker;   //  numbers
} s_setting_t;

static const s_setting_t s_settings [] = {
    { "remote_tool_editing", { "disabled", "enabled" },
      "An MCP client (the LLM) may change a tool's code remotely; every change still "
      "needs review unless approval is automatic.", 0, 0, 0, false },
    { "tool_approval_mode", { "require_approval", "auto_approve" },
      "Code written by an LLM runs without anyone reading it first.", 0, 0, 0, false },
    { "network_access_policy", { "require_approval", "allow_all_public" },
      "Tools may send data to any public host without review.", 0, 0, 0, false },
    { "module_approval_mode", { "require_approval", "auto_approve" },
      "Module requests are granted at once (forbidden modules stay refused).", 0, 0, 0, false },
    { "redact_secrets_in_output", { "enabled", "disabled" },
      "Secret values may appear in tool results, errors and logs.", 0, 0, 0, false },
    { "log_retention_days", { NULL },
      "Shorter retention than the default 30 days: less history to investigate an "
      "incident with.", 1, 3650, 30, false },
    { "mcp_rate_limit_rpm", { NULL },
      "A higher MCP rate limit than the default 300 per minute: a runaway client can "
      "run tools faster.", 10, 10000, 300, true },
};
#define S_COUNT (sizeof s_settings / sizeof s_settings [0])

static const s_setting_t *
s_find (const char *key)
{
    for (size_t i = 0; i < S_COUNT; i++)
        if (!strcmp (s_settings [i].key, key))
            return &s_settings [i];
    return NULL;
}

//  The warning for value (a json value from policy.get), or NULL.
static const char *
s_weaker (const s_setting_t *def, const json_t *value)
{
    if (def->choices [0]) {
        const char *text = json_string_value (value);
        return text && strcmp (text, def->choices [0]) ? def->warning : NULL;
    }
    json_int_t n = json_is_integer (value) ? json_integer_value (value) : def->fallback;
    if (json_is_string (value))
        sscanf (json_string_value (value), "%" JSON_INTEGER_FORMAT, &n);
    bool weaker = def->higher_is_weaker ? n > def->fallback : n < def->fallback;
    return weaker ? def->warning : NULL;
}

static json_t *
s_project_settings (api_call_t *call, const json_t *reply)
{
    (void) call;
    json_t *settings = json_object_get (reply, "settings");
    if (!json_is_object (settings))
        return NULL;
    json_t *weaker = json_object ();
    json_t *current = json_object ();
    json_t *defaults = json_object ();
    for (size_t i = 0; i < S_COUNT; i++) {
        const s_setting_t *def = &s_settings [i];
        json_t *value = json_object_get (settings, def->key);
        if (def->choices [0]) {
            json_t *choices = json_object ();
            for (size_t c = 1; c < 3 && def->choices [c]; c++)
                json_object_set_new (choices, def->choices [c], json_string (def->warning));
            json_object_set_new (weaker, def->key, choices);
            json_object_set_new (defaults, def->key, json_string (def->choices [0]));
        }
        else {
            if (s_weaker (def, value))
                json_object_set_new (weaker, def->key, json_string (def->warning));
            json_object_set_new (defaults, def->key, json_integer (def->fallback));
        }
        if (value && s_weaker (def, value))
            json_object_set_new (current, def->key, json_string (def->warning));
    }
    return json_pack ("{s:O, s:O, s:o, s:o, s:o}", "settings", settings,
                      "profile", json_object_get (reply, "profile")
                                 ? json_object_get (reply, "profile") : json_null (),
                      "weaker", weaker, "current_warnings", current, "defaults", defaults);
}

void
api_settings_get (api_call_t *call)
{
    static const api_simple_t def = { "approval", "policy.get", 200, s_project_settings };
    api_simple (call, &def, NULL);
}

//  --- PUT: check all, then policy.set one by one ----------------------------------
//  ctx: {keys [..], step, applied [..]}

static void s_put_next (api_call_t *call);

static void
s_put_got (api_call_t *call, bus_json_t *reply)
{
    json_t *keys = json_object_get (call->ctx, "keys");
    json_t *applied = json_object_get (call->ctx, "applied");
    size_t step = (size_t) bus_json_int (call->ctx, "step", 0);
    if (!reply->ok) {
        if (json_array_size (applied) == 0) {
            api_bus_error (call, reply);
            return;
        }
        char message [600];
        char *list = json_dumps (applied, JSON_COMPACT);
        snprintf (message, sizeof message, "%s: %s (already applied: %s)",
                  json_string_value (json_array_get (keys, step)),
                  reply->message [0] ? reply->message : "refused", list ? list : "?");
        free (list);
        api_error (call, reply->code == BUS_ERR_BAD_REQUEST ? 400 : 503,
                   reply->code == BUS_ERR_BAD_REQUEST ? "bad_request" : "unavailable",
                   message);
        return;
    }
    json_array_append (applied, json_array_get (keys, step));
    if (++step < json_array_size (keys)) {
        json_object_set_new (call->ctx, "step", json_integer ((json_int_t) step));
        s_put_next (call);
        return;
    }
    json_t *out = s_project_settings (call, reply->body);
    if (!out) {
        api_error (call, 500, "internal", "the approval service answered in an "
                   "unexpected form");
        return;
    }
    json_object_set_new (out, "changed_by", json_string (api_username (call)));
    api_ok (call, 200, out);
}

static void
s_put_next (api_call_t *call)
{
    size_t step = (size_t) bus_json_int (call->ctx, "step", 0);
    const char *key = json_string_value (json_array_get (json_object_get (call->ctx, "keys"),
                                                         step));
    json_t *fields = json_pack ("{s:s, s:O, s:s}", "key", key, "value",
                                json_object_get (call->body, key), "changed_by",
                                api_username (call));
    api_ask (call, "approval", "policy.set", fields, s_put_got);
    json_decref (fields);
}

void
api_settings_put (api_call_t *call)
{
    if (json_object_size (call->body) == 0) {
        api_error (call, 400, "bad_request", "give at least one setting: {key: value}");
        return;
    }
    json_t *keys = json_array ();
    const char *key;
    json_t *value;
    json_object_foreach (call->body, key, value) {
        const s_setting_t *def = s_find (key);
        char message [256];
        const char *problem = NULL;
        if (!def)
            problem = "not a setting";
        else
        if (def->choices [0]) {
            const char *text = json_string_value (value);
            bool known = false;
            for (size_t c = 0; c < 3 && def->choices [c] && text; c++)
                known = known || !strcmp (text, def->choices [c]);
            if (!known)
                problem = "not one of its choices";
        }
        else
        if (!json_is_integer (value) || json_integer_value (value) < def->min
        ||  json_integer_value (value) > def->max)
            problem = "an integer out of range";
        if (problem) {
            snprintf (message, sizeof message, "setting '%.64s': %s", key, problem);
            json_decref (keys);
            api_error (call, 400, "bad_request", message);
            return;
        }
        json_array_append_new (keys, json_string (key));
    }
    call->ctx = json_pack ("{s:o, s:i, s:[]}", "keys", keys, "step", 0, "applied");
    s_put_next (call);
}

void
api_settings_profile (api_call_t *call)
{
    static const api_simple_t def = { "approval", "policy.profile", 200, s_project_settings };
    static const char *const keys [] = { "name", NULL };
    const char *name;
    if (!api_body_only (call, keys) || !api_body_str (call, "name", true, 16, &name))
        return;
    if (strcmp (name, "strict") && strcmp (name, "balanced") && strcmp (name, "permissive")) {
        api_error (call, 400, "bad_request", "field 'name': strict, balanced or permissive");
        return;
    }
    api_simple (call, &def, json_pack ("{s:s, s:s}", "name", name, "changed_by",
                                       api_username (call)));
}

void
api_settings_modules (api_call_t *call)
{
    static const char *forbidden [] = { MODULES_FORBIDDEN_LIST, NULL };
    json_t *list = json_array ();
    for (size_t i = 0; forbidden [i]; i++)
        json_array_append_new (list, json_string (forbidden [i]));
    api_ok (call, 200, json_pack ("{s:o, s:o}", "allowed", mcp_default_modules (),
                                  "forbidden", list));
}

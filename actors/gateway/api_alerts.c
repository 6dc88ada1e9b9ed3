/*  api_alerts.c — /api/alerts: the admin's webhook alerts (the alerts
    actor's hook.list / hook.add / hook.remove / hook.test; docs/DESIGN.md
    section 16).

      GET    /api/alerts              {hooks: [{id, url, format, events,
                                      created_at, created_by, sent, failed,
                                      last_status, last_error}]}
      POST   /api/alerts {url, format, events?: [names]}
                                      201 {hook: {id, url, format, events}}
      DELETE /api/alerts/{id}         {id}
      POST   /api/alerts/{id}/test    {queued}: one alert.test to that hook

    The alerts actor validates the URL (http/https, no credentials in it,
    printable ASCII, at most 2048 bytes), the format and the event names,
    exactly as for `mcpbox alerts add`. A URL is never shown back in full:
    a Slack or Discord webhook URL is its channel's credential, so every
    answer carries only its scheme, host and the first characters of its
    path (store_url_display in the actor). Session and CSRF like every
    state-changing route (api_router.c); the admin surfaces only, never a
    management tool or the remote listener.
*/
#include <string.h>

#include "api.h"

#define S_URL_MAX       2048        //  ALERT_URL_MAX: the actor says what is wrong
#define S_EVENTS_MAX    8
#define S_EVENT_MAX     32

void
api_alerts_list (api_call_t *call)
{
    static const api_simple_t def = { "alerts", "hook.list", 200, NULL };
    api_simple (call, &def, json_object ());
}

void
api_alerts_add (api_call_t *call)
{
    static const api_simple_t def = { "alerts", "hook.add", 201, NULL };
    static const char *const keys [] = { "url", "format", "events", NULL };
    const char *url, *format;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "url", true, S_URL_MAX, &url)
    ||  !api_body_str (call, "format", true, 16, &format))
        return;
    json_t *events = json_object_get (call->body, "events");
    if (events && !json_is_null (events)) {
        bool valid = json_is_array (events) && json_array_size (events) <= S_EVENTS_MAX;
        size_t i;
        json_t *name;
        json_array_foreach (events, i, name)
            valid &= json_is_string (name) && json_string_length (name) >= 1
                  && json_string_length (name) <= S_EVENT_MAX;
        if (!valid) {
            api_error (call, 400, "bad_request", "events: a list of at most 8 alert "
                       "names (process.crash_loop, circuit.opened, tunnel.down, logs.lost, "
                       "retention.failed, alert.test)");
            return;
        }
    }
    json_t *fields = json_pack ("{s:s, s:s, s:s+}", "url", url, "format", format,
                                "created_by", "dashboard:", api_username (call));
    if (fields && events && json_is_array (events))
        json_object_set (fields, "events", events);
    api_simple (call, &def, fields);
}

void
api_alerts_remove (api_call_t *call)
{
    static const api_simple_t def = { "alerts", "hook.remove", 200, NULL };
    api_simple (call, &def, json_pack ("{s:s}", "id", api_param (call, 0)));
}

void
api_alerts_test (api_call_t *call)
{
    static const api_simple_t def = { "alerts", "hook.test", 200, NULL };
    api_simple (call, &def, json_pack ("{s:s}", "id", api_param (call, 0)));
}

/*  fuzz_alert_event — libFuzzer target for rules_event, the alerts actor's
    reader of the bus events it subscribes to (activity, tunnel.status),
    which any local process may publish. The first byte picks the topic and
    the time step; the rest is the msgpack body. An alert, when raised,
    must have a known name and render in every format as a JSON object. The
    rules' state (crash counts) lives across inputs, as in the actor. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static rules_t *rules;
    static int64_t now;
    if (!rules)
        rules = rules_new (3, 60000);
    if (size < 1)
        return 0;
    const char *topic = data [0] & 1 ? "tunnel.status" : "activity";
    now += data [0] >> 1;
    alert_t alert;
    if (rules_event (rules, topic, data + 1, size - 1, now, &alert) == 1) {
        if (!alert_name_valid (alert.name, strlen (alert.name)))
            abort ();
        static const char *formats [] = { "json", "slack", "discord" };
        for (int i = 0; i < 3; i++) {
            char *body = alert_render (&alert, formats [i], "id", "2026-12-06T05:00:00.000Z");
            if (!body || body [0] != '{' || strlen (body) > 16384)
                abort ();
            free (body);
        }
        alert_clear (&alert);
    }
    return 0;
}

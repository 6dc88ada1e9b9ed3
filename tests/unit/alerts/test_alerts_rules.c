/*  test_alerts_rules.c — which events become alerts and what their bodies
    carry (actors/alerts/rules.c): a crash loop counted per process within
    its window and raised once per window; the tunnel going down; log loss
    and a failed prune; other events ignored; bodies in the three formats
    with only whitelisted facts, never a record's message or a secret.

    Linked against alerts_core, as the actor is. Events are real msgpack
    bodies built with msgw.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "json_msgpack.h"

#define SECRET "sk-0123456789abcdef-secret"

static int
s_event (rules_t *rules, const char *topic, const char *json_text, int64_t now,
         alert_t *alert)
{
    json_t *value = json_loads (json_text, 0, NULL);
    assert_non_null (value);
    msgw_t *w = msgw_new ();
    assert_int_equal (msgw_json (w, value), 0);
    int rc = rules_event (rules, topic, msgw_data (w), msgw_size (w), now, alert);
    msgw_destroy (&w);
    json_decref (value);
    return rc;
}

static int
s_crash (rules_t *rules, const char *process, int64_t now, alert_t *alert)
{
    char text [256];
    snprintf (text, sizeof text, "{\"type\":\"process.crashed\",\"level\":\"error\","
              "\"message\":\"m\",\"details\":{\"process\":\"%s\",\"cause\":\"killed by "
              "signal SIGKILL\"}}", process);
    return s_event (rules, "activity", text, now, alert);
}

static void
test_crash_loop (void **state)
{
    (void) state;
    rules_t *rules = rules_new (3, 60000);
    alert_t alert;
    assert_int_equal (s_crash (rules, "mcpbox-executor-1", 0, &alert), 0);
    assert_int_equal (s_crash (rules, "mcpbox-executor-2", 1000, &alert), 0);
    assert_int_equal (s_crash (rules, "mcpbox-executor-1", 2000, &alert), 0);
    //  the third crash of the same process within the window
    assert_int_equal (s_crash (rules, "mcpbox-executor-1", 3000, &alert), 1);
    assert_string_equal (alert.name, "process.crash_loop");
    assert_string_equal (json_string_value (json_object_get (alert.facts, "process")),
                         "mcpbox-executor-1");
    alert_clear (&alert);
    //  once per window
    assert_int_equal (s_crash (rules, "mcpbox-executor-1", 4000, &alert), 0);
    //  three crashes spread wider than the window are no loop
    assert_int_equal (s_crash (rules, "mcpbox-registry", 0, &alert), 0);
    assert_int_equal (s_crash (rules, "mcpbox-registry", 40000, &alert), 0);
    assert_int_equal (s_crash (rules, "mcpbox-registry", 80000, &alert), 0);
    //  but a fourth soon after is (the last three within 60 s)
    assert_int_equal (s_crash (rules, "mcpbox-registry", 81000, &alert), 1);
    alert_clear (&alert);
    rules_destroy (&rules);
    assert_null (rules);
}

static void
test_other_alerts_and_ignored (void **state)
{
    (void) state;
    rules_t *rules = rules_new (3, 60000);
    alert_t alert;
    assert_int_equal (s_event (rules, "tunnel.status", "{\"previous\":\"connected\","
                               "\"state\":\"error\",\"provider\":\"cloudflared\","
                               "\"restarts\":2,\"message\":\"" SECRET "\"}", 0, &alert), 1);
    assert_string_equal (alert.name, "tunnel.down");
    assert_null (json_object_get (alert.facts, "message"));
    alert_clear (&alert);
    //  a deliberate stop, or a failure to connect in the first place
    assert_int_equal (s_event (rules, "tunnel.status", "{\"previous\":\"connected\","
                               "\"state\":\"disconnected\"}", 0, &alert), 0);
    assert_int_equal (s_event (rules, "tunnel.status", "{\"previous\":\"connecting\","
                               "\"state\":\"error\"}", 0, &alert), 0);
    assert_int_equal (s_event (rules, "activity", "{\"type\":\"logs.dropped\",\"level\":"
                               "\"error\",\"message\":\"" SECRET "\",\"source\":\"mcpbox-gateway\","
                               "\"details\":{\"dropped\":7,\"note\":\"" SECRET "\"}}", 0,
                               &alert), 1);
    assert_string_equal (alert.name, "logs.lost");
    char *text = json_dumps (alert.facts, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"dropped\":7,\"source\":\"mcpbox-gateway\"}");
    free (text);
    alert_clear (&alert);
    assert_int_equal (s_event (rules, "activity", "{\"type\":\"logs.pruned\",\"level\":"
                               "\"error\",\"details\":{\"failed\":true}}", 0, &alert), 1);
    assert_string_equal (alert.name, "retention.failed");
    alert_clear (&alert);
    assert_int_equal (s_event (rules, "activity", "{\"type\":\"logs.pruned\",\"level\":"
                               "\"info\",\"details\":{\"failed\":false}}", 0, &alert), 0);
    assert_int_equal (s_event (rules, "activity", "{\"type\":\"circuit.opened\",\"level\":"
                               "\"warning\",\"details\":{\"failures\":5}}", 0, &alert), 1);
    assert_string_equal (alert.name, "circuit.opened");
    alert_clear (&alert);
    assert_int_equal (s_event (rules, "activity", "{\"type\":\"tool.called\",\"level\":"
                               "\"info\"}", 0, &alert), 0);
    assert_int_equal (s_event (rules, "tools.changed", "{\"revision\":1}", 0, &alert), 0);
    //  not msgpack at all
    assert_int_equal (rules_event (rules, "activity", "\xc1\xc1", 2, 0, &alert), 0);
    rules_destroy (&rules);
}

static void
test_render (void **state)
{
    (void) state;
    alert_t alert = { .name = "logs.lost", .level = "error", .summary = "lost" };
    alert.facts = json_pack ("{s:i, s:s}", "dropped", 3, "api_token", SECRET);
    char *json = alert_render (&alert, "json", "00000000-0000-4000-8000-000000000001",
                               "2026-12-06T05:00:00.000Z");
    char *slack = alert_render (&alert, "slack", "i", "t");
    char *discord = alert_render (&alert, "discord", "i", "t");
    assert_non_null (strstr (json, "\"alert\":\"logs.lost\""));
    assert_non_null (strstr (json, "\"id\":\"00000000-0000-4000-8000-000000000001\""));
    assert_null (strstr (json, SECRET));                    //  redacted by its key
    assert_non_null (strstr (json, "[REDACTED]"));
    assert_string_equal (slack, "{\"text\":\"[MCPbox] ERROR logs.lost: lost\"}");
    assert_non_null (strstr (discord, "\"content\":\"[MCPbox] ERROR logs.lost: lost\""));
    assert_non_null (strstr (discord, "\"allowed_mentions\":{\"parse\":[]}"));
    free (json);
    free (slack);
    free (discord);
    alert_clear (&alert);
    assert_true (alert_events_match ("*", "tunnel.down"));
    assert_true (alert_events_match ("logs.lost,tunnel.down", "tunnel.down"));
    assert_false (alert_events_match ("logs.lost,tunnel.downx", "tunnel.down"));
    assert_true (alert_name_valid ("retention.failed", 16));
    assert_false (alert_name_valid ("retention", 9));
}

static void
test_urls (void **state)
{
    (void) state;
    bus_err_t err;
    const char *good [] = { "http://127.0.0.1:9/x", "https://hooks.slack.com/services/T/B/C",
                            NULL };
    const char *bad [] = { "ftp://h/x", "http://u:p@h/x", "http://h/x#f", "http://h/ x",
                           "https:///x", "javascript:alert(1)", "http://h/\xc3\xa9", NULL };
    for (int i = 0; good [i]; i++)
        assert_int_equal (store_url_check (good [i], strlen (good [i]), &err), 0);
    for (int i = 0; bad [i]; i++)
        if (store_url_check (bad [i], strlen (bad [i]), &err) == 0)
            fail_msg ("accepted %s", bad [i]);
    char shown [96];
    store_url_display ("https://hooks.slack.com/services/T000/B000/XXXX", shown, sizeof shown);
    assert_string_equal (shown, "https://hooks.slack.com/services…");
    store_url_display ("http://127.0.0.1:9/x", shown, sizeof shown);
    assert_string_equal (shown, "http://127.0.0.1:9/x");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_crash_loop),
        cmocka_unit_test (test_other_alerts_and_ignored),
        cmocka_unit_test (test_render),
        cmocka_unit_test (test_urls),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

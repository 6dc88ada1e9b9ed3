/*  test_metrics.c — the gateway's figures and their text (actors/gateway/
    metrics.c): tool labels are bounded (the rest count under _other, and
    the overflow is counted), an unresolved name is _unknown, label values
    are escaped, histograms are cumulative with +Inf, _sum and _count,
    process crashes/restarts are read from activity records by the
    constellation's process names only.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "metrics.h"

static char *
s_render (metrics_t *metrics)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    metrics_write (metrics, out);
    assert_int_equal (fclose (out), 0);
    return text;
}

static void
test_tool_series_are_bounded (void **state)
{
    (void) state;
    metrics_t *metrics = metrics_new (2);
    metrics_call (metrics, "a__one", METRICS_OK);
    metrics_call (metrics, "a__one", METRICS_OK);
    metrics_call (metrics, "a__two", METRICS_TOOL_ERROR);
    metrics_call (metrics, "a__three", METRICS_OK);        //  beyond the bound
    metrics_call (metrics, "a__four", METRICS_CIRCUIT_OPEN);
    metrics_call (metrics, NULL, METRICS_ERROR);            //  also beyond
    char *text = s_render (metrics);
    assert_non_null (strstr (text, "mcpbox_tool_calls_total{tool=\"a__one\",outcome=\"ok\"} 2\n"));
    assert_non_null (strstr (text, "mcpbox_tool_calls_total{tool=\"a__two\",outcome=\"tool_error\"} 1\n"));
    assert_null (strstr (text, "a__three"));
    assert_non_null (strstr (text, "mcpbox_tool_calls_total{tool=\"_other\",outcome=\"ok\"} 1\n"));
    assert_non_null (strstr (text, "mcpbox_tool_calls_total{tool=\"_other\",outcome=\"circuit_open\"} 1\n"));
    assert_non_null (strstr (text, "mcpbox_tool_call_series_overflow_total 3\n"));
    free (text);
    metrics_destroy (&metrics);
    assert_null (metrics);
}

static void
test_escaping (void **state)
{
    (void) state;
    char out [64];
    metrics_escape ("a\"b\\c\nd", out, sizeof out);
    assert_string_equal (out, "a\\\"b\\\\c\\nd");
    metrics_escape ("\"\"\"\"", out, 5);        //  cut at whole escapes
    assert_string_equal (out, "\\\"\\\"");
}

static void
test_histogram_is_cumulative (void **state)
{
    (void) state;
    metrics_t *metrics = metrics_new (0);
    metrics_stage (metrics, METRICS_STAGE_SANDBOX, 700);           //  0.0007 s
    metrics_stage (metrics, METRICS_STAGE_SANDBOX, 2000000);       //  2 s
    metrics_stage (metrics, METRICS_STAGE_SANDBOX, 999000000);     //  beyond every bucket
    metrics_bus (metrics, "sandbox", 1500);
    char *text = s_render (metrics);
    assert_non_null (strstr (text,
        "mcpbox_tool_call_stage_seconds_bucket{stage=\"sandbox\",le=\"0.0005\"} 0\n"));
    assert_non_null (strstr (text,
        "mcpbox_tool_call_stage_seconds_bucket{stage=\"sandbox\",le=\"0.001\"} 1\n"));
    assert_non_null (strstr (text,
        "mcpbox_tool_call_stage_seconds_bucket{stage=\"sandbox\",le=\"2.5\"} 2\n"));
    assert_non_null (strstr (text,
        "mcpbox_tool_call_stage_seconds_bucket{stage=\"sandbox\",le=\"300\"} 2\n"));
    assert_non_null (strstr (text,
        "mcpbox_tool_call_stage_seconds_bucket{stage=\"sandbox\",le=\"+Inf\"} 3\n"));
    assert_non_null (strstr (text, "mcpbox_tool_call_stage_seconds_count{stage=\"sandbox\"} 3\n"));
    assert_non_null (strstr (text, "mcpbox_tool_call_stage_seconds_count{stage=\"bus\"} 0\n"));
    assert_non_null (strstr (text, "mcpbox_bus_request_seconds_count{service=\"sandbox\"} 1\n"));
    //  one HELP and one TYPE per family
    assert_non_null (strstr (text, "# TYPE mcpbox_tool_call_stage_seconds histogram\n"));
    free (text);
    metrics_destroy (&metrics);
}

//  An activity record as logkeeper publishes it.
static void
s_activity (metrics_t *metrics, const char *type, const char *process)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_str (w, "type", type);
    msgw_str (w, "details");
    msgw_map (w, 1);
    msgw_kv_str (w, "process", process);
    metrics_on_activity (metrics, msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
}

static void
test_restarts_from_activity (void **state)
{
    (void) state;
    metrics_t *metrics = metrics_new (0);
    s_activity (metrics, "process.crashed", "mcpbox-executor-2");
    s_activity (metrics, "process.restarted", "mcpbox-executor-2");
    s_activity (metrics, "process.restarted", "mcpbox-registry");
    s_activity (metrics, "process.restarted", "mcpbox-registryX");   //  not ours
    s_activity (metrics, "process.restarted", "mcpbox-executor-");
    s_activity (metrics, "tool.called", "mcpbox-registry");
    metrics_on_activity (metrics, "\xc1", 1);                         //  not msgpack
    char *text = s_render (metrics);
    assert_non_null (strstr (text, "mcpbox_process_crashes_total{process=\"mcpbox-executor\"} 1\n"));
    assert_non_null (strstr (text, "mcpbox_process_restarts_total{process=\"mcpbox-executor\"} 1\n"));
    assert_non_null (strstr (text, "mcpbox_process_restarts_total{process=\"mcpbox-registry\"} 1\n"));
    assert_null (strstr (text, "registryX"));
    free (text);
    metrics_destroy (&metrics);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_tool_series_are_bounded),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_histogram_is_cumulative),
        cmocka_unit_test (test_restarts_from_activity),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

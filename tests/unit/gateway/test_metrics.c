/*  test_metrics.c — the gateway's figures and their text (actors/gateway/
    metrics.c): tool labels are bounded (the rest count under _other, and
    the overflow is counted), an unresolved name is _unknown, label values
    are escaped, histograms are cumulative with +Inf, _sum and _count,
    process crashes/restarts are mcpbox up's counts (common/proc_counts.h)
    summed by the constellation's process names only, and a file whose
    writer is gone is not read.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "proc_counts.h"

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

//  mcpbox up's counts file (proc_counts.h) rendered as the two families.
static char *
s_render_processes (const char *text)
{
    char *out_text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&out_text, &size);
    assert_non_null (out);
    metrics_write_processes (out, text, text ? strlen (text) : 0);
    assert_int_equal (fclose (out), 0);
    return out_text;
}

static void
test_restarts_from_mcpbox_up_counts (void **state)
{
    (void) state;
    //  as mcpbox up writes it: instances summed under their process, names
    //  outside the constellation left out
    proc_counts_t *counts = proc_counts_new ();
    proc_counts_note (counts, "mcpbox-executor-1", true);
    proc_counts_note (counts, "mcpbox-executor-1", false);
    proc_counts_note (counts, "mcpbox-executor-2", true);
    proc_counts_note (counts, "mcpbox-executor-2", false);
    proc_counts_note (counts, "mcpbox-registry", false);
    proc_counts_note (counts, "mcpbox-registryX", false);
    proc_counts_note (counts, "mcpbox-executor-", true);
    proc_counts_note (counts, "bad name", true);              //  not counted at all
    char path [] = "/tmp/mcpbox-proc-counts-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (proc_counts_save (counts, getpid (), path), 0);
    size_t len = 0;
    char *saved = proc_counts_read (path, &len);
    assert_non_null (saved);
    assert_int_equal (len, strlen (saved));
    assert_null (strstr (saved, "bad name"));
    char *text = s_render_processes (saved);
    assert_non_null (strstr (text, "mcpbox_process_crashes_total{process=\"mcpbox-executor\"} 2\n"));
    assert_non_null (strstr (text, "mcpbox_process_restarts_total{process=\"mcpbox-executor\"} 2\n"));
    assert_non_null (strstr (text, "mcpbox_process_restarts_total{process=\"mcpbox-registry\"} 1\n"));
    assert_non_null (strstr (text, "mcpbox_process_crashes_total{process=\"mcpbox-gateway\"} 0\n"));
    assert_null (strstr (text, "registryX"));
    free (text);
    free (saved);

    //  a file whose writer is gone (an mcpbox up killed) is not read
    pid_t child = fork ();
    if (child == 0)
        _exit (0);
    assert_int_equal (waitpid (child, NULL, 0), child);
    assert_int_equal (proc_counts_save (counts, child, path), 0);
    assert_null (proc_counts_read (path, &len));
    unlink (path);
    assert_null (proc_counts_read (path, &len));            //  absent
    proc_counts_destroy (&counts);

    //  no file, or a malformed one: the families without samples
    const char *texts [] = { NULL, "", "[]", "{\"pid\": 0}", "{\"pid\": \"1\"}",
                             "{\"pid\": 1, \"processes\": {\"mcpbox-registry\": "
                             "{\"crashes\": -1, \"restarts\": 2}}}" };
    for (size_t i = 0; i < sizeof texts / sizeof texts [0]; i++) {
        text = s_render_processes (texts [i]);
        assert_non_null (strstr (text, "# TYPE mcpbox_process_crashes_total counter\n"));
        if (i < 5)
            assert_null (strstr (text, "mcpbox_process_crashes_total{"));
        else        //  a negative count skips that entry, not the file
            assert_non_null (strstr (text, "mcpbox_process_restarts_total{process=\"mcpbox-registry\"} 0\n"));
        free (text);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_tool_series_are_bounded),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_histogram_is_cumulative),
        cmocka_unit_test (test_restarts_from_mcpbox_up_counts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  metrics.c — the gateway's own figures and the text format. See metrics.h. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>

#include "constellation.h"
#include "metrics.h"
#include "proc_counts.h"

//  Histogram buckets, seconds (upper bounds; +Inf is implied).
static const double s_buckets [] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10, 30, 60, 120, 300
};
#define BUCKETS (sizeof s_buckets / sizeof s_buckets [0])

typedef struct {
    uint64_t counts [BUCKETS];      //  observations <= each bound (not cumulative)
    uint64_t count;                 //  all observations
    double   sum;                   //  seconds
} histogram_t;

typedef struct {
    char     name [72];             //  a resolved tool name
    uint64_t outcomes [METRICS_OUTCOMES];
} tool_series_t;

typedef struct {
    char        name [40];          //  a bus service name
    histogram_t rtt;
} service_series_t;

#define PROCESSES_MAX 16

struct _metrics_t {
    size_t            tool_series;      //  names with their own series, at most
    zlistx_t         *tools;            //  tool_series_t, in first-seen order
    zhashx_t         *by_name;          //  name -> tool_series_t (borrowed)
    tool_series_t     other;            //  beyond the bound
    uint64_t          overflow;         //  calls counted under _other
    int64_t           in_flight;        //  user tool calls at the sandbox
    histogram_t       stages [METRICS_STAGES];
    service_series_t  services [METRICS_SERVICES_MAX];
    size_t            service_count;
    histogram_t       service_other;    //  beyond METRICS_SERVICES_MAX
    uint64_t          source_errors [METRICS_SOURCES_MAX];
};

static const char *s_outcomes [METRICS_OUTCOMES] = {
    [METRICS_OK]                  = "ok",
    [METRICS_TOOL_ERROR]          = "tool_error",
    [METRICS_ERROR]               = "error",
    [METRICS_SANDBOX_UNAVAILABLE] = "sandbox_unavailable",
    [METRICS_CIRCUIT_OPEN]        = "circuit_open",
    [METRICS_CANCELLED]           = "cancelled",
    [METRICS_RATE_LIMITED]        = "rate_limited",
};

static const char *s_stages [METRICS_STAGES] = {
    [METRICS_STAGE_GATEWAY] = "gateway",
    [METRICS_STAGE_BUS]     = "bus",
    [METRICS_STAGE_SANDBOX] = "sandbox",
};

static void
s_series_free (void **item)
{
    free (*item);
    *item = NULL;
}

metrics_t *
metrics_new (size_t tool_series)
{
    metrics_t *self = calloc (1, sizeof *self);
    assert (self);
    self->tool_series = tool_series ? tool_series : METRICS_TOOL_SERIES_MAX;
    self->tools = zlistx_new ();
    zlistx_set_destructor (self->tools, s_series_free);
    self->by_name = zhashx_new ();
    snprintf (self->other.name, sizeof self->other.name, "%s", METRICS_TOOL_OTHER);
    assert (constellation_size () <= PROCESSES_MAX);
    return self;
}

void
metrics_destroy (metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_t *self = *self_p;
    zhashx_destroy (&self->by_name);
    zlistx_destroy (&self->tools);
    free (self);
    *self_p = NULL;
}

const char *
metrics_outcome_name (metrics_outcome_t outcome)
{
    return outcome < METRICS_OUTCOMES ? s_outcomes [outcome] : "error";
}

//  --- counting -----------------------------------------------------------------

void
metrics_call (metrics_t *self, const char *tool, metrics_outcome_t outcome)
{
    if (!self || outcome >= METRICS_OUTCOMES)
        return;
    if (!tool || !*tool || strlen (tool) >= sizeof self->other.name)
        tool = METRICS_TOOL_UNKNOWN;
    tool_series_t *series = zhashx_lookup (self->by_name, tool);
    if (!series && zlistx_size (self->tools) < self->tool_series) {
        series = calloc (1, sizeof *series);
        assert (series);
        snprintf (series->name, sizeof series->name, "%s", tool);
        zlistx_add_end (self->tools, series);
        zhashx_insert (self->by_name, series->name, series);
    }
    if (!series) {
        series = &self->other;
        self->overflow++;
    }
    series->outcomes [outcome]++;
}

void
metrics_in_flight (metrics_t *self, int delta)
{
    if (self)
        self->in_flight += delta;
}

static void
s_observe (histogram_t *histogram, int64_t micros)
{
    if (micros < 0)
        micros = 0;
    double seconds = (double) micros / 1e6;
    for (size_t i = 0; i < BUCKETS; i++)
        if (seconds <= s_buckets [i]) {
            histogram->counts [i]++;
            break;
        }
    histogram->count++;
    histogram->sum += seconds;
}

void
metrics_stage (metrics_t *self, metrics_stage_t stage, int64_t micros)
{
    if (self && stage < METRICS_STAGES)
        s_observe (&self->stages [stage], micros);
}

void
metrics_bus (metrics_t *self, const char *service, int64_t micros)
{
    if (!self || !service)
        return;
    for (size_t i = 0; i < self->service_count; i++)
        if (strcmp (self->services [i].name, service) == 0) {
            s_observe (&self->services [i].rtt, micros);
            return;
        }
    if (self->service_count < METRICS_SERVICES_MAX
    &&  strlen (service) < sizeof self->services [0].name) {
        service_series_t *series = &self->services [self->service_count++];
        snprintf (series->name, sizeof series->name, "%s", service);
        s_observe (&series->rtt, micros);
    }
    else
        s_observe (&self->service_other, micros);
}

//  The constellation row of a supervisor's child name: the process name,
//  or the process name and "-N" (one of several instances). -1 if none.
static int
s_process_row (const char *name)
{
    for (size_t i = 0; i < constellation_size (); i++) {
        const char *process = constellation [i].process;
        size_t len = strlen (process);
        if (strncmp (name, process, len) != 0)
            continue;
        const char *rest = name + len;
        if (*rest == 0)
            return (int) i;
        if (*rest++ != '-' || !*rest)
            continue;
        while (*rest >= '0' && *rest <= '9')
            rest++;
        if (*rest == 0)
            return (int) i;
    }
    return -1;
}

typedef struct {
    uint64_t crashes [PROCESSES_MAX];       //  by constellation row
    uint64_t restarts [PROCESSES_MAX];
} s_process_sums_t;

static void
s_process_add (void *arg, const char *name, uint64_t crashes, uint64_t restarts)
{
    s_process_sums_t *sums = arg;
    int row = s_process_row (name);
    if (row >= 0 && (size_t) row < PROCESSES_MAX) {
        sums->crashes [row] += crashes;
        sums->restarts [row] += restarts;
    }
}

void
metrics_write_processes (FILE *out, const char *text, size_t len)
{
    s_process_sums_t sums = { 0 };
    pid_t pid;
    bool known = text && proc_counts_parse (text, len, &pid, s_process_add, &sums) == 0;
    metrics_family (out, "mcpbox_process_crashes_total", "counter",
                    "processes that exited unasked under mcpbox up, by process "
                    "(counted by mcpbox up for its whole run)");
    for (size_t i = 0; known && i < constellation_size (); i++)
        metrics_sample_int (out, "mcpbox_process_crashes_total", (int64_t) sums.crashes [i],
                            "process", constellation [i].process, NULL);
    metrics_family (out, "mcpbox_process_restarts_total", "counter",
                    "processes restarted by mcpbox up, by process "
                    "(counted by mcpbox up for its whole run)");
    for (size_t i = 0; known && i < constellation_size (); i++)
        metrics_sample_int (out, "mcpbox_process_restarts_total", (int64_t) sums.restarts [i],
                            "process", constellation [i].process, NULL);
}

void
metrics_source_error (metrics_t *self, size_t source)
{
    if (self && source < METRICS_SOURCES_MAX)
        self->source_errors [source]++;
}

uint64_t
metrics_source_errors (metrics_t *self, size_t source)
{
    return self && source < METRICS_SOURCES_MAX ? self->source_errors [source] : 0;
}

//  --- the text format -------------------------------------------------------------

void
metrics_escape (const char *value, char *out, size_t size)
{
    size_t at = 0;
    assert (size > 0);
    for (const char *p = value ? value : ""; *p; p++) {
        const char *piece = NULL;
        char one [2] = { *p, 0 };
        if (*p == '\\')      piece = "\\\\";
        else if (*p == '"')  piece = "\\\"";
        else if (*p == '\n') piece = "\\n";
        else                 piece = one;
        size_t len = strlen (piece);
        if (at + len >= size)
            break;
        memcpy (out + at, piece, len);
        at += len;
    }
    out [at] = 0;
}

void
metrics_family (FILE *out, const char *name, const char *type, const char *help)
{
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
s_labels (FILE *out, va_list args)
{
    const char *key = va_arg (args, const char *);
    if (!key)
        return;
    fputc ('{', out);
    bool first = true;
    while (key) {
        const char *value = va_arg (args, const char *);
        char escaped [512];
        metrics_escape (value, escaped, sizeof escaped);
        fprintf (out, "%s%s=\"%s\"", first ? "" : ",", key, escaped);
        first = false;
        key = va_arg (args, const char *);
    }
    fputc ('}', out);
}

void
metrics_sample (FILE *out, const char *name, double value, ...)
{
    va_list args;
    va_start (args, value);
    fputs (name, out);
    s_labels (out, args);
    va_end (args);
    if (isnan (value))
        fputs (" NaN\n", out);
    else
    if (isinf (value))
        fputs (value > 0 ? " +Inf\n" : " -Inf\n", out);
    else
        fprintf (out, " %.10g\n", value);
}

void
metrics_sample_int (FILE *out, const char *name, int64_t value, ...)
{
    va_list args;
    va_start (args, value);
    fputs (name, out);
    s_labels (out, args);
    va_end (args);
    fprintf (out, " %" PRId64 "\n", value);
}

//  One histogram's samples; label is NULL or one key=value pair.
static void
s_histogram (FILE *out, const char *name, const histogram_t *histogram,
             const char *key, const char *value)
{
    char bucket [128], sum [128], count [128];
    snprintf (bucket, sizeof bucket, "%s_bucket", name);
    snprintf (sum, sizeof sum, "%s_sum", name);
    snprintf (count, sizeof count, "%s_count", name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        char le [32];
        snprintf (le, sizeof le, "%g", s_buckets [i]);
        cumulative += histogram->counts [i];
        if (key)
            metrics_sample_int (out, bucket, (int64_t) cumulative, key, value, "le", le, NULL);
        else
            metrics_sample_int (out, bucket, (int64_t) cumulative, "le", le, NULL);
    }
    if (key) {
        metrics_sample_int (out, bucket, (int64_t) histogram->count, key, value, "le", "+Inf", NULL);
        metrics_sample (out, sum, histogram->sum, key, value, NULL);
        metrics_sample_int (out, count, (int64_t) histogram->count, key, value, NULL);
    }
    else {
        metrics_sample_int (out, bucket, (int64_t) histogram->count, "le", "+Inf", NULL);
        metrics_sample (out, sum, histogram->sum, NULL);
        metrics_sample_int (out, count, (int64_t) histogram->count, NULL);
    }
}

static void
s_write_tool (FILE *out, const tool_series_t *series)
{
    for (int outcome = 0; outcome < METRICS_OUTCOMES; outcome++)
        if (series->outcomes [outcome])
            metrics_sample_int (out, "mcpbox_tool_calls_total",
                                (int64_t) series->outcomes [outcome],
                                "tool", series->name, "outcome", s_outcomes [outcome], NULL);
}

void
metrics_write (metrics_t *self, FILE *out)
{
    metrics_family (out, "mcpbox_tool_calls_total", "counter",
                    "tools/call requests answered by this gateway, by tool and outcome");
    for (tool_series_t *series = zlistx_first (self->tools); series;
         series = zlistx_next (self->tools))
        s_write_tool (out, series);
    s_write_tool (out, &self->other);

    metrics_family (out, "mcpbox_tool_call_series_overflow_total", "counter",
                    "tools/call requests counted under tool=\"_other\" because the tool "
                    "label's series were all taken");
    metrics_sample_int (out, "mcpbox_tool_call_series_overflow_total",
                        (int64_t) self->overflow, NULL);

    metrics_family (out, "mcpbox_tool_calls_in_flight", "gauge",
                    "user tool calls sent to the sandbox service and not yet answered");
    metrics_sample_int (out, "mcpbox_tool_calls_in_flight", self->in_flight, NULL);

    metrics_family (out, "mcpbox_tool_call_stage_seconds", "histogram",
                    "time of a user tool call in each stage: gateway (all but the sandbox "
                    "round trip), bus (the round trip but the run), sandbox (the executor's run)");
    for (int stage = 0; stage < METRICS_STAGES; stage++)
        s_histogram (out, "mcpbox_tool_call_stage_seconds", &self->stages [stage],
                     "stage", s_stages [stage]);

    metrics_family (out, "mcpbox_bus_request_seconds", "histogram",
                    "round trip of the gateway's bus requests, by service");
    for (size_t i = 0; i < self->service_count; i++)
        s_histogram (out, "mcpbox_bus_request_seconds", &self->services [i].rtt,
                     "service", self->services [i].name);
    if (self->service_other.count)
        s_histogram (out, "mcpbox_bus_request_seconds", &self->service_other,
                     "service", "_other");
}

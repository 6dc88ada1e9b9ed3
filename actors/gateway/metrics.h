/*  metrics.h — the gateway's own figures for /metrics, and the writer of
    the Prometheus text exposition format (version 0.0.4).

    What it counts, on the lws thread (no locking):
      - tool calls by tool and outcome (tools/call answers, every tool:
        management and user tools). A tool label is a name the gateway
        resolved (the management table, or the catalog's full name),
        never the client's text: an unknown name counts as "_unknown".
        At most `tool_series` names get their own series; the rest count
        under "_other", and each call counted there adds to
        mcpbox_tool_call_series_overflow_total;
      - a latency histogram per stage of a user tool's run: gateway (the
        whole call minus the sandbox round trip), bus (the sandbox round
        trip minus the executor's own run time), sandbox (the executor's
        duration_ms);
      - every bus request's round trip by service (bounded: at most
        METRICS_SERVICES_MAX names, the rest as "_other");
    and writes, at each scrape, process crashes and restarts as `mcpbox up`
    counts them (common/proc_counts.h: its file, not this gateway's memory,
    so a restarted gateway does not count from zero again), summed by the
    constellation's process names only.

    The writer helpers (metrics_family, metrics_sample...) are shared with
    http_metrics.c, which adds what it asks other processes for; label
    values are escaped as the format requires (\\, \", \n).
*/
#ifndef MCPBOX_GATEWAY_METRICS_H
#define MCPBOX_GATEWAY_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_TOOL_SERIES_MAX     500     //  default tool names with own series
#define METRICS_SERVICES_MAX        16      //  bus service names with own series
#define METRICS_TOOL_OTHER          "_other"
#define METRICS_TOOL_UNKNOWN        "_unknown"

typedef enum {
    METRICS_OK,                 //  answered, isError false
    METRICS_TOOL_ERROR,         //  answered, isError true (the tool's own failure,
                                //  bad arguments, a result outside its schema)
    METRICS_ERROR,              //  a JSON-RPC error (unknown tool, invalid params)
    METRICS_SANDBOX_UNAVAILABLE,//  the sandbox service failed (no_worker, worker_lost,
                                //  timeout, unavailable)
    METRICS_CIRCUIT_OPEN,       //  refused at once: the circuit is open
    METRICS_CANCELLED,          //  never answered (cancelled, or the client left)
    METRICS_RATE_LIMITED,       //  refused by the client's rate limit (mcp_rate.c)
    METRICS_OUTCOMES
} metrics_outcome_t;

typedef enum {
    METRICS_STAGE_GATEWAY,
    METRICS_STAGE_BUS,
    METRICS_STAGE_SANDBOX,
    METRICS_STAGES
} metrics_stage_t;

typedef struct _metrics_t metrics_t;

//  tool_series: names with their own series (0: METRICS_TOOL_SERIES_MAX).
metrics_t  *metrics_new (size_t tool_series);
void        metrics_destroy (metrics_t **self_p);

const char *metrics_outcome_name (metrics_outcome_t outcome);

//  A tools/call answered (or abandoned). tool NULL: not resolved.
void        metrics_call (metrics_t *self, const char *tool, metrics_outcome_t outcome);
//  User tool calls sent to the sandbox and not yet answered.
void        metrics_in_flight (metrics_t *self, int delta);
void        metrics_stage (metrics_t *self, metrics_stage_t stage, int64_t micros);
void        metrics_bus (metrics_t *self, const char *service, int64_t micros);
//  The two process families from the text of mcpbox up's counts file
//  (proc_counts.h), summed by constellation process; children of other
//  names are left out. text NULL (no such file, or its writer is gone) or
//  malformed: the families without samples.
void        metrics_write_processes (FILE *out, const char *text, size_t len);

//  Scrape sources (http_metrics.c) that failed, by the source's index
//  (< METRICS_SOURCES_MAX).
#define METRICS_SOURCES_MAX         24
void        metrics_source_error (metrics_t *self, size_t source);
uint64_t    metrics_source_errors (metrics_t *self, size_t source);

//  Write every family above.
void        metrics_write (metrics_t *self, FILE *out);

//  --- the exposition format's pieces ----------------------------------------

//  # HELP and # TYPE lines (type: counter, gauge, histogram).
void        metrics_family (FILE *out, const char *name, const char *type,
                            const char *help);
//  name{labels} value — labels is NULL or pairs (key, value, ..., NULL);
//  values are escaped.
void        metrics_sample (FILE *out, const char *name, double value, ...);
//  The same with an integer value, exact.
void        metrics_sample_int (FILE *out, const char *name, int64_t value, ...);
//  Escape a label value into out (always terminated; cut at size).
void        metrics_escape (const char *value, char *out, size_t size);

#endif

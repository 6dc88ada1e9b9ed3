/*  http_metrics.c — GET /metrics. See http_metrics.h.

    Like /health: one slot per source holding its ticket and, once it
    answered, its decoded reply; the last reply (or the backstop) renders
    the whole exposition into a memory stream.
*/
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api.h"
#include "api_headers.h"
#include "circuit.h"
#include "bus.h"
#include "bus_json.h"
#include "constellation.h"
#include "executor_pool.h"
#include "http_metrics.h"
#include "live.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "msg.h"
#include "proc_counts.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

//  The sources: each constellation service's health, then these.
typedef struct {
    const char *service;
    const char *op;
} source_t;

static const source_t s_extra [] = {
    { "tunnel",           "status" },
    { "logs",             "retention.get" },
    { BUS_BROKER_SERVICE, "workers" },      //  the executor pool (sandbox workers)
};
#define EXTRA (sizeof s_extra / sizeof s_extra [0])

typedef struct {
    const char *service;        //  static
    const char *op;             //  static
    const char *process;        //  the constellation's process name, or NULL
    uint64_t    ticket;         //  0: never sent
    bool        done;           //  answered (reply may still be an error)
    msg_t      *reply;          //  decoded ok reply, or NULL
    json_t     *json;           //  the broker's workers reply as JSON, or NULL
    int64_t     elapsed_us;     //  until it answered
} slot_t;

typedef struct {
    slot_t  slots [METRICS_SOURCES_MAX];
    size_t  count;
    size_t  waiting;
    int64_t started_us;
} scrape_t;

static void
s_scrape_free (void *state)
{
    scrape_t *self = state;
    for (size_t i = 0; i < self->count; i++) {
        msg_destroy (&self->slots [i].reply);
        json_decref (self->slots [i].json);
    }
    free (self);
}

//  --- reading replies -----------------------------------------------------------

static const msgpack_object *
s_root (const slot_t *slot)
{
    return slot->reply ? msg_root (slot->reply) : NULL;
}

//  A non-negative integer field, or -1.
static int64_t
s_int (const msgpack_object *map, const char *key)
{
    int64_t value;
    if (map && msg_get_int (map, key, &value) == MSG_FIELD_OK && value >= 0)
        return value;
    return -1;
}

static const msgpack_object *
s_map (const msgpack_object *map, const char *key)
{
    const msgpack_object *inner;
    if (map && msg_get_map (map, key, &inner) == MSG_FIELD_OK)
        return inner;
    return NULL;
}

static slot_t *
s_source (scrape_t *self, const char *service, const char *op)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->slots [i].service, service) == 0
        &&  strcmp (self->slots [i].op, op) == 0)
            return &self->slots [i];
    return NULL;
}

//  --- rendering --------------------------------------------------------------------

static void
s_write_sources (scrape_t *self, gateway_t *gateway, FILE *out)
{
    metrics_family (out, "mcpbox_scrape_source_up", "gauge",
                    "1 when the source answered this scrape in time without an error");
    for (size_t i = 0; i < self->count; i++)
        metrics_sample_int (out, "mcpbox_scrape_source_up", self->slots [i].reply ? 1 : 0,
                            "service", self->slots [i].service, "op", self->slots [i].op, NULL);
    metrics_family (out, "mcpbox_scrape_source_seconds", "gauge",
                    "how long the source took to answer this scrape (the timeout when it did not)");
    for (size_t i = 0; i < self->count; i++) {
        slot_t *slot = &self->slots [i];
        double seconds = slot->done ? (double) slot->elapsed_us / 1e6
                                    : METRICS_SOURCE_TIMEOUT_MS / 1e3;
        metrics_sample (out, "mcpbox_scrape_source_seconds", seconds,
                        "service", slot->service, "op", slot->op, NULL);
    }
    metrics_family (out, "mcpbox_scrape_errors_total", "counter",
                    "scrapes in which the source did not answer in time or answered an error");
    for (size_t i = 0; i < self->count; i++)
        metrics_sample_int (out, "mcpbox_scrape_errors_total",
                            (int64_t) metrics_source_errors (gateway->metrics, i),
                            "service", self->slots [i].service, "op", self->slots [i].op, NULL);
}

static void
s_write_services (scrape_t *self, FILE *out)
{
    metrics_family (out, "mcpbox_up", "gauge",
                    "1 when the bus service answered its health check in time");
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->slots [i].op, "health") == 0)
            metrics_sample_int (out, "mcpbox_up", self->slots [i].reply ? 1 : 0,
                                "service", self->slots [i].service, NULL);
    metrics_family (out, "mcpbox_process_uptime_seconds", "gauge",
                    "seconds since the process that answered the service's health check started");
    for (size_t i = 0; i < self->count; i++) {
        int64_t uptime = strcmp (self->slots [i].op, "health") == 0
                       ? s_int (s_root (&self->slots [i]), "uptime_s") : -1;
        if (uptime >= 0)
            metrics_sample_int (out, "mcpbox_process_uptime_seconds", uptime,
                                "process", self->slots [i].process, NULL);
    }
}

//  Log spools: every process that answered, and the gateway's own.
typedef struct {
    const char *key;            //  in a log_spool map
    const char *name;
    const char *type;
    const char *help;
    double      scale;          //  value * scale
} spool_family_t;

static const spool_family_t s_spool_families [] = {
    { "added",    "mcpbox_log_records_spooled_total", "counter",
      "log records (execution and activity) a process handed to its log spool", 1 },
    { "acked",    "mcpbox_log_records_acked_total", "counter",
      "log records logkeeper acknowledged (written)", 1 },
    { "dropped",  "mcpbox_log_records_dropped_total", "counter",
      "log records lost at the spool's bound (logkeeper away too long): a loss", 1 },
    { "rejected", "mcpbox_log_records_rejected_total", "counter",
      "log records logkeeper refused as malformed: a loss", 1 },
    { "resends",  "mcpbox_log_batches_resent_total", "counter",
      "log batches sent again after logkeeper did not acknowledge them", 1 },
    { "queued",   "mcpbox_log_spool_records", "gauge",
      "log records held by the spool, not yet acknowledged (a queue depth)", 1 },
    { "oldest_age_ms", "mcpbox_log_ingestion_lag_seconds", "gauge",
      "how long the oldest record held by the spool has waited for logkeeper", 1e-3 },
};

static void
s_write_spools (scrape_t *self, gateway_t *gateway, FILE *out)
{
    logspool_stats_t own;
    logspool_stats (gateway->spool, &own);
    const int64_t own_values [] = {
        (int64_t) own.added, (int64_t) own.acked, (int64_t) own.dropped,
        (int64_t) own.rejected, (int64_t) own.resends, (int64_t) own.queued,
        own.oldest_age_ms
    };
    const size_t families = sizeof s_spool_families / sizeof s_spool_families [0];
    for (size_t f = 0; f < families; f++) {
        const spool_family_t *family = &s_spool_families [f];
        metrics_family (out, family->name, family->type, family->help);
        metrics_sample (out, family->name, (double) own_values [f] * family->scale,
                        "process", "mcpbox-gateway", NULL);
        for (size_t i = 0; i < self->count; i++) {
            if (strcmp (self->slots [i].op, "health") != 0)
                continue;
            int64_t value = s_int (s_map (s_root (&self->slots [i]), "log_spool"), family->key);
            if (value >= 0)
                metrics_sample (out, family->name, (double) value * family->scale,
                                "process", self->slots [i].process, NULL);
        }
    }
}

//  Counters read from a reply's map: one family each, a sample when the
//  field is a non-negative integer.
typedef struct {
    const char *key;            //  in the map
    const char *name;
    const char *help;
} counter_t;

static void
s_write_counters (FILE *out, const msgpack_object *map, const counter_t *counters,
                  size_t count)
{
    for (size_t i = 0; i < count; i++) {
        metrics_family (out, counters [i].name, "counter", counters [i].help);
        int64_t value = s_int (map, counters [i].key);
        if (value >= 0)
            metrics_sample_int (out, counters [i].name, value, NULL);
    }
}

static void
s_write_logkeeper (scrape_t *self, FILE *out)
{
    const msgpack_object *ingest = s_map (s_root (s_source (self, "logs", "retention.get")),
                                          "ingest");
    static const counter_t counters [] = {
        { "rows",       "mcpbox_logkeeper_records_ingested_total",
          "log records logkeeper wrote since it started" },
        { "duplicates", "mcpbox_logkeeper_records_duplicate_total",
          "log records logkeeper had already (a resend after a lost acknowledgement)" },
        { "rejected",   "mcpbox_logkeeper_records_rejected_total",
          "log records logkeeper refused as malformed since it started" },
        { "batches",    "mcpbox_logkeeper_batches_total",
          "ingest batches logkeeper committed since it started" },
    };
    s_write_counters (out, ingest, counters, sizeof counters / sizeof counters [0]);
}

static void
s_write_tunnel (scrape_t *self, FILE *out)
{
    static const char *states [] = { "disconnected", "connecting", "connected", "error", NULL };
    static const char *providers [] = { "none", "cloudflared", "ssh", NULL };
    const msgpack_object *status = s_root (s_source (self, "tunnel", "status"));
    char state [32] = "", provider [32] = "";
    bool enabled = false;
    if (status) {
        if (msg_get_cstr (status, "state", state, sizeof state) != MSG_FIELD_OK)
            state [0] = 0;
        if (msg_get_cstr (status, "provider", provider, sizeof provider) != MSG_FIELD_OK)
            provider [0] = 0;
        if (msg_get_bool (status, "enabled", &enabled) != MSG_FIELD_OK)
            enabled = false;
    }
    metrics_family (out, "mcpbox_tunnel_state", "gauge",
                    "1 for the tunnel's current state, 0 for the others (none when the "
                    "tunnel actor did not answer)");
    for (size_t i = 0; status && states [i]; i++)
        metrics_sample_int (out, "mcpbox_tunnel_state", strcmp (state, states [i]) == 0,
                            "state", states [i], NULL);
    metrics_family (out, "mcpbox_tunnel_provider", "gauge",
                    "1 for the configured tunnel provider");
    for (size_t i = 0; status && providers [i]; i++)
        metrics_sample_int (out, "mcpbox_tunnel_provider", strcmp (provider, providers [i]) == 0,
                            "provider", providers [i], NULL);
    metrics_family (out, "mcpbox_tunnel_enabled", "gauge",
                    "1 when the tunnel is switched on (mcpbox tunnel start)");
    if (status)
        metrics_sample_int (out, "mcpbox_tunnel_enabled", enabled ? 1 : 0, NULL);
    static const counter_t counters [] = {
        { "starts",      "mcpbox_tunnel_starts_total",
          "times the tunnel actor started its client since it started" },
        { "restarts",    "mcpbox_tunnel_restarts_total",
          "times the tunnel client was restarted after it ended" },
        { "connections", "mcpbox_tunnel_connections_total",
          "times the tunnel client reported a connection" },
    };
    s_write_counters (out, status, counters, sizeof counters / sizeof counters [0]);
}

//  The executor pool by host (the executor's own word, so the host label
//  set is bounded: METRICS_HOSTS_MAX hosts, the rest as "_other"), and the
//  broker's counters.
#define METRICS_HOSTS_MAX 32

typedef struct {
    const char *host;           //  borrowed from the rows
    int64_t     executors, credit, busy, served, restarts;
} host_sum_t;

static void
s_write_executors (scrape_t *self, FILE *out)
{
    slot_t *slot = s_source (self, BUS_BROKER_SERVICE, "workers");
    json_t *rows = slot && slot->json ? executor_pool_rows (slot->json) : NULL;
    host_sum_t hosts [METRICS_HOSTS_MAX + 1];
    size_t count = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        const char *host = bus_json_str (row, "host");
        if (!host || !*host)
            host = "_unknown";
        host_sum_t *sum = NULL;
        for (size_t i = 0; i < count && !sum; i++)
            if (strcmp (hosts [i].host, host) == 0)
                sum = &hosts [i];
        if (!sum && count < METRICS_HOSTS_MAX)
            hosts [count] = (host_sum_t) { .host = host }, sum = &hosts [count++];
        if (!sum) {
            for (size_t i = 0; i < count && !sum; i++)
                if (strcmp (hosts [i].host, "_other") == 0)
                    sum = &hosts [i];
            if (!sum)
                hosts [count] = (host_sum_t) { .host = "_other" }, sum = &hosts [count++];
        }
        sum->executors++;
        sum->credit   += bus_json_int (row, "credit", 0);
        sum->busy     += bus_json_int (row, "in_flight", 0);
        sum->served   += bus_json_int (row, "served", 0);
        sum->restarts += bus_json_int (row, "restarts", 0);
    }
    static const struct { const char *name, *type, *help; } families [] = {
        { "mcpbox_executors", "gauge",
          "sandbox executors registered with the broker, by host" },
        { "mcpbox_executor_slots", "gauge",
          "calls the executors take at once (their credit), by host" },
        { "mcpbox_executor_busy", "gauge",
          "calls the executors hold now, by host" },
        { "mcpbox_executor_calls_served_total", "counter",
          "calls the registered executors answered since they registered, by host "
          "(an executor that goes away takes its count with it)" },
        { "mcpbox_executor_restarts_total", "counter",
          "restarts of the registered executors' processes by mcpbox up, by host" },
    };
    for (size_t f = 0; f < sizeof families / sizeof families [0]; f++) {
        metrics_family (out, families [f].name, families [f].type, families [f].help);
        for (size_t i = 0; rows && i < count; i++) {
            const int64_t values [] = { hosts [i].executors, hosts [i].credit, hosts [i].busy,
                                        hosts [i].served, hosts [i].restarts };
            metrics_sample_int (out, families [f].name, values [f], "host", hosts [i].host, NULL);
        }
    }
    json_t *stats = slot && slot->json ? json_object_get (slot->json, "stats") : NULL;
    static const counter_t counters [] = {
        { "requests",        "mcpbox_broker_requests_total", "requests the broker accepted" },
        { "replies",         "mcpbox_broker_replies_total", "replies the broker delivered (errors included)" },
        { "no_worker",       "mcpbox_broker_no_worker_total",
          "requests answered no_worker: no worker of their service before the deadline" },
        { "worker_lost",     "mcpbox_broker_worker_lost_total",
          "requests answered worker_lost: their worker died holding them" },
        { "cancelled",       "mcpbox_broker_cancelled_total", "requests cancelled by their client" },
        { "protocol_errors", "mcpbox_broker_protocol_errors_total", "malformed messages the broker dropped" },
        { "notices_dropped", "mcpbox_broker_notices_dropped_total",
          "tool notices the broker dropped (over the per-job rate, or for no job)" },
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters [0]; i++) {
        metrics_family (out, counters [i].name, "counter", counters [i].help);
        json_int_t value = bus_json_int (stats, counters [i].key, -1);
        if (value >= 0)
            metrics_sample_int (out, counters [i].name, value, NULL);
    }
    metrics_family (out, "mcpbox_broker_requests_outstanding", "gauge",
                    "requests the broker accepted and has not answered yet: queued for a "
                    "worker or held by one (a queue depth)");
    json_int_t requests = bus_json_int (stats, "requests", -1);
    json_int_t replies = bus_json_int (stats, "replies", -1);
    if (requests >= 0 && replies >= 0)
        metrics_sample_int (out, "mcpbox_broker_requests_outstanding",
                            requests > replies ? requests - replies : 0, NULL);
    json_decref (rows);
}

static void
s_write_gateway (gateway_t *gateway, FILE *out)
{
    metrics_family (out, "mcpbox_gateway_uptime_seconds", "gauge",
                    "seconds since this gateway started");
    metrics_sample_int (out, "mcpbox_gateway_uptime_seconds",
                        (gateway_now_ms () - gateway->started_ms) / 1000, NULL);
    mcp_t *mcp = gateway->mcp;
    metrics_family (out, "mcpbox_mcp_sessions", "gauge", "open MCP sessions (2025 eras)");
    metrics_sample_int (out, "mcpbox_mcp_sessions",
                        mcp ? (int64_t) mcp_sessions_size (mcp->sessions) : 0, NULL);
    metrics_family (out, "mcpbox_mcp_sse_streams", "gauge", "open MCP GET (SSE) streams");
    metrics_sample_int (out, "mcpbox_mcp_sse_streams", mcp ? (int64_t) mcp->streams : 0, NULL);
    metrics_family (out, "mcpbox_mcp_sse_replay_gaps_total", "counter",
                    "SSE resumptions that asked for an event no longer kept");
    metrics_sample_int (out, "mcpbox_mcp_sse_replay_gaps_total",
                        mcp ? (int64_t) mcp_events_gaps (mcp->events) : 0, NULL);
    metrics_family (out, "mcpbox_live_streams", "gauge", "open dashboard /ws streams");
    metrics_sample_int (out, "mcpbox_live_streams",
                        gateway->live ? (int64_t) live_count (gateway->live) : 0, NULL);
    metrics_family (out, "mcpbox_http_requests_in_flight", "gauge",
                    "HTTP requests this gateway is handling (the scrape included)");
    metrics_sample_int (out, "mcpbox_http_requests_in_flight",
                        (int64_t) idmap_size (gateway->requests), NULL);
    bus_bridge_t *bridge = gateway->bridge;
    metrics_family (out, "mcpbox_bus_requests_in_flight", "gauge",
                    "bus requests sent by this gateway and not yet answered (a queue depth)");
    metrics_sample_int (out, "mcpbox_bus_requests_in_flight",
                        bridge ? (int64_t) bus_bridge_in_flight (bridge) : 0, NULL);
    metrics_family (out, "mcpbox_bus_events_dropped_total", "counter",
                    "bus events dropped at the gateway's queue bound (the catalog is "
                    "refetched when that happens)");
    metrics_sample_int (out, "mcpbox_bus_events_dropped_total",
                        bridge ? (int64_t) bus_bridge_events_dropped (bridge) : 0, NULL);
    metrics_family (out, "mcpbox_bus_notices_dropped_total", "counter",
                    "tool progress/log notices dropped at the gateway's queue bound");
    metrics_sample_int (out, "mcpbox_bus_notices_dropped_total",
                        bridge ? (int64_t) bus_bridge_notices_dropped (bridge) : 0, NULL);
}

static void
s_write_circuit (gateway_t *gateway, FILE *out)
{
    circuit_stats_t stats;
    circuit_stats (gateway->circuit, gateway_now_ms (), &stats);
    static const circuit_state_t states [] = { CIRCUIT_CLOSED, CIRCUIT_OPEN, CIRCUIT_HALF_OPEN };
    metrics_family (out, "mcpbox_circuit_state", "gauge",
                    "1 for the state of the circuit breaker toward the sandbox service");
    for (size_t i = 0; i < 3; i++)
        metrics_sample_int (out, "mcpbox_circuit_state", stats.state == states [i],
                            "state", circuit_state_name (states [i]), NULL);
    metrics_family (out, "mcpbox_circuit_consecutive_failures", "gauge",
                    "infrastructure failures of the sandbox service in a row now");
    metrics_sample_int (out, "mcpbox_circuit_consecutive_failures", stats.consecutive, NULL);
    static const struct { const char *name, *help; } counters [] = {
        { "mcpbox_circuit_failures_total",
          "sandbox calls that failed for the infrastructure (no_worker, worker_lost, timeout)" },
        { "mcpbox_circuit_opened_total",  "times the circuit opened" },
        { "mcpbox_circuit_closed_total",  "times a probe call closed the circuit" },
        { "mcpbox_circuit_rejected_total","tool calls refused at once while the circuit was open" },
        { "mcpbox_circuit_probes_total",  "half-open probe calls sent" },
    };
    const uint64_t values [] = { stats.failures, stats.opened, stats.closed,
                                 stats.rejected, stats.probes };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        metrics_family (out, counters [i].name, "counter", counters [i].help);
        metrics_sample_int (out, counters [i].name, (int64_t) values [i], NULL);
    }
}

static void
s_finish (http_req_t *req, scrape_t *self)
{
    gateway_t *gateway = http_req_gateway (req);
    for (size_t i = 0; i < self->count; i++)
        if (!self->slots [i].reply)
            metrics_source_error (gateway->metrics, i);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out) {
        http_req_respond_error (req, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal");
        return;
    }
    s_write_sources (self, gateway, out);
    s_write_services (self, out);
    s_write_gateway (gateway, out);
    metrics_write (gateway->metrics, out);
    //  crashes and restarts as mcpbox up counts them: a small file in the
    //  run directory (proc_counts.h), so they survive this gateway's restart
    size_t counts_len = 0;
    char *counts = *gateway->proc_counts ? proc_counts_read (gateway->proc_counts, &counts_len)
                                         : NULL;
    metrics_write_processes (out, counts, counts_len);
    free (counts);
    s_write_circuit (gateway, out);
    s_write_spools (self, gateway, out);
    s_write_logkeeper (self, out);
    s_write_tunnel (self, out);
    s_write_executors (self, out);
    metrics_family (out, "mcpbox_scrape_duration_seconds", "gauge",
                    "how long this scrape took to gather");
    metrics_sample (out, "mcpbox_scrape_duration_seconds",
                    (double) (gateway_now_us () - self->started_us) / 1e6, NULL);
    if (fclose (out) != 0 || !text) {
        free (text);
        http_req_respond_error (req, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal");
        return;
    }
    http_req_add_header (req, "cache-control:", "no-store");
    http_req_respond (req, HTTP_STATUS_OK, CONTENT_TYPE, text, size);
    free (text);
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    scrape_t *self = http_req_state (req);
    for (size_t i = 0; i < self->count; i++) {
        slot_t *slot = &self->slots [i];
        if (slot->ticket != ticket || slot->done)
            continue;
        slot->done = true;
        slot->elapsed_us = gateway_now_us () - self->started_us;
        slot->reply = msg_decode (body, size, NULL, NULL);
        if (slot->reply && !msg_is_ok (slot->reply))
            msg_destroy (&slot->reply);
        if (slot->reply && strcmp (slot->service, BUS_BROKER_SERVICE) == 0) {
            bus_json_t decoded;
            bus_json_parse (body, size, &decoded);
            if (decoded.ok) {
                slot->json = decoded.body;
                decoded.body = NULL;
            }
            bus_json_clear (&decoded);
        }
        if (--self->waiting == 0)
            s_finish (req, self);
        return;
    }
}

static void
s_on_timer (http_req_t *req)
{
    s_finish (req, http_req_state (req));
}

static const http_handler_t s_handler = {
    .on_reply   = s_on_reply,
    .on_timer   = s_on_timer,
    .free_state = s_scrape_free,
};

//  --- who may scrape ----------------------------------------------------------------

//  True when the request carries the configured bearer token.
static bool
s_token_ok (gateway_t *gateway, struct lws *wsi)
{
    if (!gateway->metrics_token [0])
        return false;
    char header [API_HEADER_MAX + 1];
    char token [API_TOKEN_LEN + 1];
    bool ok = false;
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (len > 0 && len < (int) sizeof header
    &&  lws_hdr_copy (wsi, header, sizeof header, WSI_TOKEN_HTTP_AUTHORIZATION) == len
    &&  api_bearer_token (header, (size_t) len, token) == 1)
        ok = sodium_memcmp (token, gateway->metrics_token, API_TOKEN_LEN) == 0;
    sodium_memzero (header, sizeof header);
    sodium_memzero (token, sizeof token);
    return ok;
}

//  False after refusing the request.
static bool
s_allowed (http_req_t *req)
{
    gateway_t *gateway = http_req_gateway (req);
    struct lws *wsi = http_req_wsi (req);
    if (http_req_remote (req)) {        //  never routed here; belt and braces
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
        return false;
    }
    char peer [128] = "";
    lws_get_peer_simple (wsi, peer, sizeof peer);
    if (api_peer_loopback (peer) || s_token_ok (gateway, wsi))
        return true;
    http_req_close_after (req);
    if (!gateway->metrics_token [0]) {
        http_req_respond_error (req, HTTP_STATUS_FORBIDDEN, "forbidden");
        return false;
    }
    http_req_add_header (req, "www-authenticate:", "Bearer realm=\"mcpbox-metrics\"");
    http_req_respond_error (req, HTTP_STATUS_UNAUTHORIZED, "unauthorized");
    return false;
}

//  --- the route ------------------------------------------------------------------------

void
http_metrics_start (http_req_t *req)
{
    if (!s_allowed (req))
        return;
    scrape_t *self = calloc (1, sizeof *self);
    assert (self);
    self->started_us = gateway_now_us ();
    http_req_set_handler (req, &s_handler, self);
    for (size_t i = 0; i < constellation_size (); i++)
        if (constellation [i].service && self->count < METRICS_SOURCES_MAX)
            self->slots [self->count++] = (slot_t) {
                .service = constellation [i].service, .op = "health",
                .process = constellation [i].process };
    for (size_t i = 0; i < EXTRA && self->count < METRICS_SOURCES_MAX; i++) {
        const constellation_entry_t *row = constellation_by_service (s_extra [i].service);
        self->slots [self->count++] = (slot_t) {
            .service = s_extra [i].service, .op = s_extra [i].op,
            .process = row ? row->process : NULL };
    }
    for (size_t i = 0; i < self->count; i++) {
        slot_t *slot = &self->slots [i];
        msgw_t *request;
        if (strcmp (slot->service, BUS_BROKER_SERVICE) == 0) {
            request = msgw_new ();          //  only the sandbox's workers
            msgw_map (request, 2);
            msgw_kv_str (request, "op", slot->op);
            msgw_kv_str (request, "service", EXECUTOR_POOL_SERVICE);
        }
        else
            request = msgw_op_new (slot->op);
        slot->ticket = http_req_submit (req, slot->service, msgw_data (request),
                                        msgw_size (request), METRICS_SOURCE_TIMEOUT_MS);
        msgw_destroy (&request);
        if (slot->ticket)
            self->waiting++;
        else
            slot->done = true;
    }
    if (self->waiting == 0)
        s_finish (req, self);
    else
        http_req_set_timer (req, METRICS_BACKSTOP_MS);
}

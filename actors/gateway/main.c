/*  main.c — mcpbox-gateway: the HTTP front of MCPbox.

    Wires the process: configuration, logging, the lws context (HTTP on
    http_host:http_port), the bus bridge (a bus thread owning the broker
    connection), and a signal thread. Three threads in all:

      main      runs the lws service loop (http_server.c)
      bus       owns the ZeroMQ sockets (bus_bridge.c): requests, and a
                subscription to tools.changed / approval.changed for the
                /mcp catalog cache; wakes main with lws_cancel_service
                when replies or events are ready
      signals   sigwait()s SIGINT/SIGTERM, sets gateway.stop and wakes main

    SIGINT and SIGTERM are blocked in every thread before any is created,
    so only the signal thread ever sees them and nothing is interrupted.
    Shutdown runs in the reverse order of start-up: signal thread, bus
    thread, lws context (which ends every open request), then the rest.

    Once it listens (and only then) it writes its pid to
    DATA/run/gateway.ready, which `mcpbox up` waits for before it prints
    the URLs; the file goes at a clean stop.

    Exit status: 0 after a clean shutdown, 1 when the server cannot start
    (address in use...), 2 on a configuration error.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <czmq.h>
#include <sodium.h>

#include "startup.h"
#include "gateway.h"
#include "http_server.h"
#include "http_static.h"
#include "api_headers.h"
#include "circuit.h"
#include "live.h"
#include "mcp.h"
#include "remote_rules.h"
#include "oauth.h"
#include "metrics.h"
#include "source_oauth_routes.h"

#define PROCESS_NAME        "mcpbox-gateway"
//  lws bounds: request line plus all headers, and how long a client may
//  take to send them (or a body), and keep an idle connection. The buffer
//  is lws's largest (its field is 16 bits), so that a request past our
//  own bound (HTTP_HEADER_ACCEPT, http_server.c) still reaches us and is
//  answered 431; past the buffer lws closes without an answer.
#define HTTP_HEADER_MAX     65535
#define HTTP_TIMEOUT_S      10
#define HTTP_KEEPALIVE_S    5

static const config_option_t s_options [] = {
    { .key = "http_host", .type = CONFIG_STR, .default_value = "127.0.0.1",
      .help = "IP address (or interface name) the HTTP server listens on" },
    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000", .min = 1, .max = 65535,
      .help = "TCP port the HTTP server listens on" },
    { .key = "allowed_hosts", .type = CONFIG_STR, .default_value = "",
      .help = "/mcp: Host values allowed besides localhost, 127.0.0.1, [::1] "
      "(comma-separated name or name:port; * for any)" },
    { .key = "allowed_origins", .type = CONFIG_STR, .default_value = "",
      .help = "/mcp: browser Origins allowed besides those of allowed hosts "
      "(comma-separated http[s]://host[:port]; * for any)" },
    { .key = "mcp_session_idle_s", .type = CONFIG_INT, .default_value = "3600", .min = 1, .max = 86400,
      .help = "/mcp: a session idle this long ends" },
    { .key = "mcp_sessions_max", .type = CONFIG_INT, .default_value = "10000", .min = 1, .max = 1000000,
      .help = "/mcp: sessions at most (the least recently used goes)" },
    { .key = "mcp_keepalive_s", .type = CONFIG_INT, .default_value = "15", .min = 1, .max = 300,
      .help = "/mcp: seconds between SSE keepalive comments" },
    { .key = "remote_listen", .type = CONFIG_STR, .default_value = "127.0.0.1:8001",
      .help = "the remote listener (what the tunnel forwards to): host:port; it serves only "
      "/mcp (and OAuth), every request with a credential; empty: off" },
    { .key = "remote_public_url", .type = CONFIG_STR, .default_value = "",
      .help = "the public base URL clients reach the remote listener at "
      "(https://mcp.example.com): its host is allowed there, and the OAuth metadata "
      "URLs are built on it" },
    { .key = "api_allow_remote", .type = CONFIG_BOOL, .default_value = "false",
      .help = "/api: answer peers that are not on loopback (default: loopback only)" },
    { .key = "web_dir", .type = CONFIG_STR, .default_value = MCPBOX_WEB_DIR,
      .help = "the dashboard's files, served at / (default: the source tree's web/)" },
    { .key = "live_recheck_s", .type = CONFIG_INT, .default_value = "60", .min = 1, .max = 3600,
      .help = "/ws: check each stream's session again this often (and on any auth.* activity)" },
    { .key = "enable_docs", .type = CONFIG_BOOL, .default_value = "false",
      .help = "/api: serve GET /api/docs, the route list (signed-in admins only)" },
    { .key = "execution_logs", .type = CONFIG_BOOL, .default_value = "true",
      .help = "write an execution log record per tool run (off: activity only)" },
    { .key = "circuit_failures", .type = CONFIG_INT, .default_value = "5", .min = 1, .max = 1000,
      .help = "tools/call: consecutive sandbox infrastructure failures (no_worker, worker_lost, "
      "timeout) that open the circuit breaker" },
    { .key = "circuit_open_s", .type = CONFIG_INT, .default_value = "30", .min = 1, .max = 3600,
      .help = "tools/call: seconds the circuit breaker stays open before one probe call" },
    { .key = "metrics_token", .type = CONFIG_STR, .default_value = "",
      .help = "/metrics: the bearer token (43 base64url characters) a scraper off loopback "
      "must send; empty: loopback only" },
    { .key = "source_oauth_redirect_url", .type = CONFIG_STR, .default_value = "",
      .help = "external sources' OAuth: where the authorization server sends the admin's "
      "browser back (default http://HTTP_HOST:HTTP_PORT/sources/oauth/callback; set it when "
      "the dashboard is reached under another name)" },
    { .key = "source_oauth_client_metadata_url", .type = CONFIG_STR, .default_value = "",
      .help = "external sources' OAuth: an https URL at which the authorization server can "
      "fetch MCPbox's Client ID Metadata Document (served by this gateway at that path); "
      "empty: dynamic client registration only" },
    { .key = "log_spool_records", .type = CONFIG_INT, .default_value = "20000", .min = 1, .max = 1000000,
      .help = "log records held while logkeeper does not acknowledge; beyond, each is dropped "
      "and counted (/health log_records_lost)" },
    { .key = NULL }
};

//  --- lws log lines into ours ---------------------------------------------

static void
s_lws_log (int level, const char *line)
{
    size_t len = strlen (line);
    while (len && (line [len - 1] == '\n' || line [len - 1] == '\r'))
        len--;
    log_level_t ours = (level & LLL_ERR)  ? LOG_ERROR
                     : (level & LLL_WARN) ? LOG_WARN
                     :                      LOG_DEBUG;
    log_msg (ours, "lws: %.*s", (int) len, line);
}

//  --- signals -----------------------------------------------------------

static void
s_signals_block (sigset_t *set)
{
    sigemptyset (set);
    sigaddset (set, SIGINT);
    sigaddset (set, SIGTERM);
    pthread_sigmask (SIG_BLOCK, set, NULL);
    signal (SIGPIPE, SIG_IGN);
}

//  Sets stop on the first signal; returns when a signal arrives after stop
//  is set (main sends one to end this thread).
static void *
s_signal_thread (void *arg)
{
    gateway_t *gateway = arg;
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    while (true) {
        int sig;
        if (sigwait (&set, &sig) != 0)
            continue;
        if (atomic_load (&gateway->stop))
            return NULL;
        log_info ("%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        atomic_store (&gateway->stop, true);
        lws_cancel_service (gateway->context);
    }
}

//  --- start-up ------------------------------------------------------------

//  The context, then its one vhost: made apart so that a failed bind can
//  be undone with lws_context_destroy (lws leaks when the context does it).
static struct lws_context *
s_context_new (gateway_t *gateway, const char *host, int port)
{
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = gateway;
    info.max_http_header_data = HTTP_HEADER_MAX;
    info.timeout_secs = HTTP_TIMEOUT_S;
    struct lws_context *context = lws_create_context (&info);
    if (!context)
        return NULL;

    info.port = port;
    info.iface = host;
    info.protocols = http_server_protocols ();
    info.keepalive_timeout = HTTP_KEEPALIVE_S;
    info.server_string = "mcpbox";
    struct in_addr ipv4;
    if (inet_pton (AF_INET, host, &ipv4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!lws_create_vhost (context, &info)) {
        lws_context_destroy (context);
        return NULL;
    }
    return context;
}

//  remote_listen "host:port" into host and port: 0, or -1 (malformed).
static int
s_listen_parse (const char *text, char *host, size_t size, int *port)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text || (size_t) (colon - text) >= size)
        return -1;
    const char *h = text, *h_end = colon;
    if (*h == '[' && h_end [-1] == ']') {
        h++;
        h_end--;
    }
    if (h_end <= h)
        return -1;
    char *end = NULL;
    long value = strtol (colon + 1, &end, 10);
    if (!colon [1] || *end || value < 1 || value > 65535)
        return -1;
    memcpy (host, h, (size_t) (h_end - h));
    host [h_end - h] = 0;
    *port = (int) value;
    return 0;
}

//  The remote listener: a second vhost of the same context (same protocol,
//  same callback; http_server.c tells the two apart by vhost).
static struct lws_vhost *
s_remote_vhost_new (struct lws_context *context, const char *host, int port)
{
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.vhost_name = "remote";
    info.port = port;
    info.iface = host;
    info.protocols = http_server_protocols ();
    info.keepalive_timeout = HTTP_KEEPALIVE_S;
    info.timeout_secs = HTTP_TIMEOUT_S;
    info.server_string = "mcpbox";
    struct in_addr ipv4;
    if (inet_pton (AF_INET, host, &ipv4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    return lws_create_vhost (context, &info);
}

//  The remote listener's Host allowlist: remote_public_url's host and
//  allowed_hosts (loopback names are always in). NULL + err.
static char *
s_remote_hosts (config_t *config, char *base, size_t base_size, char *err, size_t errlen)
{
    const char *url = config_str (config, "remote_public_url");
    const char *hosts = config_str (config, "allowed_hosts");
    char host [256] = "";
    *base = 0;
    if (url && *url
    &&  remote_public_url_parse (url, base, base_size, host, sizeof host, err, errlen) != 0)
        return NULL;
    return zsys_sprintf ("%s%s%s", host, *host && hosts && *hosts ? "," : "",
                         hosts ? hosts : "");
}

//  DATA/run/gateway.ready: our pid, once we listen (paths.h). Written to a
//  temporary name and renamed, so a reader sees all of it or nothing.
static void
s_run_file_write (const char *path, const char *text)
{
    char temp [PATHS_MAX + 48];
    snprintf (temp, sizeof temp, "%s.tmp", path);
    FILE *file = fopen (temp, "we");
    bool written = file && fprintf (file, "%s\n", text) > 0;
    if (file && fclose (file) != 0)
        written = false;
    if (!written || rename (temp, path) != 0)
        log_warn ("cannot write %s: %s", path, strerror (errno));
}

static void
s_ready_write (const paths_t *paths, const gateway_t *gateway)
{
    //  first the callback URL external sources' OAuth gives (what `mcpbox
    //  sources authorize` reads: the port may come from a flag of `up`);
    //  only the gateway `mcpbox up` runs (MCPBOX_PROCESS set), the
    //  installation's, not another one started by hand on the same data
    char path [PATHS_MAX + 32];
    snprintf (path, sizeof path, "%s/" SOURCE_OAUTH_REDIRECT_FILE, paths->run_dir);
    if (getenv ("MCPBOX_PROCESS"))
        s_run_file_write (path, gateway->source_redirect);
    char pid [32];
    snprintf (pid, sizeof pid, "%ld", (long) getpid ());
    s_run_file_write (paths->gateway_ready, pid);
}

//  The /mcp Host and Origin lists, remote_listen and remote_public_url are
//  configuration: refused at start-up.
static int
s_check (startup_t *startup, char *err, size_t errlen)
{
    mcp_allow_t *allow = mcp_allow_new (config_str (startup->config, "allowed_hosts"),
                                        config_str (startup->config, "allowed_origins"),
                                        err, errlen);
    if (!allow)
        return -1;
    mcp_allow_destroy (&allow);
    const char *listen = config_str (startup->config, "remote_listen");
    char host [256];
    int port;
    if (listen && *listen && s_listen_parse (listen, host, sizeof host, &port) != 0) {
        snprintf (err, errlen, "remote_listen: host:port (port 1..65535), or empty for off");
        return -1;
    }
    char base [REMOTE_BASE_MAX];
    char *hosts = s_remote_hosts (startup->config, base, sizeof base, err, errlen);
    if (!hosts)
        return -1;
    allow = mcp_allow_new (hosts, NULL, err, errlen);
    zstr_free (&hosts);
    if (!allow)
        return -1;
    mcp_allow_destroy (&allow);
    char redirect [2049], cimd_path [2049];
    if (source_oauth_settings (startup->config, redirect, sizeof redirect, cimd_path,
                               sizeof cimd_path, err, errlen) != 0)
        return -1;
    const char *token = config_str (startup->config, "metrics_token");
    if (*token && !api_token_valid (token, strlen (token))) {
        snprintf (err, errlen, "metrics_token: 43 base64url characters (A-Z a-z 0-9 - _), "
                  "e.g. from: head -c 32 /dev/urandom | basenc --base64url | tr -d =");
        return -1;
    }
    return 0;
}

static int
s_run (startup_t *startup)
{
    char err [256];
    config_t *config = startup->config;
    const char *broker = startup->endpoint;
    const char *events = startup->events;
    static const char *topics [] = { "tools.changed", "approval.changed", "activity", NULL };
    mcp_settings_t settings = {
        .allowed_hosts   = config_str (config, "allowed_hosts"),
        .allowed_origins = config_str (config, "allowed_origins"),
        .session_idle_ms = config_int (config, "mcp_session_idle_s") * 1000,
        .sessions_max    = (size_t) config_int (config, "mcp_sessions_max"),
        .keepalive_ms    = config_int (config, "mcp_keepalive_s") * 1000,
    };
    const char *host = config_str (config, "http_host");
    int port = (int) config_int (config, "http_port");
    char remote_base [REMOTE_BASE_MAX];
    char *remote_hosts = s_remote_hosts (config, remote_base, sizeof remote_base,
                                         err, sizeof err);
    if (!remote_hosts) {
        log_error ("%s", err);
        return 2;
    }
    settings.remote_hosts = remote_hosts;
    const char *remote_listen = config_str (config, "remote_listen");
    char remote_host [256] = "";
    int remote_port = 0;
    if (remote_listen && *remote_listen
    &&  s_listen_parse (remote_listen, remote_host, sizeof remote_host, &remote_port) != 0) {
        log_error ("remote_listen: host:port (port 1..65535), or empty for off");
        zstr_free (&remote_hosts);
        return 2;
    }

    sigset_t signals;
    s_signals_block (&signals);
    zsys_handler_set (NULL);            //  signals are ours, not CZMQ's

    gateway_t gateway = { 0 };
    gateway.started_ms = gateway_now_ms ();
    snprintf (gateway.remote_base, sizeof gateway.remote_base, "%s", remote_base);
    gateway.requests = idmap_new (NULL);
    atomic_init (&gateway.stop, false);
    gateway.api_allow_remote = config_bool (config, "api_allow_remote");
    gateway.api_docs = config_bool (config, "enable_docs");
    gateway.execution_logs = config_bool (config, "execution_logs");
    snprintf (gateway.metrics_token, sizeof gateway.metrics_token, "%s",
              config_str (config, "metrics_token"));
    snprintf (gateway.proc_counts, sizeof gateway.proc_counts, "%s",
              startup->paths.proc_counts);
    gateway.metrics = metrics_new (0);
    if (source_oauth_settings (config, gateway.source_redirect, sizeof gateway.source_redirect,
                               gateway.source_cimd_path, sizeof gateway.source_cimd_path,
                               err, sizeof err) != 0) {
        log_error ("%s", err);
        idmap_destroy (&gateway.requests);
        zstr_free (&remote_hosts);
        return 2;
    }
    snprintf (gateway.source_cimd_url, sizeof gateway.source_cimd_url, "%s",
              config_str (config, "source_oauth_client_metadata_url"));
    gateway.circuit = circuit_new ((int) config_int (config, "circuit_failures"),
                                   config_int (config, "circuit_open_s") * 1000);

    gateway.oauth = oauth_new (&gateway, err, sizeof err);
    if (!gateway.oauth) {
        log_error ("%s", err);
        idmap_destroy (&gateway.requests);
        return 1;
    }
    gateway.live = live_new (&gateway, (int) config_int (config, "live_recheck_s") * 1000);
    gateway.web = http_static_new (config_str (config, "web_dir"), err, sizeof err);
    if (!gateway.web)
        log_error ("the dashboard is not served: %s", err);

    lws_set_log_level (LLL_ERR | LLL_WARN
                       | (log_enabled (LOG_DEBUG) ? LLL_NOTICE : 0), s_lws_log);
    gateway.context = s_context_new (&gateway, host, port);
    //  a remote listener that cannot bind does not take the local port
    //  down with it: logged, and /health says "error"
    gateway.remote_state = "off";
    if (gateway.context && remote_port) {
        gateway.remote_vhost = s_remote_vhost_new (gateway.context, remote_host, remote_port);
        gateway.remote_state = gateway.remote_vhost ? "listening" : "error";
        if (!gateway.remote_vhost)
            log_error ("cannot serve the remote listener on %s:%d (in use?): remote "
                       "access is off until the gateway restarts", remote_host, remote_port);
    }
    if (!gateway.context) {
        log_error ("cannot serve HTTP on %s:%d", host, port);
        zstr_free (&remote_hosts);
        idmap_destroy (&gateway.requests);
        http_static_destroy (&gateway.web);
        live_destroy (&gateway.live);
        metrics_destroy (&gateway.metrics);
        circuit_destroy (&gateway.circuit);
        return 1;
    }
    gateway.bridge = bus_bridge_new_with_events (broker, events, topics,
                                                 http_server_wake, &gateway);
    if (!gateway.bridge) {
        log_error ("cannot connect to the broker at %s (events %s)", broker, events);
        zstr_free (&remote_hosts);
        lws_context_destroy (gateway.context);
        idmap_destroy (&gateway.requests);
        http_static_destroy (&gateway.web);
        live_destroy (&gateway.live);
        metrics_destroy (&gateway.metrics);
        circuit_destroy (&gateway.circuit);
        return 1;
    }
    //  execution logs and activity: queued here, delivered by the spool's
    //  own thread, never waited for (common/logspool.h)
    //  log_spool_records: the memory an operator gives to a logkeeper outage
    logspool_config_t spool_config = {
        .max_records = (size_t) config_int (config, "log_spool_records") };
    gateway.spool = logspool_new (broker, PROCESS_NAME, &spool_config);
    if (!gateway.spool)
        log_error ("cannot start the log spool: tool runs will not be logged");
    if (!gateway.execution_logs)
        log_warn ("execution_logs is off: tool runs are not written to the execution log "
                  "(their tool.called activity still is)");
    gateway.mcp = mcp_new (&gateway, &settings, err, sizeof err);
    zstr_free (&remote_hosts);
    if (!gateway.mcp) {
        log_error ("cannot start /mcp: %s", err);
        logspool_destroy (&gateway.spool);
        bus_bridge_destroy (&gateway.bridge);
        lws_context_destroy (gateway.context);
        idmap_destroy (&gateway.requests);
        http_static_destroy (&gateway.web);
        live_destroy (&gateway.live);
        metrics_destroy (&gateway.metrics);
        circuit_destroy (&gateway.circuit);
        return 1;
    }
    pthread_t signal_thread;
    if (pthread_create (&signal_thread, NULL, s_signal_thread, &gateway) != 0) {
        log_error ("cannot start the signal thread");
        mcp_destroy (&gateway.mcp);
        logspool_destroy (&gateway.spool);
        bus_bridge_destroy (&gateway.bridge);
        lws_context_destroy (gateway.context);
        idmap_destroy (&gateway.requests);
        http_static_destroy (&gateway.web);
        live_destroy (&gateway.live);
        metrics_destroy (&gateway.metrics);
        circuit_destroy (&gateway.circuit);
        return 1;
    }
    s_ready_write (&startup->paths, &gateway);
    log_info ("listening on http://%s:%d, broker %s", host, port, broker);
    if (gateway.remote_vhost)
        log_info ("remote listener on http://%s:%d (/mcp only, credentials required%s%s)",
                  remote_host, remote_port, *remote_base ? "; public URL " : "", remote_base);
    else
    if (!remote_port)
        log_info ("remote listener off (remote_listen is empty)");

    while (!atomic_load (&gateway.stop))
        if (lws_service (gateway.context, 0) < 0)
            break;

    atomic_store (&gateway.stop, true);
    pthread_kill (signal_thread, SIGTERM);
    pthread_join (signal_thread, NULL);
    oauth_destroy (&gateway.oauth);         //  joins the metadata fetches
    bus_bridge_destroy (&gateway.bridge);
    lws_context_destroy (gateway.context);      //  ends every request
    mcp_destroy (&gateway.mcp);
    logspool_destroy (&gateway.spool);      //  delivers what it holds (2 beats)
    if (idmap_size (gateway.requests))
        log_warn ("%zu requests left at shutdown", idmap_size (gateway.requests));
    idmap_destroy (&gateway.requests);
    http_static_destroy (&gateway.web);
    live_destroy (&gateway.live);
    metrics_destroy (&gateway.metrics);
    circuit_destroy (&gateway.circuit);
    sodium_memzero (gateway.metrics_token, sizeof gateway.metrics_token);
    unlink (startup->paths.gateway_ready);
    char redirect_file [PATHS_MAX + 32];
    snprintf (redirect_file, sizeof redirect_file, "%s/" SOURCE_OAUTH_REDIRECT_FILE,
              startup->paths.run_dir);
    if (getenv ("MCPBOX_PROCESS"))
        unlink (redirect_file);
    log_info ("stopped");
    return 0;
}

int
main (int argc, char **argv)
{
    const startup_def_t def = {
        .process = PROCESS_NAME,
        .options = s_options,
        .bus     = STARTUP_BUS_PLAIN,       //  no CURVE: run it by the broker
        .events  = true,
        .check   = s_check,
    };
    startup_t startup;
    int status = startup_configure (&startup, &def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    int rc = s_run (&startup);
    startup_release (&startup);
    return rc;
}

/*  cmd_status.c — `mcpbox status`: is every service answering on the bus?

    Sends {"op": "health"} to each service through the broker, all at once,
    each with a 2 s deadline, and prints one line per service:
        registry: ok (version 0.1.0, pid 1234, up 56s)
        tunnel: no_worker                      (broker up, nobody serving)
        logs: timeout (broker not reachable?)  (no answer at all)
    With --json, one JSON object instead (the pids let tests see restarts),
    with the constellation table (common/constellation.h) whether or not
    MCPbox runs: scripts and tests read the list of processes there.
    Exit 0 only if every service answered ok.
    Then the executor pool as the broker reports it (service `broker`, op
    `workers`): one row per executor with its host, process, pid, busy /
    credit, calls served and restarts (--json: "executors"). The pool does
    not change the exit status.

    This is a bus client like the gateway, nothing more: it reads no table
    and needs no lock. It never creates the data directory; if the broker's
    socket is not there, it says so without waiting.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <jansson.h>

#include "bus.h"
#include "cli.h"
#include "constellation.h"
#include "msg.h"

#define S_TIMEOUT_MS  2000      //  each health request's deadline
#define S_GRACE_MS    2000      //  extra wait for the client's local time-out

#define S_SERVICES_MAX  16      //  services in the constellation, at most

typedef enum { S_PENDING, S_OK, S_FAILED } s_state_t;

typedef struct {
    const char  *service;        //  bus service name
    uint64_t     id;             //  request id, 0 if it could not be sent
    s_state_t    state;          //  what we know so far
    bus_error_t  code;           //  when failed
    char         message [160];  //  when failed: the peer's message, if any
    char         version [32];   //  when ok
    char         process [48];   //  when ok: "mcpbox-registry"
    int64_t      pid;            //  when ok
    int64_t      uptime_s;       //  when ok
} s_probe_t;

static void
s_fail (s_probe_t *probe, bus_error_t code, const char *message)
{
    probe->state = S_FAILED;
    probe->code  = code;
    snprintf (probe->message, sizeof probe->message, "%s", message? message: "");
}

//  Fill a probe from the reply to its health request.
static void
s_read_reply (s_probe_t *probe, bus_reply_t *reply)
{
    const char *why = NULL;
    msg_t *msg = bus_reply_decode (reply, &why);
    if (!msg) {
        s_fail (probe, BUS_ERR_PROTOCOL, why);
        return;
    }
    if (!msg_is_ok (msg)) {
        s_fail (probe, msg_error_code (msg), msg_error_message (msg));
        msg_destroy (&msg);
        return;
    }
    const msgpack_object *root = msg_root (msg);
    if (msg_get_cstr (root, "version", probe->version, sizeof probe->version)
        != MSG_FIELD_OK)
        snprintf (probe->version, sizeof probe->version, "?");
    if (msg_get_cstr (root, "process", probe->process, sizeof probe->process)
        != MSG_FIELD_OK)
        probe->process [0] = '\0';
    if (msg_get_int (root, "pid", &probe->pid) != MSG_FIELD_OK)
        probe->pid = 0;
    if (msg_get_int (root, "uptime_s", &probe->uptime_s) != MSG_FIELD_OK)
        probe->uptime_s = 0;
    probe->state = S_OK;
    msg_destroy (&msg);
}

//  Ask every service at once; wait for all answers or the hard deadline.
static void
s_probe_all (bus_client_t *client, s_probe_t *probes, size_t count)
{
    msgw_t *body = msgw_op_new ("health");
    size_t pending = 0;
    for (size_t i = 0; i < count; i++) {
        probes [i].id = body
            ? bus_client_send (client, probes [i].service, msgw_data (body),
                               msgw_size (body), S_TIMEOUT_MS)
            : 0;
        if (probes [i].id == 0)
            s_fail (&probes [i], BUS_ERR_INTERNAL, "could not send the request");
        else
            pending++;
    }
    msgw_destroy (&body);

    int64_t deadline = zclock_mono () + S_TIMEOUT_MS + S_GRACE_MS;
    while (pending > 0 && !zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        bus_reply_t *reply = bus_client_recv (client, (int) left);
        if (!reply)
            continue;
        uint64_t id = bus_reply_id (reply);
        for (size_t i = 0; i < count; i++)
            if (probes [i].id == id && probes [i].state == S_PENDING) {
                s_read_reply (&probes [i], reply);
                pending--;
                break;
            }
        bus_reply_destroy (&reply);
    }
    for (size_t i = 0; i < count; i++)
        if (probes [i].state == S_PENDING)
            s_fail (&probes [i], BUS_ERR_TIMEOUT, "no reply");
}

//  --- the executor pool -------------------------------------------------------

#define S_POOL_TEXT 256         //  host, process: bytes kept
#define S_POOL_LABELS 32        //  labels kept per executor
#define S_POOL_LABEL 128        //  a label's name or value: bytes

//  The executor's labels: string keys to string values, the rest left out.
static json_t *
s_labels (const msgpack_object *about)
{
    json_t *labels = json_object ();
    const msgpack_object *map = NULL;
    if (msg_get_map (about, "labels", &map) != MSG_FIELD_OK)
        return labels;
    for (uint32_t i = 0; i < map->via.map.size && json_object_size (labels) < S_POOL_LABELS; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key, *v = &map->via.map.ptr [i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR
        ||  k->via.str.size == 0 || k->via.str.size > S_POOL_LABEL || v->via.str.size > S_POOL_LABEL
        ||  memchr (k->via.str.ptr, 0, k->via.str.size) || memchr (v->via.str.ptr, 0, v->via.str.size))
            continue;
        //  both checked as UTF-8: the JSON printed must stay valid
        json_t *text = json_stringn (v->via.str.ptr, v->via.str.size);
        if (text)
            json_object_setn_new (labels, k->via.str.ptr, k->via.str.size, text);
    }
    return labels;
}

//  The sandbox workers the broker knows, as JSON rows (NULL: no answer).
//  Every field is read by type and bound: an executor describes itself.
static json_t *
s_pool (bus_client_t *client)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_str (w, "op", "workers");
    msgw_kv_str (w, "service", "sandbox");
    bus_reply_t *reply = bus_client_call (client, BUS_BROKER_SERVICE, msgw_data (w),
                                          msgw_size (w), S_TIMEOUT_MS);
    msgw_destroy (&w);
    msg_t *msg = reply ? bus_reply_decode (reply, NULL) : NULL;
    bus_reply_destroy (&reply);
    const msgpack_object *workers = NULL;
    if (!msg || !msg_is_ok (msg)
    ||  msg_get_array (msg_root (msg), "workers", &workers) != MSG_FIELD_OK) {
        msg_destroy (&msg);
        return NULL;
    }
    json_t *rows = json_array ();
    for (uint32_t i = 0; i < workers->via.array.size; i++) {
        const msgpack_object *worker = &workers->via.array.ptr [i];
        if (worker->type != MSGPACK_OBJECT_MAP)
            continue;
        const msgpack_object *about = NULL;
        json_t *labels = NULL;
        char host [S_POOL_TEXT] = "", process [S_POOL_TEXT] = "";
        int64_t pid = -1, restarts = -1, credit = -1, in_flight = -1, served = -1;
        if (msg_get_map (worker, "about", &about) == MSG_FIELD_OK) {
            if (msg_get_cstr (about, "host", host, sizeof host) != MSG_FIELD_OK)
                host [0] = 0;
            if (msg_get_cstr (about, "process", process, sizeof process) != MSG_FIELD_OK)
                process [0] = 0;
            msg_get_int (about, "pid", &pid);
            msg_get_int (about, "restarts", &restarts);
            labels = s_labels (about);
        }
        msg_get_int (worker, "credit", &credit);
        msg_get_int (worker, "in_flight", &in_flight);
        msg_get_int (worker, "served", &served);
        json_array_append_new (rows, json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
            "process", process, "host", host, "pid", (json_int_t) pid,
            "restarts", (json_int_t) restarts, "credit", (json_int_t) credit,
            "in_flight", (json_int_t) in_flight, "served", (json_int_t) served,
            "labels", labels ? labels : json_object ()));
    }
    msg_destroy (&msg);
    return rows;
}

static void
s_print_pool (const json_t *rows)
{
    if (!rows) {
        printf ("executors: the broker did not report its workers\n");
        return;
    }
    printf ("executors: %zu registered\n", json_array_size (rows));
    static const char *const headers [] = {
        "process", "host", "pid", "busy", "served", "restarts", "labels"
    };
    static const size_t widths [] = { 40, 40, 0, 0, 0, 0, 60 };
    cli_table_t *table = cli_table_new (7, headers, widths);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        char pid [24], busy [48], served [24], restarts [24];
        snprintf (pid, sizeof pid, "%lld", (long long) json_integer_value (json_object_get (row, "pid")));
        snprintf (busy, sizeof busy, "%lld/%lld",
                  (long long) json_integer_value (json_object_get (row, "in_flight")),
                  (long long) json_integer_value (json_object_get (row, "credit")));
        snprintf (served, sizeof served, "%lld",
                  (long long) json_integer_value (json_object_get (row, "served")));
        snprintf (restarts, sizeof restarts, "%lld",
                  (long long) json_integer_value (json_object_get (row, "restarts")));
        //  name=value, comma-separated (a label without a value: its name)
        char labels [512] = "";
        size_t at = 0;
        const char *name;
        json_t *value;
        json_object_foreach (json_object_get (row, "labels"), name, value) {
            const char *text = json_string_value (value);
            int n = snprintf (labels + at, sizeof labels - at, "%s%s%s%s", at ? "," : "",
                              name, text && *text ? "=" : "", text ? text : "");
            if (n < 0 || (size_t) n >= sizeof labels - at) {
                labels [at] = 0;        //  no half label
                break;
            }
            at += (size_t) n;
        }
        const char *cells [] = {
            json_string_value (json_object_get (row, "process")),
            json_string_value (json_object_get (row, "host")),
            pid, busy, served, restarts, labels
        };
        cli_table_add (table, cells);
    }
    if (table && cli_table_rows (table))
        cli_table_print (table, stdout, 2);
    cli_table_destroy (&table);
}

static void
s_print_text (const s_probe_t *probes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const s_probe_t *probe = &probes [i];
        if (probe->state == S_OK)
            printf ("%s: ok (version %s, pid %lld, up %llds)\n", probe->service,
                    probe->version, (long long) probe->pid,
                    (long long) probe->uptime_s);
        else
        if (probe->code == BUS_ERR_TIMEOUT)
            printf ("%s: timeout (broker not reachable?)\n", probe->service);
        else
        if (probe->code == BUS_ERR_NO_WORKER)
            printf ("%s: no_worker\n", probe->service);
        else
            printf ("%s: %s%s%s\n", probe->service, bus_error_name (probe->code),
                    *probe->message? " — ": "", probe->message);
    }
}

//  The constellation table (common/constellation.c), for scripts and tests.
static json_t *
s_constellation_json (void)
{
    json_t *rows = json_array ();
    for (size_t i = 0; rows && i < constellation_size (); i++) {
        const constellation_entry_t *row = &constellation [i];
        json_t *entry = json_pack ("{s:s, s:o, s:i, s:i}",
            "process", row->process,
            "service", row->service ? json_string (row->service) : json_null (),
            "order",   row->order,
            "count",   row->count);
        if (entry && row->count_option)
            json_object_set_new (entry, "count_option", json_string (row->count_option));
        json_array_append_new (rows, entry);
    }
    return rows;
}

static int
s_print_json (const char *data_dir, bool running, const s_probe_t *probes,
              size_t count, bool all_ok, json_t *pool)
{
    json_t *root = json_object ();
    json_t *services = json_object ();
    if (!root || !services) {
        json_decref (root);
        json_decref (services);
        return -1;
    }
    json_object_set_new (root, "constellation", s_constellation_json ());
    json_object_set_new (root, "data_dir", json_string (data_dir));
    json_object_set_new (root, "running", json_boolean (running));
    json_object_set_new (root, "ok", json_boolean (all_ok));
    for (size_t i = 0; i < count; i++) {
        const s_probe_t *probe = &probes [i];
        json_t *entry = json_object ();
        if (!entry)
            continue;
        if (probe->state == S_OK) {
            json_object_set_new (entry, "status", json_string ("ok"));
            json_object_set_new (entry, "version", json_string (probe->version));
            if (*probe->process)
                json_object_set_new (entry, "process", json_string (probe->process));
            json_object_set_new (entry, "pid", json_integer (probe->pid));
            json_object_set_new (entry, "uptime_s", json_integer (probe->uptime_s));
        }
        else {
            json_object_set_new (entry, "status",
                                 json_string (bus_error_name (probe->code)));
            json_object_set_new (entry, "message", json_string (probe->message));
        }
        json_object_set_new (services, probe->service, entry);
    }
    json_object_set_new (root, "services", services);
    if (pool)
        json_object_set (root, "executors", pool);
    int rc = json_dumpf (root, stdout, JSON_INDENT (2) | JSON_SORT_KEYS);
    putchar ('\n');
    json_decref (root);
    return rc;
}

//  The filesystem path behind an ipc:// endpoint, or NULL.
static const char *
s_ipc_path (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) == 0? endpoint + 6: NULL;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    char err [512] = "";
    paths_t paths;
    if (paths_init (&paths, config_str (config, "data_dir"), false,
                    err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox status: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    struct stat st;
    const char *socket_path = s_ipc_path (paths.bus_endpoint);
    if (stat (paths.run_dir, &st) == -1 || !S_ISDIR (st.st_mode)
    ||  !socket_path || stat (socket_path, &st) == -1 || !S_ISSOCK (st.st_mode)) {
        if (json)
            s_print_json (paths.data_dir, false, NULL, 0, false, NULL);
        else
            printf ("MCPbox is not running for %s\n", paths.data_dir);
        return CLI_EXIT_FAIL;
    }

    bus_client_t *client = bus_client_new (paths.bus_endpoint);
    if (!client) {
        fprintf (stderr, "mcpbox status: cannot connect to %s\n",
                 paths.bus_endpoint);
        return CLI_EXIT_FAIL;
    }
    s_probe_t probes [S_SERVICES_MAX];
    memset (probes, 0, sizeof probes);
    size_t count = 0;
    for (size_t i = 0; i < constellation_size () && count < S_SERVICES_MAX; i++)
        if (constellation [i].service)
            probes [count++].service = constellation [i].service;
    s_probe_all (client, probes, count);
    json_t *pool = s_pool (client);
    bus_client_destroy (&client);

    bool all_ok = true;
    for (size_t i = 0; i < count; i++)
        if (probes [i].state != S_OK)
            all_ok = false;
    if (json)
        s_print_json (paths.data_dir, true, probes, count, all_ok, pool);
    else {
        s_print_text (probes, count);
        s_print_pool (pool);
    }
    json_decref (pool);
    fflush (stdout);
    return all_ok? CLI_EXIT_OK: CLI_EXIT_FAIL;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of lines", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_status = {
    .name    = "status",
    .summary = "ask every service for its health",
    .usage   = "usage: mcpbox status [--data-dir D] [--json]\n\n"
               "Send a health request to each service of the constellation\n"
               "(registry, approval, credentials, tunnel, logs, sandbox)\n"
               "through the broker and print the answers. Exit status 0 only\n"
               "if all are ok. --json also lists the processes, start order\n"
               "and counts.",
    .options = s_options,
    .run     = s_run,
};

/*  mcpbox-executor — runs tool code in the sandbox, as service "sandbox".

    Executors are a pool: several may run on this machine or join from other
    machines over tcp:// with CURVE (--broker tcp://host:port --broker-key
    broker --cert executor_secret). They are stateless and own nothing
    persistent; what they hold is their sandbox processes.

    Wiring, in an order that matters: the zygote process (the embedded
    interpreter, see zygote.h) is forked before any thread exists and
    before this process holds anything of a job; then the bus worker; then
    one loop polls the bus, the zygote and every running call's pipes.
    Jansson's memory is wiped when freed: jobs carry secrets.

    --oneshot reads one request (JSON, the same fields as the bus op) on
    stdin and prints the result as JSON: `mcpbox sandbox run` uses it, so
    the command line goes through exactly the path the bus does.

    Ops: health, run, test, validate (see job_spec.h for their fields) and
    source, a conversation with an external MCP source (source_job.h).
*/
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>
#include "about.h"
#include "bus.h"
#include "call_pool.h"
#include "job_secrets.h"
#include "source_job.h"
#include "json_msgpack.h"
#include "startup.h"
#include "zygote.h"

#define POLL_MAX      (2 + 2 * 64)
#define ONESHOT_MAX   (4u << 20)

static const char *s_owns [] = { "sandbox processes", NULL };

static const service_def_t s_def = {
    .service = "sandbox",
    .process = "mcpbox-executor",
    .owns    = s_owns,
};

static const config_option_t s_options [] = {
    { .key = "credit", .type = CONFIG_INT, .default_value = "4", .min = 1, .max = 64,
      .help = "tool calls this executor runs at once" },
    { .key = "labels", .type = CONFIG_STR, .default_value = "",
      .help = "what this host announces to the pool: NAME or NAME=VALUE, comma-separated" },
    { .key = "oneshot", .type = CONFIG_BOOL,
      .help = "run one request read as JSON on stdin, print the result", .flag_only = true },
    { .key = NULL }
};

//  Jansson's free: jobs, results and secrets pass through jansson values,
//  and no freed block may keep them.
static void
s_json_free (void *ptr)
{
    if (ptr) {
        explicit_bzero (ptr, malloc_usable_size (ptr));
        free (ptr);
    }
}

//  {"ok": true, ...result fields...} as msgpack.
static msgw_t *
s_reply_from_result (json_t *result)
{
    json_object_set_new (result, "ok", json_true ());
    msgw_t *w = msgw_new ();
    if (msgw_json (w, result) != 0) {
        msgw_destroy (&w);
        w = msgw_error_new (BUS_ERR_INTERNAL, "result could not be encoded");
    }
    return w;
}

static void
s_reply (bus_worker_t *worker, bus_request_t **request, msgw_t **w)
{
    bus_worker_reply (worker, request, msgw_data (*w), msgw_size (*w));
    msgw_destroy (w);
}

//  A running call's notice (call_pool.h) goes to its request's client.
static int
s_notice (void *token, json_t *notice, void *arg)
{
    bus_worker_t *worker = arg;
    msgw_t *w = msgw_new ();
    int rc = msgw_json (w, notice) == 0
           ? bus_worker_notice (worker, token, msgw_data (w), msgw_size (w)) : -1;
    msgw_destroy (&w);
    return rc;
}

//  A request from the bus: answered now (health, errors) or started.
//  A `source` job (source_job.h), its secrets already attached: started
//  on its own thread, or answered with the refusal now.
static msgw_t *
s_source (source_pool_t *sources, msg_t *msg, bus_request_t **request)
{
    json_t *job = json_from_msgpack (msg_root (msg));
    source_spec_t spec;
    bus_error_t code = BUS_ERR_BAD_REQUEST;
    char err [256] = "request is not a map";
    msgw_t *w = NULL;
    if (!job || source_spec_from_request (job, &spec, &code, err, sizeof err) != 0)
        w = msgw_error_new (code, err);
    else
    if (source_pool_start (sources, &spec, *request, err, sizeof err) != 0) {
        source_spec_clear (&spec);
        w = msgw_error_new (BUS_ERR_UNAVAILABLE, err);
    }
    else
        *request = NULL;            //  answered when the job finishes
    json_decref (job);
    return w;
}

static void
s_request (bus_worker_t *worker, call_pool_t *pool, source_pool_t *sources,
           job_secrets_t *secrets, bus_request_t *request, int64_t started)
{
    size_t size;
    const void *body = bus_request_body (request, &size);
    const char *why = NULL;
    msg_t *msg = msg_decode (body, size, NULL, &why);
    msgw_t *w = NULL;
    if (!msg)
        w = msgw_error_new (BUS_ERR_BAD_REQUEST, why);
    else
    if (msg_op (msg) && streq (msg_op (msg), "health"))
        w = service_health_reply (&s_def, started);
    else {
        job_spec_t spec;
        bus_error_t code;
        char err [256];
        //  the server's secrets join the job here, and only here (job_secrets.h)
        int parsed = job_secrets_attach (secrets, &msg, size, &code, err, sizeof err);
        if (parsed == 0 && msg_op (msg) && streq (msg_op (msg), "source")) {
            bus_request_t *held = request;
            w = s_source (sources, msg, &request);
            bus_request_wipe_body (held);   //  the job is in the spec now
            msg_destroy (&msg);
            if (request)
                s_reply (worker, &request, &w);
            return;
        }
        if (parsed == 0)
            parsed = job_spec_from_request (msg_root (msg), &spec, &code, err, sizeof err);
        bus_request_wipe_body (request);     //  the job (and its secrets) is in spec now
        if (parsed != 0)
            w = msgw_error_new (code, err);
        else
        if (call_pool_start (pool, &spec, request, err, sizeof err) != 0) {
            job_spec_clear (&spec);
            w = msgw_error_new (BUS_ERR_UNAVAILABLE, err);
        }
        else
            request = NULL;         //  answered when the call finishes
    }
    msg_destroy (&msg);
    if (request)
        s_reply (worker, &request, &w);
}

//  A source job still running at shutdown: its request is dropped unanswered
//  (the broker tells the client its worker is gone).
static void
s_drop_request (void *token, void *arg)
{
    (void) arg;
    bus_request_t *request = token;
    bus_request_destroy (&request);
}

static int
s_serve (startup_t *startup, zygote_t *zygote)
{
    config_t *config = startup->config;
    const char *endpoint = startup->endpoint;
    //  with READY it says where it runs and which process it is (about.h)
    msgw_t *about = executor_about_new ((int) config_int (config, "credit"),
                                        config_str (config, "labels"));
    bus_worker_t *worker = bus_worker_new_about (endpoint, "sandbox",
                                                 (int) config_int (config, "credit"),
                                                 startup->use_curve ? &startup->curve : NULL,
                                                 msgw_data (about), msgw_size (about));
    msgw_destroy (&about);
    if (!worker) {
        log_error ("cannot connect to %s (bad endpoint or certificates?)", endpoint);
        return 1;
    }
    call_pool_t *pool = call_pool_new (zygote, (size_t) config_int (config, "credit"));
    call_pool_set_notice (pool, s_notice, worker);
    call_pool_refill (pool);
    job_secrets_t *secrets = job_secrets_new (endpoint,
                                                startup->use_curve ? &startup->curve : NULL,
                                                worker);
    source_pool_t *sources = source_pool_new (endpoint);
    if (!sources) {
        log_error ("cannot make the source pool (eventfd)");
        call_pool_destroy (&pool);
        job_secrets_destroy (&secrets);
        bus_worker_destroy (&worker);
        return 1;
    }
    int64_t started = zclock_mono ();
    log_info ("serving 'sandbox' at %s with credit %d", endpoint, (int) config_int (config, "credit"));
    int rc = 0;

    int unheard = 0;
    while (!zsys_interrupted) {
        zmq_pollitem_t items [POLL_MAX];
        items [0] = (zmq_pollitem_t) { zsock_resolve (bus_worker_sock (worker)), 0, ZMQ_POLLIN, 0 };
        source_pool_poll_item (sources, &items [1]);
        int count = 2 + call_pool_poll_items (pool, items + 2, POLL_MAX - 2);
        int wait = call_pool_next_timeout_ms (pool);
        if (wait < 0 || wait > bus_heartbeat_ms ())
            wait = bus_heartbeat_ms ();
        if (zmq_poll (items, count, wait) < 0 && errno != EINTR)
            break;
        call_pool_handle (pool, items + 2, count - 2);
        void *token;
        json_t *result;
        while (call_pool_take_done (pool, &token, &result)
           ||  source_pool_take_done (sources, &token, &result)) {
            bus_request_t *request = token;
            log_debug ("call answered (%s)",
                       json_is_true (json_object_get (result, "success")) ? "success" : "failure");
            msgw_t *w = s_reply_from_result (result);
            json_decref (result);
            s_reply (worker, &request, &w);
        }
        bus_request_t *request;
        //  receive while we have room; the broker respects our credit anyway
        while ((request = bus_worker_recv (worker, 0)))
            s_request (worker, pool, sources, secrets, request, started);
        //  a cancelled call: its child dies now, and its reply (dropped by
        //  the broker) frees the credit
        while ((request = bus_worker_take_cancelled (worker)))
            if (call_pool_cancel (pool, request) != 0)
                source_pool_cancel (sources, request);
        call_pool_refill (pool);
        int now_unheard = bus_worker_unheard (worker);
        if (now_unheard == 1 && unheard == 0)
            log_warn ("the broker at %s does not answer: it is down or unreachable%s",
                      endpoint, startup->use_curve
                      ? ", or it refuses this host's key (allow it on the main machine: "
                        "mcpbox executors allow KEY)" : "");
        else
        if (now_unheard == 0 && unheard > 0)
            log_info ("the broker at %s answers again", endpoint);
        unheard = now_unheard;
        if (!call_pool_healthy (pool)) {
            log_error ("the zygote is gone: no sandbox child can be made; exiting");
            rc = 1;
            break;
        }
    }
    log_info ("stopping");
    source_pool_destroy (&sources, s_drop_request, NULL);
    call_pool_destroy (&pool);
    job_secrets_destroy (&secrets);
    bus_worker_destroy (&worker);
    return rc;
}

//  --oneshot: the same path as the bus, for `mcpbox sandbox run`.
static int
s_oneshot (zygote_t *zygote)
{
    json_error_t error;
    json_t *request = json_loadf (stdin, JSON_REJECT_DUPLICATES, &error);
    if (!request || !json_is_object (request)) {
        fprintf (stderr, "mcpbox-executor: --oneshot needs one JSON object on stdin: %s\n", error.text);
        json_decref (request);
        return 2;
    }
    msgw_t *w = msgw_new ();
    msgw_json (w, request);
    json_decref (request);
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, NULL);
    msgw_destroy (&w);
    job_spec_t spec;
    bus_error_t code = BUS_ERR_BAD_REQUEST;
    char err [256] = "request is not a map";
    call_pool_t *pool = call_pool_new (zygote, 1);
    json_t *result = NULL;
    if (msg && job_spec_from_request (msg_root (msg), &spec, &code, err, sizeof err) == 0
    &&  call_pool_start (pool, &spec, NULL, err, sizeof err) == 0) {
        void *token;
        while (!call_pool_take_done (pool, &token, &result) && !zsys_interrupted) {
            zmq_pollitem_t items [4];
            int count = call_pool_poll_items (pool, items, 4);
            int wait = call_pool_next_timeout_ms (pool);
            zmq_poll (items, count, wait < 0 || wait > 100 ? 100 : wait);
            call_pool_handle (pool, items, count);
        }
    }
    msg_destroy (&msg);
    call_pool_destroy (&pool);
    if (!result) {
        fprintf (stderr, "mcpbox-executor: %s: %s\n", bus_error_name (code), err);
        return 2;
    }
    json_dumpf (result, stdout, JSON_COMPACT);
    fputc ('\n', stdout);
    int success = json_is_true (json_object_get (result, "success"));
    json_decref (result);
    return success ? 0 : 1;
}

static int
s_check (startup_t *startup, char *err, size_t errlen)
{
    return executor_labels_check (config_str (startup->config, "labels"), err, errlen);
}

int
main (int argc, char **argv)
{
    //  configure only: no thread, no socket, no child before the zygote
    const startup_def_t def = {
        .process   = "mcpbox-executor",
        .usage     = "usage: mcpbox-executor [--data-dir D] [options]",
        .options   = s_options,
        .bus       = STARTUP_BUS_CURVE,
        .read_only = true,
        .check     = s_check,
    };
    startup_t startup;
    int status = startup_configure (&startup, &def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    if (sodium_init () < 0) {
        log_error ("libsodium failed to initialise");
        startup_release (&startup);
        return 1;
    }
    signal (SIGPIPE, SIG_IGN);      //  a dead child's pipe is an error, not a death
    json_set_alloc_funcs (malloc, s_json_free);

    //  before any thread and any job: the zygote process
    char err [512];
    zygote_t *zygote = zygote_new (err, sizeof err);
    if (!zygote) {
        log_error ("%s", err);
        startup_release (&startup);
        return 1;
    }
    int rc = config_bool (startup.config, "oneshot") ? s_oneshot (zygote)
                                                     : s_serve (&startup, zygote);
    zygote_destroy (&zygote);
    startup_release (&startup);
    return rc;
}

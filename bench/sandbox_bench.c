/*  sandbox_bench.c — the cost of running a trivial tool in the sandbox.

    Three paths, the same tool (async def main(x: int = 1): return {"y": x + 1}):

      floor    the tool's source compiled, exec'd and its coroutine driven in this
               process's warm interpreter: no fork, no sandbox. The least
               any sandbox could cost.
      direct   this process as one executor: the real zygote and call pool
               (executor_core), a fresh forked child per call with rlimits
               and seccomp, with the warm spare refilled after each start,
               as mcpbox-executor does. No bus.
      broker   the real mcpbox-broker and two mcpbox-executor processes
               (found next to this binary), driven by a bus client.

    Each path runs --calls calls at depth 1 (latency: p50, p99) and at a
    higher depth (throughput: calls/s; 4 direct = the executor's credit,
    8 through the broker = 2 executors x 4), repeated --rounds times; the
    median over rounds is printed, with the ratios to the floor and to the
    direct path. Bounded: every call has a 10 s timeout.

    usage: sandbox_bench [--calls N] [--rounds R] [--json]
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <czmq.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include "bus.h"
#include "call_pool.h"
#include "job_spec.h"
#include "msg.h"
#include "zygote.h"

extern char **environ;

static const char *s_tool =
    "async def main(x: int = 1):\n"
    "    return {\"y\": x + 1}\n";

typedef struct { double p50_us, p99_us, per_s; } figures_t;

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double
s_percentile (double *values, int count, double p)
{
    qsort (values, (size_t) count, sizeof *values, s_cmp);
    int index = (int) (p * (count - 1) + 0.5);
    return values [index];
}

static double
s_median (double *values, int count)
{
    return s_percentile (values, count, 0.5);
}

static msgw_t *
s_request (int i)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_str (w, "op", "run");
    msgw_kv_str (w, "code", s_tool);
    msgw_kv_int (w, "timeout_ms", 10000);
    msgw_str (w, "arguments");
    msgw_map (w, 1);
    msgw_kv_int (w, "x", i);
    return w;
}

//  --- floor: exec in this warm interpreter ------------------------------------

static PyObject *s_floor_fn;

static void
s_floor_setup (void)
{
    const char *source =
        "def _bench_floor(source, x):\n"
        "    g = {'__builtins__': __builtins__}\n"
        "    exec(source, g)\n"
        "    coro = g['main'](x=x)\n"
        "    try:\n"
        "        coro.send(None)\n"
        "    except StopIteration as stop:\n"
        "        return stop.value\n";
    PyObject *module = PyImport_AddModule ("__main__");
    PyObject *globals = PyModule_GetDict (module);
    PyObject *done = PyRun_String (source, Py_file_input, globals, globals);
    Py_XDECREF (done);
    s_floor_fn = PyDict_GetItemString (globals, "_bench_floor");
    assert (s_floor_fn);
}

static figures_t
s_floor (int calls)
{
    double *lat = calloc ((size_t) calls, sizeof *lat);
    //  the source, not a code object: every sandboxed call compiles too
    PyObject *code = PyUnicode_FromString (s_tool);
    int64_t start = zclock_usecs ();
    for (int i = 0; i < calls; i++) {
        int64_t t0 = zclock_usecs ();
        PyObject *value = PyObject_CallFunction (s_floor_fn, "Oi", code, i);
        assert (value);
        Py_DECREF (value);
        lat [i] = (double) (zclock_usecs () - t0);
    }
    double elapsed = (double) (zclock_usecs () - start) / 1e6;
    Py_DECREF (code);
    figures_t f = { s_percentile (lat, calls, 0.5), s_percentile (lat, calls, 0.99), calls / elapsed };
    free (lat);
    return f;
}

//  --- direct: the executor's own call pool in this process --------------------

static void
s_start (call_pool_t *pool, int i, int64_t *started)
{
    msgw_t *w = s_request (i);
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, NULL);
    job_spec_t spec;
    bus_error_t code;
    char err [256];
    if (job_spec_from_request (msg_root (msg), &spec, &code, err, sizeof err) != 0
    ||  call_pool_start (pool, &spec, (void *) (intptr_t) i, err, sizeof err) != 0) {
        fprintf (stderr, "sandbox_bench: cannot start a call: %s\n", err);
        exit (1);
    }
    started [i] = zclock_usecs ();
    msg_destroy (&msg);
    msgw_destroy (&w);
    call_pool_refill (pool);
}

static figures_t
s_direct (zygote_t *zygote, int calls, int depth)
{
    call_pool_t *pool = call_pool_new (zygote, (size_t) depth);
    call_pool_refill (pool);
    double *lat = calloc ((size_t) calls, sizeof *lat);
    int64_t *started = calloc ((size_t) calls, sizeof *started);
    int sent = 0, done = 0;
    int64_t begin = zclock_usecs ();
    while (done < calls) {
        while (sent < calls && sent - done < depth)
            s_start (pool, sent++, started);
        zmq_pollitem_t items [64];
        int count = call_pool_poll_items (pool, items, 64);
        zmq_poll (items, count, 100);
        call_pool_handle (pool, items, count);
        void *token;
        json_t *result;
        while (call_pool_take_done (pool, &token, &result)) {
            int i = (int) (intptr_t) token;
            lat [done++] = (double) (zclock_usecs () - started [i]);
            if (!json_is_true (json_object_get (result, "success"))) {
                char *text = json_dumps (result, 0);
                fprintf (stderr, "sandbox_bench: a call failed: %s\n", text);
                exit (1);
            }
            json_decref (result);
        }
    }
    double elapsed = (double) (zclock_usecs () - begin) / 1e6;
    figures_t f = { s_percentile (lat, calls, 0.5), s_percentile (lat, calls, 0.99), calls / elapsed };
    free (lat);
    free (started);
    call_pool_destroy (&pool);
    return f;
}

//  --- broker: real processes -------------------------------------------------------

static pid_t
s_spawn (const char *bin_dir, const char *name, const char *data_dir)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", bin_dir, name);
    char *argv [] = { path, "--data-dir", (char *) data_dir, "--log-level", "warn", NULL };
    pid_t pid;
    if (posix_spawn (&pid, path, NULL, NULL, argv, environ) != 0) {
        fprintf (stderr, "sandbox_bench: cannot start %s\n", path);
        exit (1);
    }
    return pid;
}

static figures_t
s_broker (bus_client_t *client, int calls, int depth)
{
    double *lat = calloc ((size_t) calls, sizeof *lat);
    int sent = 0, done = 0;
    int64_t begin = zclock_usecs ();
    int64_t *starts = calloc ((size_t) calls, sizeof *starts);
    uint64_t *ids = calloc ((size_t) calls, sizeof *ids);
    while (done < calls) {
        while (sent < calls && sent - done < depth) {
            msgw_t *w = s_request (sent);
            ids [sent] = bus_client_send (client, "sandbox", msgw_data (w), msgw_size (w), 10000);
            starts [sent++] = zclock_usecs ();
            msgw_destroy (&w);
        }
        bus_reply_t *reply = bus_client_recv (client, 15000);
        if (!reply) {
            fprintf (stderr, "sandbox_bench: no reply through the broker\n");
            exit (1);
        }
        msg_t *msg = bus_reply_decode (reply, NULL);
        bool success = false;
        if (!msg || !msg_is_ok (msg) || msg_get_bool (msg_root (msg), "success", &success) || !success) {
            fprintf (stderr, "sandbox_bench: a call through the broker failed (%s)\n",
                     msg ? msg_error_message (msg) : "malformed");
            exit (1);
        }
        for (int i = sent - 1; i >= 0; i--)
            if (ids [i] == bus_reply_id (reply)) {
                lat [done++] = (double) (zclock_usecs () - starts [i]);
                break;
            }
        msg_destroy (&msg);
        bus_reply_destroy (&reply);
    }
    double elapsed = (double) (zclock_usecs () - begin) / 1e6;
    figures_t f = { s_percentile (lat, calls, 0.5), s_percentile (lat, calls, 0.99), calls / elapsed };
    free (lat);
    free (starts);
    free (ids);
    return f;
}

//  --- main ------------------------------------------------------------------------------

typedef struct { const char *name; figures_t depth1; figures_t depthn; int n; } row_t;

static figures_t
s_median_of (figures_t *rounds, int count)
{
    double a [32], b [32], c [32];
    for (int i = 0; i < count; i++) {
        a [i] = rounds [i].p50_us;
        b [i] = rounds [i].p99_us;
        c [i] = rounds [i].per_s;
    }
    return (figures_t) { s_median (a, count), s_median (b, count), s_median (c, count) };
}

int
main (int argc, char **argv)
{
    int calls = 2000, rounds = 3;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv [i], "--calls") && i + 1 < argc)
            calls = atoi (argv [++i]);
        else if (streq (argv [i], "--rounds") && i + 1 < argc)
            rounds = atoi (argv [++i]);
        else if (streq (argv [i], "--json"))
            json = true;
        else {
            fprintf (stderr, "usage: sandbox_bench [--calls N] [--rounds R] [--json]\n");
            return 2;
        }
    }
    if (calls < 10 || calls > 1000000 || rounds < 1 || rounds > 31)
        return 2;
    signal (SIGPIPE, SIG_IGN);
    char err [256];
    zygote_t *zygote = zygote_new (err, sizeof err);
    if (!zygote) {
        fprintf (stderr, "sandbox_bench: %s\n", err);
        return 1;
    }
    Py_Initialize ();           //  the floor runs in this process, not in the zygote
    s_floor_setup ();

    //  the broker and two executors, next to this binary
    char bin_dir [1024];
    ssize_t n = readlink ("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
    bin_dir [n > 0 ? n : 0] = 0;
    *strrchr (bin_dir, '/') = 0;
    char data_dir [] = "/tmp/mbbenchXXXXXX";
    if (!mkdtemp (data_dir))
        return 1;
    pid_t broker = s_spawn (bin_dir, "mcpbox-broker", data_dir);
    char socket_path [256], endpoint [300];
    snprintf (socket_path, sizeof socket_path, "%s/run/bus", data_dir);
    snprintf (endpoint, sizeof endpoint, "ipc://%s", socket_path);
    for (int i = 0; i < 100 && !zsys_file_exists (socket_path); i++)
        zclock_sleep (50);
    pid_t executors [2] = { s_spawn (bin_dir, "mcpbox-executor", data_dir),
                            s_spawn (bin_dir, "mcpbox-executor", data_dir) };
    bus_client_t *client = bus_client_new (endpoint);
    s_broker (client, 50, 8);           //  both executors registered and warm

    row_t rows [3] = { { .name = "floor (in-process exec)", .n = 1 },
                       { .name = "direct (1 executor, no bus)", .n = 4 },
                       { .name = "broker + 2 executors", .n = 8 } };
    figures_t samples [3][2][32];
    for (int r = 0; r < rounds; r++) {
        samples [0][0][r] = s_floor (calls);
        samples [0][1][r] = samples [0][0][r];
        samples [1][0][r] = s_direct (zygote, calls, 1);
        samples [1][1][r] = s_direct (zygote, calls, 4);
        samples [2][0][r] = s_broker (client, calls, 1);
        samples [2][1][r] = s_broker (client, calls, 8);
    }
    for (int p = 0; p < 3; p++) {
        rows [p].depth1 = s_median_of (samples [p][0], rounds);
        rows [p].depthn = s_median_of (samples [p][1], rounds);
    }
    bus_client_destroy (&client);
    kill (executors [0], SIGTERM);
    kill (executors [1], SIGTERM);
    kill (broker, SIGTERM);
    waitpid (executors [0], NULL, 0);
    waitpid (executors [1], NULL, 0);
    waitpid (broker, NULL, 0);
    char command [128];
    snprintf (command, sizeof command, "rm -rf %s", data_dir);
    if (system (command) != 0)
        fprintf (stderr, "sandbox_bench: could not remove %s\n", data_dir);

    double ratio_direct = rows [1].depth1.p50_us / rows [0].depth1.p50_us;
    double ratio_broker = rows [2].depth1.p50_us / rows [1].depth1.p50_us;
    if (json) {
        printf ("{\"calls\":%d,\"rounds\":%d", calls, rounds);
        const char *keys [3] = { "floor", "direct", "broker" };
        for (int p = 0; p < 3; p++)
            printf (",\"%s\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"calls_per_s_depth1\":%.0f,"
                    "\"calls_per_s\":%.0f,\"depth\":%d}", keys [p], rows [p].depth1.p50_us,
                    rows [p].depth1.p99_us, rows [p].depth1.per_s, rows [p].depthn.per_s,
                    p == 0 ? 1 : rows [p].n);
        printf (",\"ratio_direct_floor_p50\":%.2f,\"ratio_broker_direct_p50\":%.2f}\n",
                ratio_direct, ratio_broker);
    }
    else {
        printf ("trivial tool, %d calls per run, median of %d rounds\n\n", calls, rounds);
        printf ("%-30s %10s %10s %14s %14s\n", "path", "p50", "p99", "calls/s (d=1)", "calls/s (d=N)");
        for (int p = 0; p < 3; p++)
            printf ("%-30s %8.0fus %8.0fus %14.0f %9.0f (d=%d)\n", rows [p].name,
                    rows [p].depth1.p50_us, rows [p].depth1.p99_us, rows [p].depth1.per_s,
                    rows [p].depthn.per_s, p == 0 ? 1 : rows [p].n);
        printf ("\nratio p50 direct/floor: %.1fx   broker/direct: %.2fx\n", ratio_direct, ratio_broker);
        printf ("goals: p50 under 1 ms with the warm child (direct: %.0f us), "
                ">= 600 calls/s with 2 executors (broker: %.0f)\n",
                rows [1].depth1.p50_us, rows [2].depthn.per_s);
    }
    zygote_destroy (&zygote);
    return 0;
}

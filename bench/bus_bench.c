/*  bus_bench.c — round-trip latency and throughput through the broker,
    against a direct DEALER<->ROUTER pair as the baseline.

    Broker path:  client (main thread, bus_client_t)
                    -> broker (the mcpbox-broker binary as a child process,
                       or broker_actor in-process when the binary is absent)
                    -> echo worker (a thread, bus_worker_t, credit 64)
                    -> broker -> client
    Direct path:  client (main thread, DEALER) -> echo thread (ROUTER) -> client,
                  with the same frames as a client request and reply, so the
                  difference between the two is the broker hop.

    Every request carries {"op":"echo","n":i} (16 bytes of msgpack). The
    client keeps `depth` requests in flight (1 and 64), stamps each with a
    monotonic clock when sent, and takes the latency when its reply comes
    back. Each (path, depth) runs a warm-up, then --requests replies are
    measured; that is repeated --rounds times, interleaving paths, and the
    median over rounds of p50, p99 and req/s is reported.

    Bounded: a reply that does not come within 5 s aborts the run.

    A third path, relay, puts a bare proxy hop (ROUTER<->DEALER moving
    frames, its own ZeroMQ context) between the direct client and echo
    server: the floor for any broker, so broker/relay is the broker's own
    cost. cpu is the CPU time per request of this process plus the broker
    child, which other load on the machine does not change.

    usage: bus_bench [--broker-bin PATH] [--in-process] [--requests N]
                     [--requests1 N] [--requests64 N] [--warmup N]
                     [--rounds R] [--io-threads N] [--only PATH] [--depth N]
                     [--json] [--check]
*/
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "broker.h"
#include "bus.h"
#include "bus_frames.h"
#include "msg.h"

extern char **environ;

#define BENCH_SERVICE       "echo"
#define BENCH_CREDIT        64
#define BENCH_REPLY_WAIT_MS 5000        //  a reply slower than this aborts the run
#define BENCH_TIMEOUT_MS    30000       //  request deadline given to the broker
#define BENCH_BODY_SIZE     16
#define GOAL_P50_RATIO      2.0
#define GOAL_RPS_64         30000.0

enum { PATH_BROKER, PATH_DIRECT, PATH_RELAY, PATHS };
enum { DEPTH_1, DEPTH_64, DEPTHS };
static const int   s_depths [DEPTHS] = { 1, 64 };
static const char *s_path_names [PATHS] = { "broker", "direct", "relay" };

typedef struct {
    double   p50_us, p99_us, rps;
    double   cpu_us;            //  CPU time per request, this process + broker child
    uint64_t errors;
} result_t;

//  --- clock and body ----------------------------------------------------------

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

//  CPU time of this process (all threads) plus, if set, the broker child:
//  the cost per request independent of what else runs on the machine.
static pid_t s_cpu_child;

static uint64_t
s_cpu_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    uint64_t ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
    clockid_t clock;
    if (s_cpu_child > 0 && clock_getcpuclockid (s_cpu_child, &clock) == 0
    &&  clock_gettime (clock, &ts) == 0)
        ns += (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
    return ns;
}

//  {"op":"echo","n":n} with n as a uint32, so every body has the same size.
static size_t
s_body (uint8_t *buf, uint32_t n)
{
    static const uint8_t head [] = {
        0x82, 0xa2, 'o', 'p', 0xa4, 'e', 'c', 'h', 'o', 0xa1, 'n', 0xce
    };
    memcpy (buf, head, sizeof head);
    buf [12] = (uint8_t) (n >> 24);
    buf [13] = (uint8_t) (n >> 16);
    buf [14] = (uint8_t) (n >> 8);
    buf [15] = (uint8_t) n;
    return BENCH_BODY_SIZE;
}

static bool
s_body_matches (const void *data, size_t size, uint64_t seq)
{
    uint8_t expect [BENCH_BODY_SIZE];
    s_body (expect, (uint32_t) seq);
    return size == BENCH_BODY_SIZE && memcmp (data, expect, size) == 0;
}

//  --- drivers: one per path --------------------------------------------------
//  send(seq) puts request number seq (0-based within a run) on the wire;
//  recv() returns 1 with the seq a reply answers and whether it is the echo
//  we expected, 0 on time-out, -1 on interrupt.

typedef struct {
    const char *name;
    void *ctx;
    int (*send) (void *ctx, uint64_t seq, const uint8_t *body, size_t size);
    int (*recv) (void *ctx, int timeout_ms, uint64_t *seq, bool *ok);
} driver_t;

typedef struct {
    bus_client_t *client;
    uint64_t      base;         //  bus id of seq 0 in the current run
} broker_driver_t;

static int
s_broker_send (void *ctx, uint64_t seq, const uint8_t *body, size_t size)
{
    broker_driver_t *self = ctx;
    uint64_t id = bus_client_send (self->client, BENCH_SERVICE, body, size,
                                   BENCH_TIMEOUT_MS);
    if (!id)
        return -1;
    if (seq == 0)
        self->base = id;
    //  ids are consecutive per client; the map back to seq relies on it
    return id == self->base + seq ? 0 : -1;
}

static int
s_broker_recv (void *ctx, int timeout_ms, uint64_t *seq, bool *ok)
{
    broker_driver_t *self = ctx;
    bus_reply_t *reply = bus_client_recv (self->client, timeout_ms);
    if (!reply)
        return zsys_interrupted ? -1 : 0;
    *seq = bus_reply_id (reply) - self->base;
    size_t size;
    const void *data = bus_reply_body (reply, &size);
    *ok = s_body_matches (data, size, *seq);
    bus_reply_destroy (&reply);
    return 1;
}

//  The direct client does what bus_client does on the wire: six frames
//  out with zmq_send, zmsg_recv in (after a non-blocking try, zmq_poll).
typedef struct {
    zsock_t *sock;              //  DEALER
} direct_driver_t;

static int
s_direct_send (void *ctx, uint64_t seq, const uint8_t *body, size_t size)
{
    direct_driver_t *self = ctx;
    uint8_t id [8], timeout [4], command = BUS_C_REQUEST;
    bus_put_u64 (id, seq);
    bus_put_u32 (timeout, BENCH_TIMEOUT_MS);
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, BUS_CLIENT_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (handle, &command, 1, ZMQ_SNDMORE);
    zmq_send (handle, BENCH_SERVICE, strlen (BENCH_SERVICE), ZMQ_SNDMORE);
    zmq_send (handle, id, 8, ZMQ_SNDMORE);
    zmq_send (handle, timeout, 4, ZMQ_SNDMORE);
    return zmq_send (handle, body, size, 0) < 0 ? -1 : 0;
}

static int
s_direct_recv (void *ctx, int timeout_ms, uint64_t *seq, bool *ok)
{
    direct_driver_t *self = ctx;
    uint64_t until = s_now_ns () + (uint64_t) timeout_ms * 1000000u;
    while (true) {
        zmsg_t *msg = zmsg_recv (self->sock);
        if (msg) {
            zframe_t *proto = zmsg_first (msg);
            zframe_t *command = zmsg_next (msg);
            zframe_t *id = zmsg_next (msg);
            zframe_t *body = zmsg_next (msg);
            bool shaped = zmsg_size (msg) == 4 && bus_frame_is (proto, BUS_CLIENT_PROTO)
                       && bus_frame_command (command) == BUS_C_REPLY
                       && bus_frame_u64 (id, seq);
            *ok = shaped && s_body_matches (zframe_data (body), zframe_size (body), *seq);
            zmsg_destroy (&msg);
            if (!shaped)
                continue;       //  cannot tell which request it answers
            return 1;
        }
        if (zsys_interrupted)
            return -1;
        uint64_t now = s_now_ns ();
        if (now >= until)
            return 0;
        zmq_pollitem_t item = { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, (long) ((until - now) / 1000000u) + 1);
    }
}

//  --- echo threads -------------------------------------------------------------

typedef struct {
    char           endpoint [PATH_MAX];
    atomic_bool    stop;
    atomic_int     state;       //  0 starting, 1 running, -1 failed
    pthread_t      thread;
} echo_t;

//  The broker's echo worker: bus_worker_recv / bus_worker_reply.
static void *
s_worker_thread (void *arg)
{
    echo_t *self = arg;
    bus_worker_t *worker = bus_worker_new (self->endpoint, BENCH_SERVICE,
                                           BENCH_CREDIT, NULL);
    if (!worker) {
        atomic_store (&self->state, -1);
        return NULL;
    }
    atomic_store (&self->state, 1);
    while (!atomic_load (&self->stop) && !zsys_interrupted) {
        bus_request_t *request = bus_worker_recv (worker, 50);
        if (!request)
            continue;
        size_t size;
        const void *body = bus_request_body (request, &size);
        bus_worker_reply (worker, &request, body, size);
    }
    bus_worker_destroy (&worker);
    return NULL;
}

//  The direct echo server: a ROUTER answering each request frame set with
//  identity | MBC1 | REPLY | id | body, polled and drained like the broker.
static void *
s_router_thread (void *arg)
{
    echo_t *self = arg;
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        atomic_store (&self->state, -1);
        return NULL;
    }
    bus_socket_tune (sock);
    if (zsock_bind (sock, "%s", self->endpoint) < 0) {
        zsock_destroy (&sock);
        atomic_store (&self->state, -1);
        return NULL;
    }
    atomic_store (&self->state, 1);
    uint8_t reply_command = BUS_C_REPLY;
    while (!atomic_load (&self->stop) && !zsys_interrupted) {
        zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 50) <= 0)
            continue;
        for (int n = 0; n < 256; n++) {
            zmsg_t *msg = zmsg_recv (sock);
            if (!msg)
                break;
            //  envelope: identities up to "MBC1" (one direct, two via the relay)
            zmsg_t *reply = zmsg_new ();
            zframe_t *frame = zmsg_pop (msg);
            while (frame && !bus_frame_is (frame, BUS_CLIENT_PROTO)) {
                zmsg_append (reply, &frame);
                frame = zmsg_pop (msg);
            }
            if (frame && zmsg_size (msg) == 5) {
                zframe_t *command = zmsg_pop (msg);
                zframe_t *service = zmsg_pop (msg);
                zframe_t *id = zmsg_pop (msg);
                zframe_t *timeout = zmsg_pop (msg);
                zframe_t *body = zmsg_pop (msg);
                zmsg_append (reply, &frame);
                zmsg_addmem (reply, &reply_command, 1);
                zmsg_append (reply, &id);
                zmsg_append (reply, &body);
                zmsg_send (&reply, sock);
                zframe_destroy (&command);
                zframe_destroy (&service);
                zframe_destroy (&timeout);
            }
            zframe_destroy (&frame);
            zmsg_destroy (&reply);
            zmsg_destroy (&msg);
        }
    }
    zsock_destroy (&sock);
    return NULL;
}

//  The relay: a bare proxy hop, client ROUTER <-> DEALER to the direct echo
//  server, moving zmq_msg_t parts with no logic, in its own ZeroMQ context
//  (own I/O thread) as a separate broker process would have. It shows what
//  any broker costs just for the extra two socket transits.
typedef struct {
    echo_t base;                    //  endpoint: where clients connect
    char   backend [PATH_MAX];      //  the direct echo server
} relay_t;

static void
s_raw_tune (void *sock)
{
    int zero = 0, hwm = 100000;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

//  Move every message waiting on from (up to a batch) to to.
static void
s_relay_drain (void *from, void *to)
{
    for (int n = 0; n < 256; n++) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            return;
        }
        while (true) {
            int more = zmq_msg_more (&part);
            zmq_msg_send (&part, to, more ? ZMQ_SNDMORE : 0);
            zmq_msg_close (&part);
            if (!more)
                break;
            zmq_msg_init (&part);
            zmq_msg_recv (&part, from, 0);
        }
    }
}

static void *
s_relay_thread (void *arg)
{
    relay_t *self = arg;
    void *ctx = zmq_ctx_new ();
    void *front = zmq_socket (ctx, ZMQ_ROUTER);
    void *back = zmq_socket (ctx, ZMQ_DEALER);
    s_raw_tune (front);
    s_raw_tune (back);
    if (zmq_bind (front, self->base.endpoint) != 0
    ||  zmq_connect (back, self->backend) != 0) {
        atomic_store (&self->base.state, -1);
        zmq_close (front);
        zmq_close (back);
        zmq_ctx_term (ctx);
        return NULL;
    }
    atomic_store (&self->base.state, 1);
    while (!atomic_load (&self->base.stop) && !zsys_interrupted) {
        zmq_pollitem_t items [] = {
            { front, 0, ZMQ_POLLIN, 0 }, { back, 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, 2, 50) <= 0)
            continue;
        if (items [0].revents & ZMQ_POLLIN)
            s_relay_drain (front, back);
        if (items [1].revents & ZMQ_POLLIN)
            s_relay_drain (back, front);
    }
    zmq_close (front);
    zmq_close (back);
    zmq_ctx_term (ctx);
    return NULL;
}

static int
s_echo_start (echo_t *self, void *(*fn) (void *))
{
    atomic_store (&self->stop, false);
    atomic_store (&self->state, 0);
    if (pthread_create (&self->thread, NULL, fn, self) != 0)
        return -1;
    for (int i = 0; i < 5000 && atomic_load (&self->state) == 0; i++)
        zclock_sleep (1);
    if (atomic_load (&self->state) == 1)
        return 0;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    return -1;
}

static void
s_echo_stop (echo_t *self)
{
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
}

//  --- one run ------------------------------------------------------------------

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest-rank percentile of a sorted array.
static double
s_percentile_us (const uint64_t *sorted, uint64_t n, double p)
{
    uint64_t rank = (uint64_t) (p * (double) n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double) sorted [rank - 1] / 1000.0;
}

//  Keep `depth` requests in flight until `count` replies are in.
//  sent_ns and lat_ns have room for count entries.
static int
s_run (driver_t *driver, int depth, uint64_t count, uint64_t *sent_ns,
       uint64_t *lat_ns, result_t *result)
{
    uint8_t body [BENCH_BODY_SIZE];
    uint64_t sent = 0, done = 0, errors = 0;
    uint64_t cpu_started = s_cpu_ns ();
    uint64_t started = s_now_ns ();
    while (done < count) {
        while (sent < count && sent - done < (uint64_t) depth) {
            size_t size = s_body (body, (uint32_t) sent);
            sent_ns [sent] = s_now_ns ();
            if (driver->send (driver->ctx, sent, body, size) != 0) {
                fprintf (stderr, "bus_bench: %s: send %" PRIu64 " failed\n",
                         driver->name, sent);
                return -1;
            }
            sent++;
        }
        uint64_t seq = 0;
        bool ok = false;
        int rc = driver->recv (driver->ctx, BENCH_REPLY_WAIT_MS, &seq, &ok);
        if (rc < 0) {
            fprintf (stderr, "bus_bench: interrupted\n");
            return -1;
        }
        if (rc == 0) {
            fprintf (stderr, "bus_bench: %s: no reply within %d ms "
                     "(%" PRIu64 " sent, %" PRIu64 " answered)\n",
                     driver->name, BENCH_REPLY_WAIT_MS, sent, done);
            return -1;
        }
        uint64_t now = s_now_ns ();
        if (seq >= sent) {
            fprintf (stderr, "bus_bench: %s: reply for a request never sent\n",
                     driver->name);
            return -1;
        }
        lat_ns [done++] = now - sent_ns [seq];
        if (!ok)
            errors++;
    }
    uint64_t elapsed = s_now_ns () - started;
    result->cpu_us = (double) (s_cpu_ns () - cpu_started) / 1000.0 / (double) count;
    qsort (lat_ns, count, sizeof *lat_ns, s_cmp_u64);
    result->p50_us = s_percentile_us (lat_ns, count, 0.50);
    result->p99_us = s_percentile_us (lat_ns, count, 0.99);
    result->rps = (double) count * 1e9 / (double) (elapsed ? elapsed : 1);
    result->errors = errors;
    return 0;
}

//  --- the broker: a child process or an in-process actor ------------------------

typedef struct {
    char      dir [64];             //  mkdtemp under /tmp
    char      endpoint [PATH_MAX];  //  ipc://dir/run/bus
    char      socket_path [PATH_MAX];
    char      bin [PATH_MAX + 32];  //  binary used, or "" in-process
    char      log_path [PATH_MAX];  //  its stdout and stderr
    pid_t     pid;
    zactor_t *actor;
    broker_config_t config;
} broker_host_t;

static bool
s_executable (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

//  Wait until path exists (and the child, if any, is alive).
static int
s_wait_for (broker_host_t *self, const char *path, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (s_exists (path))
            return 0;
        if (self->pid > 0) {
            int status;
            if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
                fprintf (stderr, "bus_bench: %s exited early (status %d)\n",
                         self->bin, status);
                self->pid = 0;
                return -1;
            }
        }
        zclock_sleep (1);
    }
    fprintf (stderr, "bus_bench: %s did not appear within %d ms\n", path, ms);
    return -1;
}

static void
s_dump_log (broker_host_t *self)
{
    FILE *file = fopen (self->log_path, "r");
    if (!file)
        return;
    char line [1024];
    while (fgets (line, sizeof line, file))
        fprintf (stderr, "  broker: %s", line);
    fclose (file);
}

static int
s_broker_start (broker_host_t *self, const char *bin)
{
    snprintf (self->endpoint, sizeof self->endpoint, "ipc://%s/run/bus", self->dir);
    snprintf (self->socket_path, sizeof self->socket_path, "%s/run/bus", self->dir);
    if (bin) {
        snprintf (self->bin, sizeof self->bin, "%s", bin);
        //  its output goes to DIR/broker.log, shown if it fails to come up
        snprintf (self->log_path, sizeof self->log_path, "%s/broker.log", self->dir);
        char *argv [] = { self->bin, "--data-dir", self->dir, "--log-level", "warn", NULL };
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init (&actions);
        posix_spawn_file_actions_addopen (&actions, 1, self->log_path,
                                          O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2 (&actions, 1, 2);
        int rc = posix_spawn (&self->pid, self->bin, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy (&actions);
        if (rc != 0) {
            fprintf (stderr, "bus_bench: cannot start %s: %s\n", self->bin, strerror (rc));
            self->pid = 0;
            return -1;
        }
        if (s_wait_for (self, self->socket_path, 5000) == 0)
            return 0;
        s_dump_log (self);
        return -1;
    }
    self->bin [0] = 0;
    char run [PATH_MAX];
    snprintf (run, sizeof run, "%s/run", self->dir);
    if (mkdir (run, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "bus_bench: mkdir %s: %s\n", run, strerror (errno));
        return -1;
    }
    self->config = (broker_config_t) { .endpoint = self->endpoint };
    self->actor = zactor_new (broker_actor, &self->config);
    if (!self->actor)
        return -1;
    return s_wait_for (self, self->socket_path, 5000);
}

static void
s_broker_stop (broker_host_t *self)
{
    zactor_destroy (&self->actor);
    if (self->pid > 0) {
        kill (self->pid, SIGTERM);
        int status;
        for (int i = 0; i < 2000; i++) {
            if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
                self->pid = 0;
                return;
            }
            zclock_sleep (1);
        }
        kill (self->pid, SIGKILL);
        waitpid (self->pid, &status, 0);
        self->pid = 0;
    }
}

static int
s_rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    remove (path);
    return 0;
}

//  mcpbox-broker next to this binary, or NULL.
static const char *
s_default_broker_bin (char *buf, size_t size)
{
    char self_path [PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len <= 0)
        return NULL;
    self_path [len] = 0;
    char *slash = strrchr (self_path, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    snprintf (buf, size, "%s/mcpbox-broker", self_path);
    return s_executable (buf) ? buf : NULL;
}

//  --- main -------------------------------------------------------------------------

static double
s_median (double *values, int n)
{
    for (int i = 1; i < n; i++)             //  insertion sort, n is small
        for (int j = i; j > 0 && values [j - 1] > values [j]; j--) {
            double t = values [j];
            values [j] = values [j - 1];
            values [j - 1] = t;
        }
    return n % 2 ? values [n / 2] : (values [n / 2 - 1] + values [n / 2]) / 2;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: bus_bench [options]\n"
        "  --broker-bin PATH  mcpbox-broker to run as a child process\n"
        "                     (default: next to this binary; in-process if absent)\n"
        "  --in-process       run broker_actor in this process instead\n"
        "  --requests N       measured requests per run at both depths\n"
        "  --requests1 N      ... at depth 1 only (default 20000)\n"
        "  --requests64 N     ... at depth 64 only (default 200000)\n"
        "  --warmup N         unmeasured requests before each run (default 2000)\n"
        "  --rounds R         repeat and report the median (default 3, at most 64)\n"
        "  --io-threads N     ZeroMQ I/O threads in this process (default 1)\n"
        "  --only PATH        measure only broker, direct or relay (repeatable;\n"
        "                     for profiling, ratios need both paths)\n"
        "  --depth N          measure only depth 1 or 64 (repeatable)\n"
        "  --json             print one JSON object instead of the table\n"
        "  --check            exit 1 when a goal is missed\n");
}

static bool
s_parse_count (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text ? text : "", &end, 10);
    if (errno || !text || !*text || *end || v < min || v > max)
        return false;
    *value = v;
    return true;
}

int
main (int argc, char **argv)
{
    const char *broker_bin = NULL;
    bool in_process = false, json = false, check = false;
    uint64_t counts [DEPTHS] = { 20000, 200000 };
    uint64_t warmup = 2000, rounds = 3, io_threads = 1;
    bool want_path [PATHS] = { false }, want_depth [DEPTHS] = { false };
    bool chose_path = false, chose_depth = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        const char *next = i + 1 < argc ? argv [i + 1] : NULL;
        uint64_t n;
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_usage (stdout);
            return 0;
        }
        else if (streq (arg, "--json"))       json = true;
        else if (streq (arg, "--check"))      check = true;
        else if (streq (arg, "--in-process")) in_process = true;
        else if (streq (arg, "--broker-bin") && next) { broker_bin = next; i++; }
        else if (streq (arg, "--only") && next) {
            int p = 0;
            while (p < PATHS && !streq (next, s_path_names [p]))
                p++;
            if (p == PATHS) {
                fprintf (stderr, "bus_bench: --only takes broker, direct or relay\n");
                return 2;
            }
            want_path [p] = chose_path = true;
            i++;
        }
        else if (streq (arg, "--depth") && next) {
            int d = streq (next, "1") ? DEPTH_1 : streq (next, "64") ? DEPTH_64 : -1;
            if (d < 0) {
                fprintf (stderr, "bus_bench: --depth takes 1 or 64\n");
                return 2;
            }
            want_depth [d] = chose_depth = true;
            i++;
        }
        else if (streq (arg, "--requests") && s_parse_count (next, 100, 100000000, &n)) {
            counts [DEPTH_1] = counts [DEPTH_64] = n; i++;
        }
        else if (streq (arg, "--requests1") && s_parse_count (next, 100, 100000000, &n)) {
            counts [DEPTH_1] = n; i++;
        }
        else if (streq (arg, "--requests64") && s_parse_count (next, 100, 100000000, &n)) {
            counts [DEPTH_64] = n; i++;
        }
        else if (streq (arg, "--warmup") && s_parse_count (next, 0, 10000000, &n)) {
            warmup = n; i++;
        }
        else if (streq (arg, "--rounds") && s_parse_count (next, 1, 64, &n)) {
            rounds = n; i++;
        }
        else if (streq (arg, "--io-threads") && s_parse_count (next, 1, 16, &n)) {
            io_threads = n; i++;
        }
        else {
            fprintf (stderr, "bus_bench: bad argument '%s'\n", arg);
            s_usage (stderr);
            return 2;
        }
    }
    for (int p = 0; p < PATHS; p++)
        want_path [p] = want_path [p] || !chose_path;
    for (int d = 0; d < DEPTHS; d++)
        want_depth [d] = want_depth [d] || !chose_depth;
    char default_bin [PATH_MAX + 32];
    if (broker_bin && !s_executable (broker_bin)) {
        fprintf (stderr, "bus_bench: --broker-bin %s is not an executable\n", broker_bin);
        return 2;
    }
    if (!broker_bin && !in_process)
        broker_bin = s_default_broker_bin (default_bin, sizeof default_bin);
    if (in_process)
        broker_bin = NULL;

    signal (SIGPIPE, SIG_IGN);      //  a closed stdout must not skip the clean-up
    broker_host_t host = { .pid = 0 };
    snprintf (host.dir, sizeof host.dir, "/tmp/mbb-XXXXXX");
    if (!mkdtemp (host.dir)) {
        fprintf (stderr, "bus_bench: mkdtemp: %s\n", strerror (errno));
        return 1;
    }
    int exit_code = 1;
    echo_t worker = { .thread = 0 }, router = { .thread = 0 };
    relay_t relay = { .base.thread = 0 };
    bool worker_up = false, router_up = false, relay_up = false;
    bus_client_t *client = NULL;
    zsock_t *dealer = NULL, *relay_dealer = NULL;
    uint64_t *sent_ns = NULL, *lat_ns = NULL;
    result_t results [64][PATHS][DEPTHS];
    memset (results, 0, sizeof results);

    zsys_set_io_threads (io_threads);
    if (s_broker_start (&host, broker_bin) != 0)
        goto done;
    s_cpu_child = host.pid;

    //  broker path: worker thread, then one call to be sure it registered
    snprintf (worker.endpoint, sizeof worker.endpoint, "%s", host.endpoint);
    if (s_echo_start (&worker, s_worker_thread) != 0) {
        fprintf (stderr, "bus_bench: the echo worker did not start\n");
        goto done;
    }
    worker_up = true;
    client = bus_client_new (host.endpoint);
    if (!client) {
        fprintf (stderr, "bus_bench: cannot connect a client to %s\n", host.endpoint);
        goto done;
    }
    {
        uint8_t body [BENCH_BODY_SIZE];
        size_t size = s_body (body, 0);
        const char *why = NULL;
        msg_t *decoded = msg_decode (body, size, NULL, &why);
        if (!decoded) {
            fprintf (stderr, "bus_bench: the bench body does not decode: %s\n", why);
            goto done;
        }
        msg_destroy (&decoded);
        bus_reply_t *reply = bus_client_call (client, BENCH_SERVICE, body, size, 10000);
        const void *data = bus_reply_body (reply, &size);
        bool echoed = s_body_matches (data, size, 0);
        bus_reply_destroy (&reply);
        if (!echoed) {
            fprintf (stderr, "bus_bench: the first call through the broker failed\n");
            goto done;
        }
    }
    //  direct path
    snprintf (router.endpoint, sizeof router.endpoint, "ipc://%s/direct", host.dir);
    if (s_echo_start (&router, s_router_thread) != 0) {
        fprintf (stderr, "bus_bench: the direct echo server did not start\n");
        goto done;
    }
    router_up = true;
    dealer = zsock_new (ZMQ_DEALER);
    bus_socket_tune (dealer);
    if (zsock_connect (dealer, "%s", router.endpoint) != 0) {
        fprintf (stderr, "bus_bench: cannot connect to %s\n", router.endpoint);
        goto done;
    }

    //  relay path (same client and echo server as direct, plus the hop)
    snprintf (relay.base.endpoint, sizeof relay.base.endpoint, "ipc://%s/relay", host.dir);
    snprintf (relay.backend, sizeof relay.backend, "%s", router.endpoint);
    if (s_echo_start (&relay.base, s_relay_thread) != 0) {
        fprintf (stderr, "bus_bench: the relay did not start\n");
        goto done;
    }
    relay_up = true;
    relay_dealer = zsock_new (ZMQ_DEALER);
    bus_socket_tune (relay_dealer);
    if (zsock_connect (relay_dealer, "%s", relay.base.endpoint) != 0) {
        fprintf (stderr, "bus_bench: cannot connect to %s\n", relay.base.endpoint);
        goto done;
    }

    broker_driver_t broker_ctx = { .client = client };
    direct_driver_t direct_ctx = { .sock = dealer };
    direct_driver_t relay_ctx = { .sock = relay_dealer };
    driver_t drivers [PATHS] = {
        { "broker", &broker_ctx, s_broker_send, s_broker_recv },
        { "direct", &direct_ctx, s_direct_send, s_direct_recv },
        { "relay",  &relay_ctx,  s_direct_send, s_direct_recv },
    };
    uint64_t most = counts [DEPTH_1] > counts [DEPTH_64] ? counts [DEPTH_1] : counts [DEPTH_64];
    if (warmup > most)
        most = warmup;
    sent_ns = malloc (most * sizeof *sent_ns);
    lat_ns = malloc (most * sizeof *lat_ns);
    assert (sent_ns && lat_ns);

    double load_start = 0;
    getloadavg (&load_start, 1);
    if (!json) {
        long cpus = sysconf (_SC_NPROCESSORS_ONLN);
        if (*host.bin)
            printf ("broker: process %s (pid %d)\n", host.bin, (int) host.pid);
        else
            printf ("broker: in-process broker_actor%s\n",
                    in_process ? "" : " (mcpbox-broker not found next to bus_bench)");
        printf ("endpoint %s, %ld CPUs (load average %.2f), %d io thread(s) here, "
                "body %d bytes, %" PRIu64 " round(s) of %" PRIu64 " (depth 1) / %" PRIu64
                " (depth 64) requests after %" PRIu64 " warm-up\n"
                "cpu = CPU time per request of this process plus the broker process\n\n",
                host.endpoint, cpus, load_start, (int) io_threads, BENCH_BODY_SIZE,
                rounds, counts [DEPTH_1], counts [DEPTH_64], warmup);
        fflush (stdout);
    }
    //  Interleave paths within each round so drift hits them alike.
    for (uint64_t r = 0; r < rounds; r++)
        for (int d = 0; d < DEPTHS; d++)
            for (int p = 0; p < PATHS; p++) {
                if (!want_path [p] || !want_depth [d])
                    continue;
                result_t scratch;
                if (warmup && s_run (&drivers [p], s_depths [d], warmup,
                                     sent_ns, lat_ns, &scratch) != 0)
                    goto done;
                result_t *res = &results [r][p][d];
                if (s_run (&drivers [p], s_depths [d], counts [d],
                           sent_ns, lat_ns, res) != 0)
                    goto done;
                if (!json) {
                    printf ("  round %" PRIu64 "  %-6s depth=%-3d p50=%.1fus p99=%.1fus"
                            "  %.0f req/s  cpu=%.1fus/req%s\n", r + 1, s_path_names [p],
                            s_depths [d], res->p50_us, res->p99_us, res->rps, res->cpu_us,
                            res->errors ? "  (ERRORS)" : "");
                    fflush (stdout);
                }
            }

    //  medians over rounds
    result_t med [PATHS][DEPTHS];
    memset (med, 0, sizeof med);
    uint64_t errors = 0;
    for (int p = 0; p < PATHS; p++)
        for (int d = 0; d < DEPTHS; d++) {
            if (!want_path [p] || !want_depth [d])
                continue;
            double p50 [64], p99 [64], rps [64], cpu [64];
            for (uint64_t r = 0; r < rounds; r++) {
                p50 [r] = results [r][p][d].p50_us;
                p99 [r] = results [r][p][d].p99_us;
                rps [r] = results [r][p][d].rps;
                cpu [r] = results [r][p][d].cpu_us;
                med [p][d].errors += results [r][p][d].errors;
            }
            med [p][d].p50_us = s_median (p50, (int) rounds);
            med [p][d].p99_us = s_median (p99, (int) rounds);
            med [p][d].rps = s_median (rps, (int) rounds);
            med [p][d].cpu_us = s_median (cpu, (int) rounds);
            errors += med [p][d].errors;
        }
    //  ratios (0 when a path or depth was not measured)
    bool have_b1 = want_path [PATH_BROKER] && want_depth [DEPTH_1];
    bool have_b64 = want_path [PATH_BROKER] && want_depth [DEPTH_64];
    double ratio_p50 = have_b1 && want_path [PATH_DIRECT]
        ? med [PATH_BROKER][DEPTH_1].p50_us / med [PATH_DIRECT][DEPTH_1].p50_us : 0;
    double ratio_rps = have_b64 && want_path [PATH_DIRECT]
        ? med [PATH_BROKER][DEPTH_64].rps / med [PATH_DIRECT][DEPTH_64].rps : 0;
    double relay_p50 = have_b1 && want_path [PATH_RELAY]
        ? med [PATH_BROKER][DEPTH_1].p50_us / med [PATH_RELAY][DEPTH_1].p50_us : 0;
    double relay_rps = have_b64 && want_path [PATH_RELAY]
        ? med [PATH_BROKER][DEPTH_64].rps / med [PATH_RELAY][DEPTH_64].rps : 0;
    double rps64 = have_b64 ? med [PATH_BROKER][DEPTH_64].rps : 0;
    bool goal_ratio = ratio_p50 > 0 && ratio_p50 < GOAL_P50_RATIO;
    bool goal_rps = rps64 >= GOAL_RPS_64;
    double load_end = 0;
    getloadavg (&load_end, 1);

    if (json) {
        printf ("{\"broker\":{\"mode\":\"%s\",\"bin\":\"%s\"},\"cpus\":%ld,"
                "\"loadavg\":{\"start\":%.2f,\"end\":%.2f},"
                "\"io_threads\":%d,\"body_bytes\":%d,\"rounds\":%" PRIu64 ","
                "\"warmup\":%" PRIu64 ",\"requests\":{\"1\":%" PRIu64 ",\"64\":%" PRIu64 "},"
                "\"results\":{",
                *host.bin ? "process" : "in-process", host.bin,
                sysconf (_SC_NPROCESSORS_ONLN), load_start, load_end, (int) io_threads,
                BENCH_BODY_SIZE, rounds, warmup, counts [DEPTH_1], counts [DEPTH_64]);
        const char *sep = "";
        for (int p = 0; p < PATHS; p++) {
            if (!want_path [p])
                continue;
            printf ("%s\"%s\":{", sep, s_path_names [p]);
            sep = ",";
            const char *sep2 = "";
            for (int d = 0; d < DEPTHS; d++) {
                if (!want_depth [d])
                    continue;
                result_t *m = &med [p][d];
                printf ("%s\"%d\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"rps\":%.0f,"
                        "\"cpu_us_per_req\":%.2f,\"errors\":%" PRIu64 ",\"rounds\":[",
                        sep2, s_depths [d], m->p50_us, m->p99_us, m->rps,
                        m->cpu_us, m->errors);
                sep2 = ",";
                for (uint64_t r = 0; r < rounds; r++) {
                    result_t *x = &results [r][p][d];
                    printf ("%s{\"p50_us\":%.1f,\"p99_us\":%.1f,\"rps\":%.0f,"
                            "\"cpu_us_per_req\":%.2f}",
                            r ? "," : "", x->p50_us, x->p99_us, x->rps, x->cpu_us);
                }
                printf ("]}");
            }
            printf ("}");
        }
        printf ("},\"ratios\":{");
        sep = "";
        if (ratio_p50 > 0) { printf ("%s\"p50_broker_over_direct_depth1\":%.2f", sep, ratio_p50); sep = ","; }
        if (ratio_rps > 0) { printf ("%s\"rps_broker_over_direct_depth64\":%.2f", sep, ratio_rps); sep = ","; }
        if (relay_p50 > 0) { printf ("%s\"p50_broker_over_relay_depth1\":%.2f", sep, relay_p50); sep = ","; }
        if (relay_rps > 0) { printf ("%s\"rps_broker_over_relay_depth64\":%.2f", sep, relay_rps); sep = ","; }
        printf ("},\"goals\":{\"p50_ratio_below\":%.1f,\"p50_ratio_met\":%s,"
                "\"rps_depth64_at_least\":%.0f,\"rps_depth64_met\":%s}}\n",
                GOAL_P50_RATIO, ratio_p50 > 0 ? goal_ratio ? "true" : "false" : "null",
                GOAL_RPS_64, have_b64 ? goal_rps ? "true" : "false" : "null");
    }
    else {
        printf ("\nmedian of %" PRIu64 " round(s):\n", rounds);
        for (int d = 0; d < DEPTHS; d++)
            for (int p = 0; p < PATHS; p++) {
                if (!want_path [p] || !want_depth [d])
                    continue;
                result_t *m = &med [p][d];
                char depth [16];
                snprintf (depth, sizeof depth, "depth=%d", s_depths [d]);
                printf ("%-7s %-9s p50=%7.1fus  p99=%7.1fus  %8.0f req/s  cpu=%5.1fus/req%s\n",
                        s_path_names [p], depth, m->p50_us, m->p99_us, m->rps, m->cpu_us,
                        m->errors ? "  (ERRORS)" : "");
            }
        printf ("\n");
        if (ratio_p50 > 0)
            printf ("ratio p50 broker/direct depth=1: %.2fx (goal < %.1fx) %s\n",
                    ratio_p50, GOAL_P50_RATIO, goal_ratio ? "met" : "MISSED");
        if (ratio_rps > 0)
            printf ("ratio req/s broker/direct depth=64: %.2fx\n", ratio_rps);
        if (relay_p50 > 0)
            printf ("ratio p50 broker/relay depth=1: %.2fx (relay = a bare proxy hop)\n",
                    relay_p50);
        if (relay_rps > 0)
            printf ("ratio req/s broker/relay depth=64: %.2fx\n", relay_rps);
        if (have_b64)
            printf ("depth=64 throughput broker: %.0f req/s (goal >= %.0f) %s\n",
                    rps64, GOAL_RPS_64, goal_rps ? "met" : "MISSED");
        printf ("load average at the end: %.2f (other work on the machine skews latency)\n",
                load_end);
        if (errors)
            printf ("%" PRIu64 " replies were not the expected echo\n", errors);
    }
    bool goals_met = (ratio_p50 == 0 || goal_ratio) && (!have_b64 || goal_rps);
    exit_code = errors ? 1 : check && !goals_met ? 1 : 0;

done:
    free (sent_ns);
    free (lat_ns);
    zsock_destroy (&dealer);
    zsock_destroy (&relay_dealer);
    bus_client_destroy (&client);
    if (relay_up)
        s_echo_stop (&relay.base);
    if (router_up)
        s_echo_stop (&router);
    if (worker_up)
        s_echo_stop (&worker);
    if (exit_code != 0 && *host.bin)
        s_dump_log (&host);
    s_broker_stop (&host);
    nftw (host.dir, s_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return exit_code;
}

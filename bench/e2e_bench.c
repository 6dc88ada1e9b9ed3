/*  e2e_bench.c — tools/call of a trivial approved tool, end to end.

    Two paths, the same tool (async def main(x: int = 1) -> dict:
    return {"y": x + 1}) and the same executors, and a third for scale:

      gateway  HTTP POST /mcp (keep-alive, one MCP session) -> mcpbox-gateway
               -> broker -> executor -> back. N connections, each with one
               request at a time.
      direct   a bus client (bus_client_t) to DATA/run/bus sending the
               sandbox `run` job the gateway would send -> broker ->
               executor -> back. N requests in flight. No gateway.
      ping     JSON-RPC `ping` on the gateway's connections and session:
               HTTP, session lookup, JSON in and out, no bus. The floor of
               any /mcp request.

    Setup (bounded; everything is stopped and removed at the end): a fresh
    data dir /tmp/mbe2eXXXXXX, `mcpbox up --data-dir D --http-port P
    --executors 2` from the binaries next to this one (its own process
    group, output in D/up.log), wait for `mcpbox status` to exit 0, then
    over MCP: initialize, mcpbox_create_server, mcpbox_create_tool,
    mcpbox_request_publish; `mcpbox approvals approve tool ID`;
    mcpbox_start_server; poll tools/list until bench__add is listed.

    Each path runs --calls calls at concurrency 1 and 16 (after --warmup
    unmeasured ones), --rounds times, paths interleaved within a round;
    the report gives the median over rounds of p50, p99 and calls/s, the
    CPU time per call of each process (from /proc: gateway, broker,
    executors with their sandbox children, the rest of `up`, and this
    bench), and the ratios gateway/direct. Every reply is checked
    (y == x + 1, JSON-RPC id); any wrong reply fails the run.

    --logs measures what the execution log costs instead: two more
    gateways on the same system (broker, executors, logkeeper), started by
    this bench, one with execution_logs on and one with it off, and the
    gateway path through each, interleaved within every round (the order
    alternating by round). It reports both, the ratio on/off, logkeeper's
    CPU per call, and checks in the database file that the execution log
    holds exactly one row per call through the "on" gateway and none
    through the "off" one.

    usage: e2e_bench [--calls N] [--warmup N] [--rounds R] [--conc N]...
                     [--port P] [--logs] [--json] [--check] [--keep]
*/
#include <czmq.h>
#include <jansson.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "bus.h"
#include "msg.h"

extern char **environ;

#define TOOL_CODE "async def main(x: int = 1) -> dict:\n    return {\"y\": x + 1}\n"
#define CALL_TIMEOUT_MS 10000
#define CONC_MAX 64

static char s_bin_dir [1024];
static char s_data_dir [64];
static pid_t s_up_pid;
static int s_port;
static char s_session [128];
static bool s_keep;
static bus_client_t *s_client;
//  --logs: the two extra gateways, [0] execution_logs on, [1] off
static pid_t s_gw_pid [2];
static int s_gw_port [2];
static char s_gw_session [2][128];

//  CPU columns
enum { CPU_GATEWAY, CPU_BROKER, CPU_EXECUTORS, CPU_LOGKEEPER, CPU_OTHERS, CPU_BENCH, CPU_TOTAL,
       CPU_N };
static const char *s_cpu_names [CPU_N] = { "gateway", "broker", "executors", "logkeeper",
                                           "others", "bench", "total" };
typedef struct { double p50_us, p99_us, per_s; double cpu_us [CPU_N]; } figures_t;

//  --- small things --------------------------------------------------------------

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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
    return values [(int) (p * (count - 1) + 0.5)];
}

static void
s_cleanup (void)
{
    bus_client_destroy (&s_client);
    for (int i = 0; i < 2; i++)
        if (s_gw_pid [i] > 0) {
            kill (s_gw_pid [i], SIGTERM);
            int status;
            bool gone = false;
            for (int j = 0; j < 200 && !gone; j++)      //  10 s
                if (waitpid (s_gw_pid [i], &status, WNOHANG) == s_gw_pid [i])
                    gone = true;
                else
                    usleep (50000);
            if (!gone) {
                kill (s_gw_pid [i], SIGKILL);
                waitpid (s_gw_pid [i], &status, 0);
            }
            s_gw_pid [i] = 0;
        }
    if (s_up_pid > 0) {
        kill (s_up_pid, SIGTERM);
        int status;
        bool gone = false;
        for (int i = 0; i < 200 && !gone; i++) {       //  10 s
            if (waitpid (s_up_pid, &status, WNOHANG) == s_up_pid)
                gone = true;
            else
                usleep (50000);
        }
        if (!gone) {
            fprintf (stderr, "e2e_bench: mcpbox up did not stop in 10 s; killing its group\n");
            kill (-s_up_pid, SIGKILL);
            waitpid (s_up_pid, &status, 0);
        }
        //  anything of the group still around (it should not be)
        kill (-s_up_pid, SIGTERM);
        s_up_pid = 0;
    }
    if (*s_data_dir && !s_keep) {
        char command [128];
        snprintf (command, sizeof command, "rm -rf %s", s_data_dir);
        if (system (command) != 0)
            fprintf (stderr, "e2e_bench: could not remove %s\n", s_data_dir);
        *s_data_dir = 0;
    }
}

static void
s_die (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "e2e_bench: ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    if (*s_data_dir) {
        char command [160];
        snprintf (command, sizeof command, "tail -n 30 %s/up.log >&2", s_data_dir);
        if (system (command) != 0)
            fprintf (stderr, "(no up.log)\n");
    }
    s_cleanup ();
    exit (1);
}

static void
s_on_signal (int sig)
{
    (void) sig;
    for (int i = 0; i < 2; i++)
        if (s_gw_pid [i] > 0)
            kill (s_gw_pid [i], SIGTERM);
    if (s_up_pid > 0)
        kill (-s_up_pid, SIGTERM);
    _exit (1);
}

//  Run bin_dir/mcpbox with args (NULL-terminated); its exit code, -1 on a
//  failure to run. Output to D/cli.log.
static int
s_mcpbox (const char *const *args)
{
    char path [1100], log [128];
    snprintf (path, sizeof path, "%s/mcpbox", s_bin_dir);
    snprintf (log, sizeof log, "%s/cli.log", s_data_dir);
    char *argv [16] = { path };
    int n = 1;
    for (; args [n - 1] && n < 15; n++)
        argv [n] = (char *) args [n - 1];
    argv [n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn (&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
        return -1;
    return WEXITSTATUS (status);
}

//  --- CPU time from /proc ---------------------------------------------------------

typedef struct { pid_t pid, ppid; char comm [32]; double ticks; } proc_t;

//  Every descendant of the `up` process (and up itself), and the extra
//  gateways of --logs: live time plus the time of reaped children, so a
//  finished sandbox child is counted once, in its reaper.
static void
s_cpu_sample (double out [CPU_N])
{
    static proc_t procs [4096];
    int count = 0;
    DIR *dir = opendir ("/proc");
    struct dirent *entry;
    while (dir && (entry = readdir (dir)) && count < 4096) {
        if (entry->d_name [0] < '1' || entry->d_name [0] > '9')
            continue;
        char path [300], line [1024];
        snprintf (path, sizeof path, "/proc/%s/stat", entry->d_name);
        FILE *file = fopen (path, "r");
        if (!file)
            continue;
        size_t n = fread (line, 1, sizeof line - 1, file);
        fclose (file);
        line [n] = 0;
        char *open = strchr (line, '('), *close = strrchr (line, ')');
        if (!open || !close)
            continue;
        proc_t *p = &procs [count];
        p->pid = atoi (line);
        snprintf (p->comm, sizeof p->comm, "%.*s", (int) (close - open - 1), open + 1);
        //  after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
        //  majflt cmajflt utime stime cutime cstime
        char state;
        int ppid;
        unsigned long long skip, ut, st, cut, cst;
        long long cut_s, cst_s;
        if (sscanf (close + 2, "%c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %lld %lld",
                    &state, &ppid, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                    &skip, &skip, &ut, &st, &cut_s, &cst_s) != 15)
            continue;
        cut = (unsigned long long) cut_s;
        cst = (unsigned long long) cst_s;
        p->ppid = ppid;
        p->ticks = (double) (ut + st + cut + cst);
        count++;
    }
    if (dir)
        closedir (dir);
    double tick_us = 1e6 / (double) sysconf (_SC_CLK_TCK);
    for (int c = 0; c < CPU_N; c++)
        out [c] = 0;
    for (int i = 0; i < count; i++) {
        //  walk up to the child of `up` this process belongs to
        proc_t *p = &procs [i], *top = NULL;
        bool ours = p->pid == s_up_pid;
        for (int hops = 0; !ours && hops < 16; hops++) {
            if (p->ppid == s_up_pid
            ||  (p->pid > 0 && (p->pid == s_gw_pid [0] || p->pid == s_gw_pid [1]))) {
                ours = true;
                top = p;
                break;
            }
            proc_t *parent = NULL;
            for (int j = 0; j < count && !parent; j++)
                if (procs [j].pid == p->ppid)
                    parent = &procs [j];
            if (!parent)
                break;
            p = parent;
        }
        if (!ours)
            continue;
        double us = procs [i].ticks * tick_us;
        int column = CPU_OTHERS;
        if (top && strcmp (top->comm, "mcpbox-gateway") == 0)
            column = CPU_GATEWAY;
        else
        if (top && strcmp (top->comm, "mcpbox-broker") == 0)
            column = CPU_BROKER;
        else
        if (top && strncmp (top->comm, "mcpbox-executor", 15) == 0)
            column = CPU_EXECUTORS;
        else
        if (top && strncmp (top->comm, "mcpbox-logkeeper", 15) == 0)
            column = CPU_LOGKEEPER;
        out [column] += us;
        out [CPU_TOTAL] += us;
    }
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    out [CPU_BENCH] = (double) ru.ru_utime.tv_sec * 1e6 + (double) ru.ru_utime.tv_usec
                    + (double) ru.ru_stime.tv_sec * 1e6 + (double) ru.ru_stime.tv_usec;
    out [CPU_TOTAL] += out [CPU_BENCH];
}

//  --- HTTP/1.1 keep-alive client ----------------------------------------------------

typedef struct {
    int     fd;
    int     port;                   //  the gateway's
    const char *session;            //  Mcp-Session-Id ("" before initialize)
    char   *buf;
    size_t  len, cap;
    int     status;
    size_t  body_at, body_len;      //  of a complete response
    int     x;                      //  argument of the call in flight
    int64_t t0;
} conn_t;

static void
s_conn_open (conn_t *c, int port, const char *session)
{
    memset (c, 0, sizeof *c);
    c->port = port;
    c->session = session;
    c->fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (c->fd < 0 || connect (c->fd, (struct sockaddr *) &addr, sizeof addr) != 0)
        s_die ("cannot connect to 127.0.0.1:%d: %s", port, strerror (errno));
    int one = 1;
    setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->cap = 65536;
    c->buf = malloc (c->cap);
    assert (c->buf);
}

static void
s_conn_close (conn_t *c)
{
    if (c->fd >= 0)
        close (c->fd);
    free (c->buf);
    c->fd = -1;
    c->buf = NULL;
}

static void
s_conn_send (conn_t *c, const char *body)
{
    size_t body_len = strlen (body);
    char head [512];
    int head_len = snprintf (head, sizeof head,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        "Accept: application/json, text/event-stream\r\n"
        "Content-Type: application/json\r\n"
        "%s%s%s"
        "Content-Length: %zu\r\n\r\n", c->port,
        *c->session ? "Mcp-Session-Id: " : "", c->session,
        *c->session ? "\r\nMCP-Protocol-Version: 2025-11-25\r\n" : "", body_len);
    //  one write: headers and body in one segment
    size_t total = (size_t) head_len + body_len;
    char *out = malloc (total);
    assert (out);
    memcpy (out, head, (size_t) head_len);
    memcpy (out + head_len, body, body_len);
    size_t done = 0;
    while (done < total) {
        ssize_t n = send (c->fd, out + done, total - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            s_die ("send: %s", strerror (errno));
        done += (size_t) n;
    }
    free (out);
    c->len = 0;
    c->status = 0;
}

//  Find a header's value in the header block [buf, end). Copies it into out.
static bool
s_find_header (const char *buf, const char *end, const char *name, char *out, size_t size)
{
    size_t nlen = strlen (name);
    const char *p = memchr (buf, '\n', (size_t) (end - buf));
    while (p && p < end) {
        p++;
        const char *eol = memchr (p, '\n', (size_t) (end - p));
        if (!eol)
            eol = end;
        if ((size_t) (eol - p) > nlen && strncasecmp (p, name, nlen) == 0 && p [nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve [-1] == '\r' || ve [-1] == ' '))
                ve--;
            snprintf (out, size, "%.*s", (int) (ve - v), v);
            return true;
        }
        p = eol;
    }
    return false;
}

//  Read what is there; true when a whole response has arrived.
static bool
s_conn_read (conn_t *c)
{
    if (c->cap - c->len < 16384) {
        c->cap *= 2;
        c->buf = realloc (c->buf, c->cap);
        assert (c->buf);
    }
    ssize_t n = recv (c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (n < 0 && errno == EINTR)
        return false;
    if (n <= 0)
        s_die ("the gateway closed a connection (%s)", n < 0 ? strerror (errno) : "EOF");
    c->len += (size_t) n;
    c->buf [c->len] = 0;
    char *end = strstr (c->buf, "\r\n\r\n");
    if (!end)
        return false;
    char value [64];
    if (!s_find_header (c->buf, end, "content-length", value, sizeof value))
        s_die ("a response without Content-Length: %.200s", c->buf);
    size_t length = (size_t) strtoull (value, NULL, 10);
    c->body_at = (size_t) (end + 4 - c->buf);
    if (c->len < c->body_at + length)
        return false;
    if (c->len > c->body_at + length)
        s_die ("more than one response on a connection");
    c->body_len = length;
    c->status = atoi (c->buf + 9);
    if (s_find_header (c->buf, end, "connection", value, sizeof value)
    &&  strcasecmp (value, "close") == 0)
        s_die ("the gateway closes the connection: no keep-alive");
    return true;
}

//  One request, waiting (setup). Returns the parsed JSON body (NULL for an
//  empty one); *status set.
static json_t *
s_post (conn_t *c, json_t *message, int *status, char *session_out, size_t session_size)
{
    char *text = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    s_conn_send (c, text);
    free (text);
    int64_t deadline = s_now_us () + 60 * 1000000LL;
    for (;;) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        if (s_now_us () > deadline)
            s_die ("no HTTP answer in 60 s");
        if (poll (&pfd, 1, 1000) > 0 && s_conn_read (c))
            break;
    }
    *status = c->status;
    if (session_out) {
        char *end = strstr (c->buf, "\r\n\r\n");
        if (!s_find_header (c->buf, end, "mcp-session-id", session_out, session_size))
            *session_out = 0;
    }
    if (!c->body_len)
        return NULL;
    json_error_t jerr;
    json_t *body = json_loadb (c->buf + c->body_at, c->body_len, 0, &jerr);
    if (!body)
        s_die ("not JSON (%s): %.300s", jerr.text, c->buf + c->body_at);
    return body;
}

static json_t *
s_rpc (conn_t *c, const char *method, json_t *params)
{
    static int id = 1000000;
    json_t *message = json_pack ("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", ++id,
                                 "method", method, "params", params);
    int status;
    json_t *reply = s_post (c, message, &status, NULL, 0);
    if (status != 200 || !reply || !json_object_get (reply, "result")) {
        char *text = reply ? json_dumps (reply, 0) : NULL;
        s_die ("%s: HTTP %d %s", method, status, text ? text : "");
    }
    return reply;
}

//  tools/call of a management tool: its structuredContent (owned reply
//  kept in *reply_p).
static json_t *
s_manage (conn_t *c, const char *tool, json_t *arguments, json_t **reply_p)
{
    json_t *reply = s_rpc (c, "tools/call", json_pack ("{s:s, s:o}", "name", tool,
                                                        "arguments", arguments));
    json_t *result = json_object_get (reply, "result");
    if (json_is_true (json_object_get (result, "isError"))) {
        char *text = json_dumps (result, 0);
        s_die ("%s failed: %s", tool, text);
    }
    *reply_p = reply;
    return json_object_get (result, "structuredContent");
}

//  --- setup ---------------------------------------------------------------------------

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0
    ||  getsockname (fd, (struct sockaddr *) &addr, &len) != 0)
        s_die ("cannot find a free port");
    close (fd);
    return ntohs (addr.sin_port);
}

static void
s_start_up (void)
{
    char path [1100], port [16], log [128];
    snprintf (path, sizeof path, "%s/mcpbox", s_bin_dir);
    snprintf (port, sizeof port, "%d", s_port);
    snprintf (log, sizeof log, "%s/up.log", s_data_dir);
    char *argv [] = { path, "up", "--data-dir", s_data_dir, "--http-port", port,
                      "--executors", "2", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init (&attr);
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup (&attr, 0);      //  its own group: cleanup can reach it all
    int rc = posix_spawn (&s_up_pid, path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    if (rc != 0) {
        s_up_pid = 0;
        s_die ("cannot start %s: %s", path, strerror (rc));
    }
    const char *status [] = { "status", "--data-dir", s_data_dir, NULL };
    int64_t deadline = s_now_us () + 60 * 1000000LL;
    while (s_mcpbox (status) != 0) {
        if (waitpid (s_up_pid, NULL, WNOHANG) == s_up_pid) {
            s_up_pid = 0;
            s_die ("mcpbox up exited");
        }
        if (s_now_us () > deadline)
            s_die ("mcpbox status not ok after 60 s");
        usleep (200000);
    }
}

static bool
s_listed (conn_t *c, const char *name)
{
    json_t *cursor = NULL;
    for (int page = 0; page < 50; page++) {
        json_t *params = cursor ? json_pack ("{s:O}", "cursor", cursor) : json_object ();
        json_decref (cursor);
        cursor = NULL;
        json_t *reply = s_rpc (c, "tools/list", params);
        json_t *result = json_object_get (reply, "result");
        size_t index;
        json_t *tool;
        bool found = false;
        json_array_foreach (json_object_get (result, "tools"), index, tool)
            if (strcmp (json_string_value (json_object_get (tool, "name")) ? json_string_value (json_object_get (tool, "name")) : "", name) == 0)
                found = true;
        json_t *next = json_object_get (result, "nextCursor");
        if (json_is_string (next))
            cursor = json_incref (next);
        json_decref (reply);
        if (found || !cursor) {
            json_decref (cursor);
            return found;
        }
    }
    json_decref (cursor);
    return false;
}

//  An MCP session on the gateway at port: initialize (session id into
//  session), notifications/initialized. c is left open on it.
static void
s_session_open (conn_t *c, int port, char *session, size_t size)
{
    *session = 0;
    s_conn_open (c, port, session);
    int status;
    json_t *reply = s_post (c, json_pack ("{s:s, s:i, s:s, s:{s:s, s:{}, s:{s:s, s:s}}}",
        "jsonrpc", "2.0", "id", 1, "method", "initialize", "params",
        "protocolVersion", "2025-11-25", "capabilities", "clientInfo", "name", "e2e_bench",
        "version", "1"), &status, session, size);
    if (status != 200 || !*session)
        s_die ("initialize on port %d: HTTP %d, no session", port, status);
    json_decref (reply);
    reply = s_post (c, json_pack ("{s:s, s:s}", "jsonrpc", "2.0", "method",
                                  "notifications/initialized"), &status, NULL, 0);
    json_decref (reply);
    if (status != 202)
        s_die ("notifications/initialized: HTTP %d", status);
}

static void
s_setup_tool (void)
{
    conn_t c;
    s_session_open (&c, s_port, s_session, sizeof s_session);

    json_t *r1, *r2, *r3, *r4;
    json_t *server = s_manage (&c, "mcpbox_create_server", json_pack ("{s:s}", "name", "bench"), &r1);
    const char *server_id = json_string_value (json_object_get (server, "id"));
    if (!server_id)
        s_die ("mcpbox_create_server: no id");
    json_t *tool = s_manage (&c, "mcpbox_create_tool", json_pack ("{s:s, s:s, s:s}",
        "server_id", server_id, "name", "add", "python_code", TOOL_CODE), &r2);
    const char *tool_id = json_string_value (json_object_get (tool, "id"));
    if (!tool_id)
        s_die ("mcpbox_create_tool: no id");
    s_manage (&c, "mcpbox_request_publish", json_pack ("{s:s}", "tool_id", tool_id), &r3);
    const char *approve [] = { "approvals", "approve", "tool", tool_id, "--data-dir",
                               s_data_dir, NULL };
    if (s_mcpbox (approve) != 0)
        s_die ("mcpbox approvals approve tool %s failed", tool_id);
    //  the bench's one session makes more calls than the default budget
    //  (300 a minute per client); 10000, the most the policy takes, lasts
    //  about a minute at 500 calls/s, which --calls should stay under
    const char *rpm [] = { "policy", "set", "mcp_rate_limit_rpm", "10000", "--data-dir",
                           s_data_dir, NULL };
    if (s_mcpbox (rpm) != 0)
        s_die ("mcpbox policy set mcp_rate_limit_rpm failed");
    s_manage (&c, "mcpbox_start_server", json_pack ("{s:s}", "server_id", server_id), &r4);
    json_decref (r1);
    json_decref (r2);
    json_decref (r3);
    json_decref (r4);
    int64_t deadline = s_now_us () + 30 * 1000000LL;
    while (!s_listed (&c, "bench__add")) {
        if (s_now_us () > deadline)
            s_die ("bench__add not listed after 30 s");
        usleep (100000);
    }
    s_conn_close (&c);
}

//  --- --logs: two more gateways, execution_logs on and off --------------------------

//  mcpbox-gateway --data-dir D --http-port P --execution-logs=on|off, a
//  child of this bench, output in D/gateway-on|off.log; waits until it
//  answers initialize and bench__add is listed.
static void
s_gateway_start (int which)
{
    const char *mode = which ? "off" : "on";
    char path [1100], port [16], log [128], flag [32];
    snprintf (path, sizeof path, "%s/mcpbox-gateway", s_bin_dir);
    snprintf (flag, sizeof flag, "--execution-logs=%s", mode);
    s_gw_port [which] = s_free_port ();
    snprintf (port, sizeof port, "%d", s_gw_port [which]);
    snprintf (log, sizeof log, "%s/gateway-%s.log", s_data_dir, mode);
    char *argv [] = { path, "--data-dir", s_data_dir, "--http-port", port,
                      flag, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
    int rc = posix_spawn (&s_gw_pid [which], path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    if (rc != 0) {
        s_gw_pid [which] = 0;
        s_die ("cannot start %s: %s", path, strerror (rc));
    }
    int64_t deadline = s_now_us () + 30 * 1000000LL;
    for (;;) {
        if (waitpid (s_gw_pid [which], NULL, WNOHANG) == s_gw_pid [which]) {
            s_gw_pid [which] = 0;
            s_die ("the execution_logs=%s gateway exited (see %s)", mode, log);
        }
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET,
                                    .sin_port = htons ((uint16_t) s_gw_port [which]) };
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        bool listening = fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
        if (fd >= 0)
            close (fd);
        if (listening)
            break;
        if (s_now_us () > deadline)
            s_die ("the execution_logs=%s gateway does not listen after 30 s", mode);
        usleep (100000);
    }
    conn_t c;
    s_session_open (&c, s_gw_port [which], s_gw_session [which], sizeof s_gw_session [which]);
    while (!s_listed (&c, "bench__add")) {
        if (s_now_us () > deadline)
            s_die ("bench__add not listed by the execution_logs=%s gateway", mode);
        usleep (100000);
    }
    s_conn_close (&c);
}

//  Rows in the execution log of each session (on, off), read from the
//  database file once logkeeper has written what the spools held: waits
//  up to 30 s for the "on" count to reach expected.
static void
s_logged_rows (int64_t expected, int64_t counts [2])
{
    char path [128];
    snprintf (path, sizeof path, "%s/mcpbox.db", s_data_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        s_die ("cannot open %s", path);
    sqlite3_busy_timeout (db, 5000);
    int64_t deadline = s_now_us () + 30 * 1000000LL;
    for (;;) {
        for (int i = 0; i < 2; i++) {
            sqlite3_stmt *stmt = NULL;
            counts [i] = -1;
            if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM execution_logs WHERE session_id = ?",
                                    -1, &stmt, NULL) == SQLITE_OK
            &&  sqlite3_bind_text (stmt, 1, s_gw_session [i], -1, SQLITE_STATIC) == SQLITE_OK
            &&  sqlite3_step (stmt) == SQLITE_ROW)
                counts [i] = sqlite3_column_int64 (stmt, 0);
            sqlite3_finalize (stmt);
        }
        if (counts [0] >= expected || s_now_us () > deadline)
            break;
        usleep (200000);
    }
    sqlite3_close (db);
}

//  --- the gateway path ------------------------------------------------------------------

static void
s_call_send (conn_t *c, int x, bool ping)
{
    char body [256];
    if (ping)
        snprintf (body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}", x);
    else
        snprintf (body, sizeof body,
                  "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
                  "{\"name\":\"bench__add\",\"arguments\":{\"x\":%d}}}", x, x);
    c->x = x;
    c->t0 = s_now_us ();
    s_conn_send (c, body);
}

static void
s_call_check (conn_t *c, bool ping)
{
    json_error_t jerr;
    json_t *reply = c->status == 200
                  ? json_loadb (c->buf + c->body_at, c->body_len, 0, &jerr) : NULL;
    json_t *result = json_object_get (reply, "result");
    json_t *y = json_object_get (json_object_get (result, "structuredContent"), "y");
    if (ping && json_is_object (result) && !json_object_size (result))
        y = json_integer (c->x + 1);
    else
        json_incref (y);
    if (!json_is_integer (json_object_get (reply, "id"))
    ||  json_integer_value (json_object_get (reply, "id")) != c->x
    ||  json_is_true (json_object_get (result, "isError"))
    ||  !json_is_integer (y) || json_integer_value (y) != c->x + 1)
        s_die ("wrong reply to x=%d (HTTP %d): %.400s", c->x, c->status,
               c->buf + c->body_at);
    json_decref (y);
    json_decref (reply);
}

//  Fresh connections for every run: the gateway closes a keep-alive
//  connection idle for 5 s (HTTP_KEEPALIVE_S), as other runs take longer.
//  Connecting is part of the warm-up, not measured.
static figures_t
s_gateway (int port, const char *session, int conc, int calls, int warmup, bool ping)
{
    conn_t conns [CONC_MAX];
    for (int i = 0; i < conc; i++)
        s_conn_open (&conns [i], port, session);
    double *lat = calloc ((size_t) calls, sizeof *lat);
    struct pollfd pfds [CONC_MAX];
    double cpu0 [CPU_N], cpu1 [CPU_N];
    int64_t begin = 0;
    for (int phase = 0; phase < 2; phase++) {
        int total = phase ? calls : warmup;
        if (!total)
            continue;
        if (phase) {
            s_cpu_sample (cpu0);
            begin = s_now_us ();
        }
        int sent = 0, done = 0;
        for (int i = 0; i < conc && sent < total; i++)
            s_call_send (&conns [i], sent++, ping);
        while (done < total) {
            for (int i = 0; i < conc; i++)
                pfds [i] = (struct pollfd) { .fd = conns [i].fd, .events = POLLIN };
            int ready = poll (pfds, (nfds_t) conc, CALL_TIMEOUT_MS);
            if (ready == 0)
                s_die ("no reply from the gateway in %d ms", CALL_TIMEOUT_MS);
            for (int i = 0; i < conc; i++) {
                if (!(pfds [i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                conn_t *c = &conns [i];
                if (!s_conn_read (c))
                    continue;
                int64_t now = s_now_us ();
                s_call_check (c, ping);
                if (phase)
                    lat [done] = (double) (now - c->t0);
                done++;
                if (sent < total)
                    s_call_send (c, sent++, ping);
            }
        }
    }
    double elapsed = (double) (s_now_us () - begin) / 1e6;
    s_cpu_sample (cpu1);
    figures_t f = { s_percentile (lat, calls, 0.5), s_percentile (lat, calls, 0.99),
                    calls / elapsed, { 0 } };
    for (int k = 0; k < CPU_N; k++)
        f.cpu_us [k] = (cpu1 [k] - cpu0 [k]) / calls;
    free (lat);
    for (int i = 0; i < conc; i++)
        s_conn_close (&conns [i]);
    return f;
}

//  --- the direct path (bus client -> broker -> executors) --------------------------------

static msgw_t *
s_job (int x)
{
    //  what mcp_user_tools.c sends for this tool (a new server: no hosts,
    //  allowlist, no modules list), plus op
    msgw_t *w = msgw_new ();
    msgw_map (w, 6);
    msgw_kv_str (w, "op", "run");
    msgw_kv_str (w, "code", TOOL_CODE);
    msgw_str (w, "arguments");
    msgw_map (w, 1);
    msgw_kv_int (w, "x", x);
    msgw_str (w, "allowed_hosts");
    msgw_array (w, 0);
    msgw_kv_str (w, "network_policy", "allowlist");
    msgw_kv_int (w, "timeout_ms", 30000);
    return w;
}

static void
s_job_check (bus_reply_t *reply, int x)
{
    msg_t *msg = bus_reply_decode (reply, NULL);
    bool success = false;
    const char *text = NULL;
    size_t len = 0;
    if (!msg || !msg_is_ok (msg) || msg_get_bool (msg_root (msg), "success", &success)
    ||  !success || msg_get_str (msg_root (msg), "result_json", &text, &len))
        s_die ("a direct call failed (%s)", msg ? msg_error_message (msg) : "malformed");
    json_t *value = json_loadb (text, len, 0, NULL);
    json_t *y = json_object_get (value, "y");
    if (!json_is_integer (y) || json_integer_value (y) != x + 1)
        s_die ("wrong direct reply to x=%d: %.*s", x, (int) len, text);
    json_decref (value);
    msg_destroy (&msg);
}

static figures_t
s_direct (bus_client_t *client, int depth, int calls, int warmup)
{
    double *lat = calloc ((size_t) calls, sizeof *lat);
    int cap = calls > warmup ? calls : warmup;
    int64_t *starts = calloc ((size_t) cap, sizeof *starts);
    uint64_t *ids = calloc ((size_t) cap, sizeof *ids);
    double cpu0 [CPU_N], cpu1 [CPU_N];
    int64_t begin = 0;
    for (int phase = 0; phase < 2; phase++) {
        int total = phase ? calls : warmup;
        if (!total)
            continue;
        if (phase) {
            s_cpu_sample (cpu0);
            begin = s_now_us ();
        }
        int sent = 0, done = 0, oldest = 0;
        while (done < total) {
            while (sent < total && sent - done < depth) {
                msgw_t *w = s_job (sent);
                starts [sent] = s_now_us ();
                ids [sent] = bus_client_send (client, "sandbox", msgw_data (w), msgw_size (w),
                                              CALL_TIMEOUT_MS);
                if (!ids [sent])
                    s_die ("bus_client_send refused a request");
                sent++;
                msgw_destroy (&w);
            }
            bus_reply_t *reply = bus_client_recv (client, CALL_TIMEOUT_MS + 5000);
            if (!reply)
                s_die ("no reply through the broker");
            int64_t now = s_now_us ();
            uint64_t id = bus_reply_id (reply);
            int i = sent - 1;
            while (i >= oldest && ids [i] != id)
                i--;
            if (i < oldest)
                s_die ("a reply to an unknown request");
            s_job_check (reply, i);
            ids [i] = 0;
            while (oldest < sent && !ids [oldest])
                oldest++;
            if (phase)
                lat [done] = (double) (now - starts [i]);
            done++;
            bus_reply_destroy (&reply);
        }
    }
    double elapsed = (double) (s_now_us () - begin) / 1e6;
    s_cpu_sample (cpu1);
    figures_t f = { s_percentile (lat, calls, 0.5), s_percentile (lat, calls, 0.99),
                    calls / elapsed, { 0 } };
    for (int k = 0; k < CPU_N; k++)
        f.cpu_us [k] = (cpu1 [k] - cpu0 [k]) / calls;
    free (lat);
    free (starts);
    free (ids);
    return f;
}

//  --- main --------------------------------------------------------------------------------

static figures_t
s_median_of (figures_t *rounds, int count)
{
    double a [32], b [32], c [32], d [CPU_N][32];
    for (int i = 0; i < count; i++) {
        a [i] = rounds [i].p50_us;
        b [i] = rounds [i].p99_us;
        c [i] = rounds [i].per_s;
        for (int k = 0; k < CPU_N; k++)
            d [k][i] = rounds [i].cpu_us [k];
    }
    figures_t f = { s_percentile (a, count, 0.5), s_percentile (b, count, 0.5),
                    s_percentile (c, count, 0.5), { 0 } };
    for (int k = 0; k < CPU_N; k++)
        f.cpu_us [k] = s_percentile (d [k], count, 0.5);
    return f;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: e2e_bench [--calls N] [--warmup N] [--rounds R] [--conc N]... "
                     "[--port P] [--logs] [--json] [--check] [--keep]\n");
    exit (2);
}

//  CPU per call of the processes a log record goes through: the gateway
//  (its spool thread), the broker and logkeeper. The executors' share is
//  the same work on and off, and dominates the total with its noise.
static double
s_log_path_cpu (const figures_t *f)
{
    return f->cpu_us [CPU_GATEWAY] + f->cpu_us [CPU_BROKER] + f->cpu_us [CPU_LOGKEEPER];
}

//  --logs: gateway path through the execution_logs=on and =off gateways,
//  interleaved (on first in even rounds, off first in odd ones); then the
//  rows check and the report. Exit status: 1 when the rows are wrong.
static int
s_logs_run (int calls, int warmup, int rounds, const int *concs, int nconc, bool json,
            double setup_s)
{
    s_gateway_start (0);
    s_gateway_start (1);
    static figures_t samples [2][8][32];    //  on/off, conc, round
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < nconc; k++)
            for (int j = 0; j < 2; j++) {
                int which = (r % 2) ? 1 - j : j;
                samples [which][k][r] = s_gateway (s_gw_port [which], s_gw_session [which],
                                                   concs [k], calls, warmup, false);
            }
    figures_t med [2][8];
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < nconc; k++)
            med [p][k] = s_median_of (samples [p][k], rounds);
    double load [3] = { 0 };
    if (getloadavg (load, 3) < 0)
        load [0] = load [1] = load [2] = -1;
    int64_t expected = (int64_t) rounds * nconc * (calls + warmup);
    int64_t rows [2];
    s_logged_rows (expected, rows);
    bool rows_ok = rows [0] == expected && rows [1] == 0;
    s_cleanup ();

    const char *paths [2] = { "logs-on", "logs-off" };
    if (json) {
        printf ("{\"mode\":\"logs\",\"calls\":%d,\"warmup\":%d,\"rounds\":%d,"
                "\"setup_s\":%.1f,\"loadavg\":[%.2f,%.2f,%.2f],\"execution_log_rows\":"
                "{\"on\":%lld,\"off\":%lld,\"expected_on\":%lld},\"runs\":[",
                calls, warmup, rounds, setup_s, load [0], load [1], load [2],
                (long long) rows [0], (long long) rows [1], (long long) expected);
        for (int p = 0; p < 2; p++)
            for (int k = 0; k < nconc; k++) {
                figures_t *f = &med [p][k];
                printf ("%s{\"path\":\"%s\",\"concurrency\":%d,\"p50_us\":%.0f,"
                        "\"p99_us\":%.0f,\"calls_per_s\":%.0f,\"cpu_us_per_call\":{",
                        p || k ? "," : "", paths [p], concs [k], f->p50_us, f->p99_us, f->per_s);
                for (int c = 0; c < CPU_N; c++)
                    printf ("%s\"%s\":%.0f", c ? "," : "", s_cpu_names [c], f->cpu_us [c]);
                printf ("}}");
            }
        printf ("],\"ratios_on_off\":[");
        for (int k = 0; k < nconc; k++)
            printf ("%s{\"concurrency\":%d,\"p50\":%.3f,\"p99\":%.3f,\"calls_per_s\":%.3f,"
                    "\"cpu_total\":%.3f,\"added_cpu_us_per_call\":%.0f,"
                    "\"log_path_cpu_us\":{\"on\":%.0f,\"off\":%.0f}}",
                    k ? "," : "", concs [k], med [0][k].p50_us / med [1][k].p50_us,
                    med [0][k].p99_us / med [1][k].p99_us, med [0][k].per_s / med [1][k].per_s,
                    med [0][k].cpu_us [CPU_TOTAL] / med [1][k].cpu_us [CPU_TOTAL],
                    med [0][k].cpu_us [CPU_TOTAL] - med [1][k].cpu_us [CPU_TOTAL],
                    s_log_path_cpu (&med [0][k]), s_log_path_cpu (&med [1][k]));
        printf ("],\"rows_ok\":%s}\n", rows_ok ? "true" : "false");
    }
    else {
        printf ("tools/call bench__add with execution logs on and off: %d calls per run "
                "(+%d warm-up), median of %d rounds, interleaved; setup %.1f s\n\n",
                calls, warmup, rounds, setup_s);
        printf ("%-8s %5s %9s %9s %9s | cpu us/call: %7s %6s %9s %9s %6s %6s %6s\n", "path",
                "conc", "p50", "p99", "calls/s", "gateway", "broker", "executors", "logkeeper",
                "others", "bench", "total");
        for (int p = 0; p < 2; p++)
            for (int k = 0; k < nconc; k++) {
                figures_t *f = &med [p][k];
                printf ("%-8s %5d %7.0fus %7.0fus %9.0f | %19.0f %6.0f %9.0f %9.0f %6.0f %6.0f "
                        "%6.0f\n", paths [p], concs [k], f->p50_us, f->p99_us, f->per_s,
                        f->cpu_us [CPU_GATEWAY], f->cpu_us [CPU_BROKER], f->cpu_us [CPU_EXECUTORS],
                        f->cpu_us [CPU_LOGKEEPER], f->cpu_us [CPU_OTHERS], f->cpu_us [CPU_BENCH],
                        f->cpu_us [CPU_TOTAL]);
            }
        printf ("\non/off:\n");
        for (int k = 0; k < nconc; k++)
            printf ("  conc %2d: p50 %.3fx, p99 %.3fx, calls/s %.3fx, CPU per call %.3fx "
                    "(%+.0f us); gateway+broker+logkeeper %.0f us on, %.0f us off (%+.0f us: "
                    "gateway %+.0f, broker %+.0f, logkeeper %+.0f)\n", concs [k],
                    med [0][k].p50_us / med [1][k].p50_us, med [0][k].p99_us / med [1][k].p99_us,
                    med [0][k].per_s / med [1][k].per_s,
                    med [0][k].cpu_us [CPU_TOTAL] / med [1][k].cpu_us [CPU_TOTAL],
                    med [0][k].cpu_us [CPU_TOTAL] - med [1][k].cpu_us [CPU_TOTAL],
                    s_log_path_cpu (&med [0][k]), s_log_path_cpu (&med [1][k]),
                    s_log_path_cpu (&med [0][k]) - s_log_path_cpu (&med [1][k]),
                    med [0][k].cpu_us [CPU_GATEWAY] - med [1][k].cpu_us [CPU_GATEWAY],
                    med [0][k].cpu_us [CPU_BROKER] - med [1][k].cpu_us [CPU_BROKER],
                    med [0][k].cpu_us [CPU_LOGKEEPER] - med [1][k].cpu_us [CPU_LOGKEEPER]);
        printf ("execution log rows: %lld through the on gateway (expected %lld), %lld through "
                "the off gateway (expected 0): %s\n", (long long) rows [0], (long long) expected,
                (long long) rows [1], rows_ok ? "ok" : "WRONG");
        printf ("load average at the end: %.2f %.2f %.2f (%ld cores)\n", load [0], load [1],
                load [2], sysconf (_SC_NPROCESSORS_ONLN));
    }
    return rows_ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
    int calls = 2000, warmup = 200, rounds = 3;
    int concs [8], nconc = 0;
    bool json = false, check = false, logs = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv [i], "--calls") && i + 1 < argc)
            calls = atoi (argv [++i]);
        else if (streq (argv [i], "--warmup") && i + 1 < argc)
            warmup = atoi (argv [++i]);
        else if (streq (argv [i], "--rounds") && i + 1 < argc)
            rounds = atoi (argv [++i]);
        else if (streq (argv [i], "--conc") && i + 1 < argc && nconc < 8)
            concs [nconc++] = atoi (argv [++i]);
        else if (streq (argv [i], "--port") && i + 1 < argc)
            s_port = atoi (argv [++i]);
        else if (streq (argv [i], "--json"))
            json = true;
        else if (streq (argv [i], "--logs"))
            logs = true;
        else if (streq (argv [i], "--check"))
            check = true;
        else if (streq (argv [i], "--keep"))
            s_keep = true;
        else
            s_usage ();
    }
    if (!nconc) {
        concs [nconc++] = 1;
        concs [nconc++] = 16;
    }
    if (calls < 10 || calls > 1000000 || warmup < 0 || rounds < 1 || rounds > 31)
        s_usage ();
    for (int i = 0; i < nconc; i++)
        if (concs [i] < 1 || concs [i] > CONC_MAX)
            s_usage ();
    signal (SIGPIPE, SIG_IGN);
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    zsys_set_logstream (stderr);

    ssize_t n = readlink ("/proc/self/exe", s_bin_dir, sizeof s_bin_dir - 1);
    s_bin_dir [n > 0 ? n : 0] = 0;
    *strrchr (s_bin_dir, '/') = 0;
    snprintf (s_data_dir, sizeof s_data_dir, "/tmp/mbe2eXXXXXX");
    if (!mkdtemp (s_data_dir)) {
        *s_data_dir = 0;
        s_die ("mkdtemp failed");
    }
    if (!s_port)
        s_port = s_free_port ();
    int64_t t_setup = s_now_us ();
    s_start_up ();
    s_setup_tool ();
    double setup_s = (double) (s_now_us () - t_setup) / 1e6;

    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/run/bus", s_data_dir);
    if (logs)
        return s_logs_run (calls, warmup, rounds, concs, nconc, json, setup_s);
    bus_client_t *client = s_client = bus_client_new (endpoint);
    if (!client)
        s_die ("cannot connect to %s", endpoint);

    static figures_t samples [3][8][32];    //  path, conc, round
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < nconc; k++) {
            samples [0][k][r] = s_gateway (s_port, s_session, concs [k], calls, warmup, false);
            samples [1][k][r] = s_direct (client, concs [k], calls, warmup);
            samples [2][k][r] = s_gateway (s_port, s_session, concs [k], calls, warmup, true);
        }
    figures_t med [3][8];
    for (int p = 0; p < 3; p++)
        for (int k = 0; k < nconc; k++)
            med [p][k] = s_median_of (samples [p][k], rounds);

    bus_client_destroy (&s_client);
    double load [3] = { 0 };
    if (getloadavg (load, 3) < 0)
        load [0] = load [1] = load [2] = -1;
    s_cleanup ();

    //  goals: p50 < 2 ms at concurrency 1, >= 500 calls/s at 16
    int k1 = -1, k16 = -1;
    for (int k = 0; k < nconc; k++) {
        if (concs [k] == 1)
            k1 = k;
        if (concs [k] == 16)
            k16 = k;
    }
    bool goal_p50 = k1 < 0 || med [0][k1].p50_us < 2000;
    bool goal_rate = k16 < 0 || med [0][k16].per_s >= 500;
    const char *paths [3] = { "gateway", "direct", "ping" };
    if (json) {
        printf ("{\"calls\":%d,\"warmup\":%d,\"rounds\":%d,\"setup_s\":%.1f,"
                "\"loadavg\":[%.2f,%.2f,%.2f],\"runs\":[", calls, warmup, rounds, setup_s,
                load [0], load [1], load [2]);
        for (int p = 0; p < 3; p++)
            for (int k = 0; k < nconc; k++) {
                figures_t *f = &med [p][k];
                printf ("%s{\"path\":\"%s\",\"concurrency\":%d,\"p50_us\":%.0f,\"p99_us\":%.0f,"
                        "\"calls_per_s\":%.0f,\"cpu_us_per_call\":{", p || k ? "," : "",
                        paths [p], concs [k], f->p50_us, f->p99_us, f->per_s);
                for (int c = 0; c < CPU_N; c++)
                    printf ("%s\"%s\":%.0f", c ? "," : "", s_cpu_names [c], f->cpu_us [c]);
                printf ("}}");
            }
        printf ("],\"ratios\":[");
        for (int k = 0; k < nconc; k++)
            printf ("%s{\"concurrency\":%d,\"p50\":%.2f,\"p99\":%.2f,\"calls_per_s\":%.2f,"
                    "\"gateway_cpu_share\":%.3f}",
                    k ? "," : "", concs [k], med [0][k].p50_us / med [1][k].p50_us,
                    med [0][k].p99_us / med [1][k].p99_us, med [0][k].per_s / med [1][k].per_s,
                    med [0][k].cpu_us [CPU_GATEWAY] / med [0][k].cpu_us [CPU_TOTAL]);
        printf ("],\"goal_p50_under_2ms\":%s,\"goal_500_per_s_at_16\":%s}\n",
                goal_p50 ? "true" : "false", goal_rate ? "true" : "false");
    }
    else {
        printf ("tools/call bench__add end to end: %d calls per run (+%d warm-up), "
                "median of %d rounds; setup %.1f s\n\n", calls, warmup, rounds, setup_s);
        printf ("%-8s %5s %9s %9s %9s | cpu us/call: %7s %6s %9s %9s %6s %6s %6s\n", "path",
                "conc", "p50", "p99", "calls/s", "gateway", "broker", "executors", "logkeeper",
                "others", "bench", "total");
        for (int p = 0; p < 3; p++)
            for (int k = 0; k < nconc; k++) {
                figures_t *f = &med [p][k];
                printf ("%-8s %5d %7.0fus %7.0fus %9.0f | %19.0f %6.0f %9.0f %9.0f %6.0f %6.0f "
                        "%6.0f\n", paths [p], concs [k], f->p50_us, f->p99_us, f->per_s,
                        f->cpu_us [CPU_GATEWAY], f->cpu_us [CPU_BROKER], f->cpu_us [CPU_EXECUTORS],
                        f->cpu_us [CPU_LOGKEEPER], f->cpu_us [CPU_OTHERS], f->cpu_us [CPU_BENCH],
                        f->cpu_us [CPU_TOTAL]);
            }
        printf ("\n(ping: the same HTTP connections and session, JSON-RPC ping: the "
                "gateway's HTTP floor, no bus)\n\ngateway/direct:\n");
        for (int k = 0; k < nconc; k++)
            printf ("  conc %2d: p50 %.2fx, p99 %.2fx, calls/s %.2fx; the gateway is %.1f%% "
                    "of all CPU per call\n", concs [k],
                    med [0][k].p50_us / med [1][k].p50_us, med [0][k].p99_us / med [1][k].p99_us,
                    med [0][k].per_s / med [1][k].per_s,
                    100 * med [0][k].cpu_us [CPU_GATEWAY] / med [0][k].cpu_us [CPU_TOTAL]);
        printf ("load average at the end: %.2f %.2f %.2f (%ld cores)\n", load [0], load [1],
                load [2], sysconf (_SC_NPROCESSORS_ONLN));
        printf ("goals: p50 under 2 ms at concurrency 1 (gateway: %.0f us) %s; "
                ">= 500 calls/s at 16 (gateway: %.0f) %s\n",
                k1 >= 0 ? med [0][k1].p50_us : 0, goal_p50 ? "met" : "MISSED",
                k16 >= 0 ? med [0][k16].per_s : 0, goal_rate ? "met" : "MISSED");
    }
    return check && !(goal_p50 && goal_rate) ? 1 : 0;
}

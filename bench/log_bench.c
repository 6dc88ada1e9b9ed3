/*  log_bench.c — log records ingested per second: publishers' log spools
    -> the real mcpbox-broker -> the real mcpbox-logkeeper -> a real
    SQLite database file.

    Setup (bounded; everything is stopped and removed at the end): a fresh
    data dir /tmp/mblogXXXXXX, `mcpbox migrate`, then mcpbox-broker and
    mcpbox-logkeeper from the binaries next to this one, as children
    (output in D/broker.log, D/logkeeper.log). The records are made and
    sent by common/logspool.c itself, the code every MCPbox process
    publishes with: the same encoder, redaction, batches (500 records or
    1 MiB, one in flight per spool), acknowledgements and resends.

    A round, for each publisher count P (1 and 4 by default, interleaved
    within the round): --records records added to P spools round robin,
    half execution records and half `tool.called` activity records, as a
    tools/call through the gateway makes (arguments with a secret-looking
    key, a small result), then logspool_flush on each spool. The rate is
    the records divided by the time from the first add to the last
    acknowledgement. Reported: the median over --rounds of records/s, the
    time spent adding (the publisher's own cost per record), and the CPU
    per record of logkeeper, the broker and this process (its spool
    threads) from /proc. Checked: every spool acknowledged everything
    (dropped, rejected 0), and the database file holds exactly one row
    per record added, in each table.

    usage: log_bench [--records N] [--rounds R] [--publishers P]...
                     [--json] [--keep]
*/
#include <czmq.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "logspool.h"

extern char **environ;

#define PUBLISHERS_MAX  16
#define FLUSH_TIMEOUT_MS 120000

static char s_bin_dir [1024];
static char s_data_dir [64];
static pid_t s_broker_pid, s_keeper_pid;
static bool s_keep;

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
s_median (double *values, int count)
{
    qsort (values, (size_t) count, sizeof *values, s_cmp);
    return values [count / 2];
}

static void
s_stop (pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill (*pid, SIGTERM);
    int status;
    for (int i = 0; i < 200; i++) {         //  10 s
        if (waitpid (*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        usleep (50000);
    }
    kill (*pid, SIGKILL);
    waitpid (*pid, &status, 0);
    *pid = 0;
}

static void
s_cleanup (void)
{
    s_stop (&s_keeper_pid);
    s_stop (&s_broker_pid);
    if (*s_data_dir && !s_keep) {
        char command [128];
        snprintf (command, sizeof command, "rm -rf %s", s_data_dir);
        if (system (command) != 0)
            fprintf (stderr, "log_bench: could not remove %s\n", s_data_dir);
        *s_data_dir = 0;
    }
}

static void
s_die (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "log_bench: ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    if (*s_data_dir) {
        char command [200];
        snprintf (command, sizeof command, "tail -n 20 %s/broker.log %s/logkeeper.log >&2",
                  s_data_dir, s_data_dir);
        if (system (command) != 0)
            fprintf (stderr, "(no logs)\n");
    }
    s_cleanup ();
    exit (1);
}

static void
s_on_signal (int sig)
{
    (void) sig;
    if (s_keeper_pid > 0)
        kill (s_keeper_pid, SIGTERM);
    if (s_broker_pid > 0)
        kill (s_broker_pid, SIGTERM);
    _exit (1);
}

//  bin_dir/NAME ARGS... with output appended to D/LOG; its pid.
static pid_t
s_spawn (const char *name, const char *log, const char *const *args)
{
    char path [1100], log_path [128];
    snprintf (path, sizeof path, "%s/%s", s_bin_dir, name);
    snprintf (log_path, sizeof log_path, "%s/%s", s_data_dir, log);
    char *argv [16] = { path };
    int n = 1;
    for (; args [n - 1] && n < 15; n++)
        argv [n] = (char *) args [n - 1];
    argv [n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn (&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    if (rc != 0)
        s_die ("cannot start %s: %s", path, strerror (rc));
    return pid;
}

//  CPU time (user + system, with reaped children) of pid, microseconds.
static double
s_cpu_of (pid_t pid)
{
    char path [64], line [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t n = fread (line, 1, sizeof line - 1, file);
    fclose (file);
    line [n] = 0;
    char *close = strrchr (line, ')');
    unsigned long long skip, ut, st;
    long long cut, cst;
    char state;
    if (!close || sscanf (close + 2, "%c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                          "%llu %llu %lld %lld", &state, &skip, &skip, &skip, &skip, &skip,
                          &skip, &skip, &skip, &skip, &skip, &ut, &st, &cut, &cst) != 15)
        return 0;
    return (double) (ut + st + (unsigned long long) cut + (unsigned long long) cst)
         * 1e6 / (double) sysconf (_SC_CLK_TCK);
}

static double
s_cpu_self (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec * 1e6 + (double) ru.ru_utime.tv_usec
         + (double) ru.ru_stime.tv_sec * 1e6 + (double) ru.ru_stime.tv_usec;
}

static int64_t
s_count (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t count = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return count;
}

//  --- the records -------------------------------------------------------------------

//  What the gateway spools for one tools/call: an execution record and
//  its tool.called activity (actors/gateway/exec_log.c).
static void
s_add_call (logspool_t *spool, int i, const char *session)
{
    char request_id [24], result [48];
    snprintf (request_id, sizeof request_id, "%d", i);
    snprintf (result, sizeof result, "{\"y\": %d}", i + 1);
    json_t *args = json_pack ("{s:i, s:s}", "x", i, "api_key", "sk-not-to-be-stored");
    logspool_exec_t record = {
        .tool_id = "6f1c2d4e-0000-4000-8000-00000000bench", .tool_name = "add",
        .server_id = "6f1c2d4e-0000-4000-8000-0000000serve", .server_name = "bench",
        .request_id = request_id, .client_name = "log_bench", .session_id = session,
        .args = args, .result = result, .stdout_text = "", .error = NULL,
        .duration_ms = 7, .success = true, .is_test = false, .executed_by = "mcp:log_bench",
    };
    if (logspool_exec (spool, &record) != 0)
        s_die ("logspool_exec refused record %d (spool full?)", i);
    json_decref (args);
    json_t *details = json_pack ("{s:s, s:s, s:b, s:b, s:i, s:s}",
        "tool_id", record.tool_id, "tool_name", "add", "success", 1, "is_test", 0,
        "duration_ms", 7, "client", "log_bench");
    if (logspool_activity_json (spool, "tool.called", LOGSPOOL_INFO, record.server_id,
                                "Call of bench__add succeeded in 7 ms (mcp:log_bench)",
                                details) != 0)
        s_die ("logspool_activity refused record %d", i);
    json_decref (details);
}

typedef struct {
    double per_s, add_us, keeper_us, broker_us, bench_us;   //  add/cpu: per record
} figures_t;

//  One run: records (an even number) through publishers spools.
static figures_t
s_run (logspool_t **spools, int publishers, int records, int *sequence)
{
    double keeper0 = s_cpu_of (s_keeper_pid), broker0 = s_cpu_of (s_broker_pid);
    double self0 = s_cpu_self ();
    int64_t t0 = s_now_us ();
    for (int i = 0; i < records / 2; i++)
        s_add_call (spools [i % publishers], (*sequence)++, "bench-session");
    int64_t t_added = s_now_us ();
    for (int p = 0; p < publishers; p++)
        if (!logspool_flush (spools [p], FLUSH_TIMEOUT_MS))
            s_die ("publisher %d: not everything acknowledged in %d s", p,
                   FLUSH_TIMEOUT_MS / 1000);
    int64_t t1 = s_now_us ();
    figures_t f = {
        .per_s     = records / ((double) (t1 - t0) / 1e6),
        .add_us    = (double) (t_added - t0) / records,
        .keeper_us = (s_cpu_of (s_keeper_pid) - keeper0) / records,
        .broker_us = (s_cpu_of (s_broker_pid) - broker0) / records,
        .bench_us  = (s_cpu_self () - self0) / records,
    };
    return f;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: log_bench [--records N] [--rounds R] [--publishers P]... "
                     "[--json] [--keep]\n");
    exit (2);
}

int
main (int argc, char **argv)
{
    int records = 10000, rounds = 5;
    int pubs [8], npubs = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv [i], "--records") && i + 1 < argc)
            records = atoi (argv [++i]);
        else if (streq (argv [i], "--rounds") && i + 1 < argc)
            rounds = atoi (argv [++i]);
        else if (streq (argv [i], "--publishers") && i + 1 < argc && npubs < 8)
            pubs [npubs++] = atoi (argv [++i]);
        else if (streq (argv [i], "--json"))
            json = true;
        else if (streq (argv [i], "--keep"))
            s_keep = true;
        else
            s_usage ();
    }
    if (!npubs) {
        pubs [npubs++] = 1;
        pubs [npubs++] = 4;
    }
    //  a spool holds at most 20,000 records: a run must fit in its spools
    if (records < 100 || records > 1000000 || records % 2 || rounds < 1 || rounds > 31)
        s_usage ();
    for (int i = 0; i < npubs; i++)
        if (pubs [i] < 1 || pubs [i] > PUBLISHERS_MAX || records / pubs [i] > 20000)
            s_usage ();
    signal (SIGPIPE, SIG_IGN);
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    zsys_set_logstream (stderr);

    ssize_t n = readlink ("/proc/self/exe", s_bin_dir, sizeof s_bin_dir - 1);
    s_bin_dir [n > 0 ? n : 0] = 0;
    *strrchr (s_bin_dir, '/') = 0;
    snprintf (s_data_dir, sizeof s_data_dir, "/tmp/mblogXXXXXX");
    if (!mkdtemp (s_data_dir)) {
        *s_data_dir = 0;
        s_die ("mkdtemp failed");
    }
    const char *migrate [] = { "migrate", "--data-dir", s_data_dir, NULL };
    pid_t pid = s_spawn ("mcpbox", "migrate.log", migrate);
    int status;
    if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status))
        s_die ("mcpbox migrate failed");
    const char *args [] = { "--data-dir", s_data_dir, NULL };
    s_broker_pid = s_spawn ("mcpbox-broker", "broker.log", args);
    s_keeper_pid = s_spawn ("mcpbox-logkeeper", "logkeeper.log", args);
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/run/bus", s_data_dir);

    //  one spool per publisher, as many as the largest count; the first
    //  record acknowledged says logkeeper serves
    int max_pubs = 0;
    for (int i = 0; i < npubs; i++)
        max_pubs = pubs [i] > max_pubs ? pubs [i] : max_pubs;
    logspool_t *spools [PUBLISHERS_MAX] = { NULL };
    for (int p = 0; p < max_pubs; p++)
        if (!(spools [p] = logspool_new (endpoint, "log_bench", NULL)))
            s_die ("cannot start a log spool on %s", endpoint);
    int sequence = 0;
    int64_t warm = s_now_us ();
    for (int p = 0; p < max_pubs; p++) {
        for (int i = 0; i < 250; i++)
            s_add_call (spools [p], sequence++, "warm-up");
        if (!logspool_flush (spools [p], 30000))
            s_die ("logkeeper did not acknowledge the warm-up in 30 s");
    }
    double setup_s = (double) (s_now_us () - warm) / 1e6;

    static figures_t samples [8][32];
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < npubs; k++) {
            int which = (r % 2) ? npubs - 1 - k : k;
            samples [which][r] = s_run (spools, pubs [which], records, &sequence);
        }
    double load [3] = { 0 };
    if (getloadavg (load, 3) < 0)
        load [0] = load [1] = load [2] = -1;

    //  nothing lost, nothing twice, nothing refused
    logspool_stats_t stats;
    uint64_t dropped = 0, rejected = 0, resends = 0;
    for (int p = 0; p < max_pubs; p++) {
        logspool_stats (spools [p], &stats);
        dropped += stats.dropped;
        rejected += stats.rejected;
        resends += stats.resends;
        logspool_destroy (&spools [p]);
    }
    char db_path [128];
    snprintf (db_path, sizeof db_path, "%s/mcpbox.db", s_data_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        s_die ("cannot open %s", db_path);
    sqlite3_busy_timeout (db, 5000);
    int64_t exec_rows = s_count (db, "SELECT count(*) FROM execution_logs");
    int64_t calls_rows = s_count (db, "SELECT count(*) FROM activity_log WHERE type = 'tool.called'");
    int64_t leaked = s_count (db, "SELECT count(*) FROM execution_logs "
                                  "WHERE input_args LIKE '%sk-not-to-be-stored%'");
    sqlite3_close (db);
    struct stat st;
    double db_mib = stat (db_path, &st) == 0 ? (double) st.st_size / 1048576.0 : -1;
    bool ok = exec_rows == sequence && calls_rows == sequence && leaked == 0
           && dropped == 0 && rejected == 0;
    s_cleanup ();

    figures_t med [8];
    for (int k = 0; k < npubs; k++) {
        double v [5][32];
        for (int r = 0; r < rounds; r++) {
            v [0][r] = samples [k][r].per_s;
            v [1][r] = samples [k][r].add_us;
            v [2][r] = samples [k][r].keeper_us;
            v [3][r] = samples [k][r].broker_us;
            v [4][r] = samples [k][r].bench_us;
        }
        med [k] = (figures_t) { s_median (v [0], rounds), s_median (v [1], rounds),
                                s_median (v [2], rounds), s_median (v [3], rounds),
                                s_median (v [4], rounds) };
    }
    if (json) {
        printf ("{\"records\":%d,\"rounds\":%d,\"loadavg\":[%.2f,%.2f,%.2f],\"runs\":[",
                records, rounds, load [0], load [1], load [2]);
        for (int k = 0; k < npubs; k++)
            printf ("%s{\"publishers\":%d,\"records_per_s\":%.0f,\"add_us_per_record\":%.2f,"
                    "\"cpu_us_per_record\":{\"logkeeper\":%.1f,\"broker\":%.1f,"
                    "\"publishers\":%.1f}}", k ? "," : "", pubs [k], med [k].per_s,
                    med [k].add_us, med [k].keeper_us, med [k].broker_us, med [k].bench_us);
        printf ("],\"rows\":{\"execution_logs\":%lld,\"tool_called\":%lld,\"expected\":%d},"
                "\"secret_in_db\":%lld,\"dropped\":%llu,\"rejected\":%llu,\"resends\":%llu,"
                "\"db_mib\":%.1f,\"ok\":%s}\n", (long long) exec_rows, (long long) calls_rows,
                sequence, (long long) leaked, (unsigned long long) dropped,
                (unsigned long long) rejected, (unsigned long long) resends, db_mib,
                ok ? "true" : "false");
    }
    else {
        printf ("log records -> broker -> logkeeper -> %s: %d records per run (half execution, "
                "half activity), median of %d rounds; warm-up %.1f s\n\n",
                "SQLite file", records, rounds, setup_s);
        printf ("%10s %10s %12s | cpu us/record: %9s %6s %10s\n", "publishers", "records/s",
                "add us/rec", "logkeeper", "broker", "publishers");
        for (int k = 0; k < npubs; k++)
            printf ("%10d %10.0f %12.2f | %24.1f %6.1f %10.1f\n", pubs [k], med [k].per_s,
                    med [k].add_us, med [k].keeper_us, med [k].broker_us, med [k].bench_us);
        printf ("\nrows: execution_logs %lld, tool.called %lld, expected %d each; secret value "
                "in the file: %lld; dropped %llu, rejected %llu, batches resent %llu: %s\n",
                (long long) exec_rows, (long long) calls_rows, sequence, (long long) leaked,
                (unsigned long long) dropped, (unsigned long long) rejected,
                (unsigned long long) resends, ok ? "ok" : "WRONG");
        printf ("database file %.1f MiB; load average at the end: %.2f %.2f %.2f (%ld cores)\n",
                db_mib, load [0], load [1], load [2], sysconf (_SC_NPROCESSORS_ONLN));
    }
    return ok ? 0 : 1;
}

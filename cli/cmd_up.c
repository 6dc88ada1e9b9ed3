/*  cmd_up.c — `mcpbox up`: run the whole constellation on this machine.

    Order of work:
      1. take DATA/run/up.lock (flock, non-blocking): one `up` per data dir;
         the file holds our pid so a second `up` can say who runs;
      2. migrate the database (the same code as `mcpbox migrate`);
      3. start mcpbox-broker and wait (bounded) until its request socket
         exists, so the actors' first connect finds it;
      4. start the rest of the constellation (common/constellation.c) in
         its order: the actors, N executors, then the gateway (HTTP last,
         so the first HTTP request finds the services registered or about
         to be);
      5. wait (bounded, S_READY_WAIT_MS) until the gateway listens: it
         writes DATA/run/gateway.ready. A child that exits before then
         (the HTTP port is taken, a configuration is refused) stops
         everything: a message naming it, exit status 1, nothing left;
      6. print the URLs and supervise: restart whatever exits, with backoff
         (supervisor.c); a restarted broker is found again by the actors on
         their own, they are not restarted with it;
      7. on SIGINT/SIGTERM/SIGHUP: stop the actors, then the broker, SIGKILL
         what is still there after 5 s, remove the lock, exit 0.

    The binaries are taken from the directory of this executable
    (/proc/self/exe), never from PATH. Children stay in our process group
    (Ctrl-C in a terminal reaches them too, and they stop cleanly) and die
    with us even if we are SIGKILLed (PR_SET_PDEATHSIG, see supervisor.c).

    Signals are read from a signalfd with SIGCHLD, SIGINT, SIGTERM and SIGHUP
    blocked, so there are no handlers and no races with the loop below.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include "cli.h"
#include "constellation.h"
#include "log.h"
#include "logspool.h"
#include "proc_counts.h"
#include "supervisor.h"

#define S_BROKER_WAIT_MS   10000   //  bound on waiting for the broker's socket
#define S_READY_WAIT_MS    20000   //  bound on waiting for the gateway to listen
#define S_STOP_TIMEOUT_MS  5000    //  SIGTERM -> SIGKILL grace for children
#define S_HOST_MAX         253     //  --http-host bytes
#define S_ENDPOINT_MAX     256     //  --tcp-endpoint bytes
#define S_LOCK_TRIES       5       //  attempts when the lock file is replaced

typedef struct {
    config_t     *config;                 //  the command line
    paths_t       paths;                  //  where everything lives
    char          bin_dir [PATHS_MAX];    //  directory of this executable
    char          broker_secret [PATHS_MAX]; //  with --tcp-endpoint
    char          broker_allow [PATHS_MAX];  //  with --tcp-endpoint
    int           lock_fd;                //  holds up.lock, -1 if not
    int           signal_fd;              //  signalfd, -1 if not
    sigset_t      old_mask;               //  mask to restore at exit
    supervisor_t *supervisor;             //  the children
    logspool_t   *spool;                  //  activity: crashes and restarts
    proc_counts_t *counts;                //  the same, for /metrics (proc_counts.h)
    int           stop_signal;            //  0 until asked to stop
} s_up_t;

//  --- activity ---------------------------------------------------------------

//  A child that exited unasked is process.crashed (level error); its
//  restart is process.restarted (info). Executors are where tool code
//  runs, so their crashes matter most, but every process is reported.
static void
s_observe (void *arg, const supervisor_event_t *event)
{
    s_up_t *up = arg;
    bool exited = strcmp (event->event, "exited") == 0;
    proc_counts_note (up->counts, event->name, exited);
    if (proc_counts_save (up->counts, getpid (), up->paths.proc_counts) == -1)
        log_warn ("cannot write %s: %s", up->paths.proc_counts, strerror (errno));
    if (!up->spool)
        return;
    char message [256];
    json_t *details;
    if (exited) {
        snprintf (message, sizeof message, "%s (pid %d) %s; restarting in %d ms",
                  event->name, (int) event->pid, event->cause, event->delay_ms);
        details = json_pack ("{s:s, s:i, s:s, s:I, s:i}", "process", event->name,
                             "pid", (int) event->pid, "cause", event->cause,
                             "ran_ms", (json_int_t) event->ran_ms,
                             "restart_in_ms", event->delay_ms);
        if (details && WIFSIGNALED (event->status))
            json_object_set_new (details, "signal", json_integer (WTERMSIG (event->status)));
        if (details && WIFEXITED (event->status))
            json_object_set_new (details, "exit_status",
                                 json_integer (WEXITSTATUS (event->status)));
    }
    else {
        snprintf (message, sizeof message, "%s restarted (pid %d, restart %d)",
                  event->name, (int) event->pid, event->restarts);
        details = json_pack ("{s:s, s:i, s:i}", "process", event->name,
                             "pid", (int) event->pid, "restarts", event->restarts);
    }
    logspool_activity_json (up->spool, exited ? "process.crashed" : "process.restarted",
                            exited ? LOGSPOOL_ERROR : LOGSPOOL_INFO, NULL, message, details);
    json_decref (details);
}

//  --- options --------------------------------------------------------------

static bool
s_host_valid (const char *host)
{
    size_t len = strnlen (host, S_HOST_MAX + 1);
    if (len == 0 || len > S_HOST_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = host [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':'))
            return false;
    }
    return true;
}

static bool
s_tcp_endpoint_valid (const char *endpoint)
{
    size_t len = strnlen (endpoint, S_ENDPOINT_MAX + 1);
    if (len <= 6 || len > S_ENDPOINT_MAX || strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    for (size_t i = 6; i < len; i++)
        if (endpoint [i] <= ' ' || endpoint [i] == 0x7f)
            return false;
    return true;
}

//  --- the lock ---------------------------------------------------------------

//  Print who holds the lock, from the pid it wrote into the file.
static void
s_report_holder (s_up_t *up, int fd)
{
    char text [32] = "";
    ssize_t got = pread (fd, text, sizeof text - 1, 0);
    long pid = got > 0? strtol (text, NULL, 10): 0;
    if (pid > 0)
        fprintf (stderr, "mcpbox up is already running for %s (pid %ld)\n",
                 up->paths.data_dir, pid);
    else
        fprintf (stderr, "mcpbox up is already running for %s (pid unknown)\n",
                 up->paths.data_dir);
}

//  0 locked, 1 held by another `up` (reported), -1 error (reported).
static int
s_lock (s_up_t *up)
{
    const char *path = up->paths.lock_path;
    for (int attempt = 0; attempt < S_LOCK_TRIES; attempt++) {
        int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd == -1) {
            log_error ("cannot open %s: %s", path, strerror (errno));
            return -1;
        }
        if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
            int err = errno;
            if (err == EWOULDBLOCK) {
                s_report_holder (up, fd);
                close (fd);
                return 1;
            }
            log_error ("cannot lock %s: %s", path, strerror (err));
            close (fd);
            return -1;
        }
        //  The previous holder unlinks the file before it unlocks; if we
        //  locked such an unlinked file, try again with the current one.
        struct stat held, named;
        if (fstat (fd, &held) == 0 && stat (path, &named) == 0
        &&  held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            char text [32];
            int len = snprintf (text, sizeof text, "%d\n", (int) getpid ());
            if (ftruncate (fd, 0) == -1 || pwrite (fd, text, (size_t) len, 0) != len)
                log_warn ("cannot write our pid into %s: %s", path, strerror (errno));
            up->lock_fd = fd;
            return 0;
        }
        close (fd);
    }
    log_error ("cannot lock %s: it keeps being replaced", path);
    return -1;
}

static void
s_unlock (s_up_t *up)
{
    if (up->lock_fd < 0)
        return;
    unlink (up->paths.lock_path);
    close (up->lock_fd);
    up->lock_fd = -1;
}

//  --- broker sockets -------------------------------------------------------

static const char *
s_ipc_path (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) == 0? endpoint + 6: NULL;
}

//  Remove socket files a killed broker left behind (we hold the lock, so
//  nobody else serves this data directory).
static void
s_remove_stale_sockets (s_up_t *up)
{
    const char *endpoints [] = {
        up->paths.bus_endpoint, up->paths.events_in, up->paths.events_out
    };
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints [0]; i++) {
        const char *path = s_ipc_path (endpoints [i]);
        struct stat st;
        if (path && lstat (path, &st) == 0 && S_ISSOCK (st.st_mode))
            unlink (path);
    }
}

static bool
s_broker_listening (s_up_t *up)
{
    const char *path = s_ipc_path (up->paths.bus_endpoint);
    struct stat st;
    return path && stat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

//  --- signals ----------------------------------------------------------------

static int
s_signals_open (s_up_t *up)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGCHLD);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    if (sigprocmask (SIG_BLOCK, &set, &up->old_mask) == -1)
        return -1;
    up->signal_fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (up->signal_fd == -1) {
        sigprocmask (SIG_SETMASK, &up->old_mask, NULL);
        return -1;
    }
    signal (SIGPIPE, SIG_IGN);      //  a closed stdout must not kill us
    return 0;
}

static void
s_signals_close (s_up_t *up)
{
    if (up->signal_fd < 0)
        return;
    close (up->signal_fd);
    up->signal_fd = -1;
    sigprocmask (SIG_SETMASK, &up->old_mask, NULL);
}

//  Wait up to timeout_ms (-1 forever) for a signal; note stop requests.
//  Child exits need no note: the caller reaps after every wake-up.
static void
s_signals_wait (s_up_t *up, int timeout_ms)
{
    struct pollfd pfd = { .fd = up->signal_fd, .events = POLLIN };
    if (poll (&pfd, 1, timeout_ms) <= 0)
        return;
    struct signalfd_siginfo info;
    while (read (up->signal_fd, &info, sizeof info) == (ssize_t) sizeof info)
        if (info.ssi_signo != SIGCHLD && up->stop_signal == 0)
            up->stop_signal = (int) info.ssi_signo;
}

//  --- children ---------------------------------------------------------------

static int
s_find_bin_dir (s_up_t *up)
{
    char exe [PATHS_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || (size_t) len >= sizeof exe - 1) {
        log_error ("cannot find this executable (/proc/self/exe): %s",
                   len < 0? strerror (errno): "path too long");
        return -1;
    }
    exe [len] = '\0';
    char *slash = strrchr (exe, '/');
    if (!slash) {
        log_error ("odd executable path: %s", exe);
        return -1;
    }
    *slash = '\0';
    snprintf (up->bin_dir, sizeof up->bin_dir, "%s", *exe? exe: "/");
    return 0;
}

//  Declare one child: BIN_DIR/binary --data-dir D [--log-level L] extra...
static int
s_add (s_up_t *up, const char *name, const char *binary, const char *const *extra)
{
    char path [PATHS_MAX];
    if (snprintf (path, sizeof path, "%s/%s", up->bin_dir, binary)
        >= (int) sizeof path) {
        log_error ("path too long for %s", binary);
        return -1;
    }
    if (access (path, X_OK) == -1) {
        log_error ("cannot run %s: %s (is the whole project built?)",
                   path, strerror (errno));
        return -1;
    }
    const char *argv [SUPERVISOR_ARGS_MAX + 1];
    size_t argc = 0;
    argv [argc++] = path;
    argv [argc++] = "--data-dir";
    argv [argc++] = up->paths.data_dir;
    const char *level = config_str (up->config, "log_level");
    if (strcmp (level, "info") != 0) {
        argv [argc++] = "--log-level";
        argv [argc++] = level;
    }
    for (size_t i = 0; extra && extra [i]; i++) {
        if (argc >= SUPERVISOR_ARGS_MAX)
            return -1;
        argv [argc++] = extra [i];
    }
    argv [argc] = NULL;
    if (supervisor_add (up->supervisor, name, argv) == -1) {
        log_error ("cannot add %s to the supervisor", name);
        return -1;
    }
    return 0;
}

//  Keys for remote executors: the broker's certificate (made once) and the
//  directory of allowed executor certificates.
static int
s_prepare_curve (s_up_t *up)
{
    char err [PATHS_MAX + 256];
    char broker [PATHS_MAX];
    if (cli_keys_dir_ensure (&up->paths, "allowed", err, sizeof err) == -1
    ||  snprintf (broker, sizeof broker, "%s/broker", up->paths.keys_dir)
        >= (int) sizeof broker
    ||  snprintf (up->broker_secret, sizeof up->broker_secret, "%s_secret", broker)
        >= (int) sizeof up->broker_secret
    ||  snprintf (up->broker_allow, sizeof up->broker_allow, "%s/allowed",
                  up->paths.keys_dir) >= (int) sizeof up->broker_allow) {
        log_error ("keys: %s", *err? err: "path too long");
        return -1;
    }
    if (access (up->broker_secret, F_OK) == -1) {
        char public_txt [CLI_Z85_KEY_SIZE];
        //  A public half without its secret is useless: replace it.
        if (cli_keygen_write (broker, true, public_txt, sizeof public_txt,
                              err, sizeof err) == -1) {
            log_error ("broker certificate: %s", err);
            return -1;
        }
        log_info ("generated the broker certificate %s (public key %s)",
                  broker, public_txt);
    }
    return 0;
}

static int
s_add_broker (s_up_t *up)
{
    const char *tcp = config_str (up->config, "tcp_endpoint");
    if (!*tcp)
        return s_add (up, "mcpbox-broker", "mcpbox-broker", NULL);
    if (s_prepare_curve (up) == -1)
        return -1;
    const char *extra [] = {
        "--tcp-endpoint", tcp,
        "--curve-secret", up->broker_secret,
        "--curve-allow",  up->broker_allow,
        NULL
    };
    return s_add (up, "mcpbox-broker", "mcpbox-broker", extra);
}

//  MCPBOX_ENCRYPTION_KEY, taken out of our environment at start (s_run):
//  "MCPBOX_ENCRYPTION_KEY=<hex>" for the credentials actor only, or "".
static char s_key_entry [160];

//  Take the master key out of the environment (wiping the whole entry,
//  which /proc/PID/environ would show) so that no child but credentials
//  gets it.
static void
s_take_master_key (void)
{
    static const char name [] = "MCPBOX_ENCRYPTION_KEY=";
    extern char **environ;
    char *value = NULL;
    for (char **entry = environ; entry && *entry && !value; entry++)
        if (strncmp (*entry, name, sizeof name - 1) == 0)
            value = *entry + sizeof name - 1;
    if (!value)
        return;
    size_t len = strlen (value);
    //  a malformed key is passed on as it is: credentials refuses to start
    //  and says why
    snprintf (s_key_entry, sizeof s_key_entry, "MCPBOX_ENCRYPTION_KEY=%.*s",
              (int) (len < 128 ? len : 128), value);
    unsetenv ("MCPBOX_ENCRYPTION_KEY");     //  out of environ first, then the bytes
    explicit_bzero (value - (sizeof name - 1), len + sizeof name - 1);
}

//  Everything after the broker, in the constellation's order.
static int
s_add_actors (s_up_t *up)
{
    char port [16];
    snprintf (port, sizeof port, "%lld",
              (long long) config_int (up->config, "http_port"));
    //  --web-dir only when given: the gateway's own default is its
    //  source tree's web/
    const char *web_dir = config_str (up->config, "web_dir");
    const char *gateway_extra [] = {
        "--http-port", port,
        "--http-host", config_str (up->config, "http_host"),
        *web_dir ? "--web-dir" : NULL, web_dir,
        NULL
    };
    for (size_t i = 0; i < constellation_size (); i++) {
        const constellation_entry_t *row = &constellation [i];
        if (strcmp (row->process, "mcpbox-broker") == 0)
            continue;               //  started and waited for already
        const char *const *extra = strcmp (row->process, "mcpbox-gateway") == 0
                                 ? gateway_extra : NULL;
        int64_t count = row->count_option
                      ? config_int (up->config, row->count_option) : row->count;
        for (int64_t n = 1; n <= count; n++) {
            char name [SUPERVISOR_NAME_MAX];
            if (row->count_option)
                snprintf (name, sizeof name, "%s-%lld", row->process, (long long) n);
            else
                snprintf (name, sizeof name, "%s", row->process);
            if (s_add (up, name, row->process, extra) == -1)
                return -1;
            if (*s_key_entry && strcmp (row->process, "mcpbox-credentials") == 0
            &&  supervisor_set_env (up->supervisor,
                                    (int) supervisor_size (up->supervisor) - 1,
                                    s_key_entry) == -1)
                return -1;
        }
    }
    explicit_bzero (s_key_entry, sizeof s_key_entry);
    return 0;
}

//  Keep the broker alive until its socket appears. 0 ready, 1 asked to
//  stop, -1 timed out (logged).
static int
s_wait_broker (s_up_t *up)
{
    int64_t deadline = zclock_mono () + S_BROKER_WAIT_MS;
    while (!s_broker_listening (up)) {
        if (up->stop_signal)
            return 1;
        if (zclock_mono () >= deadline) {
            log_error ("the broker did not open %s within %d ms",
                       up->paths.bus_endpoint, S_BROKER_WAIT_MS);
            return -1;
        }
        s_signals_wait (up, 20);
        supervisor_on_child_exit (up->supervisor);
        supervisor_restart_due (up->supervisor);
    }
    return 0;
}

//  The gateway's pid from DATA/run/gateway.ready, 0 if none yet.
static pid_t
s_gateway_ready_pid (s_up_t *up)
{
    char text [32] = "";
    int fd = open (up->paths.gateway_ready, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1)
        return 0;
    ssize_t got = read (fd, text, sizeof text - 1);
    close (fd);
    text [got > 0 ? got : 0] = 0;
    long pid = strtol (text, NULL, 10);
    return pid > 0 ? (pid_t) pid : 0;
}

//  Why a child ended, for a message: "exited with status 1".
static void
s_describe_exit (int status, char *out, size_t size)
{
    if (WIFEXITED (status))
        snprintf (out, size, "exited with status %d%s", WEXITSTATUS (status),
                  WEXITSTATUS (status) == 2 ? " (configuration refused)" : "");
    else
    if (WIFSIGNALED (status))
        snprintf (out, size, "was killed by SIG%s", sigabbrev_np (WTERMSIG (status)));
    else
        snprintf (out, size, "ended (status %d)", status);
}

//  Wait until the gateway listens. 0 ready, 1 asked to stop, -1 failed: a
//  child ended first or the time ran out (said on stderr).
static int
s_wait_ready (s_up_t *up)
{
    int gateway = -1;
    for (size_t i = 0; i < supervisor_size (up->supervisor); i++)
        if (strcmp (supervisor_name (up->supervisor, (int) i), "mcpbox-gateway") == 0)
            gateway = (int) i;
    int64_t deadline = zclock_mono () + S_READY_WAIT_MS;
    while (true) {
        if (up->stop_signal)
            return 1;
        supervisor_on_child_exit (up->supervisor);
        for (size_t i = 0; i < supervisor_size (up->supervisor); i++) {
            int status = supervisor_last_status (up->supervisor, (int) i);
            if (status == -1)
                continue;
            char why [64];
            s_describe_exit (status, why, sizeof why);
            const char *host = config_str (up->config, "http_host");
            long long port = (long long) config_int (up->config, "http_port");
            if ((int) i == gateway)
                fprintf (stderr, "mcpbox up: mcpbox-gateway %s before it listened "
                         "on %s port %lld (is the port in use? see its log above); "
                         "stopping everything\n", why, host, port);
            else
                fprintf (stderr, "mcpbox up: %s %s while starting (see its log "
                         "above); stopping everything\n",
                         supervisor_name (up->supervisor, (int) i), why);
            return -1;
        }
        pid_t ready = s_gateway_ready_pid (up);
        if (gateway >= 0 && ready && ready == supervisor_pid (up->supervisor, gateway))
            return 0;
        if (zclock_mono () >= deadline) {
            fprintf (stderr, "mcpbox up: the gateway did not listen within %d ms; "
                     "stopping everything\n", S_READY_WAIT_MS);
            return -1;
        }
        s_signals_wait (up, 50);
    }
}

static void
s_print_urls (s_up_t *up)
{
    const char *host = config_str (up->config, "http_host");
    bool v6 = strchr (host, ':') != NULL;
    char base [S_HOST_MAX + 32];
    snprintf (base, sizeof base, "http://%s%s%s:%lld", v6? "[": "", host,
              v6? "]": "", (long long) config_int (up->config, "http_port"));
    //  only what answers (integration/test_up.py opens each of them)
    printf ("MCPbox is up: dashboard %s/, MCP endpoint %s/mcp, health %s/health\n",
            base, base, base);
    printf ("data dir: %s\n", up->paths.data_dir);
    const char *tcp = config_str (up->config, "tcp_endpoint");
    if (*tcp)
        printf ("remote executors: %s (broker certificate %s/broker)\n",
                tcp, up->paths.keys_dir);
    fflush (stdout);
}

//  --- the command --------------------------------------------------------------

//  Everything after the lock: returns the exit code.
static int
s_up_locked (s_up_t *up)
{
    char err [512] = "";
    int applied = 0, version = 0;
    if (cli_migrate (&up->paths, &applied, &version, err, sizeof err) == -1) {
        log_error ("migrate %s: %s", up->paths.db_path, err);
        return CLI_EXIT_FAIL;
    }
    log_info ("database %s: applied %d migration(s); schema version %d",
              up->paths.db_path, applied, version);

    if (s_find_bin_dir (up) == -1)
        return CLI_EXIT_FAIL;
    if (s_signals_open (up) == -1) {
        log_error ("cannot set up signal handling: %s", strerror (errno));
        return CLI_EXIT_FAIL;
    }
    up->supervisor = supervisor_new (NULL);
    if (!up->supervisor)
        return CLI_EXIT_FAIL;
    //  crashes and restarts go to the activity log; made after the signal
    //  mask is set, so the spool's thread never takes a signal
    logspool_config_t spool_config = { .linger_ms = 500 };
    up->spool = logspool_new (up->paths.bus_endpoint, "mcpbox-up", &spool_config);
    if (!up->spool)
        log_error ("cannot start the log spool: crashes are logged here only");
    //  this run's counts start from zero (a file an earlier run left goes)
    up->counts = proc_counts_new ();
    if (!up->counts) {
        logspool_destroy (&up->spool);
        supervisor_destroy (&up->supervisor);
        return CLI_EXIT_FAIL;
    }
    if (proc_counts_save (up->counts, getpid (), up->paths.proc_counts) == -1)
        log_warn ("cannot write %s: %s (tried again at each exit)", up->paths.proc_counts,
                  strerror (errno));
    supervisor_set_observer (up->supervisor, s_observe, up);

    s_remove_stale_sockets (up);
    int rc = CLI_EXIT_FAIL;
    if (s_add_broker (up) == -1 || supervisor_start (up->supervisor) == -1)
        goto stop;
    int ready = s_wait_broker (up);
    if (ready != 0) {
        rc = ready == 1? CLI_EXIT_OK: CLI_EXIT_FAIL;
        goto stop;
    }
    unlink (up->paths.gateway_ready);
    if (s_add_actors (up) == -1 || supervisor_start (up->supervisor) == -1)
        goto stop;
    ready = s_wait_ready (up);
    if (ready != 0) {
        rc = ready == 1? CLI_EXIT_OK: CLI_EXIT_FAIL;
        goto stop;
    }
    s_print_urls (up);
    log_info ("supervising %zu processes; SIGINT or SIGTERM stops them",
              supervisor_size (up->supervisor));

    while (!up->stop_signal) {
        supervisor_on_child_exit (up->supervisor);
        int next_ms = supervisor_restart_due (up->supervisor);
        s_signals_wait (up, next_ms);
    }
    rc = CLI_EXIT_OK;
stop:
    if (up->stop_signal)
        log_info ("SIG%s received; stopping", sigabbrev_np (up->stop_signal));
    int killed = supervisor_stop_all (up->supervisor, S_STOP_TIMEOUT_MS);
    if (killed > 0)
        log_warn ("%d process(es) had to be killed", killed);
    supervisor_destroy (&up->supervisor);
    logspool_destroy (&up->spool);
    proc_counts_destroy (&up->counts);
    unlink (up->paths.proc_counts);
    s_remove_stale_sockets (up);
    unlink (up->paths.gateway_ready);
    log_info ("stopped");
    return rc;
}

static int
s_run (config_t *config)
{
    s_up_t up = { .config = config, .lock_fd = -1, .signal_fd = -1 };
    s_take_master_key ();

    if (!s_host_valid (config_str (config, "http_host"))) {
        fprintf (stderr, "mcpbox up: --http-host must be a host name or "
                 "address (at most %d bytes)\n", S_HOST_MAX);
        return CLI_EXIT_USAGE;
    }
    const char *tcp = config_str (config, "tcp_endpoint");
    if (*tcp && !s_tcp_endpoint_valid (tcp)) {
        fprintf (stderr, "mcpbox up: --tcp-endpoint must look like "
                 "tcp://HOST:PORT (at most %d bytes)\n", S_ENDPOINT_MAX);
        return CLI_EXIT_USAGE;
    }
    char err [512] = "";
    if (paths_init (&up.paths, config_str (config, "data_dir"), true,
                    err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox up: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    int locked = s_lock (&up);
    if (locked != 0)
        return CLI_EXIT_FAIL;

    int rc = s_up_locked (&up);
    s_signals_close (&up);
    s_unlock (&up);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "executors", .type = CONFIG_INT, .default_value = "2", .min = 1, .max = 32,
      .help = "sandbox executor processes to run" },
    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000", .min = 1, .max = 65535,
      .help = "gateway HTTP port" },
    { .key = "http_host", .type = CONFIG_STR, .default_value = "127.0.0.1",
      .help = "gateway HTTP address to listen on" },
    { .key = "tcp_endpoint", .type = CONFIG_STR, .default_value = "",
      .help = "also accept remote executors on tcp://HOST:PORT (CURVE)" },
    { .key = "web_dir", .type = CONFIG_STR, .default_value = "",
      .help = "the dashboard's files (default: the gateway's, the source tree's web/)" },
    { .key = NULL }
};

const cli_command_t cli_cmd_up = {
    .name    = "up",
    .summary = "start and supervise the broker, the actors and the gateway",
    .usage   = "usage: mcpbox up [--data-dir D] [--executors N] [--http-port P]\n"
               "                 [--http-host H] [--tcp-endpoint tcp://HOST:PORT]\n"
               "                 [--web-dir DIR]\n\n"
               "Migrate the database, start every MCPbox process, restart any\n"
               "that dies (with backoff) and stop them all on SIGINT/SIGTERM.",
    .options = s_options,
    .run     = s_run,
};

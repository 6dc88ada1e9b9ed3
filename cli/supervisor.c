/*  supervisor.c — start children, restart them with backoff, stop them all.

    See supervisor.h for the policy. Design notes:

    Spawning. Everything the child needs (argv, parent pid) is prepared
    before fork(); between fork() and execv() the child only makes
    async-signal-safe calls: it clears the signal mask it inherited (the
    parent blocks SIGCHLD/SIGINT/SIGTERM to read them from a signalfd, and a
    blocked mask survives exec), resets the handled signals to their
    defaults, asks for SIGTERM when its parent dies, and re-checks getppid()
    to close the race where the parent died before prctl() ran. An exec
    failure is reported to the parent through a close-on-exec pipe, so
    supervisor_start() can say "cannot run X" instead of logging a mystery
    exit 127 later.

    Reaping. waitpid(pid, WNOHANG) on each known pid, never waitpid(-1):
    other code in the process may have children of its own.

    Time is zclock_mono () (CLOCK_MONOTONIC) milliseconds throughout.
*/
#include <czmq.h>
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

const supervisor_config_t supervisor_default_config = {
    .backoff_min_ms  = 200,
    .backoff_max_ms  = 10000,
    .stable_after_ms = 30000,
};

//  Minimum grace the first child (the hub) gets in stop_all, ms.
#define S_HUB_GRACE_MS   1000
//  How often stop_all looks for exits, ms.
#define S_STOP_POLL_MS   10

typedef struct {
    char     name [SUPERVISOR_NAME_MAX];   //  display name for logs
    char    *argv [SUPERVISOR_ARGS_MAX + 1]; //  owned copies, NULL-terminated
    pid_t    pid;                //  running pid, 0 when not running
    int64_t  started_at;         //  monotonic ms of the last start
    int64_t  restart_at;         //  monotonic ms of the scheduled restart, 0 none
    int      next_delay_ms;      //  delay the next exit will get
    int      last_delay_ms;      //  delay chosen at the last exit
    int      last_status;        //  raw wait status of the last exit, -1 none
    int      restarts;           //  starts after the first one
    bool     started;            //  started at least once
    char    *env_extra;          //  "KEY=value" for this child only, or NULL
} s_child_t;

extern char **environ;

struct _supervisor_t {
    supervisor_config_t config;                           //  backoff policy
    s_child_t           children [SUPERVISOR_CHILDREN_MAX]; //  in order of adding
    size_t              size;                             //  children in use
    bool                stopping;                         //  no more restarts
    supervisor_observer_fn *observer;                     //  or NULL
    void               *observer_arg;
};

void
supervisor_set_observer (supervisor_t *self, supervisor_observer_fn *fn, void *arg)
{
    if (!self)
        return;
    self->observer = fn;
    self->observer_arg = arg;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

static s_child_t *
s_child (supervisor_t *self, int index)
{
    if (!self || index < 0 || (size_t) index >= self->size)
        return NULL;
    return &self->children [index];
}

//  "exited with status 3" / "killed by signal SIGKILL"
static void
s_describe_status (int status, char *buf, size_t size)
{
    if (WIFEXITED (status))
        snprintf (buf, size, "exited with status %d", WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status)) {
        const char *abbrev = sigabbrev_np (WTERMSIG (status));
        if (abbrev)
            snprintf (buf, size, "killed by signal SIG%s%s", abbrev,
                      WCOREDUMP (status)? " (core dumped)": "");
        else
            snprintf (buf, size, "killed by signal %d", WTERMSIG (status));
    }
    else
        snprintf (buf, size, "stopped (wait status 0x%x)", (unsigned) status);
}

//  The child side of fork(): async-signal-safe calls only.
static void __attribute__ ((noreturn))
s_child_exec (s_child_t *child, pid_t parent, int report_fd, char **envp)
{
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);

    struct sigaction dfl;
    memset (&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset (&dfl.sa_mask);
    const int reset [] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
    for (size_t i = 0; i < sizeof reset / sizeof reset [0]; i++)
        sigaction (reset [i], &dfl, NULL);

    if (prctl (PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid () != parent)
        _exit (0);      //  our parent is already gone: nothing to serve

    execve (child->argv [0], child->argv, envp);
    int err = errno;
    ssize_t rc = write (report_fd, &err, sizeof err);
    (void) rc;
    _exit (127);
}

//  True if entry is "KEY=..." for one of the keys the supervisor sets.
static bool
s_env_ours (const char *entry)
{
    return strncmp (entry, "MCPBOX_PROCESS=", 15) == 0
        || strncmp (entry, "MCPBOX_RESTARTS=", 16) == 0;
}

//  fork + exec one child, telling it its name and how many restarts this
//  start makes (MCPBOX_PROCESS, MCPBOX_RESTARTS: an executor announces them
//  to the broker's pool query). 0, or -1 with errno set (exec errors included).
static int
s_spawn (s_child_t *child, int restarts)
{
    int report [2];
    if (pipe2 (report, O_CLOEXEC) == -1)
        return -1;

    //  the environment with the child's entries, built before fork
    char process [SUPERVISOR_NAME_MAX + 32], restarted [48];
    snprintf (process, sizeof process, "MCPBOX_PROCESS=%s", child->name);
    snprintf (restarted, sizeof restarted, "MCPBOX_RESTARTS=%d", restarts);
    size_t count = 0;
    while (environ [count])
        count++;
    char **envp = calloc (count + 4, sizeof *envp);
    if (!envp) {
        close (report [0]);
        close (report [1]);
        errno = ENOMEM;
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        if (!s_env_ours (environ [i]))
            envp [used++] = environ [i];
    envp [used++] = process;
    envp [used++] = restarted;
    if (child->env_extra)
        envp [used++] = child->env_extra;
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        free (envp);
    if (pid == -1) {
        int err = errno;
        close (report [0]);
        close (report [1]);
        errno = err;
        return -1;
    }
    if (pid == 0) {
        close (report [0]);
        s_child_exec (child, parent, report [1], envp);
    }
    close (report [1]);

    //  EOF means exec succeeded (the write end was close-on-exec).
    int exec_errno = 0;
    ssize_t got;
    do
        got = read (report [0], &exec_errno, sizeof exec_errno);
    while (got == -1 && errno == EINTR);
    close (report [0]);

    if (got == (ssize_t) sizeof exec_errno) {
        int status;
        while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
            ;
        errno = exec_errno? exec_errno: ENOEXEC;
        return -1;
    }
    child->pid        = pid;
    child->started_at = zclock_mono ();
    child->restart_at = 0;
    return 0;
}

//  Schedule the restart of a child that has just stopped running.
static void
s_schedule (supervisor_t *self, s_child_t *child, int64_t ran_ms)
{
    if (ran_ms >= self->config.stable_after_ms)
        child->next_delay_ms = self->config.backoff_min_ms;
    int delay = child->next_delay_ms;
    child->last_delay_ms = delay;
    child->restart_at    = zclock_mono () + delay;
    if (child->restart_at == 0)
        child->restart_at = 1;          //  0 means "none scheduled"
    int next = delay > self->config.backoff_max_ms / 2
             ? self->config.backoff_max_ms: delay * 2;
    child->next_delay_ms = next < self->config.backoff_min_ms
                         ? self->config.backoff_min_ms: next;
}

//  Record the exit of a reaped child; schedule its restart unless stopping.
static void
s_reaped (supervisor_t *self, s_child_t *child, int status)
{
    char cause [96];
    s_describe_status (status, cause, sizeof cause);
    pid_t pid = child->pid;
    int64_t ran_ms = zclock_mono () - child->started_at;
    child->pid         = 0;
    child->last_status = status;
    if (self->stopping) {
        log_info ("%s (pid %d) %s", child->name, (int) pid, cause);
        return;
    }
    s_schedule (self, child, ran_ms);
    log_warn ("%s (pid %d) %s; restarting in %d ms (it ran %lld ms)",
              child->name, (int) pid, cause, child->last_delay_ms,
              (long long) ran_ms);
    if (self->observer) {
        supervisor_event_t event = {
            .event = "exited", .name = child->name, .pid = pid, .cause = cause,
            .status = status, .ran_ms = (long long) ran_ms,
            .delay_ms = child->last_delay_ms, .restarts = child->restarts,
        };
        self->observer (self->observer_arg, &event);
    }
}

supervisor_t *
supervisor_new (const supervisor_config_t *config)
{
    if (!config)
        config = &supervisor_default_config;
    if (config->backoff_min_ms < 1
    ||  config->backoff_max_ms < config->backoff_min_ms
    ||  config->stable_after_ms < 0)
        return NULL;
    supervisor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    return self;
}

void
supervisor_destroy (supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    supervisor_t *self = *self_p;
    supervisor_stop_all (self, 2000);
    for (size_t i = 0; i < self->size; i++) {
        for (size_t a = 0; self->children [i].argv [a]; a++)
            free (self->children [i].argv [a]);
        if (self->children [i].env_extra) {
            explicit_bzero (self->children [i].env_extra, strlen (self->children [i].env_extra));
            free (self->children [i].env_extra);
        }
    }
    free (self);
    *self_p = NULL;
}

int
supervisor_add (supervisor_t *self, const char *name, const char *const *argv)
{
    if (!self || !name || !argv || !argv [0] || argv [0][0] == '\0'
    ||  self->size >= SUPERVISOR_CHILDREN_MAX
    ||  strnlen (name, SUPERVISOR_NAME_MAX) >= SUPERVISOR_NAME_MAX)
        return -1;
    size_t argc = 0;
    while (argv [argc]) {
        if (argc >= SUPERVISOR_ARGS_MAX
        ||  strnlen (argv [argc], SUPERVISOR_ARG_MAX) >= SUPERVISOR_ARG_MAX)
            return -1;
        argc++;
    }
    s_child_t *child = &self->children [self->size];
    memset (child, 0, sizeof *child);
    for (size_t a = 0; a < argc; a++) {
        child->argv [a] = strdup (argv [a]);
        if (!child->argv [a]) {
            while (a > 0)
                free (child->argv [--a]);
            child->argv [0] = NULL;
            return -1;
        }
    }
    child->argv [argc] = NULL;
    snprintf (child->name, sizeof child->name, "%s", name);
    child->last_status   = -1;
    child->next_delay_ms = self->config.backoff_min_ms;
    return (int) self->size++;
}

int
supervisor_set_env (supervisor_t *self, int index, const char *entry)
{
    if (!self || index < 0 || (size_t) index >= self->size || !entry || !strchr (entry, '='))
        return -1;
    s_child_t *child = &self->children [index];
    char *copy = strdup (entry);
    if (!copy)
        return -1;
    if (child->env_extra) {
        explicit_bzero (child->env_extra, strlen (child->env_extra));
        free (child->env_extra);
    }
    child->env_extra = copy;
    return 0;
}

int
supervisor_start (supervisor_t *self)
{
    if (!self || self->stopping)
        return -1;
    for (size_t i = 0; i < self->size; i++) {
        s_child_t *child = &self->children [i];
        if (child->started)
            continue;
        if (s_spawn (child, 0) == -1) {
            int err = errno;
            log_error ("cannot start %s (%s): %s", child->name,
                       child->argv [0], strerror (err));
            errno = err;
            return -1;
        }
        child->started = true;
        log_info ("started %s (pid %d)", child->name, (int) child->pid);
    }
    return 0;
}

int
supervisor_on_child_exit (supervisor_t *self)
{
    if (!self)
        return 0;
    int reaped = 0;
    for (size_t i = 0; i < self->size; i++) {
        s_child_t *child = &self->children [i];
        if (child->pid <= 0)
            continue;
        int status;
        pid_t rc;
        do
            rc = waitpid (child->pid, &status, WNOHANG);
        while (rc == -1 && errno == EINTR);
        if (rc == child->pid) {
            s_reaped (self, child, status);
            reaped++;
        }
        else
        if (rc == -1 && errno == ECHILD) {
            //  Someone else reaped it (waitpid(-1) elsewhere): count it gone.
            log_warn ("%s (pid %d) vanished without a status",
                      child->name, (int) child->pid);
            s_reaped (self, child, 0);
            reaped++;
        }
    }
    return reaped;
}

int
supervisor_restart_due (supervisor_t *self)
{
    if (!self || self->stopping)
        return -1;
    int64_t next = -1;
    for (size_t i = 0; i < self->size; i++) {
        s_child_t *child = &self->children [i];
        if (child->pid > 0 || child->restart_at == 0)
            continue;
        int64_t now = zclock_mono ();
        if (child->restart_at <= now) {
            if (s_spawn (child, child->restarts + 1) == 0) {
                child->restarts++;
                log_info ("restarted %s (pid %d)", child->name, (int) child->pid);
                if (self->observer) {
                    supervisor_event_t event = {
                        .event = "restarted", .name = child->name, .pid = child->pid,
                        .cause = "", .status = -1, .restarts = child->restarts,
                    };
                    self->observer (self->observer_arg, &event);
                }
                continue;
            }
            //  Treat a failed start like an immediate exit with status 127.
            log_error ("cannot restart %s (%s): %s", child->name,
                       child->argv [0], strerror (errno));
            child->last_status = 127 << 8;
            s_schedule (self, child, 0);
        }
        int64_t wait = child->restart_at - now;
        if (wait < 0)
            wait = 0;
        if (next < 0 || wait < next)
            next = wait;
    }
    return next > INT32_MAX? INT32_MAX: (int) next;
}

//  SIGTERM children [from, to), wait for them until deadline, SIGKILL the
//  rest and reap them. Returns how many needed SIGKILL.
static int
s_stop_range (supervisor_t *self, size_t from, size_t to, int64_t deadline)
{
    for (size_t i = to; i > from; i--) {
        s_child_t *child = &self->children [i - 1];
        if (child->pid > 0)
            kill (child->pid, SIGTERM);
    }
    while (true) {
        supervisor_on_child_exit (self);
        bool running = false;
        for (size_t i = from; i < to; i++)
            if (self->children [i].pid > 0)
                running = true;
        if (!running)
            return 0;
        if (zclock_mono () >= deadline)
            break;
        s_sleep_ms (S_STOP_POLL_MS);
    }
    int killed = 0;
    for (size_t i = from; i < to; i++) {
        s_child_t *child = &self->children [i];
        if (child->pid <= 0)
            continue;
        log_warn ("%s (pid %d) did not stop in time; sending SIGKILL",
                  child->name, (int) child->pid);
        kill (child->pid, SIGKILL);
        int status;
        pid_t rc;
        do
            rc = waitpid (child->pid, &status, 0);
        while (rc == -1 && errno == EINTR);
        s_reaped (self, child, rc == child->pid? status: SIGKILL);
        killed++;
    }
    return killed;
}

int
supervisor_stop_all (supervisor_t *self, int timeout_ms)
{
    if (!self)
        return 0;
    self->stopping = true;
    for (size_t i = 0; i < self->size; i++)
        self->children [i].restart_at = 0;
    if (self->size == 0)
        return 0;
    if (timeout_ms < 0)
        timeout_ms = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    int killed = s_stop_range (self, 1, self->size, deadline);
    int64_t hub_deadline = zclock_mono () + S_HUB_GRACE_MS;
    if (hub_deadline < deadline)
        hub_deadline = deadline;
    killed += s_stop_range (self, 0, 1, hub_deadline);
    return killed;
}

size_t
supervisor_size (supervisor_t *self)
{
    return self? self->size: 0;
}

const char *
supervisor_name (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child? child->name: NULL;
}

pid_t
supervisor_pid (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child? child->pid: 0;
}

int
supervisor_restarts (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child? child->restarts: 0;
}

int
supervisor_last_status (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child? child->last_status: -1;
}

int
supervisor_last_delay_ms (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child? child->last_delay_ms: 0;
}

bool
supervisor_restart_pending (supervisor_t *self, int index)
{
    s_child_t *child = s_child (self, index);
    return child && child->pid == 0 && child->restart_at != 0;
}

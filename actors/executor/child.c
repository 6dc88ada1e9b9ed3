/*  child.c — the sandbox child; see child.h for the sequence. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "child.h"
#include "frame_io.h"

#define JOB_MAX (8u << 20)
#define NOBODY  65534

//  Report a failure before or around the tool as the call's result. A
//  pending Python exception (from the harness, not the tool) is appended.
static void __attribute__ ((noreturn))
s_fail (const char *message)
{
    char text [600];
    snprintf (text, sizeof text, "%s", message);
    if (PyErr_Occurred ()) {
        PyObject *type, *value, *trace;
        PyErr_Fetch (&type, &value, &trace);
        PyObject *shown = value ? PyObject_Str (value) : NULL;
        const char *detail = shown ? PyUnicode_AsUTF8 (shown) : NULL;
        if (detail)
            snprintf (text, sizeof text, "%s: %.400s", message, detail);
    }
    json_t *frame = json_pack ("{s:s, s:b, s:{s:s, s:s, s:n, s:[]}, s:s}",
                               "type", "result", "success", 0, "error", "type", "SandboxError",
                               "message", text, "line", "context", "stdout", "");
    char *encoded = frame ? json_dumps (frame, JSON_COMPACT) : NULL;
    if (encoded)
        frame_write (CHILD_UP_FD, encoded, strlen (encoded));
    close (CHILD_UP_FD);
    _exit (3);
}

//  --- MCPBOX_CHILD_PROFILE builds (benchmarks only): per-phase CPU ------
//  Each mark records this process's CPU time and minor faults so far; at
//  the end one line goes to the executor's stderr, which such a build keeps
//  as the child's fd 2. bench/README.md has the resulting table.
#ifdef MCPBOX_CHILD_PROFILE
#   include <time.h>
#   define PHASES 6
static const char *s_phase_names [PHASES] = { "start", "spare_ready", "job_read", "prepared",
                                               "sandboxed", "executed" };
static struct { double cpu_us, wall_us; long minflt; } s_marks [PHASES];
static void
s_mark (int phase)
{
    struct timespec cpu, wall;
    struct rusage usage;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu);
    clock_gettime (CLOCK_MONOTONIC, &wall);
    getrusage (RUSAGE_SELF, &usage);
    s_marks [phase].cpu_us = (double) cpu.tv_sec * 1e6 + (double) cpu.tv_nsec / 1e3;
    s_marks [phase].wall_us = (double) wall.tv_sec * 1e6 + (double) wall.tv_nsec / 1e3;
    s_marks [phase].minflt = usage.ru_minflt;
}
static void
s_report (void)
{
    char line [512];
    int n = snprintf (line, sizeof line, "mcpbox-child-profile");
    for (int i = 0; i < PHASES; i++)
        n += snprintf (line + n, sizeof line - (size_t) n, " %s=%.0f/%ld", s_phase_names [i],
                       s_marks [i].cpu_us - (i ? s_marks [i - 1].cpu_us : 0),
                       s_marks [i].minflt - (i ? s_marks [i - 1].minflt : 0));
    n += snprintf (line + n, sizeof line - (size_t) n, " job_to_result_wall=%.0f\n",
                   s_marks [PHASES - 1].wall_us - s_marks [2].wall_us);
    if (write (2, line, (size_t) n) < 0)
        return;
}
#   define MARK(phase) s_mark (phase)
#else
#   define MARK(phase) ((void) 0)
#endif

//  Keep down/up as fds 3/4 and nothing else beyond stdio.
static void
s_arrange_fds (int down, int up)
{
    //  move both out of the way first, so dup2 never clobbers the other
    int d = fcntl (down, F_DUPFD_CLOEXEC, 10);
    int u = fcntl (up, F_DUPFD_CLOEXEC, 10);
    if (d < 0 || u < 0)
        _exit (4);
    if (dup2 (d, CHILD_DOWN_FD) < 0 || dup2 (u, CHILD_UP_FD) < 0)
        _exit (4);
    int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2 (null, 0);
        dup2 (null, 1);
#ifndef MCPBOX_CHILD_PROFILE
        dup2 (null, 2);
#endif
    }
    syscall (SYS_close_range, CHILD_UP_FD + 1, ~0U, 0);
}

static int
s_limit (int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit limit = { soft, hard };
    return setrlimit (resource, &limit);
}

//  CPU seconds and the rest, from the job's timeout (ms).
static int
s_apply_limits (size_t base_vm, long timeout_ms)
{
    rlim_t cpu = (rlim_t) (timeout_ms + 999) / 1000 + 1;
    int rc = 0;
#if !defined (__SANITIZE_ADDRESS__)
    //  AddressSanitizer reserves terabytes of shadow address space, so a
    //  sanitized test build cannot limit it; release builds always do.
    rlim_t memory = (rlim_t) base_vm + ((rlim_t) CHILD_MEMORY_MB << 20);
    rc |= s_limit (RLIMIT_AS, memory, memory);
#else
    (void) base_vm;
#endif
    rc |= s_limit (RLIMIT_CPU, cpu, cpu + 1);
    rc |= s_limit (RLIMIT_NOFILE, 256, 256);
    rc |= s_limit (RLIMIT_CORE, 0, 0);
    rc |= s_limit (RLIMIT_FSIZE, 0, 0);
    rc |= s_limit (RLIMIT_NPROC, 0, 0);
    rc |= s_limit (RLIMIT_MEMLOCK, 0, 0);
    rc |= s_limit (RLIMIT_MSGQUEUE, 0, 0);
    return rc;
}

static int
s_drop_privileges (void)
{
    if (geteuid () != 0)
        return 0;
    if (setgroups (0, NULL) != 0
    ||  setresgid (NOBODY, NOBODY, NOBODY) != 0
    ||  setresuid (NOBODY, NOBODY, NOBODY) != 0)
        return -1;
    //  and make sure there is no way back
    if (setresuid (0, 0, 0) == 0)
        return -1;
    return 0;
}

void
child_main (PyObject *harness, const seccomp_filter_t *filter, size_t base_vm,
            pid_t parent, int down, int up)
{
    MARK (0);
    prctl (PR_SET_NAME, "mcpbox-sandbox");
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (0);
    signal (SIGPIPE, SIG_IGN);
    s_arrange_fds (down, up);
    //  nothing in this process runs as root from here on, not even the
    //  imports of admin-approved modules
    if (s_drop_privileges () != 0)
        s_fail ("cannot drop privileges");

    //  the warm spare waits here
    MARK (1);
    size_t size = 0;
    char *job = frame_read (CHILD_DOWN_FD, JOB_MAX, &size);
    if (!job)
        _exit (0);
    MARK (2);
    //  prepare() answers the job's timeout in ms
    PyObject *prepared = PyObject_CallMethod (harness, "prepare", "s#", job, (Py_ssize_t) size);
    free (job);
    long timeout_ms = prepared ? PyLong_AsLong (prepared) : -1;
    Py_XDECREF (prepared);
    if (timeout_ms <= 0 || timeout_ms > 300000)
        s_fail ("the job could not be decoded");
    MARK (3);

    if (s_apply_limits (base_vm, timeout_ms) != 0)
        s_fail ("cannot set resource limits");
    prctl (PR_SET_DUMPABLE, 0);
    if (seccomp_filter_load (filter) != 0)
        s_fail ("cannot load the seccomp filter");
    MARK (4);

    //  from here on: no files, no sockets, no processes
    PyObject *result = PyObject_CallMethod (harness, "execute", "((ii))",
                                            CHILD_DOWN_FD, CHILD_UP_FD);
    if (!result)
        s_fail ("the sandbox harness failed");
    Py_ssize_t length = 0;
    char *text = NULL;
    if (!PyBytes_Check (result) || PyBytes_AsStringAndSize (result, &text, &length) != 0)
        s_fail ("the result could not be encoded");
    frame_write (CHILD_UP_FD, text, (size_t) length);
    MARK (5);
#ifdef MCPBOX_CHILD_PROFILE
    s_report ();            //  before the parent, seeing EOF, kills us
#endif
    //  end of the call for the parent: it needs EOF to know no second
    //  frame follows, and need not wait for our teardown
    close (CHILD_UP_FD);
    _exit (0);
}

/*  zygote.c — the zygote process and the executor's handle on it.
    See zygote.h for the design; child.c is what a child does. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child.h"
#include "log.h"
#include "seccomp_filter.h"
#include "zygote.h"

extern const char   harness_source [];     //  harness.py, embedded
extern const size_t harness_source_size;

#ifndef MCPBOX_PYTHON_HOME
#   error "MCPBOX_PYTHON_HOME must name the prefix of the libpython we link"
#endif

typedef struct {
    int32_t status;     //  0, or an errno value
    int32_t pid;
} zygote_msg_t;

struct _zygote_t {
    pid_t   pid;
    int     sock;
    size_t  pending;    //  children asked for, not yet taken
    bool    dead;       //  the zygote closed its end or died
};

//  --- in the zygote process ----------------------------------------------------

typedef struct {
    PyObject          *harness;     //  the mcpbox_harness module
    seccomp_filter_t  *filter;
    size_t             base_vm;     //  address space size after warm-up
    pid_t              executor;
} warm_t;

static size_t
s_vm_size (void)
{
    FILE *file = fopen ("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (file) {
        if (fscanf (file, "%lu", &pages) != 1)
            pages = 0;
        fclose (file);
    }
    return (size_t) pages * (size_t) sysconf (_SC_PAGESIZE);
}

static void
s_python_error (char *err, size_t errlen, const char *what)
{
    PyObject *type, *value, *trace;
    PyErr_Fetch (&type, &value, &trace);
    PyObject *text = value ? PyObject_Str (value) : NULL;
    const char *message = text ? PyUnicode_AsUTF8 (text) : NULL;
    snprintf (err, errlen, "%s: %s", what, message ? message : "unknown Python error");
    Py_XDECREF (text);
    Py_XDECREF (type);
    Py_XDECREF (value);
    Py_XDECREF (trace);
}

//  The interpreter, pinned to the standard library of the libpython we
//  were built against (never one that PATH or the environment points at).
static int
s_warm_up (warm_t *warm, char *err, size_t errlen)
{
    warm->filter = seccomp_filter_new (err, errlen);
    if (!warm->filter)
        return -1;
    PyConfig config;
    PyConfig_InitIsolatedConfig (&config);
    config.install_signal_handlers = 0;     //  signals are the executor's
    config.write_bytecode = 0;
    config.site_import = 0;
    config.user_site_directory = 0;
    config.configure_c_stdio = 0;
    config.parse_argv = 0;
    PyStatus status = PyConfig_SetBytesString (&config, &config.home, MCPBOX_PYTHON_HOME);
    if (!PyStatus_Exception (status))
        status = PyConfig_SetBytesString (&config, &config.program_name,
                                          MCPBOX_PYTHON_HOME "/bin/python3");
    if (!PyStatus_Exception (status))
        status = Py_InitializeFromConfig (&config);
    PyConfig_Clear (&config);
    if (PyStatus_Exception (status)) {
        snprintf (err, errlen, "cannot start Python: %s",
                  status.err_msg ? status.err_msg : "unknown");
        return -1;
    }
    PyObject *code = Py_CompileString (harness_source, "mcpbox_harness.py", Py_file_input);
    if (code)
        warm->harness = PyImport_ExecCodeModule ("mcpbox_harness", code);
    Py_XDECREF (code);
    PyObject *result = warm->harness
        ? PyObject_CallMethod (warm->harness, "zygote_init", NULL) : NULL;
    if (!result) {
        s_python_error (err, errlen, "cannot load the sandbox harness");
        return -1;
    }
    Py_DECREF (result);
    warm->base_vm = s_vm_size ();
    return 0;
}

static int
s_send (int sock, int32_t status, pid_t pid, const int *fds, const char *text)
{
    zygote_msg_t msg = { status, (int32_t) pid };
    char data [sizeof msg + 512];
    memcpy (data, &msg, sizeof msg);
    size_t size = sizeof msg;
    if (text) {
        size_t len = strnlen (text, 511);
        memcpy (data + size, text, len);
        size += len;
    }
    struct iovec iov = { data, size };
    union {
        struct cmsghdr align;
        char           space [CMSG_SPACE (2 * sizeof (int))];
    } control;
    struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fds) {
        memset (&control, 0, sizeof control);
        header.msg_control = control.space;
        header.msg_controllen = sizeof control.space;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR (&header);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN (2 * sizeof (int));
        memcpy (CMSG_DATA (cmsg), fds, 2 * sizeof (int));
    }
    ssize_t rc;
    do
        rc = sendmsg (sock, &header, MSG_NOSIGNAL);
    while (rc < 0 && errno == EINTR);
    return rc == (ssize_t) size ? 0 : -1;
}

//  One child: pipes, then clone(CLONE_PARENT) so the executor is its parent.
static void
s_make_child (warm_t *warm, int sock)
{
    int down [2], up [2];
    if (pipe2 (down, O_CLOEXEC) != 0) {
        s_send (sock, errno, 0, NULL, NULL);
        return;
    }
    if (pipe2 (up, O_CLOEXEC) != 0) {
        int saved = errno;
        close (down [0]);
        close (down [1]);
        s_send (sock, saved, 0, NULL, NULL);
        return;
    }
    PyOS_BeforeFork ();
    //  a raw clone: glibc's fork() has no way to ask for CLONE_PARENT; the
    //  zygote is single-threaded, so nothing fork() would reset is in use
    pid_t pid = (pid_t) syscall (SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
        PyOS_AfterFork_Child ();
        child_main (warm->harness, warm->filter, warm->base_vm, warm->executor,
                    down [0], up [1]);
        _exit (70);             //  child_main does not return
    }
    int saved = errno;
    PyOS_AfterFork_Parent ();
    close (down [0]);
    close (up [1]);
    if (pid < 0) {
        close (down [1]);
        close (up [0]);
        s_send (sock, saved, 0, NULL, NULL);
        return;
    }
    int fds [2] = { down [1], up [0] };
    s_send (sock, 0, pid, fds, NULL);
    //  the next child must not inherit this one's pipes
    close (down [1]);
    close (up [0]);
}

#ifdef MCPBOX_TEST_HOOKS
//  Test builds only: the deliberate leak that proves the memory test can
//  fail. A job the executor shows us (zygote_test_show_job) is kept, never
//  zeroed, in this process and so in every child forked after it.
#define ZYGOTE_TEST_JOB_MAX (64 * 1024)
static char *s_test_jobs [8];
static size_t s_test_job_count;

static void
s_test_keep_job (const char *job, size_t size)
{
    char *copy = malloc (size + 1);
    if (!copy)
        return;
    memcpy (copy, job, size);
    copy [size] = 0;
    free (s_test_jobs [s_test_job_count % 8]);
    s_test_jobs [s_test_job_count++ % 8] = copy;
}
#endif

static void __attribute__ ((noreturn))
s_zygote_main (int sock, pid_t executor)
{
    prctl (PR_SET_NAME, "mcpbox-zygote");
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != executor)
        _exit (0);
    signal (SIGPIPE, SIG_IGN);
    signal (SIGINT, SIG_IGN);       //  the executor stops us; a ^C is its business
    signal (SIGTERM, SIG_DFL);
    //  the executor's environment is not the tools' business, and the
    //  harness would otherwise clear it again in every child
    clearenv ();
    warm_t warm = { .executor = executor };
    char err [512] = "";
    if (s_warm_up (&warm, err, sizeof err) != 0) {
        s_send (sock, EINVAL, getpid (), NULL, err);
        _exit (1);
    }
    s_send (sock, 0, getpid (), NULL, NULL);
    while (true) {
#ifdef MCPBOX_TEST_HOOKS
        static char wants [ZYGOTE_TEST_JOB_MAX];
#else
        char wants [64];
#endif
        ssize_t n = recv (sock, wants, sizeof wants, 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            _exit (0);          //  the executor is gone or closed us
#ifdef MCPBOX_TEST_HOOKS
        if (n > 0 && wants [0] == 'J') {
            s_test_keep_job (wants + 1, (size_t) n - 1);
            continue;
        }
#endif
        for (ssize_t i = 0; i < n; i++)
            s_make_child (&warm, sock);
    }
}

//  --- in the executor ----------------------------------------------------------------

//  One message from the zygote. 1, 0 (none ready, !wait), -1 + err.
static int
s_receive (zygote_t *self, zygote_msg_t *msg, int fds [2], bool wait, char *text, size_t textlen)
{
    char data [sizeof *msg + 512];
    struct iovec iov = { data, sizeof data };
    union {
        struct cmsghdr align;
        char           space [CMSG_SPACE (2 * sizeof (int))];
    } control;
    struct msghdr header = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.space, .msg_controllen = sizeof control.space
    };
    ssize_t n;
    do
        n = recvmsg (self->sock, &header, MSG_CMSG_CLOEXEC | (wait ? 0 : MSG_DONTWAIT));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    fds [0] = fds [1] = -1;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&header); cmsg; cmsg = CMSG_NXTHDR (&header, cmsg))
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
        &&  cmsg->cmsg_len == CMSG_LEN (2 * sizeof (int)))
            memcpy (fds, CMSG_DATA (cmsg), 2 * sizeof (int));
    if (n < (ssize_t) sizeof *msg || (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        snprintf (text, textlen, "the zygote is gone");
        self->dead = true;
        if (fds [0] >= 0) {
            close (fds [0]);
            close (fds [1]);
        }
        return -1;
    }
    memcpy (msg, data, sizeof *msg);
    size_t len = (size_t) n - sizeof *msg;
    snprintf (text, textlen, "%.*s", (int) len, data + sizeof *msg);
    return 1;
}

zygote_t *
zygote_new (char *err, size_t errlen)
{
    int pair [2];
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        snprintf (err, errlen, "socketpair: %s", strerror (errno));
        return NULL;
    }
    pid_t executor = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        close (pair [0]);
        s_zygote_main (pair [1], executor);
    }
    close (pair [1]);
    if (pid < 0) {
        snprintf (err, errlen, "fork: %s", strerror (errno));
        close (pair [0]);
        return NULL;
    }
    zygote_t *self = calloc (1, sizeof *self);
    if (!self) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        close (pair [0]);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->pid = pid;
    self->sock = pair [0];
    zygote_msg_t msg;
    int fds [2];
    char text [512];
    if (s_receive (self, &msg, fds, true, text, sizeof text) != 1 || msg.status != 0) {
        snprintf (err, errlen, "the zygote did not start: %s", *text ? text : "no reason given");
        zygote_destroy (&self);
        return NULL;
    }
    return self;
}

void
zygote_destroy (zygote_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zygote_t *self = *self_p;
    close (self->sock);             //  the zygote exits on EOF
    kill (self->pid, SIGKILL);      //  or now, if it is busy
    waitpid (self->pid, NULL, 0);
    free (self);
    *self_p = NULL;
}

int
zygote_request (zygote_t *self)
{
    char want = 'c';
    if (send (self->sock, &want, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
        return -1;
    self->pending++;
    return 0;
}

size_t
zygote_pending (zygote_t *self)
{
    return self->pending;
}

bool
zygote_alive (zygote_t *self)
{
    return !self->dead;
}

int
zygote_fd (zygote_t *self)
{
    return self->sock;
}

pid_t
zygote_pid (zygote_t *self)
{
    return self->pid;
}

int
zygote_take (zygote_t *self, sandbox_child_t *child, bool wait, char *err, size_t errlen)
{
    if (wait && self->pending == 0 && zygote_request (self) != 0) {
        snprintf (err, errlen, "cannot ask the zygote for a child: %s", strerror (errno));
        return -1;
    }
    zygote_msg_t msg;
    int fds [2];
    char text [512];
    int rc = s_receive (self, &msg, fds, wait, text, sizeof text);
    if (rc <= 0) {
        if (rc < 0)
            snprintf (err, errlen, "%s", text);
        return rc;
    }
    if (self->pending)
        self->pending--;
    if (msg.status != 0 || fds [0] < 0) {
        snprintf (err, errlen, "the zygote could not fork: %s", strerror (msg.status));
        if (fds [0] >= 0) {
            close (fds [0]);
            close (fds [1]);
        }
        return -1;
    }
    child->pid = msg.pid;
    child->down = fds [0];
    child->up = fds [1];
    fcntl (child->up, F_SETFL, O_NONBLOCK);
    child->pidfd = (int) syscall (SYS_pidfd_open, child->pid, 0);
    if (child->pidfd < 0) {
        snprintf (err, errlen, "pidfd_open: %s", strerror (errno));
        kill (child->pid, SIGKILL);
        waitpid (child->pid, NULL, 0);
        sandbox_child_close (child);
        return -1;
    }
    return 1;
}

void
sandbox_child_close (sandbox_child_t *child)
{
    if (child->down >= 0)
        close (child->down);
    if (child->up >= 0)
        close (child->up);
    if (child->pidfd >= 0)
        close (child->pidfd);
    child->down = child->up = child->pidfd = -1;
}

#ifdef MCPBOX_TEST_HOOKS
void
zygote_test_show_job (zygote_t *self, const char *job, size_t size)
{
    char *message = malloc (size + 1);
    if (!message || size + 1 > ZYGOTE_TEST_JOB_MAX) {
        free (message);
        return;
    }
    message [0] = 'J';
    memcpy (message + 1, job, size);
    if (send (self->sock, message, size + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        log_warn ("test hook: cannot show the zygote a job: %s", strerror (errno));
    free (message);
}
#endif

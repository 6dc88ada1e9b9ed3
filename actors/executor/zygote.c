/*  zygote.c — embed CPython, load the harness, fork children.
    See zygote.h for the design; child.c is what a child does. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child.h"
#include "seccomp_filter.h"
#include "zygote.h"

extern const char   harness_source [];     //  harness.py, embedded
extern const size_t harness_source_size;

struct _zygote_t {
    PyObject          *harness;     //  the mcpbox_harness module
    seccomp_filter_t  *filter;
    size_t             base_vm;     //  our address space size after warm-up
};

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

zygote_t *
zygote_new (char *err, size_t errlen)
{
    zygote_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->filter = seccomp_filter_new (err, errlen);
    if (!self->filter) {
        free (self);
        return NULL;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig (&config);
    config.install_signal_handlers = 0;     //  signals are the executor's
    config.write_bytecode = 0;
    config.site_import = 0;
    config.user_site_directory = 0;
    config.configure_c_stdio = 0;
    config.parse_argv = 0;
    PyStatus status = Py_InitializeFromConfig (&config);
    PyConfig_Clear (&config);
    if (PyStatus_Exception (status)) {
        snprintf (err, errlen, "cannot start Python: %s",
                  status.err_msg ? status.err_msg : "unknown");
        zygote_destroy (&self);
        return NULL;
    }
    PyObject *code = Py_CompileString (harness_source, "mcpbox_harness.py", Py_file_input);
    if (code)
        self->harness = PyImport_ExecCodeModule ("mcpbox_harness", code);
    Py_XDECREF (code);
    PyObject *result = self->harness
        ? PyObject_CallMethod (self->harness, "zygote_init", NULL) : NULL;
    if (!result) {
        s_python_error (err, errlen, "cannot load the sandbox harness");
        zygote_destroy (&self);
        return NULL;
    }
    Py_DECREF (result);
    self->base_vm = s_vm_size ();
    return self;
}

void
zygote_destroy (zygote_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zygote_t *self = *self_p;
    Py_XDECREF (self->harness);
    if (Py_IsInitialized ())
        Py_FinalizeEx ();
    seccomp_filter_destroy (&self->filter);
    free (self);
    *self_p = NULL;
}

int
zygote_fork (zygote_t *self, sandbox_child_t *child, char *err, size_t errlen)
{
    int down [2], up [2];
    if (pipe2 (down, O_CLOEXEC) != 0) {
        snprintf (err, errlen, "pipe: %s", strerror (errno));
        return -1;
    }
    if (pipe2 (up, O_CLOEXEC) != 0) {
        snprintf (err, errlen, "pipe: %s", strerror (errno));
        close (down [0]);
        close (down [1]);
        return -1;
    }
    pid_t parent = getpid ();
    PyOS_BeforeFork ();
    pid_t pid = fork ();
    if (pid == 0) {
        PyOS_AfterFork_Child ();
        child_main (self->harness, self->filter, self->base_vm, parent, down [0], up [1]);
        _exit (70);             //  child_main does not return
    }
    int saved = errno;
    PyOS_AfterFork_Parent ();
    close (down [0]);
    close (up [1]);
    if (pid < 0) {
        snprintf (err, errlen, "fork: %s", strerror (saved));
        close (down [1]);
        close (up [0]);
        return -1;
    }
    child->pid = pid;
    child->down = down [1];
    child->up = up [0];
    child->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    fcntl (child->up, F_SETFL, O_NONBLOCK);
    if (child->pidfd < 0) {
        snprintf (err, errlen, "pidfd_open: %s", strerror (errno));
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        sandbox_child_close (child);
        return -1;
    }
    return 0;
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

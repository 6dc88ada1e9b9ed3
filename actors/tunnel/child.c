/*  child.c — start, signal and reap the tunnel client (child.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "child.h"


//  The child side of fork(): async-signal-safe calls only.
static void
s_child (int out_fd, int report_fd, pid_t parent, char *const argv [], char *const envp [])
{
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGPIPE, SIG_DFL);
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    setsid ();
    if (prctl (PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid () != parent)
        _exit (127);
    int null_fd = open ("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2 (null_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (out_fd, 2) < 0)
        goto fail;
    //  every other descriptor closes at exec; report_fd is close-on-exec
    //  already and must stay open until then
    for (int fd = 3; fd < report_fd; fd++)
        close (fd);
    if (close_range ((unsigned) report_fd + 1, ~0U, 0) != 0)
        for (int fd = report_fd + 1; fd < 65536; fd++)
            close (fd);
    execve (argv [0], argv, envp);
fail:;
    int error = errno;
    ssize_t ignored = write (report_fd, &error, sizeof error);
    (void) ignored;
    _exit (127);
}

int
child_start (child_t *self, char *const argv [], char *const envp [])
{
    self->pid = 0;
    self->out_fd = -1;
    int out [2], report [2];
    if (pipe2 (out, O_CLOEXEC) != 0)
        return -1;
    if (pipe2 (report, O_CLOEXEC) != 0) {
        close (out [0]);
        close (out [1]);
        return -1;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        int error = errno;
        close (out [0]); close (out [1]); close (report [0]); close (report [1]);
        errno = error;
        return -1;
    }
    if (pid == 0) {
        close (out [0]);
        close (report [0]);
        s_child (out [1], report [1], parent, argv, envp);
    }
    close (out [1]);
    close (report [1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read (report [0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close (report [0]);
    if (got == (ssize_t) sizeof exec_errno) {
        waitpid (pid, NULL, 0);
        close (out [0]);
        errno = exec_errno ? exec_errno : ENOEXEC;
        return -1;
    }
    fcntl (out [0], F_SETFL, fcntl (out [0], F_GETFL) | O_NONBLOCK);
    self->pid = pid;
    self->out_fd = out [0];
    return 0;
}

int
child_signal (child_t *self, int sig)
{
    if (self->pid <= 0)
        return -1;
    return kill (self->pid, sig);
}

bool
child_reap (child_t *self, int *status)
{
    if (self->pid <= 0)
        return false;
    int st = 0;
    pid_t got = waitpid (self->pid, &st, WNOHANG);
    if (got > 0 || (got < 0 && errno == ECHILD)) {
        self->pid = 0;
        if (status)
            *status = got > 0 ? st : 0;
        return true;
    }
    return false;
}

void
child_close_out (child_t *self)
{
    if (self->out_fd >= 0)
        close (self->out_fd);
    self->out_fd = -1;
}

/*  seccomp_filter.c — what a sandbox child may ask of the kernel.

    Default: EPERM. The child already holds everything it needs (its two
    pipes, its memory); after the filter is loaded it only computes, reads
    its job pipe, writes its result pipe and exits. Calls that only an
    escape attempt would make kill the process outright (SIGSYS), so the
    executor can name the cause: exec, fork/clone of any kind, sockets,
    ptrace and cross-process memory access. Opening files fails with EACCES
    (a stdlib module that tries to read a file gets a PermissionError, not
    a crash). mmap/mprotect may not create executable memory.

    Foreign architectures (i386, x32 entry points) are killed by
    libseccomp's default bad-arch action.
*/
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "seccomp_filter.h"

static const int s_allowed [] = {
    SCMP_SYS (read), SCMP_SYS (write), SCMP_SYS (readv), SCMP_SYS (writev),
    SCMP_SYS (pread64), SCMP_SYS (lseek), SCMP_SYS (close), SCMP_SYS (fstat),
    SCMP_SYS (brk), SCMP_SYS (munmap), SCMP_SYS (mremap), SCMP_SYS (madvise),
    SCMP_SYS (futex), SCMP_SYS (getrandom),
    SCMP_SYS (clock_gettime), SCMP_SYS (clock_getres), SCMP_SYS (gettimeofday),
    SCMP_SYS (time), SCMP_SYS (nanosleep), SCMP_SYS (clock_nanosleep),
    SCMP_SYS (sched_yield), SCMP_SYS (getpid), SCMP_SYS (gettid),
    SCMP_SYS (getuid), SCMP_SYS (geteuid), SCMP_SYS (getgid), SCMP_SYS (getegid),
    SCMP_SYS (getrusage), SCMP_SYS (rt_sigprocmask), SCMP_SYS (rt_sigreturn),
    SCMP_SYS (sigaltstack), SCMP_SYS (restart_syscall),
    SCMP_SYS (poll), SCMP_SYS (ppoll),
    SCMP_SYS (exit), SCMP_SYS (exit_group),
};

static const int s_killed [] = {
    SCMP_SYS (execve), SCMP_SYS (execveat),
    SCMP_SYS (fork), SCMP_SYS (vfork), SCMP_SYS (clone), SCMP_SYS (clone3),
    SCMP_SYS (socket), SCMP_SYS (socketpair), SCMP_SYS (connect), SCMP_SYS (bind),
    SCMP_SYS (listen), SCMP_SYS (accept), SCMP_SYS (accept4),
    SCMP_SYS (ptrace), SCMP_SYS (process_vm_readv), SCMP_SYS (process_vm_writev),
    SCMP_SYS (mount), SCMP_SYS (umount2), SCMP_SYS (unshare), SCMP_SYS (setns),
    SCMP_SYS (pivot_root), SCMP_SYS (chroot),
    SCMP_SYS (kill), SCMP_SYS (tkill), SCMP_SYS (tgkill), SCMP_SYS (pidfd_open),
    SCMP_SYS (pidfd_send_signal), SCMP_SYS (bpf), SCMP_SYS (perf_event_open),
    SCMP_SYS (userfaultfd), SCMP_SYS (io_uring_setup), SCMP_SYS (keyctl),
    SCMP_SYS (add_key), SCMP_SYS (request_key), SCMP_SYS (init_module),
    SCMP_SYS (finit_module), SCMP_SYS (kexec_load),
};

//  fcntl only for what CPython and libc ask of their own fds. F_SETOWN,
//  F_SETOWN_EX and F_SETSIG with O_ASYNC make the kernel signal another
//  process when the pipe becomes ready: `kill` by another name (delivered
//  when the child has the executor's uid, i.e. an executor not run as
//  root), so they kill the child like `kill` does; other commands: EPERM.
static const int s_fcntl_allowed [] = {
    F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC,
    F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
    F_GETPIPE_SZ, F_SETPIPE_SZ, F_GET_SEALS,
};

static const int s_fcntl_killed [] = {
    F_SETOWN, F_SETOWN_EX, F_SETSIG,
};

static const int s_no_files [] = {
    SCMP_SYS (open), SCMP_SYS (openat), SCMP_SYS (openat2), SCMP_SYS (creat),
    SCMP_SYS (memfd_create), SCMP_SYS (mknod), SCMP_SYS (mknodat),
    //  by path: even a file's metadata is not the tool's business
    //  (newfstatat with AT_EMPTY_PATH would still take a path, so all of it)
    SCMP_SYS (newfstatat), SCMP_SYS (statx), SCMP_SYS (stat), SCMP_SYS (lstat),
    SCMP_SYS (access), SCMP_SYS (faccessat), SCMP_SYS (faccessat2),
    SCMP_SYS (readlink), SCMP_SYS (readlinkat), SCMP_SYS (getdents64),
};

seccomp_filter_t *
seccomp_filter_new (char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
    if (!ctx) {
        snprintf (err, errlen, "seccomp_init failed");
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof s_allowed / sizeof s_allowed [0]; i++)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, s_allowed [i], 0);
    for (size_t i = 0; rc == 0 && i < sizeof s_killed / sizeof s_killed [0]; i++)
        rc = seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, s_killed [i], 0);
    for (size_t i = 0; rc == 0 && i < sizeof s_no_files / sizeof s_no_files [0]; i++)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EACCES), s_no_files [i], 0);
    //  memory, but never executable memory
    for (size_t i = 0; rc == 0 && i < sizeof s_fcntl_allowed / sizeof s_fcntl_allowed [0]; i++)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (fcntl), 1,
                               SCMP_A1 (SCMP_CMP_EQ, (scmp_datum_t) s_fcntl_allowed [i]));
    for (size_t i = 0; rc == 0 && i < sizeof s_fcntl_killed / sizeof s_fcntl_killed [0]; i++)
        rc = seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (fcntl), 1,
                               SCMP_A1 (SCMP_CMP_EQ, (scmp_datum_t) s_fcntl_killed [i]));
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (mmap), 1,
                               SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (mprotect), 1,
                               SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (rc != 0) {
        snprintf (err, errlen, "seccomp rule: %s", strerror (-rc));
        seccomp_release (ctx);
        return NULL;
    }
    //  export the BPF once; children only load it
    seccomp_filter_t *self = NULL;
    int fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
    if (fd >= 0 && seccomp_export_bpf (ctx, fd) == 0) {
        off_t size = lseek (fd, 0, SEEK_END);
        if (size > 0 && size % sizeof (struct sock_filter) == 0) {
            self = calloc (1, sizeof *self);
            struct sock_filter *code = malloc ((size_t) size);
            if (self && code && pread (fd, code, (size_t) size, 0) == size) {
                self->program.len = (unsigned short) (size / sizeof (struct sock_filter));
                self->program.filter = code;
            }
            else {
                free (code);
                free (self);
                self = NULL;
            }
        }
    }
    if (fd >= 0)
        close (fd);
    seccomp_release (ctx);
    if (!self)
        snprintf (err, errlen, "cannot export the seccomp filter");
    return self;
}

void
seccomp_filter_destroy (seccomp_filter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->program.filter);
    free (*self_p);
    *self_p = NULL;
}

int
seccomp_filter_load (const seccomp_filter_t *self)
{
    if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &self->program);
}

/*  zygote.h — the zygote: a separate process holding the warm interpreter
    that every sandbox child is forked from.

    zygote_new() forks the zygote first thing, before the executor connects
    to the broker, loads a certificate or parses any job, so the zygote's
    memory holds nothing of any job. The zygote embeds CPython, loads the
    harness (harness.py, embedded at build time), imports the default
    modules, warms what they would load lazily, freezes the GC and compiles
    the seccomp filter once. Then it only answers "make a child": it forks
    one with CLONE_PARENT (so the child is the executor's child: the
    executor reaps it and reads its exit status) and hands the executor the
    parent's ends of the child's two pipes over a unix socket (SCM_RIGHTS).
    The job goes from the executor straight to the child: the zygote never
    sees it. The executor asks ahead of time, so warm spares are waiting.

    Protocol on the SOCK_SEQPACKET pair: executor → zygote, one byte per
    child wanted; zygote → executor, one message per child: {int32 status,
    int32 pid} with the two fds (down's write end, up's read end) when
    status is 0. The zygote's first message after start-up is its own
    status, with an error text when it could not start.
*/
#ifndef MCPBOX_ZYGOTE_H
#define MCPBOX_ZYGOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct _zygote_t zygote_t;

typedef struct {
    pid_t pid;
    int   pidfd;        //  readable when the child has exited
    int   down;         //  parent -> child: the job, then HTTP responses
    int   up;           //  child -> parent: HTTP requests, then the result
} sandbox_child_t;

//  Start the zygote process and wait until it is ready. NULL + err on
//  failure. Call before any thread exists and before any secret is in
//  this process's memory.
zygote_t *zygote_new (char *err, size_t errlen);
//  Stop the zygote (it also dies with this process).
void      zygote_destroy (zygote_t **self_p);

//  Ask for one more child (answered asynchronously). 0, or -1.
int       zygote_request (zygote_t *self);
//  Children asked for and not yet taken.
size_t    zygote_pending (zygote_t *self);
//  The socket: readable when a child is ready (for the caller's poll).
int       zygote_fd (zygote_t *self);
//  Take a ready child: 1; 0 when none is ready and !wait; -1 + err when
//  the zygote failed or is gone (asks for one itself when none is pending).
int       zygote_take (zygote_t *self, sandbox_child_t *child, bool wait,
                       char *err, size_t errlen);
//  False once the zygote is gone (the executor cannot make children).
bool      zygote_alive (zygote_t *self);
//  The zygote's pid (tests and benchmarks read its memory and CPU time).
pid_t     zygote_pid (zygote_t *self);

#ifdef MCPBOX_TEST_HOOKS
//  Test builds only, and only when the executor runs with
//  MCPBOX_TEST_ZYGOTE_SEES_JOBS=1: hand the zygote a copy of a job, which
//  it keeps. A deliberate leak, so integration/test_sandbox_memory.py can
//  show that its check finds a secret where one is left.
void      zygote_test_show_job (zygote_t *self, const char *job, size_t size);
#endif

//  Close the parent's ends of a child's pipes and its pidfd.
void      sandbox_child_close (sandbox_child_t *child);

#endif

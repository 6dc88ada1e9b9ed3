/*  zygote.h — the warm interpreter that every sandbox child is forked from.

    The executor process embeds CPython. At start it loads the harness
    (harness.py, embedded at build time), imports the default modules and
    warms what they would load lazily, then freezes the GC so forked
    children share those pages. It also compiles the seccomp filter once.
    zygote_fork() makes a child: a copy of that interpreter that waits on
    its job pipe. The executor keeps one such child forked in advance (the
    warm spare), so fork cost stays off the latency path.
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

//  NULL + err on failure. Must be called before any other thread exists
//  that could hold the GIL (the executor calls it first thing).
zygote_t *zygote_new (char *err, size_t errlen);
void      zygote_destroy (zygote_t **self_p);

//  Fork a child that waits for a job. 0, or -1 + err.
int       zygote_fork (zygote_t *self, sandbox_child_t *child,
                       char *err, size_t errlen);

//  Close the parent's ends of a child's pipes and its pidfd.
void      sandbox_child_close (sandbox_child_t *child);

#endif

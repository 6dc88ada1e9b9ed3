/*  seccomp_filter.h — the system-call allowlist for sandbox children.

    Compiled to BPF once, in the executor parent (libseccomp is slow to
    build a filter; a child only has to load the ready program). */
#ifndef MCPBOX_SECCOMP_FILTER_H
#define MCPBOX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

typedef struct {
    struct sock_fprog program;      //  what prctl(PR_SET_SECCOMP) loads
} seccomp_filter_t;

//  NULL + err on failure.
seccomp_filter_t *seccomp_filter_new (char *err, size_t errlen);
void              seccomp_filter_destroy (seccomp_filter_t **self_p);

//  In the child: no_new_privs, then load. 0 or -1 (errno).
int               seccomp_filter_load (const seccomp_filter_t *self);

#endif

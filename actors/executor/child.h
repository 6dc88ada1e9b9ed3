/*  child.h — what a forked sandbox child does, in order:

      1. die with the parent; fds 0-2 to /dev/null; keep only the two pipes
         (as fds 3 = down and 4 = up); close everything else; as root, drop
         to nobody/nogroup with no supplementary groups (before any Python
         runs in this process);
      2. wait for the job frame (a warm spare waits here);
      3. harness.prepare(job): decode it, import its extra modules (the last
         moment files can be opened);
      4. rlimits: address space (the zygote's size + 256 MB), CPU seconds
         from the timeout, 256 fds, no core, no file writes, no processes;
      5. no_new_privs, not dumpable, then the seccomp filter;
      6. harness.execute() runs the tool; the result frame goes up; _exit.

    Any failure before the tool runs is reported as a result frame with an
    "internal" error (or, if even that fails, by the exit status).
*/
#ifndef MCPBOX_CHILD_H
#define MCPBOX_CHILD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sys/types.h>
#include "seccomp_filter.h"

#define CHILD_DOWN_FD   3
#define CHILD_UP_FD     4
#define CHILD_MEMORY_MB 256

//  Never returns.
void child_main (PyObject *harness, const seccomp_filter_t *filter,
                 size_t base_vm, pid_t parent, int down, int up)
    __attribute__ ((noreturn));

#endif

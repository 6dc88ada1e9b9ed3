/*  proc_counts.h — how often each child of `mcpbox up` crashed and was
    restarted, kept by the supervisor that saw it and read by the gateway
    for /metrics (mcpbox_process_crashes_total, ..._restarts_total).

    Why a file the supervisor writes: the supervisor is the one process
    that sees every exit and restart and outlives every other process of
    the run (all of them are its children and die with it), so counts it
    keeps stay monotonic for the whole run, also across a restart of the
    gateway that exports them (counting activity events in the gateway
    started again from zero with each gateway). A new `mcpbox up` starts
    from zero, together with a new gateway: a counter reset that comes with
    a restart of its exporter, as Prometheus expects.

    DATA/run/processes.json (0600, in the 0700 run directory), replaced
    atomically (written to .tmp, renamed) at each event:
        {"pid": <mcpbox up's pid>,
         "processes": {"<child name>": {"crashes": N, "restarts": N}, ...}}
    A reader ignores the file when that pid is not alive (left behind by an
    `mcpbox up` that was killed). Reading it is parsing outside input:
    bounded (PROC_COUNTS_FILE_MAX bytes, PROC_COUNTS_MAX entries, names of
    printable ASCII under PROC_COUNTS_NAME_MAX bytes), fuzzed
    (tests/fuzz/fuzz_proc_counts.c).
*/
#ifndef MCPBOX_PROC_COUNTS_H
#define MCPBOX_PROC_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_COUNTS_FILE_MAX    (64 * 1024)
#define PROC_COUNTS_MAX         128         //  children counted
#define PROC_COUNTS_NAME_MAX    64          //  bytes of a name, NUL included

typedef struct _proc_counts_t proc_counts_t;

//  --- the supervisor's side ------------------------------------------------------
proc_counts_t *proc_counts_new (void);
void           proc_counts_destroy (proc_counts_t **self_p);
//  One more crash (the child exited unasked) or restart of the child
//  name. Names beyond PROC_COUNTS_MAX or too long are not counted.
void           proc_counts_note (proc_counts_t *self, const char *name, bool crashed);
//  Write the file for pid at path (atomically, 0600). 0, or -1 with errno.
int            proc_counts_save (proc_counts_t *self, pid_t pid, const char *path);

//  --- the reader's side -------------------------------------------------------------
typedef void (proc_counts_fn) (void *arg, const char *name, uint64_t crashes,
                               uint64_t restarts);
//  Parse a saved text: *pid, and fn for each well-formed entry (others are
//  skipped). -1 when it is not an object with a positive integer pid.
int            proc_counts_parse (const char *text, size_t len, pid_t *pid,
                                  proc_counts_fn *fn, void *arg);
//  The file's text (malloc'd, NUL-ended, *len set) when it is readable, at
//  most PROC_COUNTS_FILE_MAX bytes, has a pid and that process is alive;
//  else NULL (absent, too large, malformed, or its writer is gone).
char          *proc_counts_read (const char *path, size_t *len);

#endif

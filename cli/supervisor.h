/*  supervisor.h — start a fixed set of child processes and keep them running.

    What it owns: one record per child (name, argv, pid, restart schedule).
    What it is not: an event loop. The caller waits for SIGCHLD however it
    likes (signalfd in `mcpbox up`, plain polling in the unit test) and then
    calls supervisor_on_child_exit() and supervisor_restart_due().

    Policy:
      - a child that exits for any reason while the supervisor is not
        stopping is restarted after a delay that starts at backoff_min_ms
        and doubles on each further exit up to backoff_max_ms; a child that
        had run for stable_after_ms before it exited starts again from
        backoff_min_ms;
      - every exit is logged with its cause ("exited with status 3",
        "killed by signal SIGKILL") and the delay before the restart;
      - each child's environment says which child it is and how often it
        was restarted: MCPBOX_PROCESS (its display name) and
        MCPBOX_RESTARTS (0 at the first start); an executor announces both
        to the broker, so the pool shows its restarts;
      - each child gets PR_SET_PDEATHSIG(SIGTERM), so if the supervising
        process dies, even by SIGKILL, its children follow it;
      - supervisor_stop_all() signals children in reverse order of adding,
        and signals the first child added (the hub the others connect to,
        e.g. the broker) only once all the others are gone; whatever has not
        exited by the deadline is killed with SIGKILL; every child is reaped.

    Only children this supervisor started are ever waited for (waitpid on
    their pids, never on -1), so it can share a process with other children.
    Not thread-safe; call it from the thread that created it (PDEATHSIG is
    tied to the thread that forked).
*/
#ifndef MCPBOX_SUPERVISOR_H
#define MCPBOX_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SUPERVISOR_CHILDREN_MAX 64      //  children one supervisor may hold
#define SUPERVISOR_ARGS_MAX     32      //  argv entries per child, incl. argv[0]
#define SUPERVISOR_ARG_MAX      4096    //  bytes of one argument
#define SUPERVISOR_NAME_MAX     64      //  bytes of a child's display name

typedef struct {
    int backoff_min_ms;         //  first restart delay
    int backoff_max_ms;         //  restart delay cap
    int stable_after_ms;        //  run this long and the delay resets
} supervisor_config_t;

//  200 ms doubling to 10 s, reset after 30 s of running.
extern const supervisor_config_t supervisor_default_config;

typedef struct _supervisor_t supervisor_t;

//  config NULL means supervisor_default_config.
supervisor_t *supervisor_new (const supervisor_config_t *config);
//  Stops (supervisor_stop_all with 2 s) whatever still runs, then frees.
void          supervisor_destroy (supervisor_t **self_p);

//  Declare a child. argv[0] is the program path (no PATH search), argv is
//  NULL-terminated; both are copied. Returns the child's index, or -1 if
//  the arguments are bad or the table is full.
int   supervisor_add (supervisor_t *self, const char *name,
                      const char *const *argv);

//  Give child `index` one more environment entry ("KEY=value", copied)
//  beside the inherited environment: a value only that child may see
//  (the master key for the credentials actor). Wiped when destroyed.
//  0, or -1 (bad index, memory).
int   supervisor_set_env (supervisor_t *self, int index, const char *entry);

//  Start every child added and never started yet, in order of adding.
//  Returns 0, or -1 if one could not be started (fork or exec failed; the
//  reason is logged and errno set); children started before it keep running.
int   supervisor_start (supervisor_t *self);

//  Reap every child that has exited, log why, and schedule its restart
//  (unless stopping). Never blocks. Returns how many were reaped.
int   supervisor_on_child_exit (supervisor_t *self);

//  Start the children whose restart delay has passed. Returns milliseconds
//  until the next scheduled restart, or -1 when none is scheduled.
int   supervisor_restart_due (supervisor_t *self);

//  Stop everything (see the policy above) within timeout_ms plus, for the
//  first child, at least one more second. No restart happens afterwards.
//  Returns how many children had to be killed with SIGKILL.
int   supervisor_stop_all (supervisor_t *self, int timeout_ms);

//  --- observer ---------------------------------------------------------------
//  Told of every unplanned exit (event "exited": cause as logged, how long
//  it ran, the restart delay) and every restart (event "restarted": the new
//  pid, restarts so far). Nothing is reported while stopping. `mcpbox up`
//  turns these into activity records (process.crashed, process.restarted).
typedef struct {
    const char *event;          //  "exited" | "restarted"
    const char *name;           //  the child's display name
    pid_t       pid;            //  the exited pid, or the new one
    const char *cause;          //  "killed by signal SIGKILL" (exited)
    int         status;         //  raw wait status (exited), else -1
    long long   ran_ms;         //  exited: how long it had run
    int         delay_ms;       //  exited: restart delay
    int         restarts;       //  restarted: starts after the first
} supervisor_event_t;
typedef void (supervisor_observer_fn) (void *arg, const supervisor_event_t *event);
void supervisor_set_observer (supervisor_t *self, supervisor_observer_fn *fn, void *arg);

//  --- inspection (for `mcpbox up` and tests) -------------------------------
size_t      supervisor_size (supervisor_t *self);
const char *supervisor_name (supervisor_t *self, int index);
//  Current pid, or 0 while the child is not running.
pid_t       supervisor_pid (supervisor_t *self, int index);
//  How many times the child was started again after an exit.
int         supervisor_restarts (supervisor_t *self, int index);
//  Raw wait status of the last exit (as from waitpid), or -1 if none yet.
int         supervisor_last_status (supervisor_t *self, int index);
//  The delay chosen when the last restart was scheduled (0 if none yet).
int         supervisor_last_delay_ms (supervisor_t *self, int index);
//  True between an exit and the restart it scheduled.
bool        supervisor_restart_pending (supervisor_t *self, int index);

#endif

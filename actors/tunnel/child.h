/*  child.h — one tunnel client process: start it with its output on a
    pipe, signal it, reap it.

    The child gets a fresh session, the environment it is given and
    nothing else (no descriptor of the actor's above stderr: not the bus
    sockets, not the database), stdin from /dev/null, stdout and stderr on
    one pipe the actor reads (non-blocking, close-on-exec on our side), and
    PR_SET_PDEATHSIG(SIGTERM), so the client does not outlive the actor
    even when the actor is killed. An exec failure comes back through a
    close-on-exec pipe as errno, before child_start returns.
    Only this child's pid is ever waited for (never -1).
*/
#ifndef MCPBOX_TUNNEL_CHILD_H
#define MCPBOX_TUNNEL_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;                  //  0: none
    int   out_fd;               //  read end of its stdout+stderr; -1 none
} child_t;

//  0 (self filled), or -1 with errno (the exec error included).
int  child_start (child_t *self, char *const argv [], char *const envp []);
//  Send a signal to the child (0 when it was sent).
int  child_signal (child_t *self, int sig);
//  Reap without waiting: true when the child has ended (*status as from
//  waitpid); pid is then 0. The pipe stays open until child_close_out.
bool child_reap (child_t *self, int *status);
void child_close_out (child_t *self);

#endif

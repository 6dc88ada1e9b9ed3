/*  tunnel_cmd.h — a child's command line and environment, built before fork.

    Bounded (TUNNEL_CMD_ARGS arguments, TUNNEL_CMD_ENVS environment
    entries, each copied). The environment is the child's whole
    environment: nothing of the actor's own is inherited. An entry may hold
    a secret (the cloudflared token): tunnel_cmd_reset wipes every string
    before freeing it.
*/
#ifndef MCPBOX_TUNNEL_CMD_H
#define MCPBOX_TUNNEL_CMD_H

#include <stddef.h>

#define TUNNEL_CMD_ARGS 64
#define TUNNEL_CMD_ENVS 8

typedef struct {
    char  *argv [TUNNEL_CMD_ARGS + 1];      //  NULL-terminated
    size_t argc;
    char  *envp [TUNNEL_CMD_ENVS + 1];      //  NULL-terminated
    size_t envc;
    int    failed;                          //  an add did not fit or no memory
} tunnel_cmd_t;

//  Append one argument (printf-style); failures are remembered in failed.
void tunnel_cmd_arg (tunnel_cmd_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  Append "NAME=value".
void tunnel_cmd_env (tunnel_cmd_t *self, const char *name, const char *value);
//  Wipe and free everything; the struct is empty afterwards.
void tunnel_cmd_reset (tunnel_cmd_t *self);

#endif

/*  tunnel_cmd.c — argv and environment for a tunnel child (tunnel_cmd.h).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "tunnel_cmd.h"

void
tunnel_cmd_arg (tunnel_cmd_t *self, const char *format, ...)
{
    if (self->argc >= TUNNEL_CMD_ARGS) {
        self->failed = 1;
        return;
    }
    va_list args;
    va_start (args, format);
    char *text = NULL;
    int rc = vasprintf (&text, format, args);
    va_end (args);
    if (rc < 0) {
        self->failed = 1;
        return;
    }
    self->argv [self->argc++] = text;
    self->argv [self->argc] = NULL;
}

void
tunnel_cmd_env (tunnel_cmd_t *self, const char *name, const char *value)
{
    if (self->envc >= TUNNEL_CMD_ENVS) {
        self->failed = 1;
        return;
    }
    size_t size = strlen (name) + 1 + strlen (value) + 1;
    char *entry = malloc (size);
    if (!entry) {
        self->failed = 1;
        return;
    }
    snprintf (entry, size, "%s=%s", name, value);
    self->envp [self->envc++] = entry;
    self->envp [self->envc] = NULL;
}

static void
s_wipe (char **items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        sodium_memzero (items [i], strlen (items [i]));
        free (items [i]);
        items [i] = NULL;
    }
}

void
tunnel_cmd_reset (tunnel_cmd_t *self)
{
    s_wipe (self->argv, self->argc);
    s_wipe (self->envp, self->envc);
    memset (self, 0, sizeof *self);
}

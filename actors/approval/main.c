/*  mcpbox-approval — publish, module and network-access requests, their
    decisions, and the security policy settings.

    Wires the process: configuration, logging, the database (opened by the
    open hook, which also applies missing migrations), the bus worker for
    service "approval", and the request loop (common/actor_main.c). The op
    table in ops.c is the actor's whole interface; approval.h maps the
    rest of this folder.
*/
#include <czmq.h>
#include "actor_main.h"
#include "approval.h"

static const char *s_owns [] = {
    "tool_reviews", "module_requests", "network_requests", "settings",
    "approval_revision", NULL
};

static int
s_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    approval_t *self = approval_new (paths->db_path, err, errlen);
    if (!self)
        return -1;
    *state_p = self;
    return 0;
}

static void
s_close (void *state)
{
    approval_t *self = state;
    approval_destroy (&self);
}

//  Idle tools/call budgets are dropped every few seconds (rate.h).
static void
s_tick (service_t *service, void *state)
{
    (void) service;
    approval_t *self = state;
    rate_expire (self->rate, zclock_mono ());
}

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "approval",
        .process = "mcpbox-approval",
        .owns    = s_owns,
        .ops     = approval_ops,
        .open    = s_open,
        .close   = s_close,
        .tick    = s_tick,
        .tick_ms = 5000,
    };
    return actor_main (argc, argv, &def, NULL);
}

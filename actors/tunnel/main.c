/*  mcpbox-tunnel — the remote-access tunnel child process, its config and
    status.

    Wires the process: configuration, logging, the bus worker for service
    "tunnel", and the request loop (common/actor_main.c). The ops table is
    the actor's whole interface; for now it answers `health` only.
*/
#include "actor_main.h"

static const char *s_owns [] = { "tunnel_config", NULL };

//  op name -> handler; `health` is answered by the service loop.
static const service_op_t s_ops [] = {
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "tunnel",
        .process = "mcpbox-tunnel",
        .owns    = s_owns,
        .ops     = s_ops,
    };
    return actor_main (argc, argv, &def, NULL);
}

/*  mcpbox-credentials — admin accounts and sessions, encrypted server
    secrets, OAuth state and tokens for external sources.

    Wires the process: configuration, logging, the bus worker for service
    "credentials", and the request loop (common/actor_main.c). The ops table is
    the actor's whole interface; for now it answers `health` only.
*/
#include "actor_main.h"

static const char *s_owns [] = {
    "admin_users", "sessions", "server_secrets", "oauth_tokens", NULL
};

//  op name -> handler; `health` is answered by the service loop.
static const service_op_t s_ops [] = {
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "credentials",
        .process = "mcpbox-credentials",
        .owns    = s_owns,
        .ops     = s_ops,
    };
    return actor_main (argc, argv, &def, NULL);
}

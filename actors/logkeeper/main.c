/*  mcpbox-logkeeper — execution logs and the activity log: ingest, queries,
    retention pruning.

    Wires the process: configuration, logging, the bus worker for service
    "logs", and the request loop (common/actor_main.c). The ops table is
    the actor's whole interface; for now it answers `health` only.
*/
#include "actor_main.h"

static const char *s_owns [] = { "execution_logs", "activity_log", NULL };

//  op name -> handler; `health` is answered by the service loop.
static const service_op_t s_ops [] = {
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "logs",
        .process = "mcpbox-logkeeper",
        .owns    = s_owns,
        .ops     = s_ops,
    };
    return actor_main (argc, argv, &def, NULL);
}

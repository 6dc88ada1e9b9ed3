/*  mcpbox-executor — runs tool code in the sandbox, as service "sandbox".

    Executors are a pool: several may run on this machine or join from other
    machines over tcp:// with CURVE (--broker tcp://host:port --broker-key
    broker.pub --cert executor.secret). They are stateless and own nothing
    persistent; what they hold is their sandbox processes.

    This file wires the process (common/actor_main.c); the sandbox itself
    arrives in its own files. For now it answers `health` only.
*/
#include "actor_main.h"

static const char *s_owns [] = { "sandbox processes", NULL };

//  op name -> handler; `health` is answered by the service loop.
static const service_op_t s_ops [] = {
    { NULL, NULL }
};

static const config_option_t s_options [] = {
    { "broker_key", CONFIG_STR, "", 0, 0,
      "broker's public certificate (zcert), for a tcp:// broker" },
    { "cert", CONFIG_STR, "", 0, 0,
      "this executor's secret certificate (zcert), for a tcp:// broker" },
    { "credit", CONFIG_INT, "4", 1, 64,
      "tool calls this executor runs at once" },
    { NULL, CONFIG_STR, NULL, 0, 0, NULL }
};

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "sandbox",
        .process = "mcpbox-executor",
        .owns    = s_owns,
        .ops     = s_ops,
        .credit  = 4,
    };
    return actor_main (argc, argv, &def, s_options);
}

/*  mcpbox-registry — servers, tools, tool versions and external MCP sources;
    the callable-tool catalog.

    Wires the process: configuration, logging, the bus worker for service
    "registry", and the request loop (common/actor_main.c). The ops table is
    the actor's whole interface; for now it answers `health` only.
*/
#include "actor_main.h"

static const char *s_owns [] = {
    "servers", "tools", "tool_versions", "external_mcp_sources", NULL
};

//  op name -> handler; `health` is answered by the service loop.
static const service_op_t s_ops [] = {
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "registry",
        .process = "mcpbox-registry",
        .owns    = s_owns,
        .ops     = s_ops,
    };
    return actor_main (argc, argv, &def, NULL);
}

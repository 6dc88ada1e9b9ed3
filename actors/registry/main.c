/*  mcpbox-registry — servers, tools, tool versions and external MCP sources;
    the callable-tool catalog.

    Wires the process: configuration, logging and the request loop come
    from common/actor_main.c; the hooks below open the database (refusing
    to start, exit status 1, when its schema is older than ours: run
    `mcpbox migrate`), build the catalog from it, and retry a catalog
    rebuild that failed. The op table in ops.c is the actor's interface;
    registry.h says how the rest of this folder fits together.
*/
#include "actor_main.h"
#include "log.h"
#include "registry.h"

static const char *s_owns [] = {
    "servers", "tools", "tool_versions", "external_mcp_sources", NULL
};

static int
s_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    registry_t *reg = registry_new (paths->db_path, err, errlen);
    if (!reg)
        return -1;
    *state_p = reg;
    return 0;
}

static void
s_close (void *state)
{
    registry_t *reg = state;
    registry_destroy (&reg);
}

//  A catalog that failed to rebuild after a commit is retried here, so it
//  does not wait for the next `catalog` request.
static void
s_tick (service_t *service, void *state)
{
    (void) service;
    registry_t *reg = state;
    if (reg && reg->stale)
        store_refresh_catalog (reg);
}

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "registry",
        .process = "mcpbox-registry",
        .owns    = s_owns,
        .ops     = registry_ops,
        .open    = s_open,
        .close   = s_close,
        .tick    = s_tick,
        .tick_ms = 1000,
    };
    return actor_main (argc, argv, &def, NULL);
}

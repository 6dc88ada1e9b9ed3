/*  constellation.c — the table of MCPbox's processes (see constellation.h).
    Adding an actor: one row here, in its place in the start order.
*/
#include <string.h>
#include "constellation.h"

const constellation_entry_t constellation [] = {
    { .process = "mcpbox-broker",      .service = NULL,          .order = 1, .count = 1 },
    { .process = "mcpbox-registry",    .service = "registry",    .order = 2, .count = 1 },
    { .process = "mcpbox-approval",    .service = "approval",    .order = 3, .count = 1 },
    { .process = "mcpbox-credentials", .service = "credentials", .order = 4, .count = 1 },
    { .process = "mcpbox-tunnel",      .service = "tunnel",      .order = 5, .count = 1 },
    { .process = "mcpbox-logkeeper",   .service = "logs",        .order = 6, .count = 1 },
    { .process = "mcpbox-backup",      .service = "backup",      .order = 7, .count = 1 },
    { .process = "mcpbox-alerts",      .service = "alerts",      .order = 8, .count = 1 },
    { .process = "mcpbox-executor",    .service = "sandbox",     .order = 9, .count = 2,
      .count_option = "executors" },
    { .process = "mcpbox-gateway",     .service = NULL,          .order = 10, .count = 1 },
    { .process = NULL }
};

size_t
constellation_size (void)
{
    return sizeof constellation / sizeof constellation [0] - 1;
}

const constellation_entry_t *
constellation_by_service (const char *service)
{
    for (size_t i = 0; service && constellation [i].process; i++)
        if (constellation [i].service && strcmp (constellation [i].service, service) == 0)
            return &constellation [i];
    return NULL;
}

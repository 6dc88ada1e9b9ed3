/*  mcpbox-backup — export files out and in (backup.h).

    Wires the process: configuration, logging, the bus worker for service
    "backup" and the request loop (common/actor_main.c). It owns no table:
    everything it reads or writes belongs to registry, approval and
    credentials, which it asks over the bus.
*/
#include "actor_main.h"
#include "backup.h"

static const char *s_owns [] = { NULL };

int
main (int argc, char **argv)
{
    const service_def_t def = {
        .service = "backup",
        .process = "mcpbox-backup",
        .owns    = s_owns,
        .ops     = backup_ops,
    };
    return actor_main (argc, argv, &def, NULL);
}

/*  actor_main.c — configure then serve, for an actor that is an op table
    (see actor_main.h).
*/
#include "actor_main.h"

int
actor_main (int argc, char **argv, const service_def_t *def,
            const config_option_t *extra)
{
    const startup_def_t startup_def = {
        .process = def->process,
        .options = extra,
        .bus     = STARTUP_BUS_CURVE,
    };
    startup_t startup;
    int status = startup_configure (&startup, &startup_def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    status = startup_serve (&startup, def);
    startup_release (&startup);
    return status;
}

/*  actor_main.h — the wiring every simple actor's main() shares.

    actor_main() does, in order: parse the configuration (the common
    options, `broker`, and the actor's own `extra` options); print help and
    return 0 on --help; set up logging as def->process; resolve the data
    directory (paths_init, creating it); then service_run() until SIGINT or
    SIGTERM.

    Options it understands:
      broker      endpoint of the broker; "" means the local ipc:// endpoint
                  under DATA/run. Always present.
      broker_key, cert
                  CURVE for a tcp:// broker (the broker's public certificate
                  and this process's secret certificate), used when the
                  actor declares them in `extra`.
      credit      requests held at once (overrides def->credit), used when
                  the actor declares it in `extra`.
    A tcp:// broker without CURVE is refused unless it is on loopback.

    Returns the process exit status: 0 clean stop, 1 runtime failure,
    2 configuration error (message on stderr).
*/
#ifndef MCPBOX_ACTOR_MAIN_H
#define MCPBOX_ACTOR_MAIN_H

#include "config.h"
#include "service.h"

int actor_main (int argc, char **argv, const service_def_t *def,
                const config_option_t *extra);

#endif

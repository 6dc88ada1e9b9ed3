/*  actor_main.h — main() of an actor that is an op table.

    actor_main() is startup_configure() (startup.h: options, log level,
    paths, the bus endpoint and its CURVE rules, key files) followed by
    startup_serve() (open hook, service loop, close hook). `extra` holds
    the actor's own options (NULL: none); an actor that declares `credit`
    gets it as its service credit. Every actor takes --broker, and
    --broker-key with --cert to join a tcp:// broker on another machine.

    Returns the process exit status: 0 clean stop or --help, 1 runtime
    failure, 2 configuration refused (message on stderr).
*/
#ifndef MCPBOX_ACTOR_MAIN_H
#define MCPBOX_ACTOR_MAIN_H

#include "startup.h"

int actor_main (int argc, char **argv, const service_def_t *def,
                const config_option_t *extra);

#endif

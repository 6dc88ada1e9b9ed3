/*  about.h — what an executor says of itself when it registers.

    The map goes with every READY (bus_worker_new_about) and the broker hands
    it, as it is, to whoever asks for the pool (`broker` `workers`): the
    dashboard's executor table, `mcpbox status`, /metrics.

      host      this machine's name (gethostname)
      pid       this process
      process   its name under the supervisor ("executor-2"), from
                MCPBOX_PROCESS; "mcpbox-executor" when started otherwise
      restarts  how often the supervisor started that process again after
                an exit, from MCPBOX_RESTARTS (0 when started otherwise)
      version   MCPBOX_VERSION
      slots     calls it runs at once (its credit)
      labels    a map of short strings (empty here; remote hosts add theirs)
*/
#ifndef MCPBOX_EXECUTOR_ABOUT_H
#define MCPBOX_EXECUTOR_ABOUT_H

#include "msg.h"

//  The map, packed. Never NULL.
msgw_t *executor_about_new (int slots);

#endif

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
      labels    a map of short strings: the --labels option (a host's
                "gpu,zone=lab": names to values, "" for a bare name)

    Labels, as written: comma-separated NAME or NAME=VALUE, at most
    ABOUT_LABELS of them; NAME 1..32 of [a-z0-9_.-], VALUE 0..64 printable
    ASCII without a comma; a name given twice is refused.
*/
#ifndef MCPBOX_EXECUTOR_ABOUT_H
#define MCPBOX_EXECUTOR_ABOUT_H

#include "msg.h"

#define ABOUT_LABELS       16
#define ABOUT_LABEL_NAME   32
#define ABOUT_LABEL_VALUE  64

//  0 when labels (may be NULL or "") is well-formed, else -1 with why.
int     executor_labels_check (const char *labels, char *err, size_t errlen);

//  The map, packed; labels must have passed executor_labels_check. Never NULL.
msgw_t *executor_about_new (int slots, const char *labels);

#endif

/*  paths.h — where things live under the data directory.

        DATA/                 0700, the database and config
        DATA/mcpbox.db        the SQLite database
        DATA/mcpbox.conf      optional config file
        DATA/run/             0700: the authority for local access
        DATA/run/bus          ipc:// request socket (broker ROUTER)
        DATA/run/ev-in        ipc:// event input (broker XSUB)
        DATA/run/ev-out       ipc:// event output (broker XPUB)
        DATA/run/up.lock      held by `mcpbox up` while it runs
        DATA/run/gateway.ready  the gateway's pid, written once it listens
                              (`mcpbox up` prints the URLs only then)
        DATA/run/processes.json  crashes and restarts of `mcpbox up`'s
                              children (proc_counts.h)
        DATA/keys/            CURVE certificates (broker, allowed executors)

    An ipc:// path must fit in a sockaddr_un (107 bytes); paths_init refuses
    a data directory too long for that with a clear message.
*/
#ifndef MCPBOX_PATHS_H
#define MCPBOX_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define PATHS_MAX 512

typedef struct {
    char data_dir   [PATHS_MAX];    //  absolute
    char run_dir    [PATHS_MAX];
    char keys_dir   [PATHS_MAX];
    char db_path    [PATHS_MAX];
    char lock_path  [PATHS_MAX];
    char gateway_ready [PATHS_MAX];
    char proc_counts   [PATHS_MAX];     //  DATA/run/processes.json
    char bus_endpoint     [PATHS_MAX];  //  "ipc://.../run/bus"
    char events_in        [PATHS_MAX];  //  "ipc://.../run/ev-in"
    char events_out       [PATHS_MAX];  //  "ipc://.../run/ev-out"
} paths_t;

//  Fill *paths from data_dir (made absolute). With create, make DATA and
//  DATA/run with mode 0700 (and tighten run/ if it exists wider).
//  0 or -1 + err.
int paths_init (paths_t *paths, const char *data_dir, bool create,
                char *err, size_t errlen);

#endif

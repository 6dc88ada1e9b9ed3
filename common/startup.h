/*  startup.h — how every MCPbox program starts: configure, then serve.

    Every program (broker, gateway, executor, each actor, the `mcpbox`
    commands) runs the same configure step before it does anything that
    can be seen from outside (no socket, no thread, no child, no log line):

      1. options: the common ones (config.h), the bus options when the
         program talks to the broker (below), and the program's own; an
         unknown flag, a bad value or an unexpected positional argument is
         refused;
      2. --help prints the options and ends the program with status 0;
      3. log level: one of debug, info, warn, error;
      4. paths: DATA_DIR resolved (and created, 0700, unless the program
         only reads);
      5. the bus endpoint (`broker`, and `events` where declared):
         ipc:// or tcp://, at most STARTUP_ENDPOINT_MAX bytes, and CURVE
         rules: a tcp:// endpoint that is not loopback needs CURVE; a
         program that cannot speak CURVE refuses it outright;
      6. key files: every key file named (broker_key, cert, or a program's
         own, through startup_require_file) must exist and be readable;
         broker_key and cert go together;
      7. the program's own checks (startup_def_t.check).

    Any refusal prints one line on stderr, "PROCESS: KEY: what is wrong",
    and startup_configure returns STARTUP_EXIT_CONFIG (2): the program exits
    with that status and never logs "serving". Only after configure has
    passed does logging start (log_init) and the serve step run: the
    program's own loop (broker, gateway, executor) or, for an actor that
    is an op table, startup_serve() (open hook, service_run, close hook).

    Bus options (def->bus):
      STARTUP_BUS_NONE   no broker options
      STARTUP_BUS_PLAIN  `broker` (and `events` with def->events): ipc://,
                         or tcp:// on loopback; no CURVE support
      STARTUP_BUS_CURVE  `broker`, `broker_key` (the broker's public
                         certificate) and `cert` (this process's secret
                         certificate): tcp:// off this machine with both
*/
#ifndef MCPBOX_STARTUP_H
#define MCPBOX_STARTUP_H

#include <stdbool.h>
#include "bus.h"
#include "config.h"
#include "log.h"
#include "paths.h"
#include "service.h"

#define STARTUP_ENDPOINT_MAX  256   //  bytes of a bus endpoint

//  What startup_configure returns.
#define STARTUP_GO            0     //  configured: serve
#define STARTUP_EXIT_OK       1     //  --help printed: exit 0
#define STARTUP_EXIT_CONFIG   2     //  refused (message printed): exit 2

typedef enum {
    STARTUP_BUS_NONE = 0,
    STARTUP_BUS_PLAIN,
    STARTUP_BUS_CURVE
} startup_bus_t;

typedef struct _startup_t startup_t;

typedef struct {
    const char            *process;     //  "mcpbox-registry"; messages and logs
    const char            *log_name;    //  name in log lines; NULL: process
    const char            *usage;       //  first help line; NULL: "usage: PROCESS [options]"
    const config_option_t *options;     //  the program's own, NULL-terminated; may be NULL
    startup_bus_t          bus;         //  which bus options it has
    bool                   events;      //  also an `events` endpoint (XPUB output)
    bool                   read_only;   //  do not create DATA_DIR
    int                    max_args;    //  positional arguments allowed (0: none)
    //  Program-specific checks, after the common ones: 0, or -1 with
    //  "KEY: what is wrong" in err.
    int                  (*check) (startup_t *self, char *err, size_t errlen);
} startup_def_t;

struct _startup_t {
    const startup_def_t *def;
    config_t        *config;            //  every option, loaded
    config_option_t *table;             //  the merged option table (owned)
    paths_t          paths;             //  from data_dir
    log_level_t      level;
    char             endpoint [PATHS_MAX];   //  broker; "" if no bus
    char             events [PATHS_MAX];     //  event output; "" if none
    bool             use_curve;         //  curve below is filled
    bus_curve_t      curve;             //  borrowed from config
};

//  The configure step. On STARTUP_GO the program owns *self (release it
//  with startup_release) and logging is initialised as def->process.
//  Otherwise nothing is left to release.
int  startup_configure (startup_t *self, const startup_def_t *def,
                        int argc, char **argv);
void startup_release (startup_t *self);

//  For def->check: `path` (the value of option `key`) must name an
//  existing, readable regular file (or directory when `directory`).
int  startup_require_file (const char *key, const char *path, bool directory,
                           char *err, size_t errlen);

//  For def->check and the CLI: is `endpoint` acceptable for a bus peer
//  (ipc:// or tcp://, bounded; tcp:// off this machine only when
//  `curve`)? key names the option in the message.
int  startup_check_endpoint (const char *key, const char *endpoint, bool curve,
                             char *err, size_t errlen);

//  The serve step for an actor that is an op table: the open hook, the
//  service loop until SIGINT/SIGTERM, the close hook. Returns the exit
//  status: 0 clean stop, 1 runtime failure. def->credit is replaced by
//  the `credit` option when the program declares one.
int  startup_serve (startup_t *self, const service_def_t *def);

#endif

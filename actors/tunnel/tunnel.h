/*  tunnel.h — how the tunnel actor's files fit together.

    main.c                wiring: options, open/close, op table, tick, wake fd
    ops.c                 the bus ops: status, start, stop, configure
    supervise.c           the one child: start, output, exit, backoff, stop
                          (TERM, KILL after 5 s), status and events
    store.c               the tunnel_config row (sql/0006_tunnel.sql)
    provider*.c           the clients: cloudflared, ssh (provider.h)
    tunnel_conf.c         validation of every configurable field
    tunnel_line.c         the child's output as bounded, cleaned lines
    tunnel_cmd.c          argv/environment built before fork, wiped after
    child.c               fork/exec/signal/reap of one process
    sshkey.c              the actor's SSH key and the pinned known_hosts
    backoff.c             restart delays

    States (tunnel_state_t), written down once:
        disconnected  nothing runs: not configured, not enabled, or stopped
        connecting    the client runs and has not reported a connection
        connected     the client reported a connection up
        error         the last run failed (message says why); a restart
                      is scheduled (retry_in_ms) unless stopped
    Transitions: start -> connecting; an "up" line -> connected; every
    connection down -> connecting (the client retries by itself); a fatal
    line -> error (the client is left to exit, or killed on stop); exit
    while wanted -> error + restart after backoff; exit after stop ->
    disconnected; configure while running -> TERM, then start at once.
*/
#ifndef MCPBOX_TUNNEL_H
#define MCPBOX_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "backoff.h"
#include "child.h"
#include "provider.h"
#include "service.h"
#include "tunnel_conf.h"
#include "tunnel_line.h"

#define TUNNEL_SCHEMA_VERSION 6
#define TUNNEL_KILL_AFTER_MS  5000      //  TERM, then KILL after this
#define TUNNEL_WAITERS_MAX    16        //  stop requests answered at exit
#define TUNNEL_SECRET_OWNER   "tunnel"  //  credentials' owner id of the token
#define TUNNEL_SECRET_KEY     "CLOUDFLARED_TOKEN"

typedef enum {
    TUNNEL_DISCONNECTED = 0,
    TUNNEL_CONNECTING,
    TUNNEL_CONNECTED,
    TUNNEL_ERROR,
} tunnel_state_t;

typedef struct {
    int64_t backoff_min_ms;
    int64_t backoff_max_ms;
    int64_t stable_ms;
} tunnel_timing_t;

typedef struct {
    sqlite3                 *db;
    tunnel_conf_t            conf;          //  the stored row
    tunnel_files_t           files;         //  options and paths
    tunnel_timing_t          timing;
    backoff_t                backoff;
    //  the running client
    const tunnel_provider_t *provider;      //  of the child; NULL none
    child_t                  child;
    tunnel_lines_t           lines;
    char                    *redact;        //  the token while it runs (sodium_malloc)
    int64_t                  started_ms;    //  monotonic, of the child
    int                      up;            //  connections reported up
    bool                     fatal;         //  a fatal line in this run
    bool                     stopping;      //  we asked it to end
    bool                     restart_now;   //  start again at once when it ended
    int64_t                  kill_at;       //  monotonic ms of the KILL; 0 none
    int64_t                  restart_at;    //  monotonic ms of a restart; 0 none
    //  what status says
    tunnel_state_t           state;
    char                     message [TUNNEL_WHY_MAX];
    int64_t                  since;         //  unix s of the last transition
    uint64_t                 starts;        //  children started
    uint64_t                 restarts;      //  of them, restarts after a failure
    bool                     booted;        //  the first tick ran
    bus_request_t           *waiters [TUNNEL_WAITERS_MAX];
    size_t                   waiter_count;
} tunnel_t;

extern tunnel_files_t  tunnel_configured_files;     //  main.c fills them
extern tunnel_timing_t tunnel_configured_timing;

//  --- main.c hooks ----------------------------------------------------------
int  tunnel_open (const paths_t *paths, void **state_p, char *err, size_t errlen);
void tunnel_close (void *state);

//  --- store.c ---------------------------------------------------------------
int  tunnel_store_load (sqlite3 *db, tunnel_conf_t *conf, char *err, size_t errlen);
int  tunnel_store_save (sqlite3 *db, const tunnel_conf_t *conf, char *err, size_t errlen);

//  --- supervise.c -----------------------------------------------------------
const char *tunnel_state_name (tunnel_state_t state);
//  Want the tunnel running: start the client now if it is not running.
//  NULL, or why it cannot (also put in the status as an error).
void tunnel_run (tunnel_t *self, service_t *service);
//  Want it stopped: TERM now, KILL after TUNNEL_KILL_AFTER_MS. true when a
//  child is still to end (the caller may wait: tunnel_wait_exit).
bool tunnel_halt (tunnel_t *self, service_t *service);
//  The configuration changed: a running client is ended and started again
//  at once with the new one; a stopped one stays stopped.
void tunnel_reconfigured (tunnel_t *self, service_t *service);
//  Answer `request` (deferred) when the child has ended. false: the table
//  of waiters is full (answer now).
bool tunnel_wait_exit (tunnel_t *self, bus_request_t *request);
void tunnel_tick (service_t *service, void *state);
int  tunnel_wake_fd (void *state);
void tunnel_on_wake (service_t *service, void *state);
//  The status map (the body of a reply after "ok", or of an event).
void tunnel_pack_status (tunnel_t *self, msgw_t *w, bool with_config);
size_t tunnel_status_pairs (bool with_config);

//  --- ops.c -----------------------------------------------------------------
const service_op_t *tunnel_ops (void);

#endif

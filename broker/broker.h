/*  broker.h — the request broker and event proxy, as a library.

    mcpbox-broker (main.c) wires flags to this; tests and the benchmark run
    the same code in-process through broker_actor. See broker.c for the
    design and proto/README.md for the frames.
*/
#ifndef MCPBOX_BROKER_H
#define MCPBOX_BROKER_H

#include <czmq.h>

typedef struct {
    const char *endpoint;           //  ipc:// (or tcp:// in tests) ROUTER, no security
    const char *events_in;          //  XSUB endpoint (publishers connect) or NULL
    const char *events_out;         //  XPUB endpoint (subscribers connect) or NULL
    const char *tcp_endpoint;       //  optional CURVE ROUTER for remote workers
    const char *curve_secret_file;  //  broker's zcert (secret), needed with tcp
    const char *curve_allow_dir;    //  directory of allowed public zcerts
    int         heartbeat_ms;       //  0 = bus_heartbeat_ms()
} broker_config_t;

typedef struct _broker_t broker_t;

//  Bind everything; NULL + err on failure (endpoint in use, bad cert...).
broker_t *broker_new (const broker_config_t *config, char *err, size_t errlen);
void      broker_destroy (broker_t **self_p);

//  Serve until zsys_interrupted, or until `pipe` (may be NULL) says $TERM.
void      broker_run (broker_t *self, zsock_t *pipe);

//  CZMQ actor: args is a broker_config_t*. Signals 0 when bound, -1 when
//  binding failed. zactor_destroy stops it.
void      broker_actor (zsock_t *pipe, void *args);

//  Counters for tests and /metrics.
typedef struct {
    uint64_t requests;          //  accepted from clients
    uint64_t replies;           //  delivered to clients (incl. errors)
    uint64_t no_worker;         //  answered no_worker at deadline
    uint64_t worker_lost;       //  answered worker_lost
    uint64_t protocol_errors;   //  malformed messages dropped
    uint64_t cancelled;         //  answered `cancelled` at their client's word
    uint64_t cancel_unknown;    //  CANCELs for requests no longer owed an answer
    uint64_t notices;           //  NOTICEs relayed to clients
    uint64_t notices_dropped;   //  NOTICEs for jobs not owed an answer, or over
                                //  the per-job rate (BUS_NOTICE_BURST/RATE)
    size_t   workers;           //  registered now
} broker_stats_t;
void      broker_stats (broker_t *self, broker_stats_t *stats);

#endif

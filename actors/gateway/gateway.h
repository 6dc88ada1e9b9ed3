/*  gateway.h — the state one gateway process shares between its parts.

    main.c fills it; the lws callbacks reach it through
    lws_context_user(). Everything here except `stop` belongs to the lws
    thread (the bridge is internally thread-safe). No globals elsewhere.
*/
#ifndef MCPBOX_GATEWAY_H
#define MCPBOX_GATEWAY_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <libwebsockets.h>

#include "bus_bridge.h"
#include "idmap.h"
#include "logspool.h"

struct _mcp_t;
struct _http_static_t;
struct _live_t;
struct _oauth_t;
struct _metrics_t;
struct _circuit_t;

typedef struct {
    struct lws_context *context;         //  the lws context (service thread)
    struct lws_vhost   *remote_vhost;    //  the remote listener, or NULL (off)
    char                remote_base [320]; //  remote_public_url, normalised;
                                         //  "" when not set
    const char         *remote_state;    //  listening, off, error (/health)
    bus_bridge_t       *bridge;          //  the bus thread's door
    struct _mcp_t      *mcp;             //  the /mcp endpoint's state
    struct _http_static_t *web;          //  the dashboard's files, or NULL
    struct _live_t     *live;            //  /ws streams
    struct _oauth_t    *oauth;           //  the OAuth endpoints' state (oauth.h)
    idmap_t            *requests;        //  request id -> http_req_t, live ones
    uint64_t            next_request_id; //  last id handed out
    int64_t             started_ms;      //  monotonic, for uptime_s
    atomic_bool         stop;            //  set by the signal thread
    logspool_t         *spool;           //  log records to logkeeper (thread-safe)
    bool                api_allow_remote;//  /api answers peers off loopback
    bool                api_docs;        //  GET /api/docs (--enable-docs)
    bool                execution_logs;  //  spool an execution record per run
                                         //  (config execution_logs; activity
                                         //  records are spooled either way)
    struct _metrics_t  *metrics;         //  this gateway's figures (metrics.h)
    struct _circuit_t  *circuit;         //  toward the sandbox (circuit.h)
    char                metrics_token [44]; //  bearer for /metrics off loopback,
                                         //  "" when none is configured
    //  external sources' OAuth (source_oauth_routes.c)
    char                source_redirect [2049];     //  the callback URL we give
    char                source_cimd_url [2049];     //  our client metadata URL, or ""
    char                source_cimd_path [2049];    //  ... its path, served here
    char                proc_counts [512];  //  DATA/run/processes.json: mcpbox
                                         //  up's crash counts (proc_counts.h)
} gateway_t;

//  Monotonic clock, milliseconds.
static inline int64_t
gateway_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Monotonic clock, microseconds.
static inline int64_t
gateway_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

#endif

/*  http_metrics.h — GET /metrics: the Prometheus text exposition format.

    Who may scrape (the gateway's local listener only; the remote listener
    never routes here):
      - a peer on loopback, with no credential: Prometheus scrapes without
        cookies, and loopback is already the admin surfaces' boundary;
      - any other peer only with `Authorization: Bearer <metrics_token>`
        when the gateway's metrics_token is set (43 base64url characters,
        compared in constant time); 401 with WWW-Authenticate otherwise,
        and 403 when no token is configured. api_allow_remote does not
        open /metrics: it is not the admin API.

    A scrape asks every source at once, each with METRICS_SOURCE_TIMEOUT_MS:
    every bus service's `health` (its uptime and log spool), tunnel
    `status`, logs `retention.get` (ingestion counters), and renders when
    the last one answers or the backstop fires. A source that does not
    answer in time, or answers an error, is reported as
    mcpbox_scrape_source_up{service,op} 0 and adds to
    mcpbox_scrape_errors_total{service,op}; its figures are left out for
    that scrape, the rest is written. A slow actor never stalls the scrape
    beyond the backstop.

    The families and their meaning: docs/OPERATIONS.md.
*/
#ifndef MCPBOX_GATEWAY_HTTP_METRICS_H
#define MCPBOX_GATEWAY_HTTP_METRICS_H

#include "http_req.h"

#define METRICS_SOURCE_TIMEOUT_MS   1000
#define METRICS_BACKSTOP_MS         (METRICS_SOURCE_TIMEOUT_MS + 500)

//  The route handler.
void http_metrics_start (http_req_t *req);

#endif

/*  http_bridge.h — the executor parent's side of a tool's `http` object.

    A sandbox child cannot open sockets. When tool code awaits http.get(),
    the harness sends a request frame up its pipe; the parent hands it to
    a thread here, which checks it against the call's network rules and
    SSRF rules and performs it with libcurl (http_fetch), then writes the
    response frame down the child's pipe. A thread, so a slow remote server
    never stalls the executor's loop or other calls.

    One channel per call, reference-counted between the call and the thread
    working for it. A child gets one request in flight and 100 per call: a
    child that sends more is broken or hostile, and the caller kills it.
*/
#ifndef MCPBOX_HTTP_BRIDGE_H
#define MCPBOX_HTTP_BRIDGE_H

#include <jansson.h>
#include <stdint.h>
#include "ssrf.h"

#define HTTP_BRIDGE_MAX_REQUESTS 100

typedef struct _http_channel_t http_channel_t;

//  down_fd is duplicated; hosts are copied. deadline is zclock_mono ms.
http_channel_t *http_channel_new (int down_fd, char *const *hosts, size_t host_count,
                                  net_policy_t policy, int64_t deadline_ms);
//  Drop the caller's reference (the thread may still hold one).
void            http_channel_release (http_channel_t **self_p);

//  Start a request (the harness's {"type": "http", ...} frame; borrowed).
//  0, or -1 when the child broke the rules (busy, too many, malformed).
int             http_channel_submit (http_channel_t *self, json_t *request);

#endif

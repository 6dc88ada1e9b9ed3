/*  mcp_events.h — the numbered server-to-client events of /mcp, kept for
    replay.

    Every message the gateway pushes on GET /mcp streams is an event with
    an id: a decimal number, increasing by one per event, unique in the
    gateway's life (sessions do not outlive the gateway). Every event so
    far goes to every session, so one ring holds what each session may
    have missed: the last MCP_EVENTS_REPLAY events (256). A session's own
    view of it starts at the last id when the session began (older events
    were never its own).

    A client that reconnects with Last-Event-ID n is sent the kept events
    after n. When n has fallen out of the ring (more than 256 events ago),
    what came between is gone: mcp_events_since says so, and the stream
    sends one fresh notifications/tools/list_changed instead (every event
    so far is a list_changed, which is idempotent: "list the tools again"
    is a complete recovery). Gaps are counted (mcp_events_gaps).

    Pure data; lives on the lws thread; not thread-safe.
*/
#ifndef MCPBOX_GATEWAY_MCP_EVENTS_H
#define MCPBOX_GATEWAY_MCP_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCP_EVENTS_REPLAY   256         //  events kept for Last-Event-ID

typedef struct _mcp_events_t mcp_events_t;

mcp_events_t *mcp_events_new (size_t max);
void          mcp_events_destroy (mcp_events_t **self_p);

//  Keep a copy of data (the JSON-RPC message text); returns its id (>= 1).
//  The oldest event goes when the ring is full.
uint64_t      mcp_events_add (mcp_events_t *self, const char *data);
//  The newest id, 0 before the first event.
uint64_t      mcp_events_last (mcp_events_t *self);

typedef void (mcp_event_visit_fn) (void *arg, uint64_t id, const char *data);
//  Visit, oldest first, every kept event with an id above `after`.
//  Returns 0, or -1 when some event after `after` is no longer kept (or
//  `after` is beyond the newest id, so not one of ours): then nothing is
//  visited and the gap is counted.
int           mcp_events_since (mcp_events_t *self, uint64_t after,
                                mcp_event_visit_fn *visit, void *arg);
//  How many replays found a gap.
uint64_t      mcp_events_gaps (mcp_events_t *self);

//  A Last-Event-ID value: 1..20 decimal digits with no sign or space, no
//  leading zero, at most UINT64_MAX. false otherwise.
bool          mcp_events_parse_id (const char *text, uint64_t *id);

#endif

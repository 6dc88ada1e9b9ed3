/*  catalog_cache.h — the gateway's copy of which user tools are callable.

    Two replies make one snapshot (docs/BUS_OPS.md, "The gateway's catalog
    cache"): registry `catalog` (enabled tools of running servers, with
    their code, and the imported tools their source no longer offers) and
    approval `effective` (the approved (tool_id, code_hash)
    pairs and each server's allowed modules, hosts and network policy). A
    tool is callable only when it is in the catalog AND its current code
    hash is approved. The callable tools are kept sorted by full name.

    Freshness: events `tools.changed` and `approval.changed` invalidate
    the snapshot and start a refetch at once; a caller that needs a copy
    younger than some age (tools/call: 1 s) gets true from
    catalog_cache_fresh, or is queued as a waiter and told through the
    ready callback when the next fetch ends (ok or not). So a lost event
    can keep a revoked tool callable for at most that age.

    A failed fetch keeps the previous snapshot (listing may use it; the
    caller decides: tools/call refuses to run on a snapshot that is not
    fresh). Both requests of a fetch carry tokens with CATALOG_TOKEN_BIT
    set, so the owner can route their completions here.

    The list revision changes whenever the callable list as clients see
    it (names, titles, descriptions, schemas, annotations) changes; the changed callback fires
    then, and the gateway pushes notifications/tools/list_changed.

    Lives on the lws thread. Everything below CATALOG_FETCH_TIMEOUT_MS is
    bounded by the bus bridge, which completes every submission.
*/
#ifndef MCPBOX_GATEWAY_CATALOG_CACHE_H
#define MCPBOX_GATEWAY_CATALOG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "bus_bridge.h"

#define CATALOG_TOKEN_BIT        (1ull << 63)
#define CATALOG_FETCH_TIMEOUT_MS 3000
#define CATALOG_CALL_MAX_AGE_MS  1000       //  tools/call, tools/list
#define CATALOG_WAITERS_MAX      4096

//  One callable tool. Pointers are valid until the next snapshot.
typedef struct {
    const char *full_name;      //  "{server}__{tool}"
    const char *tool_id;
    const char *server_id;
    const char *server_name;
    const char *name;
    const char *description;
    const char *code_hash;
    const char *python_code;
    json_t     *input_schema;   //  borrowed; always an object
    const char *title;          //  "" when none
    json_t     *output_schema;  //  borrowed object, or NULL (none declared)
    json_t     *annotations;    //  borrowed object of the hints the admin
                                //  set on approving this code, or NULL
    int64_t     timeout_ms;
    //  an mcp_passthrough tool (imported from an external source): its
    //  calls go to the sandbox service's `source` op, not `run`
    bool        passthrough;
    json_t     *source;         //  borrowed {source_id, url, transport_type,
                                //  auth_type, auth_secret_name, auth_header_name,
                                //  external_tool_name}, or NULL
} catalog_tool_t;

//  A server's sandbox rules from approval `effective`.
typedef struct {
    json_t     *allowed_modules;    //  borrowed array, or NULL (executor defaults)
    json_t     *allowed_hosts;      //  borrowed array, or NULL (none)
    const char *network_policy;     //  "allowlist" or "allow_all_public"
} catalog_server_t;

typedef struct _catalog_cache_t catalog_cache_t;

//  A waiter's fetch ended; ok says whether the snapshot is now fresh.
typedef void (catalog_ready_fn) (void *arg, uint64_t waiter, bool ok);
//  The callable list changed (revision bumped).
typedef void (catalog_changed_fn) (void *arg);

//  bridge may be NULL (tests: only catalog_cache_apply is used then).
catalog_cache_t *catalog_cache_new (bus_bridge_t *bridge,
                                    catalog_ready_fn *ready,
                                    catalog_changed_fn *changed, void *arg);
void             catalog_cache_destroy (catalog_cache_t **self_p);

//  True when the snapshot is younger than max_age_ms and not invalidated.
//  Otherwise queues waiter (unless 0), starts a fetch if none runs, and
//  returns false.
bool    catalog_cache_fresh (catalog_cache_t *self, int64_t max_age_ms,
                             int64_t now_ms, uint64_t waiter);
//  An event said something changed: refetch.
void    catalog_cache_invalidate (catalog_cache_t *self, int64_t now_ms);
//  Refetch if the snapshot is older than max_age_ms and no fetch runs.
void    catalog_cache_refresh (catalog_cache_t *self, int64_t max_age_ms,
                               int64_t now_ms);
//  A bus completion whose token has CATALOG_TOKEN_BIT.
void    catalog_cache_deliver (catalog_cache_t *self, uint64_t token,
                               const void *body, size_t size, int64_t now_ms);

//  Build a snapshot from the two raw reply bodies (also what a fetch
//  does). 0, or -1 with a reason in err (the old snapshot stays).
int     catalog_cache_apply (catalog_cache_t *self,
                             const void *catalog, size_t catalog_size,
                             const void *effective, size_t effective_size,
                             char *err, size_t errlen);

bool    catalog_cache_valid (catalog_cache_t *self);      //  any snapshot yet
size_t  catalog_cache_count (catalog_cache_t *self);
const catalog_tool_t *catalog_cache_tool (catalog_cache_t *self, size_t index);
const catalog_tool_t *catalog_cache_find (catalog_cache_t *self,
                                          const char *full_name);
//  An imported tool of an enabled tool of a running server that its
//  external source no longer offers (the registry catalog's `removed`):
//  the source's name (borrowed), or NULL when full_name is not one.
const char *catalog_cache_removed (catalog_cache_t *self, const char *full_name);
//  The server's rules from approval's effective view, or its defaults for a
//  server it does not list (no approved host or module). false when there
//  are none at all (no snapshot): then executor's default modules, no
//  hosts, allowlist policy.
bool    catalog_cache_server (catalog_cache_t *self, const char *server_id,
                              catalog_server_t *out);
uint64_t catalog_cache_revision (catalog_cache_t *self);
//  The policy remote_tool_editing is "enabled" in the snapshot (false
//  without one). Part of the revision: a change of it is a list change.
bool    catalog_cache_remote_editing (catalog_cache_t *self);

#endif

/*  live_msg.h — the /ws wire, as pure functions (no lws: unit-tested and
    fuzzed).

    Client -> server, one JSON text frame each (at most LIVE_MSG_IN_MAX
    bytes, which the server enforces before calling here):
      {"type":"ping"}
      {"type":"filter", "server_id": "…"|null, "types": ["tool.", …]|null,
                        "level": "debug|info|warning|error"|null}
    A filter replaces the one before; absent or null fields mean "any".
    server_id is 1..64 of [A-Za-z0-9._:-]; types are at most
    LIVE_FILTER_TYPES prefixes of 1..64 of [a-z0-9_.] (an activity type
    matches when it starts with one of them); level is the lowest level
    shown. Anything else (other keys, other types, bad values, not an
    object) is refused as a whole: the server answers it with an error
    message and keeps the filter it had.

    Server -> client: live_msg_log builds {"type":"log","data":{id, type,
    level, server_id, message, details, source, created_at}} from the
    logkeeper's `activity` event (a msgpack map, checked field by field).
*/
#ifndef MCPBOX_GATEWAY_LIVE_MSG_H
#define MCPBOX_GATEWAY_LIVE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define LIVE_MSG_IN_MAX     4096    //  bytes of one client message
#define LIVE_FILTER_TYPES   16      //  type prefixes in a filter
#define LIVE_FILTER_ID_MAX  64      //  bytes of a server id / a prefix

typedef enum {
    LIVE_LEVEL_ANY = 0,
    LIVE_LEVEL_DEBUG,
    LIVE_LEVEL_INFO,
    LIVE_LEVEL_WARNING,
    LIVE_LEVEL_ERROR,
} live_level_t;

typedef struct {
    char         server_id [LIVE_FILTER_ID_MAX + 1];    //  "" = any
    char         types [LIVE_FILTER_TYPES][LIVE_FILTER_ID_MAX + 1];
    size_t       type_count;                            //  0 = any
    live_level_t level;                                 //  lowest shown
} live_filter_t;

typedef enum {
    LIVE_MSG_BAD = -1,
    LIVE_MSG_PING = 1,
    LIVE_MSG_FILTER = 2,
} live_msg_kind_t;

//  Parse one client message. LIVE_MSG_FILTER fills *filter; LIVE_MSG_BAD
//  leaves it untouched and says why (a static text) in *why.
live_msg_kind_t live_msg_parse (const char *text, size_t len,
                                live_filter_t *filter, const char **why);

//  The level's rank, LIVE_LEVEL_ANY for a name we do not know.
live_level_t    live_level (const char *name);

//  Does a record pass the filter? (server_id may be NULL.)
bool            live_filter_match (const live_filter_t *filter, const char *type,
                                   const char *level, const char *server_id);

//  The "log" message for an `activity` event body, NULL if it is not a
//  well-formed activity record. *type, *level, *server_id (borrowed from
//  the returned object; server_id NULL when none) are for the filter.
json_t         *live_msg_log (const void *body, size_t size, const char **type,
                              const char **level, const char **server_id);

#endif

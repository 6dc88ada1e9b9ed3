/*  bus_json.h — a bus reply body, decoded into jansson for the MCP code.

    The MCP side speaks JSON; bus replies are msgpack maps. This decodes a
    raw reply body once (hostile-input rules of msg.c, with the bus's
    16 MiB bound instead of msg.c's 8 MiB default, since a catalog carries
    code), and gives either the whole reply as a JSON object or the error
    code and a message that is valid UTF-8 and bounded.
*/
#ifndef MCPBOX_GATEWAY_BUS_JSON_H
#define MCPBOX_GATEWAY_BUS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "bus_errors.h"
#include "msg.h"

#define BUS_JSON_MESSAGE_MAX 512

typedef struct {
    bool        ok;                                 //  {"ok": true, ...}
    bus_error_t code;                               //  when not ok
    char        message [BUS_JSON_MESSAGE_MAX];     //  when not ok; may be ""
    json_t     *body;                               //  when ok: the reply (owned)
} bus_json_t;

//  Never fails: a body that cannot be decoded, or whose content JSON
//  cannot hold, becomes a `protocol` error.
void bus_json_parse (const void *body, size_t size, bus_json_t *out);
void bus_json_clear (bus_json_t *self);

//  The retry_after (seconds) a rate_limited reply carries beside its
//  error; 0 when absent.
int64_t bus_json_retry_after (const void *body, size_t size);

//  Typed getters on an object (NULL / fallback when absent or mistyped).
const char *bus_json_str (const json_t *object, const char *key);
json_int_t  bus_json_int (const json_t *object, const char *key, json_int_t fallback);

//  Pack a JSON object as a bus request body with "op" set. NULL if it is
//  nested too deeply for msgpack conversion.
msgw_t     *bus_json_request (const char *op, const json_t *fields);

#endif

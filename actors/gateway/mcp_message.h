/*  mcp_message.h — what a POST /mcp body may be: one JSON-RPC 2.0 message.

    A pure function on the body's bytes (no lws, no session, no bus), so the
    whole envelope check is unit-tested and fuzzed (tests/fuzz/
    fuzz_mcp_request.c) apart from the server:

      empty or malformed JSON (duplicate keys included)   -32700
      an array (a batch: not allowed since 2025-06-18),
      not an object, jsonrpc other than "2.0", a request
      or notification without a string method, an id
      that is not a string or a number (null only on a
      response), params neither object nor array          -32600

    A valid request or notification without params gets an empty params
    object (added to the message), so handlers always read an object; a
    params array is reported (params_array) and refused by the dispatcher
    once the session rules have run, as before.
*/
#ifndef MCPBOX_GATEWAY_MCP_MESSAGE_H
#define MCPBOX_GATEWAY_MCP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef struct {
    json_t     *message;        //  owned by the caller whatever the outcome
                                //  (NULL when the body is not JSON)
    json_t     *id;             //  borrowed: a request's id, NULL otherwise
    const char *method;         //  borrowed: NULL for a response
    json_t     *params;         //  borrowed: an object, or NULL
    bool        params_array;   //  params was an array
    bool        is_response;    //  a response (result or error, no method)
    int         code;           //  0, or -32700 / -32600
    const char *error;          //  the refusal's message (static), or NULL
} mcp_message_t;

//  Parse and check one message. 0 when it is a JSON-RPC 2.0 message we
//  may dispatch; -1 with code and error set otherwise. out->message must
//  be released by the caller (json_decref) in both cases.
int mcp_message_parse (const char *body, size_t size, mcp_message_t *out);

#endif

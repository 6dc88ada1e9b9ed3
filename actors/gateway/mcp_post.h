/*  mcp_post.h — may a POST /mcp be read, and how is its body framed.

    A pure function on the header values the server read (no lws here, so
    it is unit-tested and fuzzed: tests/fuzz/fuzz_mcp_request.c). Each
    header comes as lws gave it: present (1), absent (0) or too long for
    the server's buffer (-1), with its value when present. In order:

      Accept lacks application/json or text/event-stream     406
      Content-Type not application/json (UTF-8)              415
      Transfer-Encoding with Content-Length, or not chunked  400
      neither                                                411
      Content-Length not digits                              400
      Content-Length over body_max                           413

    Whatever the verdict, close_after says whether the connection must
    close after the answer: when the body's length is unknown, or beyond
    what the server reads and drops (skip_max), or framed twice.
*/
#ifndef MCPBOX_GATEWAY_MCP_POST_H
#define MCPBOX_GATEWAY_MCP_POST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int         has_accept;         //  1 present, 0 absent, -1 too long
    const char *accept;
    int         has_type;
    const char *content_type;
    int         has_te;
    const char *te;
    int         has_cl;
    const char *cl;
} mcp_post_headers_t;

typedef struct {
    int         status;             //  0: read the body; else the refusal
    const char *message;            //  the refusal's text (static)
    bool        close_after;        //  close the connection after answering
    bool        chunked;            //  the body is chunked
    uint64_t    length;             //  else its Content-Length
} mcp_post_t;

void mcp_post_check (const mcp_post_headers_t *headers, uint64_t body_max,
                     uint64_t skip_max, mcp_post_t *out);

#endif

/*  sse_parser.h — a bounded reader of text/event-stream (the SSE format).

    An external MCP source answers a request as an SSE stream (Streamable
    HTTP) or keeps one open (the legacy HTTP+SSE transport). Everything in
    it is hostile: the parser is fed the bytes as they arrive, in pieces of
    any size, and hands back whole events. Bounds, each an error when
    passed (the stream is then useless and the caller ends it):

      - a line longer than SSE_LINE_MAX bytes (a field name and value);
      - an event whose data (all its `data:` lines joined with "\n")
        is longer than the caller's data_max;
      - a NUL byte anywhere.

    What it follows of the WHATWG rules: lines end in CRLF, LF or CR; a
    leading UTF-8 BOM is dropped; a line starting with ':' is a comment
    (keepalives); "field: value" drops ONE space after the colon; `event`
    names the event (default "message"), `data` lines are joined, `id`
    sets the last event id (an id holding NUL is ignored), `retry` and
    unknown fields are ignored; an empty line dispatches the event, and an
    event with no data line is not dispatched. Bytes after the last line
    ending wait for more input.

    Not here: any meaning of the events (mcp_client.c).
*/
#ifndef MCPBOX_SSE_PARSER_H
#define MCPBOX_SSE_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_LINE_MAX    (1u << 20)      //  bytes of one line
#define SSE_NAME_MAX    64              //  bytes of an event name kept
#define SSE_ID_MAX      256             //  bytes of an event id kept

typedef struct {
    const char *name;       //  "message" unless the event named itself
    const char *data;       //  NUL-terminated; data_len bytes
    size_t      data_len;
    const char *id;         //  the last event id seen so far ("" none)
} sse_event_t;

//  Called for each whole event; return 0 to go on, anything else stops
//  sse_parser_feed, which returns that value.
typedef int (sse_event_fn) (void *arg, const sse_event_t *event);

typedef struct _sse_parser_t sse_parser_t;

//  data_max: the largest event data accepted (bytes).
sse_parser_t *sse_parser_new (size_t data_max, sse_event_fn *on_event, void *arg);
void          sse_parser_destroy (sse_parser_t **self_p);

//  Feeds bytes. 0 when all were taken; the on_event value that stopped it;
//  or -1 on a bound or a NUL (sse_parser_error says which; every later
//  call returns -1 too).
int           sse_parser_feed (sse_parser_t *self, const char *data, size_t len);
const char   *sse_parser_error (sse_parser_t *self);
//  Events dispatched and comment lines seen (keepalives) so far.
size_t        sse_parser_events (sse_parser_t *self);
size_t        sse_parser_comments (sse_parser_t *self);

#endif

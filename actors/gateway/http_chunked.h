/*  http_chunked.h — decode a chunked request body (RFC 9112 §7.1).

    libwebsockets 4.1 does not decode Transfer-Encoding: chunked on the
    server side: it hands the raw bytes (size lines and all) to
    LWS_CALLBACK_HTTP_BODY and never says the body ended. A route that
    takes bodies (POST /mcp) feeds those bytes through this decoder, which
    passes the data on to a sink, enforces a total size, and says when the
    last chunk and the trailer section have been read.

    Strict on framing: CRLF line ends, hex sizes of at most 15 digits,
    chunk extensions skipped but bounded, trailer fields skipped but
    bounded. Anything else is HTTP_CHUNKED_BAD.
*/
#ifndef MCPBOX_GATEWAY_HTTP_CHUNKED_H
#define MCPBOX_GATEWAY_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_CHUNKED_LINE_MAX     1024  //  a size line with extensions
#define HTTP_CHUNKED_TRAILER_MAX  8192  //  the whole trailer section

typedef enum {
    HTTP_CHUNKED_MORE,          //  all input used, the body goes on
    HTTP_CHUNKED_DONE,          //  the body ended (input may be left over)
    HTTP_CHUNKED_BAD,           //  broken framing
    HTTP_CHUNKED_TOO_LARGE,     //  the data would exceed max_total
} http_chunked_status_t;

//  Receives decoded data in pieces.
typedef void (http_chunked_sink_fn) (void *arg, const uint8_t *data, size_t size);

typedef struct {
    int       state;            //  where in the framing we are
    uint64_t  chunk_left;       //  data bytes left in this chunk
    size_t    line_len;         //  bytes of the current size/trailer line
    size_t    trailer_len;      //  bytes of trailer section so far
    int       digits;           //  hex digits of the current size
    uint64_t  total;            //  data bytes so far
    uint64_t  max_total;        //  bound on total
} http_chunked_t;

void http_chunked_init (http_chunked_t *self, uint64_t max_total);

//  Decode `size` bytes. *used (optional) says how many were consumed
//  (less than size only after DONE). Once DONE, BAD or TOO_LARGE, further
//  calls return the same status and consume nothing.
http_chunked_status_t http_chunked_feed (http_chunked_t *self,
                                         const uint8_t *data, size_t size,
                                         size_t *used,
                                         http_chunked_sink_fn *sink, void *arg);

#endif

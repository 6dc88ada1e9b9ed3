/*  fuzz_mcp_request.c — a POST /mcp from raw bytes through every check the
    gateway runs before a method handler: the header rules and body framing
    (mcp_post.c), the Host / Origin allowlist (mcp_http_rules.c), the
    chunked decoder (http_chunked.c), the JSON-RPC envelope
    (mcp_message.c) and the protocol-generation classifier (mcp_era.c).

    Input: header lines "name: value\n" up to an empty line, then the body
    as it comes off the wire. A header line's first byte may be '!' to mark
    the header as too long for the server's buffer. The body is fed to the
    chunked decoder in pieces whose sizes come from the body's own bytes.

    Invariants checked (abort on breach): a refusal has a known status and
    a message; an accepted length is within the bound and keeps the
    connection; the decoder never yields more than the bound; a refused
    message has -32700 or -32600 and a message; an accepted one is an
    object with a string method (or is a response), params an object or
    flagged array; an era refusal is a 4xx with a code and a message.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_chunked.h"
#include "mcp.h"
#include "mcp_call.h"
#include "mcp_era.h"
#include "mcp_http_rules.h"
#include "mcp_message.h"
#include "mcp_post.h"

#define SKIP_MAX   (16u << 20)

typedef struct {
    const char *name;
    int         has;
    char       *value;
} s_header_t;

enum { H_ACCEPT, H_TYPE, H_TE, H_CL, H_HOST, H_ORIGIN, H_VERSION, H_METHOD, H_NAME, H_COUNT };
static const char *s_names [H_COUNT] = {
    "accept", "content-type", "transfer-encoding", "content-length", "host",
    "origin", "mcp-protocol-version", "mcp-method", "mcp-name"
};

typedef struct {
    char   *data;
    size_t  size;
} s_sink_t;

static void
s_append (void *arg, const uint8_t *data, size_t size)
{
    s_sink_t *sink = arg;
    if (sink->size + size > MCP_BODY_MAX)
        abort ();               //  the decoder let more through than its bound
    memcpy (sink->data + sink->size, data, size);
    sink->size += size;
}

static mcp_allow_t *s_allow;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_allow) {
        char err [256];
        s_allow = mcp_allow_new ("example.com, nas.lan:8080",
                                 "https://app.example.org", err, sizeof err);
        if (!s_allow)
            abort ();
    }
    char *copy = malloc (size + 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    copy [size] = 0;

    s_header_t headers [H_COUNT];
    for (int i = 0; i < H_COUNT; i++)
        headers [i] = (s_header_t) { s_names [i], 0, NULL };
    //  the header section: lines up to an empty one (or the input's end)
    char *cursor = copy;
    char *end = copy + size;
    while (cursor < end) {
        char *newline = memchr (cursor, '\n', (size_t) (end - cursor));
        char *line_end = newline ? newline : end;
        char *next = newline ? newline + 1 : end;
        if (line_end == cursor) {           //  the empty line: the body follows
            cursor = next;
            break;
        }
        *line_end = 0;
        bool too_long = *cursor == '!';
        char *line = too_long ? cursor + 1 : cursor;
        char *colon = strchr (line, ':');
        if (colon) {
            *colon = 0;
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            for (int i = 0; i < H_COUNT; i++)
                if (strcasecmp (line, s_names [i]) == 0 && !headers [i].has) {
                    headers [i].has = too_long ? -1 : 1;
                    headers [i].value = too_long ? NULL : value;
                }
        }
        cursor = next;
    }
    const uint8_t *body = (const uint8_t *) cursor;
    size_t body_size = (size_t) (end - cursor);

    //  Host and Origin (the allowlist must answer without crashing; a
    //  refused Host stops a real request, but the rest is still fuzzed)
    if (headers [H_HOST].has == 1)
        (void) mcp_allow_host (s_allow, headers [H_HOST].value);
    if (headers [H_ORIGIN].has == 1)
        (void) mcp_allow_origin (s_allow, headers [H_ORIGIN].value);
    if (headers [H_VERSION].has == 1)
        (void) mcp_protocol_supported (headers [H_VERSION].value);

    mcp_post_headers_t post_headers = {
        headers [H_ACCEPT].has, headers [H_ACCEPT].value,
        headers [H_TYPE].has, headers [H_TYPE].value,
        headers [H_TE].has, headers [H_TE].value,
        headers [H_CL].has, headers [H_CL].value,
    };
    mcp_post_t post;
    mcp_post_check (&post_headers, MCP_BODY_MAX, SKIP_MAX, &post);
    if (post.status) {
        if (!post.message || !*post.message
        ||  (post.status != 400 && post.status != 406 && post.status != 411
             && post.status != 413 && post.status != 415))
            abort ();
        free (copy);
        return 0;
    }
    if (!post.chunked && (post.length > MCP_BODY_MAX || post.close_after))
        abort ();
    if (post.chunked && !post.close_after)
        abort ();           //  a chunked body's end is ours to find: never kept

    s_sink_t sink = { malloc (MCP_BODY_MAX + 1), 0 };
    if (!sink.data) {
        free (copy);
        return 0;
    }
    bool complete = false;
    if (post.chunked) {
        http_chunked_t decoder;
        http_chunked_init (&decoder, MCP_BODY_MAX);
        size_t at = 0;
        http_chunked_status_t status = HTTP_CHUNKED_MORE;
        while (at < body_size && status == HTTP_CHUNKED_MORE) {
            size_t piece = 1 + body [at] % 61;      //  lws hands bodies in pieces
            if (piece > body_size - at)
                piece = body_size - at;
            size_t used = 0;
            status = http_chunked_feed (&decoder, body + at, piece, &used, s_append, &sink);
            if (used > piece || (status == HTTP_CHUNKED_MORE && used != piece))
                abort ();
            at += piece;
        }
        complete = status == HTTP_CHUNKED_DONE;
    }
    else
    if (body_size >= post.length) {
        memcpy (sink.data, body, (size_t) post.length);
        sink.size = (size_t) post.length;
        complete = true;
    }
    if (complete) {
        mcp_message_t message;
        int rc = mcp_message_parse (sink.data, sink.size, &message);
        if (rc) {
            if ((message.code != MCP_PARSE_ERROR && message.code != MCP_INVALID_REQUEST)
            ||  !message.error || message.id || message.method)
                abort ();
            if (message.code == MCP_PARSE_ERROR && message.message)
                abort ();
        }
        else {
            if (!json_is_object (message.message))
                abort ();
            if (!message.is_response && !message.method)
                abort ();
            if (message.is_response && (message.id || message.method))
                abort ();
            if (message.params && !json_is_object (message.params))
                abort ();
            if (!message.is_response && !message.params_array && !message.params)
                abort ();
            if (message.id && !json_is_string (message.id) && !json_is_number (message.id))
                abort ();
            mcp_era_headers_t era_headers = {
                headers [H_VERSION].has ? (headers [H_VERSION].value ? headers [H_VERSION].value : "") : NULL,
                headers [H_METHOD].has ? (headers [H_METHOD].value ? headers [H_METHOD].value : "") : NULL,
                headers [H_NAME].has ? (headers [H_NAME].value ? headers [H_NAME].value : "") : NULL,
            };
            mcp_era_t era;
            mcp_era_classify (message.message, &era_headers, &era);
            if (era.status && (era.status < 400 || era.status > 499 || !era.code
                               || !*era.message))
                abort ();
            json_decref (era.data);
        }
        json_decref (message.message);
    }
    free (sink.data);
    free (copy);
    return 0;
}

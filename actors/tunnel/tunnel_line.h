/*  tunnel_line.h — a child's output cut into bounded, clean lines.

    The child writes whatever it likes to its pipe; the supervisor appends
    each read to a tunnel_lines_t and takes complete lines out. A line is
    at most TUNNEL_LINE_MAX bytes: the rest of a longer one is dropped and
    counted (truncated). Each line handed out is cleaned: bytes outside
    printable ASCII become '?', a trailing '\r' is dropped, and every
    occurrence of the redaction string (the token, if the child ever
    printed it) becomes "[REDACTED]", as does a line's tail of 4 bytes
    or more that begins it (a line cut at the bound inside the token), so a line is safe to log and to
    return in a status reply.
*/
#ifndef MCPBOX_TUNNEL_LINE_H
#define MCPBOX_TUNNEL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUNNEL_LINE_MAX 512

typedef struct {
    char     buf [TUNNEL_LINE_MAX + 1];
    size_t   len;               //  bytes of the line being assembled
    bool     overflow;          //  the current line is past the bound
    uint64_t lines;             //  complete lines taken
    uint64_t truncated;         //  lines cut at TUNNEL_LINE_MAX
} tunnel_lines_t;

void tunnel_lines_reset (tunnel_lines_t *self);

//  Feed bytes; for each complete line, call on_line (line, len, arg) with
//  the cleaned line (NUL-terminated in a buffer of TUNNEL_LINE_MAX + 1 +
//  room for redaction markers). redact (may be NULL or "") is replaced.
typedef void (tunnel_line_fn) (const char *line, size_t len, void *arg);
void tunnel_lines_feed (tunnel_lines_t *self, const char *data, size_t size,
                        const char *redact, tunnel_line_fn *on_line, void *arg);
//  The child is gone: hand out a last unterminated line, if any.
void tunnel_lines_flush (tunnel_lines_t *self, const char *redact,
                         tunnel_line_fn *on_line, void *arg);

//  Clean one line in place into out (size ≥ len + 1): see above. Returns
//  the new length. Exposed for the fuzz target and unit test.
size_t tunnel_line_clean (const char *line, size_t len, const char *redact,
                          char *out, size_t size);

#endif

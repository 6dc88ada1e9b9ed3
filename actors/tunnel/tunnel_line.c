/*  tunnel_line.c — bounded, cleaned lines from a child's output
    (tunnel_line.h).
*/
#include <string.h>
#include "tunnel_line.h"

#define S_MARK     "[REDACTED]"
#define S_OUT_MAX  (TUNNEL_LINE_MAX * 2 + 16)

void
tunnel_lines_reset (tunnel_lines_t *self)
{
    memset (self, 0, sizeof *self);
}

size_t
tunnel_line_clean (const char *line, size_t len, const char *redact,
                   char *out, size_t size)
{
    if (size == 0)
        return 0;
    if (len > 0 && line [len - 1] == '\r')
        len--;
    size_t redact_len = redact ? strlen (redact) : 0;
    size_t at = 0;
    for (size_t i = 0; i < len && at + 1 < size; ) {
        if (redact_len && len - i >= redact_len && memcmp (line + i, redact, redact_len) == 0) {
            size_t n = strlen (S_MARK);
            if (at + n + 1 > size)
                break;
            memcpy (out + at, S_MARK, n);
            at += n;
            i += redact_len;
            continue;
        }
        //  a line cut at the bound may end inside the secret: its
        //  beginning is redacted too
        if (redact_len && len - i < redact_len && len - i >= 4
        &&  memcmp (line + i, redact, len - i) == 0) {
            size_t n = strlen (S_MARK);
            if (at + n + 1 <= size) {
                memcpy (out + at, S_MARK, n);
                at += n;
            }
            break;
        }
        unsigned char c = (unsigned char) line [i++];
        out [at++] = (c >= 0x20 && c < 0x7f) ? (char) c : (c == '\t' ? ' ' : '?');
    }
    out [at] = '\0';
    return at;
}

static void
s_emit (tunnel_lines_t *self, const char *redact, tunnel_line_fn *on_line, void *arg)
{
    char out [S_OUT_MAX];
    size_t len = tunnel_line_clean (self->buf, self->len, redact, out, sizeof out);
    self->lines++;
    if (self->overflow)
        self->truncated++;
    self->len = 0;
    self->overflow = false;
    on_line (out, len, arg);
}

void
tunnel_lines_feed (tunnel_lines_t *self, const char *data, size_t size,
                   const char *redact, tunnel_line_fn *on_line, void *arg)
{
    for (size_t i = 0; i < size; i++) {
        char c = data [i];
        if (c == '\n') {
            s_emit (self, redact, on_line, arg);
            continue;
        }
        if (self->len < TUNNEL_LINE_MAX)
            self->buf [self->len++] = c;
        else
            self->overflow = true;
    }
}

void
tunnel_lines_flush (tunnel_lines_t *self, const char *redact,
                    tunnel_line_fn *on_line, void *arg)
{
    if (self->len > 0 || self->overflow)
        s_emit (self, redact, on_line, arg);
}

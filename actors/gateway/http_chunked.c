/*  http_chunked.c — the chunked-body state machine. See http_chunked.h.

      SIZE        hex digits                       -> EXT on ';' or BWS,
                                                      SIZE_LF on CR
      EXT         anything but CR/LF (bounded)     -> SIZE_LF on CR
      SIZE_LF     LF                               -> DATA (size > 0)
                                                      TRAILER (size 0)
      DATA        size bytes to the sink           -> DATA_CR
      DATA_CR/LF  CR LF                            -> SIZE
      TRAILER     CR at a line start               -> END_LF
                  anything else                    -> FIELD
      FIELD       a trailer field line (bounded)   -> FIELD_LF on CR
      FIELD_LF    LF                               -> TRAILER
      END_LF      LF                               -> DONE
*/
#include <stdbool.h>
#include "http_chunked.h"

enum {
    S_SIZE, S_EXT, S_SIZE_LF, S_DATA, S_DATA_CR, S_DATA_LF,
    S_TRAILER, S_FIELD, S_FIELD_LF, S_END_LF,
    S_DONE, S_BAD, S_TOO_LARGE,
};

#define SIZE_DIGITS_MAX 15

void
http_chunked_init (http_chunked_t *self, uint64_t max_total)
{
    *self = (http_chunked_t) { .state = S_SIZE, .max_total = max_total };
}

static int
s_hex (uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static http_chunked_status_t
s_status (int state)
{
    switch (state) {
        case S_DONE:      return HTTP_CHUNKED_DONE;
        case S_BAD:       return HTTP_CHUNKED_BAD;
        case S_TOO_LARGE: return HTTP_CHUNKED_TOO_LARGE;
        default:          return HTTP_CHUNKED_MORE;
    }
}

http_chunked_status_t
http_chunked_feed (http_chunked_t *self, const uint8_t *data, size_t size,
                   size_t *used, http_chunked_sink_fn *sink, void *arg)
{
    size_t i = 0;
    while (i < size && self->state < S_DONE) {
        uint8_t c = data [i];
        switch (self->state) {
            case S_SIZE: {
                int digit = s_hex (c);
                if (digit >= 0) {
                    if (++self->digits > SIZE_DIGITS_MAX) {
                        self->state = S_BAD;
                        break;
                    }
                    self->chunk_left = self->chunk_left * 16 + (uint64_t) digit;
                    i++;
                }
                else
                if (self->digits == 0)
                    self->state = S_BAD;
                else
                if (c == '\r') {
                    self->state = S_SIZE_LF;
                    i++;
                }
                else
                if (c == ';' || c == ' ' || c == '\t') {
                    self->state = S_EXT;
                    self->line_len = (size_t) self->digits;
                    i++;
                }
                else
                    self->state = S_BAD;
                break;
            }
            case S_EXT:
                if (c == '\r')
                    self->state = S_SIZE_LF;
                else
                if (c == '\n' || ++self->line_len > HTTP_CHUNKED_LINE_MAX)
                    self->state = S_BAD;
                if (self->state != S_BAD)
                    i++;
                break;

            case S_SIZE_LF:
                if (c != '\n') {
                    self->state = S_BAD;
                    break;
                }
                i++;
                if (self->chunk_left == 0)
                    self->state = S_TRAILER;
                else
                if (self->chunk_left > self->max_total - self->total)
                    self->state = S_TOO_LARGE;
                else
                    self->state = S_DATA;
                break;

            case S_DATA: {
                size_t take = size - i;
                if ((uint64_t) take > self->chunk_left)
                    take = (size_t) self->chunk_left;
                if (sink)
                    sink (arg, data + i, take);
                i += take;
                self->total += take;
                self->chunk_left -= take;
                if (self->chunk_left == 0)
                    self->state = S_DATA_CR;
                break;
            }
            case S_DATA_CR:
            case S_DATA_LF:
                if (c != (self->state == S_DATA_CR ? '\r' : '\n')) {
                    self->state = S_BAD;
                    break;
                }
                i++;
                if (self->state == S_DATA_CR)
                    self->state = S_DATA_LF;
                else {
                    self->state = S_SIZE;
                    self->digits = 0;
                    self->line_len = 0;
                }
                break;

            case S_TRAILER:
            case S_FIELD:
            case S_FIELD_LF:
            case S_END_LF:
                if (++self->trailer_len > HTTP_CHUNKED_TRAILER_MAX) {
                    self->state = S_BAD;
                    break;
                }
                i++;
                if (self->state == S_TRAILER)
                    self->state = c == '\r' ? S_END_LF
                                : c == '\n' ? S_BAD : S_FIELD;
                else
                if (self->state == S_FIELD)
                    self->state = c == '\r' ? S_FIELD_LF
                                : c == '\n' ? S_BAD : S_FIELD;
                else
                if (self->state == S_FIELD_LF)
                    self->state = c == '\n' ? S_TRAILER : S_BAD;
                else
                    self->state = c == '\n' ? S_DONE : S_BAD;
                break;
        }
    }
    if (used)
        *used = i;
    return s_status (self->state);
}

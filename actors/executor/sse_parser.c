/*  sse_parser.c — see sse_parser.h.

    One line buffer (grown up to SSE_LINE_MAX) and one data buffer (grown
    up to data_max). A CR at the end of a piece may be the first half of a
    CRLF: `after_cr` remembers it so the LF that follows is not a second,
    empty line that would dispatch the event early.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sse_parser.h"

struct _sse_parser_t {
    size_t        data_max;
    sse_event_fn *on_event;
    void         *arg;
    char         *line;             //  the line being read
    size_t        line_len, line_cap;
    char         *data;             //  the event's data so far
    size_t        data_len, data_cap;
    bool          has_data;         //  a data line was seen
    char          name [SSE_NAME_MAX + 1];
    char          id [SSE_ID_MAX + 1];
    bool          after_cr;         //  the last byte was a CR
    bool          bom_checked;      //  the first bytes were looked at
    size_t        bom_seen;         //  bytes of a leading BOM matched so far
    size_t        events, comments;
    const char   *error;            //  set: the stream is broken
};

sse_parser_t *
sse_parser_new (size_t data_max, sse_event_fn *on_event, void *arg)
{
    sse_parser_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->data_max = data_max;
    self->on_event = on_event;
    self->arg = arg;
    return self;
}

void
sse_parser_destroy (sse_parser_t **self_p)
{
    if (self_p && *self_p) {
        sse_parser_t *self = *self_p;
        free (self->line);
        free (self->data);
        free (self);
        *self_p = NULL;
    }
}

const char *
sse_parser_error (sse_parser_t *self)
{
    return self->error ? self->error : "";
}

size_t
sse_parser_events (sse_parser_t *self)
{
    return self->events;
}

size_t
sse_parser_comments (sse_parser_t *self)
{
    return self->comments;
}

//  Grows *buf to hold need bytes (+1 for a NUL), never beyond max + 1.
static int
s_reserve (char **buf, size_t *cap, size_t need, size_t max)
{
    if (need + 1 <= *cap)
        return 0;
    size_t grown = *cap ? *cap : 256;
    while (grown < need + 1)
        grown = grown > SIZE_MAX / 2 ? need + 1 : grown * 2;
    if (grown > max + 1)
        grown = max + 1;
    char *p = realloc (*buf, grown);
    if (!p)
        return -1;
    *buf = p;
    *cap = grown;
    return 0;
}

//  The empty line: the event (if it had data) goes out, the state resets.
static int
s_dispatch (sse_parser_t *self)
{
    int rc = 0;
    if (self->has_data) {
        sse_event_t event = {
            .name = self->name [0] ? self->name : "message",
            .data = self->data ? self->data : "",
            .data_len = self->data_len,
            .id = self->id,
        };
        self->events++;
        rc = self->on_event ? self->on_event (self->arg, &event) : 0;
    }
    self->has_data = false;
    self->data_len = 0;
    if (self->data)
        self->data [0] = '\0';
    self->name [0] = '\0';
    return rc;
}

//  One whole line (without its ending).
static int
s_line (sse_parser_t *self, const char *line, size_t len)
{
    if (len == 0)
        return s_dispatch (self);
    if (line [0] == ':') {
        self->comments++;
        return 0;
    }
    const char *colon = memchr (line, ':', len);
    size_t nlen = colon ? (size_t) (colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t vlen = (size_t) (line + len - value);
    if (vlen && *value == ' ') {
        value++;
        vlen--;
    }
    if (nlen == 4 && memcmp (line, "data", 4) == 0) {
        size_t need = self->data_len + (self->has_data ? 1 : 0) + vlen;
        if (need > self->data_max || need < self->data_len) {
            self->error = "an event's data is larger than allowed";
            return -1;
        }
        if (s_reserve (&self->data, &self->data_cap, need, self->data_max)) {
            self->error = "out of memory";
            return -1;
        }
        if (self->has_data)
            self->data [self->data_len++] = '\n';
        memcpy (self->data + self->data_len, value, vlen);
        self->data_len += vlen;
        self->data [self->data_len] = '\0';
        self->has_data = true;
    }
    else
    if (nlen == 5 && memcmp (line, "event", 5) == 0) {
        size_t keep = vlen > SSE_NAME_MAX ? SSE_NAME_MAX : vlen;
        memcpy (self->name, value, keep);
        self->name [keep] = '\0';
    }
    else
    if (nlen == 2 && memcmp (line, "id", 2) == 0) {
        size_t keep = vlen > SSE_ID_MAX ? SSE_ID_MAX : vlen;
        memcpy (self->id, value, keep);
        self->id [keep] = '\0';
    }
    //  retry and unknown fields: ignored
    return 0;
}

int
sse_parser_feed (sse_parser_t *self, const char *data, size_t len)
{
    if (self->error)
        return -1;
    static const char bom [] = "\xEF\xBB\xBF";
    size_t i = 0;
    //  a leading BOM, possibly split across pieces
    while (!self->bom_checked && i < len) {
        if (data [i] == bom [self->bom_seen]) {
            self->bom_seen++;
            i++;
            if (self->bom_seen == 3)
                self->bom_checked = true;
            continue;
        }
        //  not a BOM after all: what matched of it is ordinary line bytes
        self->bom_checked = true;
        if (self->bom_seen) {
            if (s_reserve (&self->line, &self->line_cap, self->bom_seen, SSE_LINE_MAX)) {
                self->error = "out of memory";
                return -1;
            }
            memcpy (self->line, bom, self->bom_seen);
            self->line_len = self->bom_seen;
        }
    }
    for (; i < len; i++) {
        char c = data [i];
        if (c == '\0') {
            self->error = "a NUL byte in the event stream";
            return -1;
        }
        if (c == '\n' && self->after_cr) {
            self->after_cr = false;
            continue;               //  the LF of a CRLF
        }
        self->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            size_t line_len = self->line_len;
            self->line_len = 0;
            int rc = s_line (self, self->line ? self->line : "", line_len);
            if (rc)
                return rc;
            continue;
        }
        //  the run of ordinary bytes up to the next line end, at once
        size_t j = i;
        while (j < len && data [j] != '\r' && data [j] != '\n' && data [j] != '\0')
            j++;
        size_t run = j - i;
        if (run > SSE_LINE_MAX - self->line_len) {
            self->error = "a line of the event stream is longer than allowed";
            return -1;
        }
        if (s_reserve (&self->line, &self->line_cap, self->line_len + run, SSE_LINE_MAX)) {
            self->error = "out of memory";
            return -1;
        }
        memcpy (self->line + self->line_len, data + i, run);
        self->line_len += run;
        i = j - 1;
    }
    return 0;
}

/*  table.c — text for people: cleaning what the services send before it
    reaches a terminal, aligned tables, ages (see cli.h).

    Cleaning decodes UTF-8 strictly (no overlongs, no surrogates, nothing
    above U+10FFFF) and replaces with '?':
      - C0 controls and DEL (ESC starts terminal escape sequences), except
        newline and tab, which become spaces in one-line text;
      - C1 controls U+0080..U+009F (CSI is one of them);
      - bidirectional embeddings, overrides and isolates (U+202A..U+202E,
        U+2066..U+2069), which can make code read differently from what it
        does ("Trojan Source");
      - every byte that is not part of valid UTF-8.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define S_ELLIPSIS "\xe2\x80\xa6"     //  "…"

//  Decode one code point at s (len bytes left). Returns its length in
//  bytes and sets *cp, or 0 for an invalid sequence.
static size_t
s_decode (const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s [0];
    size_t extra;
    uint32_t value;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) { extra = 1; value = c & 0x1f; }
    else
    if ((c & 0xf0) == 0xe0) { extra = 2; value = c & 0x0f; }
    else
    if ((c & 0xf8) == 0xf0) { extra = 3; value = c & 0x07; }
    else
        return 0;
    if (extra >= len)
        return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((s [k] & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (s [k] & 0x3f);
    }
    if ((extra == 1 && value < 0x80) || (extra == 2 && value < 0x800)
    ||  (extra == 3 && value < 0x10000) || value > 0x10ffff
    ||  (value >= 0xd800 && value <= 0xdfff))
        return 0;
    *cp = value;
    return extra + 1;
}

static bool
s_unsafe (uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f
        || (cp >= 0x80 && cp <= 0x9f)
        || (cp >= 0x202a && cp <= 0x202e)
        || (cp >= 0x2066 && cp <= 0x2069);
}

char *
cli_text_clean (const char *text, size_t max_chars, bool one_line)
{
    if (!text)
        text = "";
    const unsigned char *s = (const unsigned char *) text;
    size_t len = strlen (text);
    //  Each input byte yields at most its own bytes or one '?'; plus "…".
    char *out = malloc (len + sizeof S_ELLIPSIS);
    if (!out)
        return NULL;
    size_t used = 0, chars = 0;
    size_t i = 0;
    while (i < len) {
        if (max_chars > 0 && chars + 1 == max_chars) {
            //  Room for one more code point: is this the last one?
            uint32_t next;
            size_t step = s_decode (s + i, len - i, &next);
            if (i + (step ? step : 1) < len) {
                memcpy (out + used, S_ELLIPSIS, sizeof S_ELLIPSIS - 1);
                used += sizeof S_ELLIPSIS - 1;
                break;
            }
        }
        uint32_t cp;
        size_t step = s_decode (s + i, len - i, &cp);
        if (step == 0) {
            out [used++] = '?';
            i++;
        }
        else {
            if ((cp == '\n' || cp == '\t') && !one_line)
                out [used++] = (char) cp;
            else
            if (cp == '\n' || cp == '\t' || cp == '\r')
                out [used++] = one_line ? ' ' : '?';
            else
            if (s_unsafe (cp))
                out [used++] = '?';
            else {
                memcpy (out + used, s + i, step);
                used += step;
            }
            i += step;
        }
        chars++;
    }
    out [used] = '\0';
    return out;
}

size_t
cli_text_width (const char *text)
{
    size_t width = 0;
    for (const unsigned char *s = (const unsigned char *) text; *s; s++)
        if ((*s & 0xc0) != 0x80)
            width++;
    return width;
}

void
cli_text_print (FILE *out, const char *text)
{
    char *clean = cli_text_clean (text, 0, false);
    if (clean)
        fputs (clean, out);
    free (clean);
}

//  --- tables ----------------------------------------------------------------

struct _cli_table_t {
    size_t   columns;
    size_t   rows;              //  data rows (the header is row 0 of cells)
    size_t   capacity;          //  rows the cells array holds, header included
    char   **cells;             //  (rows + 1) * columns, cleaned, owned
    size_t  *max_widths;        //  per column, 0 = no cap
};

cli_table_t *
cli_table_new (size_t columns, const char *const *headers, const size_t *max_widths)
{
    cli_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->columns = columns;
    self->capacity = 8;
    self->cells = calloc (self->capacity * columns, sizeof (char *));
    self->max_widths = calloc (columns, sizeof (size_t));
    if (!self->cells || !self->max_widths) {
        cli_table_destroy (&self);
        return NULL;
    }
    if (max_widths)
        memcpy (self->max_widths, max_widths, columns * sizeof (size_t));
    for (size_t c = 0; c < columns; c++) {
        self->cells [c] = cli_text_clean (headers [c], 0, true);
        if (!self->cells [c]) {
            cli_table_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
cli_table_destroy (cli_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_table_t *self = *self_p;
    if (self->cells)
        for (size_t i = 0; i < (self->rows + 1) * self->columns; i++)
            free (self->cells [i]);
    free (self->cells);
    free (self->max_widths);
    free (self);
    *self_p = NULL;
}

int
cli_table_add (cli_table_t *self, const char *const *cells)
{
    if (self->rows + 2 > self->capacity) {
        size_t capacity = self->capacity * 2;
        char **grown = realloc (self->cells, capacity * self->columns * sizeof (char *));
        if (!grown)
            return -1;
        self->cells = grown;
        self->capacity = capacity;
    }
    char **row = self->cells + (self->rows + 1) * self->columns;
    for (size_t c = 0; c < self->columns; c++) {
        row [c] = cli_text_clean (cells [c], self->max_widths [c], true);
        if (!row [c]) {
            while (c > 0)
                free (row [--c]);
            return -1;
        }
    }
    self->rows++;
    return 0;
}

size_t
cli_table_rows (cli_table_t *self)
{
    return self->rows;
}

void
cli_table_print (cli_table_t *self, FILE *out, int indent)
{
    size_t *widths = calloc (self->columns, sizeof (size_t));
    if (!widths)
        return;
    for (size_t r = 0; r <= self->rows; r++)
        for (size_t c = 0; c < self->columns; c++) {
            size_t width = cli_text_width (self->cells [r * self->columns + c]);
            if (width > widths [c])
                widths [c] = width;
        }
    for (size_t r = 0; r <= self->rows; r++) {
        fprintf (out, "%*s", indent, "");
        //  No padding after the last non-empty cell: no trailing blanks.
        size_t used = self->columns;
        while (used > 1 && !*self->cells [r * self->columns + used - 1])
            used--;
        for (size_t c = 0; c < used; c++) {
            const char *cell = self->cells [r * self->columns + c];
            bool last = c + 1 == used;
            fputs (cell, out);
            if (!last) {
                size_t pad = widths [c] - cli_text_width (cell) + 2;
                fprintf (out, "%*s", (int) pad, "");
            }
        }
        fputc ('\n', out);
    }
    free (widths);
}

void
cli_age (const char *iso_time, char *buf, size_t size)
{
    struct tm tm = { 0 };
    if (!iso_time
    ||  sscanf (iso_time, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        snprintf (buf, size, "?");
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t then = timegm (&tm);
    time_t now = time (NULL);
    if (then == (time_t) -1) {
        snprintf (buf, size, "?");
        return;
    }
    long long age = now > then ? (long long) (now - then) : 0;
    if (age < 60)
        snprintf (buf, size, "%llds", age);
    else
    if (age < 3600)
        snprintf (buf, size, "%lldm", age / 60);
    else
    if (age < 86400)
        snprintf (buf, size, "%lldh", age / 3600);
    else
        snprintf (buf, size, "%lldd", age / 86400);
}

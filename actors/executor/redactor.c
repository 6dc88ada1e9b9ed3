/*  redactor.c — see redactor.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "redactor.h"

#define SECRET_MAX      10000
#define SHORT_SECRET    4           //  below this many characters: whole words only
#define B64_INNER_MIN   5           //  shortest alignment-stable base64 run we match

typedef struct {
    char   *bytes;
    size_t  len;
    bool    word;                   //  only as a whole word
} pattern_t;

struct _redactor_t {
    pattern_t *patterns;
    size_t     count;
    size_t     alloc;
    size_t     secrets;
};

//  --- growable byte buffer, wiped when dropped --------------------------------

typedef struct {
    char   *data;
    size_t  len;
    size_t  cap;
    bool    failed;
} buf_t;

static void
s_put (buf_t *buf, const void *data, size_t len)
{
    if (buf->failed)
        return;
    if (buf->len + len + 1 > buf->cap) {
        size_t cap = (buf->len + len + 1) * 2;
        char *grown = malloc (cap);
        if (!grown) {
            buf->failed = true;
            return;
        }
        if (buf->data) {
            memcpy (grown, buf->data, buf->len);
            explicit_bzero (buf->data, buf->cap);
            free (buf->data);
        }
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy (buf->data + buf->len, data, len);
    buf->len += len;
    buf->data [buf->len] = 0;
}

static void
s_putc (buf_t *buf, char c)
{
    s_put (buf, &c, 1);
}

static void
s_putf (buf_t *buf, const char *format, unsigned value)
{
    char text [16];
    int n = snprintf (text, sizeof text, format, value);
    s_put (buf, text, (size_t) n);
}

static void
s_drop (buf_t *buf)
{
    if (buf->data) {
        explicit_bzero (buf->data, buf->cap);
        free (buf->data);
    }
    memset (buf, 0, sizeof *buf);
}

//  --- code points ------------------------------------------------------------------

//  Decode valid UTF-8 (job_spec checked it). Length of the sequence at s.
static size_t
s_decode (const unsigned char *s, size_t left, uint32_t *cp)
{
    if (s [0] < 0x80 || left < 2) {
        *cp = s [0];
        return 1;
    }
    if ((s [0] & 0xE0) == 0xC0) {
        *cp = ((uint32_t) (s [0] & 0x1F) << 6) | (s [1] & 0x3F);
        return 2;
    }
    if ((s [0] & 0xF0) == 0xE0 && left >= 3) {
        *cp = ((uint32_t) (s [0] & 0x0F) << 12) | ((uint32_t) (s [1] & 0x3F) << 6) | (s [2] & 0x3F);
        return 3;
    }
    if (left >= 4) {
        *cp = ((uint32_t) (s [0] & 0x07) << 18) | ((uint32_t) (s [1] & 0x3F) << 12)
            | ((uint32_t) (s [2] & 0x3F) << 6) | (s [3] & 0x3F);
        return 4;
    }
    *cp = s [0];
    return 1;
}

//  --- the forms -----------------------------------------------------------------------

static void
s_add_pattern (redactor_t *self, buf_t *form, bool word)
{
    if (form->failed || form->len == 0) {
        s_drop (form);
        return;
    }
    for (size_t i = 0; i < self->count; i++)
        if (self->patterns [i].len == form->len && self->patterns [i].word == word
        &&  memcmp (self->patterns [i].bytes, form->data, form->len) == 0) {
            s_drop (form);
            return;
        }
    if (self->count == self->alloc) {
        size_t alloc = self->alloc ? self->alloc * 2 : 32;
        pattern_t *grown = calloc (alloc, sizeof *grown);
        if (!grown) {
            s_drop (form);
            return;
        }
        if (self->patterns) {
            memcpy (grown, self->patterns, self->count * sizeof *grown);
            free (self->patterns);
        }
        self->patterns = grown;
        self->alloc = alloc;
    }
    self->patterns [self->count++] = (pattern_t) { form->data, form->len, word };
    memset (form, 0, sizeof *form);         //  the pattern owns the bytes now
}

static void
s_form_reversed (const unsigned char *s, size_t len, buf_t *out)
{
    size_t end = len;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (s [start] & 0xC0) == 0x80)
            start--;
        s_put (out, s + start, end - start);
        end = start;
    }
}

static void
s_form_case (const unsigned char *s, size_t len, bool upper, buf_t *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char) s [i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char) (c - 32);
        if (!upper && c >= 'A' && c <= 'Z')
            c = (char) (c + 32);
        s_putc (out, c);
    }
}

//  urllib.parse.quote (plus: quote_plus)
static void
s_form_quote (const unsigned char *s, size_t len, const char *safe, bool plus, buf_t *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s [i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        ||  (c && strchr ("_.-~", c)) || (c && strchr (safe, c)))
            s_putc (out, (char) c);
        else
        if (plus && c == ' ')
            s_putc (out, '+');
        else
            s_putf (out, "%%%02X", c);
    }
}

static void
s_form_hex (const unsigned char *s, size_t len, bool upper, buf_t *out)
{
    for (size_t i = 0; i < len; i++)
        s_putf (out, upper ? "%02X" : "%02x", s [i]);
}

//  The base64 characters of s placed after `offset` bytes of anything:
//  only those whose 6 bits all come from s. With whole, the encoding of s
//  alone (padded when pad).
static void
s_form_base64 (const unsigned char *s, size_t len, int offset, bool url, bool whole, bool pad,
               buf_t *out)
{
    const char *alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t total_bits = 8 * ((size_t) offset + len);
    size_t first_bit = 8 * (size_t) offset;
    size_t chars = whole ? (8 * len + 5) / 6 : total_bits / 6;
    for (size_t i = 0; i < chars; i++) {
        size_t bit = 6 * i;
        if (!whole && (bit < first_bit || bit + 6 > total_bits))
            continue;
        unsigned value = 0;
        for (size_t b = bit; b < bit + 6; b++) {
            size_t byte = b / 8;            //  in the virtual offset + s + zeros
            unsigned char v = 0;
            if (byte >= (size_t) offset && byte - (size_t) offset < len)
                v = s [byte - (size_t) offset];
            value = (value << 1) | ((v >> (7 - b % 8)) & 1);
        }
        s_putc (out, alphabet [value]);
    }
    if (whole && pad)
        for (size_t n = chars; n % 4; n++)
            s_putc (out, '=');
}

//  json.dumps(s)[1:-1]
static void
s_form_json (const unsigned char *s, size_t len, bool ascii, buf_t *out)
{
    for (size_t i = 0; i < len; ) {
        uint32_t cp;
        size_t n = s_decode (s + i, len - i, &cp);
        switch (cp) {
            case '"':  s_put (out, "\\\"", 2); break;
            case '\\': s_put (out, "\\\\", 2); break;
            case '\n': s_put (out, "\\n", 2); break;
            case '\r': s_put (out, "\\r", 2); break;
            case '\t': s_put (out, "\\t", 2); break;
            case '\b': s_put (out, "\\b", 2); break;
            case '\f': s_put (out, "\\f", 2); break;
            default:
                if (cp < 0x20 || (ascii && cp == 0x7F))
                    s_putf (out, "\\u%04x", cp);
                else
                if (cp < 0x80 || !ascii)
                    s_put (out, s + i, n);
                else
                if (cp < 0x10000)
                    s_putf (out, "\\u%04x", cp);
                else {
                    uint32_t v = cp - 0x10000;
                    s_putf (out, "\\u%04x", 0xD800 | (v >> 10));
                    s_putf (out, "\\u%04x", 0xDC00 | (v & 0x3FF));
                }
        }
        i += n;
    }
}

//  html.escape(s)
static void
s_form_html (const unsigned char *s, size_t len, buf_t *out)
{
    for (size_t i = 0; i < len; i++)
        switch (s [i]) {
            case '&':  s_put (out, "&amp;", 5); break;
            case '<':  s_put (out, "&lt;", 4); break;
            case '>':  s_put (out, "&gt;", 4); break;
            case '"':  s_put (out, "&quot;", 6); break;
            case '\'': s_put (out, "&#x27;", 6); break;
            default:   s_putc (out, (char) s [i]);
        }
}

//  The inside of repr(s) (ascii: of ascii(s); bytes: of repr(s.encode()))
//  with `quote` as the delimiter the whole string was given.
static void
s_form_repr (const unsigned char *s, size_t len, char quote, bool ascii, bool bytes, buf_t *out)
{
    for (size_t i = 0; i < len; ) {
        uint32_t cp;
        size_t n = bytes ? (cp = s [i], 1) : s_decode (s + i, len - i, &cp);
        if (cp == (uint32_t) quote || cp == '\\') {
            s_putc (out, '\\');
            s_putc (out, (char) cp);
        }
        else
        if (cp == '\t') s_put (out, "\\t", 2);
        else
        if (cp == '\n') s_put (out, "\\n", 2);
        else
        if (cp == '\r') s_put (out, "\\r", 2);
        else
        if (cp < 0x20 || cp == 0x7F || (bytes && cp >= 0x80) || (ascii && cp >= 0x80 && cp <= 0xFF))
            s_putf (out, "\\x%02x", cp);
        else
        if (cp < 0x80 || !ascii)
            s_put (out, s + i, n);
        else
        if (cp <= 0xFFFF)
            s_putf (out, "\\u%04x", cp);
        else
            s_putf (out, "\\U%08x", cp);
        i += n;
    }
}

redactor_t *
redactor_new (void)
{
    return calloc (1, sizeof (redactor_t));
}

void
redactor_destroy (redactor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    redactor_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        explicit_bzero (self->patterns [i].bytes, self->patterns [i].len);
        free (self->patterns [i].bytes);
    }
    free (self->patterns);
    free (self);
    *self_p = NULL;
}

int
redactor_add (redactor_t *self, const char *secret, size_t len)
{
    if (!secret || len == 0 || len > SECRET_MAX)
        return -1;
    const unsigned char *s = (const unsigned char *) secret;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += (s [i] & 0xC0) != 0x80;
    bool word = chars < SHORT_SECRET;
    self->secrets++;
    buf_t form = { 0 };
#define FORM(call) do { call; s_add_pattern (self, &form, word); } while (0)
    FORM (s_put (&form, s, len));
    FORM (s_form_reversed (s, len, &form));
    FORM (s_form_case (s, len, true, &form));
    FORM (s_form_case (s, len, false, &form));
    FORM (s_form_quote (s, len, "/", false, &form));
    FORM (s_form_quote (s, len, "", false, &form));
    FORM (s_form_quote (s, len, "", true, &form));
    FORM (s_form_hex (s, len, false, &form));
    FORM (s_form_hex (s, len, true, &form));
    FORM (s_form_json (s, len, true, &form));
    FORM (s_form_json (s, len, false, &form));
    FORM (s_form_html (s, len, &form));
    const char quotes [2] = { '\'', '"' };
    for (int q = 0; q < 2; q++) {
        FORM (s_form_repr (s, len, quotes [q], false, false, &form));
        FORM (s_form_repr (s, len, quotes [q], true, false, &form));
        FORM (s_form_repr (s, len, quotes [q], false, true, &form));
    }
    for (int url = 0; url < 2; url++) {
        FORM (s_form_base64 (s, len, 0, url, true, true, &form));
        FORM (s_form_base64 (s, len, 0, url, true, false, &form));
        if (word)
            continue;
        for (int offset = 0; offset < 3; offset++) {
            s_form_base64 (s, len, offset, url, false, false, &form);
            if (form.len >= B64_INNER_MIN)
                s_add_pattern (self, &form, false);
            else
                s_drop (&form);
        }
    }
#undef FORM
    return 0;
}

bool
redactor_active (const redactor_t *self)
{
    return self && self->count > 0;
}

size_t
redactor_pattern_count (const redactor_t *self)
{
    return self ? self->count : 0;
}

//  --- matching --------------------------------------------------------------------------

static bool
s_word_byte (unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '_' || c >= 0x80;
}

//  Mark every byte of text that is part of a form.
static void
s_mark (const redactor_t *self, const char *text, size_t len, bool cut, uint8_t *marks)
{
    for (size_t p = 0; p < self->count; p++) {
        const pattern_t *pattern = &self->patterns [p];
        size_t covered = 0;             //  marked up to here by this pattern
        size_t pos = 0;
        while (pos + pattern->len <= len) {
            const char *hit = memmem (text + pos, len - pos, pattern->bytes, pattern->len);
            if (!hit)
                break;
            size_t start = (size_t) (hit - text), end = start + pattern->len;
            pos = start + 1;
            if (pattern->word
            &&  ((start > 0 && s_word_byte ((unsigned char) text [start - 1]))
              || (end < len && s_word_byte ((unsigned char) text [end]))))
                continue;
            for (size_t i = start > covered ? start : covered; i < end; i++)
                marks [i] = 1;
            covered = end;
        }
        if (cut && pattern->len > 1) {
            //  the longest tail of text that is a proper prefix of the form
            size_t from = len > pattern->len - 1 ? len - (pattern->len - 1) : 0;
            for (size_t i = from; i < len; i++)
                if (text [i] == pattern->bytes [0]
                &&  memcmp (text + i, pattern->bytes, len - i) == 0) {
                    memset (marks + i, 1, len - i);
                    break;
                }
        }
    }
}

char *
redactor_text (const redactor_t *self, const char *text, size_t len, bool cut, size_t *out_len)
{
    uint8_t *marks = self && self->count && len ? calloc (len, 1) : NULL;
    if (marks)
        s_mark (self, text, len, cut, marks);
    buf_t out = { 0 };
    s_put (&out, "", 0);
    for (size_t i = 0; i < len; ) {
        if (marks && marks [i]) {
            s_put (&out, REDACTED_TEXT, strlen (REDACTED_TEXT));
            while (i < len && marks [i])
                i++;
        }
        else {
            size_t j = i;
            while (j < len && !(marks && marks [j]))
                j++;
            s_put (&out, text + i, j - i);
            i = j;
        }
    }
    free (marks);
    if (out.failed) {
        s_drop (&out);
        return NULL;
    }
    *out_len = out.len;
    return out.data;
}

//  --- JSON ---------------------------------------------------------------------------------

//  The decimal text Python would print for a number.
static void
s_number_text (json_t *value, char *text, size_t size)
{
    if (json_is_integer (value)) {
        snprintf (text, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        return;
    }
    double real = json_real_value (value);
    for (int precision = 1; precision <= 17; precision++) {
        snprintf (text, size, "%.*g", precision, real);
        if (strtod (text, NULL) == real)
            break;
    }
}

static json_t *
s_redact (const redactor_t *self, json_t *value, bool *changed)
{
    if (json_is_string (value)) {
        size_t len;
        char *text = redactor_text (self, json_string_value (value), json_string_length (value),
                                    false, &len);
        if (!text)
            return NULL;
        if (len != json_string_length (value) || memcmp (text, json_string_value (value), len))
            *changed = true;
        json_t *copy = json_stringn_nocheck (text, len);
        explicit_bzero (text, len);
        free (text);
        return copy;
    }
    if (json_is_number (value)) {
        char text [64];
        s_number_text (value, text, sizeof text);
        size_t len;
        char *redacted = redactor_text (self, text, strlen (text), false, &len);
        bool hit = redacted && (len != strlen (text) || memcmp (redacted, text, len));
        free (redacted);
        if (hit) {
            *changed = true;
            return json_string (REDACTED_TEXT);
        }
        return json_deep_copy (value);
    }
    if (json_is_array (value)) {
        json_t *copy = json_array ();
        for (size_t i = 0; copy && i < json_array_size (value); i++) {
            json_t *item = s_redact (self, json_array_get (value, i), changed);
            if (!item || json_array_append_new (copy, item) != 0) {
                json_decref (copy);
                return NULL;
            }
        }
        return copy;
    }
    if (json_is_object (value)) {
        json_t *copy = json_object ();
        const char *key;
        size_t key_len;
        json_t *item;
        json_object_keylen_foreach (value, key, key_len, item) {
            size_t len;
            char *name = redactor_text (self, key, key_len, false, &len);
            json_t *redacted = name ? s_redact (self, item, changed) : NULL;
            if (!redacted || !copy) {
                free (name);
                json_decref (redacted);
                json_decref (copy);
                return NULL;
            }
            if (len != key_len || memcmp (name, key, len))
                *changed = true;
            //  two keys redacted to the same text: keep both
            buf_t unique = { 0 };
            s_put (&unique, name, len);
            for (int n = 2; !unique.failed && n < 1000000
                         && json_object_getn (copy, unique.data, unique.len); n++) {
                unique.len = len;
                s_putf (&unique, "#%u", (unsigned) n);
            }
            if (unique.failed) {
                free (name);
                json_decref (redacted);
                json_decref (copy);
                return NULL;
            }
            json_object_setn_new_nocheck (copy, unique.data, unique.len, redacted);
            s_drop (&unique);
            explicit_bzero (name, len);
            free (name);
        }
        return copy;
    }
    return json_incref (value);         //  true, false, null
}

json_t *
redactor_json (const redactor_t *self, json_t *value, bool *changed)
{
    bool dummy = false;
    if (!changed)
        changed = &dummy;
    *changed = false;
    if (!redactor_active (self))
        return json_deep_copy (value);
    return s_redact (self, value, changed);
}

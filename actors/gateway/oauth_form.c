/*  oauth_form.c — form-urlencoded decoding and percent-encoding
    (oauth_form.h).
*/
#include <stdlib.h>
#include <string.h>
#include "oauth_form.h"
#include "oauth_uri.h"
#include "utf8.h"

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decode [p, end) into out (room for max bytes + NUL). Length, or -1.
static long
s_decode (const char *p, const char *end, char *out, size_t max)
{
    size_t n = 0;
    while (p < end) {
        char c = *p++;
        if (c == '+')
            c = ' ';
        else
        if (c == '%') {
            if (end - p < 2 || s_hex (p [0]) < 0 || s_hex (p [1]) < 0)
                return -1;
            c = (char) (s_hex (p [0]) * 16 + s_hex (p [1]));
            p += 2;
        }
        if (n >= max)
            return -1;
        out [n++] = c;
    }
    out [n] = 0;
    return (long) n;
}

json_t *
oauth_form_parse (const char *text, size_t len, size_t max_value, const char **why)
{
    json_t *form = json_object ();
    char *value = malloc (max_value + 1);
    if (!form || !value) {
        *why = "out of memory";
        goto fail;
    }
    const char *p = text, *end = text + len;
    size_t fields = 0;
    while (p < end) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp ? amp : end;
        if (stop == p) {                //  "a=1&&b=2": an empty piece
            p = stop + 1;
            continue;
        }
        if (++fields > OAUTH_FORM_FIELDS) {
            *why = "too many parameters";
            goto fail;
        }
        const char *eq = memchr (p, '=', (size_t) (stop - p));
        const char *name_end = eq ? eq : stop;
        char name [OAUTH_FORM_NAME_MAX + 1];
        long name_len = s_decode (p, name_end, name, OAUTH_FORM_NAME_MAX);
        if (name_len <= 0) {
            *why = "a parameter name is empty, malformed or longer than 32 bytes";
            goto fail;
        }
        for (long i = 0; i < name_len; i++)
            if (!((name [i] >= 'a' && name [i] <= 'z') || name [i] == '_')) {
                *why = "a parameter name has characters other than a-z and _";
                goto fail;
            }
        long value_len = eq ? s_decode (eq + 1, stop, value, max_value) : 0;
        if (!eq)
            value [0] = 0;
        if (value_len < 0) {
            *why = "a parameter value is malformed (bad %-escape) or too long";
            goto fail;
        }
        if (!utf8_valid (value, (size_t) value_len)) {
            *why = "a parameter value is not UTF-8";
            goto fail;
        }
        for (long i = 0; i < value_len; i++)
            if ((unsigned char) value [i] < 0x20 || value [i] == 0x7f) {
                *why = "a parameter value has control characters";
                goto fail;
            }
        if (json_object_get (form, name)) {
            *why = "a parameter is repeated";
            goto fail;
        }
        json_t *string = json_stringn (value, (size_t) value_len);
        if (!string || json_object_set_new (form, name, string) != 0) {
            *why = "out of memory";
            goto fail;
        }
        p = amp ? amp + 1 : end;
    }
    free (value);
    return form;
fail:
    free (value);
    json_decref (form);
    return NULL;
}

int
oauth_form_encode (char *out, size_t cap, const char *value)
{
    return oauth_percent_append (out, cap, value);
}

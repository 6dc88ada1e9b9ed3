/*  utf8.c — see utf8.h. */
#include <stdint.h>
#include "utf8.h"

size_t
utf8_seq (const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    if (len == 0 || s [0] == 0)
        return 0;
    if (s [0] < 0x80)
        return 1;
    size_t size;
    uint32_t cp;
    if ((s [0] & 0xe0) == 0xc0) { size = 2; cp = s [0] & 0x1f; }
    else
    if ((s [0] & 0xf0) == 0xe0) { size = 3; cp = s [0] & 0x0f; }
    else
    if ((s [0] & 0xf8) == 0xf0) { size = 4; cp = s [0] & 0x07; }
    else
        return 0;
    if (size > len)
        return 0;
    for (size_t k = 1; k < size; k++) {
        if ((s [k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s [k] & 0x3f);
    }
    if ((size == 2 && cp < 0x80) || (size == 3 && cp < 0x800)
    ||  (size == 4 && cp < 0x10000) || cp > 0x10ffff
    ||  (cp >= 0xd800 && cp <= 0xdfff))
        return 0;               //  overlong, beyond Unicode, or a surrogate
    return size;
}

size_t
utf8_chars (const char *text, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) text [i] & 0xc0) != 0x80)
            count++;
    return count;
}

bool
utf8_valid (const char *text, size_t len)
{
    for (size_t i = 0, size; i < len; i += size)
        if (!(size = utf8_seq (text + i, len - i)))
            return false;
    return true;
}

/*  utf8.c — see utf8.h. */
#include <stdint.h>
#include "utf8.h"

bool
utf8_valid (const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s [i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
        else
        if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
        else
        if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
        else
            return false;
        if (extra >= len - i)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s [i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s [i + k] & 0x3f);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800)
        ||  (extra == 3 && cp < 0x10000) || cp > 0x10ffff
        ||  (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

/*  utf8.h — the one UTF-8 check for text that comes from outside.

    utf8_valid: well-formed UTF-8 (RFC 3629): no overlong forms, no
    surrogates, nothing above U+10FFFF, no truncated sequence, and no NUL
    byte (every string we accept becomes a C string somewhere).
*/
#ifndef MCPBOX_UTF8_H
#define MCPBOX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid (const char *text, size_t len);

//  Bytes of the well-formed sequence that starts text (len > 0 bytes
//  left): 1 to 4, or 0 when there is none there (NUL included).
size_t utf8_seq (const char *text, size_t len);

//  Code points in valid UTF-8 text (its bytes that start a sequence).
size_t utf8_chars (const char *text, size_t len);

#endif

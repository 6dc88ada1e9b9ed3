/*  api_headers.c — cookie, bearer and CSRF token parsing (api_headers.h).
*/
#include <string.h>
#include <strings.h>

#include "api_headers.h"

static bool
s_token_char (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_';
}

bool
api_token_valid (const char *text, size_t len)
{
    if (len != API_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_token_char (text [i]))
            return false;
    return true;
}

static int
s_copy (const char *text, size_t len, char out [API_TOKEN_LEN + 1])
{
    if (!api_token_valid (text, len))
        return -1;
    memcpy (out, text, len);
    out [len] = 0;
    return 1;
}

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t';
}

int
api_cookie_token (const char *header, size_t len, const char *name,
                  char out [API_TOKEN_LEN + 1])
{
    *out = 0;
    if (!header || len == 0 || len > API_HEADER_MAX)
        return 0;
    size_t name_len = strlen (name);
    int found = 0;
    size_t at = 0;
    while (at < len) {
        //  one "name=value" pair up to ';'
        size_t end = at;
        while (end < len && header [end] != ';')
            end++;
        size_t start = at;
        while (start < end && s_blank (header [start]))
            start++;
        size_t stop = end;
        while (stop > start && s_blank (header [stop - 1]))
            stop--;
        const char *eq = memchr (header + start, '=', stop - start);
        if (eq && (size_t) (eq - (header + start)) == name_len
        &&  memcmp (header + start, name, name_len) == 0) {
            if (found) {
                *out = 0;           //  twice: ambiguous, trust neither
                return -1;
            }
            const char *value = eq + 1;
            size_t value_len = (size_t) (header + stop - value);
            if (value_len >= 2 && value [0] == '"' && value [value_len - 1] == '"') {
                value++;
                value_len -= 2;
            }
            if (s_copy (value, value_len, out) < 0) {
                *out = 0;
                return -1;
            }
            found = 1;
        }
        at = end + 1;
    }
    return found;
}

int
api_bearer_token (const char *header, size_t len, char out [API_TOKEN_LEN + 1])
{
    *out = 0;
    if (!header || len == 0)
        return 0;
    if (len > API_HEADER_MAX || len < 7 || strncasecmp (header, "Bearer", 6) != 0
    ||  !s_blank (header [6]))
        return -1;
    size_t at = 7;
    while (at < len && s_blank (header [at]))
        at++;
    size_t stop = len;
    while (stop > at && s_blank (header [stop - 1]))
        stop--;
    return s_copy (header + at, stop - at, out);
}

int
api_plain_token (const char *header, size_t len, char out [API_TOKEN_LEN + 1])
{
    *out = 0;
    if (!header || len == 0)
        return 0;
    if (len > API_HEADER_MAX)
        return -1;
    size_t at = 0, stop = len;
    while (at < stop && s_blank (header [at]))
        at++;
    while (stop > at && s_blank (header [stop - 1]))
        stop--;
    return s_copy (header + at, stop - at, out);
}

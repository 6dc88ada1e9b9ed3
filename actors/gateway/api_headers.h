/*  api_headers.h — the credentials a request to /api carries, read from
    hostile header text: a session cookie, a refresh cookie, an
    `Authorization: Bearer` token, an `X-CSRF-Token`.

    Tokens are what the credentials service hands out: exactly 43
    characters of unpadded base64url. Anything else is treated as absent
    (the request is then not authenticated), never truncated or guessed.
    Pure functions over (text, length); fuzzed (tests/fuzz/fuzz_api_headers.c).
*/
#ifndef MCPBOX_GATEWAY_API_HEADERS_H
#define MCPBOX_GATEWAY_API_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#define API_TOKEN_LEN        43
#define API_COOKIE_SESSION   "mcpbox_session"
#define API_COOKIE_REFRESH   "mcpbox_refresh"
#define API_HEADER_MAX       4096

//  True when text[0..len) is a well-formed token.
bool api_token_valid (const char *text, size_t len);

//  The value of cookie `name` in a Cookie header ("a=1; b=2"). 1 found and
//  well-formed (copied, NUL-terminated, into out of API_TOKEN_LEN + 1
//  bytes), 0 absent, -1 present but malformed or given twice.
int  api_cookie_token (const char *header, size_t len, const char *name,
                       char out [API_TOKEN_LEN + 1]);

//  The token of an Authorization header "Bearer <token>" (scheme case-
//  insensitive, one or more spaces). 1 / 0 (no header text) / -1 as above.
int  api_bearer_token (const char *header, size_t len, char out [API_TOKEN_LEN + 1]);

//  A header value that must be just a token (X-CSRF-Token), surrounding
//  blanks allowed. 1 / 0 / -1 as above.
int  api_plain_token (const char *header, size_t len, char out [API_TOKEN_LEN + 1]);

#endif

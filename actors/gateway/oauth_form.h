/*  oauth_form.h — application/x-www-form-urlencoded, as the OAuth
    endpoints receive it (RFC 6749 §3.2 requests, the consent form) and as
    /authorize's query carries it.

    Hostile input: at most OAUTH_FORM_FIELDS fields, names of 1..32 bytes
    of [a-z_], values decoded (%XX and '+') to at most max_value bytes of
    valid UTF-8 without NUL or other control characters, each name once
    (RFC 6749 §3.1: a parameter MUST NOT be repeated). Fuzzed
    (tests/fuzz/fuzz_oauth_form.c).
*/
#ifndef MCPBOX_GATEWAY_OAUTH_FORM_H
#define MCPBOX_GATEWAY_OAUTH_FORM_H

#include <stddef.h>
#include <jansson.h>

#define OAUTH_FORM_FIELDS   16
#define OAUTH_FORM_NAME_MAX 32

//  Parse text[0..len) into a new object {name: value}. NULL with a reason
//  in why (a static text) when it breaks a rule above.
json_t *oauth_form_parse (const char *text, size_t len, size_t max_value,
                          const char **why);

//  Append value percent-encoded (everything but unreserved) to out
//  (capacity cap, NUL-terminated). -1 when it does not fit.
int     oauth_form_encode (char *out, size_t cap, const char *value);

#endif

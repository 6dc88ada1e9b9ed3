/*  fuzz_api_headers.c — the /api credential header parsers
    (actors/gateway/api_headers.c) on arbitrary bytes: whatever they
    accept is exactly one well-formed token.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api_headers.h"

static void
s_check (int rc, const char *out)
{
    if (rc == 1 && !api_token_valid (out, strlen (out)))
        abort ();
    if (rc != 1 && *out)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char out [API_TOKEN_LEN + 1];
    const char *text = (const char *) data;
    s_check (api_cookie_token (text, size, API_COOKIE_SESSION, out), out);
    s_check (api_cookie_token (text, size, API_COOKIE_REFRESH, out), out);
    s_check (api_bearer_token (text, size, out), out);
    s_check (api_plain_token (text, size, out), out);
    return 0;
}

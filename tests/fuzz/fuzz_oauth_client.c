/*  fuzz_oauth_client — libFuzzer target for what the OAuth client of
    external sources reads from an authorization server (actors/executor/
    oauth_client.c): a token endpoint's answer, a registration answer and
    an OAuth error. Any bytes must give 0 or -1; on 0 every token and id is
    1..bound bytes of visible ASCII (it goes into a header), expires_in in
    range, the auth method one of three; the error text stays printable
    and bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "oauth_client.h"

static void
s_visible (const char *text, size_t max)
{
    size_t len = text ? strlen (text) : 0;
    if (!text || len == 0 || len > max)
        __builtin_trap ();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x21 || (unsigned char) text [i] > 0x7e)
            __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *body = (const char *) data;
    char err [256];
    oauth_tokens_t tokens;
    int rc = oauth_tokens_parse (body, size, &tokens, err, sizeof err);
    if (rc != 0 && rc != -1)
        __builtin_trap ();
    if (rc == 0) {
        s_visible (tokens.access_token, OAUTH_TOKEN_MAX);
        if (tokens.refresh_token)
            s_visible (tokens.refresh_token, OAUTH_TOKEN_MAX);
        if (tokens.expires_in < -1 || tokens.expires_in > OAUTH_EXPIRES_MAX)
            __builtin_trap ();
        oauth_tokens_clear (&tokens);
    }
    else
    if (tokens.access_token)
        __builtin_trap ();
    oauth_registration_t reg;
    rc = oauth_registration_parse (body, size, size % 2 ? "http://127.0.0.1:8000/cb" : NULL,
                                   &reg, err, sizeof err);
    if (rc == 0) {
        s_visible (reg.client_id, OAUTH_CLIENT_ID_BYTES);
        if (reg.client_secret)
            s_visible (reg.client_secret, OAUTH_SECRET_MAX);
        if (strcmp (reg.auth_method, "none") != 0
        &&  strcmp (reg.auth_method, "client_secret_post") != 0
        &&  strcmp (reg.auth_method, "client_secret_basic") != 0)
            __builtin_trap ();
        if (strcmp (reg.auth_method, "none") != 0 && !reg.client_secret)
            __builtin_trap ();
        oauth_registration_clear (&reg);
    }
    else
    if (rc != -1 || reg.client_id)
        __builtin_trap ();
    char text [300];
    oauth_error_text (body, size, text, sizeof text);
    size_t len = strnlen (text, sizeof text);
    if (len == sizeof text)
        __builtin_trap ();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x20 || (unsigned char) text [i] > 0x7e)
            __builtin_trap ();
    return 0;
}

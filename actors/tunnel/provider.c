/*  provider.c — the provider table (provider.h).
*/
#include <string.h>
#include "provider.h"

const tunnel_provider_t *
tunnel_provider_find (const char *name)
{
    static const tunnel_provider_t *const s_all [] = {
        &tunnel_provider_cloudflared, &tunnel_provider_ssh, NULL
    };
    for (size_t i = 0; name && s_all [i]; i++)
        if (strcmp (s_all [i]->name, name) == 0)
            return s_all [i];
    return NULL;
}

bool
tunnel_has (const char *line, size_t len, const char *needle)
{
    size_t n = strlen (needle);
    if (n == 0 || n > len)
        return n == 0;
    for (size_t i = 0; i + n <= len; i++)
        if (line [i] == needle [0] && memcmp (line + i, needle, n) == 0)
            return true;
    return false;
}

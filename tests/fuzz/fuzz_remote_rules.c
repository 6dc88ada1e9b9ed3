/*  fuzz_remote_rules.c — the remote listener's parsers
    (actors/gateway/remote_rules.c, remote_listener.c's route table) on
    arbitrary bytes: a bearer credential found is a bounded token68 that
    occurs in the header; a public URL accepted gives a base of only
    scheme, host and port characters (nothing a header could be split or
    quoted with) and a host that is its part; the challenge built from it
    fits or is refused; a route is found only for an exact path.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "remote_listener.h"
#include "remote_rules.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = 0;

    char credential [REMOTE_CREDENTIAL_MAX + 1];
    int found = remote_bearer (text, credential, sizeof credential);
    if (found == 1) {
        size_t len = strlen (credential);
        if (!len || len > REMOTE_CREDENTIAL_MAX || !strstr (text, credential))
            abort ();
        for (size_t i = 0; i < len; i++)
            if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789-._~+/=", credential [i]))
                abort ();
    }
    else
    if (found != 0 && found != -1)
        abort ();

    char base [REMOTE_BASE_MAX], host [256], err [256];
    if (remote_public_url_parse (text, base, sizeof base, host, sizeof host,
                                 err, sizeof err) == 0) {
        if (strncmp (base, "http://", 7) != 0 && strncmp (base, "https://", 8) != 0)
            abort ();
        if (!*host || !strstr (base, host) || strpbrk (base, "\"\r\n \\,;?#@"))
            abort ();
        char challenge [REMOTE_BASE_MAX + 100];
        if (!remote_challenge (base, NULL, true, challenge, sizeof challenge))
            abort ();
    }
    const remote_route_t *route = remote_route_find (text, strlen (text));
    if (route && strcmp (route->path, text) != 0
    &&  route->path [strlen (route->path) - 1] != '/')
        abort ();
    free (text);
    return 0;
}

/*  fuzz_www_authenticate — libFuzzer target for the WWW-Authenticate reader
    of the OAuth client for external sources (actors/executor/
    oauth_discover.c): any header a source sends must give -1, 0 or 1, and
    on 0 a NUL-terminated value shorter than the buffer, without control
    characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "oauth_discover.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *header = malloc (size + 1);
    if (!header)
        return 0;
    memcpy (header, data, size);
    header [size] = '\0';
    char out [128];
    int rc = oauth_www_authenticate_param (header, "Bearer", "resource_metadata", out, sizeof out);
    if (rc < -1 || rc > 1)
        __builtin_trap ();
    if (rc == 0) {
        size_t len = strnlen (out, sizeof out);
        if (len == sizeof out)
            __builtin_trap ();
        for (size_t i = 0; i < len; i++)
            if ((unsigned char) out [i] < 0x20 && out [i] != '\t')
                __builtin_trap ();
    }
    free (header);
    return 0;
}

/*  fuzz_static_path.c — the static file path resolver
    (actors/gateway/static_path.c) on arbitrary bytes: whatever it accepts
    is a relative path beneath the web root — no leading "/", no empty,
    "." or ".." segment, no dotfile, no byte outside [A-Za-z0-9._-/] —
    and within the bounds.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "static_path.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char out [STATIC_PATH_MAX + 1];
    memset (out, 'x', sizeof out);
    int rc = static_path_resolve ((const char *) data, size, out, sizeof out);
    if (rc != 0) {
        if (rc != -1 || *out)
            abort ();
        return 0;
    }
    size_t len = strnlen (out, sizeof out);
    if (len == 0 || len >= sizeof out || (len > size && size != 1))
        abort ();
    size_t segment = 0, segments = 1;
    for (size_t i = 0; i < len; i++) {
        char c = out [i];
        if (c == '/') {
            if (segment == 0)
                abort ();           //  leading or empty segment
            segment = 0;
            segments++;
            continue;
        }
        if (segment == 0 && c == '.')
            abort ();               //  ".", "..", dotfile
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            abort ();
        if (++segment > STATIC_PATH_SEGMENT)
            abort ();
    }
    if (segment == 0 || segments > STATIC_PATH_DEPTH)
        abort ();
    (void) static_path_type (out);
    return 0;
}

/*  fuzz_api_path.c — the /api path matcher (actors/gateway/api_path.c) on
    arbitrary bytes against every pattern shape the router uses: a match
    yields only bounded parameters of the allowed characters, and the
    parameters rebuild the path exactly; an {id} parameter is a UUID.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_path.h"
#include "ids.h"

static const char *s_patterns [] = {
    "/api/servers", "/api/servers/{id}", "/api/servers/{id}/secrets/{}",
    "/api/tools/{id}/versions/{}", "/api/approvals/{}/{id}/approve", "/api/{}/{}/{}",
    "/api/{id}/{id}", NULL
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *path = (const char *) data;
    for (const char **pattern = s_patterns; *pattern; pattern++) {
        api_params_t params;
        bool ok = api_path_match (*pattern, path, size, &params);
        if (!ok) {
            if (params.count)
                abort ();
            continue;
        }
        //  rebuild the path from the pattern and the parameters
        char rebuilt [API_PATH_MAX + API_PARAMS_MAX * API_PARAM_MAX + 1];
        size_t at = 0, index = 0;
        for (const char *t = *pattern; *t; ) {
            bool id = strncmp (t, "{id}", 4) == 0;
            if (id || (t [0] == '{' && t [1] == '}')) {
                if (index >= params.count)
                    abort ();
                const char *value = params.value [index++];
                size_t len = strlen (value);
                if (len == 0 || len > API_PARAM_MAX || strspn (value, ".") == len)
                    abort ();
                for (size_t i = 0; i < len; i++)
                    if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-.", value [i]))
                        abort ();
                char uuid [IDS_UUID_LEN + 1];
                if (id && !ids_uuid_parse (value, len, uuid))
                    abort ();
                memcpy (rebuilt + at, value, len);
                at += len;
                t += id ? 4 : 2;
            }
            else
                rebuilt [at++] = *t++;
        }
        if (index != params.count || at != size || memcmp (rebuilt, path, size) != 0)
            abort ();
    }
    return 0;
}

/*  api_path.c — matching a request path against a route pattern (api_path.h).
    Fuzzed by tests/fuzz/fuzz_api_path.c.
*/
#include <string.h>

#include "api_path.h"
#include "ids.h"

static bool
s_param_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '-' || c == '.';
}

//  8-4-4-4-12 hex digits (common/ids.h), kept as given
static bool
s_uuid (const char *text, size_t len)
{
    char out [IDS_UUID_LEN + 1];
    return ids_uuid_parse (text, len, out);
}

bool
api_path_match (const char *pattern, const char *path, size_t size, api_params_t *params)
{
    memset (params, 0, sizeof *params);
    if (!pattern || !path || size > API_PATH_MAX)
        return false;
    size_t p = 0;                       //  position in path
    const char *t = pattern;            //  position in pattern
    while (*t) {
        bool any = t [0] == '{' && t [1] == '}';
        bool id = strncmp (t, "{id}", 4) == 0;
        if (any || id) {
            size_t start = p;
            bool dots_only = true;
            while (p < size && path [p] != '/') {
                if (!s_param_char (path [p]))
                    goto fail;
                if (path [p] != '.')
                    dots_only = false;
                p++;
            }
            size_t len = p - start;
            if (len == 0 || len > API_PARAM_MAX || dots_only
            ||  params->count >= API_PARAMS_MAX)
                goto fail;
            memcpy (params->value [params->count], path + start, len);
            params->value [params->count][len] = 0;
            if (id && !s_uuid (params->value [params->count], len))
                goto fail;
            params->count++;
            t += id ? 4 : 2;
        }
        else {
            if (p >= size || path [p] != *t)
                goto fail;
            p++;
            t++;
        }
    }
    if (p == size)
        return true;
fail:
    memset (params, 0, sizeof *params);
    return false;
}

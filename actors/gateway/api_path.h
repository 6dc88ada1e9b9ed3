/*  api_path.h — the /api route patterns and their path parameters.

    A pattern is a path whose segments are literal, "{}" (one parameter)
    or "{id}" (one parameter that is a UUID, 8-4-4-4-12 hex digits):
    "/api/servers/{id}/secrets/{}". A path matches when it has the same
    number of segments, every literal segment is equal, and every
    parameter segment is 1..API_PARAM_MAX bytes of [A-Za-z0-9_.-] (secret
    keys, version numbers, kinds — never '%', '/', or a dot-only segment).
    No decoding is done: a percent-encoded or malformed id does not match,
    so it is a 404 like an unknown one.
*/
#ifndef MCPBOX_GATEWAY_API_PATH_H
#define MCPBOX_GATEWAY_API_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define API_PARAM_MAX   64      //  bytes of one parameter
#define API_PARAMS_MAX  3       //  parameters in one pattern
#define API_PATH_MAX    256     //  bytes of a path we look at

typedef struct {
    size_t count;
    char   value [API_PARAMS_MAX][API_PARAM_MAX + 1];
} api_params_t;

//  True when path (size bytes, not NUL-terminated) matches pattern; the
//  parameters are copied into params (NUL-terminated). On false, params
//  is emptied.
bool api_path_match (const char *pattern, const char *path, size_t size,
                     api_params_t *params);

#endif

/*  fuzz_mcp_era.c — the /mcp protocol-generation classifier
    (actors/gateway/mcp_era.c) on arbitrary messages and header values:
    the input is split at the first three NUL bytes into MCP-Protocol-Version,
    Mcp-Method, Mcp-Name and a JSON body. A refusal always has a 4xx status,
    a JSON-RPC error code and a message; only -32022 carries data.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mcp_era.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *copy = malloc (size + 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    copy [size] = 0;
    const char *parts [3] = { NULL, NULL, NULL };
    char *cursor = copy;
    size_t left = size;
    for (int i = 0; i < 3; i++) {
        char *nul = memchr (cursor, 0, left);
        if (!nul)
            break;
        parts [i] = cursor [0] == '-' ? NULL : cursor;  //  "-" stands for absent
        left -= (size_t) (nul + 1 - cursor);
        cursor = nul + 1;
    }
    json_t *message = json_loadb (cursor, left, JSON_DECODE_ANY, NULL);
    if (json_is_object (message)) {
        mcp_era_headers_t headers = { parts [0], parts [1], parts [2] };
        mcp_era_t era;
        mcp_era_classify (message, &headers, &era);
        if (era.status && (era.status < 400 || era.status > 499 || !era.code
                           || !*era.message))
            abort ();
        if (era.data && era.code != MCP_UNSUPPORTED_VERSION)
            abort ();
        if (!era.modern && era.status)
            abort ();
        json_decref (era.data);
    }
    json_decref (message);
    free (copy);
    return 0;
}

/*  mcp_cursor.c — hex of (revision, offset). See mcp_cursor.h. */
#include <stdio.h>
#include "mcp_cursor.h"

void
mcp_cursor_encode (uint64_t revision, uint64_t offset, char out [MCP_CURSOR_LEN + 1])
{
    snprintf (out, MCP_CURSOR_LEN + 1, "%016llx%016llx",
              (unsigned long long) revision, (unsigned long long) offset);
}

static int
s_hex16 (const char *text, uint64_t *value)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = text [i];
        int digit = c >= '0' && c <= '9' ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        v = v << 4 | (uint64_t) digit;
    }
    *value = v;
    return 0;
}

int
mcp_cursor_decode (const char *text, size_t len, uint64_t *revision,
                   uint64_t *offset)
{
    if (!text || len != MCP_CURSOR_LEN)
        return -1;
    if (s_hex16 (text, revision) || s_hex16 (text + 16, offset))
        return -1;
    return 0;
}

/*  mcp_cursor.h — the opaque cursor of tools/list pagination.

    A cursor names a position in one version of the tool list: the list
    revision it was cut from and the offset of the next page, as 16 bytes
    (two big-endian u64) in lowercase hex. The revision changes whenever
    the callable list changes, so a cursor from an older list is refused
    (-32602) rather than silently skipping or repeating tools; the client
    lists again from the start, as list_changed tells it to anyway.
*/
#ifndef MCPBOX_GATEWAY_MCP_CURSOR_H
#define MCPBOX_GATEWAY_MCP_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define MCP_CURSOR_LEN 32

void mcp_cursor_encode (uint64_t revision, uint64_t offset,
                        char out [MCP_CURSOR_LEN + 1]);
//  0 with *revision and *offset, or -1 if text is not a cursor we made.
int  mcp_cursor_decode (const char *text, size_t len, uint64_t *revision,
                        uint64_t *offset);

#endif

/*  bus_frames.h — internal helpers for building and reading bus frames.
    Shared by proto/ and the broker; not part of the public API. */
#ifndef MCPBOX_BUS_FRAMES_H
#define MCPBOX_BUS_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>

void    bus_put_u64 (uint8_t out [8], uint64_t value);
void    bus_put_u32 (uint8_t out [4], uint32_t value);
bool    bus_frame_u64 (zframe_t *frame, uint64_t *value);
bool    bus_frame_u32 (zframe_t *frame, uint32_t *value);
bool    bus_frame_is (zframe_t *frame, const char *text);
//  The one-byte command in frame, or -1.
int     bus_frame_command (zframe_t *frame);
int64_t bus_now_ms (void);
//  linger 0, non-blocking sends, high water marks, max message size.
void    bus_socket_tune (zsock_t *sock);

#endif

/*  bus_rules.c — the rules client, worker and broker share: the heartbeat
    interval, service-name rules and big-endian integer frames. */
#include <stdlib.h>
#include "bus.h"
#include "bus_frames.h"

int
bus_heartbeat_ms (void)
{
    static int cached = 0;
    if (cached == 0) {
        int value = BUS_HEARTBEAT_MS;
        const char *text = getenv ("MCPBOX_HEARTBEAT_MS");
        if (text && *text) {
            char *end;
            long parsed = strtol (text, &end, 10);
            if (*end == 0 && parsed >= 20 && parsed <= 60000)
                value = (int) parsed;
        }
        cached = value;
    }
    return cached;
}

bool
bus_service_name_valid (const char *name, size_t len)
{
    if (!name || len == 0 || len > BUS_SERVICE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

void
bus_put_u64 (uint8_t out [8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out [i] = (uint8_t) value;
        value >>= 8;
    }
}

void
bus_put_u32 (uint8_t out [4], uint32_t value)
{
    for (int i = 3; i >= 0; i--) {
        out [i] = (uint8_t) value;
        value >>= 8;
    }
}

bool
bus_frame_u64 (zframe_t *frame, uint64_t *value)
{
    if (!frame || zframe_size (frame) != 8)
        return false;
    const uint8_t *p = zframe_data (frame);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p [i];
    *value = v;
    return true;
}

bool
bus_frame_u32 (zframe_t *frame, uint32_t *value)
{
    if (!frame || zframe_size (frame) != 4)
        return false;
    const uint8_t *p = zframe_data (frame);
    *value = ((uint32_t) p [0] << 24) | ((uint32_t) p [1] << 16)
           | ((uint32_t) p [2] << 8) | p [3];
    return true;
}

bool
bus_frame_is (zframe_t *frame, const char *text)
{
    size_t len = strlen (text);
    return frame && zframe_size (frame) == len
        && memcmp (zframe_data (frame), text, len) == 0;
}

int
bus_frame_command (zframe_t *frame)
{
    if (!frame || zframe_size (frame) != 1)
        return -1;
    return zframe_data (frame) [0];
}

int64_t
bus_now_ms (void)
{
    return zclock_mono ();
}

void
bus_socket_tune (zsock_t *sock)
{
    zsock_set_linger (sock, 0);
    zsock_set_sndtimeo (sock, 0);           //  never block a sender
    zsock_set_rcvtimeo (sock, 0);           //  we poll before reading
    zsock_set_sndhwm (sock, 100000);
    zsock_set_rcvhwm (sock, 100000);
    zsock_set_maxmsgsize (sock, BUS_BODY_MAX + 4096);
}

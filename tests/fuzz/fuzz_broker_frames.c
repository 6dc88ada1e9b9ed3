/*  fuzz_broker_frames — libFuzzer target for the broker's frame parser.
    The input is cut into frames: each frame is one length byte followed by
    that many bytes (the last frame takes what is left). */
#include <stdint.h>
#include <stddef.h>
#include "broker_frames.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    size_t pos = 0;
    while (pos < size && zmsg_size (msg) < 12) {
        size_t len = data [pos++];
        if (len > size - pos)
            len = size - pos;
        zmsg_addmem (msg, data + pos, len);
        pos += len;
    }
    broker_msg_t parsed;
    const char *why = NULL;
    broker_msg_kind_t kind = broker_msg_parse (msg, &parsed, &why);
    if (kind == BROKER_MSG_INVALID && !why)
        __builtin_trap ();
    //  what the parser accepts must obey the bounds it promises
    if (kind != BROKER_MSG_INVALID) {
        if (parsed.service && (parsed.service_len == 0 || parsed.service_len > 32))
            __builtin_trap ();
        if (parsed.body && zframe_size (parsed.body) == 0)
            __builtin_trap ();
        if (kind == BROKER_MSG_WORKER_READY && (parsed.credit == 0 || parsed.credit > 1024))
            __builtin_trap ();
    }
    zmsg_destroy (&msg);
    return 0;
}

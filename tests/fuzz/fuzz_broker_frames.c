/*  fuzz_broker_frames — libFuzzer target for the broker's frame parser.
    The input is cut into parts: each part is one length byte followed by
    that many bytes (the last part takes what is left). The parts are handed
    to broker_msg_parse as the broker hands it a received message: an array
    of (data, size) views, at most BROKER_PARTS_MAX of them. Each part is
    copied into its own allocation so ASan sees any read past its end. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "broker_frames.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    broker_part_t parts [BROKER_PARTS_MAX];
    size_t count = 0, pos = 0;
    while (pos < size && count < BROKER_PARTS_MAX) {
        size_t len = data [pos++];
        if (len > size - pos)
            len = size - pos;
        void *copy = malloc (len ? len : 1);
        if (len)
            memcpy (copy, data + pos, len);
        parts [count++] = (broker_part_t) { copy, len };
        pos += len;
    }
    broker_msg_t parsed;
    const char *why = NULL;
    broker_msg_kind_t kind = broker_msg_parse (parts, count, &parsed, &why);
    if (kind == BROKER_MSG_INVALID && !why)
        __builtin_trap ();
    if (kind != parsed.kind)
        __builtin_trap ();
    if (parsed.has_identity != (count > 0)
    ||  (count && (parsed.identity.data != parts [0].data
                || parsed.identity.size != parts [0].size)))
        __builtin_trap ();
    //  what the parser accepts must obey the bounds it promises
    if (kind != BROKER_MSG_INVALID) {
        if (parsed.service && (parsed.service_len == 0 || parsed.service_len > 32))
            __builtin_trap ();
        bool has_body = kind == BROKER_MSG_CLIENT_REQUEST || kind == BROKER_MSG_WORKER_REPLY
                     || kind == BROKER_MSG_WORKER_NOTICE;
        if (has_body != (parsed.body != 0))
            __builtin_trap ();
        size_t body_max = kind == BROKER_MSG_WORKER_NOTICE ? (16u << 10) : (16u << 20);
        if (has_body && (parsed.body >= count || parts [parsed.body].size == 0
                      || parts [parsed.body].size > body_max))
            __builtin_trap ();
        if (kind == BROKER_MSG_WORKER_READY && (parsed.credit == 0 || parsed.credit > 1024))
            __builtin_trap ();
        if (parsed.about && (kind != BROKER_MSG_WORKER_READY || parsed.about >= count
                          || parts [parsed.about].size == 0
                          || parts [parsed.about].size > 4096))
            __builtin_trap ();
        if (kind == BROKER_MSG_CLIENT_REQUEST && parsed.timeout_ms > 600000)
            __builtin_trap ();
    }
    for (size_t i = 0; i < count; i++)
        free ((void *) parts [i].data);
    return 0;
}

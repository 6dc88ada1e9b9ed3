/*  broker_frames.c — the one place the broker reads frames.

    Client:  identity | "MBC1" | 0x01 REQUEST | service | id u64 | timeout u32 | body
             identity | "MBC1" | 0x03 CANCEL | id u64
    Worker:  identity | "MBW1" | 0x01 READY | service | credit u32 [| about]
             identity | "MBW1" | 0x03 REPLY | job u64 | body
             identity | "MBW1" | 0x04 HEARTBEAT
             identity | "MBW1" | 0x05 DISCONNECT
    Exact part counts, exact sizes for integers, bounded bodies, valid
    service names, credit 1..BUS_CREDIT_MAX, timeout ≤ BUS_TIMEOUT_MAX_MS.
*/
#include <string.h>
#include "broker_frames.h"
#include "bus.h"

#define PARSE_FAIL(text) do { *why = (text); out->kind = BROKER_MSG_INVALID; \
                              return BROKER_MSG_INVALID; } while (0)

static bool
s_is (const broker_part_t *part, const char *text)
{
    size_t len = strlen (text);
    return part->size == len && memcmp (part->data, text, len) == 0;
}

//  The one-byte command in part, or -1.
static int
s_command (const broker_part_t *part)
{
    return part->size == 1 ? ((const uint8_t *) part->data) [0] : -1;
}

static bool
s_u64 (const broker_part_t *part, uint64_t *value)
{
    if (part->size != 8)
        return false;
    const uint8_t *p = part->data;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p [i];
    *value = v;
    return true;
}

static bool
s_u32 (const broker_part_t *part, uint32_t *value)
{
    if (part->size != 4)
        return false;
    const uint8_t *p = part->data;
    *value = (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16
           | (uint32_t) p [2] << 8  | (uint32_t) p [3];
    return true;
}

static bool
s_body_valid (const broker_part_t *body)
{
    return body->size > 0 && body->size <= BUS_BODY_MAX;
}

static bool
s_service (const broker_part_t *part, broker_msg_t *out)
{
    out->service = part->data;
    out->service_len = part->size;
    return bus_service_name_valid (out->service, out->service_len);
}

broker_msg_kind_t
broker_msg_parse (const broker_part_t *parts, size_t count,
                  broker_msg_t *out, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset (out, 0, sizeof *out);
    if (!parts)
        count = 0;
    if (count >= 1) {
        out->has_identity = true;
        out->identity = parts [0];
    }
    if (count < 3)
        PARSE_FAIL ("too few frames");
    const broker_part_t *proto = &parts [1];
    int command = s_command (&parts [2]);

    if (s_is (proto, BUS_CLIENT_PROTO)) {
        if (command == BUS_C_CANCEL) {
            if (count != 4)
                PARSE_FAIL ("client cancel needs 4 frames");
            if (!s_u64 (&parts [3], &out->request_id))
                PARSE_FAIL ("request id is not 8 bytes");
            out->kind = BROKER_MSG_CLIENT_CANCEL;
            return out->kind;
        }
        if (command != BUS_C_REQUEST)
            PARSE_FAIL ("unknown client command");
        if (count != 7)
            PARSE_FAIL ("client request needs 7 frames");
        if (!s_u64 (&parts [4], &out->request_id))
            PARSE_FAIL ("request id is not 8 bytes");
        out->has_request_id = true;
        if (!s_service (&parts [3], out))
            PARSE_FAIL ("invalid service name");
        if (!s_u32 (&parts [5], &out->timeout_ms)
        ||  out->timeout_ms > BUS_TIMEOUT_MAX_MS)
            PARSE_FAIL ("invalid timeout");
        if (!s_body_valid (&parts [6]))
            PARSE_FAIL ("empty or oversized body");
        out->body = 6;
        out->kind = BROKER_MSG_CLIENT_REQUEST;
        return out->kind;
    }
    if (!s_is (proto, BUS_WORKER_PROTO))
        PARSE_FAIL ("unknown protocol");
    out->is_worker = true;
    switch (command) {
        case BUS_W_READY:
            if (count != 5 && count != 6)
                PARSE_FAIL ("READY needs 5 or 6 frames");
            if (!s_service (&parts [3], out))
                PARSE_FAIL ("invalid service name");
            if (!s_u32 (&parts [4], &out->credit)
            ||  out->credit < 1 || out->credit > BUS_CREDIT_MAX)
                PARSE_FAIL ("invalid credit");
            if (count == 6) {
                if (parts [5].size == 0 || parts [5].size > BUS_ABOUT_MAX)
                    PARSE_FAIL ("empty or oversized about");
                out->about = 5;
            }
            out->kind = BROKER_MSG_WORKER_READY;
            return out->kind;
        case BUS_W_REPLY:
            if (count != 5)
                PARSE_FAIL ("REPLY needs 5 frames");
            if (!s_u64 (&parts [3], &out->job))
                PARSE_FAIL ("job id is not 8 bytes");
            if (!s_body_valid (&parts [4]))
                PARSE_FAIL ("empty or oversized body");
            out->body = 4;
            out->kind = BROKER_MSG_WORKER_REPLY;
            return out->kind;
        case BUS_W_NOTICE:
            if (count != 5)
                PARSE_FAIL ("NOTICE needs 5 frames");
            if (!s_u64 (&parts [3], &out->job))
                PARSE_FAIL ("job id is not 8 bytes");
            if (parts [4].size == 0 || parts [4].size > BUS_NOTICE_MAX)
                PARSE_FAIL ("empty or oversized notice");
            out->body = 4;
            out->kind = BROKER_MSG_WORKER_NOTICE;
            return out->kind;
        case BUS_W_HEARTBEAT:
            if (count != 3)
                PARSE_FAIL ("HEARTBEAT has no payload");
            out->kind = BROKER_MSG_WORKER_HEARTBEAT;
            return out->kind;
        case BUS_W_DISCONNECT:
            if (count != 3)
                PARSE_FAIL ("DISCONNECT has no payload");
            out->kind = BROKER_MSG_WORKER_DISCONNECT;
            return out->kind;
        default:
            PARSE_FAIL ("unknown worker command");
    }
}

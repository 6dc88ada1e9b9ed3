/*  broker_frames.c — the one place the broker reads frames.

    Client:  identity | "MBC1" | 0x01 REQUEST | service | id u64 | timeout u32 | body
    Worker:  identity | "MBW1" | 0x01 READY | service | credit u32
             identity | "MBW1" | 0x03 REPLY | job u64 | body
             identity | "MBW1" | 0x04 HEARTBEAT
             identity | "MBW1" | 0x05 DISCONNECT
    Exact frame counts, exact sizes for integers, bounded bodies, valid
    service names, credit 1..BUS_CREDIT_MAX, timeout ≤ BUS_TIMEOUT_MAX_MS.
*/
#include "broker_frames.h"
#include "bus.h"
#include "bus_frames.h"

#define PARSE_FAIL(text) do { *why = (text); out->kind = BROKER_MSG_INVALID; \
                              return BROKER_MSG_INVALID; } while (0)

static bool
s_body_valid (zframe_t *body)
{
    return body && zframe_size (body) > 0 && zframe_size (body) <= BUS_BODY_MAX;
}

broker_msg_kind_t
broker_msg_parse (zmsg_t *msg, broker_msg_t *out, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset (out, 0, sizeof *out);
    size_t frames = msg ? zmsg_size (msg) : 0;
    if (frames < 3)
        PARSE_FAIL ("too few frames");
    out->identity = zmsg_first (msg);
    zframe_t *proto = zmsg_next (msg);
    int command = bus_frame_command (zmsg_next (msg));

    if (bus_frame_is (proto, BUS_CLIENT_PROTO)) {
        if (command != BUS_C_REQUEST)
            PARSE_FAIL ("unknown client command");
        if (frames != 7)
            PARSE_FAIL ("client request needs 7 frames");
        zframe_t *service = zmsg_next (msg);
        zframe_t *id = zmsg_next (msg);
        zframe_t *timeout = zmsg_next (msg);
        zframe_t *body = zmsg_next (msg);
        if (!bus_frame_u64 (id, &out->request_id))
            PARSE_FAIL ("request id is not 8 bytes");
        out->has_request_id = true;
        out->service = (const char *) zframe_data (service);
        out->service_len = zframe_size (service);
        if (!bus_service_name_valid (out->service, out->service_len))
            PARSE_FAIL ("invalid service name");
        if (!bus_frame_u32 (timeout, &out->timeout_ms)
        ||  out->timeout_ms > BUS_TIMEOUT_MAX_MS)
            PARSE_FAIL ("invalid timeout");
        if (!s_body_valid (body))
            PARSE_FAIL ("empty or oversized body");
        out->body = body;
        out->kind = BROKER_MSG_CLIENT_REQUEST;
        return out->kind;
    }
    if (!bus_frame_is (proto, BUS_WORKER_PROTO))
        PARSE_FAIL ("unknown protocol");
    out->is_worker = true;
    switch (command) {
        case BUS_W_READY: {
            if (frames != 5)
                PARSE_FAIL ("READY needs 5 frames");
            zframe_t *service = zmsg_next (msg);
            out->service = (const char *) zframe_data (service);
            out->service_len = zframe_size (service);
            if (!bus_service_name_valid (out->service, out->service_len))
                PARSE_FAIL ("invalid service name");
            if (!bus_frame_u32 (zmsg_next (msg), &out->credit)
            ||  out->credit < 1 || out->credit > BUS_CREDIT_MAX)
                PARSE_FAIL ("invalid credit");
            out->kind = BROKER_MSG_WORKER_READY;
            return out->kind;
        }
        case BUS_W_REPLY: {
            if (frames != 5)
                PARSE_FAIL ("REPLY needs 5 frames");
            if (!bus_frame_u64 (zmsg_next (msg), &out->job))
                PARSE_FAIL ("job id is not 8 bytes");
            zframe_t *body = zmsg_next (msg);
            if (!s_body_valid (body))
                PARSE_FAIL ("empty or oversized body");
            out->body = body;
            out->kind = BROKER_MSG_WORKER_REPLY;
            return out->kind;
        }
        case BUS_W_HEARTBEAT:
            if (frames != 3)
                PARSE_FAIL ("HEARTBEAT has no payload");
            out->kind = BROKER_MSG_WORKER_HEARTBEAT;
            return out->kind;
        case BUS_W_DISCONNECT:
            if (frames != 3)
                PARSE_FAIL ("DISCONNECT has no payload");
            out->kind = BROKER_MSG_WORKER_DISCONNECT;
            return out->kind;
        default:
            PARSE_FAIL ("unknown worker command");
    }
}

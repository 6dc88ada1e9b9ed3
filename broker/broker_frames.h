/*  broker_frames.h — parse one message as the broker's ROUTER receives it.

    The broker receives a message as raw parts (zmq_msg_t, no CZMQ frames)
    and hands this parser a view of each: (data, size). Pure: looks at the
    parts, allocates nothing, keeps pointers into them. Everything that
    reaches the broker's state machine has passed through here, which is why
    it is fuzzed on its own (tests/fuzz/fuzz_broker_frames.c).
*/
#ifndef MCPBOX_BROKER_FRAMES_H
#define MCPBOX_BROKER_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The broker keeps at most this many parts of a message. No valid message
//  has more than 7 (identity + 6), so a longer one is passed as its first
//  BROKER_PARTS_MAX parts, which is already a wrong count.
#define BROKER_PARTS_MAX 8

typedef struct {
    const void *data;
    size_t      size;
} broker_part_t;

typedef enum {
    BROKER_MSG_INVALID = 0,
    BROKER_MSG_CLIENT_REQUEST,
    BROKER_MSG_CLIENT_CANCEL,
    BROKER_MSG_WORKER_READY,
    BROKER_MSG_WORKER_REPLY,
    BROKER_MSG_WORKER_HEARTBEAT,
    BROKER_MSG_WORKER_DISCONNECT,
    BROKER_MSG_WORKER_NOTICE,
} broker_msg_kind_t;

typedef struct {
    broker_msg_kind_t kind;
    bool        has_identity;   //  there was at least one part
    broker_part_t identity;     //  parts [0]: the peer's routing id
    bool        is_worker;      //  the protocol part said MBW1
    const char *service;        //  REQUEST, READY: not NUL-terminated
    size_t      service_len;
    uint64_t    request_id;     //  REQUEST, CANCEL: the client's id
    bool        has_request_id; //  REQUEST whose id could be read, even if invalid
    uint32_t    timeout_ms;     //  REQUEST
    uint32_t    credit;         //  READY
    uint64_t    job;            //  REPLY, NOTICE
    size_t      body;           //  REQUEST, REPLY, NOTICE: index of the body in
                                //  parts (1..count-1, size 1..BUS_BODY_MAX, a
                                //  NOTICE's 1..BUS_NOTICE_MAX); else 0
    size_t      about;          //  READY: index of what the worker says of
                                //  itself (1..BUS_ABOUT_MAX bytes, not yet
                                //  decoded); 0 when it said nothing
} broker_msg_t;

//  Fill *out from parts [0 .. count-1] (parts [0] is the routing id the
//  ROUTER added). Returns the kind; BROKER_MSG_INVALID with *why set when the
//  message breaks the protocol. parts may be NULL when count is 0.
broker_msg_kind_t broker_msg_parse (const broker_part_t *parts, size_t count,
                                    broker_msg_t *out, const char **why);

#endif

/*  broker_frames.h — parse one message as the broker's ROUTER receives it.

    Pure: looks at frames, allocates nothing, keeps pointers into the
    message. Everything that reaches the broker's state machine has passed
    through here, which is why it is fuzzed on its own (tests/fuzz).
*/
#ifndef MCPBOX_BROKER_FRAMES_H
#define MCPBOX_BROKER_FRAMES_H

#include <stdint.h>
#include <czmq.h>

typedef enum {
    BROKER_MSG_INVALID = 0,
    BROKER_MSG_CLIENT_REQUEST,
    BROKER_MSG_WORKER_READY,
    BROKER_MSG_WORKER_REPLY,
    BROKER_MSG_WORKER_HEARTBEAT,
    BROKER_MSG_WORKER_DISCONNECT,
} broker_msg_kind_t;

typedef struct {
    broker_msg_kind_t kind;
    zframe_t   *identity;       //  routing id of the peer (always set if any frame)
    const char *service;        //  REQUEST, READY: not NUL-terminated
    size_t      service_len;
    uint64_t    request_id;     //  REQUEST: the client's id
    bool        has_request_id; //  REQUEST whose id could be read, even if invalid
    uint32_t    timeout_ms;     //  REQUEST
    uint32_t    credit;         //  READY
    uint64_t    job;            //  REPLY
    zframe_t   *body;           //  REQUEST, REPLY
    bool        is_worker;      //  the protocol frame said MBW1
} broker_msg_t;

//  Fill *out from msg. Returns the kind; BROKER_MSG_INVALID with *why set
//  when the message breaks the protocol.
broker_msg_kind_t broker_msg_parse (zmsg_t *msg, broker_msg_t *out,
                                    const char **why);

#endif

/*  fuzz_msg_decode — libFuzzer target for the msgpack body decoder.
    Any input must either decode into a map whose getters behave, or be
    refused; never crash, leak, or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include "msg.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msg_limits_t limits = msg_default_limits;
    limits.max_size = 1 << 16;
    const char *why = NULL;
    msg_t *msg = msg_decode (data, size, &limits, &why);
    if (!msg)
        return 0;
    const msgpack_object *root = msg_root (msg);
    char buf [32];
    int64_t number;
    bool flag;
    const msgpack_object *obj;
    (void) msg_op (msg);
    (void) msg_is_ok (msg);
    (void) msg_error_code (msg);
    (void) msg_error_message (msg);
    (void) msg_get_cstr (root, "op", buf, sizeof buf);
    (void) msg_get_int (root, "n", &number);
    (void) msg_get_bool (root, "ok", &flag);
    if (msg_get_map (root, "error", &obj) == MSG_FIELD_OK)
        (void) msg_get_cstr (obj, "code", buf, sizeof buf);
    (void) msg_get_array (root, "items", &obj);
    msg_destroy (&msg);
    return 0;
}

/*  fuzz_broker_workers — libFuzzer target for the broker's own service:
    broker_workers_answer reads a request body from any local client. The
    input is that body; the workers are two fixed views (one with an about
    map). Whatever the body, the answer must be one well-formed msgpack map
    (decoded again here with the bus's own decoder). */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "broker_workers.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const uint8_t about [] = { 0x81, 0xa4, 'h', 'o', 's', 't', 0xa2, 'v', 'm' };
    broker_worker_view_t views [2] = {
        { .id = 1, .service = "sandbox", .origin = "local", .address = "", .credit = 4,
          .in_flight = 1, .served = 9, .registered_at = 1, .last_seen = 2,
          .about = about, .about_size = sizeof about },
        { .id = 2, .service = "registry", .origin = "tcp", .address = "10.0.0.1",
          .credit = 16 },
    };
    broker_stats_t stats = { .requests = 3, .workers = 2 };
    //  the body in an allocation of its own, so ASan sees reads past its end
    uint8_t *body = malloc (size ? size : 1);
    if (size)
        memcpy (body, data, size);
    msgw_t *w = broker_workers_answer (body, size, views, 2, &stats, 2, 5, 1000);
    free (body);
    if (!w)
        __builtin_trap ();
    msg_t *reply = msg_decode (msgw_data (w), msgw_size (w), NULL, NULL);
    if (!reply)
        __builtin_trap ();
    msg_destroy (&reply);
    msgw_destroy (&w);
    return 0;
}

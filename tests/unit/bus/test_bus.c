/*  test_bus.c — the client and worker APIs against the real broker code
    running in-process (broker_actor) on ipc sockets in a fresh directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>
#include "broker.h"
#include "bus.h"
#include "bus_frames.h"

typedef struct {
    char              dir [64];
    char              endpoint [128];
    char              events_in [128];
    char              events_out [128];
    broker_config_t   config;
    zactor_t         *broker;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    strcpy (f->dir, "/tmp/mbtestXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/bus", f->dir);
    snprintf (f->events_in, sizeof f->events_in, "ipc://%s/ev-in", f->dir);
    snprintf (f->events_out, sizeof f->events_out, "ipc://%s/ev-out", f->dir);
    f->config = (broker_config_t) {
        .endpoint = f->endpoint, .events_in = f->events_in,
        .events_out = f->events_out,
    };
    f->broker = zactor_new (broker_actor, &f->config);
    assert_non_null (f->broker);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    zactor_destroy (&f->broker);
    char command [128];
    snprintf (command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal (system (command), 0);
    free (f);
    return 0;
}

static msg_t *
s_decode_reply (bus_reply_t *reply)
{
    const char *why = NULL;
    msg_t *msg = bus_reply_decode (reply, &why);
    assert_non_null (msg);
    return msg;
}

static void
s_reply_text (bus_worker_t *worker, bus_request_t **request, const char *text)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "echo", text);
    assert_int_equal (bus_worker_reply (worker, request, msgw_data (w), msgw_size (w)), 0);
    msgw_destroy (&w);
}

static uint64_t
s_send_op (bus_client_t *client, const char *service, const char *op, int timeout_ms)
{
    msgw_t *w = msgw_op_new (op);
    uint64_t id = bus_client_send (client, service, msgw_data (w), msgw_size (w), timeout_ms);
    msgw_destroy (&w);
    assert_true (id != 0);
    return id;
}

static char *
s_request_op (bus_request_t *request)
{
    size_t size;
    const void *body = bus_request_body (request, &size);
    msg_t *msg = msg_decode (body, size, NULL, NULL);
    assert_non_null (msg);
    char *op = strdup (msg_op (msg));
    msg_destroy (&msg);
    return op;
}

static void
test_round_trip (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    uint64_t id = s_send_op (client, "echo", "hello", 2000);

    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    assert_true (bus_request_timeout_ms (request) > 1000);
    char *op = s_request_op (request);
    assert_string_equal (op, "hello");
    free (op);
    assert_int_equal (bus_worker_held (worker), 1);
    s_reply_text (worker, &request, "hi");
    assert_null (request);
    assert_int_equal (bus_worker_held (worker), 0);

    bus_reply_t *reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    assert_true (bus_reply_id (reply) == id);
    msg_t *msg = s_decode_reply (reply);
    assert_true (msg_is_ok (msg));
    assert_int_equal (bus_client_pending (client), 0);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

//  The broker's own service: a worker's `about` comes back as it was sent,
//  with its figures (served moves with a reply); nobody may serve `broker`,
//  and an about that is not one msgpack map is refused before it is sent.
static void
test_broker_workers (void **state)
{
    fixture_t *f = *state;
    msgw_t *about = msgw_new ();
    msgw_map (about, 2);
    msgw_kv_str (about, "host", "unit-host");
    msgw_kv_int (about, "restarts", 3);
    static const uint8_t array [] = { 0x91, 0x01 };
    assert_null (bus_worker_new_about (f->endpoint, "echo", 1, NULL, array, sizeof array));
    assert_null (bus_worker_new_about (f->endpoint, BUS_BROKER_SERVICE, 1, NULL,
                                       msgw_data (about), msgw_size (about)));
    assert_null (bus_worker_new (f->endpoint, BUS_BROKER_SERVICE, 1, NULL));
    bus_worker_t *worker = bus_worker_new_about (f->endpoint, "echo", 2, NULL,
                                                 msgw_data (about), msgw_size (about));
    assert_non_null (worker);
    msgw_destroy (&about);
    bus_client_t *client = bus_client_new (f->endpoint);

    //  one served call, then the pool
    s_send_op (client, "echo", "hello", 2000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_reply_text (worker, &request, "hi");
    bus_reply_t *reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    bus_reply_destroy (&reply);

    s_send_op (client, BUS_BROKER_SERVICE, "workers", 2000);
    reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_true (msg_is_ok (msg));
    const msgpack_object *workers = NULL;
    assert_int_equal (msg_get_array (msg_root (msg), "workers", &workers), MSG_FIELD_OK);
    assert_int_equal (workers->via.array.size, 1);
    const msgpack_object *w = &workers->via.array.ptr [0];
    int64_t value = 0;
    assert_int_equal (msg_get_int (w, "served", &value), MSG_FIELD_OK);
    assert_int_equal (value, 1);
    assert_int_equal (msg_get_int (w, "credit", &value), MSG_FIELD_OK);
    assert_int_equal (value, 2);
    assert_int_equal (msg_get_int (w, "in_flight", &value), MSG_FIELD_OK);
    assert_int_equal (value, 0);
    const msgpack_object *said = NULL;
    assert_int_equal (msg_get_map (w, "about", &said), MSG_FIELD_OK);
    char host [32];
    assert_int_equal (msg_get_cstr (said, "host", host, sizeof host), MSG_FIELD_OK);
    assert_string_equal (host, "unit-host");
    assert_int_equal (msg_get_int (said, "restarts", &value), MSG_FIELD_OK);
    assert_int_equal (value, 3);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);

    s_send_op (client, BUS_BROKER_SERVICE, "nonsense", 2000);
    reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_UNKNOWN_OP);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

//  A worker with credit 3 holds three requests and answers them backwards.
static void
test_credit_out_of_order (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 3, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    uint64_t ids [4];
    for (int i = 0; i < 4; i++)
        ids [i] = s_send_op (client, "echo", "x", 3000);

    bus_request_t *held [3];
    for (int i = 0; i < 3; i++) {
        held [i] = bus_worker_recv (worker, 2000);
        assert_non_null (held [i]);
    }
    //  the fourth waits for credit
    assert_null (bus_worker_recv (worker, 300));
    for (int i = 2; i >= 0; i--)
        s_reply_text (worker, &held [i], "done");
    bus_request_t *fourth = bus_worker_recv (worker, 2000);
    assert_non_null (fourth);
    s_reply_text (worker, &fourth, "done");

    int seen = 0;
    for (int i = 0; i < 4; i++) {
        bus_reply_t *reply = bus_client_recv (client, 2000);
        assert_non_null (reply);
        for (int j = 0; j < 4; j++)
            if (bus_reply_id (reply) == ids [j])
                seen |= 1 << j;
        bus_reply_destroy (&reply);
    }
    assert_int_equal (seen, 0xf);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
test_spread_over_workers (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *workers [3];
    for (int i = 0; i < 3; i++)
        workers [i] = bus_worker_new (f->endpoint, "echo", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    //  let all three register before the requests arrive
    for (int i = 0; i < 3; i++)
        assert_null (bus_worker_recv (workers [i], 100));
    for (int i = 0; i < 3; i++)
        s_send_op (client, "echo", "x", 3000);
    for (int i = 0; i < 3; i++) {
        bus_request_t *request = bus_worker_recv (workers [i], 2000);
        assert_non_null (request);          //  each worker got one
        s_reply_text (workers [i], &request, "ok");
    }
    for (int i = 0; i < 3; i++) {
        bus_reply_t *reply = bus_client_recv (client, 2000);
        assert_non_null (reply);
        bus_reply_destroy (&reply);
    }
    bus_client_destroy (&client);
    for (int i = 0; i < 3; i++)
        bus_worker_destroy (&workers [i]);
}

//  A job goes to the worker with the most free credit: a worker of credit 4
//  takes the first three jobs while a worker of credit 1, registered first
//  (so first in turn), stays idle; then, both with one free, they tie.
static void
test_most_free_credit_first (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *small = bus_worker_new (f->endpoint, "echo", 1, NULL);
    assert_null (bus_worker_recv (small, 100));
    bus_worker_t *large = bus_worker_new (f->endpoint, "echo", 4, NULL);
    assert_null (bus_worker_recv (large, 100));
    bus_client_t *client = bus_client_new (f->endpoint);
    bus_request_t *held [4];
    for (int i = 0; i < 3; i++) {
        s_send_op (client, "echo", "x", 3000);
        held [i] = bus_worker_recv (large, 2000);
        assert_non_null (held [i]);
    }
    assert_null (bus_worker_recv (small, 200));
    s_send_op (client, "echo", "x", 3000);      //  a tie: one free each
    held [3] = bus_worker_recv (small, 2000);
    assert_non_null (held [3]);
    for (int i = 0; i < 3; i++)
        s_reply_text (large, &held [i], "ok");
    s_reply_text (small, &held [3], "ok");
    for (int i = 0; i < 4; i++) {
        bus_reply_t *reply = bus_client_recv (client, 2000);
        assert_non_null (reply);
        bus_reply_destroy (&reply);
    }
    bus_client_destroy (&client);
    bus_worker_destroy (&large);
    bus_worker_destroy (&small);
}

static void
test_no_worker_at_deadline (void **state)
{
    fixture_t *f = *state;
    bus_client_t *client = bus_client_new (f->endpoint);
    int64_t start = zclock_mono ();
    s_send_op (client, "nobody", "x", 300);
    bus_reply_t *reply = bus_client_recv (client, 5000);
    int64_t elapsed = zclock_mono () - start;
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_NO_WORKER);
    //  from the broker at the deadline, not the client's grace-period fallback
    assert_true (elapsed >= 290 && elapsed < 1000);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
}

//  CANCEL: the client gets `cancelled` at once (and only that), the worker
//  holding the request is told, its late reply is dropped and frees its
//  credit; a request still waiting for a worker is simply forgotten.
static void
test_cancel (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "slow", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    uint64_t held = s_send_op (client, "slow", "work", 5000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    uint64_t waiting = s_send_op (client, "slow", "queued", 5000);
    assert_int_equal (bus_client_cancel (client, 999999), -1);     //  not pending
    assert_int_equal (bus_client_cancel (client, held), 0);
    assert_int_equal (bus_client_cancel (client, waiting), 0);
    for (int i = 0; i < 2; i++) {
        bus_reply_t *reply = bus_client_recv (client, 2000);
        assert_non_null (reply);
        assert_true (bus_reply_id (reply) == held || bus_reply_id (reply) == waiting);
        msg_t *msg = s_decode_reply (reply);
        assert_int_equal (msg_error_code (msg), BUS_ERR_CANCELLED);
        msg_destroy (&msg);
        bus_reply_destroy (&reply);
    }
    assert_int_equal (bus_client_pending (client), 0);
    //  the worker learns which request it holds was cancelled
    bus_request_t *cancelled = NULL;
    for (int i = 0; i < 40 && !cancelled; i++) {
        bus_request_t *more = bus_worker_recv (worker, 50);
        assert_null (more);                     //  the queued one never comes
        cancelled = bus_worker_take_cancelled (worker);
    }
    assert_ptr_equal (cancelled, request);
    assert_null (bus_worker_take_cancelled (worker));
    s_reply_text (worker, &request, "too late");
    //  the credit is free again, and nothing more reaches the client
    uint64_t next = s_send_op (client, "slow", "next", 2000);
    request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_reply_text (worker, &request, "ok");
    bus_reply_t *reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    assert_true (bus_reply_id (reply) == next);
    bus_reply_destroy (&reply);
    assert_null (bus_client_recv (client, 200));
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
test_queued_until_worker_arrives (void **state)
{
    fixture_t *f = *state;
    bus_client_t *client = bus_client_new (f->endpoint);
    uint64_t id = s_send_op (client, "late", "x", 3000);
    zclock_sleep (200);
    bus_worker_t *worker = bus_worker_new (f->endpoint, "late", 1, NULL);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_reply_text (worker, &request, "ok");
    bus_reply_t *reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    assert_true (bus_reply_id (reply) == id);
    msg_t *msg = s_decode_reply (reply);
    assert_true (msg_is_ok (msg));
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
test_worker_gone_mid_request (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    s_send_op (client, "echo", "x", 5000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    bus_request_destroy (&request);
    bus_worker_destroy (&worker);          //  says DISCONNECT
    bus_reply_t *reply = bus_client_recv (client, 3000);
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_WORKER_LOST);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
}

//  A worker that goes silent (no heartbeats) is declared dead by the broker.
static void
test_silent_worker_lost (void **state)
{
    fixture_t *f = *state;
    zsock_t *raw = zsock_new_dealer (f->endpoint);
    uint8_t credit [4];
    bus_put_u32 (credit, 1);
    zmsg_t *ready = zmsg_new ();
    zmsg_addstr (ready, BUS_WORKER_PROTO);
    zmsg_addmem (ready, &(uint8_t) { BUS_W_READY }, 1);
    zmsg_addstr (ready, "mute");
    zmsg_addmem (ready, credit, 4);
    zmsg_send (&ready, raw);

    bus_client_t *client = bus_client_new (f->endpoint);
    int64_t start = zclock_mono ();
    s_send_op (client, "mute", "x", 10000);
    bus_reply_t *reply = bus_client_recv (client, 5000);
    int64_t elapsed = zclock_mono () - start;
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_WORKER_LOST);
    assert_true (elapsed < 1000);          //  3 × 100 ms heartbeat, plus slack
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    zsock_destroy (&raw);
}

//  A held job past its deadline is answered `timeout`; the late reply is
//  dropped and the worker's credit comes back.
static void
test_held_past_deadline (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "slow", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    s_send_op (client, "slow", "x", 200);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    bus_reply_t *reply = bus_client_recv (client, 1000);
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_TIMEOUT);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);

    s_reply_text (worker, &request, "late");
    assert_null (bus_client_recv (client, 200));      //  dropped
    uint64_t id = s_send_op (client, "slow", "again", 2000);
    request = bus_worker_recv (worker, 2000);
    assert_non_null (request);                         //  credit is back
    s_reply_text (worker, &request, "on time");
    reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    assert_true (bus_reply_id (reply) == id);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

//  With no broker at all, the client answers itself shortly after the deadline.
static void
test_client_local_timeout (void **state)
{
    fixture_t *f = *state;
    char endpoint [160];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/nobody-here", f->dir);
    bus_client_t *client = bus_client_new (endpoint);
    s_send_op (client, "echo", "x", 100);
    assert_int_equal (bus_client_pending (client), 1);
    bus_reply_t *reply = bus_client_recv (client, 5000);
    assert_non_null (reply);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_TIMEOUT);
    assert_int_equal (bus_client_pending (client), 0);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
}

//  bus_client_call keeps replies to other requests for later.
static void
test_call_keeps_others (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 2, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    uint64_t first = s_send_op (client, "echo", "first", 3000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    s_reply_text (worker, &request, "first");
    zclock_sleep (50);
    //  the synchronous call needs a worker turn: do it by hand after sending
    msgw_t *w = msgw_op_new ("second");
    uint64_t second = bus_client_send (client, "echo", msgw_data (w), msgw_size (w), 3000);
    msgw_destroy (&w);
    request = bus_worker_recv (worker, 2000);
    s_reply_text (worker, &request, "second");
    bus_reply_t *a = bus_client_recv (client, 2000);
    bus_reply_t *b = bus_client_recv (client, 2000);
    assert_non_null (a);
    assert_non_null (b);
    assert_true (bus_reply_id (a) == first && bus_reply_id (b) == second);
    bus_reply_destroy (&a);
    bus_reply_destroy (&b);
    //  a call with no worker returns no_worker
    w = msgw_op_new ("x");
    bus_reply_t *reply = bus_client_call (client, "absent", msgw_data (w), msgw_size (w), 200);
    msgw_destroy (&w);
    msg_t *msg = s_decode_reply (reply);
    assert_int_equal (msg_error_code (msg), BUS_ERR_NO_WORKER);
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
test_bad_arguments (void **state)
{
    fixture_t *f = *state;
    bus_client_t *client = bus_client_new (f->endpoint);
    const char body [] = "\x80";
    assert_true (bus_client_send (client, "Bad Name", body, 1, 100) == 0);
    assert_true (bus_client_send (client, "", body, 1, 100) == 0);
    assert_true (bus_client_send (client, "ok", body, 0, 100) == 0);
    assert_true (bus_client_send (client, "a-very-long-service-name-over-32-bytes", body, 1, 100) == 0);
    assert_null (bus_worker_new (f->endpoint, "x", 0, NULL));
    assert_null (bus_worker_new (f->endpoint, "x", BUS_CREDIT_MAX + 1, NULL));
    assert_null (bus_worker_new (f->endpoint, "UPPER", 1, NULL));
    bus_client_destroy (&client);
}

//  A client request with a readable id but a bad service is answered
//  `protocol`; garbage is dropped and the broker keeps serving.
static void
test_protocol_breaks (void **state)
{
    fixture_t *f = *state;
    zsock_t *raw = zsock_new_dealer (f->endpoint);
    zsock_set_rcvtimeo (raw, 2000);
    zstr_sendx (raw, "garbage", "more", NULL);
    zstr_send (raw, "");
    uint8_t id [8], timeout [4];
    bus_put_u64 (id, 77);
    bus_put_u32 (timeout, 1000);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, BUS_CLIENT_PROTO);
    zmsg_addmem (msg, &(uint8_t) { BUS_C_REQUEST }, 1);
    zmsg_addstr (msg, "BAD SERVICE");
    zmsg_addmem (msg, id, 8);
    zmsg_addmem (msg, timeout, 4);
    zmsg_addstr (msg, "\x80");
    zmsg_send (&msg, raw);
    zmsg_t *reply = zmsg_recv (raw);
    assert_non_null (reply);
    assert_int_equal (zmsg_size (reply), 4);
    zframe_t *body = zmsg_last (reply);
    msg_t *decoded = msg_decode (zframe_data (body), zframe_size (body), NULL, NULL);
    assert_non_null (decoded);
    assert_int_equal (msg_error_code (decoded), BUS_ERR_PROTOCOL);
    msg_destroy (&decoded);
    zmsg_destroy (&reply);
    zsock_destroy (&raw);

    //  still serving
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    s_send_op (client, "echo", "x", 2000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_reply_text (worker, &request, "fine");
    bus_reply_t *answer = bus_client_recv (client, 2000);
    assert_non_null (answer);
    bus_reply_destroy (&answer);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
s_notice_text (bus_worker_t *worker, bus_request_t *request, int n, int expect)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 1);
    msgw_kv_int (w, "n", n);
    assert_int_equal (bus_worker_notice (worker, request, msgw_data (w), msgw_size (w)), expect);
    msgw_destroy (&w);
}

//  NOTICE: a worker's notices about a request it holds reach that request's
//  client, in order, before the reply, and leave it pending; a client that
//  did not ask drops them (counted); the broker relays at most
//  BUS_NOTICE_BURST at once per job; an oversize one is refused by the
//  worker; a worker cannot speak of a job it does not hold.
static void
test_notices (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "chatty", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    bus_client_take_notices (client, true);
    uint64_t id = s_send_op (client, "chatty", "work", 5000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    for (int i = 0; i < 3; i++)
        s_notice_text (worker, request, i, 0);
    static uint8_t big [BUS_NOTICE_MAX + 1];
    assert_int_equal (bus_worker_notice (worker, request, big, sizeof big), -1);
    for (int i = 0; i < 3; i++) {
        bus_reply_t *notice = bus_client_recv (client, 2000);
        assert_non_null (notice);
        assert_true (bus_reply_is_notice (notice));
        assert_true (bus_reply_id (notice) == id);
        msg_t *msg = s_decode_reply (notice);
        int64_t n = -1;
        assert_int_equal (msg_get_int (msg_root (msg), "n", &n), MSG_FIELD_OK);
        assert_int_equal (n, i);
        msg_destroy (&msg);
        bus_reply_destroy (&notice);
        assert_int_equal (bus_client_pending (client), 1);
    }
    //  a raw worker of another service names this job: nothing reaches the client
    zsock_t *raw = zsock_new_dealer (f->endpoint);
    zmsg_t *ready = zmsg_new ();
    zmsg_addstr (ready, BUS_WORKER_PROTO);
    zmsg_addmem (ready, &(uint8_t) { BUS_W_READY }, 1);
    zmsg_addstr (ready, "other");
    uint8_t credit [4];
    bus_put_u32 (credit, 1);
    zmsg_addmem (ready, credit, 4);
    zmsg_send (&ready, raw);
    for (uint64_t job = 1; job <= 3; job++) {
        uint8_t job_bytes [8];
        bus_put_u64 (job_bytes, job);
        zmsg_t *forged = zmsg_new ();
        zmsg_addstr (forged, BUS_WORKER_PROTO);
        zmsg_addmem (forged, &(uint8_t) { BUS_W_NOTICE }, 1);
        zmsg_addmem (forged, job_bytes, 8);
        zmsg_addstr (forged, "\x80");
        zmsg_send (&forged, raw);
    }
    //  (the worker keeps heartbeating meanwhile: at the test's 100 ms
    //  heartbeat it would otherwise be declared lost, and its job answered)
    for (int i = 0; i < 6; i++) {
        bus_worker_keepalive (worker);
        bus_reply_t *stray = bus_client_recv (client, 50);
        if (stray)
            fail_msg ("something reached the client (a notice: %d)", bus_reply_is_notice (stray));
    }
    zsock_destroy (&raw);
    //  a flood: the broker relays the job's bucket, no more
    for (int i = 0; i < 3 * BUS_NOTICE_BURST; i++)
        s_notice_text (worker, request, i, 0);
    s_reply_text (worker, &request, "done");
    int notices = 0;
    bus_reply_t *reply = NULL;
    while (!reply) {
        bus_reply_t *next = bus_client_recv (client, 2000);
        assert_non_null (next);
        if (bus_reply_is_notice (next)) {
            notices++;
            bus_reply_destroy (&next);
        }
        else
            reply = next;
    }
    //  3 were relayed before, the bucket refills at BUS_NOTICE_RATE/s meanwhile
    assert_in_range (notices, BUS_NOTICE_BURST - 3, BUS_NOTICE_BURST + 2);
    assert_true (bus_reply_id (reply) == id);
    bus_reply_destroy (&reply);
    assert_int_equal (bus_client_pending (client), 0);

    //  a client that did not ask drops them and counts
    bus_client_t *plain = bus_client_new (f->endpoint);
    s_send_op (plain, "chatty", "work", 5000);
    request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_notice_text (worker, request, 1, 0);
    s_notice_text (worker, request, 2, 0);
    s_reply_text (worker, &request, "done");
    reply = bus_client_recv (plain, 2000);
    assert_non_null (reply);
    assert_false (bus_reply_is_notice (reply));
    bus_reply_destroy (&reply);
    assert_true (bus_client_notices_dropped (plain) == 2);
    bus_client_destroy (&plain);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

//  A worker busy far past the liveness window stays registered while it
//  calls bus_worker_keepalive, and requests arriving meanwhile are kept.
static void
test_keepalive_while_busy (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "busy", 2, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    s_send_op (client, "busy", "first", 5000);
    bus_request_t *first = bus_worker_recv (worker, 2000);
    assert_non_null (first);
    uint64_t second_id = s_send_op (client, "busy", "second", 5000);
    //  busy for 6 liveness windows (100 ms heartbeat x 3), keeping alive
    int64_t until = zclock_mono () + 1800;
    while (zclock_mono () < until) {
        zclock_sleep (40);
        bus_worker_keepalive (worker);
    }
    s_reply_text (worker, &first, "done");
    bus_request_t *second = bus_worker_recv (worker, 0);
    assert_non_null (second);                //  kept by keepalive
    char *op = s_request_op (second);
    assert_string_equal (op, "second");
    free (op);
    s_reply_text (worker, &second, "done");
    for (int i = 0; i < 2; i++) {
        bus_reply_t *reply = bus_client_recv (client, 2000);
        assert_non_null (reply);
        msg_t *msg = s_decode_reply (reply);
        assert_true (msg_is_ok (msg));      //  not worker_lost
        if (i == 1)
            assert_true (bus_reply_id (reply) == second_id);
        msg_destroy (&msg);
        bus_reply_destroy (&reply);
    }
    assert_int_equal (bus_worker_registrations (worker), 1);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

//  The broker restarts under a connected client and worker; both recover.
static void
test_broker_restart (void **state)
{
    fixture_t *f = *state;
    bus_worker_t *worker = bus_worker_new (f->endpoint, "echo", 1, NULL);
    bus_client_t *client = bus_client_new (f->endpoint);
    assert_null (bus_worker_recv (worker, 100));
    zactor_destroy (&f->broker);
    f->broker = zactor_new (broker_actor, &f->config);
    assert_non_null (f->broker);

    //  the worker notices (DISCONNECT or silence) and registers again
    int64_t until = zclock_mono () + 3000;
    while (bus_worker_registrations (worker) < 2 && zclock_mono () < until)
        assert_null (bus_worker_recv (worker, 50));
    assert_true (bus_worker_registrations (worker) >= 2);

    uint64_t id = s_send_op (client, "echo", "after", 2000);
    bus_request_t *request = bus_worker_recv (worker, 2000);
    assert_non_null (request);
    s_reply_text (worker, &request, "back");
    bus_reply_t *reply = bus_client_recv (client, 2000);
    assert_non_null (reply);
    assert_true (bus_reply_id (reply) == id);
    bus_reply_destroy (&reply);
    bus_client_destroy (&client);
    bus_worker_destroy (&worker);
}

static void
test_events (void **state)
{
    fixture_t *f = *state;
    const char *topics [] = { "tools.", NULL };
    bus_sub_t *sub = bus_sub_new (f->events_out, topics);
    bus_pub_t *pub = bus_pub_new (f->events_in);
    msgw_t *w = msgw_op_new ("changed");
    //  subscriptions take a moment to travel: publish until one arrives
    char *topic = NULL;
    void *body = NULL;
    size_t size = 0;
    bool got = false;
    for (int i = 0; i < 50 && !got; i++) {
        bus_pub_send (pub, "activity", msgw_data (w), msgw_size (w));   //  filtered out
        bus_pub_send (pub, "tools.changed", msgw_data (w), msgw_size (w));
        got = bus_sub_recv (sub, 100, &topic, &body, &size) == 0;
    }
    assert_true (got);
    assert_string_equal (topic, "tools.changed");
    assert_int_equal (size, msgw_size (w));
    free (topic);
    free (body);
    assert_int_equal (bus_pub_send (pub, "", msgw_data (w), msgw_size (w)), -1);
    msgw_destroy (&w);
    bus_pub_destroy (&pub);
    bus_sub_destroy (&sub);
}

int
main (void)
{
    //  one interval for broker and workers, short so deaths show quickly
    setenv ("MCPBOX_HEARTBEAT_MS", "100", 1);
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_workers, setup, teardown),
        cmocka_unit_test_setup_teardown (test_credit_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown (test_spread_over_workers, setup, teardown),
        cmocka_unit_test_setup_teardown (test_most_free_credit_first, setup, teardown),
        cmocka_unit_test_setup_teardown (test_no_worker_at_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown (test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown (test_notices, setup, teardown),
        cmocka_unit_test_setup_teardown (test_queued_until_worker_arrives, setup, teardown),
        cmocka_unit_test_setup_teardown (test_worker_gone_mid_request, setup, teardown),
        cmocka_unit_test_setup_teardown (test_silent_worker_lost, setup, teardown),
        cmocka_unit_test_setup_teardown (test_held_past_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown (test_client_local_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown (test_call_keeps_others, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown (test_protocol_breaks, setup, teardown),
        cmocka_unit_test_setup_teardown (test_keepalive_while_busy, setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_restart, setup, teardown),
        cmocka_unit_test_setup_teardown (test_events, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  test_bus_bridge.c — the gateway's bus bridge against an in-process broker.

    A real broker (broker_actor) on inproc://, an echo worker that answers
    in batches in reverse order, and the bridge under test. Checks that
    many requests in flight are each answered once, matched to their
    ticket and token; that errors (no worker, no broker) still complete;
    that bad or excess submissions are refused; and that destroying the
    bridge with work in flight is clean (run under the sanitizers).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <cmocka.h>
#include <czmq.h>

#include "bus.h"
#include "msg.h"
#include "broker.h"
#include "bus_bridge.h"

#define ENDPOINT "inproc://gateway-bridge-test"

static atomic_int s_wakes;

static void
s_wake (void *arg)
{
    (void) arg;
    atomic_fetch_add (&s_wakes, 1);
}

//  Echo worker: replies {"ok": true, "echo": n} to {"op": .., "n": n},
//  holding up to 16 requests and answering each batch in reverse order.
static void
s_echo_worker (zsock_t *pipe, void *args)
{
    (void) args;
    bus_worker_t *worker = bus_worker_new (ENDPOINT, "echo", 16, NULL);
    assert (worker);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    bus_request_t *held [16];
    int count = 0;
    while (true) {
        if (zpoller_wait (poller, 0) == pipe)
            break;
        bus_request_t *request = bus_worker_recv (worker, 10);
        if (request)
            held [count++] = request;
        if (count && (!request || count == 16)) {
            while (count) {
                bus_request_t *next = held [--count];
                size_t size;
                const void *body = bus_request_body (next, &size);
                const char *why;
                msg_t *msg = msg_decode (body, size, NULL, &why);
                int64_t n = -1;
                if (msg)
                    msg_get_int (msg_root (msg), "n", &n);
                msg_destroy (&msg);
                msgw_t *reply = msgw_new ();
                msgw_map (reply, 2);
                msgw_kv_bool (reply, "ok", true);
                msgw_kv_int (reply, "echo", n);
                bus_worker_reply (worker, &next, msgw_data (reply), msgw_size (reply));
                msgw_destroy (&reply);
            }
        }
    }
    zpoller_destroy (&poller);
    bus_worker_destroy (&worker);
}

typedef struct {
    zactor_t *broker;
    zactor_t *worker;
    broker_config_t config;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    self->config.endpoint = ENDPOINT;
    self->config.heartbeat_ms = 200;
    self->broker = zactor_new (broker_actor, &self->config);
    assert_non_null (self->broker);
    self->worker = zactor_new (s_echo_worker, NULL);
    assert_non_null (self->worker);
    zclock_sleep (100);          //  let the worker register
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    zactor_destroy (&self->worker);
    zactor_destroy (&self->broker);
    free (self);
    return 0;
}

//  Take up to `want` completions within timeout_ms.
static size_t
s_collect (bus_bridge_t *bridge, bus_bridge_result_t **out, size_t want,
           int timeout_ms)
{
    size_t got = 0;
    int64_t until = zclock_mono () + timeout_ms;
    while (got < want && zclock_mono () < until) {
        bus_bridge_result_t *result = bus_bridge_take (bridge);
        if (result)
            out [got++] = result;
        else
            zclock_sleep (2);
    }
    return got;
}

static msgw_t *
s_request (int64_t n)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_str (w, "op", "echo");
    msgw_kv_int (w, "n", n);
    return w;
}

static bus_error_t
s_error_of (bus_bridge_result_t *result)
{
    size_t size;
    const void *body = bus_bridge_result_body (result, &size);
    const char *why;
    msg_t *msg = msg_decode (body, size, NULL, &why);
    assert_non_null (msg);
    bus_error_t code = msg_is_ok (msg) ? BUS_ERR_NONE : msg_error_code (msg);
    msg_destroy (&msg);
    return code;
}

#define MANY 300

static void
test_many_in_flight_are_matched (void **state)
{
    (void) state;
    atomic_store (&s_wakes, 0);
    bus_bridge_t *bridge = bus_bridge_new (ENDPOINT, s_wake, NULL);
    assert_non_null (bridge);
    uint64_t tickets [MANY];
    for (int i = 0; i < MANY; i++) {
        msgw_t *w = s_request (i);
        tickets [i] = bus_bridge_submit (bridge, "echo", msgw_data (w),
                                         msgw_size (w), 5000, 1000 + i);
        msgw_destroy (&w);
        assert_true (tickets [i] != 0);
        for (int j = 0; j < i; j++)
            assert_true (tickets [j] != tickets [i]);
    }
    bus_bridge_result_t *results [MANY];
    size_t got = s_collect (bridge, results, MANY, 10000);
    assert_int_equal (got, MANY);
    bool seen [MANY] = { false };
    for (size_t k = 0; k < got; k++) {
        uint64_t token = bus_bridge_result_token (results [k]);
        assert_true (token >= 1000 && token < 1000 + MANY);
        int i = (int) (token - 1000);
        assert_false (seen [i]);
        seen [i] = true;
        assert_true (bus_bridge_result_ticket (results [k]) == tickets [i]);
        size_t size;
        const void *body = bus_bridge_result_body (results [k], &size);
        const char *why;
        msg_t *msg = msg_decode (body, size, NULL, &why);
        assert_non_null (msg);
        assert_true (msg_is_ok (msg));
        int64_t echo;
        assert_int_equal (msg_get_int (msg_root (msg), "echo", &echo), MSG_FIELD_OK);
        assert_int_equal (echo, i);
        msg_destroy (&msg);
        bus_bridge_result_destroy (&results [k]);
    }
    assert_true (atomic_load (&s_wakes) > 0);
    assert_int_equal (bus_bridge_in_flight (bridge), 0);
    assert_null (bus_bridge_take (bridge));
    bus_bridge_destroy (&bridge);
    assert_null (bridge);
}

static void
test_no_worker_completes_with_its_error (void **state)
{
    (void) state;
    bus_bridge_t *bridge = bus_bridge_new (ENDPOINT, s_wake, NULL);
    msgw_t *w = msgw_op_new ("health");
    uint64_t ticket = bus_bridge_submit (bridge, "nobody", msgw_data (w),
                                         msgw_size (w), 200, 7);
    msgw_destroy (&w);
    assert_true (ticket != 0);
    bus_bridge_result_t *result;
    assert_int_equal (s_collect (bridge, &result, 1, 3000), 1);
    assert_true (bus_bridge_result_ticket (result) == ticket);
    assert_true (bus_bridge_result_token (result) == 7);
    assert_int_equal (s_error_of (result), BUS_ERR_NO_WORKER);
    bus_bridge_result_destroy (&result);
    bus_bridge_destroy (&bridge);
}

static void
test_bad_submissions_are_refused (void **state)
{
    (void) state;
    bus_bridge_t *bridge = bus_bridge_new (ENDPOINT, s_wake, NULL);
    msgw_t *w = msgw_op_new ("health");
    const void *body = msgw_data (w);
    size_t size = msgw_size (w);
    assert_true (bus_bridge_submit (bridge, "Bad!", body, size, 100, 1) == 0);
    assert_true (bus_bridge_submit (bridge, "", body, size, 100, 1) == 0);
    assert_true (bus_bridge_submit (bridge, NULL, body, size, 100, 1) == 0);
    assert_true (bus_bridge_submit (bridge, "echo", NULL, size, 100, 1) == 0);
    assert_true (bus_bridge_submit (bridge, "echo", body, 0, 100, 1) == 0);
    assert_true (bus_bridge_submit (bridge,
        "a-service-name-far-longer-than-thirty-two-bytes", body, size, 100, 1) == 0);
    assert_int_equal (bus_bridge_in_flight (bridge), 0);
    msgw_destroy (&w);
    bus_bridge_destroy (&bridge);
}

static void
test_in_flight_is_bounded (void **state)
{
    (void) state;
    bus_bridge_t *bridge = bus_bridge_new (ENDPOINT, s_wake, NULL);
    msgw_t *w = msgw_op_new ("health");
    for (int i = 0; i < BUS_BRIDGE_MAX_IN_FLIGHT; i++)
        assert_true (bus_bridge_submit (bridge, "nobody", msgw_data (w),
                                        msgw_size (w), 100, (uint64_t) i) != 0);
    assert_true (bus_bridge_submit (bridge, "nobody", msgw_data (w),
                                    msgw_size (w), 100, 1) == 0);
    assert_int_equal (bus_bridge_in_flight (bridge), BUS_BRIDGE_MAX_IN_FLIGHT);

    //  every one completes (no_worker or timeout), and then there is room again
    size_t taken = 0;
    int64_t until = zclock_mono () + 10000;
    while (taken < BUS_BRIDGE_MAX_IN_FLIGHT && zclock_mono () < until) {
        bus_bridge_result_t *result = bus_bridge_take (bridge);
        if (!result) {
            zclock_sleep (5);
            continue;
        }
        //  the broker's no_worker at the deadline, or, on a loaded
        //  machine, the bridge's own timeout just before it: either way
        //  the request completed and left the in-flight table
        int error = s_error_of (result);
        assert_true (error == BUS_ERR_NO_WORKER || error == BUS_ERR_TIMEOUT);
        bus_bridge_result_destroy (&result);
        taken++;
    }
    assert_int_equal (taken, BUS_BRIDGE_MAX_IN_FLIGHT);
    assert_int_equal (bus_bridge_in_flight (bridge), 0);
    assert_true (bus_bridge_submit (bridge, "nobody", msgw_data (w),
                                    msgw_size (w), 100, 1) != 0);
    msgw_destroy (&w);
    bus_bridge_destroy (&bridge);   //  with one still in flight
}

static void
test_destroy_with_work_in_flight_is_prompt (void **state)
{
    (void) state;
    bus_bridge_t *bridge = bus_bridge_new (ENDPOINT, s_wake, NULL);
    msgw_t *w = msgw_op_new ("health");
    for (int i = 0; i < 50; i++)
        bus_bridge_submit (bridge, i % 2 ? "nobody" : "echo", msgw_data (w),
                           msgw_size (w), 60000, (uint64_t) i);
    msgw_destroy (&w);
    zclock_sleep (20);
    int64_t started = zclock_mono ();
    bus_bridge_destroy (&bridge);
    assert_true (zclock_mono () - started < 1000);
}

static void
test_without_broker_requests_still_complete (void **state)
{
    (void) state;
    bus_bridge_t *bridge = bus_bridge_new ("ipc:///tmp/mcpbox-no-such-dir/bus",
                                           s_wake, NULL);
    assert_non_null (bridge);
    msgw_t *w = msgw_op_new ("health");
    uint64_t ticket = bus_bridge_submit (bridge, "registry", msgw_data (w),
                                         msgw_size (w), 200, 9);
    msgw_destroy (&w);
    assert_true (ticket != 0);
    bus_bridge_result_t *result;
    assert_int_equal (s_collect (bridge, &result, 1, 4000), 1);
    bus_error_t code = s_error_of (result);
    assert_true (code == BUS_ERR_TIMEOUT || code == BUS_ERR_UNAVAILABLE);
    bus_bridge_result_destroy (&result);
    bus_bridge_destroy (&bridge);
}

static void
test_bad_endpoint_gives_null (void **state)
{
    (void) state;
    assert_null (bus_bridge_new ("nonsense://x", s_wake, NULL));
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_many_in_flight_are_matched),
        cmocka_unit_test (test_no_worker_completes_with_its_error),
        cmocka_unit_test (test_bad_submissions_are_refused),
        cmocka_unit_test (test_in_flight_is_bounded),
        cmocka_unit_test (test_destroy_with_work_in_flight_is_prompt),
        cmocka_unit_test (test_without_broker_requests_still_complete),
        cmocka_unit_test (test_bad_endpoint_gives_null),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

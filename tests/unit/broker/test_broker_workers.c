/*  test_broker_workers.c — the broker's own service, as a function: the
    answer to `workers` lists the views it is given (one service's, when
    asked), passes each worker's about map on as it is, and stays within its
    byte budget when thousands of workers each sent the largest about: the
    ones left out are counted (listed < total), never dropped silently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "broker_workers.h"
#include "bus.h"

static msg_t *
s_answer (const char *op, const char *service, const broker_worker_view_t *views, size_t count)
{
    msgw_t *req = msgw_new ();
    msgw_map (req, service ? 2 : 1);
    msgw_kv_str (req, "op", op);
    if (service)
        msgw_kv_str (req, "service", service);
    broker_stats_t stats = { .requests = 1, .workers = count };
    msgw_t *w = broker_workers_answer (msgw_data (req), msgw_size (req), views, count,
                                       &stats, 2, 10, 1000000);
    msgw_destroy (&req);
    assert_non_null (w);
    assert_true (msgw_size (w) < (8u << 20));
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, NULL);
    msgw_destroy (&w);
    assert_non_null (msg);
    return msg;
}

static int64_t
s_int (msg_t *msg, const char *key)
{
    int64_t value = -1;
    assert_int_equal (msg_get_int (msg_root (msg), key, &value), MSG_FIELD_OK);
    return value;
}

static void
test_filter_and_about (void **state)
{
    (void) state;
    static const uint8_t about [] = { 0x81, 0xa4, 'h', 'o', 's', 't', 0xa2, 'v', 'm' };
    broker_worker_view_t views [] = {
        { .id = 1, .service = "sandbox", .origin = "local", .address = "", .credit = 4,
          .in_flight = 2, .served = 7, .registered_at = 1000, .last_seen = 999000,
          .about = about, .about_size = sizeof about },
        { .id = 2, .service = "registry", .origin = "local", .address = "", .credit = 16 },
    };
    msg_t *msg = s_answer ("workers", "sandbox", views, 2);
    assert_true (msg_is_ok (msg));
    assert_int_equal (s_int (msg, "total"), 1);
    assert_int_equal (s_int (msg, "listed"), 1);
    const msgpack_object *workers = NULL;
    assert_int_equal (msg_get_array (msg_root (msg), "workers", &workers), MSG_FIELD_OK);
    const msgpack_object *w = &workers->via.array.ptr [0];
    int64_t v;
    assert_int_equal (msg_get_int (w, "served", &v), MSG_FIELD_OK);
    assert_int_equal (v, 7);
    assert_int_equal (msg_get_int (w, "in_flight", &v), MSG_FIELD_OK);
    assert_int_equal (v, 2);
    assert_int_equal (msg_get_int (w, "idle_ms", &v), MSG_FIELD_OK);
    assert_int_equal (v, 1000);
    const msgpack_object *said = NULL;
    assert_int_equal (msg_get_map (w, "about", &said), MSG_FIELD_OK);
    char host [8];
    assert_int_equal (msg_get_cstr (said, "host", host, sizeof host), MSG_FIELD_OK);
    assert_string_equal (host, "vm");
    msg_destroy (&msg);

    msg = s_answer ("workers", NULL, views, 2);
    assert_int_equal (s_int (msg, "total"), 2);
    msg_destroy (&msg);
    msg = s_answer ("workers", "Bad Name", views, 2);
    assert_int_equal (msg_error_code (msg), BUS_ERR_BAD_REQUEST);
    msg_destroy (&msg);
    msg = s_answer ("nothing", NULL, views, 2);
    assert_int_equal (msg_error_code (msg), BUS_ERR_UNKNOWN_OP);
    msg_destroy (&msg);
}

static void
test_budget_counts_what_is_left_out (void **state)
{
    (void) state;
    //  the largest about a worker may send: a map holding one 4 KiB string
    static uint8_t about [BUS_ABOUT_MAX];
    about [0] = 0x81;
    about [1] = 0xa1;
    about [2] = 'x';
    about [3] = 0xda;                       //  str16
    size_t len = BUS_ABOUT_MAX - 6;
    about [4] = (uint8_t) (len >> 8);
    about [5] = (uint8_t) len;
    memset (about + 6, 'a', len);
    size_t count = 4096;                    //  BROKER_MAX_WORKERS
    broker_worker_view_t *views = calloc (count, sizeof *views);
    assert_non_null (views);
    for (size_t i = 0; i < count; i++)
        views [i] = (broker_worker_view_t) { .id = i + 1, .service = "sandbox", .origin = "tcp",
                                             .address = "10.0.0.1", .credit = 64,
                                             .about = about, .about_size = sizeof about };
    msg_t *msg = s_answer ("workers", "sandbox", views, count);
    assert_int_equal (s_int (msg, "total"), 4096);
    int64_t listed = s_int (msg, "listed");
    assert_true (listed > 500 && listed < 4096);
    const msgpack_object *workers = NULL;
    assert_int_equal (msg_get_array (msg_root (msg), "workers", &workers), MSG_FIELD_OK);
    assert_int_equal (workers->via.array.size, listed);
    msg_destroy (&msg);
    free (views);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_filter_and_about),
        cmocka_unit_test (test_budget_counts_what_is_left_out),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

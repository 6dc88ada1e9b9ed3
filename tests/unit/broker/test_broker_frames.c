/*  test_broker_frames.c — the broker's frame parser (broker_msg_parse over
    raw parts, as the broker and the fuzz target call it), and the broker
    paths that depend on raw parts and the deadline heap: bodies forwarded
    without a copy or copied while queued, deadlines of mixed timeouts
    answered in order and exactly once (also when many jobs finish out of
    order), late and foreign replies dropped.
    The broker runs in-process (broker_actor); peers are raw DEALER sockets,
    so the frames on the wire are exactly what the test says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "broker.h"
#include "broker_frames.h"
#include "bus.h"
#include "bus_frames.h"
#include "msg.h"

//  --- the parser ----------------------------------------------------------------

#define P(text) { text, sizeof text - 1 }

static const uint8_t s_request_cmd = BUS_C_REQUEST;
static const uint8_t s_id [8] = { 0, 0, 0, 0, 0, 0, 0, 77 };
static const uint8_t s_timeout [4] = { 0, 0, 0x03, 0xe8 };     //  1000
static const uint8_t s_credit [4] = { 0, 0, 0, 4 };

static broker_msg_kind_t
s_parse (const broker_part_t *parts, size_t count, broker_msg_t *m)
{
    const char *why = NULL;
    broker_msg_kind_t kind = broker_msg_parse (parts, count, m, &why);
    assert_int_equal (kind, m->kind);
    if (kind == BROKER_MSG_INVALID)
        assert_non_null (why);
    return kind;
}

static void
test_parse_client_request (void **state)
{
    (void) state;
    broker_part_t parts [] = {
        P ("\0abcd"), P ("MBC1"), { &s_request_cmd, 1 }, P ("echo"),
        { s_id, 8 }, { s_timeout, 4 }, P ("\x81\xa1k\xa1v")
    };
    broker_msg_t m;
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_CLIENT_REQUEST);
    assert_true (m.has_identity);
    assert_ptr_equal (m.identity.data, parts [0].data);
    assert_int_equal (m.identity.size, 5);
    assert_false (m.is_worker);
    assert_int_equal (m.service_len, 4);
    assert_memory_equal (m.service, "echo", 4);
    assert_true (m.has_request_id);
    assert_int_equal (m.request_id, 77);
    assert_int_equal (m.timeout_ms, 1000);
    assert_int_equal (m.body, 6);

    //  a bad service with a readable id: the broker can answer `protocol`
    parts [3] = (broker_part_t) P ("BAD SERVICE");
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_INVALID);
    assert_true (m.has_request_id);
    assert_true (m.has_identity);
    parts [3] = (broker_part_t) P ("echo");

    uint8_t too_long [4];
    bus_put_u32 (too_long, BUS_TIMEOUT_MAX_MS + 1);
    parts [5] = (broker_part_t) { too_long, 4 };
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_INVALID);
    parts [5] = (broker_part_t) { s_timeout, 4 };

    parts [6] = (broker_part_t) { "", 0 };
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_INVALID);
    assert_int_equal (m.body, 0);
    parts [6] = (broker_part_t) P ("\x80");

    parts [4] = (broker_part_t) { s_id, 7 };
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_INVALID);
    assert_false (m.has_request_id);
    parts [4] = (broker_part_t) { s_id, 8 };

    assert_int_equal (s_parse (parts, 6, &m), BROKER_MSG_INVALID);
    assert_false (m.has_request_id);
    parts [2] = (broker_part_t) P ("\x02");                   //  REPLY is not a request
    assert_int_equal (s_parse (parts, 7, &m), BROKER_MSG_INVALID);
}

static void
test_parse_client_cancel (void **state)
{
    (void) state;
    static const uint8_t cancel = BUS_C_CANCEL;
    broker_part_t parts [] = {
        P ("\0abcd"), P ("MBC1"), { &cancel, 1 }, { s_id, 8 }, P ("extra")
    };
    broker_msg_t m;
    assert_int_equal (s_parse (parts, 4, &m), BROKER_MSG_CLIENT_CANCEL);
    assert_false (m.is_worker);
    assert_int_equal (m.request_id, 77);
    assert_int_equal (m.body, 0);
    //  exact frame count, an 8-byte id
    assert_int_equal (s_parse (parts, 5, &m), BROKER_MSG_INVALID);
    assert_int_equal (s_parse (parts, 3, &m), BROKER_MSG_INVALID);
    parts [3] = (broker_part_t) { s_id, 7 };
    assert_int_equal (s_parse (parts, 4, &m), BROKER_MSG_INVALID);
    //  a worker cannot send a client's CANCEL (0x03 is REPLY there)
    parts [1] = (broker_part_t) P ("MBW1");
    parts [3] = (broker_part_t) { s_id, 8 };
    assert_int_equal (s_parse (parts, 4, &m), BROKER_MSG_INVALID);
}

static void
test_parse_worker (void **state)
{
    (void) state;
    broker_part_t ready [] = { P ("\1\2\3\4\5"), P ("MBW1"), P ("\x01"), P ("svc"), { s_credit, 4 } };
    broker_msg_t m;
    assert_int_equal (s_parse (ready, 5, &m), BROKER_MSG_WORKER_READY);
    assert_true (m.is_worker);
    assert_int_equal (m.credit, 4);
    assert_int_equal (m.body, 0);
    uint8_t credit [4];
    bus_put_u32 (credit, 0);
    ready [4] = (broker_part_t) { credit, 4 };
    assert_int_equal (s_parse (ready, 5, &m), BROKER_MSG_INVALID);
    assert_true (m.is_worker);
    bus_put_u32 (credit, BUS_CREDIT_MAX + 1);
    assert_int_equal (s_parse (ready, 5, &m), BROKER_MSG_INVALID);
    bus_put_u32 (credit, BUS_CREDIT_MAX);
    assert_int_equal (s_parse (ready, 5, &m), BROKER_MSG_WORKER_READY);
    assert_int_equal (m.about, 0);

    //  READY may carry what the worker says of itself: 1..BUS_ABOUT_MAX bytes
    static uint8_t about [BUS_ABOUT_MAX + 1];
    broker_part_t with [] = { P ("w"), P ("MBW1"), P ("\x01"), P ("svc"), { s_credit, 4 },
                              { "\x80", 1 }, P ("x") };
    assert_int_equal (s_parse (with, 6, &m), BROKER_MSG_WORKER_READY);
    assert_int_equal (m.about, 5);
    with [5] = (broker_part_t) { about, BUS_ABOUT_MAX };
    assert_int_equal (s_parse (with, 6, &m), BROKER_MSG_WORKER_READY);
    with [5] = (broker_part_t) { about, BUS_ABOUT_MAX + 1 };
    assert_int_equal (s_parse (with, 6, &m), BROKER_MSG_INVALID);
    with [5] = (broker_part_t) { about, 0 };
    assert_int_equal (s_parse (with, 6, &m), BROKER_MSG_INVALID);
    with [5] = (broker_part_t) { "\x80", 1 };
    assert_int_equal (s_parse (with, 7, &m), BROKER_MSG_INVALID);

    broker_part_t reply [] = { P ("w"), P ("MBW1"), P ("\x03"), { s_id, 8 }, P ("\x80") };
    assert_int_equal (s_parse (reply, 5, &m), BROKER_MSG_WORKER_REPLY);
    assert_int_equal (m.job, 77);
    assert_int_equal (m.body, 4);
    reply [4] = (broker_part_t) { "", 0 };
    assert_int_equal (s_parse (reply, 5, &m), BROKER_MSG_INVALID);

    //  NOTICE: a job id and a body of 1..BUS_NOTICE_MAX bytes
    broker_part_t notice [] = { P ("w"), P ("MBW1"), P ("\x07"), { s_id, 8 }, P ("\x80") };
    assert_int_equal (s_parse (notice, 5, &m), BROKER_MSG_WORKER_NOTICE);
    assert_int_equal (m.job, 77);
    assert_int_equal (m.body, 4);
    assert_int_equal (s_parse (notice, 4, &m), BROKER_MSG_INVALID);
    static uint8_t big [BUS_NOTICE_MAX + 1];
    notice [4] = (broker_part_t) { big, BUS_NOTICE_MAX };
    assert_int_equal (s_parse (notice, 5, &m), BROKER_MSG_WORKER_NOTICE);
    notice [4] = (broker_part_t) { big, BUS_NOTICE_MAX + 1 };
    assert_int_equal (s_parse (notice, 5, &m), BROKER_MSG_INVALID);
    notice [4] = (broker_part_t) { "", 0 };
    assert_int_equal (s_parse (notice, 5, &m), BROKER_MSG_INVALID);
    notice [3] = (broker_part_t) P ("short");
    notice [4] = (broker_part_t) P ("\x80");
    assert_int_equal (s_parse (notice, 5, &m), BROKER_MSG_INVALID);
    //  a client cannot send one
    broker_part_t client_notice [] = { P ("c"), P ("MBC1"), P ("\x04"), { s_id, 8 } };
    assert_int_equal (s_parse (client_notice, 4, &m), BROKER_MSG_INVALID);

    broker_part_t beat [] = { P ("w"), P ("MBW1"), P ("\x04"), P ("x") };
    assert_int_equal (s_parse (beat, 3, &m), BROKER_MSG_WORKER_HEARTBEAT);
    assert_int_equal (s_parse (beat, 4, &m), BROKER_MSG_INVALID);
    beat [2] = (broker_part_t) P ("\x05");
    assert_int_equal (s_parse (beat, 3, &m), BROKER_MSG_WORKER_DISCONNECT);
    beat [2] = (broker_part_t) P ("\x02");                    //  REQUEST goes the other way
    assert_int_equal (s_parse (beat, 3, &m), BROKER_MSG_INVALID);
    assert_true (m.is_worker);
}

static void
test_parse_garbage (void **state)
{
    (void) state;
    broker_msg_t m;
    assert_int_equal (s_parse (NULL, 0, &m), BROKER_MSG_INVALID);
    assert_false (m.has_identity);
    broker_part_t parts [BROKER_PARTS_MAX] = {
        P ("id"), P ("MBW1"), P ("\x04"), P (""), P (""), P (""), P (""), P ("")
    };
    //  one or two parts: the peer is known, nothing else
    assert_int_equal (s_parse (parts, 1, &m), BROKER_MSG_INVALID);
    assert_true (m.has_identity);
    assert_false (m.is_worker);
    assert_int_equal (s_parse (parts, 2, &m), BROKER_MSG_INVALID);
    assert_false (m.is_worker);
    //  a message cut at BROKER_PARTS_MAX parts is a wrong count
    assert_int_equal (s_parse (parts, BROKER_PARTS_MAX, &m), BROKER_MSG_INVALID);
    parts [1] = (broker_part_t) P ("MBW2");
    assert_int_equal (s_parse (parts, 3, &m), BROKER_MSG_INVALID);
    assert_false (m.is_worker);
    parts [1] = (broker_part_t) P ("MBW1");
    parts [2] = (broker_part_t) P ("\x04\x04");
    assert_int_equal (s_parse (parts, 3, &m), BROKER_MSG_INVALID);
    assert_true (m.is_worker);
}

//  --- the broker, through raw sockets ------------------------------------------

typedef struct {
    char             dir [64];
    char             endpoint [128];
    broker_config_t  config;
    zactor_t        *broker;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    strcpy (f->dir, "/tmp/mbframesXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/bus", f->dir);
    //  1 s heartbeats: a raw worker that never beats lives 3 s, longer than a test
    f->config = (broker_config_t) { .endpoint = f->endpoint, .heartbeat_ms = 1000 };
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

static zsock_t *
s_dealer (fixture_t *f)
{
    zsock_t *sock = zsock_new_dealer (f->endpoint);
    assert_non_null (sock);
    zsock_set_linger (sock, 0);
    return sock;
}

static void
s_request (zsock_t *client, const char *service, uint64_t id, uint32_t timeout_ms,
           const void *body, size_t size)
{
    uint8_t idb [8], tob [4];
    bus_put_u64 (idb, id);
    bus_put_u32 (tob, timeout_ms);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, BUS_CLIENT_PROTO);
    zmsg_addmem (msg, &(uint8_t) { BUS_C_REQUEST }, 1);
    zmsg_addstr (msg, service);
    zmsg_addmem (msg, idb, 8);
    zmsg_addmem (msg, tob, 4);
    zmsg_addmem (msg, body, size);
    assert_int_equal (zmsg_send (&msg, client), 0);
}

static zmsg_t *
s_recv (zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    zmsg_t *msg = zpoller_wait (poller, timeout_ms) ? zmsg_recv (sock) : NULL;
    zpoller_destroy (&poller);
    return msg;
}

//  The next reply: its id, and its body (caller frees). NULL when none came.
static zframe_t *
s_reply (zsock_t *client, int timeout_ms, uint64_t *id)
{
    zmsg_t *msg = s_recv (client, timeout_ms);
    if (!msg)
        return NULL;
    assert_int_equal (zmsg_size (msg), 4);
    assert_true (bus_frame_is (zmsg_first (msg), BUS_CLIENT_PROTO));
    assert_int_equal (bus_frame_command (zmsg_next (msg)), BUS_C_REPLY);
    assert_true (bus_frame_u64 (zmsg_next (msg), id));
    zframe_t *body = zmsg_next (msg);
    zmsg_remove (msg, body);
    zmsg_destroy (&msg);
    return body;
}

static bus_error_t
s_error_code (zframe_t *body)
{
    msg_t *decoded = msg_decode (zframe_data (body), zframe_size (body), NULL, NULL);
    assert_non_null (decoded);
    bus_error_t code = msg_error_code (decoded);
    msg_destroy (&decoded);
    return code;
}

static void
s_ready (zsock_t *worker, const char *service, uint32_t credit)
{
    uint8_t cb [4];
    bus_put_u32 (cb, credit);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, BUS_WORKER_PROTO);
    zmsg_addmem (msg, &(uint8_t) { BUS_W_READY }, 1);
    zmsg_addstr (msg, service);
    zmsg_addmem (msg, cb, 4);
    assert_int_equal (zmsg_send (&msg, worker), 0);
}

//  The next REQUEST (heartbeats skipped): its job id and body.
static zframe_t *
s_job (zsock_t *worker, int timeout_ms, uint64_t *job)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        zmsg_t *msg = s_recv (worker, left > 0 ? (int) left : 0);
        if (!msg)
            return NULL;
        assert_true (bus_frame_is (zmsg_first (msg), BUS_WORKER_PROTO));
        int command = bus_frame_command (zmsg_next (msg));
        if (command == BUS_W_HEARTBEAT) {
            zmsg_destroy (&msg);
            continue;
        }
        assert_int_equal (command, BUS_W_REQUEST);
        assert_int_equal (zmsg_size (msg), 5);
        assert_true (bus_frame_u64 (zmsg_next (msg), job));
        zmsg_next (msg);                               //  timeout left
        zframe_t *body = zmsg_next (msg);
        zmsg_remove (msg, body);
        zmsg_destroy (&msg);
        return body;
    }
}

static void
s_job_reply (zsock_t *worker, uint64_t job, const void *body, size_t size)
{
    uint8_t jb [8];
    bus_put_u64 (jb, job);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, BUS_WORKER_PROTO);
    zmsg_addmem (msg, &(uint8_t) { BUS_W_REPLY }, 1);
    zmsg_addmem (msg, jb, 8);
    zmsg_addmem (msg, body, size);
    assert_int_equal (zmsg_send (&msg, worker), 0);
}

static uint8_t *
s_pattern (size_t size, uint8_t seed)
{
    uint8_t *data = malloc (size);
    for (size_t i = 0; i < size; i++)
        data [i] = (uint8_t) (i * 31 + seed);
    return data;
}

//  Bodies of every size class (inline, shared receive buffer, own buffer)
//  arrive intact, dispatched at once and queued, and their replies too.
static void
test_bodies_intact (void **state)
{
    fixture_t *f = *state;
    zsock_t *client = s_dealer (f);
    static const size_t sizes [] = { 1, 16, 33, 34, 200, 5000, 70000, 1 << 20 };
    size_t n = sizeof sizes / sizeof sizes [0];

    //  queued: no worker yet, so the broker keeps a copy
    for (size_t i = 0; i < n; i++) {
        uint8_t *body = s_pattern (sizes [i], (uint8_t) i);
        s_request (client, "bodies", 100 + i, 10000, body, sizes [i]);
        free (body);
    }
    zclock_sleep (100);
    zsock_t *worker = s_dealer (f);
    s_ready (worker, "bodies", (uint32_t) n);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t job;
            zframe_t *got = s_job (worker, 2000, &job);
            assert_non_null (got);
            uint8_t *expect = s_pattern (sizes [i], (uint8_t) i);
            assert_int_equal (zframe_size (got), sizes [i]);
            assert_memory_equal (zframe_data (got), expect, sizes [i]);
            zframe_destroy (&got);
            //  the reply carries a different pattern back
            uint8_t *answer = s_pattern (sizes [i], (uint8_t) (i + 100));
            s_job_reply (worker, job, answer, sizes [i]);
            free (answer);
            free (expect);
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t id;
            zframe_t *got = s_reply (client, 2000, &id);
            assert_non_null (got);
            assert_int_equal (id, 100 + i);
            uint8_t *expect = s_pattern (sizes [i], (uint8_t) (i + 100));
            assert_int_equal (zframe_size (got), sizes [i]);
            assert_memory_equal (zframe_data (got), expect, sizes [i]);
            free (expect);
            zframe_destroy (&got);
        }
        //  second round: the worker is there, so each goes out at once
        for (size_t i = 0; round == 0 && i < n; i++) {
            uint8_t *body = s_pattern (sizes [i], (uint8_t) i);
            s_request (client, "bodies", 100 + i, 10000, body, sizes [i]);
            free (body);
        }
    }
    zsock_destroy (&worker);
    zsock_destroy (&client);
}

//  Queued requests with different timeouts get `no_worker`, each once, in
//  deadline order (not arrival order), each not before its deadline.
static void
test_deadlines_in_order (void **state)
{
    fixture_t *f = *state;
    zsock_t *client = s_dealer (f);
    static const uint32_t timeouts [] = { 900, 300, 600, 100, 500, 700, 200 };
    static const uint64_t order [] = { 4, 7, 2, 5, 3, 6, 1 };     //  ids by deadline
    int64_t start = zclock_mono ();
    for (size_t i = 0; i < 7; i++)
        s_request (client, "nobody", i + 1, timeouts [i], "\x80", 1);
    for (size_t i = 0; i < 7; i++) {
        uint64_t id;
        zframe_t *body = s_reply (client, 2000, &id);
        assert_non_null (body);
        int64_t elapsed = zclock_mono () - start;
        assert_int_equal (id, order [i]);
        assert_int_equal (s_error_code (body), BUS_ERR_NO_WORKER);
        assert_true (elapsed >= timeouts [order [i] - 1] - 10);
        zframe_destroy (&body);
    }
    uint64_t id;
    assert_null (s_reply (client, 300, &id));
    zsock_destroy (&client);
}

//  Held jobs get `timeout` at their own deadlines, stay charged to their
//  worker, and their late replies are dropped; a queued job behind them
//  gets `no_worker`; a reply naming another worker's job is dropped.
static void
test_held_and_queued_deadlines (void **state)
{
    fixture_t *f = *state;
    zsock_t *client = s_dealer (f);
    zsock_t *worker = s_dealer (f);
    zsock_t *other = s_dealer (f);
    s_ready (worker, "held", 2);
    s_ready (other, "elsewhere", 1);
    zclock_sleep (100);
    s_request (client, "held", 1, 400, "\x80", 1);
    s_request (client, "held", 2, 200, "\x80", 1);
    s_request (client, "held", 3, 300, "\x80", 1);    //  queued: credit 2
    uint64_t job1, job2, spare;
    zframe_t *b1 = s_job (worker, 1000, &job1);
    zframe_t *b2 = s_job (worker, 1000, &job2);
    assert_non_null (b1);
    assert_non_null (b2);
    zframe_destroy (&b1);
    zframe_destroy (&b2);
    assert_null (s_job (worker, 50, &spare));

    //  not its job: dropped, and `other` stays registered
    s_job_reply (other, job1, "\x81\xa1x\x01", 4);

    bus_error_t expect [] = { 0, BUS_ERR_TIMEOUT, BUS_ERR_TIMEOUT, BUS_ERR_NO_WORKER };   //  by id
    static const uint64_t order [] = { 2, 3, 1 };
    for (size_t i = 0; i < 3; i++) {
        uint64_t id;
        zframe_t *body = s_reply (client, 2000, &id);
        assert_non_null (body);
        assert_int_equal (id, order [i]);
        assert_int_equal (s_error_code (body), expect [id]);
        zframe_destroy (&body);
    }
    //  both jobs still hold the worker's credit: a new request waits
    s_request (client, "held", 4, 5000, "\x80", 1);
    assert_null (s_job (worker, 200, &spare));
    //  late replies are dropped and give the credit back
    s_job_reply (worker, job2, "\x81\xa1x\x02", 4);
    uint64_t job4;
    zframe_t *b4 = s_job (worker, 1000, &job4);
    assert_non_null (b4);
    zframe_destroy (&b4);
    s_job_reply (worker, job1, "\x81\xa1x\x03", 4);
    s_job_reply (worker, job4, "\x81\xa1x\x04", 4);
    uint64_t id;
    zframe_t *body = s_reply (client, 2000, &id);
    assert_non_null (body);
    assert_int_equal (id, 4);
    assert_int_equal (zframe_size (body), 4);
    assert_memory_equal (zframe_data (body), "\x81\xa1x\x04", 4);
    zframe_destroy (&body);
    assert_null (s_reply (client, 200, &id));

    //  `other` was not disconnected by its foreign reply: it is served
    s_request (client, "elsewhere", 5, 2000, "\x80", 1);
    uint64_t job5;
    zframe_t *b5 = s_job (other, 1000, &job5);
    assert_non_null (b5);
    zframe_destroy (&b5);
    zsock_destroy (&other);
    zsock_destroy (&worker);
    zsock_destroy (&client);
}

//  Many held jobs with random timeouts: half are replied to at once in a
//  shuffled order (taken out of the middle of the deadline heap), the rest
//  time out. Each client id is answered exactly once, and no `timeout`
//  comes before its deadline.
static void
test_many_deadlines (void **state)
{
    fixture_t *f = *state;
    enum { N = 300 };
    zsock_t *client = s_dealer (f);
    zsock_t *worker = s_dealer (f);
    s_ready (worker, "mix", 1000);
    zclock_sleep (100);
    srand (7);
    uint32_t timeouts [N];
    int64_t sent [N];
    for (uint32_t i = 0; i < N; i++) {
        //  the ones replied to keep a deadline far enough off even under valgrind
        timeouts [i] = (i % 2 ? 150 : 3000) + (uint32_t) (rand () % 500);
        uint8_t body [4];
        bus_put_u32 (body, i);
        sent [i] = zclock_mono ();
        s_request (client, "mix", i + 1, timeouts [i], body, 4);
    }
    uint64_t jobs [N];
    for (int n = 0; n < N; n++) {
        uint64_t job;
        zframe_t *body = s_job (worker, 2000, &job);
        assert_non_null (body);
        uint32_t i;
        assert_true (bus_frame_u32 (body, &i));
        assert_true (i < N);
        jobs [i] = job;
        zframe_destroy (&body);
    }
    uint32_t order [N / 2];
    for (uint32_t k = 0; k < N / 2; k++)
        order [k] = 2 * k;
    for (uint32_t k = N / 2 - 1; k > 0; k--) {
        uint32_t j = (uint32_t) rand () % (k + 1), t = order [k];
        order [k] = order [j];
        order [j] = t;
    }
    for (uint32_t k = 0; k < N / 2; k++) {
        uint8_t body [4];
        bus_put_u32 (body, order [k] + 1000);
        s_job_reply (worker, jobs [order [k]], body, 4);
    }
    bool seen [N] = { false };
    for (int n = 0; n < N; n++) {
        uint64_t id;
        zframe_t *body = s_reply (client, 2000, &id);
        assert_non_null (body);
        assert_true (id >= 1 && id <= N);
        uint32_t i = (uint32_t) id - 1;
        assert_false (seen [i]);
        seen [i] = true;
        if (i % 2 == 0) {
            uint32_t value;
            assert_true (bus_frame_u32 (body, &value));
            assert_int_equal (value, i + 1000);
        }
        else {
            assert_int_equal (s_error_code (body), BUS_ERR_TIMEOUT);
            assert_true (zclock_mono () - sent [i] >= (int64_t) timeouts [i] - 5);
        }
        zframe_destroy (&body);
    }
    //  late replies are dropped
    for (uint32_t i = 1; i < N; i += 2)
        s_job_reply (worker, jobs [i], "\x80", 1);
    uint64_t id;
    assert_null (s_reply (client, 200, &id));
    zsock_destroy (&worker);
    zsock_destroy (&client);
}

//  A message with more parts than any valid one is dropped; the broker
//  keeps serving that peer.
static void
test_too_many_parts (void **state)
{
    fixture_t *f = *state;
    zsock_t *client = s_dealer (f);
    //  a well-formed request, then 14 parts too many: not answered
    uint8_t idb [8], tob [4];
    bus_put_u64 (idb, 8);
    bus_put_u32 (tob, 50);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, BUS_CLIENT_PROTO);
    zmsg_addmem (msg, &(uint8_t) { BUS_C_REQUEST }, 1);
    zmsg_addstr (msg, "nobody");
    zmsg_addmem (msg, idb, 8);
    zmsg_addmem (msg, tob, 4);
    for (int i = 0; i < 15; i++)
        zmsg_addstr (msg, "\x80");
    zmsg_send (&msg, client);
    s_request (client, "nobody", 9, 50, "\x80", 1);
    uint64_t id;
    zframe_t *body = s_reply (client, 2000, &id);
    assert_non_null (body);
    assert_int_equal (id, 9);
    assert_int_equal (s_error_code (body), BUS_ERR_NO_WORKER);
    zframe_destroy (&body);
    zsock_destroy (&client);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_client_request),
        cmocka_unit_test (test_parse_client_cancel),
        cmocka_unit_test (test_parse_worker),
        cmocka_unit_test (test_parse_garbage),
        cmocka_unit_test_setup_teardown (test_bodies_intact, setup, teardown),
        cmocka_unit_test_setup_teardown (test_deadlines_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown (test_held_and_queued_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown (test_many_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown (test_too_many_parts, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

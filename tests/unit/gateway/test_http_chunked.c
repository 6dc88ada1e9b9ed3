/*  test_http_chunked.c — the chunked request-body decoder.

    Decodes what clients send (extensions, trailers, any split of the
    input, one byte at a time), refuses broken framing, and enforces the
    size bound before the data arrives.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "http_chunked.h"

typedef struct {
    char   data [8192];
    size_t size;
} sink_t;

static void
s_sink (void *arg, const uint8_t *data, size_t size)
{
    sink_t *sink = arg;
    assert_true (sink->size + size <= sizeof sink->data);
    memcpy (sink->data + sink->size, data, size);
    sink->size += size;
}

//  Feed text in pieces of `step` bytes; return the last status.
static http_chunked_status_t
s_feed (const char *text, size_t step, uint64_t max, sink_t *sink, size_t *left)
{
    http_chunked_t decoder;
    http_chunked_init (&decoder, max);
    size_t len = strlen (text), at = 0;
    http_chunked_status_t status = HTTP_CHUNKED_MORE;
    while (at < len && status == HTTP_CHUNKED_MORE) {
        size_t piece = len - at < step ? len - at : step, used;
        status = http_chunked_feed (&decoder, (const uint8_t *) text + at, piece, &used,
                                    s_sink, sink);
        at += used;
    }
    if (left)
        *left = len - at;
    return status;
}

static void
test_decodes_in_any_split (void **state)
{
    (void) state;
    const char *body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n";
    for (size_t step = 1; step <= strlen (body); step++) {
        sink_t sink = { .size = 0 };
        size_t left;
        assert_int_equal (s_feed (body, step, 1024, &sink, &left), HTTP_CHUNKED_DONE);
        assert_int_equal (left, 0);
        assert_int_equal (sink.size, 16);
        assert_memory_equal (sink.data, "hello 0123456789", 16);
    }
}

static void
test_trailers_and_leftovers (void **state)
{
    (void) state;
    sink_t sink = { .size = 0 };
    size_t left;
    assert_int_equal (s_feed ("3\r\nabc\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\nGET / HTTP/1.1",
                              7, 1024, &sink, &left), HTTP_CHUNKED_DONE);
    assert_int_equal (sink.size, 3);
    assert_int_equal (left, strlen ("GET / HTTP/1.1"));
    //  an empty body
    sink.size = 0;
    assert_int_equal (s_feed ("0\r\n\r\n", 100, 1024, &sink, NULL), HTTP_CHUNKED_DONE);
    assert_int_equal (sink.size, 0);
    //  upper-case hex and leading zeros
    sink.size = 0;
    assert_int_equal (s_feed ("00A\r\n0123456789\r\n0\r\n\r\n", 3, 1024, &sink, NULL),
                      HTTP_CHUNKED_DONE);
    assert_int_equal (sink.size, 10);
}

static void
test_incomplete_is_more (void **state)
{
    (void) state;
    sink_t sink = { .size = 0 };
    assert_int_equal (s_feed ("5\r\nhel", 2, 1024, &sink, NULL), HTTP_CHUNKED_MORE);
    assert_int_equal (s_feed ("5\r\nhello\r\n0\r\n", 2, 1024, &sink, NULL), HTTP_CHUNKED_MORE);
}

static void
test_bad_framing (void **state)
{
    (void) state;
    const char *bad [] = {
        "zz\r\n",                   //  not hex
        "\r\n",                     //  no size
        "5\nhello\r\n",             //  bare LF
        "5\r\nhelloX\r\n",          //  data longer than declared
        "3\r\nabc\n",               //  CR missing after data
        "1000000000000000\r\n",     //  16 hex digits
        "-1\r\n",
        "0\r\nX-A: 1\n\r\n",        //  bare LF in a trailer
        "0\r\n\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        sink_t sink = { .size = 0 };
        assert_int_equal (s_feed (bad [i], 1, 1u << 20, &sink, NULL), HTTP_CHUNKED_BAD);
    }
    //  an extension line without end
    char line [2000] = "1;";
    memset (line + 2, 'e', sizeof line - 3);
    line [sizeof line - 1] = 0;
    sink_t sink = { .size = 0 };
    assert_int_equal (s_feed (line, 64, 1024, &sink, NULL), HTTP_CHUNKED_BAD);
    //  endless trailers
    char trailer [HTTP_CHUNKED_TRAILER_MAX + 100] = "0\r\n";
    size_t at = 3;
    for (; at + 7 < sizeof trailer; at += 6)
        memcpy (trailer + at, "X: 1\r\n", 6);
    trailer [at] = 0;
    sink.size = 0;
    assert_int_equal (s_feed (trailer, 512, 1024, &sink, NULL), HTTP_CHUNKED_BAD);
}

static void
test_size_bound (void **state)
{
    (void) state;
    sink_t sink = { .size = 0 };
    //  exactly the bound passes
    assert_int_equal (s_feed ("4\r\nabcd\r\n0\r\n\r\n", 3, 4, &sink, NULL), HTTP_CHUNKED_DONE);
    //  one chunk too large is refused before its data arrives
    sink.size = 0;
    assert_int_equal (s_feed ("5\r\n", 100, 4, &sink, NULL), HTTP_CHUNKED_TOO_LARGE);
    assert_int_equal (sink.size, 0);
    //  several chunks together too large
    sink.size = 0;
    assert_int_equal (s_feed ("3\r\nabc\r\n2\r\nde\r\n", 100, 4, &sink, NULL),
                      HTTP_CHUNKED_TOO_LARGE);
    assert_int_equal (sink.size, 3);
    //  a huge declared size
    sink.size = 0;
    assert_int_equal (s_feed ("fffffffffffffff\r\n", 100, 1u << 20, &sink, NULL),
                      HTTP_CHUNKED_TOO_LARGE);
}

static void
test_final_states_stick (void **state)
{
    (void) state;
    http_chunked_t decoder;
    http_chunked_init (&decoder, 16);
    size_t used;
    assert_int_equal (http_chunked_feed (&decoder, (const uint8_t *) "x", 1, &used, NULL, NULL),
                      HTTP_CHUNKED_BAD);
    assert_int_equal (used, 0);
    assert_int_equal (http_chunked_feed (&decoder, (const uint8_t *) "0\r\n\r\n", 5, &used,
                                         NULL, NULL), HTTP_CHUNKED_BAD);
    assert_int_equal (used, 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_decodes_in_any_split),
        cmocka_unit_test (test_trailers_and_leftovers),
        cmocka_unit_test (test_incomplete_is_more),
        cmocka_unit_test (test_bad_framing),
        cmocka_unit_test (test_size_bound),
        cmocka_unit_test (test_final_states_stick),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

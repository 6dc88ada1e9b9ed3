/*  test_api_peer.c — which peers the admin API and /ws answer
    (api_peer_allowed in actors/gateway/api_router.c): every 127.0.0.0/8
    address, ::1 and IPv4-mapped loopback, and nothing else, unless the
    operator set api_allow_remote. Addresses are as lws_get_peer_simple
    writes them (numeric; empty when it could not tell).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "gateway.h"

static const char *s_loopback [] = {
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1",
    "::ffff:127.9.8.7",
};

static const char *s_remote [] = {
    "192.0.2.2", "10.213.7.1", "0.0.0.0", "1.2.3.4", "128.0.0.1", "12.7.0.0",
    "1127.0.0.1", "::", "::2", "::10", "::1:1", "fe80::1", "2001:db8::1",
    "::ffff:10.0.0.1", "::ffff:192.0.2.2", "::ffff:12.7.0.0", "", "localhost",
};

#define S_COUNT(a) (sizeof (a) / sizeof (a) [0])

static void
test_loopback_only_by_default (void **state)
{
    (void) state;
    gateway_t gateway;
    memset (&gateway, 0, sizeof gateway);
    for (size_t i = 0; i < S_COUNT (s_loopback); i++)
        assert_true (api_peer_allowed (&gateway, s_loopback [i]));
    for (size_t i = 0; i < S_COUNT (s_remote); i++) {
        if (api_peer_allowed (&gateway, s_remote [i]))
            fail_msg ("'%s' was taken for loopback", s_remote [i]);
    }
}

static void
test_allow_remote_answers_everyone (void **state)
{
    (void) state;
    gateway_t gateway;
    memset (&gateway, 0, sizeof gateway);
    gateway.api_allow_remote = true;
    for (size_t i = 0; i < S_COUNT (s_loopback); i++)
        assert_true (api_peer_allowed (&gateway, s_loopback [i]));
    for (size_t i = 0; i < S_COUNT (s_remote); i++)
        assert_true (api_peer_allowed (&gateway, s_remote [i]));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_loopback_only_by_default),
        cmocka_unit_test (test_allow_remote_answers_everyone),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  test_approval_hosts.c — how the approval actor normalises and validates
    the hosts of network-access requests (actors/approval/hosts.c): trim,
    lower-case, one trailing dot, brackets, canonical IP literals, DNS label
    rules, numeric spellings refused, never-reachable addresses and names,
    and the allowlist spelling of host + port.

    Linked against approval_core, as the actor is.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "hosts.h"

typedef struct {
    const char  *input;
    host_check_t verdict;
    const char  *normalised;        //  expected out (OK and NEVER), or NULL
} s_case_t;

static void
s_run (const s_case_t *cases)
{
    for (int i = 0; cases [i].input; i++) {
        char out [HOSTS_MAX + 1] = "";
        const char *why = NULL;
        host_check_t verdict = hosts_normalise (cases [i].input,
                                                strlen (cases [i].input), out, &why);
        if (verdict != cases [i].verdict)
            fail_msg ("'%s': verdict %d, expected %d (%s)", cases [i].input,
                      verdict, cases [i].verdict, why ? why : "-");
        if (verdict == HOST_OK)
            assert_null (why);
        else
            assert_non_null (why);
        if (cases [i].normalised && strcmp (out, cases [i].normalised) != 0)
            fail_msg ("'%s': normalised to '%s', expected '%s'", cases [i].input,
                      out, cases [i].normalised);
    }
}

static void
test_normalising (void **state)
{
    (void) state;
    static const s_case_t cases [] = {
        { "api.example.com",        HOST_OK, "api.example.com" },
        { "  API.Example.COM.  ",   HOST_OK, "api.example.com" },
        { "\tapi.example.com\n",    HOST_OK, "api.example.com" },
        { "example.com.",           HOST_OK, "example.com" },
        { "example",                HOST_OK, "example" },
        { "xn--bcher-kva.example",  HOST_OK, "xn--bcher-kva.example" },
        { "a-b.c-d.io",             HOST_OK, "a-b.c-d.io" },
        { "3com.com",               HOST_OK, "3com.com" },      //  digits fine, not last
        { "192.168.1.10",           HOST_OK, "192.168.1.10" },  //  private: approvable
        { "10.0.0.1",               HOST_OK, "10.0.0.1" },
        { "8.8.8.8",                HOST_OK, "8.8.8.8" },
        { "2001:DB8::1",            HOST_OK, "2001:db8::1" },
        { "[2001:db8:0:0:0:0:0:2]", HOST_OK, "2001:db8::2" },
        { "fd00::1",                HOST_OK, "fd00::1" },       //  ULA: private
        { NULL, 0, NULL }
    };
    s_run (cases);
}

static void
test_invalid (void **state)
{
    (void) state;
    static const s_case_t cases [] = {
        { "",                   HOST_INVALID, NULL },
        { "   ",                HOST_INVALID, NULL },
        { ".",                  HOST_INVALID, NULL },
        { "example.com..",      HOST_INVALID, NULL },     //  only one dot stripped
        { "a..b",               HOST_INVALID, NULL },
        { ".example.com",       HOST_INVALID, NULL },
        { "-bad.example.com",   HOST_INVALID, NULL },
        { "bad-.example.com",   HOST_INVALID, NULL },
        { "under_score.com",    HOST_INVALID, NULL },
        { "exa mple.com",       HOST_INVALID, NULL },
        { "example.com:443",    HOST_INVALID, NULL },     //  port is its own field
        { "http://example.com", HOST_INVALID, NULL },
        { "user@example.com",   HOST_INVALID, NULL },
        { "*.example.com",      HOST_INVALID, NULL },
        { "[example.com]",      HOST_INVALID, NULL },
        { "bücher.de",          HOST_INVALID, NULL },     //  use the xn-- form
        //  numeric spellings of addresses
        { "2130706433",         HOST_INVALID, NULL },
        { "127.1",              HOST_INVALID, NULL },
        { "0x7f.0.0.1",         HOST_INVALID, NULL },
        { "0x7f000001",         HOST_INVALID, NULL },
        { "0177.0.0.1",         HOST_INVALID, NULL },
        { "1.2.3.4.5",          HOST_INVALID, NULL },
        { "256.1.1.1",          HOST_INVALID, NULL },
        { "example.123",        HOST_INVALID, NULL },
        { NULL, 0, NULL }
    };
    s_run (cases);

    //  label and total lengths
    char host [300];
    memset (host, 'a', 63);
    memcpy (host + 63, ".com", 5);
    char out [HOSTS_MAX + 1];
    const char *why;
    assert_int_equal (hosts_normalise (host, strlen (host), out, &why), HOST_OK);
    memset (host, 'a', 64);
    memcpy (host + 64, ".com", 5);
    assert_int_equal (hosts_normalise (host, strlen (host), out, &why), HOST_INVALID);
    //  253 bytes is the most; 254 is refused
    for (int i = 0; i < 254; i++)
        host [i] = (i % 50 == 49) ? '.' : 'a';
    host [253] = 0;
    assert_int_equal (hosts_normalise (host, 253, out, &why), HOST_OK);
    host [253] = 'a';
    host [254] = 0;
    assert_int_equal (hosts_normalise (host, 254, out, &why), HOST_INVALID);
    //  an embedded NUL ends nothing: refused
    assert_int_equal (hosts_normalise ("a.com\0.evil", 11, out, &why), HOST_INVALID);
}

static void
test_never_reachable (void **state)
{
    (void) state;
    static const s_case_t cases [] = {
        { "127.0.0.1",                  HOST_NEVER, "127.0.0.1" },
        { "127.8.9.10",                 HOST_NEVER, NULL },
        { "0.0.0.0",                    HOST_NEVER, NULL },
        { "169.254.169.254",            HOST_NEVER, "169.254.169.254" },
        { "224.0.0.1",                  HOST_NEVER, NULL },
        { "255.255.255.255",            HOST_NEVER, NULL },
        { "240.0.0.1",                  HOST_NEVER, NULL },
        { "::1",                        HOST_NEVER, "::1" },
        { "[::1]",                      HOST_NEVER, "::1" },
        { "::",                         HOST_NEVER, NULL },
        { "fe80::1",                    HOST_NEVER, NULL },
        { "ff02::1",                    HOST_NEVER, NULL },
        { "::ffff:127.0.0.1",           HOST_NEVER, NULL },
        { "::ffff:192.168.1.1",         HOST_NEVER, NULL },     //  spell it as IPv4
        { "::127.0.0.1",                HOST_NEVER, NULL },
        { "64:ff9b::7f00:1",            HOST_NEVER, NULL },
        { "localhost",                  HOST_NEVER, "localhost" },
        { "LOCALHOST.",                 HOST_NEVER, "localhost" },
        { "foo.localhost",              HOST_NEVER, NULL },
        { "metadata.google.internal",   HOST_NEVER, NULL },
        { "instance-data",              HOST_NEVER, NULL },
        { NULL, 0, NULL }
    };
    s_run (cases);
}

static void
test_entries (void **state)
{
    (void) state;
    char buf [HOSTS_ENTRY_MAX];
    hosts_entry ("api.example.com", 0, buf, sizeof buf);
    assert_string_equal (buf, "api.example.com");
    hosts_entry ("api.example.com", 443, buf, sizeof buf);
    assert_string_equal (buf, "api.example.com:443");
    hosts_entry ("2001:db8::1", 0, buf, sizeof buf);
    assert_string_equal (buf, "2001:db8::1");
    hosts_entry ("2001:db8::1", 8443, buf, sizeof buf);
    assert_string_equal (buf, "[2001:db8::1]:8443");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_normalising),
        cmocka_unit_test (test_invalid),
        cmocka_unit_test (test_never_reachable),
        cmocka_unit_test (test_entries),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

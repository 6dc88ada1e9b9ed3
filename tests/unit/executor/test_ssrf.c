/*  test_ssrf.c — the SSRF rules of the sandbox network layer
    (actors/executor/ssrf.c): every blocked range with addresses inside and
    just outside its edges, the IPv6 spellings of internal addresses, host
    normalization, allowlist matching, checked resolution, the exemption of
    the private ranges for an explicitly listed host (and of nothing else),
    and the test hooks (active only in a -DMCPBOX_TEST_HOOKS build; in any
    other build the variables must change nothing, which this file also
    checks).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "ssrf.h"

typedef struct {
    const char *addr;               //  numeric address
    bool        blocked;            //  expected verdict
    const char *why;                //  expected substring of why, or NULL
} s_case_t;

//  Parses a numeric v4 or v6 address into *ss (port 443).
static void
s_sockaddr (const char *text, struct sockaddr_storage *ss)
{
    memset (ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
    if (inet_pton (AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons (443);
        return;
    }
    if (inet_pton (AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons (443);
        return;
    }
    fail_msg ("test address '%s' does not parse", text);
}

//  Checks each case with ssrf_address_blocked_for (.., allow_private, ..);
//  without allow_private, also that ssrf_address_blocked says the same.
static void
s_run_cases_for (const s_case_t *cases, size_t count, bool allow_private)
{
    for (size_t i = 0; i < count; i++) {
        struct sockaddr_storage ss;
        char why [SSRF_WHY_MAX] = "untouched";
        s_sockaddr (cases [i].addr, &ss);
        bool blocked = ssrf_address_blocked_for ((struct sockaddr *) &ss, allow_private,
                                                 why, sizeof why);
        if (!allow_private) {
            char plain [SSRF_WHY_MAX] = "untouched";
            if (ssrf_address_blocked ((struct sockaddr *) &ss, plain, sizeof plain) != blocked
            ||  strcmp (plain, why) != 0)
                fail_msg ("%s: ssrf_address_blocked disagrees (%s / %s)",
                          cases [i].addr, plain, why);
        }
        if (blocked != cases [i].blocked)
            fail_msg ("%s (allow_private %d): expected %s, got %s (%s)", cases [i].addr,
                      allow_private, cases [i].blocked? "blocked": "allowed",
                      blocked? "blocked": "allowed", why);
        if (!blocked && *why)
            fail_msg ("%s: allowed with a reason '%s'", cases [i].addr, why);
        if (blocked && !*why)
            fail_msg ("%s: blocked without a reason", cases [i].addr);
        if (cases [i].why && !strstr (why, cases [i].why))
            fail_msg ("%s: why '%s' does not name '%s'", cases [i].addr, why, cases [i].why);
    }
}

static void
s_run_cases (const s_case_t *cases, size_t count)
{
    s_run_cases_for (cases, count, false);
}

static void
s_clear_hooks (void)
{
    unsetenv ("MCPBOX_TEST_PUBLIC_NET");
    unsetenv ("MCPBOX_TEST_PRIVATE_NET");
    unsetenv ("MCPBOX_TEST_RESOLVE");
}

//  ---------------------------------------------------------------------
//  Address ranges

static void
test_ipv4_ranges (void **state)
{
    (void) state;
    s_clear_hooks ();
    static const s_case_t cases [] = {
        //  0.0.0.0/8
        { "0.0.0.0",         true,  "this-network" },
        { "0.255.255.255",   true,  NULL },
        { "1.0.0.0",         false, NULL },
        //  10/8
        { "9.255.255.255",   false, NULL },
        { "10.0.0.0",        true,  "private" },
        { "10.0.0.1",        true,  "private" },
        { "10.255.255.255",  true,  "private" },
        { "11.0.0.0",        false, NULL },
        //  100.64/10
        { "100.63.255.255",  false, NULL },
        { "100.64.0.0",      true,  "CGNAT" },
        { "100.64.0.1",      true,  "CGNAT" },
        { "100.127.255.255", true,  "CGNAT" },
        { "100.128.0.0",     false, NULL },
        //  127/8
        { "126.255.255.255", false, NULL },
        { "127.0.0.0",       true,  "loopback" },
        { "127.0.0.1",       true,  "loopback" },
        { "127.77.0.1",      true,  "loopback" },
        { "127.255.255.255", true,  "loopback" },
        { "128.0.0.0",       false, NULL },
        //  169.254/16
        { "169.253.255.255", false, NULL },
        { "169.254.0.0",     true,  "link-local/metadata" },
        { "169.254.169.254", true,  "link-local/metadata" },
        { "169.254.255.255", true,  "link-local/metadata" },
        { "169.255.0.0",     false, NULL },
        //  172.16/12
        { "172.15.255.255",  false, NULL },
        { "172.16.0.0",      true,  "private" },
        { "172.31.255.255",  true,  "private" },
        { "172.32.0.0",      false, NULL },
        //  192.0.0/24, 192.0.2/24
        { "191.255.255.255", false, NULL },
        { "192.0.0.0",       true,  NULL },
        { "192.0.0.255",     true,  NULL },
        { "192.0.1.0",       false, NULL },
        { "192.0.1.255",     false, NULL },
        { "192.0.2.0",       true,  "documentation" },
        { "192.0.2.255",     true,  "documentation" },
        { "192.0.3.0",       false, NULL },
        //  192.88.99/24
        { "192.88.98.255",   false, NULL },
        { "192.88.99.0",     true,  "6to4" },
        { "192.88.99.255",   true,  "6to4" },
        { "192.88.100.0",    false, NULL },
        //  192.168/16
        { "192.167.255.255", false, NULL },
        { "192.168.0.0",     true,  "private" },
        { "192.168.1.1",     true,  "private" },
        { "192.168.255.255", true,  "private" },
        { "192.169.0.0",     false, NULL },
        //  198.18/15
        { "198.17.255.255",  false, NULL },
        { "198.18.0.0",      true,  "benchmarking" },
        { "198.19.255.255",  true,  "benchmarking" },
        { "198.20.0.0",      false, NULL },
        //  198.51.100/24
        { "198.51.99.255",   false, NULL },
        { "198.51.100.0",    true,  "documentation" },
        { "198.51.100.255",  true,  "documentation" },
        { "198.51.101.0",    false, NULL },
        //  203.0.113/24
        { "203.0.112.255",   false, NULL },
        { "203.0.113.0",     true,  "documentation" },
        { "203.0.113.255",   true,  "documentation" },
        { "203.0.114.0",     false, NULL },
        //  224/4, 240/4, broadcast
        { "223.255.255.255", false, NULL },
        { "224.0.0.0",       true,  "multicast" },
        { "239.255.255.255", true,  "multicast" },
        { "240.0.0.0",       true,  "reserved" },
        { "254.255.255.255", true,  "reserved" },
        { "255.255.255.254", true,  "reserved" },
        { "255.255.255.255", true,  "broadcast" },
        //  public
        { "8.8.8.8",         false, NULL },
        { "1.1.1.1",         false, NULL },
        { "93.184.216.34",   false, NULL },
    };
    s_run_cases (cases, sizeof cases / sizeof cases [0]);
}

static void
test_ipv6_ranges (void **state)
{
    (void) state;
    s_clear_hooks ();
    static const s_case_t cases [] = {
        { "::",                          true,  "unspecified" },
        { "::1",                         true,  "loopback" },
        { "::2",                         true,  "IPv4-compatible" },
        { "::127.0.0.1",                 true,  "IPv4-compatible" },
        { "::8.8.8.8",                   true,  "IPv4-compatible" },
        //  IPv4-mapped: blocked whole, whatever is embedded
        { "::ffff:127.0.0.1",            true,  "IPv4-mapped" },
        { "::ffff:10.0.0.1",             true,  "IPv4-mapped" },
        { "::ffff:169.254.169.254",      true,  "IPv4-mapped" },
        { "::ffff:8.8.8.8",              true,  "IPv4-mapped" },
        { "::ffff:ffff",                 true,  "IPv4-compatible" },
        { "::fffe:ffff:ffff",            true,  "reserved" },
        { "::1:0:0:0",                   true,  "reserved" },
        //  NAT64
        { "64:ff9b::7f00:1",             true,  "NAT64" },
        { "64:ff9b::808:808",            true,  "NAT64" },
        { "64:ff9b::ffff:ffff",          true,  "NAT64" },
        { "64:ff9b:1::1",                true,  "NAT64" },
        { "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true, "NAT64" },
        { "64:ff9b:2::1",                true,  "reserved" },
        //  discard-only
        { "100::",                       true,  "discard" },
        { "100::ffff:ffff:ffff:ffff",    true,  "discard" },
        { "100:0:0:1::",                 true,  "reserved" },
        //  2001::/23 (Teredo is 2001::/32)
        { "2001::1",                     true,  "Teredo" },
        { "2001:0:4136:e378:8000:63bf:3fff:fdd2", true, "Teredo" },
        { "2001:1::1",                   true,  "IETF" },
        { "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", true, "IETF" },
        { "2001:200::1",                 false, NULL },
        //  2001:db8::/32
        { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false, NULL },
        { "2001:db8::",                  true,  "documentation" },
        { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true, "documentation" },
        { "2001:db9::",                  false, NULL },
        //  6to4
        { "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, NULL },
        { "2002::",                      true,  "6to4" },
        { "2002:7f00:1::",               true,  "6to4" },
        { "2002:a00:1::1",               true,  "6to4" },
        { "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "6to4" },
        { "2003::",                      false, NULL },
        //  3fff::/20 documentation
        { "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, NULL },
        { "3fff::1",                     true,  "documentation" },
        { "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true, "documentation" },
        { "3fff:1000::",                 false, NULL },
        //  outside 2000::/3
        { "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "reserved" },
        { "4000::1",                     true,  "reserved" },
        //  ULA (fd00:ec2::254 is the EC2 metadata address)
        { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "reserved" },
        { "fc00::",                      true,  "unique-local" },
        { "fd00:ec2::253",               true,  "unique-local" },
        { "fd00:ec2::254",               true,  "metadata" },
        { "fd00:ec2::255",               true,  "unique-local" },
        { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "unique-local" },
        //  link-local, site-local, multicast
        { "fe80::",                      true,  "link-local" },
        { "fe80::1",                     true,  "link-local" },
        { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "link-local" },
        { "fec0::1",                     true,  "site-local" },
        { "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "site-local" },
        { "ff00::",                      true,  "multicast" },
        { "ff02::1",                     true,  "multicast" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "multicast" },
        //  public
        { "2606:4700::1111",             false, NULL },
        { "2606:4700:4700::1111",        false, NULL },
        { "2a00:1450:4001:82a::200e",    false, NULL },
        { "2000::1",                     false, NULL },
        { "3ffe::1",                     false, NULL },
    };
    s_run_cases (cases, sizeof cases / sizeof cases [0]);
}

static void
test_not_ip (void **state)
{
    (void) state;
    char why [SSRF_WHY_MAX];
    assert_true (ssrf_address_blocked (NULL, why, sizeof why));
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    assert_true (ssrf_address_blocked ((struct sockaddr *) &un, why, sizeof why));
    assert_non_null (strstr (why, "not an IP"));
    //  why may be NULL or tiny
    struct sockaddr_storage ss;
    s_sockaddr ("127.0.0.1", &ss);
    assert_true (ssrf_address_blocked ((struct sockaddr *) &ss, NULL, 0));
    char tiny [4];
    assert_true (ssrf_address_blocked ((struct sockaddr *) &ss, tiny, sizeof tiny));
    assert_string_equal (tiny, "loo");
    s_sockaddr ("8.8.8.8", &ss);
    assert_false (ssrf_address_blocked ((struct sockaddr *) &ss, why, sizeof why));
    assert_string_equal (why, "");
}

//  ---------------------------------------------------------------------
//  Host names and the allowlist

static void
s_expect_norm (const char *in, const char *want)
{
    char out [SSRF_HOST_MAX];
    ssrf_normalize_host (in, out, sizeof out);
    if (strcmp (out, want) != 0)
        fail_msg ("normalize '%s': got '%s', want '%s'", in ? in: "(null)", out, want);
}

static void
test_normalize (void **state)
{
    (void) state;
    s_expect_norm ("example.com", "example.com");
    s_expect_norm ("  Example.COM.\t\n", "example.com");
    s_expect_norm ("example.com..", "example.com.");
    s_expect_norm ("[::1]", "::1");
    s_expect_norm (" [2001:DB8::1] ", "2001:db8::1");
    s_expect_norm ("FE80::1", "fe80::1");
    s_expect_norm ("", "");
    s_expect_norm ("   ", "");
    s_expect_norm (".", "");
    s_expect_norm (NULL, "");
    s_expect_norm ("[", "[");
    //  does not fit: empty, never truncated
    char small [8];
    ssrf_normalize_host ("example.com", small, sizeof small);
    assert_string_equal (small, "");
    ssrf_normalize_host ("abcdefg", small, sizeof small);
    assert_string_equal (small, "abcdefg");
    ssrf_normalize_host ("abcdefgh", small, sizeof small);
    assert_string_equal (small, "");
    char big [5000];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    char out [SSRF_HOST_MAX];
    ssrf_normalize_host (big, out, sizeof out);
    assert_string_equal (out, "");
    ssrf_normalize_host ("x", out, 0);          //  writes nothing, no crash
}

static bool
s_allowed (const char *entry, const char *host, int port)
{
    const char *hosts [] = { entry };
    net_rules_t rules = { .hosts = hosts, .count = 1, .policy = NET_POLICY_ALLOWLIST };
    return ssrf_host_allowed (&rules, host, port);
}

static void
test_allowlist (void **state)
{
    (void) state;
    //  exact name, any port
    assert_true  (s_allowed ("example.com", "example.com", 443));
    assert_true  (s_allowed ("example.com", "example.com", 8080));
    assert_true  (s_allowed ("example.com", "EXAMPLE.com.", 80));
    assert_true  (s_allowed (" Example.com. ", "example.com", 80));
    //  no suffix, prefix or wildcard matching
    assert_false (s_allowed ("example.com", "evil-example.com", 443));
    assert_false (s_allowed ("example.com", "evilexample.com", 443));
    assert_false (s_allowed ("example.com", "sub.example.com", 443));
    assert_false (s_allowed ("example.com", "example.com.evil.net", 443));
    assert_false (s_allowed ("example.com", "xample.com", 443));
    assert_false (s_allowed ("example.com", "example.co", 443));
    assert_false (s_allowed ("*.example.com", "api.example.com", 443));
    assert_false (s_allowed (".example.com", "api.example.com", 443));
    //  port rules
    assert_true  (s_allowed ("api.example.com:8443", "api.example.com", 8443));
    assert_false (s_allowed ("api.example.com:8443", "api.example.com", 443));
    assert_false (s_allowed ("api.example.com:443", "api.example.com", 80));
    assert_false (s_allowed ("example.com", "example.com", 0));
    assert_false (s_allowed ("example.com", "example.com", 65536));
    assert_false (s_allowed ("example.com", "example.com", -1));
    //  IPv6 literals: bracketed with or without port, or bare
    assert_true  (s_allowed ("[::1]:443", "::1", 443));
    assert_true  (s_allowed ("[::1]:443", "[::1]", 443));
    assert_false (s_allowed ("[::1]:443", "::1", 80));
    assert_true  (s_allowed ("[2001:db8::1]", "2001:db8::1", 80));
    assert_true  (s_allowed ("2001:db8::1", "[2001:DB8:0:0::1]", 8443));
    assert_false (s_allowed ("2001:db8::1", "2001:db8::2", 80));
    //  IPv4 literal
    assert_true  (s_allowed ("192.168.1.10:8080", "192.168.1.10", 8080));
    assert_false (s_allowed ("192.168.1.10:8080", "192.168.1.100", 8080));
    //  malformed entries match nothing
    assert_false (s_allowed ("example.com:0", "example.com", 80));
    assert_false (s_allowed ("example.com:65536", "example.com", 65535));
    assert_false (s_allowed ("example.com:abc", "example.com", 80));
    assert_false (s_allowed ("example.com:", "example.com", 80));
    assert_false (s_allowed ("example.com:80x", "example.com", 80));
    assert_false (s_allowed ("[::1", "::1", 80));
    assert_false (s_allowed ("[::1]x", "::1", 80));
    assert_false (s_allowed ("[::1]:", "::1", 80));
    assert_false (s_allowed ("", "", 80));
    assert_false (s_allowed (":80", "", 80));
    assert_false (s_allowed (NULL, "example.com", 80));
    //  empty host never matches
    assert_false (s_allowed ("example.com", "", 80));
    assert_false (s_allowed ("example.com", NULL, 80));

    //  several entries
    const char *hosts [] = { "a.test:81", "b.test", "[::1]:82" };
    net_rules_t rules = { .hosts = hosts, .count = 3, .policy = NET_POLICY_ALLOWLIST };
    assert_true  (ssrf_host_allowed (&rules, "a.test", 81));
    assert_false (ssrf_host_allowed (&rules, "a.test", 82));
    assert_true  (ssrf_host_allowed (&rules, "b.test", 1));
    assert_true  (ssrf_host_allowed (&rules, "::1", 82));
    assert_false (ssrf_host_allowed (&rules, "c.test", 81));
    rules.count = 0;
    assert_false (ssrf_host_allowed (&rules, "b.test", 80));

    //  allow_all_public: any host (addresses are checked elsewhere)
    net_rules_t open = { .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    assert_true  (ssrf_host_allowed (&open, "anything.example", 443));
    assert_false (ssrf_host_allowed (&open, "anything.example", 0));
    assert_false (ssrf_host_allowed (NULL, "example.com", 80));
    net_rules_t bogus = { .policy = (net_policy_t) 7 };
    assert_false (ssrf_host_allowed (&bogus, "example.com", 80));
}

//  ---------------------------------------------------------------------
//  Resolution

static void
s_expect_refused_for (const char *host, bool allow_private, const char *why_part)
{
    struct sockaddr_storage out;
    char why [SSRF_WHY_MAX] = "";
    int rc = ssrf_resolve (host, 80, allow_private, &out, why, sizeof why);
    if (rc != -1)
        fail_msg ("resolve '%s' (allow_private %d) was allowed", host, allow_private);
    if (!*why)
        fail_msg ("resolve '%s' (allow_private %d): refused without a reason",
                  host, allow_private);
    if (why_part && !strstr (why, why_part))
        fail_msg ("resolve '%s' (allow_private %d): why '%s' does not name '%s'",
                  host, allow_private, why, why_part);
}

static void
s_expect_refused (const char *host, const char *why_part)
{
    s_expect_refused_for (host, false, why_part);
}

//  Resolves host with allow_private and expects it allowed, pinned to want.
static void
s_expect_resolves (const char *host, bool allow_private, const char *want)
{
    struct sockaddr_storage out;
    char why [SSRF_WHY_MAX] = "", text [INET6_ADDRSTRLEN];
    if (ssrf_resolve (host, 8080, allow_private, &out, why, sizeof why) != 0)
        fail_msg ("resolve '%s' (allow_private %d) refused: %s", host, allow_private, why);
    ssrf_address_text ((struct sockaddr *) &out, text, sizeof text);
    if (strcmp (text, want) != 0)
        fail_msg ("resolve '%s': pinned %s, want %s", host, text, want);
    in_port_t port = out.ss_family == AF_INET
                   ? ((struct sockaddr_in *) &out)->sin_port
                   : ((struct sockaddr_in6 *) &out)->sin6_port;
    assert_int_equal (ntohs (port), 8080);
}

static void
test_resolve_literals (void **state)
{
    (void) state;
    s_clear_hooks ();
    //  every numeric spelling of loopback
    s_expect_refused ("127.0.0.1",        "loopback");
    s_expect_refused ("127.1",            "loopback");
    s_expect_refused ("0x7f000001",       "loopback");
    s_expect_refused ("0x7f.1",           "loopback");
    s_expect_refused ("2130706433",       "loopback");
    s_expect_refused ("0177.0.0.1",       "loopback");
    s_expect_refused ("127.0.0.1.",       "loopback");
    s_expect_refused ("[::1]",            "loopback");
    s_expect_refused ("::1",              "loopback");
    s_expect_refused ("[::ffff:127.0.0.1]", "IPv4-mapped");
    s_expect_refused ("[0:0:0:0:0:ffff:7f00:1]", "IPv4-mapped");
    s_expect_refused ("0.0.0.0",          "this-network");
    s_expect_refused ("0",                "this-network");
    s_expect_refused ("169.254.169.254",  "metadata");
    s_expect_refused ("10.0.0.1",         "private");
    s_expect_refused ("100.64.0.1",       "CGNAT");
    s_expect_refused ("[fd00:ec2::254]",  "metadata");
    s_expect_refused ("[fd12:3456::1]",   "unique-local");
    s_expect_refused ("[fe80::1]",        "link-local");
    //  names that resolve to loopback (from /etc/hosts, no network needed)
    s_expect_refused ("localhost",        "loopback");
    s_expect_refused ("LOCALHOST.",       "loopback");
    //  malformed
    s_expect_refused ("",                 NULL);
    s_expect_refused ("bad host",         "not a valid host");
    s_expect_refused ("a/b",              "not a valid host");
    s_expect_refused ("fe80::1%eth0",     "not a valid host");
    s_expect_refused ("m\xc3\xbcnchen.de", "xn--");

    struct sockaddr_storage out;
    char why [SSRF_WHY_MAX];
    assert_int_equal (ssrf_resolve ("8.8.8.8", 0, false, &out, why, sizeof why), -1);
    assert_int_equal (ssrf_resolve ("8.8.8.8", 65536, false, &out, why, sizeof why), -1);
    assert_int_equal (ssrf_resolve (NULL, 80, false, &out, why, sizeof why), -1);
    assert_int_equal (ssrf_resolve ("8.8.8.8", 80, false, NULL, why, sizeof why), -1);

    //  public literals resolve, port set
    memset (&out, 0xee, sizeof out);
    assert_int_equal (ssrf_resolve ("8.8.8.8", 443, false, &out, why, sizeof why), 0);
    assert_int_equal (out.ss_family, AF_INET);
    struct sockaddr_in *in4 = (struct sockaddr_in *) &out;
    assert_int_equal (ntohs (in4->sin_port), 443);
    assert_int_equal (ntohl (in4->sin_addr.s_addr), 0x08080808);
    assert_int_equal (ssrf_resolve ("[2606:4700::1111]", 8443, false, &out, NULL, 0), 0);
    assert_int_equal (out.ss_family, AF_INET6);
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &out;
    assert_int_equal (ntohs (in6->sin6_port), 8443);
    char text [INET6_ADDRSTRLEN];
    ssrf_address_text ((struct sockaddr *) &out, text, sizeof text);
    assert_string_equal (text, "2606:4700::1111");
}

//  ---------------------------------------------------------------------
//  Private ranges: open to an explicitly listed host, nothing else is

#define NOT_LISTED "not in this server's allowed hosts"

//  Addresses in the private ranges, at and near their edges.
static const char *s_private_addrs [] = {
    "10.0.0.0", "10.0.0.1", "10.255.255.1", "10.255.255.255",
    "172.16.0.0", "172.20.1.1", "172.31.255.255",
    "192.168.0.0", "192.168.1.1", "192.168.255.255",
    "100.64.0.0", "100.100.1.1", "100.127.255.255",
    "fc00::", "fd12:3456::10", "fd00:ec2::253", "fd00:ec2::255",
    "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};

//  Internal addresses that stay blocked even for a listed host.
static const s_case_t s_never [] = {
    { "0.0.0.0",                 true, "this-network" },
    { "0.1.2.3",                 true, "this-network" },
    { "127.0.0.1",               true, "loopback" },
    { "127.255.255.255",         true, "loopback" },
    { "169.254.0.1",             true, "link-local/metadata" },
    { "169.254.169.254",         true, "link-local/metadata" },
    { "192.0.0.1",               true, "IETF" },
    { "192.0.0.170",             true, "IETF" },
    { "192.0.2.1",               true, "documentation" },
    { "192.88.99.1",             true, "6to4" },
    { "198.18.0.1",              true, "benchmarking" },
    { "198.51.100.1",            true, "documentation" },
    { "203.0.113.1",             true, "documentation" },
    { "224.0.0.1",               true, "multicast" },
    { "240.0.0.1",               true, "reserved" },
    { "255.255.255.255",         true, "broadcast" },
    { "::",                      true, "unspecified" },
    { "::1",                     true, "loopback" },
    { "::ffff:192.168.1.1",      true, "IPv4-mapped" },
    { "::ffff:10.0.0.1",         true, "IPv4-mapped" },
    { "::ffff:100.64.0.1",       true, "IPv4-mapped" },
    { "::192.168.1.1",           true, "IPv4-compatible" },
    { "64:ff9b::c0a8:101",       true, "NAT64" },
    { "64:ff9b:1::c0a8:101",     true, "NAT64" },
    { "2002:c0a8:101::1",        true, "6to4" },
    { "2001::c0a8:101",          true, "Teredo" },
    { "2001:db8::1",             true, "documentation" },
    { "100::1",                  true, "discard" },
    { "fd00:ec2::254",           true, "metadata" },
    { "fe80::1",                 true, "link-local" },
    { "fe80::a9fe:a9fe",         true, "link-local" },
    { "febf::1",                 true, "link-local" },
    { "fec0::1",                 true, "site-local" },
    { "ff02::1",                 true, "multicast" },
    { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "reserved" },
    { "4000::1",                 true, "reserved" },
};

//  Public addresses just outside the private ranges: allowed either way.
static const s_case_t s_public_edges [] = {
    { "9.255.255.255",   false, NULL },
    { "11.0.0.0",        false, NULL },
    { "172.15.255.255",  false, NULL },
    { "172.32.0.0",      false, NULL },
    { "192.167.255.255", false, NULL },
    { "192.169.0.0",     false, NULL },
    { "100.63.255.255",  false, NULL },
    { "100.128.0.0",     false, NULL },
    { "8.8.8.8",         false, NULL },
    { "2606:4700::1111", false, NULL },
};

static void
test_private_ranges_allow_private (void **state)
{
    (void) state;
    s_clear_hooks ();
    size_t nprivate = sizeof s_private_addrs / sizeof s_private_addrs [0];
    for (size_t i = 0; i < nprivate; i++) {
        struct sockaddr_storage ss;
        char why [SSRF_WHY_MAX] = "untouched";
        s_sockaddr (s_private_addrs [i], &ss);
        //  not listed: blocked, and the reason says what to ask for
        if (!ssrf_address_blocked_for ((struct sockaddr *) &ss, false, why, sizeof why))
            fail_msg ("%s: private address allowed without allow_private", s_private_addrs [i]);
        if (!strstr (why, NOT_LISTED))
            fail_msg ("%s: why '%s' does not say it is not listed", s_private_addrs [i], why);
        if (!strstr (why, "private") && !strstr (why, "CGNAT") && !strstr (why, "unique-local"))
            fail_msg ("%s: why '%s' does not name the range", s_private_addrs [i], why);
        assert_true (ssrf_address_blocked ((struct sockaddr *) &ss, NULL, 0));
        //  listed: allowed
        if (ssrf_address_blocked_for ((struct sockaddr *) &ss, true, why, sizeof why))
            fail_msg ("%s: private address blocked with allow_private (%s)",
                      s_private_addrs [i], why);
        assert_string_equal (why, "");
    }
    //  the rest: the same verdict whatever allow_private says
    s_run_cases_for (s_never, sizeof s_never / sizeof s_never [0], false);
    s_run_cases_for (s_never, sizeof s_never / sizeof s_never [0], true);
    s_run_cases_for (s_public_edges, sizeof s_public_edges / sizeof s_public_edges [0], false);
    s_run_cases_for (s_public_edges, sizeof s_public_edges / sizeof s_public_edges [0], true);
    //  a never-allowed range does not claim a listing would help
    struct sockaddr_storage ss;
    char why [SSRF_WHY_MAX];
    s_sockaddr ("169.254.169.254", &ss);
    assert_true (ssrf_address_blocked_for ((struct sockaddr *) &ss, false, why, sizeof why));
    assert_null (strstr (why, NOT_LISTED));
    //  not an IP address stays blocked
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    assert_true (ssrf_address_blocked_for ((struct sockaddr *) &un, true, why, sizeof why));
    assert_true (ssrf_address_blocked_for (NULL, true, why, sizeof why));
}

static void
test_host_listed (void **state)
{
    (void) state;
    const char *hosts [] = { "nas.local", "192.168.1.10:8080", "[fd12::10]", "100.100.1.1",
                             "bad:entry:", "printer.lan:0" };
    net_rules_t list = { .hosts = hosts, .count = 6, .policy = NET_POLICY_ALLOWLIST };
    assert_true  (ssrf_host_listed (&list, "nas.local", 5000));
    assert_true  (ssrf_host_listed (&list, "NAS.local.", 80));
    assert_false (ssrf_host_listed (&list, "nas.local.evil.test", 80));
    assert_false (ssrf_host_listed (&list, "local", 80));
    assert_true  (ssrf_host_listed (&list, "192.168.1.10", 8080));
    assert_false (ssrf_host_listed (&list, "192.168.1.10", 80));
    assert_false (ssrf_host_listed (&list, "192.168.1.1", 8080));
    assert_true  (ssrf_host_listed (&list, "fd12::10", 443));
    assert_true  (ssrf_host_listed (&list, "[FD12:0:0::10]", 443));
    assert_true  (ssrf_host_listed (&list, "100.100.1.1", 443));
    assert_false (ssrf_host_listed (&list, "printer.lan", 80));
    assert_false (ssrf_host_listed (&list, "nas.local", 0));
    assert_false (ssrf_host_listed (&list, "nas.local", 65536));
    assert_false (ssrf_host_listed (&list, "", 80));
    assert_false (ssrf_host_listed (&list, NULL, 80));
    assert_false (ssrf_host_listed (NULL, "nas.local", 80));
    //  allowed and listed agree under the allowlist policy
    assert_true  (ssrf_host_allowed (&list, "nas.local", 5000));
    assert_false (ssrf_host_allowed (&list, "192.168.1.10", 80));

    //  allow_all_public allows any host but lists only its entries
    net_rules_t open = { .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    assert_true  (ssrf_host_allowed (&open, "nas.local", 80));
    assert_false (ssrf_host_listed (&open, "nas.local", 80));
    open.hosts = hosts;
    open.count = 6;
    assert_true  (ssrf_host_listed (&open, "nas.local", 80));
    assert_true  (ssrf_host_listed (&open, "192.168.1.10", 8080));
    assert_false (ssrf_host_listed (&open, "192.168.1.10", 80));
    assert_true  (ssrf_host_allowed (&open, "192.168.1.10", 80));
    assert_false (ssrf_host_listed (&open, "other.test", 80));
    //  broken rules list nothing
    net_rules_t bogus = { .hosts = hosts, .count = 6, .policy = (net_policy_t) 7 };
    assert_false (ssrf_host_listed (&bogus, "nas.local", 80));
    net_rules_t holes = { .hosts = NULL, .count = 2, .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    assert_false (ssrf_host_listed (&holes, "nas.local", 80));
    assert_true  (ssrf_host_allowed (&holes, "nas.local", 80));
}

//  The decision http_fetch makes for one hop: allowed host, then every
//  address checked with the private ranges open iff the host is listed.
//  0 with the pinned address in text; -1 with why.
static int
s_decide (const net_rules_t *rules, const char *host, int port,
          char *text, char *why, size_t whylen)
{
    text [0] = '\0';
    if (!ssrf_host_allowed (rules, host, port)) {
        snprintf (why, whylen, "not allowed");
        return -1;
    }
    struct sockaddr_storage out;
    if (ssrf_resolve (host, port, ssrf_host_listed (rules, host, port), &out, why, whylen))
        return -1;
    ssrf_address_text ((struct sockaddr *) &out, text, INET6_ADDRSTRLEN);
    return 0;
}

static void
s_expect_decision (const net_rules_t *rules, const char *host, int port,
                   const char *want_addr, const char *why_part)
{
    char text [INET6_ADDRSTRLEN], why [SSRF_WHY_MAX] = "";
    int rc = s_decide (rules, host, port, text, why, sizeof why);
    if (want_addr) {
        if (rc != 0)
            fail_msg ("'%s':%d refused: %s", host, port, why);
        if (strcmp (text, want_addr) != 0)
            fail_msg ("'%s':%d pinned %s, want %s", host, port, text, want_addr);
        return;
    }
    if (rc == 0)
        fail_msg ("'%s':%d allowed (%s)", host, port, text);
    if (why_part && !strstr (why, why_part))
        fail_msg ("'%s':%d: why '%s' does not name '%s'", host, port, why, why_part);
}

static void
test_listed_private_literals (void **state)
{
    (void) state;
    s_clear_hooks ();
    //  an allowlist naming internal addresses and names outright
    const char *hosts [] = {
        "192.168.1.10", "10.255.255.1:8443", "100.100.1.1", "[fd12:3456::10]", "172.16.5.5",
        "127.0.0.1", "169.254.169.254", "localhost", "::1", "[fd00:ec2::254]", "fe80::1",
        "0.0.0.0", "224.0.0.1", "::ffff:192.168.1.10", "fec0::1", "64:ff9b::c0a8:10a",
        "198.18.0.1",
    };
    net_rules_t list = { .hosts = hosts, .count = sizeof hosts / sizeof hosts [0],
                         .policy = NET_POLICY_ALLOWLIST };
    s_expect_decision (&list, "192.168.1.10", 80, "192.168.1.10", NULL);
    s_expect_decision (&list, "10.255.255.1", 8443, "10.255.255.1", NULL);
    s_expect_decision (&list, "100.100.1.1", 443, "100.100.1.1", NULL);
    s_expect_decision (&list, "[fd12:3456::10]", 443, "fd12:3456::10", NULL);
    s_expect_decision (&list, "fd12:3456:0::10", 443, "fd12:3456::10", NULL);
    s_expect_decision (&list, "172.16.5.5", 80, "172.16.5.5", NULL);
    //  listed, but never reachable
    s_expect_decision (&list, "127.0.0.1", 80, NULL, "loopback");
    s_expect_decision (&list, "169.254.169.254", 80, NULL, "link-local/metadata");
    s_expect_decision (&list, "localhost", 80, NULL, "loopback");
    s_expect_decision (&list, "::1", 80, NULL, "loopback");
    s_expect_decision (&list, "fd00:ec2::254", 80, NULL, "metadata");
    s_expect_decision (&list, "fe80::1", 80, NULL, "link-local");
    s_expect_decision (&list, "0.0.0.0", 80, NULL, "this-network");
    s_expect_decision (&list, "224.0.0.1", 80, NULL, "multicast");
    s_expect_decision (&list, "::ffff:192.168.1.10", 80, NULL, "IPv4-mapped");
    s_expect_decision (&list, "fec0::1", 80, NULL, "site-local");
    s_expect_decision (&list, "64:ff9b::c0a8:10a", 80, NULL, "NAT64");
    s_expect_decision (&list, "198.18.0.1", 80, NULL, "benchmarking");
    //  not listed (another address, another port): the allowlist refuses
    s_expect_decision (&list, "192.168.1.11", 80, NULL, "not allowed");
    s_expect_decision (&list, "10.255.255.1", 80, NULL, "not allowed");

    //  allow_all_public lets any host through, but only listed ones reach
    //  a private address
    list.policy = NET_POLICY_ALLOW_ALL_PUBLIC;
    s_expect_decision (&list, "192.168.1.10", 80, "192.168.1.10", NULL);
    s_expect_decision (&list, "8.8.8.8", 80, "8.8.8.8", NULL);
    s_expect_decision (&list, "192.168.1.11", 80, NULL, NOT_LISTED);
    s_expect_decision (&list, "192.168.1.11", 80, NULL, "mcpbox_request_network_access");
    s_expect_decision (&list, "10.255.255.1", 80, NULL, "private");     //  listed for 8443 only
    s_expect_decision (&list, "100.64.0.1", 80, NULL, "CGNAT");
    s_expect_decision (&list, "fd12:3456::11", 80, NULL, "unique-local");
    s_expect_decision (&list, "169.254.169.254", 80, NULL, "link-local/metadata");
    net_rules_t open = { .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    s_expect_decision (&open, "192.168.1.10", 80, NULL, NOT_LISTED);
    s_expect_decision (&open, "127.0.0.1", 80, NULL, "loopback");

    //  the resolver itself, both ways
    s_expect_resolves ("192.168.1.1", true, "192.168.1.1");
    s_expect_resolves ("[fd12::1]", true, "fd12::1");
    s_expect_refused_for ("192.168.1.1", false, NOT_LISTED);
    s_expect_refused_for ("127.0.0.1", true, "loopback");
    s_expect_refused_for ("0x7f000001", true, "loopback");
    s_expect_refused_for ("localhost", true, "loopback");
    s_expect_refused_for ("169.254.169.254", true, "link-local/metadata");
    s_expect_refused_for ("[fd00:ec2::254]", true, "metadata");
    s_expect_refused_for ("[fe80::1]", true, "link-local");
    s_expect_refused_for ("[::ffff:192.168.1.1]", true, "IPv4-mapped");
    //  a never-allowed refusal does not suggest asking for the host
    char why [SSRF_WHY_MAX];
    struct sockaddr_storage out;
    assert_int_equal (ssrf_resolve ("169.254.169.254", 80, false, &out, why, sizeof why), -1);
    assert_null (strstr (why, "mcpbox_request_network_access"));
}

static void
test_listed_private_names (void **state)
{
    (void) state;
    s_clear_hooks ();
    setenv ("MCPBOX_TEST_RESOLVE",
            "nas.test=192.168.1.10,tail.test=100.100.1.1,ula.test=fd12:3456::10|192.168.1.10,"
            "mixpub.test=8.8.8.8|192.168.1.10,nasloop.test=192.168.1.10|127.0.0.1,"
            "nasmeta.test=10.0.0.5|169.254.169.254,ec2six.test=fd00:ec2::254,"
            "nasula.test=fd12::1|fd00:ec2::254,mapped.test=::ffff:192.168.1.10,"
            "naslink.test=192.168.1.10|fe80::1", 1);
    if (!ssrf_test_hooks_enabled ()) {
        s_expect_refused_for ("nas.test", true, "cannot resolve");
        s_clear_hooks ();
        return;
    }
    const char *hosts [] = { "nas.test", "tail.test", "ula.test", "mixpub.test", "nasloop.test",
                             "nasmeta.test", "ec2six.test", "nasula.test", "mapped.test",
                             "naslink.test", "localhost" };
    net_rules_t list = { .hosts = hosts, .count = sizeof hosts / sizeof hosts [0],
                         .policy = NET_POLICY_ALLOWLIST };
    s_expect_decision (&list, "nas.test", 5000, "192.168.1.10", NULL);
    s_expect_decision (&list, "tail.test", 443, "100.100.1.1", NULL);
    s_expect_decision (&list, "ula.test", 443, "fd12:3456::10", NULL);
    s_expect_decision (&list, "mixpub.test", 443, "8.8.8.8", NULL);
    //  one address never allowed: the whole name is refused
    s_expect_decision (&list, "nasloop.test", 80, NULL, "loopback");
    s_expect_decision (&list, "nasmeta.test", 80, NULL, "link-local/metadata");
    s_expect_decision (&list, "ec2six.test", 80, NULL, "metadata");
    s_expect_decision (&list, "nasula.test", 80, NULL, "metadata");
    s_expect_decision (&list, "mapped.test", 80, NULL, "IPv4-mapped");
    s_expect_decision (&list, "naslink.test", 80, NULL, "link-local");
    s_expect_decision (&list, "localhost", 80, NULL, "loopback");

    //  the same names, merely allowed by allow_all_public: no exemption
    net_rules_t open = { .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    s_expect_decision (&open, "nas.test", 80, NULL, NOT_LISTED);
    s_expect_decision (&open, "nas.test", 80, NULL, "'nas.test' resolves to 192.168.1.10");
    s_expect_decision (&open, "tail.test", 80, NULL, "CGNAT");
    s_expect_decision (&open, "ula.test", 80, NULL, "unique-local");
    s_expect_decision (&open, "mixpub.test", 80, NULL, "private");
    s_clear_hooks ();
}

static void
test_private_net_hook (void **state)
{
    (void) state;
    s_clear_hooks ();
    setenv ("MCPBOX_TEST_PRIVATE_NET", "127.78.0.0/16", 1);
    struct sockaddr_storage ss;
    char why [SSRF_WHY_MAX];
    s_sockaddr ("127.78.0.1", &ss);
    if (!ssrf_test_hooks_enabled ()) {
        //  a production build: still loopback, listed or not
        assert_true (ssrf_address_blocked_for ((struct sockaddr *) &ss, true, why, sizeof why));
        assert_non_null (strstr (why, "loopback"));
        s_clear_hooks ();
        return;
    }
    static const s_case_t unlisted [] = {
        { "127.78.0.1",      true, NOT_LISTED },
        { "127.78.255.255",  true, NOT_LISTED },
        { "127.77.0.1",      true, "loopback" },
        { "127.79.0.0",      true, "loopback" },
        { "127.0.0.1",       true, "loopback" },
        { "::ffff:127.78.0.1", true, "IPv4-mapped" },
    };
    static const s_case_t listed [] = {
        { "127.78.0.1",      false, NULL },
        { "127.78.255.255",  false, NULL },
        { "127.77.0.1",      true,  "loopback" },
        { "127.79.0.0",      true,  "loopback" },
        { "127.0.0.1",       true,  "loopback" },
        { "::ffff:127.78.0.1", true, "IPv4-mapped" },
    };
    s_run_cases_for (unlisted, sizeof unlisted / sizeof unlisted [0], false);
    s_run_cases_for (listed, sizeof listed / sizeof listed [0], true);
    //  a malformed CIDR is no override
    setenv ("MCPBOX_TEST_PRIVATE_NET", "127.78.0.0/40", 1);
    assert_true (ssrf_address_blocked_for ((struct sockaddr *) &ss, true, why, sizeof why));
    assert_non_null (strstr (why, "loopback"));
    s_clear_hooks ();
}

//  ---------------------------------------------------------------------
//  Test hooks

static void
test_hooks (void **state)
{
    (void) state;
    s_clear_hooks ();
    struct sockaddr_storage ss, out;
    char why [SSRF_WHY_MAX];

    setenv ("MCPBOX_TEST_PUBLIC_NET", "127.77.0.0/16", 1);
    setenv ("MCPBOX_TEST_RESOLVE",
            "public.test=127.77.0.1, rebind.test=127.77.0.1|127.0.0.1,"
            "six.test=::1,bad.test=not-an-ip,localhost=8.8.8.8,multi.test=127.77.0.2|127.77.0.3", 1);
    s_sockaddr ("127.77.0.1", &ss);
    bool public_alias = !ssrf_address_blocked ((struct sockaddr *) &ss, why, sizeof why);

    if (!ssrf_test_hooks_enabled ()) {
        //  a production build: the variables change nothing
        assert_false (public_alias);
        s_expect_refused ("127.77.0.1", "loopback");
        s_expect_refused ("localhost", "loopback");     //  not 8.8.8.8
        s_clear_hooks ();
        return;
    }
    assert_true (public_alias);
    //  only inside the one CIDR, and only for AF_INET
    static const s_case_t cases [] = {
        { "127.77.0.0",       false, NULL },
        { "127.77.255.255",   false, NULL },
        { "127.76.255.255",   true,  "loopback" },
        { "127.78.0.0",       true,  "loopback" },
        { "127.0.0.1",        true,  "loopback" },
        { "::ffff:127.77.0.1", true, "IPv4-mapped" },
        { "10.0.0.1",         true,  "private" },
    };
    s_run_cases (cases, sizeof cases / sizeof cases [0]);

    //  names answered by the override
    assert_int_equal (ssrf_resolve ("public.test", 8080, false, &out, why, sizeof why), 0);
    char text [INET6_ADDRSTRLEN];
    ssrf_address_text ((struct sockaddr *) &out, text, sizeof text);
    assert_string_equal (text, "127.77.0.1");
    assert_int_equal (ntohs (((struct sockaddr_in *) &out)->sin_port), 8080);
    assert_int_equal (ssrf_resolve ("PUBLIC.Test.", 80, false, &out, why, sizeof why), 0);
    assert_int_equal (ssrf_resolve ("localhost", 80, false, &out, why, sizeof why), 0);
    ssrf_address_text ((struct sockaddr *) &out, text, sizeof text);
    assert_string_equal (text, "8.8.8.8");
    //  several addresses: the first is returned
    assert_int_equal (ssrf_resolve ("multi.test", 80, false, &out, why, sizeof why), 0);
    ssrf_address_text ((struct sockaddr *) &out, text, sizeof text);
    assert_string_equal (text, "127.77.0.2");
    //  DNS rebinding: one public and one loopback address → refused
    s_expect_refused ("rebind.test", "loopback");
    s_expect_refused ("six.test", "loopback");
    s_expect_refused ("bad.test", "bad address");

    //  a malformed CIDR is no override
    const char *bad_nets [] = { "127.77.0.0", "127.77.0.0/33", "127.77.0.0/", "x/16",
                                "127.77.0.0/1a", "127.77.0.0/-1" };
    for (size_t i = 0; i < sizeof bad_nets / sizeof bad_nets [0]; i++) {
        setenv ("MCPBOX_TEST_PUBLIC_NET", bad_nets [i], 1);
        if (!ssrf_address_blocked ((struct sockaddr *) &ss, why, sizeof why))
            fail_msg ("MCPBOX_TEST_PUBLIC_NET='%s' took effect", bad_nets [i]);
    }
    //  without the public net, the override's loopback answer is refused
    unsetenv ("MCPBOX_TEST_PUBLIC_NET");
    s_expect_refused ("public.test", "loopback");
    s_clear_hooks ();
    s_expect_refused ("localhost", "loopback");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ipv4_ranges),
        cmocka_unit_test (test_ipv6_ranges),
        cmocka_unit_test (test_not_ip),
        cmocka_unit_test (test_normalize),
        cmocka_unit_test (test_allowlist),
        cmocka_unit_test (test_resolve_literals),
        cmocka_unit_test (test_private_ranges_allow_private),
        cmocka_unit_test (test_host_listed),
        cmocka_unit_test (test_listed_private_literals),
        cmocka_unit_test (test_listed_private_names),
        cmocka_unit_test (test_private_net_hook),
        cmocka_unit_test (test_hooks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

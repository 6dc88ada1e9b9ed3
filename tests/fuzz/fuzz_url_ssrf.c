/*  fuzz_url_ssrf.c — the URL parser and the SSRF checks of the executor's
    HTTP client (actors/executor/http_fetch.c, ssrf.c) on hostile input.

    Input: one flags byte, then NUL-separated parts: the URL a tool asks
    for, the server's allowed-hosts entries (one per line), and raw bytes
    taken as an IPv4 or IPv6 address. What runs:

      - http_fetch_check (scheme, userinfo, zone id, host normalisation,
        port, the allowlist, resolution, every address, the private-range
        exemption of a listed host) on the URL;
      - ssrf_host_allowed / ssrf_host_listed / ssrf_normalize_host on the
        URL's text and each entry;
      - ssrf_address_blocked_for on the raw address, both ways.

    Name resolution is a stand-in here (a fuzzer must not query DNS): a
    name that is not an IP literal resolves to one or two addresses picked
    from a fixed table by a hash of the name — public, private, loopback,
    metadata, mapped — so every branch of the address checks is reached.
    IP literals go to the real getaddrinfo (numeric only).

    Invariants (abort on breach): a refusal says why; an accepted URL's
    address is never blocked for a listed host and never private for an
    unlisted one under an empty allowlist; allow_private only ever
    unblocks; a normalised host has no upper case and fits its bound.
*/

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_fetch.h"
#include "ssrf.h"

typedef int (gai_fn) (const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);

static const char *s_table [] = {
    "93.184.216.34", "192.168.1.20", "127.0.0.1", "169.254.169.254",
    "10.1.2.3", "100.64.0.9", "2606:4700::1111", "fd00:ec2::254",
    "::ffff:8.8.8.8", "fe80::1", "0.0.0.0", "224.0.0.1", "fc00::5",
    "64:ff9b::808:808", "2001:db8::1", "8.8.4.4"
};

//  The stand-in resolver: names map to literals, literals resolve as such.
int
getaddrinfo (const char *node, const char *service, const struct addrinfo *hints,
             struct addrinfo **res)
{
    static gai_fn *real;
    if (!real)
        real = (gai_fn *) dlsym (RTLD_NEXT, "getaddrinfo");
    struct addrinfo numeric = hints ? *hints : (struct addrinfo) { 0 };
    numeric.ai_flags |= AI_NUMERICHOST;
    if (!node)
        return EAI_NONAME;
    int rc = real (node, service, &numeric, res);
    if (rc != EAI_NONAME)
        return rc;
    if (hints && (hints->ai_flags & AI_NUMERICHOST))
        return EAI_NONAME;
    uint32_t hash = 2166136261u;
    for (const char *p = node; *p; p++)
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    if (hash % 17 == 16)
        return EAI_NONAME;              //  some names do not resolve
    struct addrinfo *first = NULL;
    rc = real (s_table [hash % 16], service, &numeric, &first);
    if (rc)
        return rc;
    if ((hash >> 8) % 3 == 0) {         //  and some resolve to two addresses
        struct addrinfo *second = NULL;
        if (real (s_table [(hash >> 12) % 16], service, &numeric, &second) == 0) {
            struct addrinfo *last = first;
            while (last->ai_next)
                last = last->ai_next;
            last->ai_next = second;
        }
    }
    *res = first;
    return 0;
}

static void
s_check_normalized (const char *in)
{
    char out [SSRF_HOST_MAX];
    ssrf_normalize_host (in, out, sizeof out);
    if (strnlen (out, sizeof out) >= sizeof out)
        abort ();
    for (const char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            abort ();
}

//  The address text http_fetch_check gave back, as a sockaddr.
static bool
s_parse_address (const char *text, struct sockaddr_storage *ss)
{
    memset (ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
    if (inet_pton (AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton (AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data [0];
    char *copy = malloc (size);
    if (!copy)
        return 0;
    memcpy (copy, data + 1, size - 1);
    copy [size - 1] = 0;
    size_t left = size - 1;

    //  parts: url \0 entries \0 raw address bytes
    char *url = copy;
    char *entries_text = "";
    const uint8_t *raw = NULL;
    size_t raw_size = 0;
    char *nul = memchr (url, 0, left);
    if (nul && (size_t) (nul - copy) < left) {
        entries_text = nul + 1;
        char *nul2 = memchr (entries_text, 0, left - (size_t) (entries_text - copy));
        if (nul2 && (size_t) (nul2 - copy) < left) {
            raw = (const uint8_t *) nul2 + 1;
            raw_size = left - (size_t) (raw - (const uint8_t *) copy);
        }
    }
    const char *hosts [16];
    size_t count = 0;
    for (char *line = entries_text; *line && count < 16; ) {
        char *newline = strchr (line, '\n');
        if (newline)
            *newline = 0;
        hosts [count++] = line;
        s_check_normalized (line);
        if (!newline)
            break;
        line = newline + 1;
    }
    net_rules_t rules = { hosts, count,
                          flags & 1 ? NET_POLICY_ALLOW_ALL_PUBLIC : NET_POLICY_ALLOWLIST };

    s_check_normalized (url);
    int port = (int) ((flags >> 1) * 517 % 70000);
    bool listed = ssrf_host_listed (&rules, url, port);
    bool allowed = ssrf_host_allowed (&rules, url, port);
    if (listed && !allowed)
        abort ();                       //  listed is a stronger answer

    char address [INET6_ADDRSTRLEN + 8];
    char error [512];
    int rc = http_fetch_check (&rules, url, address, sizeof address, error, sizeof error);
    if (rc) {
        if (!*error || *address)
            abort ();
    }
    else {
        if (*error || (rules.policy == NET_POLICY_ALLOWLIST && count == 0))
            abort ();                   //  an empty allowlist lets nothing through
        struct sockaddr_storage ss;
        char why [SSRF_WHY_MAX];
        if (!s_parse_address (address, &ss))
            abort ();
        if (ssrf_address_blocked_for ((struct sockaddr *) &ss, true, why, sizeof why))
            abort ();                   //  what passed is never blocked outright
        if (count == 0
        &&  ssrf_address_blocked_for ((struct sockaddr *) &ss, false, why, sizeof why))
            abort ();                   //  nothing listed: nothing private
    }

    //  raw bytes as an address, both answers; allow_private only unblocks
    if (raw && (raw_size == 4 || raw_size == 16)) {
        struct sockaddr_storage ss;
        memset (&ss, 0, sizeof ss);
        if (raw_size == 4) {
            struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
            in4->sin_family = AF_INET;
            memcpy (&in4->sin_addr, raw, 4);
        }
        else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
            in6->sin6_family = AF_INET6;
            memcpy (&in6->sin6_addr, raw, 16);
        }
        char why [SSRF_WHY_MAX];
        bool strict = ssrf_address_blocked_for ((struct sockaddr *) &ss, false, why, sizeof why);
        if (strict && !*why)
            abort ();
        bool lenient = ssrf_address_blocked_for ((struct sockaddr *) &ss, true, why, sizeof why);
        if (lenient && !strict)
            abort ();
        char text [INET6_ADDRSTRLEN + 8];
        ssrf_address_text ((struct sockaddr *) &ss, text, sizeof text);
        if (!*text)
            abort ();
    }
    free (copy);
    return 0;
}

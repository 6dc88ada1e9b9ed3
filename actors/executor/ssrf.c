/*  ssrf.c — allowed hosts, blocked address ranges, checked resolution.

    See ssrf.h for the contract. How it is done here:

    - Blocked ranges are two tables (IPv4, IPv6) of prefix + length + the
      name reported in `why` + whether the range is private, searched in
      order; the first match names the range, so a more specific entry
      (::1, fd00:ec2::254) sits before a wider one (::/96, fc00::/7).
    - A private range (RFC 1918, 100.64/10, fc00::/7) is the one kind of
      blocked range a caller may open, with allow_private, for a host the
      admin listed explicitly (ssrf_host_listed). Everything else in the
      tables stays blocked whatever the caller says. The EC2 IPv6 metadata
      address fd00:ec2::254 is its own non-private entry ahead of
      fc00::/7, so listing a host never opens it.
    - IPv6 is default-deny outside 2000::/3: everything not global unicast
      (ULA, link-local, site-local, multicast, the IPv4-embedding forms,
      unassigned space) is blocked even if a table entry were missing, and
      the special ranges inside 2000::/3 (Teredo, 6to4, documentation) are
      listed explicitly.
    - IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64
      (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo
      (2001::/32) addresses are blocked whole rather than decoded: a
      public host is reached through its own A record, never through one
      of these spellings, so decoding them would only add ways to get the
      embedded-address check wrong.
    - ssrf_resolve() refuses a name if ANY of its addresses is blocked
      (under the same allow_private), so a name answering both a public
      and an internal address (DNS rebinding) cannot be used at all; the
      caller pins the first address.
    - Host names are checked for their character set before DNS is
      asked: ASCII letters, digits, '.', '-', '_' (IDN names must come in
      their xn-- form), or an IPv6 literal.

    Limits: a host is at most SSRF_HOST_MAX-1 bytes; an input longer than
    SSRF_INPUT_MAX is treated as empty; a test override variable is at most
    SSRF_HOOK_ENV_MAX bytes and SSRF_HOOK_ADDRS_MAX addresses per name.

    Not here: URLs, schemes, ports in URLs, redirects (http_fetch.c).
*/
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ssrf.h"

#define SSRF_INPUT_MAX      4096    //  bytes of a host or entry we look at
#define SSRF_HOOK_ENV_MAX   4096    //  bytes of a MCPBOX_TEST_* variable
#define SSRF_HOOK_ADDRS_MAX 8       //  addresses of one overridden name

typedef struct {
    uint32_t    net;                //  network, host byte order
    unsigned    len;                //  prefix length in bits
    const char *why;                //  name of the range
    bool        priv;               //  private: open to a listed host
} s_range4_t;

typedef struct {
    uint8_t     net [16];           //  network bytes
    unsigned    len;                //  prefix length in bits
    const char *why;                //  name of the range
    bool        priv;               //  private: open to a listed host
} s_range6_t;

//  What an address is, before asking whether the host was listed.
typedef enum {
    S_PUBLIC,                       //  always allowed
    S_PRIVATE,                      //  allowed only with allow_private
    S_BLOCKED                       //  never allowed
} s_class_t;

#define S_NOT_LISTED "not in this server's allowed hosts"

#define V4(a, b, c, d) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) \
                      | ((uint32_t) (c) << 8) | (uint32_t) (d))

#define PRIV  true               //  private: open to a listed host
#define NEVER false              //  blocked even for a listed host

static const s_range4_t s_blocked4 [] = {
    { V4 (0, 0, 0, 0),         8,  "this-network (0.0.0.0/8)",  NEVER },
    { V4 (10, 0, 0, 0),        8,  "private",                   PRIV },
    { V4 (100, 64, 0, 0),      10, "CGNAT",                     PRIV },
    { V4 (127, 0, 0, 0),       8,  "loopback",                  NEVER },
    { V4 (169, 254, 0, 0),     16, "link-local/metadata",       NEVER },
    { V4 (172, 16, 0, 0),      12, "private",                   PRIV },
    { V4 (192, 0, 0, 0),       24, "IETF protocol assignments", NEVER },
    { V4 (192, 0, 2, 0),       24, "documentation",             NEVER },
    { V4 (192, 88, 99, 0),     24, "6to4 relay anycast",        NEVER },
    { V4 (192, 168, 0, 0),     16, "private",                   PRIV },
    { V4 (198, 18, 0, 0),      15, "benchmarking",              NEVER },
    { V4 (198, 51, 100, 0),    24, "documentation",             NEVER },
    { V4 (203, 0, 113, 0),     24, "documentation",             NEVER },
    { V4 (224, 0, 0, 0),       4,  "multicast",                 NEVER },
    { V4 (255, 255, 255, 255), 32, "broadcast",                 NEVER },
    { V4 (240, 0, 0, 0),       4,  "reserved",                  NEVER },
};

static const s_range6_t s_blocked6 [] = {
    { { 0 },                                     128, "unspecified",               NEVER },
    { { [15] = 1 },                              128, "loopback",                  NEVER },
    { { [10] = 0xff, [11] = 0xff },              96,  "IPv4-mapped IPv6",          NEVER },
    { { 0 },                                     96,  "IPv4-compatible IPv6",      NEVER },
    { { 0x00, 0x64, 0xff, 0x9b },                96,  "NAT64",                     NEVER },
    { { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 },    48,  "NAT64 (local use)",         NEVER },
    { { 0x01, 0x00 },                            64,  "discard-only",              NEVER },
    { { 0x20, 0x01, 0x00, 0x00 },                32,  "Teredo",                    NEVER },
    { { 0x20, 0x01, 0x00, 0x00 },                23,  "IETF protocol assignments", NEVER },
    { { 0x20, 0x01, 0x0d, 0xb8 },                32,  "documentation",             NEVER },
    { { 0x20, 0x02 },                            16,  "6to4",                      NEVER },
    { { 0x3f, 0xff },                            20,  "documentation",             NEVER },
    //  fd00:ec2::254, the EC2 IPv6 metadata address, inside fc00::/7
    { { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 },
                                                 128, "cloud metadata (fd00:ec2::254)", NEVER },
    { { 0xfc },                                  7,   "unique-local",              PRIV },
    { { 0xfe, 0x80 },                            10,  "link-local",                NEVER },
    { { 0xfe, 0xc0 },                            10,  "site-local",                NEVER },
    { { 0xff },                                  8,   "multicast",                 NEVER },
};

#undef PRIV
#undef NEVER

//  ---------------------------------------------------------------------
//  Small helpers

static void
    s_why (char *why, size_t whylen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_why (char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || whylen == 0)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (why, whylen, fmt, args);
    va_end (args);
}

static char
s_lower (char c)
{
    return (c >= 'A' && c <= 'Z')? (char) (c - 'A' + 'a'): c;
}

static bool
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

//  Parses 1..65535 from exactly [start, end); -1 if anything else.
static int
s_parse_port (const char *start, const char *end)
{
    if (end <= start || end - start > 5)
        return -1;
    int port = 0;
    for (const char *p = start; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (*p - '0');
    }
    return (port >= 1 && port <= 65535)? port: -1;
}

static bool
s_prefix_match (const uint8_t *addr, const uint8_t *net, unsigned len)
{
    unsigned bytes = len / 8, bits = len % 8;
    if (memcmp (addr, net, bytes) != 0)
        return false;
    if (bits == 0)
        return true;
    uint8_t mask = (uint8_t) (0xff << (8 - bits));
    return (addr [bytes] & mask) == (net [bytes] & mask);
}

static bool
s_in_v4 (uint32_t addr, uint32_t net, unsigned len)
{
    uint32_t mask = len == 0? 0: (uint32_t) (0xffffffffu << (32 - len));
    return (addr & mask) == (net & mask);
}

//  ---------------------------------------------------------------------
//  Test hooks: compiled only with MCPBOX_TEST_HOOKS; otherwise they say
//  "no override" and the variables are never read.

#ifdef MCPBOX_TEST_HOOKS

//  True when addr is inside the one IPv4 CIDR the variable names.
static bool
s_hook_in_net (const char *variable, uint32_t addr)
{
    const char *env = getenv (variable);
    if (!env || strnlen (env, 64) >= 64)
        return false;
    const char *slash = strchr (env, '/');
    if (!slash || slash - env >= INET_ADDRSTRLEN)
        return false;
    char text [INET_ADDRSTRLEN];
    memcpy (text, env, (size_t) (slash - env));
    text [slash - env] = '\0';
    struct in_addr net;
    if (inet_pton (AF_INET, text, &net) != 1)
        return false;
    const char *p = slash + 1;
    size_t digits = strlen (p);
    if (digits < 1 || digits > 2 || p [0] < '0' || p [0] > '9'
    || (digits == 2 && (p [1] < '0' || p [1] > '9')))
        return false;
    unsigned len = (unsigned) atoi (p);
    if (len > 32)
        return false;
    return s_in_v4 (addr, ntohl (net.s_addr), len);
}

static bool
s_hook_public (uint32_t addr)
{
    return s_hook_in_net ("MCPBOX_TEST_PUBLIC_NET", addr);
}

static bool
s_hook_private (uint32_t addr)
{
    return s_hook_in_net ("MCPBOX_TEST_PRIVATE_NET", addr);
}

//  1 if name is overridden (addresses in addrs, count in *count), 0 if
//  not, -1 if the override is malformed for this name (fail closed).
static int
s_hook_resolve (const char *name, struct sockaddr_storage *addrs, size_t max,
                size_t *count, char *why, size_t whylen)
{
    const char *env = getenv ("MCPBOX_TEST_RESOLVE");
    if (!env || strnlen (env, SSRF_HOOK_ENV_MAX + 1) > SSRF_HOOK_ENV_MAX)
        return 0;
    char buf [SSRF_HOOK_ENV_MAX + 1];
    strcpy (buf, env);
    char *save = NULL;
    for (char *item = strtok_r (buf, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (item, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char key [SSRF_HOST_MAX];
        ssrf_normalize_host (item, key, sizeof key);
        if (!*key || strcmp (key, name) != 0)
            continue;
        *count = 0;
        char *save2 = NULL;
        for (char *ip = strtok_r (eq + 1, "|", &save2); ip; ip = strtok_r (NULL, "|", &save2)) {
            char text [SSRF_HOST_MAX];
            ssrf_normalize_host (ip, text, sizeof text);
            if (*count == max) {
                s_why (why, whylen, "test override for '%s' has too many addresses", name);
                return -1;
            }
            struct sockaddr_storage *ss = &addrs [*count];
            memset (ss, 0, sizeof *ss);
            struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
            if (inet_pton (AF_INET, text, &in4->sin_addr) == 1)
                in4->sin_family = AF_INET;
            else
            if (inet_pton (AF_INET6, text, &in6->sin6_addr) == 1)
                in6->sin6_family = AF_INET6;
            else {
                s_why (why, whylen, "test override for '%s' has a bad address '%s'", name, text);
                return -1;
            }
            (*count)++;
        }
        if (*count == 0) {
            s_why (why, whylen, "test override for '%s' has no address", name);
            return -1;
        }
        return 1;
    }
    return 0;
}

bool
ssrf_test_hooks_enabled (void)
{
    return true;
}

#else

static bool
s_hook_public (uint32_t addr)
{
    (void) addr;
    return false;
}

static bool
s_hook_private (uint32_t addr)
{
    (void) addr;
    return false;
}

static int
s_hook_resolve (const char *name, struct sockaddr_storage *addrs, size_t max,
                size_t *count, char *why, size_t whylen)
{
    (void) name; (void) addrs; (void) max; (void) count; (void) why; (void) whylen;
    return 0;
}

bool
ssrf_test_hooks_enabled (void)
{
    return false;
}

#endif

//  ---------------------------------------------------------------------
//  Host names and the allowlist

void
ssrf_normalize_host (const char *in, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    out [0] = '\0';
    if (!in)
        return;
    size_t inlen = strnlen (in, SSRF_INPUT_MAX + 1);
    if (inlen > SSRF_INPUT_MAX)
        return;
    const char *start = in, *end = in + inlen;
    while (start < end && s_space (*start))
        start++;
    while (end > start && s_space (end [-1]))
        end--;
    if (end - start >= 2 && *start == '[' && end [-1] == ']') {
        start++;
        end--;
    }
    if (end > start && end [-1] == '.')
        end--;
    size_t len = (size_t) (end - start);
    if (len >= outlen)
        return;
    for (size_t i = 0; i < len; i++)
        out [i] = s_lower (start [i]);
    out [len] = '\0';
}

//  Splits an allowlist entry into a normalized host and a port (0 = any).
//  False for a malformed entry.
static bool
s_parse_entry (const char *entry, char *host, size_t hostlen, int *port)
{
    *port = 0;
    host [0] = '\0';
    if (!entry)
        return false;
    size_t inlen = strnlen (entry, SSRF_INPUT_MAX + 1);
    if (inlen > SSRF_INPUT_MAX)
        return false;
    const char *start = entry, *end = entry + inlen;
    while (start < end && s_space (*start))
        start++;
    while (end > start && s_space (end [-1]))
        end--;
    const char *host_end = end;
    if (start < end && *start == '[') {
        const char *close = memchr (start, ']', (size_t) (end - start));
        if (!close)
            return false;
        host_end = close + 1;
        if (host_end < end) {
            if (*host_end != ':' || (*port = s_parse_port (host_end + 1, end)) < 0)
                return false;
        }
    }
    else {
        const char *colon = memchr (start, ':', (size_t) (end - start));
        if (colon && !memchr (colon + 1, ':', (size_t) (end - colon - 1))) {
            //  exactly one colon: host:port
            if ((*port = s_parse_port (colon + 1, end)) < 0)
                return false;
            host_end = colon;
        }
        //  none: a name; two or more: a bare IPv6 literal
    }
    size_t len = (size_t) (host_end - start);
    char raw [SSRF_HOST_MAX + 2];
    if (len == 0 || len >= sizeof raw)
        return false;
    memcpy (raw, start, len);
    raw [len] = '\0';
    ssrf_normalize_host (raw, host, hostlen);
    return host [0] != '\0';
}

//  Normalized hosts equal: IPv6 literals as addresses, the rest as text.
static bool
s_host_equal (const char *a, const char *b)
{
    struct in6_addr a6, b6;
    if (strchr (a, ':') && strchr (b, ':')
    &&  inet_pton (AF_INET6, a, &a6) == 1 && inet_pton (AF_INET6, b, &b6) == 1)
        return memcmp (&a6, &b6, sizeof a6) == 0;
    return strcmp (a, b) == 0;
}

bool
ssrf_host_allowed (const net_rules_t *rules, const char *host, int port)
{
    if (!rules || port < 1 || port > 65535)
        return false;
    if (rules->policy == NET_POLICY_ALLOW_ALL_PUBLIC)
        return true;
    if (rules->policy != NET_POLICY_ALLOWLIST)
        return false;
    return ssrf_host_listed (rules, host, port);
}

bool
ssrf_host_listed (const net_rules_t *rules, const char *host, int port)
{
    if (!rules || port < 1 || port > 65535)
        return false;
    if (rules->policy != NET_POLICY_ALLOWLIST
    &&  rules->policy != NET_POLICY_ALLOW_ALL_PUBLIC)
        return false;
    if (rules->count && !rules->hosts)
        return false;
    char want [SSRF_HOST_MAX];
    ssrf_normalize_host (host, want, sizeof want);
    if (!*want)
        return false;
    for (size_t i = 0; i < rules->count; i++) {
        char have [SSRF_HOST_MAX];
        int have_port;
        if (!s_parse_entry (rules->hosts [i], have, sizeof have, &have_port))
            continue;
        if (s_host_equal (have, want) && (have_port == 0 || have_port == port))
            return true;
    }
    return false;
}

//  ---------------------------------------------------------------------
//  Addresses

void
ssrf_address_text (const struct sockaddr *sa, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    out [0] = '\0';
    if (!sa)
        return;
    char text [INET6_ADDRSTRLEN];
    const void *src = NULL;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *) sa)->sin_addr;
    else
    if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    if (src && inet_ntop (sa->sa_family, src, text, sizeof text))
        snprintf (out, outlen, "%s", text);
}

//  Which class sa is in; *range names the range (NULL when public).
static s_class_t
s_classify (const struct sockaddr *sa, const char **range)
{
    *range = NULL;
    if (!sa) {
        *range = "no address";
        return S_BLOCKED;
    }
    if (sa->sa_family == AF_INET) {
        uint32_t addr = ntohl (((const struct sockaddr_in *) sa)->sin_addr.s_addr);
        if (s_hook_public (addr))
            return S_PUBLIC;
        if (s_hook_private (addr)) {
            *range = "private (test)";
            return S_PRIVATE;
        }
        for (size_t i = 0; i < sizeof s_blocked4 / sizeof s_blocked4 [0]; i++) {
            if (s_in_v4 (addr, s_blocked4 [i].net, s_blocked4 [i].len)) {
                *range = s_blocked4 [i].why;
                return s_blocked4 [i].priv? S_PRIVATE: S_BLOCKED;
            }
        }
        return S_PUBLIC;
    }
    if (sa->sa_family == AF_INET6) {
        const uint8_t *addr = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        for (size_t i = 0; i < sizeof s_blocked6 / sizeof s_blocked6 [0]; i++) {
            if (s_prefix_match (addr, s_blocked6 [i].net, s_blocked6 [i].len)) {
                *range = s_blocked6 [i].why;
                return s_blocked6 [i].priv? S_PRIVATE: S_BLOCKED;
            }
        }
        if ((addr [0] & 0xe0) != 0x20) {
            *range = "reserved (outside global unicast 2000::/3)";
            return S_BLOCKED;
        }
        return S_PUBLIC;
    }
    *range = "not an IP address";
    return S_BLOCKED;
}

bool
ssrf_address_blocked_for (const struct sockaddr *sa, bool allow_private,
                          char *why, size_t whylen)
{
    s_why (why, whylen, "%s", "");
    const char *range;
    s_class_t cls = s_classify (sa, &range);
    if (cls == S_PUBLIC || (cls == S_PRIVATE && allow_private))
        return false;
    if (cls == S_PRIVATE)
        s_why (why, whylen, "%s, " S_NOT_LISTED, range);
    else
        s_why (why, whylen, "%s", range);
    return true;
}

bool
ssrf_address_blocked (const struct sockaddr *sa, char *why, size_t whylen)
{
    return ssrf_address_blocked_for (sa, false, why, whylen);
}

//  ---------------------------------------------------------------------
//  Resolution

//  A host we are willing to hand to DNS: LDH labels plus '_', or an IPv6
//  literal (hex digits, ':' and '.' for an embedded IPv4 tail).
static bool
s_host_syntax_ok (const char *name)
{
    if (strchr (name, ':')) {
        for (const char *p = name; *p; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == ':' || *p == '.'))
                return false;
        return true;
    }
    for (const char *p = name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
        ||    *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

static void
s_set_port (struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *) ss)->sin_port = htons ((uint16_t) port);
    else
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *) ss)->sin6_port = htons ((uint16_t) port);
}

//  Checks one candidate; on the first one copies it to *out.
static int
s_check_candidate (const char *name, const struct sockaddr *sa, socklen_t salen,
                   int port, bool allow_private, bool first,
                   struct sockaddr_storage *out, char *why, size_t whylen)
{
    char range [SSRF_WHY_MAX], text [INET6_ADDRSTRLEN];
    if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
    ||  salen > (socklen_t) sizeof *out) {
        s_why (why, whylen, "'%s' resolves to a non-IP address", name);
        return -1;
    }
    if (ssrf_address_blocked_for (sa, allow_private, range, sizeof range)) {
        const char *ignored;
        //  a private range opens to a listed host: say what to ask for
        const char *hint = s_classify (sa, &ignored) == S_PRIVATE
            ? "; to reach it, ask the admin to list this host with "
              "mcpbox_request_network_access": "";
        ssrf_address_text (sa, text, sizeof text);
        char what [INET6_ADDRSTRLEN + SSRF_WHY_MAX + 8];
        snprintf (what, sizeof what, "%s (%s)", text, range);
        if (strcmp (text, name) == 0)
            s_why (why, whylen, "address %s is blocked%s", what, hint);
        else
            s_why (why, whylen, "'%s' resolves to %s, which is blocked%s", name, what, hint);
        return -1;
    }
    if (first) {
        memset (out, 0, sizeof *out);
        memcpy (out, sa, salen);
        s_set_port (out, port);
    }
    return 0;
}

int
ssrf_resolve (const char *host, int port, bool allow_private,
              struct sockaddr_storage *out, char *why, size_t whylen)
{
    s_why (why, whylen, "%s", "");
    char name [SSRF_HOST_MAX];
    ssrf_normalize_host (host, name, sizeof name);
    if (!out || !*name) {
        s_why (why, whylen, "empty or overlong host name");
        return -1;
    }
    if (port < 1 || port > 65535) {
        s_why (why, whylen, "bad port for '%s'", name);
        return -1;
    }
    if (!s_host_syntax_ok (name)) {
        s_why (why, whylen, "'%s' is not a valid host name (use the xn-- form for IDN)",
               name);
        return -1;
    }
    struct sockaddr_storage hooked [SSRF_HOOK_ADDRS_MAX];
    size_t nhooked = 0;
    int rc = s_hook_resolve (name, hooked, SSRF_HOOK_ADDRS_MAX, &nhooked, why, whylen);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        for (size_t i = 0; i < nhooked; i++) {
            socklen_t len = hooked [i].ss_family == AF_INET
                          ? (socklen_t) sizeof (struct sockaddr_in)
                          : (socklen_t) sizeof (struct sockaddr_in6);
            if (s_check_candidate (name, (struct sockaddr *) &hooked [i], len, port,
                                   allow_private, i == 0, out, why, whylen))
                return -1;
        }
        return 0;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICHOST };
    struct addrinfo *list = NULL;
    int gai = getaddrinfo (name, NULL, &hints, &list);
    if (gai == EAI_NONAME) {
        hints.ai_flags = 0;
        gai = getaddrinfo (name, NULL, &hints, &list);
    }
    if (gai != 0 || !list) {
        s_why (why, whylen, "cannot resolve '%s': %s", name,
               gai? gai_strerror (gai): "no addresses");
        if (list)
            freeaddrinfo (list);
        return -1;
    }
    rc = 0;
    bool first = true;
    for (struct addrinfo *ai = list; ai && rc == 0; ai = ai->ai_next) {
        if (!ai->ai_addr) {
            s_why (why, whylen, "'%s' resolves to an empty address", name);
            rc = -1;
            break;
        }
        rc = s_check_candidate (name, ai->ai_addr, ai->ai_addrlen, port,
                                allow_private, first, out, why, whylen);
        first = false;
    }
    freeaddrinfo (list);
    return rc;
}

/*  ssrf.h — which hosts and addresses a tool's HTTP request may reach.

    The executor parent performs every HTTP request a sandboxed tool makes
    (docs/SECURITY.md, layer 4). Before it connects it asks four questions,
    all answered here:

      1. Is this host in the server's admin-approved allowed hosts (or is
         the policy allow_all_public)?              ssrf_host_allowed()
      2. Is this host EXPLICITLY listed there (whatever the policy)? Only
         then may it reach a private address.       ssrf_host_listed()
      3. What does the name resolve to, and is EVERY address it resolves
         to allowed under that answer?              ssrf_resolve()
      4. Is this one address blocked, and why?      ssrf_address_blocked_for()

    Address classes:
      - public: allowed;
      - private — RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10
        and IPv6 unique-local fc00::/7: allowed only for a host the admin
        listed explicitly (a NAS on 192.168.x, a Tailscale peer on
        100.64/10); a host that is merely allowed by allow_all_public
        never reaches them;
      - everything else that is not public — loopback, 0/8, link-local
        169.254/16 and fe80::/10 (cloud metadata), fd00:ec2::254 (EC2
        IPv6 metadata, although inside fc00::/7), multicast, broadcast,
        reserved, documentation, benchmarking, IPv4-mapped/-compatible
        IPv6, NAT64, 6to4, Teredo, site-local: blocked always, listed or
        not.

    The caller then pins the connection to the address ssrf_resolve()
    returned, so what was checked is what is connected to, and checks it
    again at connect time with the same allow_private.

    Pure functions: no state, no I/O except getaddrinfo() inside
    ssrf_resolve(). Safe to call from several threads at once.

    Test hooks (compiled only with -DMCPBOX_TEST_HOOKS; otherwise the
    variables below are never read):
      MCPBOX_TEST_PUBLIC_NET="127.77.0.0/16"
          IPv4 addresses inside this one CIDR count as public, so tests can
          run "public" servers on loopback aliases.
      MCPBOX_TEST_PRIVATE_NET="127.78.0.0/16"
          IPv4 addresses inside this one CIDR count as private (reachable
          only by a listed host), so tests can run a "NAS" on a loopback
          alias without sending anything to a real private range.
      MCPBOX_TEST_RESOLVE="name=ip,name2=ip2|ip3"
          ssrf_resolve() answers these names with these addresses instead
          of asking DNS; `|` separates several addresses of one name.

    This is not an HTTP client (see http_fetch.h) and keeps no allowlist of
    its own: the rules come from the job.
*/
#ifndef MCPBOX_SSRF_H
#define MCPBOX_SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define SSRF_HOST_MAX  256          //  bytes of a normalized host, with NUL
#define SSRF_WHY_MAX   256          //  a comfortable size for `why` buffers

typedef enum {
    NET_POLICY_ALLOWLIST = 0,       //  only hosts listed in the rules
    NET_POLICY_ALLOW_ALL_PUBLIC     //  any host; address checks still apply
} net_policy_t;

typedef struct {
    const char *const *hosts;       //  "host", "host:port", "[v6]:port", bare v6
    size_t             count;       //  number of entries in hosts
    net_policy_t       policy;      //  allowlist or allow_all_public
} net_rules_t;

//  Writes the canonical form of a host name to out: surrounding whitespace
//  trimmed, ASCII lower-cased, ONE trailing dot stripped, [] stripped from
//  an IPv6 literal. A result that does not fit in outlen is written as ""
//  (which matches nothing). outlen 0 writes nothing.
void
    ssrf_normalize_host (const char *in, char *out, size_t outlen);

//  True when the rules allow a request to host:port: allow_all_public,
//  or ssrf_host_listed().
bool
    ssrf_host_allowed (const net_rules_t *rules, const char *host, int port);

//  True when an entry of rules->hosts names host:port explicitly, whatever
//  the policy: the entry's normalized host equals the normalized host
//  exactly (IPv6 literals compared as addresses) and the entry has no port
//  or the same port. No wildcard or suffix matching. A malformed entry
//  matches nothing. This is the admin approval that lets a request reach
//  a private address (allow_private below).
bool
    ssrf_host_listed (const net_rules_t *rules, const char *host, int port);

//  True when a connection to this address must be refused; then `why`
//  names the range ("loopback", "link-local/metadata", ...; a private
//  range says it is not in this server's allowed hosts). With
//  allow_private the private ranges (RFC 1918, 100.64/10, fc00::/7 but
//  not fd00:ec2::254) are allowed; nothing else changes. Only AF_INET and
//  AF_INET6 can be allowed; anything else is blocked. IPv4-mapped IPv6
//  (::ffff:0:0/96) is blocked as a whole, whatever the embedded IPv4
//  address (a real host never needs that spelling).
bool
    ssrf_address_blocked_for (const struct sockaddr *sa, bool allow_private,
                              char *why, size_t whylen);

//  ssrf_address_blocked_for (sa, false, why, whylen).
bool
    ssrf_address_blocked (const struct sockaddr *sa, char *why, size_t whylen);

//  Resolves host (name or IP literal, [] allowed) and checks EVERY address
//  it resolves to with ssrf_address_blocked_for (.., allow_private, ..).
//  If any is blocked, or the name does not resolve, returns -1 with the
//  reason in why. Otherwise copies the first address, with port set, into
//  *out and returns 0. Pass allow_private = ssrf_host_listed() for this
//  very host and port (each redirect hop anew).
int
    ssrf_resolve (const char *host, int port, bool allow_private,
                  struct sockaddr_storage *out, char *why, size_t whylen);

//  Writes the numeric form of an AF_INET/AF_INET6 address ("" otherwise).
void
    ssrf_address_text (const struct sockaddr *sa, char *out, size_t outlen);

//  True when this build reads the MCPBOX_TEST_* variables above.
bool
    ssrf_test_hooks_enabled (void);

#endif

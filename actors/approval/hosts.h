/*  hosts.h — the hosts of network-access requests: one spelling for each
    host, and a refusal for what can never be reached.

    Normalising: trim ASCII whitespace, drop the brackets of "[v6]",
    lower-case, strip one trailing dot. Then the host must be
      - an IPv4 literal in dotted-quad form (inet_pton, so no octal, hex or
        short forms), rewritten canonically;
      - an IPv6 literal, rewritten in its canonical compressed form;
      - or a DNS name: labels of 1-63 [a-z0-9-] not starting or ending with
        "-", at most 253 bytes, and a last label that does not begin with a
        digit (no TLD does; this refuses "2130706433", "127.1", "0x7f.1"
        and every other numeric spelling of an address).
    Never reachable (HOST_NEVER): loopback, unspecified, link-local (which
    includes the 169.254.169.254 metadata address), multicast, the
    reserved 240/4 and broadcast, IPv4-mapped, IPv4-compatible and NAT64
    IPv6 forms (spell the IPv4 address instead), "localhost" and its
    subdomains, and the cloud metadata names. Private ranges (a NAS on
    192.168.x) may be approved; the executor's SSRF rules do the rest.

    Not here: resolving names (the executor does that at call time).
*/
#ifndef MCPBOX_APPROVAL_HOSTS_H
#define MCPBOX_APPROVAL_HOSTS_H

#include <stddef.h>

#define HOSTS_MAX       253         //  bytes of a normalised host
#define HOSTS_ENTRY_MAX (HOSTS_MAX + 9)   //  "[host]:65535" + NUL

typedef enum {
    HOST_OK = 0,
    HOST_INVALID,                   //  not a host name or IP literal
    HOST_NEVER,                     //  valid, but never reachable by a tool
} host_check_t;

//  Normalise `len` bytes of `input` into out (HOSTS_MAX + 1 bytes). On
//  HOST_OK and HOST_NEVER out holds the normalised host; *why says what is
//  wrong, else NULL.
host_check_t hosts_normalise (const char *input, size_t len, char *out,
                              const char **why);

//  The allowlist spelling: "host" (port 0 = any port), "host:port",
//  "[v6]:port". buf needs HOSTS_ENTRY_MAX bytes.
void hosts_entry (const char *host, int port, char *buf, size_t bufsize);

#endif

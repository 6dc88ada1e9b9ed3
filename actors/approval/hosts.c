/*  hosts.c — normalise and validate request hosts (hosts.h). Pure
    functions, no state, no resolving.
*/
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hosts.h"

//  Names that resolve to the machine itself or to cloud metadata services.
static const char *const s_never_names [] = {
    "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
    "metadata", "metadata.google.internal", "metadata.goog",
    "instance-data", "instance-data.ec2.internal", NULL
};

static bool
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static host_check_t
s_check_v4 (const uint8_t a [4], const char **why)
{
    if (a [0] == 0 || a [0] == 127) {
        *why = "host: loopback and 0.0.0.0/8 addresses can never be reached";
        return HOST_NEVER;
    }
    if (a [0] == 169 && a [1] == 254) {
        *why = "host: link-local and metadata addresses can never be reached";
        return HOST_NEVER;
    }
    if (a [0] >= 224) {
        *why = "host: multicast, reserved and broadcast addresses can never be reached";
        return HOST_NEVER;
    }
    return HOST_OK;
}

static host_check_t
s_check_v6 (const uint8_t a [16], const char **why)
{
    static const uint8_t zero [12] = { 0 };
    static const uint8_t mapped [12] = { 0,0,0,0, 0,0,0,0, 0,0, 0xff,0xff };
    static const uint8_t nat64 [12] = { 0x00,0x64, 0xff,0x9b, 0,0,0,0, 0,0,0,0 };
    if (memcmp (a, zero, 12) == 0) {
        //  ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        *why = (a [12] | a [13] | a [14]) == 0 && a [15] <= 1
             ? "host: loopback and unspecified addresses can never be reached"
             : "host: IPv4-compatible IPv6 addresses are refused; use the IPv4 address";
        return HOST_NEVER;
    }
    if (memcmp (a, mapped, 12) == 0 || memcmp (a, nat64, 12) == 0) {
        *why = "host: IPv4-mapped and NAT64 IPv6 addresses are refused; "
               "use the IPv4 address";
        return HOST_NEVER;
    }
    if (a [0] == 0xfe && (a [1] & 0xc0) == 0x80) {
        *why = "host: link-local addresses can never be reached";
        return HOST_NEVER;
    }
    if (a [0] == 0xff) {
        *why = "host: multicast addresses can never be reached";
        return HOST_NEVER;
    }
    return HOST_OK;
}

//  A DNS name of lower-case letters, digits, '-' and dots.
static bool
s_dns_name (const char *name, size_t len, const char **why)
{
    size_t label_start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name [i] != '.') {
            char c = name [i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                *why = "host: only letters, digits, '-' and '.' may appear in a host name";
                return false;
            }
            continue;
        }
        size_t label_len = i - label_start;
        if (label_len == 0 || label_len > 63) {
            *why = "host: each dot-separated label must be 1 to 63 bytes";
            return false;
        }
        if (name [label_start] == '-' || name [i - 1] == '-') {
            *why = "host: a label must not begin or end with '-'";
            return false;
        }
        if (i == len && name [label_start] >= '0' && name [label_start] <= '9') {
            *why = "host: not a valid host name or IP address (numeric spellings "
                   "of addresses are refused; use dotted-quad IPv4)";
            return false;
        }
        label_start = i + 1;
    }
    return true;
}

static bool
s_never_name (const char *name, size_t len)
{
    for (size_t i = 0; s_never_names [i]; i++)
        if (strcmp (name, s_never_names [i]) == 0)
            return true;
    static const char suffix [] = ".localhost";
    size_t slen = sizeof suffix - 1;
    return len > slen && memcmp (name + len - slen, suffix, slen) == 0;
}

host_check_t
hosts_normalise (const char *input, size_t len, char *out, const char **why)
{
    *why = NULL;
    while (len > 0 && s_space (input [0])) {
        input++;
        len--;
    }
    while (len > 0 && s_space (input [len - 1]))
        len--;
    bool bracketed = len >= 2 && input [0] == '[' && input [len - 1] == ']';
    if (bracketed) {
        input++;
        len -= 2;
    }
    if (len == 0) {
        *why = "host: must not be empty";
        return HOST_INVALID;
    }
    //  room for the one trailing dot we strip
    if (len > HOSTS_MAX + 1 || memchr (input, 0, len)) {
        *why = "host: at most 253 bytes";
        return HOST_INVALID;
    }
    char host [HOSTS_MAX + 2];
    for (size_t i = 0; i < len; i++) {
        char c = input [i];
        host [i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }
    if (host [len - 1] == '.')
        len--;
    host [len] = 0;
    if (len == 0 || len > HOSTS_MAX) {
        *why = len ? "host: at most 253 bytes" : "host: must not be empty";
        return HOST_INVALID;
    }

    uint8_t addr [16];
    if (inet_pton (AF_INET6, host, addr) == 1) {
        char canonical [INET6_ADDRSTRLEN];
        inet_ntop (AF_INET6, addr, canonical, sizeof canonical);
        snprintf (out, HOSTS_MAX + 1, "%s", canonical);
        return s_check_v6 (addr, why);
    }
    if (bracketed) {
        *why = "host: brackets hold an IPv6 address only";
        return HOST_INVALID;
    }
    if (inet_pton (AF_INET, host, addr) == 1) {
        char canonical [INET_ADDRSTRLEN];
        inet_ntop (AF_INET, addr, canonical, sizeof canonical);
        snprintf (out, HOSTS_MAX + 1, "%s", canonical);
        return s_check_v4 (addr, why);
    }
    if (!s_dns_name (host, len, why))
        return HOST_INVALID;
    memcpy (out, host, len + 1);
    if (s_never_name (host, len)) {
        *why = "host: localhost and cloud metadata names can never be reached";
        return HOST_NEVER;
    }
    return HOST_OK;
}

void
hosts_entry (const char *host, int port, char *buf, size_t bufsize)
{
    if (port <= 0)
        snprintf (buf, bufsize, "%s", host);
    else
    if (strchr (host, ':'))
        snprintf (buf, bufsize, "[%s]:%d", host, port);
    else
        snprintf (buf, bufsize, "%s:%d", host, port);
}

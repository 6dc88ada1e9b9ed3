/*  remote_rules.c — bearer credentials, the public base URL, the 401
    challenge. See remote_rules.h.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "remote_rules.h"

static bool
s_token68_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int
remote_bearer (const char *header, char *out, size_t size)
{
    if (size)
        *out = 0;
    if (!header || !*header)
        return 0;
    if (strncasecmp (header, "bearer", 6) != 0
    ||  (header [6] != ' ' && header [6] != 0))
        return 0;                           //  another scheme
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    const char *start = p;
    while (s_token68_char (*p))
        p++;
    if (p == start)
        return -1;
    while (*p == '=')
        p++;
    size_t len = (size_t) (p - start);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || len >= size || len > REMOTE_CREDENTIAL_MAX)
        return -1;
    memcpy (out, start, len);
    out [len] = 0;
    return 1;
}

static bool
s_host_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int
remote_public_url_parse (const char *url, char *base, size_t base_size,
                         char *host, size_t host_size, char *err, size_t errlen)
{
    const char *rest;
    if (strncasecmp (url, "https://", 8) == 0)
        rest = url + 8;
    else
    if (strncasecmp (url, "http://", 7) == 0)
        rest = url + 7;
    else {
        snprintf (err, errlen, "remote_public_url: must start with https:// (or http://)");
        return -1;
    }
    size_t scheme_len = (size_t) (rest - url);
    //  the host: [v6] or name/IPv4, lower-cased
    char name [256];
    size_t n = 0;
    const char *p = rest;
    if (*p == '[') {
        name [n++] = *p++;
        while (*p && *p != ']' && n < sizeof name - 2) {
            char c = (char) tolower ((unsigned char) *p++);
            if (!isxdigit ((unsigned char) c) && c != ':' && c != '.') {
                snprintf (err, errlen, "remote_public_url: bad IPv6 literal");
                return -1;
            }
            name [n++] = c;
        }
        if (*p != ']' || n < 3) {
            snprintf (err, errlen, "remote_public_url: bad IPv6 literal");
            return -1;
        }
        name [n++] = *p++;
    }
    else
        while (*p && *p != ':' && *p != '/' && n < sizeof name - 1) {
            char c = (char) tolower ((unsigned char) *p++);
            if (!s_host_char (c)) {
                snprintf (err, errlen, "remote_public_url: the host may hold only letters, "
                          "digits, '-' and '.' (no user info, query or fragment)");
                return -1;
            }
            name [n++] = c;
        }
    name [n] = 0;
    if (!n || name [0] == '.' || name [0] == '-' || n > 253) {
        snprintf (err, errlen, "remote_public_url: a host name is required");
        return -1;
    }
    const char *port = NULL;
    size_t port_len = 0;
    if (*p == ':') {
        port = ++p;
        long value = 0;
        while (isdigit ((unsigned char) *p) && port_len < 6) {
            value = value * 10 + (*p++ - '0');
            port_len++;
        }
        if (!port_len || value < 1 || value > 65535) {
            snprintf (err, errlen, "remote_public_url: the port must be 1 to 65535");
            return -1;
        }
    }
    if (*p == '/')
        p++;
    if (*p) {
        snprintf (err, errlen, "remote_public_url: only scheme://host[:port] (no path, "
                  "query or fragment)");
        return -1;
    }
    int written = snprintf (base, base_size, "%.*s%s%s%.*s", (int) scheme_len, url, name,
                            port ? ":" : "", (int) port_len, port ? port : "");
    for (size_t i = 0; i < scheme_len && base [i]; i++)
        base [i] = (char) tolower ((unsigned char) base [i]);
    if (written < 0 || (size_t) written >= base_size || n >= host_size) {
        snprintf (err, errlen, "remote_public_url: too long");
        return -1;
    }
    memcpy (host, name, n + 1);
    return 0;
}

bool
remote_challenge (const char *base, const char *host_header, bool invalid,
                  char *out, size_t size)
{
    int written = snprintf (out, size, "Bearer resource_metadata=\"%s%s%s\"%s",
                            base ? "" : "http://", base ? base : host_header,
                            REMOTE_METADATA_PATH,
                            invalid ? ", error=\"invalid_token\"" : "");
    return written > 0 && (size_t) written < size;
}

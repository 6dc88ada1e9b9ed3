/*  remote_rules.h — the remote listener's pure rules (no lws: unit-tested
    and fuzzed).

    Authorization (RFC 6750 §2.1): "Bearer" (any case), one or more spaces,
    a token68 ([A-Za-z0-9-._~+/]+ then '='s), optional trailing blanks.
    Anything else is malformed; a header of another scheme is "none".

    The public base URL (config remote_public_url): http:// or https://, a
    host (a DNS name, an IPv4 address, or an [IPv6] literal) and an
    optional port, an optional "/" and nothing else — no user info, path,
    query or fragment. The base has no trailing slash; it is where the
    protected-resource metadata lives (RFC 9728 §3.1:
    <base>/.well-known/oauth-protected-resource).
*/
#ifndef MCPBOX_GATEWAY_REMOTE_RULES_H
#define MCPBOX_GATEWAY_REMOTE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define REMOTE_CREDENTIAL_MAX   4096    //  a bearer credential, bytes
#define REMOTE_BASE_MAX         300     //  a base URL, bytes
#define REMOTE_METADATA_PATH    "/.well-known/oauth-protected-resource"

//  1 with the credential in out (size > its length), 0 when the header is
//  absent (NULL or empty) or of another scheme, -1 when it is a Bearer
//  header that is malformed or too long.
int  remote_bearer (const char *header, char *out, size_t size);

//  0 with base ("https://mcp.example.com:8443") and host ("mcp.example.com",
//  lower-case, brackets kept for IPv6), or -1 with a message in err.
int  remote_public_url_parse (const char *url, char *base, size_t base_size,
                              char *host, size_t host_size, char *err, size_t errlen);

//  The WWW-Authenticate value of a 401 (RFC 9728 §5.1): base is the public
//  URL's, or NULL for "http://<host header>" (a Host already allowed);
//  invalid adds error="invalid_token" (a credential was given and
//  refused). false when it does not fit.
bool remote_challenge (const char *base, const char *host_header, bool invalid,
                       char *out, size_t size);

#endif

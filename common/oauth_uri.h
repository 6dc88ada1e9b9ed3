/*  oauth_uri.h — what an OAuth client brings, checked (MCPbox's own
    authorization server: actors/credentials/oauth.h decides, the gateway's
    actors/gateway/oauth_*.c speaks HTTP; both check with these).

    Pure functions, no state. Fuzzed (tests/fuzz/fuzz_oauth_form.c).

    Test hook (only with -DMCPBOX_TEST_HOOKS): MCPBOX_TEST_CIMD_HTTP=1 lets
    a Client ID Metadata Document URL be http:// (tests serve documents
    from loopback without TLS); never read otherwise.
*/
#ifndef MCPBOX_OAUTH_URI_H
#define MCPBOX_OAUTH_URI_H

#include <stdbool.h>
#include <stddef.h>

#define OAUTH_CLIENT_ID_MAX     512     //  bytes of a client_id (a CIMD URL)
#define OAUTH_URI_MAX           2048    //  bytes of a redirect URI / resource
#define OAUTH_REDIRECTS_MAX     8       //  redirect URIs per client
#define OAUTH_NAME_MAX          100     //  characters of a client name
#define OAUTH_NAME_BYTES        400     //  ... and bytes
#define OAUTH_SCOPE_MAX         1024
#define OAUTH_STATE_MAX         1024
#define OAUTH_CHALLENGE_LEN     43      //  base64url(SHA-256), no padding
#define OAUTH_VERIFIER_MIN      43      //  RFC 7636 §4.1
#define OAUTH_VERIFIER_MAX      128
//  A redirect URI a client may register: absolute, https (any host) or
//  http with host localhost / 127.0.0.0/8 / [::1]; no fragment, no
//  userinfo; printable ASCII only; at most OAUTH_URI_MAX bytes. False with
//  a reason in why.
bool oauth_redirect_uri_valid (const char *uri, char *why, size_t whylen);
//  A Client ID Metadata Document URL: https, a host, a path other than
//  "/", no fragment, no userinfo, no "." or ".." segment, printable ASCII,
//  at most OAUTH_CLIENT_ID_MAX bytes.
bool oauth_cimd_url_valid (const char *url, char *why, size_t whylen);
//  A client name to show on the consent page: 1..OAUTH_NAME_MAX characters
//  of valid UTF-8, no control characters, not only white space.
bool oauth_client_name_valid (const char *name, size_t len);
//  A PKCE code_challenge (S256) or code_verifier: [A-Za-z0-9-._~], and the
//  length is right (challenge exactly 43, verifier 43..128).
bool oauth_pkce_challenge_valid (const char *text);
bool oauth_pkce_verifier_valid (const char *text);
//  Does verifier hash (SHA-256, base64url) to challenge? Constant time.
bool oauth_pkce_matches (const char *verifier, const char *challenge);

//  Appends value percent-encoded (every byte but RFC 3986's unreserved
//  A-Z a-z 0-9 - . _ ~) to the NUL-terminated text in out (capacity cap).
//  Good for a query and for application/x-www-form-urlencoded alike. 0, or
//  -1 when it does not fit (out then holds a truncated, still terminated text).
int  oauth_percent_append (char *out, size_t cap, const char *value);

//  Where the authorization servers of external MCP sources send the
//  admin's browser back (the gateway's GET /sources/oauth/callback on its
//  local listener): `configured` (source_oauth_redirect_url) when set,
//  else http://HOST:PORT/sources/oauth/callback from the gateway's
//  http_host and http_port (a wildcard address becomes 127.0.0.1, an IPv6
//  one goes in brackets). The gateway and `mcpbox sources authorize` both
//  build it here, from the same configuration. 0, or -1 with why when
//  configured is not an http(s) URL without fragment, or it does not fit.
#define OAUTH_SOURCE_CALLBACK_PATH "/sources/oauth/callback"
//  The running gateway writes the URL it built to DATA/run/<this> (the
//  port may come from a flag of `mcpbox up`); the CLI reads it first.
#define SOURCE_OAUTH_REDIRECT_FILE "source_oauth_redirect"
int  oauth_source_redirect (const char *configured, const char *http_host, int http_port,
                            char *out, size_t outlen, char *why, size_t whylen);

#endif

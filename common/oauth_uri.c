/*  oauth_uri.c — the URIs, names and PKCE strings a client brings (oauth.h).

    Deliberately strict and small: a URI is printable ASCII without spaces,
    quotes, angle brackets or backslashes (what a browser would percent-
    encode anyway), so what is stored, compared and shown is exactly one
    spelling.
*/
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <stdlib.h>
#include "oauth_uri.h"
#include "utf8.h"

static bool
s_why (char *why, size_t whylen, const char *text)
{
    if (why && whylen)
        snprintf (why, whylen, "%s", text);
    return false;
}

static bool
s_uri_char_ok (unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\'
        && c != '`' && c != '{' && c != '}' && c != '|' && c != '^';
}

//  Split scheme://authority: the authority's [start, end) and where the
//  rest (path, query) begins. False when not absolute with that scheme.
static bool
s_authority (const char *uri, const char *scheme, const char **host, size_t *host_len,
             const char **rest, char *why, size_t whylen)
{
    size_t scheme_len = strlen (scheme);
    if (strncmp (uri, scheme, scheme_len) != 0 || strncmp (uri + scheme_len, "://", 3) != 0)
        return s_why (why, whylen, "not an absolute URI of the required scheme");
    const char *start = uri + scheme_len + 3;
    const char *end = start + strcspn (start, "/?#");
    if (memchr (start, '@', (size_t) (end - start)))
        return s_why (why, whylen, "userinfo (user@) is not allowed");
    if (end == start)
        return s_why (why, whylen, "no host");
    //  host without the port
    const char *port = NULL;
    if (*start == '[') {
        const char *close = memchr (start, ']', (size_t) (end - start));
        if (!close)
            return s_why (why, whylen, "an IPv6 literal without ]");
        if (close + 1 < end)
            port = close + 1;
        *host = start;
        *host_len = (size_t) (close + 1 - start);
    }
    else {
        port = memchr (start, ':', (size_t) (end - start));
        *host = start;
        *host_len = (size_t) ((port ? port : end) - start);
    }
    if (*host_len == 0)
        return s_why (why, whylen, "no host");
    if (port) {
        if (*port != ':' || port + 1 == end || end - port > 6)
            return s_why (why, whylen, "a malformed port");
        long value = 0;
        for (const char *p = port + 1; p < end; p++) {
            if (*p < '0' || *p > '9')
                return s_why (why, whylen, "a malformed port");
            value = value * 10 + (*p - '0');
        }
        if (value < 1 || value > 65535)
            return s_why (why, whylen, "a port outside 1..65535");
    }
    for (const char *p = *host; p < *host + *host_len; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '-' || c == '.' || (**host == '[' && (c == ':' || c == '[' || c == ']'));
        if (!ok)
            return s_why (why, whylen, "a host with characters other than letters, digits, "
                          "'-' and '.'");
    }
    *rest = end;
    return true;
}

static bool
s_common (const char *uri, size_t max, char *why, size_t whylen)
{
    if (!uri || !*uri)
        return s_why (why, whylen, "empty");
    size_t len = strnlen (uri, max + 1);
    if (len > max)
        return s_why (why, whylen, "too long");
    for (size_t i = 0; i < len; i++)
        if (!s_uri_char_ok ((unsigned char) uri [i]))
            return s_why (why, whylen, "characters outside printable ASCII, or ones that "
                          "must be percent-encoded");
    if (strchr (uri, '#'))
        return s_why (why, whylen, "a fragment (#) is not allowed");
    return true;
}

static bool
s_loopback (const char *host, size_t len)
{
    if ((len == 9 && strncasecmp (host, "localhost", 9) == 0)
    ||  (len == 5 && memcmp (host, "[::1]", 5) == 0))
        return true;
    //  127.0.0.0/8, dotted quad
    if (len < 7 || len > 15 || strncmp (host, "127.", 4) != 0)
        return false;
    int dots = 0, digits = 0, value = 0;
    for (size_t i = 0; i < len; i++) {
        if (host [i] == '.') {
            if (digits == 0)
                return false;
            dots++;
            digits = value = 0;
        }
        else
        if (host [i] >= '0' && host [i] <= '9') {
            value = value * 10 + (host [i] - '0');
            if (++digits > 3 || value > 255)
                return false;
        }
        else
            return false;
    }
    return dots == 3 && digits > 0;
}

bool
oauth_redirect_uri_valid (const char *uri, char *why, size_t whylen)
{
    if (!s_common (uri, OAUTH_URI_MAX, why, whylen))
        return false;
    const char *host, *rest;
    size_t host_len;
    if (strncmp (uri, "https://", 8) == 0)
        return s_authority (uri, "https", &host, &host_len, &rest, why, whylen);
    if (strncmp (uri, "http://", 7) == 0) {
        if (!s_authority (uri, "http", &host, &host_len, &rest, why, whylen))
            return false;
        if (!s_loopback (host, host_len))
            return s_why (why, whylen, "http is allowed only on a loopback host (localhost, "
                          "127.0.0.1, [::1]); use https");
        return true;
    }
    return s_why (why, whylen, "the scheme must be https (or http on a loopback host)");
}

static bool
s_cimd_http_allowed (void)
{
#ifdef MCPBOX_TEST_HOOKS
    const char *env = getenv ("MCPBOX_TEST_CIMD_HTTP");
    return env && strcmp (env, "1") == 0;
#else
    return false;
#endif
}

bool
oauth_cimd_url_valid (const char *url, char *why, size_t whylen)
{
    if (!s_common (url, OAUTH_CLIENT_ID_MAX, why, whylen))
        return false;
    const char *host, *rest;
    size_t host_len;
    const char *scheme = s_cimd_http_allowed () && strncmp (url, "http://", 7) == 0
                       ? "http" : "https";
    if (!s_authority (url, scheme, &host, &host_len, &rest, why, whylen))
        return false;
    if (*rest != '/' || rest [1] == 0 || rest [1] == '?')
        return s_why (why, whylen, "a client ID metadata URL needs a path");
    //  no dot segments: one URL, one document
    const char *seg = rest;
    while (*seg == '/') {
        const char *next = seg + 1 + strcspn (seg + 1, "/?");
        size_t seg_len = (size_t) (next - seg - 1);
        if ((seg_len == 1 && seg [1] == '.') || (seg_len == 2 && seg [1] == '.' && seg [2] == '.'))
            return s_why (why, whylen, "dot segments are not allowed");
        seg = next;
    }
    return true;
}

bool
oauth_client_name_valid (const char *name, size_t len)
{
    if (!name || len == 0 || len > OAUTH_NAME_BYTES || !utf8_valid (name, len)
    ||  utf8_chars (name, len) > OAUTH_NAME_MAX)
        return false;
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name [i];
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c != ' ')
            blank = false;
        //  C1 controls and the bidi overrides (U+202A..U+202E, U+2066..U+2069):
        //  a name must read on the page as it is stored
        if (c == 0xc2 && i + 1 < len && (unsigned char) name [i + 1] < 0xa0)
            return false;
        if (c == 0xe2 && i + 2 < len && (unsigned char) name [i + 1] == 0x80
        &&  (unsigned char) name [i + 2] >= 0xaa && (unsigned char) name [i + 2] <= 0xae)
            return false;
        if (c == 0xe2 && i + 2 < len && (unsigned char) name [i + 1] == 0x81
        &&  (unsigned char) name [i + 2] >= 0xa6 && (unsigned char) name [i + 2] <= 0xa9)
            return false;
    }
    return !blank;
}

static bool
s_unreserved (const char *text, size_t min, size_t max)
{
    if (!text)
        return false;
    size_t len = strnlen (text, max + 1);
    if (len < min || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

bool
oauth_pkce_challenge_valid (const char *text)
{
    return s_unreserved (text, OAUTH_CHALLENGE_LEN, OAUTH_CHALLENGE_LEN);
}

bool
oauth_pkce_verifier_valid (const char *text)
{
    return s_unreserved (text, OAUTH_VERIFIER_MIN, OAUTH_VERIFIER_MAX);
}

bool
oauth_pkce_matches (const char *verifier, const char *challenge)
{
    if (!oauth_pkce_verifier_valid (verifier) || !oauth_pkce_challenge_valid (challenge))
        return false;
    uint8_t digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const uint8_t *) verifier, strlen (verifier));
    char expected [OAUTH_CHALLENGE_LEN + 2];
    sodium_bin2base64 (expected, sizeof expected, digest, sizeof digest,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return sodium_memcmp (expected, challenge, OAUTH_CHALLENGE_LEN) == 0;
}

int
oauth_percent_append (char *out, size_t cap, const char *value)
{
    static const char hex [] = "0123456789ABCDEF";
    size_t n = strlen (out);
    for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'
                  || *p == '~';
        if (n + (plain ? 1 : 3) >= cap) {
            out [n] = 0;
            return -1;
        }
        if (plain)
            out [n++] = (char) *p;
        else {
            out [n++] = '%';
            out [n++] = hex [*p >> 4];
            out [n++] = hex [*p & 15];
        }
    }
    out [n] = 0;
    return 0;
}

int
oauth_source_redirect (const char *configured, const char *http_host, int http_port,
                       char *out, size_t outlen, char *why, size_t whylen)
{
    int n;
    if (configured && *configured) {
        bool visible = true;
        for (const char *p = configured; *p; p++)
            visible = visible && (unsigned char) *p > 0x20 && (unsigned char) *p < 0x7f;
        if (!visible || strchr (configured, '#')
        ||  (strncmp (configured, "http://", 7) != 0 && strncmp (configured, "https://", 8) != 0)) {
            snprintf (why, whylen, "source_oauth_redirect_url: must be an http(s) URL of "
                      "visible ASCII without a fragment");
            return -1;
        }
        n = snprintf (out, outlen, "%s", configured);
    }
    else {
        const char *host = http_host && *http_host ? http_host : "127.0.0.1";
        if (strcmp (host, "0.0.0.0") == 0 || strcmp (host, "::") == 0 || strcmp (host, "*") == 0)
            host = "127.0.0.1";
        bool v6 = strchr (host, ':') != NULL;
        n = snprintf (out, outlen, "http://%s%s%s:%d" OAUTH_SOURCE_CALLBACK_PATH,
                      v6 ? "[" : "", host, v6 ? "]" : "", http_port);
    }
    if (n < 0 || (size_t) n >= outlen || (size_t) n > OAUTH_URI_MAX) {
        snprintf (why, whylen, "the OAuth redirect URL is too long");
        return -1;
    }
    return 0;
}

/*  http_fetch.c — checked, pinned, bounded HTTP for sandboxed tools.

    See http_fetch.h for the contract. How it is done here:

    - The URL lives in one CURLU handle for the whole request. Each hop
      reads scheme, userinfo, host, zone id and port back from it, checks
      them (s_check_url), rewrites the host to its normalized form (lower
      case, no trailing dot) so curl uses exactly the name we checked, and
      hands the handle to curl with CURLOPT_CURLU. A redirect's Location
      is set on the same handle, which resolves it against the current URL,
      and the loop starts over: scheme, allowlist, resolution, all again
      (s_check_hop, which http_fetch_check() runs alone).
    - Private addresses (RFC 1918, 100.64/10, fc00::/7) are allowed for a
      hop only when that hop's own host:port is an explicit entry of the
      allowed hosts (ssrf_host_listed), never because allow_all_public
      lets the host through, and never inherited from an earlier hop: a
      listed host redirecting to 192.168.1.1 is refused unless
      192.168.1.1 (or the name used) is listed too. The decision is kept
      in the hop (allow_private) so the opensocket guard applies exactly
      what resolution applied.
    - The address ssrf_resolve() approved is pinned twice. CURLOPT_RESOLVE
      gives curl "host:port:addr", so curl never asks DNS itself; and the
      CURLOPT_OPENSOCKETFUNCTION callback refuses any socket whose address
      is not exactly that one (or is blocked under the hop's
      allow_private). The callback is the real
      guarantee: whatever curl decides (IP-literal hosts, name matching
      quirks in the DNS cache, happy eyeballs), it cannot connect anywhere
      that was not checked.
    - One fresh easy handle per hop: no connection, DNS cache, cookie or
      auth state carries from one hop to the next. No proxy (CURLOPT_PROXY
      "" and CURLOPT_NOPROXY "*", so *_proxy variables are ignored), no
      cookie engine, no alt-svc or HSTS cache, no netrc, TLS verified.
    - Redirects (301 302 303 307 308 with a non-empty Location) are
      followed here, at most HTTP_FETCH_MAX_REDIRECTS; any other 3xx, or
      one without a Location, is returned as the response (every 3xx is,
      with no_redirects). 303, and
      301/302 after POST, turn into GET without a body (and without
      Content-Type); 307/308 keep method and body. A hop to another
      origin (scheme, host or port) drops Authorization, Cookie and
      Proxy-Authorization, as browsers and python-requests do, so a
      redirect cannot carry a secret away.
    - The response body is capped at HTTP_FETCH_BODY_MAX decoded bytes
      (the write callback aborts past it), headers at
      HTTP_FETCH_RESP_HEADERS_MAX bytes per hop. Headers are collected
      into a JSON object with lower-case names; a repeated header is
      joined with ", ". An interim (1xx) response's headers are dropped.
    - The whole request, redirects included, has one deadline
      (timeout_ms, default 30 s, clamped to 300 s); each hop gets what is
      left of it, connects get at most 10 s. Name resolution runs before
      the hop and is not interruptible (getaddrinfo), but its time is
      taken from the same deadline.

    Not here: the pipe protocol to the sandbox, retries, caching.
*/
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <czmq.h>
#include "http_fetch.h"

#ifndef MCPBOX_VERSION
#   define MCPBOX_VERSION "0"
#endif

#define S_BODY_INITIAL      (16u * 1024)    //  first body buffer size
#define S_URL_SHOWN         200             //  bytes of a URL quoted in an error

//  Request headers a tool may not set: they are framing or hop-by-hop, and
//  curl (or the pinning) owns them.
static const char *s_forbidden_headers [] = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive",
    "upgrade", "te", "trailer", "expect", "proxy-connection", "proxy-authorization",
    NULL
};

//  Request headers dropped when a redirect leaves the origin.
static const char *s_credential_headers [] = {
    "authorization", "cookie", "proxy-authorization", NULL
};

static const char *s_methods [] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL
};

//  What one hop targets, after its URL passed the checks.
typedef struct {
    char        scheme [8];                 //  "http" or "https"
    char        host [SSRF_HOST_MAX];       //  normalized, no brackets
    int         port;                       //  1..65535
    bool        literal;                    //  host is an IP literal
    bool        listed;                     //  host:port explicitly allowed
    char        url [S_URL_SHOWN + 1];      //  the URL, shortened, for errors
} s_target_t;

//  State of one hop's transfer, shared with the curl callbacks.
typedef struct {
    struct sockaddr_storage pinned;         //  the only address we connect to
    bool        allow_private;              //  private ranges open (listed host)
    char       *body;                       //  response body, malloc'd
    size_t      body_len;                   //  bytes in body
    size_t      body_cap;                   //  bytes allocated
    bool        body_too_big;               //  write callback gave up
    size_t      header_bytes;               //  header bytes seen this hop
    bool        headers_too_big;            //  header callback gave up
    json_t     *headers;                    //  lower-case name -> value
    char       *location;                   //  first Location of the last response
    bool        socket_refused;             //  opensocket saw another address
    char        socket_why [384];           //  what it saw
    bool        oom;                        //  an allocation failed
    CURL       *curl;                       //  this hop's handle (status for on_body)
    const http_request_t *req;              //  on_body, body_max
    size_t      body_max;                   //  the bound on body_len
    bool        reader_done;                //  on_body ended the transfer: success
    bool        reader_refused;             //  on_body ended it: failure
} s_hop_t;

//  The request as it stands for the next hop (method and body can change).
typedef struct {
    char        method [8];                 //  canonical upper-case method
    const void *body;                       //  NULL when the body was dropped
    size_t      body_len;                   //  bytes of body
    bool        has_body;                   //  send a body (maybe empty)
    bool        drop_credentials;           //  cross-origin: no auth headers
    bool        drop_content_type;          //  body dropped: no Content-Type
} s_plan_t;

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;
static CURLcode       s_init_rc   = CURLE_FAILED_INIT;

static void
s_global_init (void)
{
    s_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

//  ---------------------------------------------------------------------
//  Small helpers

static void
    s_error (http_response_t *out, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (http_response_t *out, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (out->error, sizeof out->error, fmt, args);
    va_end (args);
}

static bool
s_in_list (const char *name, const char **list)
{
    for (size_t i = 0; list [i]; i++)
        if (strcasecmp (name, list [i]) == 0)
            return true;
    return false;
}

static bool
s_tchar (unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

//  A JSON string from bytes that may not be UTF-8: invalid input is
//  retried with every non-ASCII byte replaced by '?'.
static json_t *
s_json_text (const char *data, size_t len)
{
    json_t *text = json_stringn (data, len);
    if (text)
        return text;
    char *copy = malloc (len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) data [i];
        copy [i] = (c == 0 || c >= 0x80)? '?': (char) c;
    }
    text = json_stringn (copy, len);
    free (copy);
    return text;
}

//  Copies at most S_URL_SHOWN bytes of url, marking a cut with "...".
static void
s_shorten (const char *url, char *out, size_t outlen)
{
    size_t len = strnlen (url, S_URL_SHOWN + 1);
    if (len <= S_URL_SHOWN || outlen < 4)
        snprintf (out, outlen, "%s", url);
    else
        snprintf (out, outlen, "%.*s...", (int) (outlen - 4), url);
}

//  ---------------------------------------------------------------------
//  Request validation

static bool
s_method_canonical (const char *method, char *out, size_t outlen)
{
    if (!method)
        method = "GET";
    for (size_t i = 0; s_methods [i]; i++) {
        if (strcasecmp (method, s_methods [i]) == 0) {
            snprintf (out, outlen, "%s", s_methods [i]);
            return true;
        }
    }
    return false;
}

static int
s_check_headers (const http_request_t *req, http_response_t *out)
{
    if (req->header_count > HTTP_FETCH_HEADERS_MAX) {
        s_error (out, "too many request headers (at most %d)", HTTP_FETCH_HEADERS_MAX);
        return -1;
    }
    if (req->header_count && (!req->header_names || !req->header_values)) {
        s_error (out, "request headers missing");
        return -1;
    }
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->header_names [i], *value = req->header_values [i];
        if (!name || !value) {
            s_error (out, "request header %zu is missing its name or value", i);
            return -1;
        }
        size_t nlen = strnlen (name, HTTP_FETCH_HEADER_MAX + 1);
        size_t vlen = strnlen (value, HTTP_FETCH_HEADER_MAX + 1);
        if (nlen == 0 || nlen + vlen > HTTP_FETCH_HEADER_MAX) {
            s_error (out, "request header %zu is empty or larger than %d bytes",
                     i, HTTP_FETCH_HEADER_MAX);
            return -1;
        }
        for (size_t j = 0; j < nlen; j++) {
            if (!s_tchar ((unsigned char) name [j])) {
                s_error (out, "request header name %zu has a character not allowed in "
                              "a header name", i);
                return -1;
            }
        }
        for (size_t j = 0; j < vlen; j++) {
            unsigned char c = (unsigned char) value [j];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                s_error (out, "request header '%.64s' has a control character "
                              "(CR, LF, NUL...) in its value", name);
                return -1;
            }
        }
        if (s_in_list (name, s_forbidden_headers)) {
            s_error (out, "request header '%s' cannot be set by a tool", name);
            return -1;
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  URL checks, run for the first URL and for every redirect

//  0 if u's URL may be requested under rules; fills *t and rewrites the
//  host in u to its normalized form. -1 with out->error otherwise.
static int
s_check_url (CURLU *u, const net_rules_t *rules, s_target_t *t, http_response_t *out)
{
    memset (t, 0, sizeof *t);
    char *part = NULL;
    int rc = -1;

    if (curl_url_get (u, CURLUPART_URL, &part, 0) != CURLUE_OK) {
        s_error (out, "invalid URL");
        goto done;
    }
    s_shorten (part, t->url, sizeof t->url);
    curl_free (part);
    part = NULL;

    if (curl_url_get (u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK
    || (strcmp (part, "http") != 0 && strcmp (part, "https") != 0)) {
        s_error (out, "URL scheme '%.16s' is not allowed: only http and https",
                 part? part: "");
        goto done;
    }
    snprintf (t->scheme, sizeof t->scheme, "%s", part);
    curl_free (part);
    part = NULL;

    static const CURLUPart userinfo [] = {
        CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS
    };
    for (size_t i = 0; i < sizeof userinfo / sizeof userinfo [0]; i++) {
        CURLUcode urc = curl_url_get (u, userinfo [i], &part, 0);
        curl_free (part);
        part = NULL;
        if (urc == CURLUE_OK) {
            s_error (out, "credentials (userinfo) in the URL are not allowed; "
                          "send them in a header");
            goto done;
        }
    }
    if (curl_url_get (u, CURLUPART_ZONEID, &part, 0) == CURLUE_OK) {
        s_error (out, "IPv6 zone ids are not allowed in URLs");
        goto done;
    }
    curl_free (part);
    part = NULL;

    if (curl_url_get (u, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
        s_error (out, "URL has no host");
        goto done;
    }
    for (const char *p = part; *p; p++) {
        if ((unsigned char) *p >= 0x80) {
            s_error (out, "non-ASCII host names must be given in their xn-- form");
            goto done;
        }
    }
    bool bracketed = part [0] == '[';
    ssrf_normalize_host (part, t->host, sizeof t->host);
    if (!t->host [0]) {
        s_error (out, "URL host is empty or too long");
        goto done;
    }
    if (!bracketed && strcmp (part, t->host) != 0
    &&  curl_url_set (u, CURLUPART_HOST, t->host, 0) != CURLUE_OK) {
        s_error (out, "URL host '%.64s' is not valid", t->host);
        goto done;
    }
    curl_free (part);
    part = NULL;

    struct in6_addr addr;
    t->literal = inet_pton (AF_INET, t->host, &addr) == 1
              || inet_pton (AF_INET6, t->host, &addr) == 1;

    if (curl_url_get (u, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        s_error (out, "URL has no port");
        goto done;
    }
    t->port = atoi (part);
    if (t->port < 1 || t->port > 65535) {
        s_error (out, "URL port %.8s is not allowed", part);
        goto done;
    }
    if (!ssrf_host_allowed (rules, t->host, t->port)) {
        s_error (out, "host '%s' (port %d) is not in this server's allowed hosts; "
                      "ask the admin with mcpbox_request_network_access",
                 t->host, t->port);
        goto done;
    }
    t->listed = ssrf_host_listed (rules, t->host, t->port);
    rc = 0;
done:
    curl_free (part);
    return rc;
}

//  Every check of one hop before anything is sent: the URL (s_check_url),
//  then the host's resolution, where private ranges are open only if this
//  hop's host is listed. On 0, hop->pinned holds the address to connect to
//  and hop->allow_private the decision the connect-time guard repeats.
//  -1 with out->error otherwise.
static int
s_check_hop (CURLU *u, const net_rules_t *rules, s_target_t *t, s_hop_t *hop,
             http_response_t *out)
{
    if (s_check_url (u, rules, t, out))
        return -1;
    char why [sizeof out->error];
    if (ssrf_resolve (t->host, t->port, t->listed, &hop->pinned, why, sizeof why)) {
        s_error (out, "request refused: %s", why);
        return -1;
    }
    hop->allow_private = t->listed;
    return 0;
}

//  ---------------------------------------------------------------------
//  curl callbacks

static bool s_is_redirect (int status);

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *userp)
{
    s_hop_t *hop = userp;
    size_t n = size * nmemb;
    if (n > hop->body_max - hop->body_len) {
        hop->body_too_big = true;
        return 0;
    }
    if (hop->req->on_body) {
        long status = 0;
        curl_easy_getinfo (hop->curl, CURLINFO_RESPONSE_CODE, &status);
        hop->body_len += n;
        if (s_is_redirect ((int) status) && hop->location)
            return n;               //  a redirect's body: counted, dropped
        http_body_t next = hop->req->on_body (hop->req->on_body_arg, (int) status,
                                              hop->headers, data, n);
        if (next == HTTP_BODY_MORE)
            return n;
        if (next == HTTP_BODY_DONE)
            hop->reader_done = true;
        else
            hop->reader_refused = true;
        return 0;
    }
    if (hop->body_len + n + 1 > hop->body_cap) {
        size_t cap = hop->body_cap? hop->body_cap: S_BODY_INITIAL;
        while (cap < hop->body_len + n + 1)
            cap *= 2;
        if (cap > hop->body_max + 1)
            cap = hop->body_max + 1;
        char *grown = realloc (hop->body, cap);
        if (!grown) {
            hop->oom = true;
            return 0;
        }
        hop->body = grown;
        hop->body_cap = cap;
    }
    memcpy (hop->body + hop->body_len, data, n);
    hop->body_len += n;
    hop->body [hop->body_len] = '\0';
    return n;
}

//  Adds name: value to the headers object, joining a repeat with ", ".
static int
s_header_add (json_t *headers, const char *name, const char *value, size_t vlen)
{
    json_t *have = json_object_get (headers, name);
    if (!have)
        return json_object_set_new (headers, name, s_json_text (value, vlen));
    const char *old = json_string_value (have);
    size_t olen = json_string_length (have);
    char *joined = malloc (olen + 2 + vlen + 1);
    if (!joined)
        return -1;
    memcpy (joined, old, olen);
    memcpy (joined + olen, ", ", 2);
    memcpy (joined + olen + 2, value, vlen);
    joined [olen + 2 + vlen] = '\0';
    int rc = json_object_set_new (headers, name, s_json_text (joined, olen + 2 + vlen));
    free (joined);
    return rc;
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *userp)
{
    s_hop_t *hop = userp;
    size_t n = size * nmemb;
    hop->header_bytes += n;
    if (hop->header_bytes > HTTP_FETCH_RESP_HEADERS_MAX) {
        hop->headers_too_big = true;
        return 0;
    }
    if (n >= 5 && memcmp (data, "HTTP/", 5) == 0) {
        //  a status line: a new response (after a 1xx) starts afresh
        json_object_clear (hop->headers);
        free (hop->location);
        hop->location = NULL;
        return n;
    }
    size_t len = n;
    while (len && (data [len - 1] == '\n' || data [len - 1] == '\r'))
        len--;
    if (len == 0 || data [0] == ' ' || data [0] == '\t')
        return n;                   //  end of headers, or obsolete line folding
    const char *colon = memchr (data, ':', len);
    if (!colon || colon == data || colon - data >= 256)
        return n;
    char name [256];
    size_t nlen = (size_t) (colon - data);
    for (size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char) data [i];
        if (!s_tchar (c))
            return n;               //  not a header we can name: skip it
        name [i] = (c >= 'A' && c <= 'Z')? (char) (c - 'A' + 'a'): (char) c;
    }
    name [nlen] = '\0';
    const char *value = colon + 1, *end = data + len;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end [-1] == ' ' || end [-1] == '\t'))
        end--;
    size_t vlen = (size_t) (end - value);
    if (s_header_add (hop->headers, name, value, vlen) != 0) {
        hop->oom = true;
        return 0;
    }
    if (strcmp (name, "location") == 0 && !hop->location) {
        hop->location = strndup (value, vlen);
        if (!hop->location) {
            hop->oom = true;
            return 0;
        }
    }
    return n;
}

static bool
s_same_address (const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *) a;
        const struct sockaddr_in *y = (const struct sockaddr_in *) b;
        return x->sin_port == y->sin_port
            && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *) b;
        return x->sin6_port == y->sin6_port
            && memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

//  Ends the transfer once the caller's cancel flag is set.
static int
s_on_progress (void *userp, curl_off_t dltotal, curl_off_t dlnow,
               curl_off_t ultotal, curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    s_hop_t *hop = userp;
    return hop->req && hop->req->cancel && atomic_load (hop->req->cancel)? 1: 0;
}

//  Every socket curl opens comes through here: only the pinned address.
static curl_socket_t
s_on_opensocket (void *userp, curlsocktype purpose, struct curl_sockaddr *address)
{
    s_hop_t *hop = userp;
    char why [SSRF_WHY_MAX], text [INET6_ADDRSTRLEN];
    const struct sockaddr *sa = &address->addr;
    size_t need = address->family == AF_INET ? sizeof (struct sockaddr_in)
                : address->family == AF_INET6? sizeof (struct sockaddr_in6): SIZE_MAX;
    if (purpose != CURLSOCKTYPE_IPCXN || address->addrlen < need
    ||  !s_same_address (sa, &hop->pinned)) {
        ssrf_address_text (need == SIZE_MAX? NULL: sa, text, sizeof text);
        snprintf (hop->socket_why, sizeof hop->socket_why,
                  "connection to unchecked address '%s' refused", text);
        hop->socket_refused = true;
        return CURL_SOCKET_BAD;
    }
    if (ssrf_address_blocked_for (sa, hop->allow_private, why, sizeof why)) {
        ssrf_address_text (sa, text, sizeof text);
        snprintf (hop->socket_why, sizeof hop->socket_why,
                  "connection to %s refused (%s)", text, why);
        hop->socket_refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket (address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

//  ---------------------------------------------------------------------
//  One hop

static void
s_hop_reset (s_hop_t *hop)
{
    const http_request_t *req = hop->req;
    size_t body_max = hop->body_max;
    free (hop->body);
    free (hop->location);
    json_decref (hop->headers);
    memset (hop, 0, sizeof *hop);
    hop->req = req;
    hop->body_max = body_max;
}

static struct curl_slist *
s_build_headers (const http_request_t *req, const s_plan_t *plan, bool *oom)
{
    struct curl_slist *list = NULL, *next;
    bool content_type = false;
    *oom = false;
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->header_names [i], *value = req->header_values [i];
        if (plan->drop_credentials && s_in_list (name, s_credential_headers))
            continue;
        if (strcasecmp (name, "content-type") == 0) {
            if (plan->drop_content_type)
                continue;
            content_type = true;
        }
        size_t len = strlen (name) + strlen (value) + 3;
        char *line = malloc (len);
        if (!line)
            goto oom;
        //  "Name;" is curl's way to send a header with an empty value
        if (*value)
            snprintf (line, len, "%s: %s", name, value);
        else
            snprintf (line, len, "%s;", name);
        next = curl_slist_append (list, line);
        free (line);
        if (!next)
            goto oom;
        list = next;
    }
    //  no "Expect: 100-continue" round trip; no curl default Content-Type
    if (!(next = curl_slist_append (list, "Expect:")))
        goto oom;
    list = next;
    if (plan->has_body && !content_type) {
        if (!(next = curl_slist_append (list, "Content-Type:")))
            goto oom;
        list = next;
    }
    return list;
oom:
    curl_slist_free_all (list);
    *oom = true;
    return NULL;
}

//  Performs one hop to the pinned address. 0 with a response in *hop,
//  -1 with out->error.
static int
s_perform (CURLU *u, const s_target_t *t, const s_plan_t *plan,
           const http_request_t *req, int64_t deadline, int timeout_ms,
           s_hop_t *hop, http_response_t *out)
{
    int64_t remaining = deadline - zclock_mono ();
    if (remaining <= 0) {
        s_error (out, "request timed out after %d ms", timeout_ms);
        return -1;
    }
    hop->headers = json_object ();
    CURL *curl = curl_easy_init ();
    bool oom = false;
    struct curl_slist *headers = s_build_headers (req, plan, &oom);
    struct curl_slist *resolve = NULL;
    if (!hop->headers || !curl || oom) {
        s_error (out, "out of memory");
        goto fail;
    }
    if (!t->literal) {
        char addr [INET6_ADDRSTRLEN], entry [SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
        ssrf_address_text ((struct sockaddr *) &hop->pinned, addr, sizeof addr);
        snprintf (entry, sizeof entry,
                  hop->pinned.ss_family == AF_INET6? "%s:%d:[%s]": "%s:%d:%s",
                  t->host, t->port, addr);
        if (!(resolve = curl_slist_append (NULL, entry))) {
            s_error (out, "out of memory");
            goto fail;
        }
    }
    char errbuf [CURL_ERROR_SIZE] = "";
    long connect_ms = remaining < HTTP_FETCH_CONNECT_TIMEOUT
                    ? (long) remaining: HTTP_FETCH_CONNECT_TIMEOUT;
    CURLcode rc = CURLE_OK;
    #define S_SET(opt, val) (rc = (rc != CURLE_OK)? rc: curl_easy_setopt (curl, opt, val))
    hop->curl = curl;
    S_SET (CURLOPT_CURLU, u);
    S_SET (CURLOPT_PROTOCOLS_STR, "http,https");
    S_SET (CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    S_SET (CURLOPT_FOLLOWLOCATION, 0L);
    S_SET (CURLOPT_PROXY, "");
    S_SET (CURLOPT_NOPROXY, "*");
    S_SET (CURLOPT_NOSIGNAL, 1L);
    S_SET (CURLOPT_TIMEOUT_MS, (long) remaining);
    S_SET (CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    S_SET (CURLOPT_SSL_VERIFYPEER, 1L);
    S_SET (CURLOPT_SSL_VERIFYHOST, 2L);
    S_SET (CURLOPT_ACCEPT_ENCODING, "");
    S_SET (CURLOPT_NETRC, (long) CURL_NETRC_IGNORED);
    S_SET (CURLOPT_USERAGENT, "mcpbox/" MCPBOX_VERSION);
    S_SET (CURLOPT_ERRORBUFFER, errbuf);
    S_SET (CURLOPT_HTTPHEADER, headers);
    if (resolve)
        S_SET (CURLOPT_RESOLVE, resolve);
    S_SET (CURLOPT_OPENSOCKETFUNCTION, s_on_opensocket);
    S_SET (CURLOPT_OPENSOCKETDATA, hop);
    S_SET (CURLOPT_WRITEFUNCTION, s_on_body);
    S_SET (CURLOPT_WRITEDATA, hop);
    S_SET (CURLOPT_HEADERFUNCTION, s_on_header);
    S_SET (CURLOPT_HEADERDATA, hop);
    if (req->cancel) {
        S_SET (CURLOPT_NOPROGRESS, 0L);
        S_SET (CURLOPT_XFERINFOFUNCTION, s_on_progress);
        S_SET (CURLOPT_XFERINFODATA, hop);
    }
    if (strcmp (plan->method, "HEAD") == 0)
        S_SET (CURLOPT_NOBODY, 1L);
    else
    if (plan->has_body) {
        S_SET (CURLOPT_POST, 1L);
        S_SET (CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) plan->body_len);
        S_SET (CURLOPT_POSTFIELDS, plan->body_len? plan->body: "");
        if (strcmp (plan->method, "POST") != 0)
            S_SET (CURLOPT_CUSTOMREQUEST, plan->method);
    }
    else
    if (strcmp (plan->method, "GET") == 0)
        S_SET (CURLOPT_HTTPGET, 1L);
    else
        S_SET (CURLOPT_CUSTOMREQUEST, plan->method);
    #undef S_SET
    if (rc != CURLE_OK) {
        s_error (out, "cannot set up the request: %s", curl_easy_strerror (rc));
        goto fail;
    }
    rc = curl_easy_perform (curl);
    if (rc == CURLE_WRITE_ERROR && hop->reader_done)
        rc = CURLE_OK;              //  the reader had what it wanted
    if (rc != CURLE_OK) {
        if (hop->reader_refused) {
            s_error (out, "response refused by its reader");
            out->reader_refused = true;
        }
        else
        if (hop->socket_refused)
            s_error (out, "%s", hop->socket_why);
        else
        if (hop->body_too_big) {
            if (hop->body_max >= (1u << 20))
                s_error (out, "response larger than %zu MB", hop->body_max >> 20);
            else
                s_error (out, "response larger than %zu KB", hop->body_max >> 10);
        }
        else
        if (hop->headers_too_big)
            s_error (out, "response headers larger than %u KB",
                     HTTP_FETCH_RESP_HEADERS_MAX >> 10);
        else
        if (hop->oom)
            s_error (out, "out of memory");
        else
        if (rc == CURLE_OPERATION_TIMEDOUT)
            s_error (out, "request timed out after %d ms", timeout_ms);
        else
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            s_error (out, "cancelled");
        else
            s_error (out, "request to '%s' failed: %s", t->url,
                     *errbuf? errbuf: curl_easy_strerror (rc));
        goto fail;
    }
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    curl_slist_free_all (resolve);
    out->status = (int) status;
    return 0;
fail:
    if (curl)
        curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    curl_slist_free_all (resolve);
    return -1;
}

//  ---------------------------------------------------------------------
//  The request

//  Says which redirect hop failed: "redirect to 'URL': <error>".
static void
s_redirect_error (http_response_t *out, const char *url)
{
    char first [sizeof out->error];
    snprintf (first, sizeof first, "%s", out->error);
    snprintf (out->error, sizeof out->error, "redirect to '%.200s': %.290s", url, first);
}

static bool
s_is_redirect (int status)
{
    return status == 301 || status == 302 || status == 303
        || status == 307 || status == 308;
}

//  Changes method and body for the next hop as the status says.
static void
s_plan_redirect (s_plan_t *plan, int status)
{
    bool to_get = (status == 303 && strcmp (plan->method, "HEAD") != 0)
               || ((status == 301 || status == 302) && strcmp (plan->method, "POST") == 0);
    if (to_get) {
        snprintf (plan->method, sizeof plan->method, "GET");
        plan->body = NULL;
        plan->body_len = 0;
        plan->has_body = false;
        plan->drop_content_type = true;
    }
}

int
http_fetch (const net_rules_t *rules, const http_request_t *req, http_response_t *out)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    pthread_once (&s_init_once, s_global_init);
    if (s_init_rc != CURLE_OK) {
        s_error (out, "HTTP client not available: %s", curl_easy_strerror (s_init_rc));
        return -1;
    }
    if (!rules || !req || !req->url) {
        s_error (out, "no URL");
        return -1;
    }
    if (strnlen (req->url, HTTP_FETCH_URL_MAX + 1) > HTTP_FETCH_URL_MAX) {
        s_error (out, "URL longer than %d bytes", HTTP_FETCH_URL_MAX);
        return -1;
    }
    s_plan_t plan = { .body = req->body, .body_len = req->body_len };
    if (!s_method_canonical (req->method, plan.method, sizeof plan.method)) {
        s_error (out, "HTTP method '%.16s' is not allowed (GET POST PUT PATCH DELETE "
                      "HEAD OPTIONS)", req->method);
        return -1;
    }
    if (req->body_len > HTTP_FETCH_REQ_BODY_MAX || (req->body_len && !req->body)) {
        s_error (out, "request body missing or larger than %u MB",
                 HTTP_FETCH_REQ_BODY_MAX >> 20);
        return -1;
    }
    if (strcmp (plan.method, "HEAD") == 0 && req->body_len) {
        s_error (out, "a HEAD request cannot have a body");
        return -1;
    }
    plan.has_body = req->body_len > 0 || strcmp (plan.method, "POST") == 0
                 || strcmp (plan.method, "PUT") == 0 || strcmp (plan.method, "PATCH") == 0;
    if (s_check_headers (req, out))
        return -1;
    int timeout_ms = req->timeout_ms <= 0? HTTP_FETCH_TIMEOUT_DEFAULT
                   : req->timeout_ms > HTTP_FETCH_TIMEOUT_MAX? HTTP_FETCH_TIMEOUT_MAX
                   : req->timeout_ms;
    int64_t deadline = zclock_mono () + timeout_ms;

    CURLU *u = curl_url ();
    if (!u) {
        s_error (out, "out of memory");
        return -1;
    }
    CURLUcode urc = curl_url_set (u, CURLUPART_URL, req->url, 0);
    if (urc != CURLUE_OK) {
        s_error (out, "invalid URL: %s", curl_url_strerror (urc));
        curl_url_cleanup (u);
        return -1;
    }
    s_hop_t hop = { .req = req };
    hop.body_max = req->body_max && req->body_max < HTTP_FETCH_BODY_MAX
                 ? req->body_max: HTTP_FETCH_BODY_MAX;
    s_target_t target = { 0 }, previous = { 0 };
    int rc = -1;
    for (int hops = 0; ; hops++) {
        s_hop_reset (&hop);
        int step = s_check_hop (u, rules, &target, &hop, out);
        if (step == 0 && hops > 0
        && (strcmp (target.scheme, previous.scheme) != 0
         || strcmp (target.host, previous.host) != 0
         || target.port != previous.port))
            plan.drop_credentials = true;
        if (step == 0)
            step = s_perform (u, &target, &plan, req, deadline, timeout_ms, &hop, out);
        if (step != 0) {
            if (hops > 0)
                s_redirect_error (out, target.url);
            break;
        }
        if (!s_is_redirect (out->status) || !hop.location || !*hop.location
        ||  req->no_redirects) {
            char *url = NULL;
            if (curl_url_get (u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
                s_error (out, "out of memory");
                break;
            }
            out->final_url = strdup (url);
            curl_free (url);
            if (!hop.body)
                hop.body = calloc (1, 1);
            if (!out->final_url || !hop.body) {
                s_error (out, "out of memory");
                break;
            }
            out->headers = hop.headers;
            out->body = hop.body;
            out->body_len = req->on_body? 0: hop.body_len;
            hop.headers = NULL;
            hop.body = NULL;
            rc = 0;
            break;
        }
        if (hops == HTTP_FETCH_MAX_REDIRECTS) {
            s_error (out, "too many redirects (more than %d)", HTTP_FETCH_MAX_REDIRECTS);
            break;
        }
        if (strnlen (hop.location, HTTP_FETCH_URL_MAX + 1) > HTTP_FETCH_URL_MAX) {
            s_error (out, "redirect Location longer than %d bytes", HTTP_FETCH_URL_MAX);
            break;
        }
        urc = curl_url_set (u, CURLUPART_URL, hop.location, 0);
        if (urc != CURLUE_OK) {
            s_error (out, "redirect to an invalid URL: %s", curl_url_strerror (urc));
            break;
        }
        s_plan_redirect (&plan, out->status);
        previous = target;
        out->status = 0;
    }
    if (rc != 0) {
        out->status = 0;
        free (out->final_url);
        out->final_url = NULL;
    }
    s_hop_reset (&hop);
    curl_url_cleanup (u);
    return rc;
}

int
http_fetch_check (const net_rules_t *rules, const char *url,
                  char *address, size_t addrlen, char *error, size_t errlen)
{
    http_response_t out = { 0 };
    s_hop_t hop = { .body_max = HTTP_FETCH_BODY_MAX };
    s_target_t target = { 0 };
    CURLU *u = NULL;
    int rc = -1;
    if (address && addrlen)
        address [0] = '\0';
    if (!rules || !url)
        s_error (&out, "no URL");
    else
    if (strnlen (url, HTTP_FETCH_URL_MAX + 1) > HTTP_FETCH_URL_MAX)
        s_error (&out, "URL longer than %d bytes", HTTP_FETCH_URL_MAX);
    else
    if (!(u = curl_url ()))
        s_error (&out, "out of memory");
    else {
        CURLUcode urc = curl_url_set (u, CURLUPART_URL, url, 0);
        if (urc != CURLUE_OK)
            s_error (&out, "invalid URL: %s", curl_url_strerror (urc));
        else
        if (s_check_hop (u, rules, &target, &hop, &out) == 0) {
            ssrf_address_text ((struct sockaddr *) &hop.pinned, address, addrlen);
            rc = 0;
        }
    }
    curl_url_cleanup (u);
    if (error && errlen)
        snprintf (error, errlen, "%s", rc == 0? "": out.error);
    return rc;
}

void
http_response_clear (http_response_t *resp)
{
    if (!resp)
        return;
    json_decref (resp->headers);
    free (resp->body);
    free (resp->final_url);
    memset (resp, 0, sizeof *resp);
}

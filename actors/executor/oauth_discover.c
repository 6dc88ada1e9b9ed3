/*  oauth_discover.c — see oauth_discover.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <czmq.h>
#include "http_fetch.h"
#include "oauth_discover.h"

static void
    s_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, errlen, fmt, args);
    va_end (args);
}

//  ---------------------------------------------------------------------
//  WWW-Authenticate

static bool
s_tchar (unsigned char c)
{
    return isalnum (c) || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

static const char *
s_skip_ows (const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int
oauth_www_authenticate_param (const char *header, const char *scheme,
                              const char *param, char *out, size_t outlen)
{
    if (!header || !out || outlen == 0)
        return -1;
    out [0] = '\0';
    const char *p = header;
    bool in_scheme = false;
    while (true) {
        p = s_skip_ows (p);
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 1;
        //  a token: a scheme, or a parameter's name
        const char *name = p;
        while (s_tchar ((unsigned char) *p))
            p++;
        size_t name_len = (size_t) (p - name);
        if (name_len == 0)
            return -1;
        const char *after = s_skip_ows (p);
        if (*after != '=') {
            //  a new challenge: "Scheme" [token68 | params]
            in_scheme = strlen (scheme) == name_len && strncasecmp (name, scheme, name_len) == 0;
            p = s_skip_ows (p);
            //  token68: token68 chars then "="*, alone before , or end
            const char *t = p;
            while (isalnum ((unsigned char) *t) || (*t && strchr ("-._~+/", *t)))
                t++;
            const char *e = t;
            while (*e == '=')
                e++;
            if (t > p && (*s_skip_ows (e) == ',' || !*s_skip_ows (e)) && (e > t || *s_skip_ows (t) != '='))
                p = e;          //  a token68 (no parameter to read in it)
            continue;
        }
        p = s_skip_ows (after + 1);
        char value [OAUTH_PARAM_MAX + 1];
        size_t len = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\') {
                    p++;
                    if (!*p)
                        return -1;
                }
                unsigned char c = (unsigned char) *p;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                    return -1;
                if (len == OAUTH_PARAM_MAX)
                    return -1;
                value [len++] = *p++;
            }
            if (*p != '"')
                return -1;
            p++;
        }
        else {
            while (s_tchar ((unsigned char) *p)) {
                if (len == OAUTH_PARAM_MAX)
                    return -1;
                value [len++] = *p++;
            }
            if (len == 0)
                return -1;
        }
        value [len] = '\0';
        p = s_skip_ows (p);
        if (*p && *p != ',')
            return -1;
        if (in_scheme && strlen (param) == name_len && strncasecmp (name, param, name_len) == 0) {
            if (len + 1 > outlen)
                return -1;
            memcpy (out, value, len + 1);
            return 0;
        }
    }
}

//  ---------------------------------------------------------------------
//  URLs

typedef struct {
    char origin [SSRF_HOST_MAX + 32];   //  scheme://host[:port]
    char path [2048];                   //  "" for "/" or none
} s_url_t;

//  An absolute http(s) URL without userinfo or fragment, split. 0 or -1.
//  Visible ASCII only (RFC 3986): an authorization endpoint is shown to the
//  admin to open, and bidi controls or look-alikes in it could disguise it.
static int
s_url_split (const char *text, s_url_t *out)
{
    memset (out, 0, sizeof *out);
    if (!text || strlen (text) > 2048)
        return -1;
    for (const char *p = text; *p; p++)
        if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e)
            return -1;
    CURLU *u = curl_url ();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *frag = NULL;
    int rc = -1;
    if (u && curl_url_set (u, CURLUPART_URL, text, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
    &&  (strcmp (scheme, "http") == 0 || strcmp (scheme, "https") == 0)
    &&  curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_USER, &user, 0) != CURLUE_OK
    &&  curl_url_get (u, CURLUPART_FRAGMENT, &frag, 0) != CURLUE_OK
    &&  curl_url_get (u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get (u, CURLUPART_PORT, &port, 0);
        snprintf (out->origin, sizeof out->origin, "%s://%s%s%s", scheme, host,
                  port ? ":" : "", port ? port : "");
        size_t len = strlen (path);
        while (len > 0 && path [len - 1] == '/')
            len--;
        snprintf (out->path, sizeof out->path, "%.*s", (int) len, path);
        rc = 0;
    }
    curl_free (scheme);
    curl_free (host);
    curl_free (port);
    curl_free (path);
    curl_free (user);
    curl_free (frag);
    curl_url_cleanup (u);
    return rc;
}

int
oauth_issuer_normal (const char *url, char *out, size_t outlen)
{
    s_url_t parts;
    if (s_url_split (url, &parts) != 0)
        return -1;
    int n = snprintf (out, outlen, "%s%s", parts.origin, parts.path);
    return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  Fetching

typedef struct {
    const net_rules_t *rules;
    int64_t            deadline;
    char              *err;
    size_t             errlen;
} s_ctx_t;

static int
s_left (s_ctx_t *ctx)
{
    int64_t left = ctx->deadline - zclock_mono ();
    return left <= 0 ? 0 : left > 300000 ? 300000 : (int) left;
}

//  GET url; a JSON object (200) or NULL: *status the HTTP status (0 when
//  no answer), err the reason.
static json_t *
s_get_json (s_ctx_t *ctx, const char *url, int *status)
{
    static const char *names [] = { "Accept" };
    static const char *values [] = { "application/json" };
    http_request_t req = {
        .method = "GET", .url = url, .header_names = names, .header_values = values,
        .header_count = 1, .timeout_ms = s_left (ctx), .body_max = OAUTH_METADATA_MAX,
    };
    http_response_t resp = { 0 };
    json_t *doc = NULL;
    *status = 0;
    if (req.timeout_ms <= 0)
        s_err (ctx->err, ctx->errlen, "the OAuth discovery ran out of time");
    else
    if (http_fetch (ctx->rules, &req, &resp) != 0)
        s_err (ctx->err, ctx->errlen, "%.200s: %.280s", url, resp.error);
    else
    if ((*status = resp.status) != 200)
        s_err (ctx->err, ctx->errlen, "%.200s answered HTTP %d", url, resp.status);
    else {
        json_error_t jerr;
        doc = json_loadb (resp.body, resp.body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object (doc)) {
            s_err (ctx->err, ctx->errlen, "%.200s is not a JSON object", url);
            json_decref (doc);
            doc = NULL;
        }
    }
    http_response_clear (&resp);
    return doc;
}

//  An endpoint named in metadata: an http(s) URL that passes the network
//  and SSRF rules (a check only: nothing is sent). 0, or -1 with err.
static int
s_check_endpoint (s_ctx_t *ctx, const json_t *doc, const char *key, bool required,
                  bool browser)
{
    json_t *value = json_object_get (doc, key);
    if (!value) {
        if (required)
            s_err (ctx->err, ctx->errlen, "the authorization server's metadata has no %s", key);
        return required ? -1 : 0;
    }
    s_url_t parts;
    if (!json_is_string (value) || s_url_split (json_string_value (value), &parts)) {
        s_err (ctx->err, ctx->errlen, "the authorization server's %s is not an http(s) URL "
               "of visible ASCII without credentials", key);
        return -1;
    }
    if (browser)
        return 0;           //  the admin's browser opens it, not MCPbox
    char why [512];
    if (http_fetch_check (ctx->rules, json_string_value (value), NULL, 0, why, sizeof why)) {
        s_err (ctx->err, ctx->errlen, "the authorization server's %s is refused: %.300s",
               key, why);
        return -1;
    }
    return 0;
}

//  A legacy stream's probe wants its status and headers only: the body
//  (an event stream when no credential is asked for) is not read.
static http_body_t
s_probe_body (void *arg, int status, const json_t *headers, const char *data, size_t len)
{
    (void) arg; (void) status; (void) headers; (void) data; (void) len;
    return HTTP_BODY_DONE;
}

//  Step 1: the probe, the transport's first request (a legacy source has
//  only GET on its stream's URL). 0 with the header's resource_metadata
//  (or "") in out.
static int
s_probe (s_ctx_t *ctx, const char *url, mcp_transport_t transport, char *out, size_t outlen)
{
    static const char *names [] = { "Content-Type", "Accept" };
    static const char *values [] = { "application/json", "application/json, text/event-stream" };
    static const char *stream_names [] = { "Accept" };
    static const char *stream_values [] = { "text/event-stream" };
    static const char body [] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
        "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
        "\"clientInfo\":{\"name\":\"mcpbox\",\"version\":\"0\"}}}";
    bool legacy = transport == MCP_TRANSPORT_SSE;
    http_request_t req = {
        .method = legacy ? "GET" : "POST", .url = url,
        .header_names = legacy ? stream_names : names,
        .header_values = legacy ? stream_values : values,
        .header_count = legacy ? 1 : 2,
        .body = legacy ? NULL : body, .body_len = legacy ? 0 : sizeof body - 1,
        .on_body = legacy ? s_probe_body : NULL,
        .timeout_ms = s_left (ctx), .body_max = OAUTH_METADATA_MAX,
    };
    http_response_t resp = { 0 };
    int rc = -1;
    out [0] = '\0';
    if (req.timeout_ms <= 0)
        s_err (ctx->err, ctx->errlen, "the OAuth discovery ran out of time");
    else
    if (http_fetch (ctx->rules, &req, &resp) != 0)
        s_err (ctx->err, ctx->errlen, "the source: %.400s", resp.error);
    else
    if (resp.status != 401)
        s_err (ctx->err, ctx->errlen, "the source answered HTTP %d without credentials, "
               "not 401: it does not ask for OAuth", resp.status);
    else {
        const char *header = json_string_value (json_object_get (resp.headers,
                                                                 "www-authenticate"));
        int found = header ? oauth_www_authenticate_param (header, "Bearer",
                                                           "resource_metadata", out, outlen)
                           : 1;
        if (found < 0)
            s_err (ctx->err, ctx->errlen, "the source's WWW-Authenticate header is malformed");
        else
            rc = 0;
        if (found != 0)
            out [0] = '\0';
    }
    http_response_clear (&resp);
    return rc;
}

json_t *
oauth_discover (const char *url, mcp_transport_t transport, const net_rules_t *rules,
                int64_t deadline_ms, char *err, size_t errlen)
{
    s_ctx_t ctx = { rules, deadline_ms, err, errlen };
    s_url_t source;
    if (s_url_split (url, &source)) {
        s_err (err, errlen, "the source's URL is not an http(s) URL");
        return NULL;
    }
    char hinted [OAUTH_PARAM_MAX + 1];
    if (s_probe (&ctx, url, transport, hinted, sizeof hinted))
        return NULL;

    //  step 2: protected-resource metadata
    char candidates [3][4200];
    size_t count = 0;
    if (hinted [0])
        snprintf (candidates [count++], sizeof candidates [0], "%s", hinted);
    else {
        if (source.path [0])
            snprintf (candidates [count++], sizeof candidates [0],
                      "%s/.well-known/oauth-protected-resource%s", source.origin, source.path);
        snprintf (candidates [count++], sizeof candidates [0],
                  "%s/.well-known/oauth-protected-resource", source.origin);
    }
    json_t *prm = NULL;
    char prm_url [sizeof candidates [0]] = "";
    for (size_t i = 0; i < count && !prm; i++) {
        s_url_t check;
        if (s_url_split (candidates [i], &check)) {
            s_err (err, errlen, "the source's resource_metadata is not an http(s) URL");
            return NULL;
        }
        int status;
        prm = s_get_json (&ctx, candidates [i], &status);
        snprintf (prm_url, sizeof prm_url, "%.4199s", candidates [i]);
        if (!prm && status != 404)
            return NULL;
    }
    if (!prm)
        return NULL;
    json_t *resource = json_object_get (prm, "resource");
    json_t *servers = json_object_get (prm, "authorization_servers");
    s_url_t res;
    if (!json_is_string (resource) || s_url_split (json_string_value (resource), &res)
    ||  strcasecmp (res.origin, source.origin) != 0
    ||  strncmp (source.path, res.path, strlen (res.path)) != 0
    ||  (source.path [strlen (res.path)] != '\0' && source.path [strlen (res.path)] != '/')) {
        s_err (err, errlen, "the protected-resource metadata is not for this source "
               "(its resource must be the source's URL or a prefix of it ending at a '/')");
        json_decref (prm);
        return NULL;
    }
    json_t *first = json_array_get (servers, 0);
    s_url_t issuer;
    if (!json_is_array (servers) || !json_is_string (first)
    ||  s_url_split (json_string_value (first), &issuer)) {
        s_err (err, errlen, "the protected-resource metadata names no authorization server");
        json_decref (prm);
        return NULL;
    }
    char issuer_text [sizeof issuer.origin + sizeof issuer.path];
    snprintf (issuer_text, sizeof issuer_text, "%s%s", issuer.origin, issuer.path);

    //  step 3: authorization-server metadata (RFC 8414, then OIDC)
    count = 0;
    snprintf (candidates [count++], sizeof candidates [0],
              "%s/.well-known/oauth-authorization-server%s", issuer.origin, issuer.path);
    snprintf (candidates [count++], sizeof candidates [0],
              "%s/.well-known/openid-configuration%s", issuer.origin, issuer.path);
    if (issuer.path [0])
        snprintf (candidates [count++], sizeof candidates [0],
                  "%s%s/.well-known/openid-configuration", issuer.origin, issuer.path);
    json_t *as = NULL;
    for (size_t i = 0; i < count && !as; i++) {
        int status;
        as = s_get_json (&ctx, candidates [i], &status);
        if (!as && status != 404) {
            json_decref (prm);
            return NULL;
        }
    }
    if (!as) {
        json_decref (prm);
        return NULL;
    }
    json_t *result = NULL;
    json_t *as_issuer = json_object_get (as, "issuer");
    s_url_t named;
    json_t *methods = json_object_get (as, "code_challenge_methods_supported");
    bool s256 = false;
    size_t i;
    json_t *m;
    json_array_foreach (methods, i, m)
        s256 = s256 || (json_is_string (m) && strcmp (json_string_value (m), "S256") == 0);
    if (!json_is_string (as_issuer) || s_url_split (json_string_value (as_issuer), &named)
    ||  strcasecmp (named.origin, issuer.origin) != 0 || strcmp (named.path, issuer.path) != 0)
        s_err (err, errlen, "the authorization server's metadata names another issuer");
    else
    if (!s256)
        s_err (err, errlen, "the authorization server does not offer PKCE with S256");
    else
    if (s_check_endpoint (&ctx, as, "authorization_endpoint", true, true) == 0
    &&  s_check_endpoint (&ctx, as, "token_endpoint", true, false) == 0
    &&  s_check_endpoint (&ctx, as, "registration_endpoint", false, false) == 0
    &&  s_check_endpoint (&ctx, as, "revocation_endpoint", false, false) == 0) {
        result = json_pack ("{s:O, s:s, s:s, s:O, s:O, s:b, s:b}",
            "resource", resource, "resource_metadata_url", prm_url, "issuer", issuer_text,
            "authorization_endpoint", json_object_get (as, "authorization_endpoint"),
            "token_endpoint", json_object_get (as, "token_endpoint"),
            "client_id_metadata_document_supported",
            json_is_true (json_object_get (as, "client_id_metadata_document_supported")),
            "authorization_response_iss_parameter_supported",
            json_is_true (json_object_get (as,
                "authorization_response_iss_parameter_supported")));
        static const char *optional [] = { "registration_endpoint", "revocation_endpoint", NULL };
        for (size_t k = 0; result && optional [k]; k++)
            if (json_is_string (json_object_get (as, optional [k])))
                json_object_set (result, optional [k], json_object_get (as, optional [k]));
        json_t *scopes = json_object_get (prm, "scopes_supported");
        if (result && json_is_array (scopes) && json_array_size (scopes) <= 64)
            json_object_set (result, "scopes_supported", scopes);
        if (!result)
            s_err (err, errlen, "out of memory");
    }
    json_decref (prm);
    json_decref (as);
    return result;
}

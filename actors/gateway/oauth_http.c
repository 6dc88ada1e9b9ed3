/*  oauth_http.c — one OAuth endpoint call's life (oauth.h): who is asking
    and at which base URL, the bounded body, the bus request, the errors.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mcp.h"
#include "oauth.h"
#include "oauth_form.h"

#define S_HEADER_MAX 512

static void
s_free (void *state)
{
    oauth_call_t *call = state;
    json_decref (call->params);
    json_decref (call->ctx);
    if (call->raw)
        explicit_bzero (call->raw, call->raw_size);     //  passwords, tokens
    free (call->raw);
    explicit_bzero (call, sizeof *call);
    free (call);
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    oauth_call_t *call = http_req_state (req);
    if (!call || ticket != call->ticket || !call->on_reply)
        return;
    call->retry_after = bus_json_retry_after (body, size);
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    oauth_reply_fn *fn = call->on_reply;
    call->on_reply = NULL;
    fn (call, &reply);
    bus_json_clear (&reply);
}

static void
s_on_body (http_req_t *req, const void *data, size_t size)
{
    oauth_call_t *call = http_req_state (req);
    if (!call || call->raw_too_large)
        return;
    if (call->raw_size + size > OAUTH_BODY_MAX) {
        call->raw_too_large = true;
        http_req_close_after (req);
        oauth_error (call, 413, "invalid_request", "the request body is over 16 KB");
        return;
    }
    char *grown = realloc (call->raw, call->raw_size + size + 1);
    if (!grown) {
        oauth_error (call, 500, "server_error", "out of memory");
        return;
    }
    call->raw = grown;
    memcpy (call->raw + call->raw_size, data, size);
    call->raw_size += size;
    call->raw [call->raw_size] = 0;
}

static void
s_on_body_end (http_req_t *req)
{
    oauth_call_t *call = http_req_state (req);
    if (!call || http_req_answered (req) || !call->on_body)
        return;
    const char *why = "the body is empty";
    if (call->json_body) {
        json_error_t error;
        call->params = call->raw_size ? json_loadb (call->raw, call->raw_size,
                                                    JSON_REJECT_DUPLICATES, &error) : NULL;
        if (!json_is_object (call->params)) {
            oauth_error (call, 400, "invalid_client_metadata", "the body must be one JSON "
                         "object");
            return;
        }
    }
    else {
        call->params = call->raw_size ? oauth_form_parse (call->raw, call->raw_size,
                                                          OAUTH_VALUE_MAX, &why) : NULL;
        if (!call->params) {
            char message [160];
            snprintf (message, sizeof message, "the form body is not usable: %s", why);
            oauth_error (call, 400, "invalid_request", message);
            return;
        }
    }
    oauth_next_fn *next = call->on_body;
    call->on_body = NULL;
    next (call);
}

static const http_handler_t s_handler = {
    .on_reply    = s_on_reply,
    .free_state  = s_free,
    .on_body     = s_on_body,
    .on_body_end = s_on_body_end,
};

static bool
s_loopback_host (const char *host)
{
    size_t len = strcspn (host, ":");
    if (*host == '[')
        return strncmp (host, "[::1]", 5) == 0;
    return (len == 9 && strncasecmp (host, "localhost", 9) == 0)
        || strncmp (host, "127.", 4) == 0;
}

bool
oauth_base (http_req_t *req, char *base, size_t size, bool *https)
{
    const char *configured = oauth_public_url (http_req_gateway (req));
    if (*configured) {
        snprintf (base, size, "%s", configured);
        *https = strncmp (configured, "https://", 8) == 0;
        return strlen (configured) < size;
    }
    char host [200];
    struct lws *wsi = http_req_wsi (req);
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HOST);
    if (len <= 0 || len >= (int) sizeof host
    ||  lws_hdr_copy (wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
        return false;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '.' || *p == ':' || *p == '[' || *p == ']'))
            return false;
    *https = !s_loopback_host (host);
    snprintf (base, size, "%s://%s", *https ? "https" : "http", host);
    return true;
}

//  The call's base and resource. False when Host is unusable.
static bool
s_base (oauth_call_t *call)
{
    if (!oauth_base (call->req, call->base, sizeof call->base, &call->https))
        return false;
    snprintf (call->resource, sizeof call->resource, "%s/mcp", call->base);
    return true;
}

//  The request's Host, copied. False when absent or too long.
static bool
s_host (http_req_t *req, char *host, size_t size)
{
    struct lws *wsi = http_req_wsi (req);
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HOST);
    return len > 0 && len < (int) size
        && lws_hdr_copy (wsi, host, (int) size, WSI_TOKEN_HOST) > 0;
}

oauth_call_t *
oauth_call_new (http_req_t *req, bool cors)
{
    oauth_call_t *call = calloc (1, sizeof *call);
    if (!call) {
        http_req_respond_error (req, 500, "internal");
        return NULL;
    }
    call->req = req;
    call->gateway = http_req_gateway (req);
    http_req_set_handler (req, &s_handler, call);
    lws_get_peer_simple (http_req_wsi (req), call->client, sizeof call->client);
    if (cors) {
        http_req_add_header (req, "access-control-allow-origin:", "*");
        http_req_add_header (req, "access-control-expose-headers:", "www-authenticate");
    }
    //  the Host allowlist of /mcp on this listener (loopback names and
    //  allowed_hosts; remotely also remote_public_url's host): a page that
    //  DNS rebinding put on our address gets nothing, and the issuer and
    //  resource built from Host are only ever names of this server
    char host [S_HEADER_MAX];
    if (!s_host (req, host, sizeof host) || !mcp_allow_host (mcp_allow_for (req), host)) {
        oauth_error (call, 403, "invalid_request", "Forbidden: Host header not allowed");
        return NULL;
    }
    if (!s_base (call)) {
        oauth_error (call, 400, "invalid_request", "the Host header is missing or malformed");
        return NULL;
    }
    return call;
}

bool
oauth_same_origin (oauth_call_t *call)
{
    struct lws *wsi = http_req_wsi (call->req);
    char origin [S_HEADER_MAX], host [S_HEADER_MAX];
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_ORIGIN);
    if (len <= 0)
        return true;            //  not a browser's form: nothing to forge
    if (len >= (int) sizeof origin
    ||  lws_hdr_copy (wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
        return false;
    if (strcasecmp (origin, call->base) == 0)
        return true;
    //  the page as the browser loaded it: http or https (TLS may end at a
    //  tunnel) and exactly this request's Host, already on the allowlist.
    //  "null" (a sandboxed frame, a data: page) is never ours.
    const char *rest = strncasecmp (origin, "http://", 7) == 0 ? origin + 7
                     : strncasecmp (origin, "https://", 8) == 0 ? origin + 8 : NULL;
    return rest && s_host (call->req, host, sizeof host) && strcasecmp (rest, host) == 0;
}

oauth_call_t *
oauth_cors_start (http_req_t *req, const char *method)
{
    oauth_call_t *call = oauth_call_new (req, true);
    char allow [32];
    snprintf (allow, sizeof allow, "%s, OPTIONS", method);
    if (!call || oauth_preflight (call, allow))
        return NULL;
    if (strcmp (http_req_method (req), method) != 0) {
        http_req_add_header (req, "allow:", allow);
        oauth_error (call, 405, "invalid_request", strcmp (method, "GET") == 0 ? "GET only"
                                                                             : "POST only");
        return NULL;
    }
    return call;
}

bool
oauth_preflight (oauth_call_t *call, const char *methods)
{
    if (strcmp (http_req_method (call->req), "OPTIONS") != 0)
        return false;
    http_req_add_header (call->req, "access-control-allow-methods:", methods);
    http_req_add_header (call->req, "access-control-allow-headers:",
                         "authorization, content-type, mcp-protocol-version");
    http_req_add_header (call->req, "access-control-max-age:", "600");
    http_req_respond (call->req, 204, "text/plain", "", 0);
    return true;
}

void
oauth_read_body (oauth_call_t *call, bool json, oauth_next_fn *next)
{
    struct lws *wsi = http_req_wsi (call->req);
    char type [128] = "";
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (len > 0 && len < (int) sizeof type)
        lws_hdr_copy (wsi, type, sizeof type, WSI_TOKEN_HTTP_CONTENT_TYPE);
    const char *want = json ? "application/json" : "application/x-www-form-urlencoded";
    size_t want_len = strlen (want);
    if (strncasecmp (type, want, want_len) != 0
    ||  (type [want_len] && type [want_len] != ';' && type [want_len] != ' ')) {
        char message [120];
        snprintf (message, sizeof message, "the body must be %s", want);
        http_req_close_after (call->req);
        oauth_error (call, 415, json ? "invalid_client_metadata" : "invalid_request", message);
        return;
    }
    char length [24] = "";
    if (lws_hdr_copy (wsi, length, sizeof length, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0
    ||  atol (length) <= 0) {
        oauth_error (call, 400, "invalid_request", "a body (with Content-Length) is required");
        return;
    }
    if (atol (length) > OAUTH_BODY_MAX) {
        http_req_close_after (call->req);
        oauth_error (call, 413, "invalid_request", "the request body is over 16 KB");
        return;
    }
    call->json_body = json;
    call->on_body = next;
}

bool
oauth_read_query (oauth_call_t *call)
{
    struct lws *wsi = http_req_wsi (call->req);
    //  lws hands the query over as decoded fragments; re-encode each so the
    //  one form decoder applies its rules to every value
    size_t cap = OAUTH_FORM_FIELDS * (OAUTH_FORM_NAME_MAX + 3 * OAUTH_VALUE_MAX + 2) + 1;
    char *form = calloc (1, cap);
    char *piece = malloc (OAUTH_VALUE_MAX + OAUTH_FORM_NAME_MAX + 2);
    const char *why = "too many or too long parameters";
    bool ok = form && piece;
    for (int index = 0; ok; index++) {
        int len = lws_hdr_fragment_length (wsi, WSI_TOKEN_HTTP_URI_ARGS, index);
        if (len <= 0)
            break;
        if (index >= OAUTH_FORM_FIELDS || len > OAUTH_VALUE_MAX + OAUTH_FORM_NAME_MAX + 1
        ||  lws_hdr_copy_fragment (wsi, piece, OAUTH_VALUE_MAX + OAUTH_FORM_NAME_MAX + 2,
                                   WSI_TOKEN_HTTP_URI_ARGS, index) < 0) {
            ok = false;
            break;
        }
        char *eq = strchr (piece, '=');
        if (eq)
            *eq = 0;
        size_t used = strlen (form);
        if (used)
            form [used] = '&';
        ok = oauth_form_encode (form, cap, piece) == 0
          && (!eq || (strcat (form, "="), oauth_form_encode (form, cap, eq + 1) == 0));
    }
    if (ok) {
        call->params = oauth_form_parse (form, strlen (form), OAUTH_VALUE_MAX, &why);
        ok = call->params != NULL;
    }
    free (form);
    free (piece);
    if (!ok) {
        char message [200];
        snprintf (message, sizeof message, "The authorization request is malformed: %s.", why);
        http_req_add_header (call->req, "cache-control:", "no-store");
        http_req_respond (call->req, 400, "text/plain; charset=utf-8", message, strlen (message));
    }
    return ok;
}

const char *
oauth_param (oauth_call_t *call, const char *name)
{
    const char *value = json_string_value (json_object_get (call->params, name));
    return value ? value : "";
}

void
oauth_ask (oauth_call_t *call, const char *op, json_t *fields, oauth_reply_fn *fn)
{
    oauth_ask_service (call, "credentials", op, fields, OAUTH_BUS_TIMEOUT_MS, fn);
}

void
oauth_ask_service (oauth_call_t *call, const char *service, const char *op,
                   json_t *fields, int timeout_ms, oauth_reply_fn *fn)
{
    msgw_t *body = bus_json_request (op, fields);
    call->on_reply = fn;
    call->ticket = body ? http_req_submit (call->req, service, msgw_data (body),
                                           msgw_size (body), timeout_ms) : 0;
    if (body) {         //  may carry a password or a token
        explicit_bzero ((void *) msgw_data (body), msgw_size (body));
        msgw_destroy (&body);
    }
    if (!call->ticket) {
        call->on_reply = NULL;
        oauth_error (call, 503, "temporarily_unavailable", "a service MCPbox needs is "
                     "not available");
    }
}

void
oauth_error (oauth_call_t *call, int status, const char *error, const char *description)
{
    http_req_add_header (call->req, "pragma:", "no-cache");
    http_req_respond_json (call->req, status, json_pack ("{s:s, s:s}", "error", error,
                                                         "error_description", description));
}

void
oauth_cookie (oauth_call_t *call, char out [API_TOKEN_LEN + 1])
{
    static char text [4096 + 1];
    out [0] = 0;
    struct lws *wsi = http_req_wsi (call->req);
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_COOKIE);
    if (len > 0 && len < (int) sizeof text
    &&  lws_hdr_copy (wsi, text, sizeof text, WSI_TOKEN_HTTP_COOKIE) > 0
    &&  api_cookie_token (text, (size_t) len, OAUTH_CONSENT_COOKIE, out) != 1)
        out [0] = 0;
    explicit_bzero (text, sizeof text);
}

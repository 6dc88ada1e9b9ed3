/*  oauth_client.c — see oauth_client.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <czmq.h>
#include "http_fetch.h"
#include "oauth_client.h"
#include "oauth_uri.h"

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

static void
s_free_secret (char **text_p)
{
    if (*text_p) {
        explicit_bzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

//  Visible ASCII (0x21..0x7e) of 1..max bytes: a token, a client id.
static bool
s_visible (const json_t *value, size_t max)
{
    if (!json_is_string (value))
        return false;
    size_t len = json_string_length (value);
    const char *text = json_string_value (value);
    if (len == 0 || len > max || strlen (text) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x21 || (unsigned char) text [i] > 0x7e)
            return false;
    return true;
}

static json_t *
s_object (const char *body, size_t len, const char *what, char *err, size_t errlen)
{
    if (!body || len > OAUTH_RESPONSE_MAX) {
        s_err (err, errlen, "the %s answer is larger than %d bytes", what, OAUTH_RESPONSE_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object (doc)) {
        s_err (err, errlen, "the %s answer is not a JSON object", what);
        json_decref (doc);
        return NULL;
    }
    return doc;
}

//  ---------------------------------------------------------------------
//  Answers

int
oauth_tokens_parse (const char *body, size_t len, oauth_tokens_t *out,
                    char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    out->expires_in = -1;
    json_t *doc = s_object (body, len, "token endpoint's", err, errlen);
    if (!doc)
        return -1;
    int rc = -1;
    json_t *type = json_object_get (doc, "token_type");
    json_t *access = json_object_get (doc, "access_token");
    json_t *refresh = json_object_get (doc, "refresh_token");
    json_t *expires = json_object_get (doc, "expires_in");
    json_t *scope = json_object_get (doc, "scope");
    if (!json_is_string (type) || strcasecmp (json_string_value (type), "Bearer") != 0)
        s_err (err, errlen, "the token endpoint's token_type is not Bearer");
    else
    if (!s_visible (access, OAUTH_TOKEN_MAX))
        s_err (err, errlen, "the token endpoint's access_token is not a string of 1 to "
               "%d visible ASCII characters", OAUTH_TOKEN_MAX);
    else
    if (refresh && !json_is_null (refresh) && !s_visible (refresh, OAUTH_TOKEN_MAX))
        s_err (err, errlen, "the token endpoint's refresh_token is not a string of 1 to "
               "%d visible ASCII characters", OAUTH_TOKEN_MAX);
    else
    if (expires && !json_is_null (expires)
    &&  (!json_is_integer (expires) || json_integer_value (expires) < 0
         || json_integer_value (expires) > OAUTH_EXPIRES_MAX))
        s_err (err, errlen, "the token endpoint's expires_in is not an integer of seconds "
               "(0 to %lld)", (long long) OAUTH_EXPIRES_MAX);
    else
    if (scope && !json_is_null (scope)
    &&  (!json_is_string (scope) || json_string_length (scope) > OAUTH_SCOPE_BYTES
         || strlen (json_string_value (scope)) != json_string_length (scope)))
        s_err (err, errlen, "the token endpoint's scope is not a string of at most %d bytes",
               OAUTH_SCOPE_BYTES);
    else {
        out->access_token = strdup (json_string_value (access));
        if (json_is_string (refresh))
            out->refresh_token = strdup (json_string_value (refresh));
        if (json_is_string (scope))
            out->scope = strdup (json_string_value (scope));
        if (json_is_integer (expires))
            out->expires_in = json_integer_value (expires);
        if (!out->access_token || (json_is_string (refresh) && !out->refresh_token)
        ||  (json_is_string (scope) && !out->scope)) {
            oauth_tokens_clear (out);
            s_err (err, errlen, "out of memory");
        }
        else
            rc = 0;
    }
    json_decref (doc);      //  the executor's jansson allocator zeroes freed blocks
    return rc;
}

void
oauth_tokens_clear (oauth_tokens_t *tokens)
{
    s_free_secret (&tokens->access_token);
    s_free_secret (&tokens->refresh_token);
    free (tokens->scope);
    memset (tokens, 0, sizeof *tokens);
    tokens->expires_in = -1;
}

//  True when uris is absent/null, or an array holding want (NULL: any).
static bool
s_uris_hold (json_t *uris, const char *want)
{
    if (!uris || json_is_null (uris))
        return true;
    if (!json_is_array (uris))
        return false;
    if (!want)
        return true;
    size_t i;
    json_t *uri;
    json_array_foreach (uris, i, uri) {
        if (json_is_string (uri) && strlen (json_string_value (uri)) == json_string_length (uri)
        &&  strcmp (json_string_value (uri), want) == 0)
            return true;
    }
    return false;
}

int
oauth_registration_parse (const char *body, size_t len, const char *redirect_uri,
                          oauth_registration_t *out, char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    json_t *doc = s_object (body, len, "registration endpoint's", err, errlen);
    if (!doc)
        return -1;
    int rc = -1;
    json_t *id = json_object_get (doc, "client_id");
    json_t *secret = json_object_get (doc, "client_secret");
    json_t *method = json_object_get (doc, "token_endpoint_auth_method");
    bool has_secret = secret && !json_is_null (secret);
    if (!s_visible (id, OAUTH_CLIENT_ID_BYTES))
        s_err (err, errlen, "the registration answer's client_id is not a string of 1 to "
               "%d visible ASCII characters", OAUTH_CLIENT_ID_BYTES);
    else
    if (has_secret && !s_visible (secret, OAUTH_SECRET_MAX))
        s_err (err, errlen, "the registration answer's client_secret is not a string of 1 "
               "to %d visible ASCII characters", OAUTH_SECRET_MAX);
    else
    if (!s_uris_hold (json_object_get (doc, "redirect_uris"), redirect_uri))
        s_err (err, errlen, "the registration answer's redirect_uris do not hold the "
               "redirect URI MCPbox registered: the authorization server registered another");
    else
    if (method && !json_is_null (method)
    &&  (!json_is_string (method)
         || (strcmp (json_string_value (method), "none") != 0
             && strcmp (json_string_value (method), "client_secret_post") != 0
             && strcmp (json_string_value (method), "client_secret_basic") != 0)))
        s_err (err, errlen, "the registration answer's token_endpoint_auth_method is not "
               "none, client_secret_post or client_secret_basic");
    else {
        const char *how = json_is_string (method) ? json_string_value (method)
                        : has_secret ? "client_secret_basic" : "none";
        if (strcmp (how, "none") != 0 && !has_secret)
            s_err (err, errlen, "the registration answer asks for %s but gives no "
                   "client_secret", how);
        else {
            snprintf (out->auth_method, sizeof out->auth_method, "%s", how);
            out->client_id = strdup (json_string_value (id));
            if (has_secret && strcmp (how, "none") != 0)
                out->client_secret = strdup (json_string_value (secret));
            if (!out->client_id || (has_secret && strcmp (how, "none") != 0
                                    && !out->client_secret)) {
                oauth_registration_clear (out);
                s_err (err, errlen, "out of memory");
            }
            else
                rc = 0;
        }
    }
    json_decref (doc);
    return rc;
}

void
oauth_registration_clear (oauth_registration_t *reg)
{
    free (reg->client_id);
    s_free_secret (&reg->client_secret);
    memset (reg, 0, sizeof *reg);
}

//  Printable ASCII of value, at most max bytes, into out (appending).
static void
s_safe_append (char *out, size_t outlen, const char *value, size_t max)
{
    size_t n = strlen (out);
    for (size_t i = 0; value [i] && i < max && n + 1 < outlen; i++) {
        unsigned char c = (unsigned char) value [i];
        out [n++] = c >= 0x20 && c < 0x7f ? (char) c : '?';
    }
    out [n] = 0;
}

void
oauth_error_text (const char *body, size_t len, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out [0] = 0;
    if (!body || len > OAUTH_RESPONSE_MAX)
        return;
    json_t *doc = json_loadb (body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *code = json_string_value (json_object_get (doc, "error"));
    const char *text = json_string_value (json_object_get (doc, "error_description"));
    if (code) {
        s_safe_append (out, outlen, code, 64);
        if (text) {
            s_safe_append (out, outlen, ": ", 2);
            s_safe_append (out, outlen, text, 200);
        }
    }
    json_decref (doc);
}

//  ---------------------------------------------------------------------
//  Encoders

static int
s_pairs_append (char *out, size_t cap, const char *const *names,
                const char *const *values, size_t count, bool first)
{
    for (size_t i = 0; i < count; i++) {
        if (!values [i])
            continue;
        size_t n = strlen (out);
        if (!first) {
            if (n + 2 >= cap)
                return -1;
            out [n++] = '&';
            out [n] = 0;
        }
        first = false;
        if (oauth_percent_append (out, cap, names [i]))
            return -1;
        n = strlen (out);
        if (n + 2 >= cap)
            return -1;
        out [n++] = '=';
        out [n] = 0;
        if (oauth_percent_append (out, cap, values [i]))
            return -1;
    }
    return 0;
}

char *
oauth_authorize_url (const char *endpoint, const char *const *names,
                     const char *const *values, size_t count)
{
    if (!endpoint || strchr (endpoint, '#') || strlen (endpoint) >= OAUTH_AUTH_URL_MAX)
        return NULL;
    char *url = calloc (1, OAUTH_AUTH_URL_MAX + 1);
    if (!url)
        return NULL;
    //  the endpoint may carry a query of its own (RFC 6749 §3.1: kept)
    char last = endpoint [0] ? endpoint [strlen (endpoint) - 1] : 0;
    const char *sep = !strchr (endpoint, '?') ? "?" : last == '?' || last == '&' ? "" : "&";
    snprintf (url, OAUTH_AUTH_URL_MAX + 1, "%s%s", endpoint, sep);
    if (s_pairs_append (url, OAUTH_AUTH_URL_MAX + 1, names, values, count, true)) {
        free (url);
        return NULL;
    }
    return url;
}

char *
oauth_form_body (const char *const *names, const char *const *values, size_t count)
{
    char *form = calloc (1, OAUTH_FORM_MAX + 1);
    if (form && s_pairs_append (form, OAUTH_FORM_MAX + 1, names, values, count, true)) {
        explicit_bzero (form, OAUTH_FORM_MAX + 1);
        free (form);
        form = NULL;
    }
    return form;
}

static void
s_base64url (char out [OAUTH_VERIFIER_LEN + 1], const unsigned char bytes [32])
{
    sodium_bin2base64 (out, OAUTH_VERIFIER_LEN + 1, bytes, 32,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
oauth_pkce_new (char verifier [OAUTH_VERIFIER_LEN + 1], char challenge [OAUTH_VERIFIER_LEN + 1])
{
    unsigned char bytes [32];
    randombytes_buf (bytes, sizeof bytes);
    s_base64url (verifier, bytes);
    crypto_hash_sha256 (bytes, (const unsigned char *) verifier, OAUTH_VERIFIER_LEN);
    s_base64url (challenge, bytes);
    sodium_memzero (bytes, sizeof bytes);
}

static bool
s_id_ok (const char *id, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((id [i] >= '0' && id [i] <= '9') || (id [i] >= 'a' && id [i] <= 'f')
              || id [i] == '-'))
            return false;
    return true;
}

int
oauth_state_new (const char *source_id, char *out, size_t outlen)
{
    if (!source_id || !s_id_ok (source_id, strlen (source_id)))
        return -1;
    unsigned char bytes [32];
    char random [OAUTH_VERIFIER_LEN + 1];
    randombytes_buf (bytes, sizeof bytes);
    s_base64url (random, bytes);
    int n = snprintf (out, outlen, "%s.%s", source_id, random);
    return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

int
oauth_state_source (const char *state, char *out, size_t outlen)
{
    const char *dot = state ? strchr (state, '.') : NULL;
    if (!dot || !s_id_ok (state, (size_t) (dot - state)) || (size_t) (dot - state) >= outlen)
        return -1;
    memcpy (out, state, (size_t) (dot - state));
    out [dot - state] = 0;
    return 0;
}

//  ---------------------------------------------------------------------
//  Requests

static int
s_left (const oauth_net_t *net)
{
    int64_t left = net->deadline_ms - zclock_mono ();
    return left <= 0 ? 0 : left > 300000 ? 300000 : (int) left;
}

int
oauth_register (const oauth_net_t *net, const char *registration_endpoint,
                const char *redirect_uri, const char *scope,
                oauth_registration_t *out, char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    json_t *ask = json_pack ("{s:s, s:[s], s:[s, s], s:[s], s:s}",
        "client_name", "MCPbox", "redirect_uris", redirect_uri,
        "grant_types", "authorization_code", "refresh_token",
        "response_types", "code", "token_endpoint_auth_method", "none");
    if (ask && scope && *scope)
        json_object_set_new (ask, "scope", json_string (scope));
    char *body = ask ? json_dumps (ask, JSON_COMPACT) : NULL;
    json_decref (ask);
    if (!body) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    static const char *names [] = { "Content-Type", "Accept" };
    static const char *values [] = { "application/json", "application/json" };
    http_request_t req = {
        .method = "POST", .url = registration_endpoint, .header_names = names,
        .header_values = values, .header_count = 2, .body = body, .body_len = strlen (body),
        .timeout_ms = s_left (net), .body_max = OAUTH_RESPONSE_MAX, .cancel = net->cancel,
        .no_redirects = true,       //  the request is for this endpoint only
    };
    http_response_t resp = { 0 };
    int rc = -1;
    if (req.timeout_ms <= 0)
        s_err (err, errlen, "the client registration ran out of time");
    else
    if (http_fetch (net->rules, &req, &resp) != 0)
        s_err (err, errlen, "the registration endpoint: %.400s", resp.error);
    else
    if (resp.status >= 300 && resp.status < 400)
        s_err (err, errlen, "the registration endpoint answered a redirect (HTTP %d), "
               "which is not followed", resp.status);
    else
    if (resp.status != 200 && resp.status != 201) {
        char why [300];
        oauth_error_text (resp.body, resp.body_len, why, sizeof why);
        s_err (err, errlen, "the registration endpoint answered HTTP %d%s%s", resp.status,
               why [0] ? ": " : "", why);
    }
    else
        rc = oauth_registration_parse (resp.body, resp.body_len, redirect_uri, out,
                                       err, errlen);
    http_response_clear (&resp);
    free (body);
    return rc;
}

int
oauth_token_request (const oauth_net_t *net, const char *token_endpoint,
                     const char *form, const char *client_id,
                     const char *client_secret, const char *auth_method,
                     oauth_tokens_t *out, bool *refused, char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    out->expires_in = -1;
    *refused = false;
    bool basic = auth_method && strcmp (auth_method, "client_secret_basic") == 0;
    bool post = auth_method && strcmp (auth_method, "client_secret_post") == 0;
    if ((basic || post) && (!client_secret || !*client_secret)) {
        s_err (err, errlen, "the client has no secret for %s", auth_method);
        return -1;
    }
    //  the body, with client_secret added for client_secret_post
    size_t cap = strlen (form) + (post ? 3 * OAUTH_SECRET_MAX + 32 : 0) + 1;
    char *body = calloc (1, cap);
    char *authorization = NULL;
    if (!body) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    memcpy (body, form, strlen (form));
    if (post) {
        strcat (body, "&client_secret=");
        oauth_percent_append (body, cap, client_secret);
    }
    const char *names [3] = { "Content-Type", "Accept", "Authorization" };
    const char *values [3] = { "application/x-www-form-urlencoded", "application/json", NULL };
    size_t count = 2;
    if (basic) {
        //  RFC 6749 §2.3.1: both parts form-encoded, then Basic
        size_t plain_cap = 3 * (OAUTH_CLIENT_ID_BYTES + OAUTH_SECRET_MAX) + 2;
        char *plain = calloc (1, plain_cap);
        size_t b64_cap = sodium_base64_encoded_len (plain_cap, sodium_base64_VARIANT_ORIGINAL);
        authorization = calloc (1, b64_cap + 8);
        if (!plain || !authorization || oauth_percent_append (plain, plain_cap, client_id)
        ||  (strcat (plain, ":"), oauth_percent_append (plain, plain_cap, client_secret))) {
            if (plain)
                explicit_bzero (plain, plain_cap);
            free (plain);
            free (authorization);
            explicit_bzero (body, cap);
            free (body);
            s_err (err, errlen, "out of memory");
            return -1;
        }
        memcpy (authorization, "Basic ", 6);
        sodium_bin2base64 (authorization + 6, b64_cap, (unsigned char *) plain, strlen (plain),
                           sodium_base64_VARIANT_ORIGINAL);
        explicit_bzero (plain, plain_cap);
        free (plain);
        values [2] = authorization;
        count = 3;
    }
    http_request_t req = {
        .method = "POST", .url = token_endpoint, .header_names = names,
        .header_values = values, .header_count = count, .body = body, .body_len = strlen (body),
        .timeout_ms = s_left (net), .body_max = OAUTH_RESPONSE_MAX, .cancel = net->cancel,
        //  the body holds the code and verifier, or the refresh token (and a
        //  client secret): a redirect, even to an allowed host, would carry
        //  them to another endpoint (RFC 6749 defines none for this one)
        .no_redirects = true,
    };
    http_response_t resp = { 0 };
    int rc = -1;
    if (req.timeout_ms <= 0)
        s_err (err, errlen, "the token request ran out of time");
    else
    if (http_fetch (net->rules, &req, &resp) != 0)
        s_err (err, errlen, "the token endpoint: %.400s", resp.error);
    else
    if (resp.status >= 300 && resp.status < 400)
        s_err (err, errlen, "the token endpoint answered a redirect (HTTP %d), which is "
               "not followed: it would carry the grant to another address", resp.status);
    else
    if (resp.status != 200) {
        char why [300];
        oauth_error_text (resp.body, resp.body_len, why, sizeof why);
        //  400/401 with an OAuth error: the grant itself is refused
        *refused = (resp.status == 400 || resp.status == 401) && why [0];
        s_err (err, errlen, "the token endpoint answered HTTP %d%s%s", resp.status,
               why [0] ? ": " : "", why);
    }
    else
        rc = oauth_tokens_parse (resp.body, resp.body_len, out, err, errlen);
    if (resp.body)
        explicit_bzero (resp.body, resp.body_len);
    http_response_clear (&resp);
    explicit_bzero (body, cap);
    free (body);
    if (authorization) {
        explicit_bzero (authorization, strlen (authorization));
        free (authorization);
    }
    return rc;
}

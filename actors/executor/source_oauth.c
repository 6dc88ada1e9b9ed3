/*  source_oauth.c — see source_oauth.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include <sodium.h>
#include "bus.h"
#include "ids.h"
#include "json_msgpack.h"
#include "oauth_client.h"
#include "oauth_discover.h"
#include "source_oauth.h"

#define S_ASK_MS        5000        //  one question to credentials, at most
#define S_WAIT_STEP_MS  250         //  between asks while another refreshes
#define S_ISS_PROMISED  ".i"        //  a state's end: the AS promised iss

//  RFC 9207: the authorization response's iss, when given (or when the AS
//  promised it), must be the issuer this authorization began with; else the
//  code may come from another server (a mix-up) and must not be sent to
//  this one's token endpoint with the verifier. NULL when it holds, else why.
static const char *
s_iss_refused (const source_spec_t *spec, const char *issuer, char *why, size_t whylen)
{
    size_t len = strlen (spec->state), tail = strlen (S_ISS_PROMISED);
    bool promised = len > tail && strcmp (spec->state + len - tail, S_ISS_PROMISED) == 0;
    if (!spec->iss) {
        if (!promised)
            return NULL;
        snprintf (why, whylen, "the authorization server promised an iss parameter "
                  "(RFC 9207) and the authorization response has none: refused (a "
                  "mix-up of authorization servers?); start again with mcpbox sources "
                  "authorize");
        return why;
    }
    char normal [2200];
    if (issuer && oauth_issuer_normal (spec->iss, normal, sizeof normal) == 0
    &&  strcmp (normal, issuer) == 0)
        return NULL;
    snprintf (why, whylen, "the authorization response's iss '%.200s' is not the "
              "authorization server this authorization began with ('%.200s'): refused, "
              "the code may come from another server (RFC 9207 mix-up); start again with "
              "mcpbox sources authorize", spec->iss, issuer ? issuer : "");
    return why;
}

//  type SourceError: could not (network, a malformed answer, a service
//  down); SourceRefused: the answer is no (an unknown or spent state, a
//  grant the authorization server refused): starting again is the way.
static json_t *
s_failure_as (source_spec_t *spec, const char *type, const char *message)
{
    size_t len = 0;
    char *clean = redactor_text (spec->redactor, message, strlen (message), false, &len);
    json_t *result = json_pack ("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                                "type", type, "message", clean ? clean : "error");
    free (clean);
    return result;
}

static json_t *
s_failure (source_spec_t *spec, const char *message)
{
    return s_failure_as (spec, "SourceError", message);
}

static int
s_left (int64_t deadline_ms)
{
    int64_t left = deadline_ms - zclock_mono ();
    return left <= 0 ? 0 : left > S_ASK_MS ? S_ASK_MS : (int) left;
}

//  One op of credentials; *answer the reply's map (caller decrefs) on 0.
//  -1 with why; *code the bus error (NONE when no answer could be read).
static int
s_ask (source_spec_t *spec, json_t *body, int64_t deadline_ms, json_t **answer,
       bus_error_t *code, char *err, size_t errlen)
{
    *answer = NULL;
    *code = BUS_ERR_NONE;
    if (!spec->bus_endpoint || strncmp (spec->bus_endpoint, "ipc://", 6) != 0) {
        snprintf (err, errlen, "this executor joined over tcp:// and cannot ask credentials "
                  "for an OAuth source's tokens (only the main machine's executors can): "
                  "run OAuth sources on a local executor");
        return -1;
    }
    msgw_t *w = msgw_new ();
    if (msgw_json (w, body) != 0) {
        msgw_destroy (&w);
        snprintf (err, errlen, "cannot encode the question to credentials");
        return -1;
    }
    bus_client_t *client = bus_client_new (spec->bus_endpoint);
    int rc = -1;
    //  asked once more when the worker it reached had died (a restart)
    for (int attempt = 0; client && attempt < 2 && rc != 0; attempt++) {
        int timeout = s_left (deadline_ms);
        if (timeout <= 0) {
            snprintf (err, errlen, "the OAuth source's job ran out of time");
            break;
        }
        bus_reply_t *reply = bus_client_call (client, "credentials", msgw_data (w),
                                              msgw_size (w), timeout);
        msg_t *msg = reply ? bus_reply_decode (reply, NULL) : NULL;
        if (!msg)
            snprintf (err, errlen, "credentials did not answer");
        else
        if (!msg_is_ok (msg)) {
            *code = msg_error_code (msg);
            snprintf (err, errlen, "%.400s", *msg_error_message (msg)
                      ? msg_error_message (msg) : bus_error_name (*code));
        }
        else {
            *answer = json_from_msgpack (msg_root (msg));
            if (*answer)
                rc = 0;
            else
                snprintf (err, errlen, "credentials' answer could not be read");
        }
        msg_destroy (&msg);
        size_t size = 0;
        const void *data = reply ? bus_reply_body (reply, &size) : NULL;
        if (data)
            explicit_bzero ((void *) data, size);   //  it may hold tokens
        bus_reply_destroy (&reply);
        if (rc != 0 && *code != BUS_ERR_WORKER_LOST)
            break;
    }
    if (!client)
        snprintf (err, errlen, "cannot connect to the bus");
    bus_client_destroy (&client);
    explicit_bzero ((void *) msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
    return rc;
}

static const char *
s_str (const json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

//  Sets key to value when value is a non-empty string.
static void
s_set_opt (json_t *object, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (object, key, json_string (value));
}

//  ---------------------------------------------------------------------
//  oauth_begin

//  The scope to ask for: the job's, else the resource's scopes_supported.
static void
s_scope (source_spec_t *spec, const json_t *found, char *out, size_t outlen)
{
    out [0] = 0;
    if (spec->scope && *spec->scope) {
        snprintf (out, outlen, "%s", spec->scope);
        return;
    }
    size_t i;
    json_t *scope;
    json_array_foreach (json_object_get (found, "scopes_supported"), i, scope) {
        const char *text = json_string_value (scope);
        if (!text || !*text || strchr (text, ' ') || strlen (out) + strlen (text) + 2 > outlen)
            continue;
        if (out [0])
            strcat (out, " ");
        strcat (out, text);
    }
}

json_t *
source_oauth_begin (source_spec_t *spec, const net_rules_t *rules,
                    int64_t deadline_ms, const atomic_bool *cancel)
{
    char err [MCP_CLIENT_ERROR_MAX] = "";
    json_t *found = oauth_discover (spec->url, spec->transport, rules, deadline_ms,
                                    err, sizeof err);
    if (!found)
        return s_failure (spec, err);
    oauth_net_t net = { rules, deadline_ms, cancel };
    oauth_registration_t reg = { 0 };
    const char *registration = NULL;
    char scope [OAUTH_SCOPE_BYTES + 1];
    s_scope (spec, found, scope, sizeof scope);
    const char *endpoint = s_str (found, "registration_endpoint");
    if (json_is_true (json_object_get (found, "client_id_metadata_document_supported"))
    &&  spec->client_metadata_url && *spec->client_metadata_url) {
        reg.client_id = strdup (spec->client_metadata_url);
        snprintf (reg.auth_method, sizeof reg.auth_method, "none");
        registration = "client_id_metadata_document";
    }
    else
    if (endpoint) {
        if (oauth_register (&net, endpoint, spec->redirect_uri, scope, &reg,
                            err, sizeof err) != 0) {
            json_decref (found);
            return s_failure (spec, err);
        }
        registration = "dynamic";
    }
    else {
        json_decref (found);
        return s_failure (spec, "the authorization server offers no way to register "
                          "MCPbox as a client: no registration_endpoint (RFC 7591), and "
                          "no Client ID Metadata Document (it does not support them, or "
                          "MCPbox has no https source_oauth_client_metadata_url set)");
    }
    if (!reg.client_id) {
        json_decref (found);
        return s_failure (spec, "out of memory");
    }
    if (reg.client_secret)
        redactor_add (spec->redactor, reg.client_secret, strlen (reg.client_secret));
    char verifier [OAUTH_VERIFIER_LEN + 1], challenge [OAUTH_VERIFIER_LEN + 1];
    char state [OAUTH_STATE_BYTES];
    oauth_pkce_new (verifier, challenge);
    json_t *result = NULL;
    //  an AS that promises iss in its responses (RFC 9207) is held to it: the
    //  state says so (".i"), and credentials finds the pending only by the
    //  whole state's hash, so it cannot be taken off on the way back
    bool iss_promised = json_is_true (json_object_get (found,
                            "authorization_response_iss_parameter_supported"));
    if (oauth_state_new (spec->source_id, state, sizeof state) != 0
    ||  (iss_promised && strlen (state) + 3 > sizeof state))
        result = s_failure (spec, "the job's source_id is not an id");
    else {
        if (iss_promised)
            strcat (state, S_ISS_PROMISED);
        json_t *ask = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:s}",
            "op", "source_oauth.begin", "source_id", spec->source_id,
            "server_id", spec->server_id, "state", state, "verifier", verifier,
            "client_id", reg.client_id,
            "issuer", json_object_get (found, "issuer"),
            "token_endpoint", json_object_get (found, "token_endpoint"),
            "resource", s_str (found, "resource"), "redirect_uri", spec->redirect_uri);
        if (ask) {
            s_set_opt (ask, "client_secret", reg.client_secret);
            s_set_opt (ask, "token_endpoint_auth_method", reg.auth_method);
            s_set_opt (ask, "revocation_endpoint", s_str (found, "revocation_endpoint"));
            s_set_opt (ask, "scope", scope);
        }
        json_t *answer = NULL;
        bus_error_t code = BUS_ERR_NONE;
        if (!ask)
            result = s_failure (spec, "out of memory");
        else
        if (s_ask (spec, ask, deadline_ms, &answer, &code, err, sizeof err) != 0) {
            char text [MCP_CLIENT_ERROR_MAX + 64];
            snprintf (text, sizeof text, "credentials could not keep the authorization: %s",
                      err);
            result = s_failure (spec, text);
        }
        else {
            const char *names [] = { "response_type", "client_id", "redirect_uri",
                "code_challenge", "code_challenge_method", "state", "resource", "scope" };
            const char *values [] = { "code", reg.client_id, spec->redirect_uri, challenge,
                "S256", state, s_str (found, "resource"), scope [0] ? scope : NULL };
            char *url = oauth_authorize_url (s_str (found, "authorization_endpoint"),
                                             names, values, 8);
            result = url ? json_pack ("{s:b, s:s, s:O, s:s, s:s}", "success", 1,
                                      "authorization_url", url,
                                      "issuer", json_object_get (found, "issuer"),
                                      "registration", registration,
                                      "redirect_uri", spec->redirect_uri)
                         : s_failure (spec, "the authorization URL would be too long");
            free (url);
        }
        json_decref (ask);
        json_decref (answer);
    }
    sodium_memzero (verifier, sizeof verifier);
    oauth_registration_clear (&reg);
    json_decref (found);
    return result;
}

//  How the client authenticates at the token endpoint: as registered
//  (credentials keeps it, migration 0015), or for rows from before: with a
//  secret client_secret_post (RFC 6749 §2.3.1), else none.
static const char *
s_method (const json_t *client)
{
    const char *method = s_str (client, "token_endpoint_auth_method");
    if (method && (strcmp (method, "none") == 0 || strcmp (method, "client_secret_post") == 0
                   || strcmp (method, "client_secret_basic") == 0))
        return method;
    return s_str (client, "client_secret") ? "client_secret_post" : "none";
}

//  ---------------------------------------------------------------------
//  Token requests

//  The form, the request, the tokens. names/values: the grant's fields.
static int
s_token (const oauth_net_t *net, const json_t *client, const char *const *names,
         const char *const *values, size_t count, oauth_tokens_t *tokens, bool *refused,
         char *err, size_t errlen)
{
    char *form = oauth_form_body (names, values, count);
    if (!form) {
        snprintf (err, errlen, "the token request would be too long");
        *refused = false;
        return -1;
    }
    const char *method = s_method (client);
    int rc = oauth_token_request (net, s_str (client, "token_endpoint"), form,
                                  s_str (client, "client_id"), s_str (client, "client_secret"),
                                  method, tokens, refused, err, errlen);
    explicit_bzero (form, strlen (form));
    free (form);
    return rc;
}

//  client_id goes in the form unless the client authenticates with Basic
//  (RFC 6749 §4.1.3: it is there for a client that does not authenticate).
static const char *
s_form_client_id (const json_t *client)
{
    return strcmp (s_method (client), "client_secret_basic") == 0
         ? NULL : s_str (client, "client_id");
}

//  source_oauth.store's body from the client's fields and new tokens.
static json_t *
s_store_body (source_spec_t *spec, const json_t *client, const char *server_id,
              const oauth_tokens_t *tokens, const char *old_refresh, const char *lease)
{
    json_t *body = json_pack ("{s:s, s:s, s:s, s:O, s:O, s:O, s:s}",
        "op", "source_oauth.store", "source_id", spec->source_id, "server_id", server_id,
        "client_id", json_object_get (client, "client_id"),
        "token_endpoint", json_object_get (client, "token_endpoint"),
        "resource", json_object_get (client, "resource"),
        "access_token", tokens->access_token);
    if (!body)
        return NULL;
    s_set_opt (body, "client_secret", s_str (client, "client_secret"));
    s_set_opt (body, "token_endpoint_auth_method", s_str (client, "token_endpoint_auth_method"));
    s_set_opt (body, "revocation_endpoint", s_str (client, "revocation_endpoint"));
    s_set_opt (body, "scope", tokens->scope ? tokens->scope : s_str (client, "scope"));
    //  an authorization server that does not rotate refresh tokens keeps the old one
    s_set_opt (body, "refresh_token", tokens->refresh_token ? tokens->refresh_token
                                                            : old_refresh);
    if (tokens->expires_in >= 0)
        json_object_set_new (body, "expires_at_ms",
                             json_integer (ids_now_ms () + tokens->expires_in * 1000));
    s_set_opt (body, "lease", lease);
    return body;
}

//  ---------------------------------------------------------------------
//  oauth_exchange

json_t *
source_oauth_exchange (source_spec_t *spec, const net_rules_t *rules,
                       int64_t deadline_ms, const atomic_bool *cancel)
{
    char err [MCP_CLIENT_ERROR_MAX] = "";
    json_t *ask = json_pack ("{s:s, s:s}", "op", "source_oauth.pending", "state", spec->state);
    json_t *pending = NULL;
    bus_error_t code = BUS_ERR_NONE;
    int asked = ask ? s_ask (spec, ask, deadline_ms, &pending, &code, err, sizeof err) : -1;
    json_decref (ask);
    if (asked != 0)
        return code == BUS_ERR_NOT_FOUND
            ? s_failure_as (spec, "SourceRefused", "this authorization is unknown or "
                            "expired (it is good for 10 minutes and once): start again "
                            "with mcpbox sources authorize")
            : s_failure (spec, err [0] ? err : "out of memory");
    json_t *result = NULL;
    const char *source_id = s_str (pending, "source_id");
    const char *server_id = s_str (pending, "server_id");
    char why [600];
    if (!source_id || strcmp (source_id, spec->source_id) != 0 || !server_id
    ||  !s_str (pending, "token_endpoint") || !s_str (pending, "client_id")
    ||  !s_str (pending, "verifier") || !s_str (pending, "redirect_uri")
    ||  !s_str (pending, "resource"))
        result = s_failure_as (spec, "SourceRefused", "the pending authorization is not "
                               "this source's, or incomplete");
    else
    if (s_iss_refused (spec, s_str (pending, "issuer"), why, sizeof why))
        result = s_failure_as (spec, "SourceRefused", why);
    else {
        const char *secret = s_str (pending, "client_secret");
        if (secret)
            redactor_add (spec->redactor, secret, strlen (secret));
        oauth_net_t net = { rules, deadline_ms, cancel };
        const char *names [] = { "grant_type", "code", "redirect_uri", "code_verifier",
                                 "client_id", "resource" };
        const char *values [] = { "authorization_code", spec->code,
            s_str (pending, "redirect_uri"), s_str (pending, "verifier"),
            s_form_client_id (pending), s_str (pending, "resource") };
        oauth_tokens_t tokens;
        bool refused;
        if (s_token (&net, pending, names, values, 6, &tokens, &refused, err, sizeof err))
            result = s_failure_as (spec, refused ? "SourceRefused" : "SourceError", err);
        else {
            redactor_add (spec->redactor, tokens.access_token, strlen (tokens.access_token));
            if (tokens.refresh_token)
                redactor_add (spec->redactor, tokens.refresh_token,
                              strlen (tokens.refresh_token));
            json_t *store = s_store_body (spec, pending, server_id, &tokens, NULL, NULL);
            json_t *answer = NULL;
            if (!store)
                result = s_failure (spec, "out of memory");
            else
            if (s_ask (spec, store, deadline_ms, &answer, &code, err, sizeof err) != 0) {
                char text [MCP_CLIENT_ERROR_MAX + 64];
                snprintf (text, sizeof text, "credentials could not keep the tokens: %s", err);
                result = s_failure (spec, text);
            }
            else {
                result = json_pack ("{s:b, s:s}", "success", 1, "source_id", spec->source_id);
                json_t *expires = json_object_get (store, "expires_at_ms");
                if (result && expires)
                    json_object_set (result, "expires_at_ms", expires);
            }
            json_decref (store);
            json_decref (answer);
            oauth_tokens_clear (&tokens);
        }
    }
    json_decref (pending);
    return result;
}

//  ---------------------------------------------------------------------
//  bearer

//  Refreshes with the lease credentials granted; the new access token
//  (new string) or NULL with why (the lease released with fail).
static char *
s_refresh (source_spec_t *spec, const json_t *grant, const net_rules_t *rules,
           int64_t deadline_ms, const atomic_bool *cancel, char *err, size_t errlen)
{
    const char *lease = s_str (grant, "lease");
    const char *refresh = s_str (grant, "refresh_token");
    if (!lease || !refresh || !s_str (grant, "token_endpoint") || !s_str (grant, "client_id")) {
        snprintf (err, errlen, "credentials' refresh grant is incomplete");
        return NULL;
    }
    redactor_add (spec->redactor, refresh, strlen (refresh));
    const char *secret = s_str (grant, "client_secret");
    if (secret)
        redactor_add (spec->redactor, secret, strlen (secret));
    oauth_net_t net = { rules, deadline_ms, cancel };
    const char *names [] = { "grant_type", "refresh_token", "client_id", "resource", "scope" };
    const char *values [] = { "refresh_token", refresh, s_form_client_id (grant),
                              s_str (grant, "resource"), s_str (grant, "scope") };
    oauth_tokens_t tokens;
    bool refused = false;
    char *access = NULL;
    json_t *answer = NULL;
    bus_error_t code = BUS_ERR_NONE;
    char why [MCP_CLIENT_ERROR_MAX];
    if (s_token (&net, grant, names, values, 5, &tokens, &refused, err, errlen) != 0) {
        //  transient (unreachable, 5xx): the tokens are kept for a later try;
        //  refused (invalid_grant...): credentials drops them
        json_t *fail = json_pack ("{s:s, s:s, s:s, s:s, s:b}", "op", "source_oauth.fail",
                                  "source_id", spec->source_id, "lease", lease,
                                  "error", err, "transient", !refused);
        if (fail)
            s_ask (spec, fail, deadline_ms + 2000, &answer, &code, why, sizeof why);
        json_decref (fail);
        json_decref (answer);
        if (refused) {
            size_t len = strlen (err);
            snprintf (err + len, errlen - len, "; the source must be authorized again "
                      "(mcpbox sources authorize %s)", spec->source_id);
        }
        return NULL;
    }
    redactor_add (spec->redactor, tokens.access_token, strlen (tokens.access_token));
    if (tokens.refresh_token)
        redactor_add (spec->redactor, tokens.refresh_token, strlen (tokens.refresh_token));
    json_t *store = s_store_body (spec, grant, spec->server_id, &tokens, refresh, lease);
    if (!store)
        snprintf (err, errlen, "out of memory");
    else
    if (s_ask (spec, store, deadline_ms, &answer, &code, why, sizeof why) != 0)
        snprintf (err, errlen, "credentials could not keep the refreshed tokens: %s", why);
    else
        access = strdup (tokens.access_token);
    json_decref (store);
    json_decref (answer);
    oauth_tokens_clear (&tokens);
    return access;
}

char *
source_oauth_bearer (source_spec_t *spec, const net_rules_t *rules,
                     int64_t deadline_ms, const atomic_bool *cancel, bool force,
                     char *err, size_t errlen)
{
    char *access = NULL;
    while (!access) {
        if (cancel && atomic_load (cancel)) {
            snprintf (err, errlen, "cancelled");
            return NULL;
        }
        json_t *ask = json_pack ("{s:s, s:s, s:b}", "op", "source_oauth.token",
                                 "source_id", spec->source_id, "force_refresh", force);
        json_t *answer = NULL;
        bus_error_t code = BUS_ERR_NONE;
        int rc = ask ? s_ask (spec, ask, deadline_ms, &answer, &code, err, errlen) : -1;
        json_decref (ask);
        if (rc != 0) {
            if (code == BUS_ERR_NOT_FOUND)
                snprintf (err, errlen, "the source is not authorized: run mcpbox sources "
                          "authorize %s", spec->source_id);
            return NULL;
        }
        const char *token = s_str (answer, "access_token");
        json_t *grant = json_object_get (answer, "refresh");
        json_t *wait = json_object_get (answer, "wait_ms");
        bool waited = false;
        if (token && *token) {
            if (!(access = strdup (token)))
                snprintf (err, errlen, "out of memory");
        }
        else
        if (json_is_object (grant))
            access = s_refresh (spec, grant, rules, deadline_ms, cancel, err, errlen);
        else
        if (json_is_integer (wait)) {
            int64_t ms = json_integer_value (wait);
            ms = ms < 10 ? 10 : ms > S_WAIT_STEP_MS ? S_WAIT_STEP_MS : ms;
            if (zclock_mono () + ms >= deadline_ms) {
                snprintf (err, errlen, "the source's token is being refreshed by another "
                          "call, which did not finish in time");
                json_decref (answer);
                return NULL;
            }
            zclock_sleep ((int) ms);
            force = false;          //  the other caller's refresh is the fresh token
            waited = true;
        }
        else
            snprintf (err, errlen, "credentials' token answer is malformed");
        json_decref (answer);
        if (!access && !waited)
            return NULL;
    }
    redactor_add (spec->redactor, access, strlen (access));
    size_t len = strlen (access) + 8;
    char *value = malloc (len);
    if (value)
        snprintf (value, len, "Bearer %s", access);
    else
        snprintf (err, errlen, "out of memory");
    explicit_bzero (access, strlen (access));
    free (access);
    return value;
}

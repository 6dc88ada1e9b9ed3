/*  ops_source_oauth.c — the source OAuth ops of service `credentials`
    (docs/BUS_OPS.md; the interface agreed in DESIGN.md section 14):

      source_oauth.begin   {source_id, server_id, state, verifier, client_id,
                            client_secret?, issuer, token_endpoint,
                            revocation_endpoint?, resource, redirect_uri, scope?}
      source_oauth.pending {state}        the pending authorization, once
      source_oauth.store   {source_id, server_id, client_id, client_secret?,
                            token_endpoint, revocation_endpoint?, resource, scope?,
                            access_token, refresh_token?, expires_at_ms?, lease?}
      source_oauth.token   {source_id, force_refresh?}
                           -> {access_token, expires_at_ms?} | {refresh: {...}}
                              | {wait_ms}
      source_oauth.fail    {source_id, lease, error, transient?}
      source_oauth.status  {source_ids: [..]}   never a secret
      source_oauth.forget  {source_id}
    begin and store also take token_endpoint_auth_method? (none,
    client_secret_post, client_secret_basic: migration 0015), which pending
    and token's refresh grant give back.

    Who may call: like job_secrets, only processes on the local bus (the
    0700 run directory); a remote executor's tcp connection is refused by
    the broker for every op here (broker_remote.h lets only job_secrets
    through). The bus carries no caller identity (proto/README.md), so the
    split "executor for begin/pending/store/token/fail" is the callers'
    contract, not a check made here.

    Every field is bounded and typed before anything is stored; unknown
    fields are refused. Replies that carry a secret are packed into one
    buffer sized in advance, sent, and wiped; requests that carried one are
    wiped in place.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fields.h"
#include "log.h"
#include "oauth_uri.h"
#include "ops_util.h"
#include "source_oauth.h"

typedef enum { S_ID, S_URL, S_VSCHAR, S_SPACED, S_VERIFIER, S_LEASE, S_TEXT, S_METHOD } s_kind_t;

//  RFC 6749 VSCHAR (%x20-7E) without the space unless spaced.
static bool
s_ascii (const char *text, bool spaced)
{
    for (const char *p = text; *p; p++)
        if (*p < (spaced ? 0x20 : 0x21) || *p > 0x7e)
            return false;
    return true;
}

static bool
s_valid (const char *text, s_kind_t kind)
{
    switch (kind) {
        case S_ID:       return creds_server_id_valid (text);
        case S_URL:      return s_ascii (text, false)
                             && (strncmp (text, "https://", 8) == 0
                              || strncmp (text, "http://", 7) == 0);
        case S_VSCHAR:   return s_ascii (text, false);
        case S_SPACED:   return s_ascii (text, true);
        case S_VERIFIER: return oauth_pkce_verifier_valid (text);
        case S_LEASE:    return strlen (text) == SOURCE_OAUTH_LEASE_TEXT && s_ascii (text, false);
        case S_TEXT:     return true;   //  UTF-8 without NUL: field_text checked it
        case S_METHOD:   return strcmp (text, "none") == 0
                             || strcmp (text, "client_secret_post") == 0
                             || strcmp (text, "client_secret_basic") == 0;
    }
    return false;
}

//  Read one text field into out (size with the NUL), at least min bytes
//  when present. 0 (absent and optional: ""), or -1 with *reply set.
static int
s_field (msg_t *request, const char *key, bool required, char *out, size_t size, size_t min,
         s_kind_t kind, msgw_t **reply)
{
    bus_err_t err;
    int rc = field_text (msg_root (request), key, required, size - 1, false, out, &err);
    if (rc < 0) {
        const msgpack_object *value = msg_map_get (msg_root (request), key);
        bool long_text = value && value->type == MSGPACK_OBJECT_STR
                      && value->via.str.size > size - 1;
        char message [160];
        if (long_text)
            snprintf (message, sizeof message, "%s: at most %zu bytes", key, size - 1);
        else
            snprintf (message, sizeof message, "%s: %s", key, required
                      ? "a string is required" : "must be a string");
        *reply = msgw_error_new (long_text ? BUS_ERR_TOO_LARGE : BUS_ERR_BAD_REQUEST, message);
        return -1;
    }
    if (rc == 1 || (!required && !*out))
        return 0;
    if (strlen (out) < min || !s_valid (out, kind)) {
        static const char *const what [] = {
            [S_ID]       = "1-64 of [A-Za-z0-9_-]",
            [S_URL]      = "an http(s) URL of printable ASCII",
            [S_VSCHAR]   = "printable ASCII without spaces",
            [S_SPACED]   = "printable ASCII",
            [S_VERIFIER] = "a PKCE verifier (43-128 of [A-Za-z0-9-._~])",
            [S_LEASE]    = "a lease as source_oauth.token gave it",
            [S_TEXT]     = "text",
            [S_METHOD]   = "none, client_secret_post or client_secret_basic",
        };
        char message [160];
        snprintf (message, sizeof message, "%s: must be %s%s", key, what [kind],
                  min > 1 && kind != S_VERIFIER && kind != S_LEASE ? " (long enough)" : "");
        *out = 0;
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, message);
        return -1;
    }
    return 0;
}

static int
s_keys (msg_t *request, const char *const *keys, msgw_t **reply)
{
    bus_err_t err;
    if (field_keys_only (msg_root (request), "request", keys, &err) != 0) {
        *reply = msgw_error_new (err.code, err.message);
        return -1;
    }
    return 0;
}

static void
s_wipe_request (msg_t *request)
{
    static const char *const secret [] = { "state", "verifier", "client_secret",
                                           "access_token", "refresh_token", "lease", NULL };
    for (const char *const *key = secret; *key; key++)
        ops_wipe_field (request, *key);
}

//  The request no longer carries a secret once answered: wipe the deferred
//  copy's body too, then reply.
static void
s_reply (service_t *service, msg_t *request, msgw_t **reply)
{
    s_wipe_request (request);
    bus_request_t *deferred = service_defer (service);
    if (deferred)
        bus_request_wipe_body (deferred);
    service_reply (service, &deferred, reply);
}

static msgw_t *
s_ok (void)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 1);
    msgw_kv_bool (w, "ok", true);
    return w;
}

static msgw_t *
s_not_authorized (const char *source_id, bool expired)
{
    char message [200];
    snprintf (message, sizeof message, expired
              ? "the source's access token expired and there is no refresh token: "
                "run mcpbox sources authorize %s"
              : "the source is not authorized: run mcpbox sources authorize %s", source_id);
    return msgw_error_new (BUS_ERR_NOT_FOUND, message);
}

//  --- packing replies that carry secrets ----------------------------------------

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer  pk;
    size_t          capacity;
} s_pack_t;

static int
s_pack_start (s_pack_t *p, const source_oauth_t *f)
{
    //  every text field at most once, plus keys and headers
    p->capacity = 1024 + strlen (f->source_id) + strlen (f->server_id) + strlen (f->client_id)
                + strlen (f->issuer) + strlen (f->token_endpoint)
                + strlen (f->revocation_endpoint) + strlen (f->resource)
                + strlen (f->redirect_uri) + strlen (f->scope) + strlen (f->verifier)
                + strlen (f->client_secret) + strlen (f->access_token)
                + strlen (f->refresh_token) + strlen (f->auth_method) + 15 * 5;
    p->buffer = (msgpack_sbuffer) { 0, malloc (p->capacity), p->capacity };
    if (!p->buffer.data)
        return -1;
    msgpack_packer_init (&p->pk, &p->buffer, msgpack_sbuffer_write);
    return 0;
}

static void
s_pack_str (s_pack_t *p, const char *key, const char *value)
{
    msgpack_pack_str_with_body (&p->pk, key, strlen (key));
    msgpack_pack_str_with_body (&p->pk, value, strlen (value));
}

static void
s_pack_int (s_pack_t *p, const char *key, int64_t value)
{
    msgpack_pack_str_with_body (&p->pk, key, strlen (key));
    msgpack_pack_int64 (&p->pk, value);
}

//  Send the packed reply (or an error when it outgrew its buffer), wipe it.
static void
s_pack_send (service_t *service, msg_t *request, s_pack_t *p, const char *op)
{
    s_wipe_request (request);
    bus_request_t *deferred = service_defer (service);
    if (deferred)
        bus_request_wipe_body (deferred);
    if (p->buffer.alloc != p->capacity) {
        log_error ("%s: the reply outgrew its buffer", op);
        msgw_t *error = msgw_error_new (BUS_ERR_INTERNAL, "could not pack the reply");
        service_reply (service, &deferred, &error);
    }
    else
        service_reply_raw (service, &deferred, p->buffer.data, p->buffer.size);
    sodium_memzero (p->buffer.data, p->buffer.alloc);
    free (p->buffer.data);
}

//  --- the ops -------------------------------------------------------------------

static void
s_begin (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_id", "server_id", "state", "verifier",
        "client_id", "client_secret", "issuer", "token_endpoint", "revocation_endpoint",
        "resource", "redirect_uri", "scope", "token_endpoint_auth_method", NULL };
    source_oauth_t *f = source_oauth_new ();
    if (!f) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    msgw_t *w = NULL;
    if (s_keys (request, keys, &w)
    ||  s_field (request, "source_id", true, f->source_id, sizeof f->source_id, 1, S_ID, &w)
    ||  s_field (request, "server_id", true, f->server_id, sizeof f->server_id, 1, S_ID, &w)
    ||  s_field (request, "state", true, f->state, sizeof f->state, SOURCE_OAUTH_STATE_MIN,
                 S_VSCHAR, &w)
    ||  s_field (request, "verifier", true, f->verifier, sizeof f->verifier, 43, S_VERIFIER, &w)
    ||  s_field (request, "client_id", true, f->client_id, sizeof f->client_id, 1, S_VSCHAR, &w)
    ||  s_field (request, "client_secret", false, f->client_secret, sizeof f->client_secret, 1,
                 S_VSCHAR, &w)
    ||  s_field (request, "issuer", true, f->issuer, sizeof f->issuer, 1, S_URL, &w)
    ||  s_field (request, "token_endpoint", true, f->token_endpoint, sizeof f->token_endpoint,
                 1, S_URL, &w)
    ||  s_field (request, "revocation_endpoint", false, f->revocation_endpoint,
                 sizeof f->revocation_endpoint, 1, S_URL, &w)
    ||  s_field (request, "resource", true, f->resource, sizeof f->resource, 1, S_URL, &w)
    ||  s_field (request, "redirect_uri", true, f->redirect_uri, sizeof f->redirect_uri, 1,
                 S_URL, &w)
    ||  s_field (request, "scope", false, f->scope, sizeof f->scope, 1, S_SPACED, &w)
    ||  s_field (request, "token_endpoint_auth_method", false, f->auth_method,
                 sizeof f->auth_method, 1, S_METHOD, &w))
        goto done;
    int rc = source_oauth_begin (self, f, source_oauth_now_ms ());
    if (rc == 0) {
        log_info ("source %s: authorization started (server %s)", f->source_id, f->server_id);
        w = s_ok ();
    }
    else
    if (rc == 1)
        w = msgw_error_new (BUS_ERR_CONFLICT, "state: already used by another authorization");
    else
    if (rc == 2)
        w = msgw_error_new (BUS_ERR_RATE_LIMITED, "too many authorizations pending: "
                            "finish or wait for some (10 minutes)");
    else
    if (rc == -2)
        w = msgw_error_new (BUS_ERR_INTERNAL, "cannot seal the authorization");
    else
        w = ops_db_error (self->db, "source_oauth.begin");
done:
    source_oauth_destroy (&f);
    s_reply (service, request, &w);
}

static void
s_pending (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    static const char *const keys [] = { "op", "state", NULL };
    source_oauth_t *f = source_oauth_new ();
    if (!f) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    msgw_t *w = NULL;
    if (s_keys (request, keys, &w)
    ||  s_field (request, "state", true, f->state, sizeof f->state, SOURCE_OAUTH_STATE_MIN,
                 S_VSCHAR, &w))
        goto done;
    int rc = source_oauth_take_pending (self, f->state, source_oauth_now_ms (), f);
    if (rc == 1) {
        w = msgw_error_new (BUS_ERR_NOT_FOUND, "no authorization is pending with this state "
                            "(unknown, used or expired: run mcpbox sources authorize again)");
        goto done;
    }
    if (rc != 0) {
        w = msgw_error_new (BUS_ERR_INTERNAL, "the pending authorization cannot be read");
        goto done;
    }
    s_pack_t p;
    if (s_pack_start (&p, f) != 0) {
        w = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        goto done;
    }
    msgpack_pack_map (&p.pk, 9 + (f->client_secret [0] != 0) + (f->scope [0] != 0)
                      + (f->revocation_endpoint [0] != 0) + (f->auth_method [0] != 0));
    msgpack_pack_str_with_body (&p.pk, "ok", 2);
    msgpack_pack_true (&p.pk);
    s_pack_str (&p, "source_id", f->source_id);
    s_pack_str (&p, "server_id", f->server_id);
    s_pack_str (&p, "verifier", f->verifier);
    s_pack_str (&p, "client_id", f->client_id);
    if (f->client_secret [0])
        s_pack_str (&p, "client_secret", f->client_secret);
    s_pack_str (&p, "issuer", f->issuer);
    s_pack_str (&p, "token_endpoint", f->token_endpoint);
    if (f->revocation_endpoint [0])
        s_pack_str (&p, "revocation_endpoint", f->revocation_endpoint);
    s_pack_str (&p, "resource", f->resource);
    s_pack_str (&p, "redirect_uri", f->redirect_uri);
    if (f->scope [0])
        s_pack_str (&p, "scope", f->scope);
    if (f->auth_method [0])
        s_pack_str (&p, "token_endpoint_auth_method", f->auth_method);
    log_info ("source %s: pending authorization taken", f->source_id);
    source_oauth_destroy (&f);
    s_pack_send (service, request, &p, "source_oauth.pending");
    return;
done:
    source_oauth_destroy (&f);
    s_reply (service, request, &w);
}

static void
s_store (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_id", "server_id", "client_id",
        "client_secret", "token_endpoint", "revocation_endpoint", "resource", "scope",
        "access_token", "refresh_token", "expires_at_ms", "lease", "token_endpoint_auth_method",
        NULL };
    source_oauth_t *f = source_oauth_new ();
    if (!f) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    char lease [SOURCE_OAUTH_LEASE_TEXT + 1] = "";
    msgw_t *w = NULL;
    bus_err_t err;
    if (s_keys (request, keys, &w)
    ||  s_field (request, "source_id", true, f->source_id, sizeof f->source_id, 1, S_ID, &w)
    ||  s_field (request, "server_id", true, f->server_id, sizeof f->server_id, 1, S_ID, &w)
    ||  s_field (request, "client_id", true, f->client_id, sizeof f->client_id, 1, S_VSCHAR, &w)
    ||  s_field (request, "client_secret", false, f->client_secret, sizeof f->client_secret, 1,
                 S_VSCHAR, &w)
    ||  s_field (request, "token_endpoint", true, f->token_endpoint, sizeof f->token_endpoint,
                 1, S_URL, &w)
    ||  s_field (request, "revocation_endpoint", false, f->revocation_endpoint,
                 sizeof f->revocation_endpoint, 1, S_URL, &w)
    ||  s_field (request, "resource", true, f->resource, sizeof f->resource, 1, S_URL, &w)
    ||  s_field (request, "scope", false, f->scope, sizeof f->scope, 1, S_SPACED, &w)
    ||  s_field (request, "access_token", true, f->access_token, sizeof f->access_token, 1,
                 S_VSCHAR, &w)
    ||  s_field (request, "refresh_token", false, f->refresh_token, sizeof f->refresh_token, 1,
                 S_SPACED, &w)
    ||  s_field (request, "lease", false, lease, sizeof lease, SOURCE_OAUTH_LEASE_TEXT, S_LEASE,
                 &w)
    ||  s_field (request, "token_endpoint_auth_method", false, f->auth_method,
                 sizeof f->auth_method, 1, S_METHOD, &w))
        goto done;
    if (field_int (msg_root (request), "expires_at_ms", false, 0, INT64_C (1) << 53,
                   &f->expires_at_ms, &err) < 0) {
        w = msgw_error_new (err.code, err.message);
        goto done;
    }
    int rc = source_oauth_store (self, f, lease, source_oauth_now_ms ());
    if (rc == 0) {
        log_info ("source %s: tokens stored%s", f->source_id, lease [0] ? " (refreshed)" : "");
        w = s_ok ();
    }
    else
    if (rc == 1)
        w = msgw_error_new (BUS_ERR_CONFLICT, "lease: not the source's current refresh lease "
                            "(it was taken over, or the source was authorized again)");
    else
    if (rc == -2)
        w = msgw_error_new (BUS_ERR_INTERNAL, "cannot seal the tokens");
    else
        w = ops_db_error (self->db, "source_oauth.store");
done:
    sodium_memzero (lease, sizeof lease);
    source_oauth_destroy (&f);
    s_reply (service, request, &w);
}

static void
s_token (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_id", "force_refresh", NULL };
    source_oauth_t *f = source_oauth_new ();
    if (!f) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    char source_id [SOURCE_OAUTH_ID_MAX + 1];
    char lease [SOURCE_OAUTH_LEASE_TEXT + 1] = "";
    bool force = false;
    bus_err_t err;
    msgw_t *w = NULL;
    if (s_keys (request, keys, &w)
    ||  s_field (request, "source_id", true, source_id, sizeof source_id, 1, S_ID, &w))
        goto done;
    if (field_bool (msg_root (request), "force_refresh", &force, &err) < 0) {
        w = msgw_error_new (err.code, err.message);
        goto done;
    }
    int64_t wait_ms = 0;
    source_oauth_answer_t answer = source_oauth_token (self, source_id, force,
                                                       source_oauth_now_ms (), f, lease,
                                                       &wait_ms);
    if (answer == SOURCE_OAUTH_NONE || answer == SOURCE_OAUTH_EXPIRED) {
        w = s_not_authorized (source_id, answer == SOURCE_OAUTH_EXPIRED);
        goto done;
    }
    if (answer == SOURCE_OAUTH_WAIT) {
        w = msgw_new ();
        msgw_map (w, 2);
        msgw_kv_bool (w, "ok", true);
        msgw_kv_int (w, "wait_ms", wait_ms);
        goto done;
    }
    if (answer != SOURCE_OAUTH_ACCESS && answer != SOURCE_OAUTH_REFRESH) {
        w = msgw_error_new (BUS_ERR_INTERNAL, "the source's tokens cannot be read");
        goto done;
    }
    s_pack_t p;
    if (s_pack_start (&p, f) != 0) {
        w = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (answer == SOURCE_OAUTH_ACCESS) {
        msgpack_pack_map (&p.pk, 2 + (f->expires_at_ms > 0));
        msgpack_pack_str_with_body (&p.pk, "ok", 2);
        msgpack_pack_true (&p.pk);
        s_pack_str (&p, "access_token", f->access_token);
        if (f->expires_at_ms > 0)
            s_pack_int (&p, "expires_at_ms", f->expires_at_ms);
    }
    else {
        msgpack_pack_map (&p.pk, 2);
        msgpack_pack_str_with_body (&p.pk, "ok", 2);
        msgpack_pack_true (&p.pk);
        msgpack_pack_str_with_body (&p.pk, "refresh", 7);
        msgpack_pack_map (&p.pk, 5 + (f->client_secret [0] != 0) + (f->scope [0] != 0)
                          + (f->auth_method [0] != 0));
        s_pack_str (&p, "lease", lease);
        s_pack_str (&p, "refresh_token", f->refresh_token);
        s_pack_str (&p, "client_id", f->client_id);
        if (f->client_secret [0])
            s_pack_str (&p, "client_secret", f->client_secret);
        s_pack_str (&p, "token_endpoint", f->token_endpoint);
        s_pack_str (&p, "resource", f->resource);
        if (f->scope [0])
            s_pack_str (&p, "scope", f->scope);
        if (f->auth_method [0])
            s_pack_str (&p, "token_endpoint_auth_method", f->auth_method);
        log_info ("source %s: refresh lease granted%s", source_id, force ? " (forced)" : "");
    }
    sodium_memzero (lease, sizeof lease);
    source_oauth_destroy (&f);
    s_pack_send (service, request, &p, "source_oauth.token");
    return;
done:
    sodium_memzero (lease, sizeof lease);
    source_oauth_destroy (&f);
    s_reply (service, request, &w);
}

static void
s_fail (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) reply;
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_id", "lease", "error", "transient", NULL };
    char source_id [SOURCE_OAUTH_ID_MAX + 1], lease [SOURCE_OAUTH_LEASE_TEXT + 1];
    char error [SOURCE_OAUTH_ERROR_MAX + 1];
    bool transient = false;
    bus_err_t err;
    msgw_t *w = NULL;
    if (s_keys (request, keys, &w)
    ||  s_field (request, "source_id", true, source_id, sizeof source_id, 1, S_ID, &w)
    ||  s_field (request, "lease", true, lease, sizeof lease, SOURCE_OAUTH_LEASE_TEXT, S_LEASE,
                 &w)
    ||  s_field (request, "error", true, error, sizeof error, 1, S_TEXT, &w))
        goto done;
    if (field_bool (msg_root (request), "transient", &transient, &err) < 0) {
        w = msgw_error_new (err.code, err.message);
        goto done;
    }
    int rc = source_oauth_fail (self, source_id, lease, error, transient,
                                source_oauth_now_ms ());
    if (rc == 0) {
        log_warn ("source %s: refresh failed%s: %s", source_id,
                  transient ? "" : " (tokens dropped: needs authorization)", error);
        if (!transient) {
            char message [SOURCE_OAUTH_ERROR_MAX + 100];
            snprintf (message, sizeof message, "the source's authorization server refused the "
                      "refresh: %s", error);
            service_activity (service, "source.oauth_refused", "warning", NULL, message, NULL);
        }
        w = s_ok ();
    }
    else
    if (rc == 1)
        w = msgw_error_new (BUS_ERR_CONFLICT, "lease: not the source's current refresh lease");
    else
        w = ops_db_error (self->db, "source_oauth.fail");
done:
    sodium_memzero (lease, sizeof lease);
    s_reply (service, request, &w);
}

static void
s_status (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_ids", NULL };
    if (s_keys (request, keys, reply))
        return;
    const msgpack_object *ids = msg_map_get (msg_root (request), "source_ids");
    if (!ids || ids->type != MSGPACK_OBJECT_ARRAY) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "source_ids: an array is required");
        return;
    }
    if (ids->via.array.size > SOURCE_OAUTH_STATUS_MAX) {
        *reply = msgw_error_new (BUS_ERR_TOO_LARGE, "source_ids: at most 1000");
        return;
    }
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        const msgpack_object *id = &ids->via.array.ptr [i];
        char text [SOURCE_OAUTH_ID_MAX + 1];
        if (id->type != MSGPACK_OBJECT_STR || id->via.str.size > SOURCE_OAUTH_ID_MAX) {
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "source_ids: each a source id");
            return;
        }
        memcpy (text, id->via.str.ptr, id->via.str.size);
        text [id->via.str.size] = 0;
        if (!creds_server_id_valid (text)) {
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "source_ids: each a source id");
            return;
        }
    }
    int64_t now = source_oauth_now_ms ();
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "sources");
    //  a repeated id is answered once (a map has unique keys)
    size_t unique = 0;
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = msgpack_object_equal (ids->via.array.ptr [i], ids->via.array.ptr [j]);
        unique += !seen;
    }
    msgw_map (w, unique);
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = msgpack_object_equal (ids->via.array.ptr [i], ids->via.array.ptr [j]);
        if (seen)
            continue;
        const msgpack_object *id = &ids->via.array.ptr [i];
        char text [SOURCE_OAUTH_ID_MAX + 1];
        memcpy (text, id->via.str.ptr, id->via.str.size);
        text [id->via.str.size] = 0;
        source_oauth_status_t st;
        if (source_oauth_status (self, text, now, &st) != 0) {
            msgw_destroy (&w);
            *reply = ops_db_error (self->db, "source_oauth.status");
            return;
        }
        msgw_str (w, text);
        msgw_map (w, 1 + (st.expires_at_ms > 0) + (st.updated_at > 0) + (st.last_error [0] != 0));
        msgw_kv_str (w, "state", st.state);
        if (st.expires_at_ms > 0)
            msgw_kv_int (w, "expires_at_ms", st.expires_at_ms);
        if (st.updated_at > 0)
            msgw_kv_int (w, "updated_at", st.updated_at);
        if (st.last_error [0])
            msgw_kv_str (w, "last_error", st.last_error);
    }
    *reply = w;
}

static void
s_forget (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    static const char *const keys [] = { "op", "source_id", NULL };
    char source_id [SOURCE_OAUTH_ID_MAX + 1];
    if (s_keys (request, keys, reply)
    ||  s_field (request, "source_id", true, source_id, sizeof source_id, 1, S_ID, reply))
        return;
    int count = source_oauth_forget (self, source_id);
    if (count < 0) {
        *reply = ops_db_error (self->db, "source_oauth.forget");
        return;
    }
    if (count > 0) {
        log_info ("source %s: OAuth state forgotten", source_id);
        service_activity (service, "source.oauth_forgotten", "info", NULL,
                          "a source's OAuth tokens were deleted", NULL);
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "forgotten", count > 0);
    *reply = w;
}

const service_op_t creds_source_oauth_ops [] = {
    { "source_oauth.begin",   s_begin },
    { "source_oauth.pending", s_pending },
    { "source_oauth.store",   s_store },
    { "source_oauth.token",   s_token },
    { "source_oauth.fail",    s_fail },
    { "source_oauth.status",  s_status },
    { "source_oauth.forget",  s_forget },
    { NULL, NULL }
};

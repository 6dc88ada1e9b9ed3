/*  oauth_ops.c — the oauth.* ops (docs/BUS_OPS.md, credentials; oauth.h):

      oauth.register         {client_name, redirect_uris}     RFC 7591 (dcr)
      oauth.client_put       {client_id, client_name, redirect_uris}
                                                              a fetched CIMD
      oauth.client_get       {client_id}
      oauth.authorize_begin  {client_id, redirect_uri, code_challenge,
                              resource, scope?, state?}      -> request, csrf
      oauth.request_get      {request}
      oauth.authorize_finish {request, csrf, decision, client,
                              username?, password?}          -> code | denied
      oauth.token            {grant_type, client_id, ...}    -> tokens or an
                                                                OAuth error
      oauth.revoke           {token, client_id?}              RFC 7009
    An access token is checked by remote.verify (ops_remote.c), the remote
    listener's one check, through oauth_verify_reply.
      oauth.clients          {}                               the admin's list
      oauth.client_revoke    {client_id}                      all its tokens

    Protocol refusals of oauth.token are answers, not bus errors:
    {"ok": true, "granted": false, "error": "invalid_grant", ...}, so the
    gateway can relay RFC 6749 §5.2 codes without guessing.
*/
#include <stdio.h>
#include <string.h>
#include "fields.h"
#include "log.h"
#include "oauth.h"
#include "ops_util.h"

static msgw_t *
s_bad (const char *message)
{
    return msgw_error_new (BUS_ERR_BAD_REQUEST, message);
}

//  The client fields of register/client_put: name and redirect URIs
//  (1..OAUTH_REDIRECTS_MAX, each valid) into client. NULL or an error.
static msgw_t *
s_client_fields (const msgpack_object *root, oauth_client_t *client)
{
    const char *name;
    size_t name_len;
    bus_err_t err;
    if (field_str (root, "client_name", true, OAUTH_NAME_BYTES, OAUTH_NAME_MAX, &name,
                   &name_len, &err) < 0
    ||  !oauth_client_name_valid (name, name_len))
        return s_bad ("client_name: 1 to 100 characters, no control characters");
    memcpy (client->client_name, name, name_len);
    client->client_name [name_len] = 0;
    const msgpack_object *uris = msg_map_get (root, "redirect_uris");
    if (!uris || uris->type != MSGPACK_OBJECT_ARRAY || uris->via.array.size == 0
    ||  uris->via.array.size > OAUTH_REDIRECTS_MAX)
        return s_bad ("redirect_uris: an array of 1 to 8 URIs");
    size_t used = 0;
    client->redirect_uris [0] = 0;
    for (uint32_t i = 0; i < uris->via.array.size; i++) {
        const msgpack_object *uri = &uris->via.array.ptr [i];
        char text [OAUTH_URI_MAX + 1], why [160], message [256];
        if (uri->type != MSGPACK_OBJECT_STR || uri->via.str.size > OAUTH_URI_MAX
        ||  memchr (uri->via.str.ptr, 0, uri->via.str.size))
            return s_bad ("redirect_uris: each a string of at most 2048 bytes");
        memcpy (text, uri->via.str.ptr, uri->via.str.size);
        text [uri->via.str.size] = 0;
        if (!oauth_redirect_uri_valid (text, why, sizeof why)) {
            snprintf (message, sizeof message, "redirect_uris[%u]: %s", i, why);
            return s_bad (message);
        }
        size_t len = strlen (text);
        if (used + len + 2 > sizeof client->redirect_uris)
            return s_bad ("redirect_uris: too long together");
        if (used)
            client->redirect_uris [used++] = '\n';
        memcpy (client->redirect_uris + used, text, len + 1);
        used += len;
    }
    return NULL;
}

static void
s_client_pack (msgw_t *w, const oauth_client_t *client)
{
    msgw_kv_str (w, "client_id", client->client_id);
    msgw_kv_str (w, "client_name", client->client_name);
    msgw_kv_str (w, "kind", client->kind);
    size_t count = 1;
    for (const char *p = client->redirect_uris; *p; p++)
        count += *p == '\n';
    msgw_str (w, "redirect_uris");
    msgw_array (w, count);
    const char *line = client->redirect_uris;
    for (size_t i = 0; i < count; i++) {
        size_t len = strcspn (line, "\n");
        msgw_strn (w, line, len);
        line += len + (line [len] == '\n');
    }
    msgw_kv_int (w, "created_at", client->created_at);
    msgw_kv_int (w, "approved_at", client->approved_at);
}

static msgw_t *
s_client_reply (const oauth_client_t *client)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 7);
    msgw_kv_bool (w, "ok", true);
    s_client_pack (w, client);
    return w;
}

//  --- clients ------------------------------------------------------------------

static void
s_register (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    oauth_client_t client = { .kind = "dcr" };
    if ((*reply = s_client_fields (msg_root (request), &client)))
        return;
    int rc = oauth_client_save (self, &client);
    if (rc == 2) {
        *reply = msgw_error_new (BUS_ERR_RATE_LIMITED, "too many registered clients waiting "
                                 "for approval; try again tomorrow");
        return;
    }
    if (rc != 0) {
        *reply = ops_db_error (self->db, "oauth.register");
        return;
    }
    char message [1100];
    snprintf (message, sizeof message, "OAuth client registered: %s (%s)", client.client_name,
              client.client_id);
    service_activity (service, "oauth.client_registered", "info", NULL, message, NULL);
    *reply = s_client_reply (&client);
}

static void
s_client_put (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    oauth_client_t client = { .kind = "cimd" };
    char why [160];
    if (ops_cstr (root, "client_id", client.client_id, sizeof client.client_id, true) != 0
    ||  !oauth_cimd_url_valid (client.client_id, why, sizeof why)) {
        *reply = s_bad ("client_id: an https URL of a client ID metadata document");
        return;
    }
    if ((*reply = s_client_fields (root, &client)))
        return;
    oauth_client_t existing;
    int found = oauth_client_get (self, client.client_id, &existing);
    if (found == 0 && strcmp (existing.kind, "cimd") != 0) {
        *reply = msgw_error_new (BUS_ERR_CONFLICT, "that client_id is taken");
        return;
    }
    if (found < 0 || oauth_client_save (self, &client) != 0
    ||  oauth_client_get (self, client.client_id, &client) != 0) {
        *reply = ops_db_error (self->db, "oauth.client_put");
        return;
    }
    *reply = s_client_reply (&client);
}

//  The client named by the request's client_id: NULL, or an error reply.
static msgw_t *
s_client_of (creds_t *self, const msgpack_object *root, oauth_client_t *client)
{
    if (ops_cstr (root, "client_id", client->client_id, sizeof client->client_id, true) != 0
    ||  !*client->client_id)
        return s_bad ("client_id: a string of 1 to 512 bytes");
    int rc = oauth_client_get (self, client->client_id, client);
    if (rc == 1)
        return msgw_error_new (BUS_ERR_NOT_FOUND, "unknown client_id");
    return rc == 0 ? NULL : ops_db_error (self->db, "oauth client");
}

static void
s_client_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    oauth_client_t client;
    if (!(*reply = s_client_of (state, msg_root (request), &client)))
        *reply = s_client_reply (&client);
}

//  --- consent ---------------------------------------------------------------------

static void
s_authorize_begin (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    oauth_client_t client;
    if ((*reply = s_client_of (self, root, &client)))
        return;
    oauth_grant_t grant = { 0 };
    snprintf (grant.client_id, sizeof grant.client_id, "%s", client.client_id);
    if (ops_cstr (root, "redirect_uri", grant.redirect_uri, sizeof grant.redirect_uri, true) != 0
    ||  !oauth_client_redirect_ok (&client, grant.redirect_uri)) {
        *reply = msgw_error_new (BUS_ERR_FORBIDDEN, "redirect_uri is not one this client "
                                 "registered");
        return;
    }
    if (ops_cstr (root, "code_challenge", grant.code_challenge, sizeof grant.code_challenge,
                  true) != 0
    ||  !oauth_pkce_challenge_valid (grant.code_challenge)
    ||  ops_cstr (root, "resource", grant.resource, sizeof grant.resource, true) != 0
    ||  !*grant.resource
    ||  ops_cstr (root, "scope", grant.scope, sizeof grant.scope, false) != 0
    ||  ops_cstr (root, "state", grant.state, sizeof grant.state, false) != 0) {
        *reply = s_bad ("code_challenge (43 base64url characters), resource, and scope and "
                        "state (at most 1024 bytes) are required or bounded");
        return;
    }
    char request_token [CREDS_TOKEN_TEXT + 1], csrf [CREDS_TOKEN_TEXT + 1];
    int rc = oauth_request_create (self, &grant, request_token, csrf);
    if (rc == 2) {
        *reply = msgw_error_new (BUS_ERR_RATE_LIMITED, "too many authorization requests "
                                 "waiting for consent; retry later");
        return;
    }
    if (rc != 0) {
        *reply = ops_db_error (self->db, "oauth.authorize_begin");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 6);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "request", request_token);
    msgw_kv_str (w, "csrf", csrf);
    msgw_kv_str (w, "client_id", client.client_id);
    msgw_kv_str (w, "client_name", client.client_name);
    msgw_kv_int (w, "expires_in", OAUTH_REQUEST_TTL_S);
    *reply = w;
    sodium_memzero (csrf, sizeof csrf);
}

static void
s_request_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    char token [CREDS_TOKEN_TEXT + 2] = "";
    ops_cstr (msg_root (request), "request", token, sizeof token, true);
    oauth_grant_t grant;
    oauth_client_t client;
    int rc = oauth_request_get (self, token, NULL, &grant);
    if (rc == 0)
        rc = oauth_client_get (self, grant.client_id, &client);
    if (rc != 0) {
        *reply = rc < 0 ? ops_db_error (self->db, "oauth.request_get")
                        : msgw_error_new (BUS_ERR_NOT_FOUND, "this authorization request "
                                          "expired or was answered; start again from the app");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 5);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "client_id", client.client_id);
    msgw_kv_str (w, "client_name", client.client_name);
    msgw_kv_str (w, "redirect_uri", grant.redirect_uri);
    msgw_kv_str (w, "state", grant.state);
    *reply = w;
}

static msgw_t *
s_redirect_reply (const oauth_grant_t *grant, const char *code)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "redirect_uri", grant->redirect_uri);
    msgw_kv_str (w, "state", grant->state);
    if (code)
        msgw_kv_str (w, "code", code);
    else
        msgw_kv_bool (w, "denied", true);
    return w;
}

static void
s_approved (void *service, void *state, hash_job_t *job)
{
    creds_t *self = state;
    oauth_grant_t grant;
    oauth_client_t client;
    int rc = oauth_request_get (self, job->token, NULL, &grant);
    if (rc == 0)
        rc = oauth_client_get (self, grant.client_id, &client);
    if (rc != 0) {
        creds_job_finish (service, job, rc < 0 ? ops_db_error (self->db, "oauth consent")
                          : msgw_error_new (BUS_ERR_NOT_FOUND, "this authorization request "
                                            "expired or was answered meanwhile"));
        return;
    }
    if (!job->verified || job->user_id <= 0) {
        creds_login_failed (service, self, job, "sign-in on the OAuth consent page");
        creds_job_finish (service, job, msgw_error_new (BUS_ERR_UNAUTHORIZED,
                                                        "invalid username or password"));
        return;
    }
    grant.user_id = job->user_id;
    char code [CREDS_TOKEN_TEXT + 1];
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
    ||  oauth_request_drop (self, job->token) != 0 || oauth_code_create (self, &grant, code) != 0) {
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        creds_job_finish (service, job, ops_db_error (self->db, "oauth consent"));
        return;
    }
    sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
    log_info ("admin %s approved OAuth client %s (%s) from %s", job->username,
              client.client_name, client.client_id, job->client);
    char message [1200];
    snprintf (message, sizeof message, "admin %s approved OAuth client \"%s\" (%s)",
              job->username, client.client_name, client.client_id);
    service_activity (service, "oauth.client_approved", "info", NULL, message, NULL);
    creds_job_finish (service, job, s_redirect_reply (&grant, code));
    sodium_memzero (code, sizeof code);
}

static void
s_authorize_finish (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    char token [CREDS_TOKEN_TEXT + 2] = "", csrf [CREDS_TOKEN_TEXT + 2] = "";
    static const char *const decisions [] = { "approve", "deny", NULL };
    const char *decision = NULL;
    bus_err_t err;
    if (ops_cstr (root, "request", token, sizeof token, true) != 0
    ||  ops_cstr (root, "csrf", csrf, sizeof csrf, true) != 0
    ||  field_enum (root, "decision", decisions, &decision, &err) != 0) {
        ops_wipe_field (request, "password");
        *reply = s_bad ("request, csrf and decision (approve or deny) are required");
        return;
    }
    oauth_grant_t grant;
    int rc = oauth_request_get (self, token, csrf, &grant);
    if (rc != 0) {
        ops_wipe_field (request, "password");
        *reply = rc < 0 ? ops_db_error (self->db, "oauth.authorize_finish")
               : rc == 3 ? msgw_error_new (BUS_ERR_FORBIDDEN, "the form's CSRF token does not "
                                           "match this authorization request")
               : msgw_error_new (BUS_ERR_NOT_FOUND, "this authorization request expired or "
                                 "was answered; start again from the app");
        return;
    }
    if (strcmp (decision, "deny") == 0) {
        ops_wipe_field (request, "password");
        if (oauth_request_drop (self, token) != 0) {
            *reply = ops_db_error (self->db, "oauth.authorize_finish");
            return;
        }
        char message [700];
        snprintf (message, sizeof message, "OAuth client %s denied on the consent page",
                  grant.client_id);
        service_activity (service, "oauth.client_denied", "info", NULL, message, NULL);
        *reply = s_redirect_reply (&grant, NULL);
        return;
    }
    creds_login_start (service, self, request, s_approved, token, reply);
}

//  --- tokens ---------------------------------------------------------------------

static msgw_t *
s_refused (const char *error, const char *description)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "granted", false);
    msgw_kv_str (w, "error", error);
    msgw_kv_str (w, "error_description", description);
    return w;
}

static msgw_t *
s_granted (const oauth_tokens_t *tokens, const oauth_grant_t *grant)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 9);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "granted", true);
    msgw_kv_str (w, "access_token", tokens->access);
    msgw_kv_str (w, "refresh_token", tokens->refresh);
    msgw_kv_str (w, "token_type", "Bearer");
    msgw_kv_int (w, "expires_in", tokens->access_expires - creds_now ());
    msgw_kv_int (w, "refresh_expires_in", tokens->refresh_expires - creds_now ());
    msgw_kv_str (w, "resource", grant->resource);
    msgw_kv_str (w, "scope", grant->scope);
    return w;
}

static void
s_token (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    static const char *const grants [] = { "authorization_code", "refresh_token", NULL };
    const char *grant_type = NULL;
    bus_err_t err;
    char client_id [OAUTH_CLIENT_ID_MAX + 1] = "", resource [OAUTH_URI_MAX + 1] = "";
    if (!msg_map_get (root, "grant_type")) {
        *reply = s_refused ("invalid_request", "grant_type is required");
        return;
    }
    if (field_enum (root, "grant_type", grants, &grant_type, &err) != 0) {
        *reply = s_refused ("unsupported_grant_type", "grant_type: authorization_code or "
                            "refresh_token");
        return;
    }
    if (ops_cstr (root, "client_id", client_id, sizeof client_id, true) != 0 || !*client_id) {
        *reply = s_refused ("invalid_request", "client_id is required (public clients "
                            "authenticate with none)");
        return;
    }
    oauth_client_t client;
    int known = oauth_client_get (self, client_id, &client);
    if (known != 0) {
        *reply = known < 0 ? ops_db_error (self->db, "oauth.token")
                           : s_refused ("invalid_client", "unknown client_id");
        return;
    }
    if (ops_cstr (root, "resource", resource, sizeof resource, false) != 0) {
        *reply = s_refused ("invalid_target", "resource: at most 2048 bytes");
        return;
    }
    oauth_tokens_t tokens;
    oauth_grant_t grant;
    int rc;
    if (strcmp (grant_type, "authorization_code") == 0) {
        char code [CREDS_TOKEN_TEXT + 2] = "", verifier [OAUTH_VERIFIER_MAX + 2] = "";
        char redirect_uri [OAUTH_URI_MAX + 1] = "";
        if (ops_cstr (root, "code", code, sizeof code, true) != 0 || !*code
        ||  ops_cstr (root, "redirect_uri", redirect_uri, sizeof redirect_uri, true) != 0
        ||  !*redirect_uri) {
            *reply = s_refused ("invalid_request", "code and redirect_uri are required");
            return;
        }
        if (ops_cstr (root, "code_verifier", verifier, sizeof verifier, true) != 0
        ||  !oauth_pkce_verifier_valid (verifier)) {
            *reply = s_refused ("invalid_request", "code_verifier: 43 to 128 characters of "
                                "[A-Za-z0-9-._~] (PKCE, RFC 7636)");
            return;
        }
        rc = oauth_code_exchange (self, code, client_id, redirect_uri, verifier, resource,
                                  &tokens, &grant);
        sodium_memzero (code, sizeof code);
        if (rc == 2) {
            char message [700];
            snprintf (message, sizeof message, "OAuth authorization code of client %s used "
                      "twice: the tokens it issued are revoked", client_id);
            service_activity (service, "oauth.code_reuse", "warning", NULL, message, NULL);
        }
    }
    else {
        char refresh [CREDS_TOKEN_TEXT + 2] = "";
        if (ops_cstr (root, "refresh_token", refresh, sizeof refresh, true) != 0 || !*refresh) {
            *reply = s_refused ("invalid_request", "refresh_token is required");
            return;
        }
        rc = oauth_refresh (self, refresh, client_id, resource, &tokens, &grant);
        sodium_memzero (refresh, sizeof refresh);
        if (rc == 2) {
            char message [700];
            snprintf (message, sizeof message, "OAuth refresh token of client \"%s\" reused: "
                      "every token of that grant revoked", client.client_name);
            service_activity (service, "oauth.refresh_reuse", "warning", NULL, message, NULL);
        }
    }
    if (rc == 0)
        *reply = s_granted (&tokens, &grant);
    else
    if (rc == 1)
        *reply = s_refused ("invalid_grant", "the grant is invalid, expired, revoked, or was "
                            "issued to another client, redirect_uri or resource");
    else
    if (rc == 2)
        *reply = s_refused ("invalid_grant", "the grant was already used: every token issued "
                            "from it is revoked");
    else
    if (rc == 4)
        *reply = s_refused ("invalid_grant", "code_verifier does not match the code_challenge "
                            "(PKCE S256)");
    else
        *reply = ops_db_error (self->db, "oauth.token");
    sodium_memzero (&tokens, sizeof tokens);
}

static void
s_revoke (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    char token [CREDS_TOKEN_TEXT + 2] = "", client_id [OAUTH_CLIENT_ID_MAX + 1] = "";
    if (ops_cstr (root, "token", token, sizeof token, true) != 0
    ||  ops_cstr (root, "client_id", client_id, sizeof client_id, false) != 0) {
        *reply = s_bad ("token is required; client_id at most 512 bytes");
        return;
    }
    int rc = oauth_token_revoke (self, token, client_id);
    sodium_memzero (token, sizeof token);
    if (rc < 0) {
        *reply = ops_db_error (self->db, "oauth.revoke");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "revoked", rc == 0);
    *reply = w;
}

void
oauth_verify_reply (creds_t *self, const char *token, const char *resource, msgw_t **reply)
{
    oauth_access_t access;
    int rc = oauth_access_lookup (self, token, &access);
    if (rc < 0) {
        *reply = ops_db_error (self->db, "remote.verify");
        return;
    }
    if (rc == 1 || (resource && *resource && strcmp (resource, access.resource) != 0)) {
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, rc == 1
                                 ? "the access token is invalid, expired or revoked"
                                 : "the access token was issued for another resource");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 9);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "kind", "oauth");
    msgw_kv_str (w, "name", access.client_name);
    msgw_kv_str (w, "id", access.client_id);
    msgw_kv_str (w, "client_id", access.client_id);
    msgw_kv_str (w, "resource", access.resource);
    msgw_kv_str (w, "scope", access.scope);
    msgw_kv_str (w, "user", access.username);
    msgw_kv_int (w, "expires_in", access.access_expires - creds_now ());
    *reply = w;
}

//  --- the admin's view ---------------------------------------------------------------

static void
s_clients (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    creds_t *self = state;
    sqlite3_stmt *stmt = NULL;
    //  clients approved at least once, or holding live tokens, newest first
    const char *sql =
        "SELECT c.client_id, c.kind, c.client_name, c.created_at, coalesce (c.approved_at, 0), "
        "(SELECT count (DISTINCT family) FROM oauth_tokens t WHERE t.client_id = c.client_id "
        " AND t.revoked = 0 AND t.rotated = 0 AND t.refresh_expires > ?1), "
        "(SELECT coalesce (max (last_used_at), 0) FROM oauth_tokens t "
        " WHERE t.client_id = c.client_id) "
        "FROM oauth_clients c WHERE c.approved_at IS NOT NULL OR EXISTS (SELECT 1 FROM "
        "oauth_tokens t WHERE t.client_id = c.client_id AND t.revoked = 0) "
        "ORDER BY coalesce (c.approved_at, c.created_at) DESC, c.id DESC LIMIT 500";
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        *reply = ops_db_error (self->db, "oauth.clients");
        return;
    }
    sqlite3_bind_int64 (stmt, 1, creds_now ());
    msgw_t *rows = msgw_new ();
    size_t count = 0;
    int step;
    while ((step = sqlite3_step (stmt)) == SQLITE_ROW) {
        msgw_map (rows, 7);
        msgw_kv_str (rows, "client_id", (const char *) sqlite3_column_text (stmt, 0));
        msgw_kv_str (rows, "kind", (const char *) sqlite3_column_text (stmt, 1));
        msgw_kv_str (rows, "client_name", (const char *) sqlite3_column_text (stmt, 2));
        msgw_kv_int (rows, "created_at", sqlite3_column_int64 (stmt, 3));
        msgw_kv_int (rows, "approved_at", sqlite3_column_int64 (stmt, 4));
        msgw_kv_int (rows, "active_grants", sqlite3_column_int64 (stmt, 5));
        msgw_kv_int (rows, "last_used_at", sqlite3_column_int64 (stmt, 6));
        count++;
    }
    sqlite3_finalize (stmt);
    if (step != SQLITE_DONE) {
        msgw_destroy (&rows);
        *reply = ops_db_error (self->db, "oauth.clients");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "clients");
    msgw_array (w, count);
    msgw_raw (w, msgw_data (rows), msgw_size (rows));
    msgw_destroy (&rows);
    *reply = w;
}

static void
s_client_revoke (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    oauth_client_t client;
    if ((*reply = s_client_of (self, msg_root (request), &client)))
        return;
    int64_t families = 0;
    if (oauth_client_revoke (self, client.client_id, &families) != 0) {
        *reply = ops_db_error (self->db, "oauth.client_revoke");
        return;
    }
    char message [1200];
    snprintf (message, sizeof message, "OAuth client \"%s\" (%s) revoked by the admin: "
              "%lld grant(s) ended", client.client_name, client.client_id, (long long) families);
    service_activity (service, "oauth.client_revoked", "info", NULL, message, NULL);
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "client_id", client.client_id);
    msgw_kv_str (w, "client_name", client.client_name);
    msgw_kv_int (w, "revoked_grants", families);
    *reply = w;
}

const service_op_t creds_oauth_ops [] = {
    { "oauth.register",         s_register },
    { "oauth.client_put",       s_client_put },
    { "oauth.client_get",       s_client_get },
    { "oauth.authorize_begin",  s_authorize_begin },
    { "oauth.request_get",      s_request_get },
    { "oauth.authorize_finish", s_authorize_finish },
    { "oauth.token",            s_token },
    { "oauth.revoke",           s_revoke },
    { "oauth.clients",          s_clients },
    { "oauth.client_revoke",    s_client_revoke },
    { NULL, NULL }
};

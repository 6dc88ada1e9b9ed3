/*  ops_remote.c — remote access credentials over the bus
    (docs/BUS_OPS.md, credentials):

      token.create   {name}                 {token (shown once), token{…}}
      token.list     {include_revoked?}     {tokens[…]}
      token.revoke   {token_id | name}      {token{…}}
      remote.verify  {token, resource?}     {kind, name, id, …} — the
                                            gateway's one check of every
                                            request on its remote listener

    remote.verify hands a credential to the verifier whose prefix it
    carries (s_verifiers): service tokens here; OAuth access tokens
    (oauth_ops.c, no prefix) are the last row. resource, when given, must
    be an OAuth token's audience (RFC 8707). Every verifier answers the same
    shape: kind, name (what activity records show), id; `unauthorized`
    when the credential is not a live one. The credential is wiped from the
    request as soon as it is read and never logged.
*/
#include <stdio.h>
#include <string.h>
#include "fields.h"
#include "log.h"
#include "oauth.h"
#include "ops_util.h"
#include "remote_tokens.h"

#define S_CREDENTIAL_MAX 4096

static void
s_token_map (msgw_t *w, const remote_token_t *token)
{
    msgw_map (w, 5);
    msgw_kv_int (w, "id", token->id);
    msgw_kv_str (w, "name", token->name);
    msgw_kv_int (w, "created_at", token->created_at);
    msgw_str (w, "last_used_at");
    if (token->last_used_at)
        msgw_int (w, token->last_used_at);
    else
        msgw_nil (w);
    msgw_str (w, "revoked_at");
    if (token->revoked_at)
        msgw_int (w, token->revoked_at);
    else
        msgw_nil (w);
}

//  --- token.create / token.list / token.revoke ------------------------------------

static void
s_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char name [REMOTE_TOKEN_NAME_MAX + 1];
    if (ops_cstr (msg_root (request), "name", name, sizeof name, true) != 0
    ||  !remote_token_name_valid (name)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "name: 1 to 64 characters, a letter "
                                 "then letters, digits, '_', '.' or '-'");
        return;
    }
    char token [REMOTE_TOKEN_TEXT + 1];
    remote_token_t row;
    int rc = remote_tokens_create (self, name, token, &row);
    if (rc == 1) {
        *reply = msgw_error_new (BUS_ERR_CONFLICT, "a live token has that name");
        return;
    }
    if (rc == 2) {
        *reply = msgw_error_new (BUS_ERR_CONFLICT, "too many live tokens (1000): "
                                 "revoke some first");
        return;
    }
    if (rc != 0) {
        *reply = ops_db_error (self->db, "token.create");
        return;
    }
    log_info ("service token %s (id %lld) created", row.name, (long long) row.id);
    char message [200];
    snprintf (message, sizeof message, "service token %s created", row.name);
    char details [160];
    snprintf (details, sizeof details, "{\"token_id\":%lld}", (long long) row.id);
    service_activity (service, "remote.token_created", "info", NULL, message, details);
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "token", token);
    msgw_str (w, "token_info");
    s_token_map (w, &row);
    sodium_memzero (token, sizeof token);
    *reply = w;
}

typedef struct {
    msgw_t *w;
} s_list_t;

static void
s_list_one (const remote_token_t *token, void *arg)
{
    s_token_map (((s_list_t *) arg)->w, token);
}

static void
s_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    bool with_revoked = false;
    bus_err_t err;
    if (field_bool (msg_root (request), "include_revoked", &with_revoked, &err) < 0) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "include_revoked: a boolean");
        return;
    }
    int count = remote_tokens_list (self, with_revoked, NULL, NULL);
    if (count < 0) {
        *reply = ops_db_error (self->db, "token.list");
        return;
    }
    s_list_t list = { msgw_new () };
    msgw_map (list.w, 2);
    msgw_kv_bool (list.w, "ok", true);
    msgw_str (list.w, "tokens");
    msgw_array (list.w, (size_t) count);
    if (remote_tokens_list (self, with_revoked, s_list_one, &list) != count) {
        msgw_destroy (&list.w);
        *reply = ops_db_error (self->db, "token.list");
        return;
    }
    *reply = list.w;
}

static void
s_revoke (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    int64_t id = 0;
    char name [REMOTE_TOKEN_NAME_MAX + 1] = "";
    bus_err_t err;
    bool has_id = msg_map_get (root, "token_id") != NULL;
    if (has_id ? field_int (root, "token_id", true, 1, INT64_MAX, &id, &err) < 0
               : (ops_cstr (root, "name", name, sizeof name, true) != 0
                  || !remote_token_name_valid (name))) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "token_id (a positive integer) or "
                                 "name (a token's name) is required");
        return;
    }
    remote_token_t row;
    int rc = remote_tokens_revoke (self, id, name, &row);
    if (rc == 1) {
        *reply = msgw_error_new (BUS_ERR_NOT_FOUND, "no live token with that id or name");
        return;
    }
    if (rc != 0) {
        *reply = ops_db_error (self->db, "token.revoke");
        return;
    }
    log_info ("service token %s (id %lld) revoked", row.name, (long long) row.id);
    char message [200];
    snprintf (message, sizeof message, "service token %s revoked", row.name);
    char details [160];
    snprintf (details, sizeof details, "{\"token_id\":%lld}", (long long) row.id);
    service_activity (service, "remote.token_revoked", "info", NULL, message, details);
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "token_info");
    s_token_map (w, &row);
    *reply = w;
}

//  --- remote.verify ------------------------------------------------------------

//  A verifier: *reply the answer (ok with kind, name, id, ... or an error).
typedef void (remote_verifier_fn) (creds_t *self, const char *credential,
                                   const char *resource, msgw_t **reply);

static void
s_verify_service_token (creds_t *self, const char *credential, const char *resource,
                        msgw_t **reply)
{
    (void) resource;
    remote_token_t row;
    int rc = remote_tokens_verify (self, credential, &row);
    if (rc < 0) {
        *reply = ops_db_error (self->db, "remote.verify");
        return;
    }
    if (rc > 0) {
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "unknown or revoked token");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "kind", "service_token");
    msgw_kv_str (w, "name", row.name);
    msgw_kv_int (w, "id", row.id);
    *reply = w;
}

//  By the credential's prefix; the first that matches owns it.
static const struct {
    const char         *prefix;
    remote_verifier_fn *verify;
} s_verifiers [] = {
    { REMOTE_TOKEN_PREFIX,  s_verify_service_token },
    //  OAuth access tokens (oauth_ops.c) carry no prefix: the rest
    { "",                   oauth_verify_reply },
    { NULL,                 NULL }
};

static void
s_verify (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    char credential [S_CREDENTIAL_MAX + 1];
    char resource [OAUTH_URI_MAX + 1] = "";
    int rc = ops_cstr (msg_root (request), "token", credential, sizeof credential, true);
    ops_wipe_field (request, "token");
    if (rc == 0 && ops_cstr (msg_root (request), "resource", resource, sizeof resource,
                             false) != 0) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "resource: at most 2048 bytes");
        sodium_memzero (credential, sizeof credential);
        return;
    }
    if (rc != 0 || !*credential) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "token: a string of 1 to 4096 bytes");
        return;
    }
    for (size_t i = 0; s_verifiers [i].prefix; i++)
        if (strncmp (credential, s_verifiers [i].prefix, strlen (s_verifiers [i].prefix)) == 0) {
            s_verifiers [i].verify (self, credential, resource, reply);
            sodium_memzero (credential, sizeof credential);
            return;
        }
    sodium_memzero (credential, sizeof credential);
    *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "not a credential this server issued");
}

const service_op_t creds_remote_ops [] = {
    { "token.create",   s_create },
    { "token.list",     s_list },
    { "token.revoke",   s_revoke },
    { "remote.verify",  s_verify },
    { NULL, NULL }
};

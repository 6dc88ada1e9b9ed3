/*  ops_auth.c — admin accounts and sessions over the bus
    (docs/BUS_OPS.md, credentials):

      admin_status          {}                        {admins}
      admin_setup           {username, password}      only while no admin exists
      admin_create          {username, password}      the CLI (local operator)
      admin_reset_password  {username, password}      the CLI; revokes sessions
      login                 {username, password, client}
      refresh               {refresh_token, csrf_token?}  (csrf checked when given)
      validate              {access_token, csrf_token?}
      logout                {token}                   revokes its family (auth.logout)
      password_change       {access_token, current_password, new_password}

    Every op that hashes a password defers its request to the hash pool and
    finishes in a hash_done_fn on this thread (creds_on_wake). Passwords
    are wiped from the decoded request and the request body as soon as
    they are copied into the job.
*/
#include <stdio.h>
#include <string.h>
#include "hash_pool.h"
#include "log.h"
#include "login_limits.h"
#include "ops_util.h"
#include "sessions.h"

static bool
s_username_valid (const char *name)
{
    size_t len = strlen (name);
    if (len < CREDS_USERNAME_MIN || len > CREDS_USERNAME_MAX
    ||  !((name [0] >= 'a' && name [0] <= 'z') || (name [0] >= 'A' && name [0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_'))
            return false;
    }
    return true;
}

//  Read username and a password field (bounded). NULL, or an error reply.
static msgw_t *
s_credentials (msg_t *request, const char *pw_key, char *username, char *password,
               bool check_rules)
{
    const msgpack_object *root = msg_root (request);
    if (ops_cstr (root, "username", username, CREDS_USERNAME_MAX + 1, true) != 0
    ||  (check_rules && !s_username_valid (username)))
        return msgw_error_new (BUS_ERR_BAD_REQUEST, "username: 3 to 50 characters, a letter "
                               "then letters, digits or _");
    if (ops_cstr (root, pw_key, password, CREDS_PASSWORD_MAX + 1, true) != 0
    ||  (check_rules && strlen (password) < CREDS_PASSWORD_MIN))
        return msgw_error_new (BUS_ERR_BAD_REQUEST, "password: 12 to 128 bytes");
    return NULL;
}

//  Hand job to the pool with this request deferred (body wiped). On
//  refusal answers `unavailable` itself.
static void
s_submit (service_t *service, creds_t *self, msg_t *request, hash_job_t *job,
          msgw_t **reply)
{
    ops_wipe_field (request, "password");
    ops_wipe_field (request, "current_password");
    ops_wipe_field (request, "new_password");
    if (!job) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    job->request = service_defer (service);
    if (job->request)
        bus_request_wipe_body (job->request);
    if (!job->request || hash_pool_submit (self->pool, job) != 0) {
        bus_request_t *request_back = job->request;
        job->request = NULL;
        hash_job_destroy (&job);
        msgw_t *busy = msgw_error_new (BUS_ERR_UNAVAILABLE, "too many password checks "
                                       "in progress; retry");
        if (request_back)
            service_reply (service, &request_back, &busy);
        else
            *reply = busy;
    }
}

void
creds_job_finish (service_t *service, hash_job_t *job, msgw_t *reply)
{
    service_reply (service, &job->request, &reply);
    hash_job_destroy (&job);
}

static int64_t
s_admin_count (creds_t *self)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM admin_users", -1, &stmt, NULL);
    int64_t count = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    return count;
}

//  id and stored hash of a user (case-insensitive name): 0, 1 none, -1.
static int
s_user (creds_t *self, const char *username, int64_t *id, char *hash, char *canonical)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT id, password_hash, username FROM admin_users "
                        "WHERE username = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, username, -1, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
    if (rc == 0) {
        *id = sqlite3_column_int64 (stmt, 0);
        snprintf (hash, crypto_pwhash_STRBYTES, "%s", (const char *) sqlite3_column_text (stmt, 1));
        if (canonical)
            snprintf (canonical, CREDS_USERNAME_MAX + 1, "%s",
                      (const char *) sqlite3_column_text (stmt, 2));
    }
    sqlite3_finalize (stmt);
    return rc;
}

static msgw_t *
s_user_reply (int64_t id, const char *username, int extra_pairs)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 2 + (size_t) extra_pairs);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "user");
    msgw_map (w, 2);
    msgw_kv_int (w, "id", id);
    msgw_kv_str (w, "username", username);
    return w;
}

static msgw_t *
s_tokens_reply (int64_t user_id, const char *username, const session_tokens_t *t)
{
    msgw_t *w = s_user_reply (user_id, username, 5);
    int64_t now = creds_now ();
    msgw_kv_str (w, "access_token", t->access);
    msgw_kv_str (w, "refresh_token", t->refresh);
    msgw_kv_str (w, "csrf_token", t->csrf);
    msgw_kv_int (w, "access_expires_in", t->access_expires - now);
    msgw_kv_int (w, "refresh_expires_in", t->refresh_expires - now);
    return w;
}

//  --- admin_status ------------------------------------------------------------

static void
s_admin_status (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    int64_t count = s_admin_count (state);
    if (count < 0) {
        *reply = ops_db_error (((creds_t *) state)->db, "admin_status");
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "admins", count);
    *reply = w;
}

//  --- admin_setup / admin_create ---------------------------------------------------

static void
s_created (void *service, void *state, hash_job_t *job)
{
    creds_t *self = state;
    if (!job->made_ok) {
        creds_job_finish (service, job, msgw_error_new (BUS_ERR_INTERNAL, "cannot hash the password"));
        return;
    }
    bool first_only = job->user_id == 1;     //  setup: only while none exists
    sqlite3_stmt *stmt = NULL;
    int64_t now = creds_now ();
    sqlite3_prepare_v2 (self->db, first_only
        ? "INSERT INTO admin_users (username, password_hash, created_at, updated_at) "
          "SELECT ?1, ?2, ?3, ?3 WHERE NOT EXISTS (SELECT 1 FROM admin_users)"
        : "INSERT INTO admin_users (username, password_hash, created_at, updated_at) "
          "VALUES (?1, ?2, ?3, ?3)", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, job->username, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, job->made, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    msgw_t *reply;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        reply = msgw_error_new (BUS_ERR_CONFLICT, "an admin with that username exists");
    else
    if (rc != SQLITE_DONE)
        reply = ops_db_error (self->db, "admin_create");
    else
    if (sqlite3_changes (self->db) == 0)
        reply = msgw_error_new (BUS_ERR_CONFLICT, "setup is done: an admin already exists");
    else {
        int64_t id = sqlite3_last_insert_rowid (self->db);
        log_info ("admin %s created (%s, hash %lld ms)", job->username,
                  first_only ? "setup" : "cli", (long long) (job->took_us / 1000));
        char message [200];
        snprintf (message, sizeof message, "admin %s created (%s)", job->username,
                  first_only ? "first-run setup" : "command line");
        service_activity (service, "auth.admin_created", "info", NULL, message, NULL);
        reply = s_user_reply (id, job->username, 0);
    }
    creds_job_finish (service, job, reply);
}

static void
s_create (service_t *service, msg_t *request, msgw_t **reply, creds_t *self, bool setup)
{
    char username [CREDS_USERNAME_MAX + 1], password [CREDS_PASSWORD_MAX + 1];
    if ((*reply = s_credentials (request, "password", username, password, true))) {
        ops_wipe_field (request, "password");
        return;
    }
    if (setup && s_admin_count (self) != 0) {
        ops_wipe_field (request, "password");
        sodium_memzero (password, sizeof password);
        *reply = msgw_error_new (BUS_ERR_CONFLICT, "setup is done: an admin already exists");
        return;
    }
    hash_job_t *job = hash_job_new (HASH_MAKE, NULL, password);
    sodium_memzero (password, sizeof password);
    if (job) {
        job->done = s_created;
        job->user_id = setup ? 1 : 0;
        snprintf (job->username, sizeof job->username, "%s", username);
    }
    s_submit (service, self, request, job, reply);
}

static void
s_admin_setup (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_create (service, request, reply, state, true);
}

static void
s_admin_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    s_create (service, request, reply, state, false);
}

//  --- admin_reset_password / password_change ---------------------------------------

static void
s_password_set (void *service, void *state, hash_job_t *job)
{
    creds_t *self = state;
    if (job->kind == HASH_VERIFY_MAKE && !job->verified) {
        login_limits_fail (self, job->client, job->username);
        creds_job_finish (service, job, msgw_error_new (BUS_ERR_UNAUTHORIZED,
                                                "the current password is wrong"));
        return;
    }
    if (!job->made_ok) {
        creds_job_finish (service, job, msgw_error_new (BUS_ERR_INTERNAL, "cannot hash the password"));
        return;
    }
    sqlite3_stmt *stmt = NULL;
    sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_prepare_v2 (self->db, "UPDATE admin_users SET password_hash = ?1, updated_at = ?2 "
                        "WHERE id = ?3", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, job->made, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, creds_now ());
    sqlite3_bind_int64 (stmt, 3, job->user_id);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    bool ok = rc == SQLITE_DONE && session_revoke_user (self, job->user_id) == 0;
    sqlite3_exec (self->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (!ok) {
        creds_job_finish (service, job, ops_db_error (self->db, "password"));
        return;
    }
    if (job->kind == HASH_MAKE)
        login_limits_clear_user (self, job->username);
    log_info ("password of admin %s changed (%s); every session of it revoked",
              job->username, job->kind == HASH_MAKE ? "reset by the operator" : "by the admin");
    char message [300];
    snprintf (message, sizeof message, "password of admin %s %s; every session revoked",
              job->username, job->kind == HASH_MAKE ? "reset by the operator" : "changed");
    service_activity (service, "auth.password_changed", "info", NULL, message, NULL);
    creds_job_finish (service, job, s_user_reply (job->user_id, job->username, 0));
}

static void
s_admin_reset_password (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char username [CREDS_USERNAME_MAX + 1], password [CREDS_PASSWORD_MAX + 1];
    char stored [crypto_pwhash_STRBYTES], canonical [CREDS_USERNAME_MAX + 1];
    int64_t id = 0;
    if ((*reply = s_credentials (request, "password", username, password, true))) {
        ops_wipe_field (request, "password");
        return;
    }
    if (s_user (self, username, &id, stored, canonical) != 0) {
        ops_wipe_field (request, "password");
        sodium_memzero (password, sizeof password);
        *reply = msgw_error_new (BUS_ERR_NOT_FOUND, "no admin with that username");
        return;
    }
    hash_job_t *job = hash_job_new (HASH_MAKE, NULL, password);
    sodium_memzero (password, sizeof password);
    if (job) {
        job->done = s_password_set;
        job->user_id = id;
        snprintf (job->username, sizeof job->username, "%s", canonical);
    }
    s_submit (service, self, request, job, reply);
}

static void
s_password_change (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    char access [CREDS_TOKEN_TEXT + 2] = "", current [CREDS_PASSWORD_MAX + 1] = "";
    char fresh [CREDS_PASSWORD_MAX + 1] = "", client [CREDS_CLIENT_MAX + 1] = "";
    session_info_t info;
    if (ops_cstr (root, "access_token", access, sizeof access, true) != 0
    ||  session_lookup (self, access, &info) != 0)
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "not logged in");
    else
    if (ops_cstr (root, "current_password", current, sizeof current, true) != 0
    ||  ops_cstr (root, "new_password", fresh, sizeof fresh, true) != 0
    ||  strlen (fresh) < CREDS_PASSWORD_MIN
    ||  ops_cstr (root, "client", client, sizeof client, false) != 0)
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "current_password and new_password "
                                 "(12 to 128 bytes) are required");
    if (*reply) {
        ops_wipe_field (request, "current_password");
        ops_wipe_field (request, "new_password");
        sodium_memzero (current, sizeof current);
        sodium_memzero (fresh, sizeof fresh);
        return;
    }
    char stored [crypto_pwhash_STRBYTES];
    int64_t id;
    if (s_user (self, info.username, &id, stored, NULL) != 0) {
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "not logged in");
        return;
    }
    hash_job_t *job = hash_job_new (HASH_VERIFY_MAKE, current, fresh);
    sodium_memzero (current, sizeof current);
    sodium_memzero (fresh, sizeof fresh);
    if (job) {
        job->done = s_password_set;
        job->user_id = info.user_id;
        memcpy (job->stored, stored, sizeof stored);
        snprintf (job->username, sizeof job->username, "%s", info.username);
        snprintf (job->client, sizeof job->client, "%s", *client ? client : "-");
    }
    s_submit (service, self, request, job, reply);
}

//  --- login ---------------------------------------------------------------

void
creds_login_failed (service_t *service, creds_t *self, hash_job_t *job, const char *where)
{
    login_limits_fail (self, job->client, job->username);
    log_warn ("failed %s for '%s' from %s", where, job->username, job->client);
    char message [400];
    snprintf (message, sizeof message, "failed %s for '%s' from %s", where, job->username,
              job->client);
    service_activity (service, "auth.login_failed", "warning", NULL, message, NULL);
}

static void
s_logged_in (void *service, void *state, hash_job_t *job)
{
    creds_t *self = state;
    if (!job->verified || job->user_id <= 0) {
        creds_login_failed (service, self, job, "login");
        creds_job_finish (service, job, msgw_error_new (BUS_ERR_UNAUTHORIZED,
                                                "invalid username or password"));
        return;
    }
    session_tokens_t tokens;
    if (session_create (self, job->user_id, NULL, &tokens) != 0) {
        creds_job_finish (service, job, ops_db_error (self->db, "login"));
        return;
    }
    log_info ("admin %s logged in from %s (hash check %lld ms)", job->username, job->client,
              (long long) (job->took_us / 1000));
    char message [400];
    snprintf (message, sizeof message, "admin %s logged in from %s", job->username, job->client);
    service_activity (service, "auth.login", "info", NULL, message, NULL);
    creds_job_finish (service, job, s_tokens_reply (job->user_id, job->username, &tokens));
    sodium_memzero (&tokens, sizeof tokens);
}

void
creds_login_start (service_t *service, creds_t *self, msg_t *request, hash_done_fn *done,
                   const char *token, msgw_t **reply)
{
    const msgpack_object *root = msg_root (request);
    char username [CREDS_USERNAME_MAX + 1], password [CREDS_PASSWORD_MAX + 1];
    char client [CREDS_CLIENT_MAX + 1] = "";
    if (ops_cstr (root, "client", client, sizeof client, true) != 0 || !*client
    ||  ops_cstr (root, "username", username, sizeof username, true) != 0
    ||  ops_cstr (root, "password", password, sizeof password, true) != 0) {
        ops_wipe_field (request, "password");
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "login needs client, username and "
                                 "password (strings within their bounds)");
        return;
    }
    int64_t wait = login_limits_check (self, client, username);
    if (wait != 0) {
        ops_wipe_field (request, "password");
        sodium_memzero (password, sizeof password);
        if (wait < 0)
            *reply = ops_db_error (self->db, "login");
        else {
            log_warn ("login for '%s' from %s refused: too many failures", username, client);
            char message [400];
            snprintf (message, sizeof message, "login for '%s' from %s refused: too many "
                      "failed logins (retry in %lld s)", username, client, (long long) wait);
            service_activity (service, "auth.locked_out", "warning", NULL, message, NULL);
            *reply = ops_rate_limited (wait, "too many failed logins; retry later");
        }
        return;
    }
    hash_job_t *job = hash_job_new (HASH_VERIFY, password, NULL);
    sodium_memzero (password, sizeof password);
    if (job) {
        job->done = done;
        char canonical [CREDS_USERNAME_MAX + 1];
        //  an unknown user is checked against a dummy hash: same time
        if (s_user (self, username, &job->user_id, job->stored, canonical) == 0)
            snprintf (job->username, sizeof job->username, "%s", canonical);
        else {
            job->user_id = 0;
            snprintf (job->stored, sizeof job->stored, "%s", self->dummy_hash);
            snprintf (job->username, sizeof job->username, "%s", username);
        }
        snprintf (job->client, sizeof job->client, "%s", client);
        if (token)
            snprintf (job->token, sizeof job->token, "%s", token);
    }
    s_submit (service, self, request, job, reply);
}

static void
s_login (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_login_start (service, state, request, s_logged_in, NULL, reply);
}

//  --- refresh / validate / logout -----------------------------------------------

static void
s_refresh (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char token [CREDS_TOKEN_TEXT + 2] = "", csrf [CREDS_TOKEN_TEXT + 2] = "";
    const msgpack_object *root = msg_root (request);
    ops_cstr (root, "refresh_token", token, sizeof token, true);
    bool with_csrf = msg_map_get (root, "csrf_token") != NULL;
    if (with_csrf)
        ops_cstr (root, "csrf_token", csrf, sizeof csrf, true);
    session_tokens_t tokens;
    int64_t user_id = 0;
    char username [CREDS_USERNAME_MAX + 1] = "";
    int rc = session_refresh (self, token, with_csrf ? csrf : NULL, &tokens, &user_id, username);
    if (rc == 0)
        *reply = s_tokens_reply (user_id, username, &tokens);
    else
    if (rc == 2) {
        char message [200];
        snprintf (message, sizeof message, "refresh token of admin %s reused: every session "
                  "of that login revoked", username);
        service_activity (service, "auth.refresh_reuse", "warning", NULL, message, NULL);
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "refresh token reused: every session "
                                 "of this login was revoked");
    }
    else
    if (rc == 1)
        *reply = msgw_error_new (BUS_ERR_UNAUTHORIZED, "refresh token invalid or expired");
    else
    if (rc == 3)
        *reply = msgw_error_new (BUS_ERR_FORBIDDEN, "CSRF token missing or not this session's");
    else
        *reply = ops_db_error (self->db, "refresh");
    sodium_memzero (&tokens, sizeof tokens);
}

static void
s_validate (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    const msgpack_object *root = msg_root (request);
    char token [CREDS_TOKEN_TEXT + 2] = "", csrf [CREDS_TOKEN_TEXT + 2] = "";
    ops_cstr (root, "access_token", token, sizeof token, true);
    bool with_csrf = msg_map_get (root, "csrf_token") != NULL;
    if (with_csrf)
        ops_cstr (root, "csrf_token", csrf, sizeof csrf, true);
    session_info_t info;
    int rc = session_lookup (self, token, &info);
    if (rc != 0) {
        *reply = rc < 0 ? ops_db_error (self->db, "validate")
                        : msgw_error_new (BUS_ERR_UNAUTHORIZED, "not logged in, or the "
                                          "session expired");
        return;
    }
    bool csrf_ok = false;
    uint8_t hash [CREDS_HASH_BYTES];
    if (with_csrf && session_token_hash (csrf, hash) == 0)
        csrf_ok = sodium_memcmp (hash, info.csrf_hash, CREDS_HASH_BYTES) == 0;
    msgw_t *w = s_user_reply (info.user_id, info.username, 3);
    msgw_kv_int (w, "session_id", info.session_id);
    msgw_kv_int (w, "access_expires_in", info.access_expires - creds_now ());
    msgw_kv_bool (w, "csrf_ok", csrf_ok);
    *reply = w;
}

static void
s_logout (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char token [CREDS_TOKEN_TEXT + 2] = "";
    ops_cstr (msg_root (request), "token", token, sizeof token, true);
    session_info_t info;
    bool known = session_lookup (self, token, &info) == 0;
    int rc = session_revoke_family (self, token);
    sodium_memzero (token, sizeof token);
    if (rc < 0) {
        *reply = ops_db_error (self->db, "logout");
        return;
    }
    if (rc == 0) {
        //  also what tells /ws to check its sockets now: this session's
        //  closes at once instead of at its next periodic check
        char message [200];
        if (known)
            snprintf (message, sizeof message, "admin %s signed out", info.username);
        else
            snprintf (message, sizeof message, "a session signed out (by its refresh token)");
        service_activity (service, "auth.logout", "info", NULL, message, NULL);
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "revoked", rc == 0);
    *reply = w;
}

void
creds_on_wake (service_t *service, void *state)
{
    creds_t *self = state;
    hash_job_t *job;
    while ((job = hash_pool_take (self->pool)))
        job->done (service, self, job);
}

int
creds_wake_fd (void *state)
{
    creds_t *self = state;
    return self ? hash_pool_fd (self->pool) : -1;
}

const service_op_t creds_auth_ops [] = {
    { "admin_status",         s_admin_status },
    { "admin_setup",          s_admin_setup },
    { "admin_create",         s_admin_create },
    { "admin_reset_password", s_admin_reset_password },
    { "login",                s_login },
    { "refresh",              s_refresh },
    { "validate",             s_validate },
    { "logout",               s_logout },
    { "password_change",      s_password_change },
    { NULL, NULL }
};

/*  ops.c — the tunnel actor's bus interface (docs/BUS_OPS.md, tunnel).

      status     {}                           the status, configuration (no secret)
      start      {}                           enabled := true, run the client
      stop       {}                           enabled := false, TERM (KILL after
                                              5 s); answered once the child ended
      configure  {provider?, token?, ssh_host?, ssh_port?, ssh_user?,
                  ssh_host_key?, ssh_remote_host?, ssh_remote_port?}
                                              validated, stored, restart if running

    Every reply is the status map (tunnel_pack_status), never the token. The
    token is handed to credentials (secret_set under owner "tunnel") and
    wiped from the request at once; this actor stores only has_token.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "log.h"
#include "sshkey.h"
#include "tunnel.h"

static msgw_t *
s_status_reply (tunnel_t *self)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 1 + tunnel_status_pairs (true));
    msgw_kv_bool (w, "ok", true);
    tunnel_pack_status (self, w, true);
    return w;
}

static void
s_status (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    *reply = s_status_reply (state);
}

static int
s_save (tunnel_t *self, msgw_t **reply)
{
    char err [256];
    self->conf.updated_at = (int64_t) time (NULL);
    if (tunnel_store_save (self->db, &self->conf, err, sizeof err) != 0) {
        log_error ("%s", err);
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "database error");
        return -1;
    }
    return 0;
}

static void
s_start (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) request;
    tunnel_t *self = state;
    const char *missing = tunnel_conf_incomplete (&self->conf);
    if (missing) {
        *reply = msgw_error_new (BUS_ERR_CONFLICT, missing);
        return;
    }
    bool was = self->conf.enabled;
    self->conf.enabled = true;
    if (s_save (self, reply) != 0) {
        self->conf.enabled = was;
        return;
    }
    if (!was)
        service_activity (service, "tunnel.started", "info", NULL, "tunnel started", NULL);
    tunnel_run (self, service);
    *reply = s_status_reply (self);
}

static void
s_stop (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) request;
    tunnel_t *self = state;
    bool was = self->conf.enabled;
    self->conf.enabled = false;
    if (s_save (self, reply) != 0) {
        self->conf.enabled = was;
        return;
    }
    if (was)
        service_activity (service, "tunnel.stopped", "info", NULL, "tunnel stopped", NULL);
    if (tunnel_halt (self, service)) {
        bus_request_t *deferred = service_defer (service);
        if (deferred && tunnel_wait_exit (self, deferred))
            return;                         //  answered when the child ended
        if (deferred) {
            msgw_t *now = s_status_reply (self);
            service_reply (service, &deferred, &now);
            return;
        }
    }
    *reply = s_status_reply (self);
}

//  --- configure -------------------------------------------------------------------

static const char *const s_fields [] = {
    "op", "provider", "token", "ssh_host", "ssh_port", "ssh_user", "ssh_host_key",
    "ssh_remote_host", "ssh_remote_port", NULL
};

//  A string field into buf when present: 1 present, 0 absent, -1 bad.
static int
s_str (const msgpack_object *root, const char *key, char *buf, size_t size)
{
    msg_field_t rc = msg_get_cstr (root, key, buf, size);
    return rc == MSG_FIELD_OK ? 1 : rc == MSG_FIELD_MISSING ? 0 : -1;
}

static int
s_port (const msgpack_object *root, const char *key, int *port)
{
    int64_t value = 0;
    msg_field_t rc = msg_get_int (root, key, &value);
    if (rc == MSG_FIELD_MISSING)
        return 0;
    if (rc != MSG_FIELD_OK || value < 1 || value > 65535)
        return -1;
    *port = (int) value;
    return 1;
}

static msgw_t *
s_bad (const char *field, const char *what)
{
    char text [200];
    snprintf (text, sizeof text, "%s: %s", field, what);
    return msgw_error_new (BUS_ERR_BAD_REQUEST, text);
}

//  Hand the token to credentials, sealed there under owner "tunnel".
static msgw_t *
s_store_token (service_t *service, const char *token, size_t len)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 4);
    msgw_kv_str (body, "op", "secret_set");
    msgw_kv_str (body, "server_id", TUNNEL_SECRET_OWNER);
    msgw_kv_str (body, "key", TUNNEL_SECRET_KEY);
    msgw_str (body, "value");
    msgw_strn (body, token, len);
    bus_reply_t *reply = service_call (service, "credentials", msgw_data (body),
                                       msgw_size (body), 5000);
    sodium_memzero ((void *) msgw_data (body), msgw_size (body));
    msgw_destroy (&body);
    const char *why = NULL;
    msg_t *msg = bus_reply_decode (reply, &why);
    msgw_t *error = NULL;
    if (!msg || !msg_is_ok (msg)) {
        char text [256];
        snprintf (text, sizeof text, "credentials could not store the token: %s",
                  msg ? msg_error_message (msg) : why);
        error = msgw_error_new (BUS_ERR_UNAVAILABLE, text);
    }
    msg_destroy (&msg);
    bus_reply_destroy (&reply);
    return error;
}

static void
s_configure (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    tunnel_t *self = state;
    const msgpack_object *root = msg_root (request);
    //  unknown fields are refused, so a misspelt one is not silently ignored
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr [i].key;
        bool known = false;
        for (size_t f = 0; s_fields [f] && !known; f++)
            known = strlen (s_fields [f]) == key->via.str.size
                 && memcmp (s_fields [f], key->via.str.ptr, key->via.str.size) == 0;
        if (!known) {
            char name [64];
            snprintf (name, sizeof name, "%.*s", (int) (key->via.str.size < 48
                      ? key->via.str.size : 48), key->via.str.ptr);
            for (char *c = name; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
                    *c = '?';
            *reply = s_bad (name, "not a configuration field");
            goto wipe;
        }
    }
    tunnel_conf_t next = self->conf;
    char text [TUNNEL_HOSTKEY_MAX + 1];
    int got;
    if ((got = s_str (root, "provider", next.provider, sizeof next.provider)) < 0
    ||  (got > 0 && strcmp (next.provider, "none") && !tunnel_provider_find (next.provider))) {
        *reply = s_bad ("provider", "one of none, cloudflared, ssh");
        goto wipe;
    }
    if ((got = s_str (root, "ssh_host", text, sizeof text)) < 0
    ||  (got > 0 && !tunnel_host_valid (text))) {
        *reply = s_bad ("ssh_host", "a host name or address (letters, digits, . - :)");
        goto wipe;
    }
    if (got > 0)
        snprintf (next.ssh_host, sizeof next.ssh_host, "%.253s", text);
    if ((got = s_str (root, "ssh_user", text, sizeof text)) < 0
    ||  (got > 0 && !tunnel_user_valid (text))) {
        *reply = s_bad ("ssh_user", "a user name (lower-case letters, digits, _ . -)");
        goto wipe;
    }
    if (got > 0)
        snprintf (next.ssh_user, sizeof next.ssh_user, "%.32s", text);
    if ((got = s_str (root, "ssh_host_key", text, sizeof text)) < 0
    ||  (got > 0 && tunnel_host_key_parse (text, next.ssh_host_key,
                                           sizeof next.ssh_host_key) != 0)) {
        *reply = s_bad ("ssh_host_key", "the server's public host key, \"TYPE BASE64\" "
                        "(ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa)");
        goto wipe;
    }
    if ((got = s_str (root, "ssh_remote_host", text, sizeof text)) < 0
    ||  (got > 0 && !tunnel_host_valid (text))) {
        *reply = s_bad ("ssh_remote_host", "the address the server listens on");
        goto wipe;
    }
    if (got > 0)
        snprintf (next.ssh_remote_host, sizeof next.ssh_remote_host, "%.253s", text);
    if (s_port (root, "ssh_port", &next.ssh_port) < 0) {
        *reply = s_bad ("ssh_port", "an integer 1..65535");
        goto wipe;
    }
    if (s_port (root, "ssh_remote_port", &next.ssh_remote_port) < 0) {
        *reply = s_bad ("ssh_remote_port", "an integer 1..65535");
        goto wipe;
    }
    const char *token = NULL;
    size_t token_len = 0;
    msg_field_t token_rc = msg_get_str (root, "token", &token, &token_len);
    if (token_rc != MSG_FIELD_MISSING
    && (token_rc != MSG_FIELD_OK || !tunnel_token_valid (token, token_len))) {
        *reply = s_bad ("token", "a cloudflared tunnel token (32..4096 characters of "
                        "A-Z a-z 0-9 + / = _ -)");
        goto wipe;
    }
    if (token_rc == MSG_FIELD_OK) {
        if ((*reply = s_store_token (service, token, token_len)))
            goto wipe;
        next.has_token = true;
    }
    //  an SSH configuration needs the key: made now, so the reply can
    //  carry the public half to install on the server
    if (strcmp (next.provider, "ssh") == 0) {
        char err [256], public_key [SSHKEY_PUBLIC_MAX];
        if (sshkey_ensure (&self->files, public_key, sizeof public_key, err, sizeof err) != 0) {
            log_error ("%s", err);
            *reply = msgw_error_new (BUS_ERR_INTERNAL, err);
            goto wipe;
        }
    }
    if (strcmp (next.provider, "none") == 0)
        next.enabled = false;
    tunnel_conf_t previous = self->conf;
    self->conf = next;
    if (s_save (self, reply) != 0) {
        self->conf = previous;
        goto wipe;
    }
    char message [160];
    snprintf (message, sizeof message, "tunnel configured: provider %s%s", next.provider,
              token_rc == MSG_FIELD_OK ? ", token replaced" : "");
    service_activity (service, "tunnel.configured", "info", NULL, message, NULL);
    if (strcmp (next.provider, "none") == 0) {
        if (tunnel_halt (self, service))
            log_info ("tunnel provider none: stopping the client");
    }
    else
        tunnel_reconfigured (self, service);
    *reply = s_status_reply (self);
wipe:
    {
        const msgpack_object *value = msg_map_get (root, "token");
        if (value && value->type == MSGPACK_OBJECT_STR && value->via.str.size)
            sodium_memzero ((void *) value->via.str.ptr, value->via.str.size);
    }
}

static const service_op_t s_ops [] = {
    { "status",    s_status },
    { "start",     s_start },
    { "stop",      s_stop },
    { "configure", s_configure },
    { NULL, NULL }
};

const service_op_t *
tunnel_ops (void)
{
    return s_ops;
}

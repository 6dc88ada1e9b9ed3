/*  job_secrets.c — fetch a job's server secrets from credentials and merge
    them into the job (job_secrets.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "job_secrets.h"
#include "log.h"

#define S_SERVER_ID_MAX  64

struct _job_secrets_t {
    bus_client_t *client;       //  NULL: no way to ask (tcp without CURVE)
    bus_worker_t *worker;       //  kept registered while we wait
    bool          warned;
};

job_secrets_t *
job_secrets_new (const char *endpoint, const bus_curve_t *curve, bus_worker_t *worker)
{
    job_secrets_t *self = calloc (1, sizeof *self);
    if (self && endpoint && strncmp (endpoint, "ipc://", 6) == 0)
        self->client = bus_client_new (endpoint);
    else
    if (self && endpoint && curve && strncmp (endpoint, "tcp://", 6) == 0)
        self->client = bus_client_new_curve (endpoint, curve);
    if (self)
        self->worker = worker;
    return self;
}

//  Drop a reply, zeroing its body first (it may hold another ask's secrets).
static void
s_reply_wipe (bus_reply_t **reply_p)
{
    size_t size = 0;
    const void *body = *reply_p ? bus_reply_body (*reply_p, &size) : NULL;
    if (body)
        explicit_bzero ((void *) body, size);
    bus_reply_destroy (reply_p);
}

//  Ask credentials and wait for that answer, in slices of half a heartbeat
//  so that the executor's own registration stays alive meanwhile: a slow
//  credentials (a restart, a loaded machine) must not make the broker
//  declare this executor lost, and with it every call it holds.
static bus_reply_t *
s_ask (job_secrets_t *self, msgw_t *ask, int timeout_ms)
{
    uint64_t id = bus_client_send (self->client, "credentials", msgw_data (ask),
                                   msgw_size (ask), timeout_ms);
    if (!id)
        return NULL;
    int slice = bus_heartbeat_ms () / 2;
    if (slice < 1)
        slice = 1;
    while (true) {
        bus_reply_t *reply = bus_client_recv (self->client, slice);
        if (self->worker)
            bus_worker_keepalive (self->worker);
        if (reply && bus_reply_id (reply) == id)
            return reply;
        s_reply_wipe (&reply);  //  not ours (the client drops late ones)
        if (bus_client_pending (self->client) == 0)
            return NULL;        //  nothing left to wait for
    }
}

void
job_secrets_destroy (job_secrets_t **self_p)
{
    if (self_p && *self_p) {
        bus_client_destroy (&(*self_p)->client);
        free (*self_p);
        *self_p = NULL;
    }
}

static bool
s_key_in (const msgpack_object *map, const msgpack_object *key)
{
    for (uint32_t i = 0; map && i < map->via.map.size; i++) {
        const msgpack_object *other = &map->via.map.ptr [i].key;
        if (other->via.str.size == key->via.str.size
        &&  memcmp (other->via.str.ptr, key->via.str.ptr, key->via.str.size) == 0)
            return true;
    }
    return false;
}

//  The job with its "secrets" replaced by own + fetched (fetched win).
static msg_t *
s_merge (const msgpack_object *root, const msgpack_object *fetched, size_t budget)
{
    const msgpack_object *own = msg_map_get (root, "secrets");
    if (own && own->type != MSGPACK_OBJECT_MAP)
        own = NULL;             //  job_spec refuses it later, as before
    uint32_t own_kept = 0;
    for (uint32_t i = 0; own && i < own->via.map.size; i++)
        if (own->via.map.ptr [i].key.type == MSGPACK_OBJECT_STR
        &&  !s_key_in (fetched, &own->via.map.ptr [i].key))
            own_kept++;
    uint32_t fields = 0;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr [i].key;
        if (!(key->via.str.size == 7 && memcmp (key->via.str.ptr, "secrets", 7) == 0))
            fields++;
    }
    msgpack_sbuffer buffer = { 0, malloc (budget), budget };
    if (!buffer.data)
        return NULL;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, fields + 1);
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr [i];
        if (kv->key.via.str.size == 7 && memcmp (kv->key.via.str.ptr, "secrets", 7) == 0)
            continue;
        msgpack_pack_object (&pk, kv->key);
        msgpack_pack_object (&pk, kv->val);
    }
    msgpack_pack_str_with_body (&pk, "secrets", 7);
    msgpack_pack_map (&pk, own_kept + fetched->via.map.size);
    for (uint32_t i = 0; own && i < own->via.map.size; i++)
        if (own->via.map.ptr [i].key.type == MSGPACK_OBJECT_STR
        &&  !s_key_in (fetched, &own->via.map.ptr [i].key)) {
            msgpack_pack_object (&pk, own->via.map.ptr [i].key);
            msgpack_pack_object (&pk, own->via.map.ptr [i].val);
        }
    for (uint32_t i = 0; i < fetched->via.map.size; i++) {
        msgpack_pack_object (&pk, fetched->via.map.ptr [i].key);
        msgpack_pack_object (&pk, fetched->via.map.ptr [i].val);
    }
    msg_t *merged = NULL;
    if (buffer.alloc == budget)     //  no realloc: no stray copy left behind
        merged = msg_decode (buffer.data, buffer.size, NULL, NULL);
    explicit_bzero (buffer.data, buffer.alloc);
    free (buffer.data);
    return merged;
}

int
job_secrets_attach (job_secrets_t *self, msg_t **msg_p, size_t job_size,
                    bus_error_t *code, char *err, size_t errlen)
{
    const msgpack_object *root = msg_root (*msg_p);
    const char *op = msg_op (*msg_p);
    char server_id [S_SERVER_ID_MAX + 1];
    if (!op || (strcmp (op, "run") != 0 && strcmp (op, "test") != 0
                && strcmp (op, "source") != 0)
    ||  msg_get_cstr (root, "server_id", server_id, sizeof server_id) != MSG_FIELD_OK)
        return 0;
    if (!self->client) {
        if (!self->warned)
            log_warn ("jobs name their server's secrets, but this executor cannot ask "
                      "for them (a tcp:// broker without CURVE): they run without");
        self->warned = true;
        return 0;
    }
    msgw_t *ask = msgw_new ();
    msgw_map (ask, 2);
    msgw_kv_str (ask, "op", "job_secrets");
    msgw_kv_str (ask, "server_id", server_id);
    //  kept short: this loop serves other calls' pipes and heartbeats
    int timeout = 2 * bus_heartbeat_ms ();
    bus_reply_t *reply = NULL;
    msg_t *answer = NULL;
    //  a read: asked once more when the worker it reached had died (a
    //  credentials restart leaves the dead one registered until it is silent)
    for (int attempt = 0; attempt < 2; attempt++) {
        msg_destroy (&answer);
        bus_reply_destroy (&reply);
        reply = s_ask (self, ask, timeout);
        answer = reply ? bus_reply_decode (reply, NULL) : NULL;
        if (!answer || msg_is_ok (answer) || msg_error_code (answer) != BUS_ERR_WORKER_LOST)
            break;
    }
    msgw_destroy (&ask);
    size_t size = 0;
    const void *body = reply ? bus_reply_body (reply, &size) : NULL;
    int rc = -1;
    const msgpack_object *secrets = NULL;
    if (!answer || !msg_is_ok (answer)) {
        *code = BUS_ERR_UNAVAILABLE;
        snprintf (err, errlen, "the server's secrets could not be fetched from credentials "
                  "(%s): the call was not run", answer ? bus_error_name (msg_error_code (answer))
                                                      : "no answer");
    }
    else
    if (msg_get_map (msg_root (answer), "secrets", &secrets) != MSG_FIELD_OK) {
        *code = BUS_ERR_PROTOCOL;
        snprintf (err, errlen, "credentials answered job_secrets without secrets");
    }
    else {
        msg_t *merged = s_merge (root, secrets, 256 + size + job_size);
        if (!merged) {
            *code = BUS_ERR_INTERNAL;
            snprintf (err, errlen, "cannot attach the server's secrets to the job");
        }
        else {
            msg_destroy (msg_p);
            *msg_p = merged;
            rc = 0;
        }
    }
    msg_destroy (&answer);
    if (body)
        explicit_bzero ((void *) body, size);
    bus_reply_destroy (&reply);
    return rc;
}

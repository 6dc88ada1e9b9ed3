/*  bus_client.c — many requests in flight to named services.

    Each request gets a 64-bit id and a deadline. The broker answers every
    request it accepted (a reply, no_worker, worker_lost); if the broker
    itself is gone, nothing would come, so a request still pending a grace
    period after its deadline is answered here with `timeout`. Replies for
    ids no longer pending (late, or from before a restart) are dropped.

    Frames (see proto/README.md):
      out: "MBC1" | 0x01 | service | id (u64 BE) | timeout_ms (u32 BE) | body
           "MBC1" | 0x03 CANCEL | id (u64 BE)
      in:  "MBC1" | 0x02 | id (u64 BE) | body
           "MBC1" | 0x04 NOTICE | id (u64 BE) | body   (request stays pending)
*/
#include "bus.h"
#include "bus_frames.h"

#define CLIENT_GRACE_MS 1000

struct _bus_reply_t {
    uint64_t  id;
    zframe_t *body;
    bool      notice;       //  a NOTICE about a pending request, not its reply
};

typedef struct {
    uint64_t id;
    int64_t  expires_at;    //  deadline + grace, monotonic ms
} pending_t;

struct _bus_client_t {
    zsock_t  *sock;             //  DEALER to the broker
    uint64_t  next_id;          //  ids start at a random point
    zhashx_t *pending;          //  id -> pending_t
    zlistx_t *ready;            //  bus_reply_t received but not yet returned
    int64_t   next_expiry;      //  earliest expires_at, INT64_MAX if none
    bool      take_notices;     //  hand NOTICEs out (else drop them)
    uint64_t  notices_dropped;
};

//  --- reply ---------------------------------------------------------------

static bus_reply_t *
s_reply_new (uint64_t id, zframe_t **body_p)
{
    bus_reply_t *self = calloc (1, sizeof *self);
    assert (self);
    self->id = id;
    self->body = *body_p;
    *body_p = NULL;
    return self;
}

static bus_reply_t *
s_reply_error (uint64_t id, bus_error_t code, const char *message)
{
    msgw_t *w = msgw_error_new (code, message);
    zframe_t *body = zframe_new (msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
    return s_reply_new (id, &body);
}

bus_reply_t *
bus_reply_error_new (uint64_t id, bus_error_t code, const char *message)
{
    return s_reply_error (id, code, message);
}

uint64_t bus_reply_id (bus_reply_t *self) { return self->id; }
bool     bus_reply_is_notice (bus_reply_t *self) { return self->notice; }

const void *
bus_reply_body (bus_reply_t *self, size_t *size)
{
    if (size)
        *size = zframe_size (self->body);
    return zframe_data (self->body);
}

msg_t *
bus_reply_decode (bus_reply_t *self, const char **why)
{
    return msg_decode (zframe_data (self->body), zframe_size (self->body),
                       NULL, why);
}

void
bus_reply_destroy (bus_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zframe_destroy (&(*self_p)->body);
    free (*self_p);
    *self_p = NULL;
}

//  --- uint64 keys for zhashx ------------------------------------------------

static size_t
s_id_hash (const void *key)
{
    uint64_t x = *(const uint64_t *) key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t) x;
}

static int
s_id_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static void
s_pending_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_ready_free (void **item)
{
    bus_reply_destroy ((bus_reply_t **) item);
}

//  --- client ---------------------------------------------------------------

bus_client_t *
bus_client_new (const char *endpoint)
{
    return bus_client_new_curve (endpoint, NULL);
}

bus_client_t *
bus_client_new_curve (const char *endpoint, const bus_curve_t *curve)
{
    bus_client_t *self = calloc (1, sizeof *self);
    assert (self);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        free (self);
        return NULL;
    }
    bus_socket_tune (self->sock);
    if (curve) {
        zcert_t *cert = zcert_load (curve->client_secret_file);
        zcert_t *server = zcert_load (curve->server_public_file);
        if (cert && server) {
            zcert_apply (cert, self->sock);
            zsock_set_curve_serverkey (self->sock, zcert_public_txt (server));
        }
        bool ok = cert && server;
        zcert_destroy (&cert);
        zcert_destroy (&server);
        if (!ok) {
            zsock_destroy (&self->sock);
            free (self);
            return NULL;
        }
    }
    if (zsock_connect (self->sock, "%s", endpoint) != 0) {
        zsock_destroy (&self->sock);
        free (self);
        return NULL;
    }
    self->pending = zhashx_new ();
    //  keys live inside the pending_t values, so no key duplication
    zhashx_set_key_hasher (self->pending, s_id_hash);
    zhashx_set_key_comparator (self->pending, s_id_compare);
    zhashx_set_key_duplicator (self->pending, NULL);
    zhashx_set_key_destructor (self->pending, NULL);
    zhashx_set_destructor (self->pending, s_pending_free);
    self->ready = zlistx_new ();
    zlistx_set_destructor (self->ready, s_ready_free);
    self->next_id = ((uint64_t) randof (1 << 30) << 20) + 1;
    self->next_expiry = INT64_MAX;
    return self;
}

void
bus_client_destroy (bus_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_client_t *self = *self_p;
    zhashx_destroy (&self->pending);
    zlistx_destroy (&self->ready);
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

uint64_t
bus_client_send (bus_client_t *self, const char *service, const void *body,
                 size_t size, int timeout_ms)
{
    if (!service || !bus_service_name_valid (service, strlen (service))
    ||  !body || size == 0 || size > BUS_BODY_MAX)
        return 0;
    if (timeout_ms < 0 || timeout_ms > BUS_TIMEOUT_MAX_MS)
        timeout_ms = BUS_TIMEOUT_MAX_MS;
    uint64_t id = self->next_id++;
    if (id == 0)
        id = self->next_id++;

    uint8_t id_bytes [8], timeout_bytes [4], command = BUS_C_REQUEST;
    bus_put_u64 (id_bytes, id);
    bus_put_u32 (timeout_bytes, (uint32_t) timeout_ms);
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, BUS_CLIENT_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return 0;
    //  once the first frame is queued, the rest of the message is too
    zmq_send (handle, &command, 1, ZMQ_SNDMORE);
    zmq_send (handle, service, strlen (service), ZMQ_SNDMORE);
    zmq_send (handle, id_bytes, 8, ZMQ_SNDMORE);
    zmq_send (handle, timeout_bytes, 4, ZMQ_SNDMORE);
    zmq_send (handle, body, size, 0);

    pending_t *entry = malloc (sizeof *entry);
    assert (entry);
    entry->id = id;
    entry->expires_at = bus_now_ms () + timeout_ms + CLIENT_GRACE_MS;
    zhashx_insert (self->pending, &entry->id, entry);
    if (entry->expires_at < self->next_expiry)
        self->next_expiry = entry->expires_at;
    return id;
}

int
bus_client_cancel (bus_client_t *self, uint64_t id)
{
    if (!zhashx_lookup (self->pending, &id))
        return -1;
    uint8_t id_bytes [8], command = BUS_C_CANCEL;
    bus_put_u64 (id_bytes, id);
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, BUS_CLIENT_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (handle, &command, 1, ZMQ_SNDMORE);
    zmq_send (handle, id_bytes, 8, 0);
    return 0;           //  the request stays pending: the broker answers it
}

//  Answer locally every request past its expiry; recompute the next one.
static void
s_expire (bus_client_t *self, int64_t now)
{
    if (now < self->next_expiry)
        return;
    int64_t next = INT64_MAX;
    zlistx_t *expired = zlistx_new ();
    pending_t *entry = zhashx_first (self->pending);
    while (entry) {
        if (entry->expires_at <= now)
            zlistx_add_end (expired, entry);
        else
        if (entry->expires_at < next)
            next = entry->expires_at;
        entry = zhashx_next (self->pending);
    }
    entry = zlistx_first (expired);
    while (entry) {
        uint64_t id = entry->id;
        zlistx_add_end (self->ready, s_reply_error (id, BUS_ERR_TIMEOUT,
            "no reply from the broker before the deadline"));
        zhashx_delete (self->pending, &id);
        entry = zlistx_next (expired);
    }
    zlistx_destroy (&expired);
    self->next_expiry = next;
}

//  Read one message if there is one; queue it in ready if it answers a
//  pending request. Returns false when nothing was waiting.
static bool
s_read_one (bus_client_t *self)
{
    zmsg_t *msg = zmsg_recv (self->sock);
    if (!msg)
        return false;
    zframe_t *proto = zmsg_first (msg);
    zframe_t *command = zmsg_next (msg);
    zframe_t *id_frame = zmsg_next (msg);
    uint64_t id;
    if (zmsg_size (msg) == 4 && bus_frame_is (proto, BUS_CLIENT_PROTO)
    &&  bus_frame_command (command) == BUS_C_REPLY
    &&  bus_frame_u64 (id_frame, &id)
    &&  zhashx_lookup (self->pending, &id)) {
        zhashx_delete (self->pending, &id);
        zframe_t *body = zmsg_last (msg);
        zmsg_remove (msg, body);
        zlistx_add_end (self->ready, s_reply_new (id, &body));
    }
    else
    if (zmsg_size (msg) == 4 && bus_frame_is (proto, BUS_CLIENT_PROTO)
    &&  bus_frame_command (command) == BUS_C_NOTICE) {
        if (self->take_notices && bus_frame_u64 (id_frame, &id)
        &&  zhashx_lookup (self->pending, &id)
        &&  zframe_size (zmsg_last (msg)) <= BUS_NOTICE_MAX) {
            zframe_t *body = zmsg_last (msg);
            zmsg_remove (msg, body);
            bus_reply_t *notice = s_reply_new (id, &body);
            notice->notice = true;
            zlistx_add_end (self->ready, notice);
        }
        else
            self->notices_dropped++;
    }
    zmsg_destroy (&msg);
    return true;
}

bus_reply_t *
bus_client_recv (bus_client_t *self, int timeout_ms)
{
    int64_t until = timeout_ms < 0 ? INT64_MAX : bus_now_ms () + timeout_ms;
    while (true) {
        if (zlistx_size (self->ready))
            return zlistx_detach (self->ready, NULL);
        if (s_read_one (self))
            continue;
        int64_t now = bus_now_ms ();
        s_expire (self, now);
        if (zlistx_size (self->ready))
            continue;
        if (now >= until || zsys_interrupted)
            return NULL;
        int64_t wait = until - now;
        if (self->next_expiry - now < wait)
            wait = self->next_expiry - now;
        if (wait > 1000)
            wait = 1000;       //  notice interrupts
        zmq_pollitem_t item = { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) wait) < 0 && errno == EINTR && zsys_interrupted)
            return NULL;
    }
}

bus_reply_t *
bus_client_call (bus_client_t *self, const char *service, const void *body,
                 size_t size, int timeout_ms)
{
    uint64_t id = bus_client_send (self, service, body, size, timeout_ms);
    if (!id)
        return s_reply_error (0, BUS_ERR_BAD_REQUEST,
                              "request refused before sending");
    //  set aside replies to other requests until ours arrives
    zlistx_t *others = zlistx_new ();
    zlistx_set_destructor (others, s_ready_free);
    bus_reply_t *mine = NULL;
    while (!mine) {
        bus_reply_t *reply = bus_client_recv (self, 1000);
        if (!reply) {
            if (zsys_interrupted)
                break;
            continue;
        }
        if (reply->id == id)
            mine = reply;
        else
            zlistx_add_end (others, reply);
    }
    bus_reply_t *other;
    while ((other = zlistx_detach (others, NULL)))
        zlistx_add_end (self->ready, other);
    zlistx_destroy (&others);
    if (!mine) {
        zhashx_delete (self->pending, &id);
        mine = s_reply_error (id, BUS_ERR_TIMEOUT, "interrupted");
    }
    return mine;
}

void
bus_client_take_notices (bus_client_t *self, bool take)
{
    self->take_notices = take;
}

uint64_t
bus_client_notices_dropped (bus_client_t *self)
{
    return self->notices_dropped;
}

size_t
bus_client_pending (bus_client_t *self)
{
    return zhashx_size (self->pending);
}

int
bus_client_next_deadline_ms (bus_client_t *self)
{
    if (zlistx_size (self->ready))
        return 0;
    if (self->next_expiry == INT64_MAX)
        return -1;
    int64_t left = self->next_expiry - bus_now_ms ();
    return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int) left;
}

zsock_t *
bus_client_sock (bus_client_t *self)
{
    return self->sock;
}

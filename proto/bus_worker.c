/*  bus_worker.c — serve one service for the broker.

    The worker announces a credit (how many requests it may hold) in READY,
    then receives REQUESTs and answers with REPLYs in any order. Both sides
    send HEARTBEAT every interval; any message counts as a sign of life. If
    the broker is silent for LIVENESS intervals, or tells us DISCONNECT (a
    restarted broker does this to peers it does not know), the worker drops
    its socket, connects a fresh one and registers again. Requests received
    on an old connection are still handed back by the caller, but their
    replies are discarded: that broker, and its client mapping, are gone.

    Frames (see proto/README.md), worker side:
      out: "MBW1" | READY | service | credit (u32 BE) [| about (msgpack map)]
           "MBW1" | REPLY | job (u64 BE) | body
           "MBW1" | NOTICE | job (u64 BE) | body   (before the reply)
           "MBW1" | HEARTBEAT
           "MBW1" | DISCONNECT
      in:  "MBW1" | REQUEST | job (u64 BE) | timeout_ms (u32 BE) | body
           "MBW1" | CANCEL | job (u64 BE)
           "MBW1" | HEARTBEAT
           "MBW1" | DISCONNECT

    Cancellation: the worker keeps the requests it has handed out (held,
    bounded by the credit) so that a CANCEL can be matched to one; the
    caller takes it with bus_worker_take_cancelled, stops the work and
    replies as usual. A CANCEL for a request not yet handed out (kept by
    keepalive) is answered here at once; one for a job we do not hold
    (already replied, or from an old connection) is ignored.
*/
#include "bus.h"
#include "bus_frames.h"

struct _bus_request_t {
    uint64_t  job;          //  the broker's id for this request
    uint32_t  timeout_ms;   //  what the client still waits, at receipt
    int       generation;   //  connection it arrived on
    zframe_t *body;
    void     *held_handle;  //  in worker->handed, once handed out
    bool      cancelled;    //  a CANCEL came for it
};

struct _bus_worker_t {
    char     *endpoint;
    char     *service;
    int       credit;
    void     *about;            //  msgpack map sent with READY, or NULL
    size_t    about_size;
    zcert_t  *cert;             //  our CURVE certificate, or NULL
    char     *server_key;       //  broker public key (Z85), or NULL
    zsock_t  *sock;             //  DEALER, replaced on reconnect
    int       generation;       //  bumps on every (re)connect
    int       registrations;
    int       held;             //  requests given out, not yet replied
    int       heartbeat_ms;
    int64_t   heartbeat_at;     //  when we next send HEARTBEAT
    int64_t   broker_expires;   //  broker counted dead after this
    zlistx_t *early;            //  requests read by keepalive, not yet returned
    zlistx_t *handed;           //  requests handed out, not yet replied (borrowed)
    zlistx_t *cancels;          //  of those, cancelled and not yet taken (borrowed)
    bool      heard;            //  the broker spoke on this connection
    int       unheard;          //  connections in a row it never spoke on
};

//  --- request ---------------------------------------------------------------

const void *
bus_request_body (bus_request_t *self, size_t *size)
{
    if (size)
        *size = zframe_size (self->body);
    return zframe_data (self->body);
}

int
bus_request_timeout_ms (bus_request_t *self)
{
    return (int) self->timeout_ms;
}

void
bus_request_wipe_body (bus_request_t *self)
{
    if (self->body) {
        explicit_bzero (zframe_data (self->body), zframe_size (self->body));
        zframe_destroy (&self->body);
        self->body = zframe_new_empty ();
    }
}

void
bus_request_destroy (bus_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zframe_destroy (&(*self_p)->body);
    free (*self_p);
    *self_p = NULL;
}

//  --- connection ----------------------------------------------------------

static int
s_send_command (bus_worker_t *self, int command)
{
    uint8_t byte = (uint8_t) command;
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, BUS_WORKER_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send (handle, &byte, 1, 0) < 0 ? -1 : 0;
}

static int
s_connect (bus_worker_t *self)
{
    if (self->sock && !self->heard)
        self->unheard++;
    self->heard = false;
    zsock_destroy (&self->sock);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        return -1;
    bus_socket_tune (self->sock);
    if (self->cert) {
        zcert_apply (self->cert, self->sock);
        zsock_set_curve_serverkey (self->sock, self->server_key);
    }
    if (zsock_connect (self->sock, "%s", self->endpoint) != 0)
        return -1;
    self->generation++;
    self->registrations++;

    uint8_t credit [4], command = BUS_W_READY;
    bus_put_u32 (credit, (uint32_t) self->credit);
    void *handle = zsock_resolve (self->sock);
    zmq_send (handle, BUS_WORKER_PROTO, 4, ZMQ_SNDMORE);
    zmq_send (handle, &command, 1, ZMQ_SNDMORE);
    zmq_send (handle, self->service, strlen (self->service), ZMQ_SNDMORE);
    zmq_send (handle, credit, 4, self->about ? ZMQ_SNDMORE : 0);
    if (self->about)
        zmq_send (handle, self->about, self->about_size, 0);

    int64_t now = bus_now_ms ();
    self->heartbeat_at = now + self->heartbeat_ms;
    self->broker_expires = now + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
    return 0;
}

bus_worker_t *
bus_worker_new (const char *endpoint, const char *service, int credit,
                const bus_curve_t *curve)
{
    return bus_worker_new_about (endpoint, service, credit, curve, NULL, 0);
}

bus_worker_t *
bus_worker_new_about (const char *endpoint, const char *service, int credit,
                      const bus_curve_t *curve, const void *about, size_t about_size)
{
    if (!endpoint || !service || !bus_service_name_valid (service, strlen (service))
    ||  streq (service, BUS_BROKER_SERVICE)
    ||  credit < 1 || credit > BUS_CREDIT_MAX)
        return NULL;
    if (about) {
        //  the broker refuses anything else; say so here, not by a silent refusal
        msg_t *map = about_size <= BUS_ABOUT_MAX ? msg_decode (about, about_size, NULL, NULL)
                                                 : NULL;
        bool valid = map != NULL;
        msg_destroy (&map);
        if (!valid)
            return NULL;
    }
    bus_worker_t *self = calloc (1, sizeof *self);
    assert (self);
    self->endpoint = strdup (endpoint);
    self->service = strdup (service);
    self->credit = credit;
    if (about) {
        self->about = malloc (about_size);
        assert (self->about);
        memcpy (self->about, about, about_size);
        self->about_size = about_size;
    }
    self->heartbeat_ms = bus_heartbeat_ms ();
    self->early = zlistx_new ();
    self->handed = zlistx_new ();
    self->cancels = zlistx_new ();
    if (curve && curve->client_secret_file && curve->server_public_file) {
        self->cert = zcert_load (curve->client_secret_file);
        zcert_t *server = zcert_load (curve->server_public_file);
        if (server) {
            self->server_key = strdup (zcert_public_txt (server));
            zcert_destroy (&server);
        }
        if (!self->cert || !self->server_key) {
            bus_worker_destroy (&self);
            return NULL;
        }
    }
    if (s_connect (self) != 0)
        bus_worker_destroy (&self);
    return self;
}

void
bus_worker_destroy (bus_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_worker_t *self = *self_p;
    if (self->sock)
        s_send_command (self, BUS_W_DISCONNECT);
    zsock_destroy (&self->sock);
    bus_request_t *early;
    while (self->early && (early = zlistx_detach (self->early, NULL)))
        bus_request_destroy (&early);
    zlistx_destroy (&self->early);
    zlistx_destroy (&self->handed);
    zlistx_destroy (&self->cancels);
    zcert_destroy (&self->cert);
    free (self->server_key);
    free (self->about);
    free (self->endpoint);
    free (self->service);
    free (self);
    *self_p = NULL;
}

static void s_reply_error_cancelled (bus_worker_t *self, bus_request_t **request_p);

//  A CANCEL for job: mark the request we handed out, or answer one not yet
//  handed out; nothing if we do not hold it.
static void
s_cancel (bus_worker_t *self, uint64_t job)
{
    for (bus_request_t *request = zlistx_first (self->handed); request;
         request = zlistx_next (self->handed))
        if (request->job == job && request->generation == self->generation) {
            if (!request->cancelled) {
                request->cancelled = true;
                zlistx_add_end (self->cancels, request);
            }
            return;
        }
    for (bus_request_t *request = zlistx_first (self->early); request;
         request = zlistx_next (self->early))
        if (request->job == job && request->generation == self->generation) {
            zlistx_detach_cur (self->early);
            s_reply_error_cancelled (self, &request);
            return;
        }
}

//  Handle one message from the broker; returns a request if it was one.
static bus_request_t *
s_handle (bus_worker_t *self, zmsg_t *msg)
{
    zframe_t *proto = zmsg_first (msg);
    int command = bus_frame_command (zmsg_next (msg));
    if (!bus_frame_is (proto, BUS_WORKER_PROTO))
        return NULL;
    self->broker_expires = bus_now_ms () + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
    self->heard = true;
    self->unheard = 0;

    if (command == BUS_W_REQUEST && zmsg_size (msg) == 5) {
        uint64_t job;
        uint32_t timeout;
        if (!bus_frame_u64 (zmsg_next (msg), &job)
        ||  !bus_frame_u32 (zmsg_next (msg), &timeout))
            return NULL;
        bus_request_t *request = calloc (1, sizeof *request);
        assert (request);
        request->job = job;
        request->timeout_ms = timeout;
        request->generation = self->generation;
        request->body = zmsg_last (msg);
        zmsg_remove (msg, request->body);
        self->held++;
        return request;
    }
    if (command == BUS_W_CANCEL && zmsg_size (msg) == 3) {
        uint64_t job;
        if (bus_frame_u64 (zmsg_next (msg), &job))
            s_cancel (self, job);
        return NULL;
    }
    if (command == BUS_W_DISCONNECT)
        s_connect (self);       //  the broker forgot us (it restarted): register again
    return NULL;
}

//  The connection itself: heartbeats, reconnects, the next request off the wire.
static bus_request_t *
s_recv_wire (bus_worker_t *self, int timeout_ms)
{
    int64_t until = timeout_ms < 0 ? INT64_MAX : bus_now_ms () + timeout_ms;
    while (true) {
        zmsg_t *msg = zmsg_recv (self->sock);
        if (msg) {
            bus_request_t *request = s_handle (self, msg);
            zmsg_destroy (&msg);
            if (request)
                return request;
            continue;
        }
        int64_t now = bus_now_ms ();
        if (now >= self->heartbeat_at) {
            s_send_command (self, BUS_W_HEARTBEAT);
            self->heartbeat_at = now + self->heartbeat_ms;
        }
        if (now >= self->broker_expires) {
            s_connect (self);           //  broker silent: a fresh socket, READY again
        }
        if (now >= until || zsys_interrupted)
            return NULL;
        int64_t wait = until - now;
        if (self->heartbeat_at - now < wait)
            wait = self->heartbeat_at - now;
        if (wait < 0)
            wait = 0;
        zmq_pollitem_t item = { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) wait) < 0 && errno == EINTR && zsys_interrupted)
            return NULL;
    }
}

void
bus_worker_keepalive (bus_worker_t *self)
{
    bus_request_t *request;
    while ((request = s_recv_wire (self, 0)))
        zlistx_add_end (self->early, request);
}

bus_request_t *
bus_worker_recv (bus_worker_t *self, int timeout_ms)
{
    bus_request_t *request = zlistx_size (self->early)
                           ? zlistx_detach (self->early, NULL)
                           : s_recv_wire (self, timeout_ms);
    if (request)
        request->held_handle = zlistx_add_end (self->handed, request);
    return request;
}

bus_request_t *
bus_worker_take_cancelled (bus_worker_t *self)
{
    return zlistx_detach (self->cancels, NULL);
}

int
bus_worker_reply (bus_worker_t *self, bus_request_t **request_p,
                  const void *body, size_t size)
{
    if (!request_p || !*request_p)
        return -1;
    bus_request_t *request = *request_p;
    self->held--;
    if (request->held_handle) {
        zlistx_delete (self->handed, request->held_handle);
        request->held_handle = NULL;
    }
    if (request->cancelled)
        for (bus_request_t *other = zlistx_first (self->cancels); other;
             other = zlistx_next (self->cancels))
            if (other == request) {
                zlistx_detach_cur (self->cancels);
                break;
            }
    int rc = 0;
    if (!body || size == 0 || size > BUS_BODY_MAX)
        rc = -1;
    else
    if (request->generation == self->generation) {
        uint8_t job [8], command = BUS_W_REPLY;
        bus_put_u64 (job, request->job);
        void *handle = zsock_resolve (self->sock);
        if (zmq_send (handle, BUS_WORKER_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            rc = -1;
        else {
            zmq_send (handle, &command, 1, ZMQ_SNDMORE);
            zmq_send (handle, job, 8, ZMQ_SNDMORE);
            zmq_send (handle, body, size, 0);
        }
    }
    //  else: arrived on a connection that no longer exists; drop the reply
    bus_request_destroy (request_p);
    return rc;
}

int
bus_worker_notice (bus_worker_t *self, bus_request_t *request,
                   const void *body, size_t size)
{
    if (!request || !body || size == 0 || size > BUS_NOTICE_MAX
    ||  request->generation != self->generation)
        return -1;
    uint8_t job [8], command = BUS_W_NOTICE;
    bus_put_u64 (job, request->job);
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, BUS_WORKER_PROTO, 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (handle, &command, 1, ZMQ_SNDMORE);
    zmq_send (handle, job, 8, ZMQ_SNDMORE);
    zmq_send (handle, body, size, 0);
    return 0;
}

//  A request cancelled before it was handed out: reply `cancelled` (the
//  broker drops it; it frees the credit).
static void
s_reply_error_cancelled (bus_worker_t *self, bus_request_t **request_p)
{
    msgw_t *w = msgw_error_new (BUS_ERR_CANCELLED, "cancelled by the client");
    bus_worker_reply (self, request_p, msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
}

int      bus_worker_held (bus_worker_t *self)          { return self->held; }
int      bus_worker_registrations (bus_worker_t *self) { return self->registrations; }
zsock_t *bus_worker_sock (bus_worker_t *self)          { return self->sock; }

int
bus_worker_unheard (bus_worker_t *self)
{
    return self->unheard;
}

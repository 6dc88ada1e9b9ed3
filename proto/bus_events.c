/*  bus_events.c — publish and subscribe through the broker's event proxy.
    An event is two frames: topic (≤ 64 bytes) and a msgpack map body.
    Publishing never blocks: PUB drops at the high-water mark, which is the
    right trade for fire-and-forget logs and notifications. */
#include "bus.h"
#include "bus_frames.h"

#define EVENT_TOPIC_MAX 64

struct _bus_pub_t { zsock_t *sock; };
struct _bus_sub_t { zsock_t *sock; };

bus_pub_t *
bus_pub_new (const char *endpoint)
{
    bus_pub_t *self = calloc (1, sizeof *self);
    assert (self);
    self->sock = zsock_new (ZMQ_PUB);
    if (!self->sock || zsock_connect (self->sock, "%s", endpoint) != 0) {
        bus_pub_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 100);
    zsock_set_sndhwm (self->sock, 10000);
    return self;
}

void
bus_pub_destroy (bus_pub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy (&(*self_p)->sock);
    free (*self_p);
    *self_p = NULL;
}

int
bus_pub_send (bus_pub_t *self, const char *topic, const void *body, size_t size)
{
    size_t topic_len = topic ? strlen (topic) : 0;
    if (topic_len == 0 || topic_len > EVENT_TOPIC_MAX || !body || size == 0
    ||  size > BUS_BODY_MAX)
        return -1;
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send (handle, body, size, 0) < 0 ? -1 : 0;
}

bus_sub_t *
bus_sub_new (const char *endpoint, const char **topics)
{
    bus_sub_t *self = calloc (1, sizeof *self);
    assert (self);
    self->sock = zsock_new (ZMQ_SUB);
    if (!self->sock || zsock_connect (self->sock, "%s", endpoint) != 0) {
        bus_sub_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_rcvtimeo (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, BUS_BODY_MAX + EVENT_TOPIC_MAX);
    for (int i = 0; topics && topics [i]; i++)
        zsock_set_subscribe (self->sock, topics [i]);
    return self;
}

void
bus_sub_destroy (bus_sub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy (&(*self_p)->sock);
    free (*self_p);
    *self_p = NULL;
}

int
bus_sub_recv (bus_sub_t *self, int timeout_ms, char **topic_p, void **body_p,
              size_t *size_p)
{
    zmq_pollitem_t item = { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return -1;
    zmsg_t *msg = zmsg_recv (self->sock);
    if (!msg)
        return -1;
    int rc = -1;
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (zmsg_size (msg) == 2 && zframe_size (topic) > 0
    &&  zframe_size (topic) <= EVENT_TOPIC_MAX && zframe_size (body) > 0) {
        *topic_p = zframe_strdup (topic);
        *size_p = zframe_size (body);
        *body_p = malloc (*size_p);
        assert (*body_p);
        memcpy (*body_p, zframe_data (body), *size_p);
        rc = 0;
    }
    zmsg_destroy (&msg);
    return rc;
}

zsock_t *
bus_sub_sock (bus_sub_t *self)
{
    return self->sock;
}

/*  bus_bridge.c — the bus thread and its two queues. See bus_bridge.h.

    Locking: `lock` guards submitted, completed, in_flight, next_ticket and
    stopping. The bus thread holds it only to move whole batches between a
    shared queue and its private lists, never while it talks to ZeroMQ, and
    calls the wake callback with it released.

    The bus thread sleeps in zmq_poll on two or three things: the bus
    socket, an eventfd that submit and destroy write to, and the event SUB
    socket when there is one. Its poll timeout is the bus
    client's next local deadline, so requests the broker never answers still
    complete (with `timeout`) on time.
*/
#include <czmq.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus.h"
#include "msg.h"
#include "idmap.h"
#include "bus_bridge.h"

//  The bus thread never sleeps longer than this (a belt to the eventfd's
//  braces).
#define BRIDGE_IDLE_MS 1000

//  A submission on its way to the bus thread.
typedef struct {
    uint64_t  ticket;                          //  the bridge's id for it
    uint64_t  token;                           //  the caller's, opaque
    char      service [BUS_SERVICE_MAX + 1];   //  validated name
    void     *body;                            //  owned copy
    size_t    size;
    int       timeout_ms;
    int64_t   submitted_us;                    //  monotonic, at submit
} job_t;

//  A sent request waiting for its reply, in the bus thread's table.
typedef struct {
    uint64_t ticket;
    uint64_t token;
    uint64_t bus_id;        //  the bus client's id for it
    int64_t  submitted_us;  //  monotonic, at submit
    char     service [BUS_SERVICE_MAX + 1];
} pending_t;

struct _bus_bridge_result_t {
    uint64_t  ticket;       //  as returned by submit
    uint64_t  token;        //  as given to submit
    void     *body;         //  owned reply body
    size_t    size;
    int64_t   elapsed_us;   //  submit to completion (completions only)
    char      service [BUS_SERVICE_MAX + 1];   //  "" for notices
};

//  An event on its way to the owner.
typedef struct {
    char   *topic;          //  owned
    void   *body;           //  owned
    size_t  size;
} event_t;

struct _bus_bridge_t {
    bus_client_t       *client;      //  owned by the bus thread once started
    bus_sub_t          *sub;         //  events, or NULL; bus thread's too
    bus_bridge_wake_fn *wake;        //  tells the owner completions are ready
    void               *wake_arg;
    int                 wakefd;      //  eventfd: wakes the bus thread
    pthread_t           thread;      //  the bus thread
    pthread_mutex_t     lock;        //  guards the fields below
    zlistx_t           *submitted;   //  job_t, for the bus thread
    zlistx_t           *cancels;     //  uint64_t tickets, for the bus thread
    zlistx_t           *completed;   //  bus_bridge_result_t, for the owner
    size_t              in_flight;   //  submitted and not yet taken
    uint64_t            next_ticket; //  next ticket to hand out
    bool                stopping;    //  destroy has begun
    zlistx_t           *events;      //  event_t, for the owner
    bool                events_lost; //  some were dropped since last take
    uint64_t            events_dropped; //  dropped at the bound, ever
    zlistx_t           *notices;     //  bus_bridge_result_t, for the owner
    uint64_t            notices_dropped; //  dropped at the bound, ever
};

//  --- items ----------------------------------------------------------------

static void
s_job_destroy (job_t **job_p)
{
    if (*job_p) {
        free ((*job_p)->body);
        free (*job_p);
        *job_p = NULL;
    }
}

static void
s_job_free (void **item)
{
    s_job_destroy ((job_t **) item);
}

static void
s_event_free (void **item)
{
    event_t *event = *item;
    if (event) {
        free (event->topic);
        free (event->body);
        free (event);
        *item = NULL;
    }
}

static void
s_result_free (void **item)
{
    bus_bridge_result_destroy ((bus_bridge_result_t **) item);
}

static bus_bridge_result_t *
s_result_new (uint64_t ticket, uint64_t token, const void *body, size_t size)
{
    bus_bridge_result_t *self = calloc (1, sizeof *self);
    assert (self);
    self->ticket = ticket;
    self->token = token;
    self->body = malloc (size ? size : 1);
    assert (self->body);
    if (size)
        memcpy (self->body, body, size);
    self->size = size;
    return self;
}

static bus_bridge_result_t *
s_result_error (uint64_t ticket, uint64_t token, bus_error_t code,
                const char *message)
{
    msgw_t *w = msgw_error_new (code, message);
    bus_bridge_result_t *self =
        s_result_new (ticket, token, msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
    return self;
}

const char *bus_bridge_result_service (bus_bridge_result_t *self) { return self->service; }
int64_t bus_bridge_result_elapsed_us (bus_bridge_result_t *self) { return self->elapsed_us; }

uint64_t bus_bridge_result_ticket (bus_bridge_result_t *self) { return self->ticket; }
uint64_t bus_bridge_result_token (bus_bridge_result_t *self) { return self->token; }

const void *
bus_bridge_result_body (bus_bridge_result_t *self, size_t *size)
{
    if (size)
        *size = self->size;
    return self->body;
}

void
bus_bridge_result_destroy (bus_bridge_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->body);
    free (*self_p);
    *self_p = NULL;
}

//  A completion's service and round trip.
static void
s_result_timed (bus_bridge_result_t *self, const char *service, int64_t submitted_us)
{
    snprintf (self->service, sizeof self->service, "%s", service);
    self->elapsed_us = zclock_usecs () - submitted_us;
}

//  --- the bus thread ---------------------------------------------------------

//  Send every job in `jobs`; jobs the client refuses complete at once.
static void
s_send_jobs (bus_bridge_t *self, zlistx_t *jobs, idmap_t *pending,
             idmap_t *by_ticket, zlistx_t *done)
{
    job_t *job;
    while ((job = zlistx_detach (jobs, NULL))) {
        uint64_t id = bus_client_send (self->client, job->service, job->body,
                                       job->size, job->timeout_ms);
        pending_t *entry = id ? malloc (sizeof *entry) : NULL;
        if (entry) {
            entry->ticket = job->ticket;
            entry->token = job->token;
            entry->bus_id = id;
            entry->submitted_us = job->submitted_us;
            memcpy (entry->service, job->service, sizeof entry->service);
        }
        if (!entry || idmap_insert (pending, id, entry) != 0) {
            //  a refused send, or (never) a reused id: answer now
            free (entry);
            entry = NULL;
            bus_bridge_result_t *result = s_result_error (job->ticket, job->token,
                BUS_ERR_UNAVAILABLE, "the bus refused the request");
            s_result_timed (result, job->service, job->submitted_us);
            zlistx_add_end (done, result);
        }
        if (entry)
            idmap_insert (by_ticket, entry->ticket, entry);
        s_job_destroy (&job);
    }
}

//  Collect every reply ready now; replies for unknown ids are dropped.
//  Notices about pending requests go to `notes`.
static void
s_collect_replies (bus_bridge_t *self, idmap_t *pending, idmap_t *by_ticket,
                   zlistx_t *done, zlistx_t *notes)
{
    bus_reply_t *reply;
    while ((reply = bus_client_recv (self->client, 0))) {
        if (bus_reply_is_notice (reply)) {
            pending_t *entry = idmap_lookup (pending, bus_reply_id (reply));
            if (entry) {
                size_t size;
                const void *body = bus_reply_body (reply, &size);
                zlistx_add_end (notes, s_result_new (entry->ticket, entry->token, body, size));
            }
            bus_reply_destroy (&reply);
            continue;
        }
        pending_t *entry = idmap_take (pending, bus_reply_id (reply));
        if (entry) {
            idmap_take (by_ticket, entry->ticket);
            size_t size;
            const void *body = bus_reply_body (reply, &size);
            bus_bridge_result_t *result = s_result_new (entry->ticket, entry->token,
                                                        body, size);
            s_result_timed (result, entry->service, entry->submitted_us);
            zlistx_add_end (done, result);
            free (entry);
        }
        bus_reply_destroy (&reply);
    }
}

//  Queue every event ready now (dropping the oldest beyond the bound).
//  True if any arrived.
static bool
s_collect_events (bus_bridge_t *self)
{
    bool any = false;
    char *topic;
    void *body;
    size_t size;
    while (self->sub && bus_sub_recv (self->sub, 0, &topic, &body, &size) == 0) {
        event_t *event = malloc (sizeof *event);
        assert (event);
        event->topic = topic;
        event->body = body;
        event->size = size;
        pthread_mutex_lock (&self->lock);
        if (zlistx_size (self->events) >= BUS_BRIDGE_MAX_EVENTS) {
            event_t *oldest = zlistx_detach (self->events, NULL);
            s_event_free ((void **) &oldest);
            self->events_lost = true;
            self->events_dropped++;
        }
        zlistx_add_end (self->events, event);
        pthread_mutex_unlock (&self->lock);
        any = true;
    }
    return any;
}

static void *
s_bus_thread (void *arg)
{
    bus_bridge_t *self = arg;
    idmap_t  *pending = idmap_new (free);   //  bus id -> pending_t
    idmap_t  *by_ticket = idmap_new (NULL); //  ticket -> the same pending_t
    zlistx_t *jobs = zlistx_new ();         //  taken from submitted
    zlistx_t *cancels = zlistx_new ();      //  taken from self->cancels
    zlistx_t *done = zlistx_new ();         //  to move into completed
    zlistx_t *notes = zlistx_new ();        //  to move into notices
    zlistx_set_destructor (jobs, s_job_free);
    zlistx_set_destructor (done, s_result_free);
    zlistx_set_destructor (notes, s_result_free);

    while (true) {
        pthread_mutex_lock (&self->lock);
        bool stopping = self->stopping;
        void *item;
        while ((item = zlistx_detach (self->submitted, NULL)))
            zlistx_add_end (jobs, item);
        while ((item = zlistx_detach (self->cancels, NULL)))
            zlistx_add_end (cancels, item);
        pthread_mutex_unlock (&self->lock);
        if (stopping)
            break;

        s_send_jobs (self, jobs, pending, by_ticket, done);
        //  after the sends: a cancel follows its submission
        uint64_t *ticket;
        while ((ticket = zlistx_detach (cancels, NULL))) {
            pending_t *entry = idmap_lookup (by_ticket, *ticket);
            if (entry)
                bus_client_cancel (self->client, entry->bus_id);
            free (ticket);
        }
        s_collect_replies (self, pending, by_ticket, done, notes);
        bool events = s_collect_events (self);

        bool replies = zlistx_size (done) > 0 || zlistx_size (notes) > 0;
        if (replies) {
            pthread_mutex_lock (&self->lock);
            while ((item = zlistx_detach (notes, NULL))) {
                if (zlistx_size (self->notices) < BUS_BRIDGE_MAX_NOTICES)
                    zlistx_add_end (self->notices, item);
                else {
                    s_result_free (&item);
                    self->notices_dropped++;
                }
            }
            while ((item = zlistx_detach (done, NULL)))
                zlistx_add_end (self->completed, item);
            pthread_mutex_unlock (&self->lock);
        }
        if (replies || events)
            self->wake (self->wake_arg);

        int timeout = bus_client_next_deadline_ms (self->client);
        if (timeout < 0 || timeout > BRIDGE_IDLE_MS)
            timeout = BRIDGE_IDLE_MS;
        zmq_pollitem_t items [] = {
            { zsock_resolve (bus_client_sock (self->client)), 0, ZMQ_POLLIN, 0 },
            { NULL, self->wakefd, ZMQ_POLLIN, 0 },
            { self->sub ? zsock_resolve (bus_sub_sock (self->sub)) : NULL,
              0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, self->sub ? 3 : 2, timeout) > 0
        &&  (items [1].revents & ZMQ_POLLIN)) {
            uint64_t count;
            if (read (self->wakefd, &count, sizeof count) < 0) {
                //  EAGAIN: someone else drained it; nothing to do
            }
        }
    }
    //  requests still pending are abandoned: nobody waits for them now
    zlistx_destroy (&jobs);
    zlistx_destroy (&done);
    zlistx_destroy (&notes);
    uint64_t *ticket;
    while ((ticket = zlistx_detach (cancels, NULL)))
        free (ticket);
    zlistx_destroy (&cancels);
    idmap_destroy (&by_ticket);
    idmap_destroy (&pending);
    return NULL;
}

//  --- the owner's side ---------------------------------------------------

static void
s_wake_bus_thread (bus_bridge_t *self)
{
    uint64_t one = 1;
    if (write (self->wakefd, &one, sizeof one) < 0) {
        //  EAGAIN: the counter is saturated, so the thread is awake anyway
    }
}

bus_bridge_t *
bus_bridge_new (const char *endpoint, bus_bridge_wake_fn *wake, void *wake_arg)
{
    return bus_bridge_new_with_events (endpoint, NULL, NULL, wake, wake_arg);
}

bus_bridge_t *
bus_bridge_new_with_events (const char *endpoint, const char *events_endpoint,
                            const char **topics, bus_bridge_wake_fn *wake,
                            void *wake_arg)
{
    assert (endpoint && wake);
    bus_bridge_t *self = calloc (1, sizeof *self);
    assert (self);
    self->wake = wake;
    self->wake_arg = wake_arg;
    self->next_ticket = 1;
    self->submitted = zlistx_new ();
    self->cancels = zlistx_new ();
    self->completed = zlistx_new ();
    self->events = zlistx_new ();
    self->notices = zlistx_new ();
    zlistx_set_destructor (self->notices, s_result_free);
    zlistx_set_destructor (self->submitted, s_job_free);
    zlistx_set_destructor (self->completed, s_result_free);
    zlistx_set_destructor (self->events, s_event_free);
    pthread_mutex_init (&self->lock, NULL);
    self->wakefd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    //  the sockets are made here and handed to the bus thread: pthread_create
    //  is a full barrier, which is all a ZeroMQ socket needs to migrate
    self->client = self->wakefd >= 0 ? bus_client_new (endpoint) : NULL;
    if (self->client)
        bus_client_take_notices (self->client, true);
    bool sub_ok = true;
    if (self->client && events_endpoint) {
        self->sub = bus_sub_new (events_endpoint, topics);
        sub_ok = self->sub != NULL;
    }
    if (!self->client || !sub_ok
    ||  pthread_create (&self->thread, NULL, s_bus_thread, self) != 0) {
        bus_client_destroy (&self->client);
        bus_sub_destroy (&self->sub);
        zlistx_destroy (&self->events);
        zlistx_destroy (&self->notices);
        if (self->wakefd >= 0)
            close (self->wakefd);
        zlistx_destroy (&self->submitted);
        zlistx_destroy (&self->cancels);
        zlistx_destroy (&self->completed);
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    return self;
}

void
bus_bridge_destroy (bus_bridge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_bridge_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_mutex_unlock (&self->lock);
    s_wake_bus_thread (self);
    pthread_join (self->thread, NULL);

    bus_client_destroy (&self->client);
    bus_sub_destroy (&self->sub);
    close (self->wakefd);
    zlistx_destroy (&self->submitted);
    uint64_t *ticket;
    while ((ticket = zlistx_detach (self->cancels, NULL)))
        free (ticket);
    zlistx_destroy (&self->cancels);
    zlistx_destroy (&self->completed);
    zlistx_destroy (&self->events);
    zlistx_destroy (&self->notices);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

uint64_t
bus_bridge_submit (bus_bridge_t *self, const char *service, const void *body,
                   size_t size, int timeout_ms, uint64_t token)
{
    if (!service || !body || size == 0 || size > BUS_BODY_MAX)
        return 0;
    size_t len = strnlen (service, BUS_SERVICE_MAX + 1);
    if (len > BUS_SERVICE_MAX || !bus_service_name_valid (service, len))
        return 0;

    job_t *job = calloc (1, sizeof *job);
    assert (job);
    memcpy (job->service, service, len);
    job->body = malloc (size);
    assert (job->body);
    memcpy (job->body, body, size);
    job->size = size;
    job->timeout_ms = timeout_ms;
    job->token = token;
    job->submitted_us = zclock_usecs ();

    uint64_t ticket = 0;
    pthread_mutex_lock (&self->lock);
    if (!self->stopping && self->in_flight < BUS_BRIDGE_MAX_IN_FLIGHT) {
        ticket = job->ticket = self->next_ticket++;
        self->in_flight++;
        zlistx_add_end (self->submitted, job);
        job = NULL;
    }
    pthread_mutex_unlock (&self->lock);

    if (job)
        s_job_destroy (&job);
    else
        s_wake_bus_thread (self);
    return ticket;
}

void
bus_bridge_cancel (bus_bridge_t *self, uint64_t ticket)
{
    uint64_t *item = malloc (sizeof *item);
    assert (item);
    *item = ticket;
    pthread_mutex_lock (&self->lock);
    bool queued = !self->stopping && zlistx_size (self->cancels) < BUS_BRIDGE_MAX_IN_FLIGHT;
    if (queued)
        zlistx_add_end (self->cancels, item);
    pthread_mutex_unlock (&self->lock);
    if (queued)
        s_wake_bus_thread (self);
    else
        free (item);
}

bus_bridge_result_t *
bus_bridge_take (bus_bridge_t *self)
{
    pthread_mutex_lock (&self->lock);
    bus_bridge_result_t *result = zlistx_detach (self->completed, NULL);
    if (result)
        self->in_flight--;
    pthread_mutex_unlock (&self->lock);
    return result;
}

bus_bridge_result_t *
bus_bridge_take_notice (bus_bridge_t *self)
{
    pthread_mutex_lock (&self->lock);
    bus_bridge_result_t *notice = zlistx_detach (self->notices, NULL);
    pthread_mutex_unlock (&self->lock);
    return notice;
}

uint64_t
bus_bridge_notices_dropped (bus_bridge_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t dropped = self->notices_dropped;
    pthread_mutex_unlock (&self->lock);
    return dropped;
}

size_t
bus_bridge_in_flight (bus_bridge_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t in_flight = self->in_flight;
    pthread_mutex_unlock (&self->lock);
    return in_flight;
}

uint64_t
bus_bridge_events_dropped (bus_bridge_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t dropped = self->events_dropped;
    pthread_mutex_unlock (&self->lock);
    return dropped;
}

int
bus_bridge_take_event (bus_bridge_t *self, char **topic_p, void **body_p,
                       size_t *size_p, bool *lost_p)
{
    pthread_mutex_lock (&self->lock);
    event_t *event = zlistx_detach (self->events, NULL);
    bool lost = self->events_lost;
    if (event)
        self->events_lost = false;
    pthread_mutex_unlock (&self->lock);
    if (!event)
        return -1;
    *topic_p = event->topic;
    *body_p = event->body;
    *size_p = event->size;
    if (lost_p)
        *lost_p = lost;
    free (event);
    return 0;
}

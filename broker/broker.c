/*  broker.c — the request broker and the event proxy.

    Design. One thread, one zmq_poll loop, in the spirit of the zguide's
    Majordomo broker, with three changes the design asks for:

    - Requests carry an id and a deadline, and workers hold up to `credit`
      requests at once, so neither side serialises. A request gets a broker
      job id; workers only ever see job ids, never client identities, and a
      REPLY is accepted only from the worker that holds that job.
    - Every accepted request is answered exactly once: the worker's reply,
      or `no_worker` (still queued at its deadline), `timeout` (dispatched
      and still running at its deadline; the job stays charged to the worker
      until it replies or dies), or `worker_lost` (its worker died or broke
      the protocol). A full broker answers `unavailable` at once, and so does
      a broker that shuts down, for every request still unanswered.
    - Two ROUTER sockets: the local ipc one (trusted by the 0700 run
      directory) and an optional tcp one with CURVE and a key allowlist
      (zauth). On tcp only `sandbox` workers are accepted: a remote machine
      runs executors, it does not get to call the registry or credentials,
      except to ask the secrets of a job it holds (broker_remote.h).

    Messages are handled as raw ZeroMQ parts, not CZMQ zmsg/zframe: s_recv
    reads one message with zmq_msg_recv into a stack array of zmq_msg_t,
    broker_msg_parse (broker_frames.c, fuzzed) reads views of those parts in
    place, and s_send writes the small header parts with zmq_send from stack
    buffers. A body is forwarded as the zmq_msg_t it arrived in
    (zmq_msg_send hands it over, nothing is copied). So a request that finds
    a worker with credit costs one job_t and one jobs-table entry, and its
    reply nothing at all. Only a request that has to wait copies its body
    into its job: a queued job must not pin ZeroMQ's receive buffer, which
    the received part may share with other messages. Client routing ids are
    copied into the job the same way (inline for ids up to 33 bytes).

    Tables: services (name -> service: rotating worker list, FIFO of waiting
    jobs), workers (origin + raw routing id -> worker: credit, jobs held,
    expiry; also linked in one list for the heartbeat), jobs (id -> job).
    A job sits on exactly one intrusive list: its service's waiting FIFO or
    the held list of the worker it was dispatched to. While its client is
    owed an answer it is also in `requests`, keyed by (origin, client
    routing id, the client's id), so that the client can CANCEL it: a
    waiting job is answered `cancelled` and forgotten; a dispatched one is
    answered `cancelled`, its worker is told CANCEL, and the job stays
    charged to the worker until it replies (the reply is dropped).

    Timers: heartbeat (every interval: send HEARTBEAT to each worker, remove
    the silent; walks the worker list in place) and deadlines: a binary
    min-heap of the jobs whose client is still owed an answer, ordered by
    deadline (then job id), each job knowing its slot. The heap top is the
    next wake-up; at a deadline only the jobs that are due are popped
    (O(log n) each), whatever the number of open jobs. A job leaves the heap
    when its client is answered: reply, `timeout` (the job itself stays with
    its worker), `no_worker`, `worker_lost`. So "answered" is "not in the
    heap", and shutdown answers exactly the jobs left in it.

    The service BUS_BROKER_SERVICE is the broker's own: a request to it is
    answered at once by broker_workers.c from a view of every worker (its
    registration number, credit, jobs held, replies served, when it
    registered and was last heard, and the `about` map it may send with
    READY: host, process, restarts...), so the pool can be watched over the
    bus. No worker may register for it.

    The event proxy forwards two-part events XSUB -> XPUB and one-part
    subscriptions back, so publishers and subscribers only know the broker.
*/
#include "broker.h"
#include "broker_allow.h"
#include "broker_remote.h"
#include "broker_frames.h"
#include "broker_workers.h"
#include "bus.h"
#include "bus_frames.h"
#include "ids.h"
#include "log.h"

#define BROKER_MAX_JOBS      100000     //  accepted and not yet finished
#define BROKER_MAX_SERVICES  256
#define BROKER_MAX_WORKERS   4096
#define BROKER_BATCH         256        //  messages per socket per poll
#define ORIGIN_LOCAL         0
#define ORIGIN_TCP           1
#define REMOTE_SERVICE       "sandbox"
#define EVENT_TOPIC_MAX      64
#define HEAP_NONE            SIZE_MAX   //  job->heap_index when answered

typedef struct _service_t service_t;
typedef struct _worker_t  worker_t;
typedef struct _job_t     job_t;

typedef struct {                //  intrusive FIFO of jobs (job->prev/next)
    job_t  *head;
    job_t  *tail;
    size_t  size;
} job_list_t;

struct _job_t {
    uint64_t   id;              //  broker job id (key in broker->jobs)
    int        origin;          //  router the client used
    zmq_msg_t  client;          //  client routing id (a copy)
    uint64_t   request_id;      //  the client's id for it
    int64_t    deadline;        //  monotonic ms
    service_t *service;
    zmq_msg_t  body;            //  a copy while waiting; empty once sent
    worker_t  *worker;          //  while dispatched
    job_t     *prev, *next;     //  in service->waiting, or in worker->held
    size_t     heap_index;      //  slot in broker->heap; HEAP_NONE once answered
    char       server_id [BROKER_SERVER_ID_MAX + 1];
                                //  the server it names, when held by a tcp
                                //  worker (broker_remote.h); else ""
    double     notice_tokens;   //  NOTICEs it may still relay now (bucket)
    int64_t    notice_at;       //  when the bucket was last filled
    struct {                    //  key in broker->requests while open
        int            origin;
        size_t         size;
        const uint8_t *data;    //  points at client's data
        uint64_t       id;
    } key;
};

typedef struct {                //  a worker's key: origin + raw routing id
    int            origin;
    size_t         size;
    const uint8_t *data;
} peer_key_t;

struct _worker_t {
    peer_key_t key;             //  data points at identity below
    service_t *service;
    uint32_t   credit;          //  announced in READY
    uint64_t   number;          //  registration number (broker->next_worker)
    uint64_t   served;          //  replies it delivered for its jobs
    int64_t    registered_at;   //  unix ms
    int64_t    seen;            //  monotonic ms of its last message
    void      *about;           //  the msgpack map from READY, or NULL
    size_t     about_size;
    char       address [64];    //  Peer-Address as ZeroMQ gave it, or ""
    char       curve_key [41];  //  tcp: its CURVE key (certificate metadata
                                //  `key`, broker_allow.h), or ""
    int64_t    expires;         //  dead when silent past this
    job_list_t held;            //  dispatched jobs it has not replied to
    void      *service_handle;  //  in service->workers
    worker_t  *prev, *next;     //  in broker->worker_list
    uint8_t    identity [];     //  routing id
};

struct _service_t {
    char      *name;
    zlistx_t  *workers;         //  worker_t, rotated for fairness
    job_list_t waiting;         //  oldest first
};

struct _broker_t {
    zsock_t  *router [2];       //  [ORIGIN_LOCAL], [ORIGIN_TCP] or NULL
    void     *handle [2];       //  their libzmq sockets
    zsock_t  *xsub;             //  event input
    zsock_t  *xpub;             //  event output
    zactor_t *auth;             //  zauth, with tcp
    broker_allow_t *allow;      //  the allow directory, with tcp
    zhashx_t *services;         //  name -> service_t (owned)
    zhashx_t *workers;          //  peer_key_t -> worker_t (owned)
    worker_t *worker_list;      //  the same workers, for the heartbeat
    zhashx_t *jobs;             //  id -> job_t (owned)
    zhashx_t *requests;         //  (origin, client, request id) -> open job_t
    job_t   **heap;             //  unanswered jobs, min-heap by deadline
    size_t    heap_size;
    size_t    heap_capacity;
    uint64_t  next_job;
    uint64_t  next_worker;      //  registrations so far
    int64_t   started;          //  monotonic ms at broker_new
    int       heartbeat_ms;
    int64_t   heartbeat_at;
    int64_t   now;              //  monotonic ms, read once per message
    broker_stats_t stats;
};

//  One received message: its first BROKER_PARTS_MAX parts and views of them.
typedef struct {
    zmq_msg_t     msg  [BROKER_PARTS_MAX];
    broker_part_t view [BROKER_PARTS_MAX];
    size_t        count;
} parts_t;

//  --- raw messages -------------------------------------------------------------

//  Read one whole message without blocking. Parts past BROKER_PARTS_MAX are
//  read and dropped (the parser rejects the count anyway). False when no
//  message is waiting.
static bool
s_recv (void *handle, parts_t *p)
{
    p->count = 0;
    zmq_msg_t extra;
    while (true) {
        zmq_msg_t *msg = p->count < BROKER_PARTS_MAX ? &p->msg [p->count] : &extra;
        zmq_msg_init (msg);
        //  the parts of a message arrive together, so only the first can fail
        if (zmq_msg_recv (msg, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (msg);
            break;
        }
        bool more = zmq_msg_more (msg);
        if (msg == &extra)
            zmq_msg_close (&extra);
        else
            p->view [p->count++] = (broker_part_t) { zmq_msg_data (msg), zmq_msg_size (msg) };
        if (!more)
            break;
    }
    return p->count > 0;
}

static void
s_parts_close (parts_t *p)
{
    for (size_t i = 0; i < p->count; i++)
        zmq_msg_close (&p->msg [i]);
    p->count = 0;
}

//  A message that owns a copy of part (no allocation up to 33 bytes).
static void
s_msg_copy (zmq_msg_t *msg, broker_part_t part)
{
    if (zmq_msg_init_size (msg, part.size) != 0)
        abort ();               //  out of memory
    if (part.size)
        memcpy (zmq_msg_data (msg), part.data, part.size);
}

static broker_part_t
s_msg_view (zmq_msg_t *msg)
{
    return (broker_part_t) { zmq_msg_data (msg), zmq_msg_size (msg) };
}

//  identity | head [0 .. count-1] [| body], without blocking. A ROUTER drops
//  what it cannot route or queue, so there is nothing to report. body (may
//  be NULL) goes as it is, without a copy, and is left empty either way.
static void
s_send (void *handle, broker_part_t identity,
        const broker_part_t *head, size_t count, zmq_msg_t *body)
{
    bool sent = zmq_send (handle, identity.data, identity.size,
                          ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
    for (size_t i = 0; sent && i < count; i++) {
        int more = i + 1 < count || body ? ZMQ_SNDMORE : 0;
        sent = zmq_send (handle, head [i].data, head [i].size, more | ZMQ_DONTWAIT) >= 0;
    }
    if (body) {
        if (!sent || zmq_msg_send (body, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (body);
            zmq_msg_init (body);
        }
    }
}

//  --- uint64 and peer keys -------------------------------------------------------

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

//  FNV-1a over the origin and the routing id.
static size_t
s_peer_hash (const void *key)
{
    const peer_key_t *peer = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = (h ^ (uint64_t) peer->origin) * 0x100000001b3ULL;
    for (size_t i = 0; i < peer->size; i++)
        h = (h ^ peer->data [i]) * 0x100000001b3ULL;
    return (size_t) h;
}

//  The same over a job's request key (origin, client, the client's id).
static size_t
s_request_hash (const void *key)
{
    const job_t *job = (const job_t *) ((const char *) key - offsetof (job_t, key));
    peer_key_t peer = { job->key.origin, job->key.size, job->key.data };
    return s_peer_hash (&peer) ^ s_id_hash (&job->key.id);
}

static int
s_request_compare (const void *a, const void *b)
{
    const job_t *x = (const job_t *) ((const char *) a - offsetof (job_t, key));
    const job_t *y = (const job_t *) ((const char *) b - offsetof (job_t, key));
    if (x->key.id != y->key.id)
        return x->key.id < y->key.id ? -1 : 1;
    if (x->key.origin != y->key.origin)
        return x->key.origin < y->key.origin ? -1 : 1;
    if (x->key.size != y->key.size)
        return x->key.size < y->key.size ? -1 : 1;
    return x->key.size ? memcmp (x->key.data, y->key.data, x->key.size) : 0;
}

static int
s_peer_compare (const void *a, const void *b)
{
    const peer_key_t *x = a, *y = b;
    if (x->origin != y->origin)
        return x->origin < y->origin ? -1 : 1;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->size ? memcmp (x->data, y->data, x->size) : 0;
}

//  A table whose keys live in its values: nothing is copied or freed.
static zhashx_t *
s_table_new (zhashx_hash_fn *hasher, zhashx_comparator_fn *comparator)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_key_hasher (table, hasher);
    zhashx_set_key_comparator (table, comparator);
    zhashx_set_key_duplicator (table, NULL);
    zhashx_set_key_destructor (table, NULL);
    return table;
}

//  "origin:HEX" of a routing id, for logs.
static const char *
s_peer_name (int origin, broker_part_t id, char *buf, size_t size)
{
    static const char digits [] = "0123456789ABCDEF";
    const uint8_t *data = id.data;
    int n = snprintf (buf, size, "%d:", origin);
    size_t at = n > 0 ? (size_t) n : 0;
    for (size_t i = 0; i < id.size && at + 2 < size; i++) {
        buf [at++] = digits [data [i] >> 4];
        buf [at++] = digits [data [i] & 15];
    }
    buf [at < size ? at : size - 1] = 0;
    return buf;
}

//  --- job lists and the deadline heap ------------------------------------------

static void
s_list_append (job_list_t *list, job_t *job)
{
    job->prev = list->tail;
    job->next = NULL;
    if (list->tail)
        list->tail->next = job;
    else
        list->head = job;
    list->tail = job;
    list->size++;
}

static void
s_list_remove (job_list_t *list, job_t *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        list->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        list->tail = job->prev;
    job->prev = job->next = NULL;
    list->size--;
}

static bool
s_heap_before (const job_t *a, const job_t *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void
s_heap_place (broker_t *self, size_t index, job_t *job)
{
    self->heap [index] = job;
    job->heap_index = index;
}

static void
s_heap_up (broker_t *self, size_t index)
{
    job_t *job = self->heap [index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!s_heap_before (job, self->heap [parent]))
            break;
        s_heap_place (self, index, self->heap [parent]);
        index = parent;
    }
    s_heap_place (self, index, job);
}

static void
s_heap_down (broker_t *self, size_t index)
{
    job_t *job = self->heap [index];
    while (true) {
        size_t child = 2 * index + 1;
        if (child >= self->heap_size)
            break;
        if (child + 1 < self->heap_size
        &&  s_heap_before (self->heap [child + 1], self->heap [child]))
            child++;
        if (!s_heap_before (self->heap [child], job))
            break;
        s_heap_place (self, index, self->heap [child]);
        index = child;
    }
    s_heap_place (self, index, job);
}

static void
s_heap_push (broker_t *self, job_t *job)
{
    if (self->heap_size == self->heap_capacity) {
        size_t capacity = self->heap_capacity ? self->heap_capacity * 2 : 1024;
        job_t **heap = realloc (self->heap, capacity * sizeof *heap);
        assert (heap);
        self->heap = heap;
        self->heap_capacity = capacity;
    }
    s_heap_place (self, self->heap_size++, job);
    s_heap_up (self, job->heap_index);
}

static void
s_heap_remove (broker_t *self, job_t *job)
{
    //  answered: no longer cancellable (its key may be reused by the client)
    if (zhashx_lookup (self->requests, &job->key) == job)
        zhashx_delete (self->requests, &job->key);
    size_t index = job->heap_index;
    job->heap_index = HEAP_NONE;
    job_t *last = self->heap [--self->heap_size];
    if (last != job) {
        s_heap_place (self, index, last);
        s_heap_up (self, index);
        s_heap_down (self, last->heap_index);
    }
}

//  Still owes its client an answer.
static bool
s_job_open (const job_t *job)
{
    return job->heap_index != HEAP_NONE;
}

//  --- sending ------------------------------------------------------------------

static broker_part_t
s_worker_identity (worker_t *worker)
{
    return (broker_part_t) { worker->identity, worker->key.size };
}

//  [client] | MBC1 | REPLY | request id | body   (body is left empty)
static void
s_client_send (broker_t *self, int origin, broker_part_t client,
               uint64_t request_id, zmq_msg_t *body)
{
    uint8_t command = BUS_C_REPLY, id [8];
    bus_put_u64 (id, request_id);
    const broker_part_t head [] = {
        { BUS_CLIENT_PROTO, 4 }, { &command, 1 }, { id, 8 }
    };
    s_send (self->handle [origin], client, head, 3, body);
    self->stats.replies++;
}

static void
s_client_error (broker_t *self, int origin, broker_part_t client,
                uint64_t request_id, bus_error_t code, const char *message)
{
    msgw_t *w = msgw_error_new (code, message);
    zmq_msg_t body;
    s_msg_copy (&body, (broker_part_t) { msgw_data (w), msgw_size (w) });
    msgw_destroy (&w);
    s_client_send (self, origin, client, request_id, &body);
    zmq_msg_close (&body);
}

//  Answer the job's client with an error; it is answered from now on.
static void
s_job_error (broker_t *self, job_t *job, bus_error_t code, const char *message)
{
    s_heap_remove (self, job);
    s_client_error (self, job->origin, s_msg_view (&job->client), job->request_id,
                    code, message);
}

//  [worker] | MBW1 | command
static void
s_worker_command (broker_t *self, int origin, broker_part_t identity, int command)
{
    uint8_t byte = (uint8_t) command;
    const broker_part_t head [] = { { BUS_WORKER_PROTO, 4 }, { &byte, 1 } };
    s_send (self->handle [origin], identity, head, 2, NULL);
}

//  --- jobs -------------------------------------------------------------------------

//  Forget a job: off its list, the heap and the table.
static void
s_job_destroy (broker_t *self, job_t *job)
{
    if (s_job_open (job))
        s_heap_remove (self, job);
    if (job->worker)
        s_list_remove (&job->worker->held, job);
    else
        s_list_remove (&job->service->waiting, job);
    zhashx_delete (self->jobs, &job->id);
    zmq_msg_close (&job->client);
    zmq_msg_close (&job->body);
    free (job);
}

//  [worker] | MBW1 | REQUEST | job | timeout left | body   (body is left empty)
static void
s_job_dispatch (broker_t *self, job_t *job, worker_t *worker, zmq_msg_t *body)
{
    job->worker = worker;
    s_list_append (&worker->held, job);
    if (worker->key.origin == ORIGIN_TCP)
        broker_remote_job_server (zmq_msg_data (body), zmq_msg_size (body),
                                  job->server_id, sizeof job->server_id);

    uint8_t command = BUS_W_REQUEST, id [8], timeout [4];
    int64_t left = job->deadline - self->now;
    bus_put_u64 (id, job->id);
    bus_put_u32 (timeout, (uint32_t) (left > 0 ? left : 0));
    const broker_part_t head [] = {
        { BUS_WORKER_PROTO, 4 }, { &command, 1 }, { id, 8 }, { timeout, 4 }
    };
    s_send (self->handle [worker->key.origin], s_worker_identity (worker), head, 4, body);
}

//  --- services ---------------------------------------------------------------

static service_t *
s_service_require (broker_t *self, const char *name, size_t len)
{
    char key [BUS_SERVICE_MAX + 1];
    memcpy (key, name, len);
    key [len] = 0;
    service_t *service = zhashx_lookup (self->services, key);
    if (!service && zhashx_size (self->services) < BROKER_MAX_SERVICES) {
        service = calloc (1, sizeof *service);
        assert (service);
        service->name = strdup (key);
        service->workers = zlistx_new ();
        zhashx_insert (self->services, key, service);
    }
    return service;
}

static void
s_service_free (void **item)
{
    service_t *service = *item;
    zlistx_destroy (&service->workers);
    free (service->name);
    free (service);
    *item = NULL;
}

//  Forget a service nobody serves or waits for, so names cannot pile up.
static void
s_service_release (broker_t *self, service_t *service)
{
    if (zlistx_size (service->workers) == 0 && service->waiting.size == 0)
        zhashx_delete (self->services, service->name);
}

//  The worker with the most free credit (announced credit minus jobs held),
//  the first in list order on a tie; it goes to the back of the list, so
//  equal workers take turns. A slow worker holds its jobs longer, so it has
//  less free credit and is picked less: the load follows capacity.
static worker_t *
s_service_pick (service_t *service)
{
    worker_t *best = NULL;
    uint32_t best_free = 0;
    for (worker_t *worker = zlistx_first (service->workers); worker;
         worker = zlistx_next (service->workers)) {
        uint32_t held = (uint32_t) worker->held.size;
        uint32_t free_credit = held < worker->credit ? worker->credit - held : 0;
        if (free_credit > best_free) {
            best = worker;
            best_free = free_credit;
        }
    }
    if (best)
        zlistx_move_end (service->workers, best->service_handle);
    return best;
}

//  Hand waiting jobs to workers while any has credit.
static void
s_service_dispatch (broker_t *self, service_t *service)
{
    while (service->waiting.head) {
        worker_t *worker = s_service_pick (service);
        if (!worker)
            break;
        job_t *job = service->waiting.head;
        s_list_remove (&service->waiting, job);
        s_job_dispatch (self, job, worker, &job->body);
    }
}

//  --- workers -----------------------------------------------------------------

static void
s_worker_free (void **item)
{
    worker_t *worker = *item;
    if (worker)
        free (worker->about);
    free (worker);
    *item = NULL;
}

//  Remove a worker: every open job it held is answered `worker_lost`.
static void
s_worker_remove (broker_t *self, worker_t *worker, bool send_disconnect)
{
    while (worker->held.head) {
        job_t *job = worker->held.head;
        if (s_job_open (job)) {
            s_job_error (self, job, BUS_ERR_WORKER_LOST,
                         "the worker handling this request went away");
            self->stats.worker_lost++;
        }
        s_job_destroy (self, job);
    }
    if (send_disconnect)
        s_worker_command (self, worker->key.origin, s_worker_identity (worker),
                          BUS_W_DISCONNECT);
    service_t *service = worker->service;
    zlistx_delete (service->workers, worker->service_handle);
    if (worker->prev)
        worker->prev->next = worker->next;
    else
        self->worker_list = worker->next;
    if (worker->next)
        worker->next->prev = worker->prev;
    zhashx_delete (self->workers, &worker->key);     //  frees it
    s_service_release (self, service);
}

static void
s_worker_ready (broker_t *self, int origin, broker_msg_t *m, parts_t *p)
{
    if (origin == ORIGIN_TCP
    &&  (m->service_len != strlen (REMOTE_SERVICE)
      || memcmp (m->service, REMOTE_SERVICE, m->service_len) != 0)) {
        log_warn ("broker: refused a remote worker for service '%.*s'",
                      (int) m->service_len, m->service);
        s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
        return;
    }
    if (m->service_len == strlen (BUS_BROKER_SERVICE)
    &&  memcmp (m->service, BUS_BROKER_SERVICE, m->service_len) == 0) {
        self->stats.protocol_errors++;      //  the broker's own service
        s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
        return;
    }
    //  what it says of itself must be one msgpack map; the broker passes it
    //  on as it is, so it is checked here, once
    if (m->about) {
        msg_t *about = msg_decode (p->view [m->about].data, p->view [m->about].size,
                                   NULL, NULL);
        if (!about) {
            self->stats.protocol_errors++;
            log_debug ("broker: refused a READY whose about is not a msgpack map");
            s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
            return;
        }
        msg_destroy (&about);
    }
    service_t *service = s_service_require (self, m->service, m->service_len);
    if (!service || zhashx_size (self->workers) >= BROKER_MAX_WORKERS) {
        s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
        return;
    }
    worker_t *worker = calloc (1, sizeof *worker + m->identity.size);
    assert (worker);
    if (m->identity.size)
        memcpy (worker->identity, m->identity.data, m->identity.size);
    worker->key = (peer_key_t) { origin, m->identity.size, worker->identity };
    worker->service = service;
    worker->credit = m->credit;
    worker->number = ++self->next_worker;
    worker->registered_at = ids_now_ms ();
    worker->seen = self->now;
    if (m->about) {
        worker->about_size = p->view [m->about].size;
        worker->about = malloc (worker->about_size);
        assert (worker->about);
        memcpy (worker->about, p->view [m->about].data, worker->about_size);
    }
    //  the routing-id part is made by the ROUTER and carries no metadata:
    //  the connection's properties are on the parts the peer sent
    const char *address = p->count > 1 ? zmq_msg_gets (&p->msg [1], "Peer-Address") : NULL;
    snprintf (worker->address, sizeof worker->address, "%s", address ? address : "");
    if (origin == ORIGIN_TCP && p->count > 1) {
        //  zauth hands the allowed certificate's metadata to the connection
        const char *key = zmq_msg_gets (&p->msg [1], "key");
        snprintf (worker->curve_key, sizeof worker->curve_key, "%s", key ? key : "");
    }
    worker->expires = self->now + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
    worker->service_handle = zlistx_add_end (service->workers, worker);
    worker->next = self->worker_list;
    if (worker->next)
        worker->next->prev = worker;
    self->worker_list = worker;
    zhashx_insert (self->workers, &worker->key, worker);
    if (log_enabled (LOG_DEBUG)) {
        char name [2 * 256 + 8];
        log_debug ("broker: worker %s ready for '%s' with credit %u",
                   s_peer_name (origin, m->identity, name, sizeof name),
                   service->name, worker->credit);
    }
    s_service_dispatch (self, service);
}

static void
s_worker_reply (broker_t *self, worker_t *worker, broker_msg_t *m, zmq_msg_t *body)
{
    job_t *job = zhashx_lookup (self->jobs, &m->job);
    if (!job || job->worker != worker)
        return;                 //  stale (answered before a restart) or not its job: drop
    worker->served++;
    if (s_job_open (job)) {
        s_heap_remove (self, job);
        s_client_send (self, job->origin, s_msg_view (&job->client), job->request_id, body);
    }
    s_job_destroy (self, job);
    s_service_dispatch (self, worker->service);
}

//  [client] | MBC1 | NOTICE | request id | body: a worker's progress or log
//  line about a job it holds and has not answered, relayed as is (never
//  decoded). Only the worker holding the job can speak of it, so a worker
//  cannot reach another job's client; each job has its own token bucket, so
//  a flooding worker costs its own client at most BUS_NOTICE_RATE a second.
static void
s_worker_notice (broker_t *self, worker_t *worker, broker_msg_t *m, zmq_msg_t *body)
{
    job_t *job = zhashx_lookup (self->jobs, &m->job);
    if (!job || job->worker != worker || !s_job_open (job)) {
        self->stats.notices_dropped++;
        return;
    }
    if (job->notice_at == 0) {
        job->notice_tokens = BUS_NOTICE_BURST;
        job->notice_at = self->now;
    }
    job->notice_tokens += (double) (self->now - job->notice_at) * BUS_NOTICE_RATE / 1000.0;
    if (job->notice_tokens > BUS_NOTICE_BURST)
        job->notice_tokens = BUS_NOTICE_BURST;
    job->notice_at = self->now;
    if (job->notice_tokens < 1) {
        self->stats.notices_dropped++;
        return;
    }
    job->notice_tokens -= 1;
    uint8_t command = BUS_C_NOTICE, id [8];
    bus_put_u64 (id, job->request_id);
    const broker_part_t head [] = {
        { BUS_CLIENT_PROTO, 4 }, { &command, 1 }, { id, 8 }
    };
    s_send (self->handle [job->origin], s_msg_view (&job->client), head, 3, body);
    self->stats.notices++;
}

//  --- the broker's own service --------------------------------------------------

//  A request to BUS_BROKER_SERVICE, answered now from a view of every worker.
static void
s_broker_request (broker_t *self, int origin, broker_msg_t *m, parts_t *p)
{
    self->stats.requests++;
    size_t count = zhashx_size (self->workers);
    broker_worker_view_t *views = calloc (count ? count : 1, sizeof *views);
    assert (views);
    int64_t wall = ids_now_ms ();
    size_t n = 0;
    for (worker_t *worker = self->worker_list; worker && n < count; worker = worker->next) {
        broker_worker_view_t *v = &views [n++];
        v->id = worker->number;
        v->service = worker->service->name;
        v->origin = worker->key.origin == ORIGIN_TCP ? "tcp" : "local";
        v->address = worker->address;
        v->credit = worker->credit;
        v->in_flight = worker->held.size;
        v->served = worker->served;
        v->registered_at = worker->registered_at;
        v->last_seen = wall - (self->now - worker->seen);
        v->about = worker->about;
        v->about_size = worker->about_size;
    }
    broker_stats_t stats;
    broker_stats (self, &stats);
    msgw_t *w = broker_workers_answer (p->view [m->body].data, p->view [m->body].size,
                                       views, n, &stats, zhashx_size (self->services),
                                       self->now - self->started, wall);
    free (views);
    zmq_msg_t body;
    s_msg_copy (&body, (broker_part_t) { msgw_data (w), msgw_size (w) });
    msgw_destroy (&w);
    s_client_send (self, origin, m->identity, m->request_id, &body);
    zmq_msg_close (&body);
}

//  --- messages from a router -----------------------------------------------

//  Over tcp, only a remote executor's secrets ask for a job it holds
//  (broker_remote.h): the connection's certificate key is a tcp worker's,
//  and that worker holds an open job naming the asked server.
static bool
s_remote_ask_ok (broker_t *self, broker_msg_t *m, parts_t *p)
{
    char server_id [BROKER_SERVER_ID_MAX + 1];
    const char *key = p->count > 1 ? zmq_msg_gets (&p->msg [1], "key") : NULL;
    if (!key || !*key || !m->body
    ||  broker_remote_secrets_ask (m->service, m->service_len, p->view [m->body].data,
                                   p->view [m->body].size, server_id, sizeof server_id))
        return false;
    for (worker_t *worker = self->worker_list; worker; worker = worker->next) {
        if (worker->key.origin != ORIGIN_TCP || strcmp (worker->curve_key, key) != 0)
            continue;
        for (job_t *job = worker->held.head; job; job = job->next)
            if (s_job_open (job) && strcmp (job->server_id, server_id) == 0)
                return true;
    }
    return false;
}

static void
s_client_request (broker_t *self, int origin, broker_msg_t *m, parts_t *p)
{
    if (origin == ORIGIN_TCP && !s_remote_ask_ok (self, m, p)) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_FORBIDDEN, "requests are not accepted over tcp");
        return;
    }
    if (m->service_len == strlen (BUS_BROKER_SERVICE)
    &&  memcmp (m->service, BUS_BROKER_SERVICE, m->service_len) == 0) {
        s_broker_request (self, origin, m, p);
        return;
    }
    if (zhashx_size (self->jobs) >= BROKER_MAX_JOBS) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_UNAVAILABLE, "broker queue full");
        return;
    }
    service_t *service = s_service_require (self, m->service, m->service_len);
    if (!service) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_NO_WORKER, "too many services");
        return;
    }
    job_t *job = calloc (1, sizeof *job);
    assert (job);
    job->id = ++self->next_job;
    job->origin = origin;
    s_msg_copy (&job->client, m->identity);
    job->request_id = m->request_id;
    job->deadline = self->now + m->timeout_ms;
    job->service = service;
    job->key.origin = origin;
    job->key.size = zmq_msg_size (&job->client);
    job->key.data = zmq_msg_data (&job->client);
    job->key.id = m->request_id;
    zhashx_insert (self->jobs, &job->id, job);
    //  a client reusing a pending id: the first keeps the key
    zhashx_insert (self->requests, &job->key, job);
    s_heap_push (self, job);
    self->stats.requests++;

    //  older jobs go first; if none waits, a worker with credit takes the
    //  body as it arrived
    worker_t *worker = service->waiting.head ? NULL : s_service_pick (service);
    if (worker) {
        zmq_msg_init (&job->body);
        s_job_dispatch (self, job, worker, &p->msg [m->body]);
    }
    else {
        s_msg_copy (&job->body, p->view [m->body]);
        s_list_append (&service->waiting, job);
    }
}

//  The client cancels a request it is still owed an answer for.
static void
s_client_cancel (broker_t *self, int origin, broker_msg_t *m)
{
    job_t probe;
    probe.key.origin = origin;
    probe.key.size = m->identity.size;
    probe.key.data = m->identity.data;
    probe.key.id = m->request_id;
    job_t *job = zhashx_lookup (self->requests, &probe.key);
    if (!job || !s_job_open (job)) {
        self->stats.cancel_unknown++;   //  answered already, or never ours
        return;
    }
    s_job_error (self, job, BUS_ERR_CANCELLED, "cancelled by the client");
    self->stats.cancelled++;
    if (job->worker) {
        //  [worker] | MBW1 | CANCEL | job; charged to it until it replies
        uint8_t command = BUS_W_CANCEL, id [8];
        bus_put_u64 (id, job->id);
        const broker_part_t head [] = {
            { BUS_WORKER_PROTO, 4 }, { &command, 1 }, { id, 8 }
        };
        s_send (self->handle [job->worker->key.origin],
                s_worker_identity (job->worker), head, 3, NULL);
    }
    else {
        service_t *service = job->service;
        s_job_destroy (self, job);
        s_service_release (self, service);
    }
}

static void
s_router_message (broker_t *self, int origin, parts_t *p)
{
    broker_msg_t m;
    const char *why = NULL;
    broker_msg_kind_t kind = broker_msg_parse (p->view, p->count, &m, &why);
    if (!m.has_identity)
        return;
    worker_t *worker = NULL;
    if (m.is_worker) {
        peer_key_t key = { origin, m.identity.size, m.identity.data };
        worker = zhashx_lookup (self->workers, &key);
        if (worker) {
            worker->expires = self->now + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
            worker->seen = self->now;
        }
    }
    switch (kind) {
        case BROKER_MSG_CLIENT_REQUEST:
            s_client_request (self, origin, &m, p);
            break;
        case BROKER_MSG_CLIENT_CANCEL:
            if (origin == ORIGIN_LOCAL)     //  tcp peers make no requests
                s_client_cancel (self, origin, &m);
            break;
        case BROKER_MSG_WORKER_READY:
            if (worker) {           //  READY twice breaks the protocol
                self->stats.protocol_errors++;
                s_worker_remove (self, worker, true);
            }
            else
                s_worker_ready (self, origin, &m, p);
            break;
        case BROKER_MSG_WORKER_REPLY:
        case BROKER_MSG_WORKER_HEARTBEAT:
            if (!worker)            //  e.g. we restarted: make it register again
                s_worker_command (self, origin, m.identity, BUS_W_DISCONNECT);
            else
            if (kind == BROKER_MSG_WORKER_REPLY)
                s_worker_reply (self, worker, &m, &p->msg [m.body]);
            break;
        case BROKER_MSG_WORKER_NOTICE:
            if (!worker)
                s_worker_command (self, origin, m.identity, BUS_W_DISCONNECT);
            else
                s_worker_notice (self, worker, &m, &p->msg [m.body]);
            break;
        case BROKER_MSG_WORKER_DISCONNECT:
            if (worker)
                s_worker_remove (self, worker, false);
            break;
        case BROKER_MSG_INVALID:
            self->stats.protocol_errors++;
            log_debug ("broker: dropped a message: %s", why);
            if (worker)
                s_worker_remove (self, worker, true);
            else
            if (m.is_worker)
                s_worker_command (self, origin, m.identity, BUS_W_DISCONNECT);
            else
            if (m.has_request_id)
                s_client_error (self, origin, m.identity, m.request_id,
                                BUS_ERR_PROTOCOL, why);
            break;
    }
}

//  --- timers -------------------------------------------------------------------

static void
s_heartbeat (broker_t *self)
{
    worker_t *next;
    for (worker_t *worker = self->worker_list; worker; worker = next) {
        next = worker->next;    //  removing a worker touches no other
        if (self->now > worker->expires) {
            char name [2 * 256 + 8];
            log_info ("broker: worker %s for '%s' is silent; removing it",
                      s_peer_name (worker->key.origin, s_worker_identity (worker),
                                   name, sizeof name),
                      worker->service->name);
            s_worker_remove (self, worker, true);
        }
        else
        if (worker->key.origin == ORIGIN_TCP && *worker->curve_key
        &&  !broker_allow_has (self->allow, worker->curve_key)) {
            log_warn ("broker: remote worker with key %.8s… is no longer allowed; "
                      "removing it", worker->curve_key);
            s_worker_remove (self, worker, true);
        }
        else
            s_worker_command (self, worker->key.origin, s_worker_identity (worker),
                              BUS_W_HEARTBEAT);
    }
}

//  Answer the jobs whose deadline has come, earliest first.
static void
s_deadlines (broker_t *self)
{
    while (self->heap_size && self->heap [0]->deadline <= self->now) {
        job_t *job = self->heap [0];
        if (job->worker)        //  stays charged to its worker until it replies
            s_job_error (self, job, BUS_ERR_TIMEOUT,
                         "the service did not answer before the deadline");
        else {
            s_job_error (self, job, BUS_ERR_NO_WORKER,
                         "no worker for this service before the deadline");
            self->stats.no_worker++;
            service_t *service = job->service;
            s_job_destroy (self, job);
            s_service_release (self, service);
        }
    }
}

static int64_t
s_next_deadline (broker_t *self)
{
    return self->heap_size ? self->heap [0]->deadline : INT64_MAX;
}

//  --- events ----------------------------------------------------------------------

static void
s_forward (void *from, void *to, bool event)
{
    for (int i = 0; i < BROKER_BATCH; i++) {
        parts_t p;
        if (!s_recv (from, &p))
            return;
        //  events are topic + body; subscriptions are one part
        bool valid = event ? p.count == 2 && p.view [0].size <= EVENT_TOPIC_MAX
                           : p.count == 1;
        for (size_t k = 0; valid && k < p.count; k++)
            valid = zmq_msg_send (&p.msg [k], to,
                                  (k + 1 < p.count ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) >= 0;
        s_parts_close (&p);
    }
}

//  --- setup ------------------------------------------------------------------------

static zsock_t *
s_bind (int type, const char *endpoint, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        snprintf (err, errlen, "cannot create a socket");
        return NULL;
    }
    bus_socket_tune (sock);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        snprintf (err, errlen, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static int
s_setup_tcp (broker_t *self, const broker_config_t *config, char *err, size_t errlen)
{
    if (!config->curve_secret_file || !config->curve_allow_dir) {
        snprintf (err, errlen, "a tcp endpoint needs a CURVE certificate and an allow directory");
        return -1;
    }
    zcert_t *cert = zcert_load (config->curve_secret_file);
    if (!cert) {
        snprintf (err, errlen, "cannot load CURVE certificate %s", config->curve_secret_file);
        return -1;
    }
    if (!zsys_file_exists (config->curve_allow_dir)) {
        snprintf (err, errlen, "allow directory %s does not exist", config->curve_allow_dir);
        zcert_destroy (&cert);
        return -1;
    }
    self->auth = zactor_new (zauth, NULL);
    zstr_sendx (self->auth, "CURVE", config->curve_allow_dir, NULL);
    zsock_wait (self->auth);
    self->allow = broker_allow_new (config->curve_allow_dir);

    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    bus_socket_tune (sock);
    zsock_set_zap_domain (sock, "mcpbox");
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zcert_destroy (&cert);
    if (zsock_bind (sock, "%s", config->tcp_endpoint) < 0) {
        snprintf (err, errlen, "cannot bind %s: %s", config->tcp_endpoint,
                  zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return -1;
    }
    self->router [ORIGIN_TCP] = sock;
    self->handle [ORIGIN_TCP] = zsock_resolve (sock);
    return 0;
}

broker_t *
broker_new (const broker_config_t *config, char *err, size_t errlen)
{
    broker_t *self = calloc (1, sizeof *self);
    assert (self);
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_service_free);
    self->workers = s_table_new (s_peer_hash, s_peer_compare);
    zhashx_set_destructor (self->workers, s_worker_free);
    self->jobs = s_table_new (s_id_hash, s_id_compare);
    self->requests = s_table_new (s_request_hash, s_request_compare);
    self->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : bus_heartbeat_ms ();
    self->now = bus_now_ms ();
    self->heartbeat_at = self->now + self->heartbeat_ms;
    self->started = self->now;

    self->router [ORIGIN_LOCAL] = s_bind (ZMQ_ROUTER, config->endpoint, err, errlen);
    if (!self->router [ORIGIN_LOCAL])
        goto failed;
    self->handle [ORIGIN_LOCAL] = zsock_resolve (self->router [ORIGIN_LOCAL]);
    if (config->events_in && config->events_out) {
        if (!(self->xsub = s_bind (ZMQ_XSUB, config->events_in, err, errlen))
        ||  !(self->xpub = s_bind (ZMQ_XPUB, config->events_out, err, errlen)))
            goto failed;
    }
    if (config->tcp_endpoint && *config->tcp_endpoint
    &&  s_setup_tcp (self, config, err, errlen) != 0)
        goto failed;
    return self;
failed:
    broker_destroy (&self);
    return NULL;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    //  answer what is still open, so no client waits for its grace period
    while (self->heap_size) {
        job_t *job = self->heap [0];
        if (self->handle [job->origin])
            s_job_error (self, job, BUS_ERR_UNAVAILABLE, "broker shutting down");
        else
            s_heap_remove (self, job);
    }
    zhashx_destroy (&self->requests);
    for (job_t *job = zhashx_first (self->jobs); job; job = zhashx_next (self->jobs)) {
        zmq_msg_close (&job->client);
        zmq_msg_close (&job->body);
        free (job);
    }
    zhashx_destroy (&self->jobs);
    free (self->heap);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->services);
    zsock_destroy (&self->router [ORIGIN_LOCAL]);
    zsock_destroy (&self->router [ORIGIN_TCP]);
    zsock_destroy (&self->xsub);
    zsock_destroy (&self->xpub);
    zactor_destroy (&self->auth);
    broker_allow_destroy (&self->allow);
    free (self);
    *self_p = NULL;
}

void
broker_run (broker_t *self, zsock_t *pipe)
{
    while (!zsys_interrupted) {
        zmq_pollitem_t items [5];
        zsock_t *socks [5];
        int count = 0;
        zsock_t *candidates [] = { pipe, self->router [0], self->router [1], self->xsub, self->xpub };
        for (int i = 0; i < 5; i++)
            if (candidates [i]) {
                socks [count] = candidates [i];
                items [count++] = (zmq_pollitem_t) { zsock_resolve (candidates [i]), 0, ZMQ_POLLIN, 0 };
            }
        int64_t now = bus_now_ms ();
        int64_t next_deadline = s_next_deadline (self);
        int64_t wake = self->heartbeat_at < next_deadline ? self->heartbeat_at : next_deadline;
        long wait = wake <= now ? 0 : (long) (wake - now);
        if (zmq_poll (items, count, wait) < 0 && errno != EINTR)
            break;

        for (int i = 0; i < count; i++) {
            if (!(items [i].revents & ZMQ_POLLIN))
                continue;
            zsock_t *sock = socks [i];
            if (sock == pipe) {
                char *command = zstr_recv (pipe);
                bool term = command && streq (command, "$TERM");
                zstr_free (&command);
                if (term)
                    return;
            }
            else
            if (sock == self->xsub)
                s_forward (items [i].socket, zsock_resolve (self->xpub), true);
            else
            if (sock == self->xpub)
                s_forward (items [i].socket, zsock_resolve (self->xsub), false);
            else {
                int origin = sock == self->router [ORIGIN_TCP] ? ORIGIN_TCP : ORIGIN_LOCAL;
                for (int n = 0; n < BROKER_BATCH; n++) {
                    parts_t parts;
                    if (!s_recv (self->handle [origin], &parts))
                        break;
                    self->now = bus_now_ms ();
                    s_router_message (self, origin, &parts);
                    s_parts_close (&parts);
                }
            }
        }
        self->now = bus_now_ms ();
        if (self->now >= self->heartbeat_at) {
            s_heartbeat (self);
            self->heartbeat_at = self->now + self->heartbeat_ms;
        }
        s_deadlines (self);
    }
}

void
broker_actor (zsock_t *pipe, void *args)
{
    char err [256] = "";
    broker_t *self = broker_new ((const broker_config_t *) args, err, sizeof err);
    if (!self) {
        log_error ("broker: %s", err);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    broker_run (self, pipe);
    broker_destroy (&self);
}

void
broker_stats (broker_t *self, broker_stats_t *stats)
{
    *stats = self->stats;
    stats->workers = zhashx_size (self->workers);
}

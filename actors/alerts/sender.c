/*  sender.c — webhook deliveries on their own thread (libcurl multi).

    sender_post never blocks and never waits for the network: it puts the
    delivery in a bounded queue (queue_max, in flight included) and wakes
    the thread (curl_multi_wakeup). A full queue drops the delivery and
    counts it. The thread runs every due delivery at once, each POST with
    Content-Type application/json, attempt timeout timeout_ms, no
    redirects, http/https only, the answer's body ignored. A 2xx answer is
    delivered. A network error, a 408, a 429 or a 5xx is tried again after
    retry_base_ms, doubling up to retry_max_ms, until `attempts`; any other
    status is final. Each delivery is a row of the outbox (outbox.c): the
    thread only notes what the row must become (sender_take_outcomes), the
    actor's tick writes it. What became of each hook's deliveries is kept per hook
    (sent, failed, the last status and error) for hook.list.
*/
#include <curl/curl.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "ids.h"
#include "log.h"

typedef struct {
    char    id [ALERT_ID_LEN + 1];      //  its alert_outbox row
    char    hook_id [ALERT_ID_LEN + 1];
    char   *url;
    char   *body;
    int     attempts;                   //  made so far
    int64_t due;                        //  monotonic ms of the next attempt
    CURL   *easy;                       //  in flight, or NULL
    long    status;
    char    error [CURL_ERROR_SIZE];
} delivery_t;

struct _sender_t {
    sender_config_t  config;
    CURLM           *multi;
    pthread_t        thread;
    bool             started;
    pthread_mutex_t  lock;
    bool             stop;
    delivery_t     **queue;             //  queue_max slots, NULL free
    size_t           held;
    sender_stats_t   stats;
    uint64_t         unreported_dropped, unreported_failed;
    sender_outcome_t *outcomes;         //  for the outbox, taken by the tick
    size_t           outcomes_held, outcomes_cap;
    zhashx_t        *hooks;             //  hook id -> hook_stats_t
    struct curl_slist *headers;
};

static void
s_delivery_free (delivery_t **d_p)
{
    delivery_t *d = *d_p;
    if (!d)
        return;
    free (d->url);
    free (d->body);
    free (d);
    *d_p = NULL;
}

//  What the outbox must write (lock held): a retry's attempts and due
//  time, or a final state (the row is deleted). On no memory the row stays
//  as it was: at worst the delivery is sent again after a restart.
static void
s_outcome (sender_t *self, const delivery_t *d, bool final, int64_t due_unix_ms)
{
    if (!d->id [0])
        return;
    if (self->outcomes_held == self->outcomes_cap) {
        size_t cap = self->outcomes_cap ? self->outcomes_cap * 2 : 16;
        sender_outcome_t *grown = realloc (self->outcomes, cap * sizeof *grown);
        if (!grown)
            return;
        self->outcomes = grown;
        self->outcomes_cap = cap;
    }
    sender_outcome_t *o = &self->outcomes [self->outcomes_held++];
    snprintf (o->id, sizeof o->id, "%s", d->id);
    o->final = final;
    o->attempts = d->attempts;
    o->due_ms = due_unix_ms;
}

//  Per-hook outcome (lock held).
static void
s_note (sender_t *self, const delivery_t *d, bool sent)
{
    hook_stats_t *stats = zhashx_lookup (self->hooks, d->hook_id);
    if (!stats) {
        stats = calloc (1, sizeof *stats);
        if (!stats || zhashx_insert (self->hooks, d->hook_id, stats) != 0) {
            free (stats);
            return;
        }
    }
    if (sent)
        stats->sent++;
    else
        stats->failed++;
    stats->last_status = d->status;
    snprintf (stats->last_error, sizeof stats->last_error, "%.127s", sent ? "" : d->error);
}

static size_t
s_discard (char *data, size_t size, size_t n, void *arg)
{
    (void) data;
    (void) arg;
    return size * n;
}

static void
s_start (sender_t *self, delivery_t *d)
{
    d->easy = curl_easy_init ();
    if (!d->easy) {
        d->due = zclock_mono () + self->config.retry_base_ms;
        return;
    }
    d->error [0] = 0;
    d->status = 0;
    curl_easy_setopt (d->easy, CURLOPT_URL, d->url);
    curl_easy_setopt (d->easy, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt (d->easy, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (d->easy, CURLOPT_TIMEOUT_MS, (long) self->config.timeout_ms);
    curl_easy_setopt (d->easy, CURLOPT_CONNECTTIMEOUT_MS,
                      (long) (self->config.timeout_ms < 5000 ? self->config.timeout_ms : 5000));
    curl_easy_setopt (d->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (d->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (d->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (d->easy, CURLOPT_USERAGENT, "mcpbox-alerts");
    curl_easy_setopt (d->easy, CURLOPT_ERRORBUFFER, d->error);
    curl_easy_setopt (d->easy, CURLOPT_PRIVATE, d);
    //  the answer's body is not read
    curl_easy_setopt (d->easy, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (d->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) 65536);
    if (curl_multi_add_handle (self->multi, d->easy) != CURLM_OK) {
        curl_easy_cleanup (d->easy);
        d->easy = NULL;
        d->due = zclock_mono () + self->config.retry_base_ms;
        return;
    }
    d->attempts++;
}

//  One attempt ended (lock held).
static void
s_ended (sender_t *self, delivery_t *d, CURLcode result)
{
    curl_easy_getinfo (d->easy, CURLINFO_RESPONSE_CODE, &d->status);
    curl_multi_remove_handle (self->multi, d->easy);
    curl_easy_cleanup (d->easy);
    d->easy = NULL;
    bool ok = result == CURLE_OK && d->status >= 200 && d->status < 300;
    bool again = result != CURLE_OK || d->status == 408 || d->status == 429
              || d->status >= 500;
    if (!ok && !d->error [0]) {
        if (result != CURLE_OK)
            snprintf (d->error, sizeof d->error, "%s", curl_easy_strerror (result));
        else
            snprintf (d->error, sizeof d->error, "HTTP %ld", d->status);
    }
    if (!ok && again && d->attempts < self->config.attempts) {
        int64_t wait = self->config.retry_base_ms;
        for (int i = 1; i < d->attempts && wait < self->config.retry_max_ms; i++)
            wait *= 2;
        if (wait > self->config.retry_max_ms)
            wait = self->config.retry_max_ms;
        d->due = zclock_mono () + wait;
        self->stats.retries++;
        s_outcome (self, d, false, ids_now_ms () + wait);
        log_info ("alert to hook %s: attempt %d failed (%s); again in %lld ms",
                  d->hook_id, d->attempts, d->error, (long long) wait);
        return;
    }
    s_note (self, d, ok);
    s_outcome (self, d, true, 0);
    if (ok)
        self->stats.sent++;
    else {
        self->stats.failed++;
        self->unreported_failed++;
        log_warn ("alert to hook %s not delivered after %d attempt(s): %s", d->hook_id,
                  d->attempts, d->error);
    }
    for (size_t i = 0; i < (size_t) self->config.queue_max; i++)
        if (self->queue [i] == d) {
            self->queue [i] = NULL;
            self->held--;
        }
    s_delivery_free (&d);
}

static void *
s_run (void *arg)
{
    sender_t *self = arg;
    while (true) {
        int64_t now = zclock_mono ();
        int64_t next = now + 1000;
        pthread_mutex_lock (&self->lock);
        if (self->stop) {
            pthread_mutex_unlock (&self->lock);
            break;
        }
        for (size_t i = 0; i < (size_t) self->config.queue_max; i++) {
            delivery_t *d = self->queue [i];
            if (!d || d->easy)
                continue;
            if (d->due <= now)
                s_start (self, d);
            if (!d->easy && d->due < next)
                next = d->due;
        }
        pthread_mutex_unlock (&self->lock);
        int running = 0;
        curl_multi_perform (self->multi, &running);
        CURLMsg *msg;
        int left;
        pthread_mutex_lock (&self->lock);
        while ((msg = curl_multi_info_read (self->multi, &left)))
            if (msg->msg == CURLMSG_DONE) {
                delivery_t *d = NULL;
                curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &d);
                if (d)
                    s_ended (self, d, msg->data.result);
            }
        self->stats.queued = self->held;
        pthread_mutex_unlock (&self->lock);
        int64_t wait = next - zclock_mono ();
        curl_multi_poll (self->multi, NULL, 0, (int) (wait < 0 ? 0 : wait > 1000 ? 1000 : wait),
                         NULL);
    }
    return NULL;
}

sender_t *
sender_new (const sender_config_t *config)
{
    sender_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    if (self->config.queue_max < 1)
        self->config.queue_max = 1;
    self->queue = calloc ((size_t) self->config.queue_max, sizeof *self->queue);
    self->multi = curl_multi_init ();
    self->hooks = zhashx_new ();
    self->headers = curl_slist_append (NULL, "Content-Type: application/json");
    pthread_mutex_init (&self->lock, NULL);
    self->stats.queue_max = (size_t) self->config.queue_max;
    if (self->hooks)
        zhashx_set_destructor (self->hooks, (zhashx_destructor_fn *) zstr_free);
    if (!self->queue || !self->multi || !self->hooks || !self->headers
    ||  pthread_create (&self->thread, NULL, s_run, self) != 0) {
        sender_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
sender_destroy (sender_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sender_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock (&self->lock);
        self->stop = true;
        pthread_mutex_unlock (&self->lock);
        curl_multi_wakeup (self->multi);
        pthread_join (self->thread, NULL);
    }
    size_t lost = 0;
    for (size_t i = 0; self->queue && i < (size_t) self->config.queue_max; i++) {
        delivery_t *d = self->queue [i];
        if (!d)
            continue;
        if (d->easy) {
            curl_multi_remove_handle (self->multi, d->easy);
            curl_easy_cleanup (d->easy);
        }
        s_delivery_free (&d);
        lost++;
    }
    if (lost)
        log_info ("%zu alert delivery(ies) still held at shutdown stay in the outbox", lost);
    free (self->queue);
    if (self->multi)
        curl_multi_cleanup (self->multi);
    zhashx_destroy (&self->hooks);
    free (self->outcomes);
    curl_slist_free_all (self->headers);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
sender_post (sender_t *self, const char *id, const char *hook_id, const char *url,
             const char *body, int attempts, int64_t delay_ms)
{
    delivery_t *d = calloc (1, sizeof *d);
    if (d) {
        snprintf (d->id, sizeof d->id, "%s", id ? id : "");
        snprintf (d->hook_id, sizeof d->hook_id, "%s", hook_id);
        d->url = strdup (url);
        d->body = strdup (body);
        d->attempts = attempts > 0 ? attempts : 0;
        d->due = zclock_mono () + (delay_ms > 0 ? delay_ms : 0);
    }
    pthread_mutex_lock (&self->lock);
    int rc = -1;
    if (d && d->url && d->body && self->held < (size_t) self->config.queue_max)
        for (size_t i = 0; i < (size_t) self->config.queue_max; i++)
            if (!self->queue [i]) {
                self->queue [i] = d;
                self->held++;
                self->stats.queued = self->held;
                rc = 0;
                break;
            }
    if (rc) {
        self->stats.dropped++;
        self->unreported_dropped++;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc) {
        log_warn ("alert to hook %s dropped: the queue of %d deliveries is full",
                  hook_id, self->config.queue_max);
        s_delivery_free (&d);
    }
    else
        curl_multi_wakeup (self->multi);
    return rc;
}

void
sender_stats (sender_t *self, sender_stats_t *stats)
{
    pthread_mutex_lock (&self->lock);
    *stats = self->stats;
    stats->queued = self->held;
    pthread_mutex_unlock (&self->lock);
}

void
sender_hook_stats (sender_t *self, const char *hook_id, hook_stats_t *stats)
{
    pthread_mutex_lock (&self->lock);
    hook_stats_t *held = zhashx_lookup (self->hooks, hook_id);
    if (held)
        *stats = *held;
    else
        memset (stats, 0, sizeof *stats);
    pthread_mutex_unlock (&self->lock);
}

void
sender_take_unreported (sender_t *self, uint64_t *dropped, uint64_t *failed)
{
    pthread_mutex_lock (&self->lock);
    *dropped = self->unreported_dropped;
    *failed = self->unreported_failed;
    self->unreported_dropped = self->unreported_failed = 0;
    pthread_mutex_unlock (&self->lock);
}

size_t
sender_take_outcomes (sender_t *self, sender_outcome_t **outcomes)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->outcomes_held;
    *outcomes = self->outcomes;
    self->outcomes = NULL;
    self->outcomes_held = self->outcomes_cap = 0;
    pthread_mutex_unlock (&self->lock);
    return count;
}

void
sender_count_lost (sender_t *self, uint64_t dropped, uint64_t failed)
{
    pthread_mutex_lock (&self->lock);
    self->stats.dropped += dropped;
    self->unreported_dropped += dropped;
    self->stats.failed += failed;
    self->unreported_failed += failed;
    pthread_mutex_unlock (&self->lock);
}

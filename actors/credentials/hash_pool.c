/*  hash_pool.c — Argon2id workers fed by a queue, answering through a pipe
    (hash_pool.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "hash_pool.h"

#define S_THREADS_MAX 8

struct _hash_pool_t {
    pthread_mutex_t lock;
    pthread_cond_t  ready;
    hash_job_t     *todo, *todo_tail;
    hash_job_t     *done, *done_tail;
    size_t          queued;
    bool            stopping;
    int             pipe [2];
    pthread_t       threads [S_THREADS_MAX];
    int             thread_count;
    uint64_t        opslimit;
    size_t          memlimit;
};

static char *
s_dup (const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen (text);
    char *copy = malloc (len + 1);
    if (copy)
        memcpy (copy, text, len + 1);
    return copy;
}

static void
s_wipe_free (char **text_p)
{
    if (*text_p) {
        sodium_memzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

hash_job_t *
hash_job_new (hash_kind_t kind, const char *password, const char *new_password)
{
    hash_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return NULL;
    job->kind = kind;
    job->password = s_dup (password);
    job->new_password = s_dup (new_password);
    if ((password && !job->password) || (new_password && !job->new_password))
        hash_job_destroy (&job);
    return job;
}

void
hash_job_destroy (hash_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hash_job_t *job = *self_p;
    s_wipe_free (&job->password);
    s_wipe_free (&job->new_password);
    bus_request_destroy (&job->request);
    sodium_memzero (job, sizeof *job);
    free (job);
    *self_p = NULL;
}

static void
s_run (hash_pool_t *self, hash_job_t *job)
{
    int64_t start = zclock_usecs ();
    if (job->kind == HASH_VERIFY || job->kind == HASH_VERIFY_MAKE)
        job->verified = job->password
                     && crypto_pwhash_str_verify (job->stored, job->password,
                                                  strlen (job->password)) == 0;
    if (job->kind == HASH_MAKE || (job->kind == HASH_VERIFY_MAKE && job->verified))
        job->made_ok = job->new_password
                    && crypto_pwhash_str (job->made, job->new_password,
                                          strlen (job->new_password),
                                          self->opslimit, self->memlimit) == 0;
    job->took_us = zclock_usecs () - start;
    s_wipe_free (&job->password);
    s_wipe_free (&job->new_password);
}

static void *
s_worker (void *arg)
{
    hash_pool_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (true) {
        while (!self->todo && !self->stopping)
            pthread_cond_wait (&self->ready, &self->lock);
        if (self->stopping)
            break;
        hash_job_t *job = self->todo;
        self->todo = job->next;
        if (!self->todo)
            self->todo_tail = NULL;
        job->next = NULL;
        pthread_mutex_unlock (&self->lock);
        s_run (self, job);
        pthread_mutex_lock (&self->lock);
        if (self->done_tail)
            self->done_tail->next = job;
        else
            self->done = job;
        self->done_tail = job;
        char byte = 1;
        ssize_t rc = write (self->pipe [1], &byte, 1);      //  a full pipe already wakes
        (void) rc;
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

hash_pool_t *
hash_pool_new (int threads, uint64_t opslimit, size_t memlimit)
{
    hash_pool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opslimit = opslimit;
    self->memlimit = memlimit;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->ready, NULL);
    if (pipe2 (self->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        free (self);
        return NULL;
    }
    if (threads < 1)
        threads = 1;
    if (threads > S_THREADS_MAX)
        threads = S_THREADS_MAX;
    for (int i = 0; i < threads; i++)
        if (pthread_create (&self->threads [self->thread_count], NULL, s_worker, self) == 0)
            self->thread_count++;
    if (self->thread_count == 0)
        hash_pool_destroy (&self);
    return self;
}

static void
s_free_list (hash_job_t *job)
{
    while (job) {
        hash_job_t *next = job->next;
        hash_job_destroy (&job);
        job = next;
    }
}

void
hash_pool_destroy (hash_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hash_pool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->ready);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->thread_count; i++)
        pthread_join (self->threads [i], NULL);
    s_free_list (self->todo);
    s_free_list (self->done);
    close (self->pipe [0]);
    close (self->pipe [1]);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->ready);
    free (self);
    *self_p = NULL;
}

int
hash_pool_submit (hash_pool_t *self, hash_job_t *job)
{
    pthread_mutex_lock (&self->lock);
    if (self->queued >= HASH_POOL_QUEUE_MAX) {
        pthread_mutex_unlock (&self->lock);
        return -1;
    }
    job->next = NULL;
    if (self->todo_tail)
        self->todo_tail->next = job;
    else
        self->todo = job;
    self->todo_tail = job;
    self->queued++;
    pthread_cond_signal (&self->ready);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

int
hash_pool_fd (hash_pool_t *self)
{
    return self ? self->pipe [0] : -1;
}

hash_job_t *
hash_pool_take (hash_pool_t *self)
{
    char drain [64];
    while (read (self->pipe [0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock (&self->lock);
    hash_job_t *job = self->done;
    if (job) {
        self->done = job->next;
        if (!self->done)
            self->done_tail = NULL;
        job->next = NULL;
        self->queued--;
    }
    pthread_mutex_unlock (&self->lock);
    return job;
}

int
hash_pool_make_now (hash_pool_t *self, const char *password, char out [crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str (out, password, strlen (password), self->opslimit, self->memlimit);
}

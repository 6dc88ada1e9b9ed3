/*  hash_pool.h — Argon2id (crypto_pwhash) on worker threads.

    A password hash costs tens of milliseconds and 64 MiB by design; done
    on the service loop it would stall every other request (sessions are
    validated on every admin API call). So the loop submits a job and
    defers its request; a worker thread hashes or verifies; the finished
    job comes back through a pipe the loop polls (hash_pool_fd), and the
    loop finishes the request (hash_pool_take).

    A job owns copies of the passwords it needs and wipes them when
    destroyed. Jobs are bounded (HASH_POOL_QUEUE_MAX queued): beyond that,
    submit refuses and the caller answers `unavailable`.
*/
#ifndef MCPBOX_HASH_POOL_H
#define MCPBOX_HASH_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sodium.h>
#include "bus.h"

#define HASH_POOL_QUEUE_MAX 64

typedef enum {
    HASH_VERIFY,            //  password against stored
    HASH_MAKE,              //  hash new_password
    HASH_VERIFY_MAKE,       //  verify password, then (if it matches) hash new_password
} hash_kind_t;

typedef struct _hash_job_t hash_job_t;
typedef struct _hash_pool_t hash_pool_t;
typedef void (hash_done_fn) (void *service, void *state, hash_job_t *job);

struct _hash_job_t {
    hash_kind_t    kind;
    char           stored [crypto_pwhash_STRBYTES];
    char          *password;          //  wiped and freed with the job
    char          *new_password;
    //  results
    bool           verified;
    bool           made_ok;
    char           made [crypto_pwhash_STRBYTES];
    int64_t        took_us;
    //  the caller's continuation
    hash_done_fn  *done;
    bus_request_t *request;
    char           username [64];
    char           client [260];
    int64_t        user_id;
    char           token [64];
    hash_job_t    *next;
};

hash_pool_t *hash_pool_new (int threads, uint64_t opslimit, size_t memlimit);
void         hash_pool_destroy (hash_pool_t **self_p);

//  A new job with copies of the passwords (either may be NULL).
hash_job_t  *hash_job_new (hash_kind_t kind, const char *password, const char *new_password);
void         hash_job_destroy (hash_job_t **self_p);

//  Queue a job (the pool owns it). -1 when the queue is full.
int          hash_pool_submit (hash_pool_t *self, hash_job_t *job);
//  Readable when jobs are done.
int          hash_pool_fd (hash_pool_t *self);
//  The next finished job (the caller owns it), or NULL.
hash_job_t  *hash_pool_take (hash_pool_t *self);

//  Synchronous, for start-up: hash a password with the pool's limits.
int          hash_pool_make_now (hash_pool_t *self, const char *password,
                                 char out [crypto_pwhash_STRBYTES]);

#endif

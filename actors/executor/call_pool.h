/*  call_pool.h — the executor parent's view of running sandbox calls.

    Holds warm spare children (made by the zygote in advance, waiting for
    a job; as many as the executor runs calls at once) and the calls in
    flight. For each call it feeds the job to a child, serves
    the child's HTTP requests (through http_bridge), collects the result
    frame, enforces the wall-clock deadline with SIGKILL, reaps the child
    through its pidfd and turns the way it ended into a result.

    It plugs into the caller's zmq_poll loop: call_pool_poll_items() adds
    the fds it waits on, call_pool_handle() acts on what became ready, and
    call_pool_take_done() hands back finished calls.
*/
#ifndef MCPBOX_CALL_POOL_H
#define MCPBOX_CALL_POOL_H

#include <jansson.h>
#include <zmq.h>
#include "job_spec.h"
#include "zygote.h"

typedef struct _call_pool_t call_pool_t;

//  Progress and log lines from a running call's tool (notice_frame.h) that
//  its client asked for are handed to this callback, at most
//  CALL_NOTICE_BURST at once and CALL_NOTICE_RATE a second per call; the
//  callback relays the notice (the executor: bus_worker_notice) and returns
//  0, or -1 when it could not (counted as lost). What is not relayed is
//  counted per call and reported in the result's "notices" object:
//    sent          relayed
//    filtered      the client did not ask (no progress token, or a log
//                  line below its level)
//    rate_limited  over the call's rate
//    truncated     relayed with a text cut to its bound
//    refused       malformed (never from the harness: a bypassed layer)
//    lost          the callback could not relay it
#define CALL_NOTICE_BURST   32
#define CALL_NOTICE_RATE    20
typedef int (call_notice_fn) (void *token, json_t *notice, void *arg);

//  spares: children to keep ready (the executor's credit).
call_pool_t *call_pool_new (zygote_t *zygote, size_t spares);
void         call_pool_destroy (call_pool_t **self_p);

//  Start a call (takes the spec's contents). token is handed back with the
//  result. 0, or -1 + err (no child could be made).
int  call_pool_start (call_pool_t *self, job_spec_t *spec, void *token,
                      char *err, size_t errlen);

//  The call started with token was cancelled by its client: kill its child
//  now (it finishes as usual, with a "cancelled" error). 0, or -1 when no
//  running call has that token.
int  call_pool_cancel (call_pool_t *self, void *token);

//  Where notices go (NULL: every notice is counted as filtered).
void call_pool_set_notice (call_pool_t *self, call_notice_fn *fn, void *arg);

//  Calls running now.
size_t call_pool_running (call_pool_t *self);

//  Fill up to max poll items; returns how many.
int  call_pool_poll_items (call_pool_t *self, zmq_pollitem_t *items, int max);
//  After zmq_poll: act on the items filled above.
void call_pool_handle (call_pool_t *self, zmq_pollitem_t *items, int count);
//  Milliseconds until the next deadline (-1 none).
int  call_pool_next_timeout_ms (call_pool_t *self);

//  A finished call: its token and the result object (caller decrefs):
//  the harness's fields (success, result_json, error, stdout, ...) plus
//  duration_ms. false when none is finished.
bool call_pool_take_done (call_pool_t *self, void **token_p, json_t **result_p);

//  Keep the spares topped up: asks the zygote without waiting; the
//  children arrive through the poll items (off every call's path).
void call_pool_refill (call_pool_t *self);

//  False once the zygote is gone: no call can start any more.
bool call_pool_healthy (call_pool_t *self);

#endif

/*  call_pool.c — see call_pool.h. */
#include <czmq.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include "call_pool.h"
#include "frame_io.h"
#include "http_bridge.h"
#include "log.h"
#include "notice_frame.h"
#include "result_frame.h"

//  Between the child's CPU limit and our SIGKILL there is this much slack,
//  so a tool stopped for its timeout is reported as such, not as a crash.
#define DEADLINE_SLACK_MS 250

typedef struct {
    void            *token;
    sandbox_child_t  child;
    job_spec_t       spec;
    int64_t          started_us;
    int64_t          deadline;          //  zclock_mono ms
    frame_reader_t   reader;
    json_t          *result;            //  the child's result frame
    http_channel_t  *http;
    bool             up_closed;
    bool             exited;
    siginfo_t        exit_info;
    bool             timed_out;
    const char      *broke;             //  why we killed it, if we did
    call_pool_t     *pool;
    double           notice_tokens;     //  notices it may relay now (bucket)
    int64_t          notice_at;         //  when the bucket was last filled
    struct {
        uint64_t sent, filtered, rate_limited, truncated, refused, lost;
    } notices;
} call_t;

struct _call_pool_t {
    zygote_t        *zygote;
    zlistx_t        *spares;            //  sandbox_child_t, forked, waiting for a job
    size_t           target;            //  spares to keep ready
    zlistx_t        *calls;             //  call_t, running
    zlistx_t        *done;              //  call_t, finished, result ready
    zlistx_t        *reaping;           //  sandbox_child_t, answered, not yet reaped
    call_notice_fn  *notice_fn;
    void            *notice_arg;
};

call_pool_t *
call_pool_new (zygote_t *zygote, size_t spares)
{
    call_pool_t *self = calloc (1, sizeof *self);
    assert (self);
    self->zygote = zygote;
    self->target = spares < 1 ? 1 : spares;
    self->spares = zlistx_new ();
    self->calls = zlistx_new ();
    self->done = zlistx_new ();
    self->reaping = zlistx_new ();
    return self;
}

static void
s_reap (sandbox_child_t *child)
{
    kill (child->pid, SIGKILL);
    waitpid (child->pid, NULL, 0);
    sandbox_child_close (child);
}

static void
s_call_free (call_t **call_p)
{
    call_t *call = *call_p;
    if (!call)
        return;
    if (!call->exited)
        s_reap (&call->child);
    else
        sandbox_child_close (&call->child);
    http_channel_release (&call->http);
    frame_reader_clear (&call->reader);
    job_spec_clear (&call->spec);
    json_decref (call->result);
    free (call);
    *call_p = NULL;
}

void
call_pool_destroy (call_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    call_pool_t *self = *self_p;
    call_t *call;
    while ((call = zlistx_detach (self->calls, NULL)))
        s_call_free (&call);
    while ((call = zlistx_detach (self->done, NULL)))
        s_call_free (&call);
    zlistx_destroy (&self->calls);
    zlistx_destroy (&self->done);
    sandbox_child_t *child;
    while ((child = zlistx_detach (self->reaping, NULL))) {
        s_reap (child);
        free (child);
    }
    zlistx_destroy (&self->reaping);
    while ((child = zlistx_detach (self->spares, NULL))) {
        s_reap (child);
        free (child);
    }
    zlistx_destroy (&self->spares);
    free (self);
    *self_p = NULL;
}

//  Children the zygote has made become spares (never blocks).
static void
s_collect_spares (call_pool_t *self)
{
    while (zygote_alive (self->zygote) && zygote_pending (self->zygote) > 0) {
        sandbox_child_t child;
        char err [256];
        int rc = zygote_take (self->zygote, &child, false, err, sizeof err);
        if (rc == 0)
            return;
        if (rc < 0) {
            log_warn ("cannot make a warm spare: %s", err);
            return;
        }
        sandbox_child_t *spare = malloc (sizeof *spare);
        assert (spare);
        *spare = child;
        zlistx_add_end (self->spares, spare);
    }
}

void
call_pool_refill (call_pool_t *self)
{
    s_collect_spares (self);
    while (zygote_alive (self->zygote)
       &&  zlistx_size (self->spares) + zygote_pending (self->zygote) < self->target)
        if (zygote_request (self->zygote) != 0) {
            log_warn ("cannot ask the zygote for a spare: %s", strerror (errno));
            break;
        }
}

bool
call_pool_healthy (call_pool_t *self)
{
    return zygote_alive (self->zygote);
}

//  A child for a call: a warm spare, or one made now. A child with
//  something already in its up pipe wrote before it had a job: it is not
//  used (nothing it wrote is ever taken as a call's output).
static int
s_child_for_call (call_pool_t *self, sandbox_child_t *child, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        sandbox_child_t *spare = zlistx_detach (self->spares, NULL);
        if (spare) {
            *child = *spare;
            free (spare);
        }
        else
        if (zygote_take (self->zygote, child, true, err, errlen) != 1)
            return -1;
        int queued = 0;
        if (ioctl (child->up, FIONREAD, &queued) == 0 && queued == 0)
            return 0;
        log_warn ("sandbox child %d wrote before it had a job; discarded", (int) child->pid);
        s_reap (child);
    }
    snprintf (err, errlen, "no usable sandbox child");
    return -1;
}

int
call_pool_start (call_pool_t *self, job_spec_t *spec, void *token,
                 char *err, size_t errlen)
{
    call_t *call = calloc (1, sizeof *call);
    assert (call);
    if (s_child_for_call (self, &call->child, err, errlen) != 0) {
        free (call);
        return -1;
    }
    call->token = token;
    call->pool = self;
    call->notice_tokens = CALL_NOTICE_BURST;
    call->notice_at = zclock_mono ();
    call->spec = *spec;
    memset (spec, 0, sizeof *spec);
    call->started_us = zclock_usecs ();
    call->deadline = zclock_mono () + call->spec.timeout_ms + DEADLINE_SLACK_MS;
    frame_reader_init (&call->reader, FRAME_MAX);
    int written = frame_write (call->child.down, call->spec.job_json, call->spec.job_size);
#ifdef MCPBOX_TEST_HOOKS
    if (getenv ("MCPBOX_TEST_ZYGOTE_SEES_JOBS"))
        zygote_test_show_job (self->zygote, call->spec.job_json, call->spec.job_size);
#endif
    //  the child has the job; keep no copy of its code, arguments or secrets
    //  in this process, which later children are forked from
    explicit_bzero (call->spec.job_json, call->spec.job_size);
    free (call->spec.job_json);
    call->spec.job_json = NULL;
    if (written != 0) {
        snprintf (err, errlen, "the sandbox child did not take its job");
        s_call_free (&call);
        return -1;
    }
    call->http = http_channel_new (call->child.down, call->spec.hosts, call->spec.host_count,
                                   call->spec.policy, call->deadline - DEADLINE_SLACK_MS);
    zlistx_add_end (self->calls, call);
    return 0;
}

int
call_pool_cancel (call_pool_t *self, void *token)
{
    for (call_t *call = zlistx_first (self->calls); call; call = zlistx_next (self->calls))
        if (call->token == token) {
            if (!call->exited) {
                if (!call->broke)
                    call->broke = "the call was cancelled by its client";
                kill (call->child.pid, SIGKILL);
            }
            return 0;
        }
    return -1;
}

void
call_pool_set_notice (call_pool_t *self, call_notice_fn *fn, void *arg)
{
    self->notice_fn = fn;
    self->notice_arg = arg;
}

size_t
call_pool_running (call_pool_t *self)
{
    return zlistx_size (self->calls);
}

int
call_pool_poll_items (call_pool_t *self, zmq_pollitem_t *items, int max)
{
    int count = 0;
    if (max > 0 && zygote_alive (self->zygote) && zygote_pending (self->zygote) > 0)
        items [count++] = (zmq_pollitem_t) { NULL, zygote_fd (self->zygote), ZMQ_POLLIN, 0 };
    for (call_t *call = zlistx_first (self->calls); call; call = zlistx_next (self->calls)) {
        if (count + 2 > max)
            break;
        if (!call->up_closed)
            items [count++] = (zmq_pollitem_t) { NULL, call->child.up, ZMQ_POLLIN, 0 };
        if (!call->exited)
            items [count++] = (zmq_pollitem_t) { NULL, call->child.pidfd, ZMQ_POLLIN, 0 };
    }
    return count;
}

int
call_pool_next_timeout_ms (call_pool_t *self)
{
    int64_t next = INT64_MAX;
    for (call_t *call = zlistx_first (self->calls); call; call = zlistx_next (self->calls))
        if (!call->exited && call->deadline < next)
            next = call->deadline;
    if (next == INT64_MAX)
        return -1;
    int64_t left = next - zclock_mono ();
    return left < 0 ? 0 : left > 60000 ? 60000 : (int) left;
}

static void
s_kill (call_t *call, const char *why)
{
    if (!call->broke)
        call->broke = why;
    kill (call->child.pid, SIGKILL);
}

//  A progress or log frame: checked and redacted (notice_frame.c), then
//  filtered by what the client asked for, rate-limited, relayed; every
//  outcome counted. A malformed one is refused, the call goes on.
static void
s_notice (call_t *call, json_t *message)
{
    bool truncated = false;
    json_t *notice = notice_frame_clean (message, call->spec.redactor, &truncated);
    if (!notice) {
        call->notices.refused++;
        return;
    }
    const char *kind = json_string_value (json_object_get (notice, "kind"));
    bool wanted = streq (kind, "progress")
                ? call->spec.notify_progress
                : call->spec.notify_log_rank >= 0
                  && notice_level_rank (json_string_value (json_object_get (notice, "level")))
                     >= call->spec.notify_log_rank;
    call_pool_t *pool = call->pool;
    if (!wanted || !pool->notice_fn) {
        call->notices.filtered++;
        json_decref (notice);
        return;
    }
    int64_t now = zclock_mono ();
    call->notice_tokens += (double) (now - call->notice_at) * CALL_NOTICE_RATE / 1000.0;
    if (call->notice_tokens > CALL_NOTICE_BURST)
        call->notice_tokens = CALL_NOTICE_BURST;
    call->notice_at = now;
    if (call->notice_tokens < 1) {
        call->notices.rate_limited++;
        json_decref (notice);
        return;
    }
    call->notice_tokens -= 1;
    if (pool->notice_fn (call->token, notice, pool->notice_arg) == 0) {
        call->notices.sent++;
        if (truncated)
            call->notices.truncated++;
    }
    else
        call->notices.lost++;
    json_decref (notice);
}

//  One frame from the child: HTTP requests, progress and log lines, then
//  exactly one result.
//  Anything else (a second result, any frame after the result, a
//  malformed frame) ends the call as a sandbox violation, whatever result
//  came before it.
static void
s_frame (call_t *call, char *frame, size_t size)
{
    if (call->broke)
        return;                 //  already condemned: nothing it sends counts
    if (call->result) {
        json_decref (call->result);
        call->result = NULL;
        s_kill (call, "the sandbox child sent a message after its result");
        return;
    }
    json_error_t error;
    json_t *message = json_loadb (frame, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    const char *type = json_string_value (json_object_get (message, "type"));
    if (!message || !type)
        s_kill (call, "the sandbox child sent a malformed message");
    else
    if (streq (type, "http")) {
        if (http_channel_submit (call->http, message) != 0)
            s_kill (call, "the sandbox child broke the HTTP rules");
    }
    else
    if (streq (type, "progress") || streq (type, "log"))
        s_notice (call, message);
    else
    if (streq (type, "result")) {
        call->result = result_frame_clean (message, call->spec.redactor);
        if (!call->result)
            s_kill (call, "the sandbox child sent a malformed result");
    }
    else
        s_kill (call, "the sandbox child sent an unexpected message");
    json_decref (message);
}

static void
s_read_up (call_t *call)
{
    while (!call->up_closed) {
        char *frame = NULL;
        size_t size = 0;
        frame_status_t status = frame_reader_feed (&call->reader, call->child.up, &frame, &size);
        if (status == FRAME_READY) {
            s_frame (call, frame, size);
            //  what the tool wrote may hold a secret: leave none in freed memory
            explicit_bzero (frame, size);
            free (frame);
        }
        else
        if (status == FRAME_AGAIN)
            return;
        else {
            if (status == FRAME_ERROR)
                s_kill (call, "the tool's output was larger than the sandbox allows");
            call->up_closed = true;
        }
    }
}

static const char *
s_signal_cause (int sig, bool timed_out, int timeout_ms, char *buf, size_t buflen)
{
    if (timed_out) {
        snprintf (buf, buflen, "the tool ran longer than its timeout of %d ms and was stopped", timeout_ms);
        return "Timeout";
    }
    switch (sig) {
        case SIGSYS:
            snprintf (buf, buflen, "the tool attempted an operation the sandbox forbids "
                                   "(a blocked system call) and was stopped");
            return "SandboxViolation";
        case SIGXCPU:
            snprintf (buf, buflen, "the tool used more CPU time than its timeout allows");
            return "Timeout";
        case SIGSEGV: case SIGBUS:
            snprintf (buf, buflen, "the sandbox process crashed (%s), for example from "
                                   "recursion too deep or memory exhaustion", strsignal (sig));
            return "Crash";
        case SIGKILL:
            snprintf (buf, buflen, "the sandbox process was killed (memory limit of %d MB?)", 256);
            return "Killed";
        default:
            snprintf (buf, buflen, "the sandbox process died from signal %s", strsignal (sig));
            return "Crash";
    }
}

//  The result for a call whose child is gone.
static json_t *
s_outcome (call_t *call)
{
    int64_t duration = (zclock_usecs () - call->started_us) / 1000;
    json_t *result = call->result;
    call->result = NULL;
    if (!result) {
        char message [300];
        const char *type;
        if (call->broke && !call->timed_out) {
            snprintf (message, sizeof message, "%s", call->broke);
            type = "SandboxViolation";
        }
        else
        if (call->exit_info.si_code == CLD_EXITED && !call->timed_out) {
            snprintf (message, sizeof message, "the sandbox process exited unexpectedly (status %d)",
                      call->exit_info.si_status);
            type = "Crash";
        }
        else
            type = s_signal_cause (call->exit_info.si_status, call->timed_out,
                                   call->spec.timeout_ms, message, sizeof message);
        result = json_pack ("{s:b, s:{s:s, s:s, s:n, s:[]}, s:s}",
                            "success", 0, "error", "type", type, "message", message,
                            "line", "context", "stdout", "");
    }
    json_object_set_new (result, "duration_ms", json_integer (duration));
    uint64_t total = call->notices.sent + call->notices.filtered + call->notices.rate_limited
                   + call->notices.refused + call->notices.lost;
    if (total)
        json_object_set_new (result, "notices", json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I}",
            "sent", (json_int_t) call->notices.sent,
            "filtered", (json_int_t) call->notices.filtered,
            "rate_limited", (json_int_t) call->notices.rate_limited,
            "truncated", (json_int_t) call->notices.truncated,
            "refused", (json_int_t) call->notices.refused,
            "lost", (json_int_t) call->notices.lost));
    if (call->spec.args_redacted)
        json_object_set (result, "args_redacted", call->spec.args_redacted);
    return result;
}

//  A call is over when its up pipe is closed (no second frame can follow)
//  and either its result has arrived or the child is gone. The child
//  closes the pipe right after its result, so its exit (tearing down a
//  copy of the interpreter takes a millisecond) is reaped off the latency
//  path.
static bool
s_finished (call_t *call)
{
    return call->up_closed && (call->result || call->exited);
}

//  Children that answered are killed (they were exiting anyway) and reaped
//  here, without blocking.
static void
s_reap_answered (call_pool_t *self)
{
    sandbox_child_t *child = zlistx_first (self->reaping);
    while (child) {
        if (waitpid (child->pid, NULL, WNOHANG) == child->pid) {
            sandbox_child_close (child);
            zlistx_detach (self->reaping, zlistx_cursor (self->reaping));
            free (child);
            child = zlistx_first (self->reaping);
        }
        else
            child = zlistx_next (self->reaping);
    }
}

void
call_pool_handle (call_pool_t *self, zmq_pollitem_t *items, int count)
{
    (void) items;               //  every call is checked: cheap, and no
    (void) count;               //  readiness can be missed
    s_collect_spares (self);
    int64_t now = zclock_mono ();
    for (call_t *call = zlistx_first (self->calls); call; call = zlistx_next (self->calls)) {
        s_read_up (call);
        if (call->exited)
            continue;
        siginfo_t info;
        memset (&info, 0, sizeof info);
        if (waitid (P_PID, (id_t) call->child.pid, &info, WEXITED | WNOHANG) == 0
        &&  info.si_pid == call->child.pid) {
            call->exited = true;
            call->exit_info = info;
            s_read_up (call);           //  what it wrote before exiting
        }
        else
        if (now >= call->deadline && !call->timed_out) {
            call->timed_out = true;
            kill (call->child.pid, SIGKILL);
        }
    }
    s_reap_answered (self);
    //  move finished calls to done (detaching moves the list's cursor,
    //  so look again from the start after each move)
    bool moved = true;
    while (moved) {
        moved = false;
        for (call_t *call = zlistx_first (self->calls); call; call = zlistx_next (self->calls))
            if (s_finished (call)) {
                zlistx_detach (self->calls, zlistx_cursor (self->calls));
                if (!call->exited) {
                    kill (call->child.pid, SIGKILL);
                    sandbox_child_t *child = malloc (sizeof *child);
                    assert (child);
                    *child = call->child;
                    zlistx_add_end (self->reaping, child);
                    call->child.down = call->child.up = call->child.pidfd = -1;
                    call->exited = true;
                }
                zlistx_add_end (self->done, call);
                moved = true;
                break;
            }
    }
}

bool
call_pool_take_done (call_pool_t *self, void **token_p, json_t **result_p)
{
    call_t *call = zlistx_detach (self->done, NULL);
    if (!call)
        return false;
    *token_p = call->token;
    *result_p = s_outcome (call);
    s_call_free (&call);
    return true;
}

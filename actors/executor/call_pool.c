/*  call_pool.c — see call_pool.h. */
#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>
#include "call_pool.h"
#include "frame_io.h"
#include "http_bridge.h"
#include "log.h"

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
} call_t;

struct _call_pool_t {
    zygote_t        *zygote;
    sandbox_child_t  spare;
    bool             has_spare;
    zlistx_t        *calls;             //  call_t, running
    zlistx_t        *done;              //  call_t, finished, result ready
    zlistx_t        *reaping;           //  sandbox_child_t, answered, not yet reaped
};

call_pool_t *
call_pool_new (zygote_t *zygote)
{
    call_pool_t *self = calloc (1, sizeof *self);
    assert (self);
    self->zygote = zygote;
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
    if (self->has_spare)
        s_reap (&self->spare);
    free (self);
    *self_p = NULL;
}

void
call_pool_refill (call_pool_t *self)
{
    if (self->has_spare)
        return;
    char err [256];
    if (zygote_fork (self->zygote, &self->spare, err, sizeof err) == 0)
        self->has_spare = true;
    else
        log_warn ("cannot fork a warm spare: %s", err);
}

int
call_pool_start (call_pool_t *self, job_spec_t *spec, void *token,
                 char *err, size_t errlen)
{
    call_t *call = calloc (1, sizeof *call);
    assert (call);
    if (self->has_spare) {
        call->child = self->spare;
        self->has_spare = false;
    }
    else
    if (zygote_fork (self->zygote, &call->child, err, errlen) != 0) {
        free (call);
        return -1;
    }
    call->token = token;
    call->spec = *spec;
    memset (spec, 0, sizeof *spec);
    call->started_us = zclock_usecs ();
    call->deadline = zclock_mono () + call->spec.timeout_ms + DEADLINE_SLACK_MS;
    frame_reader_init (&call->reader, FRAME_MAX);
    int written = frame_write (call->child.down, call->spec.job_json, call->spec.job_size);
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

size_t
call_pool_running (call_pool_t *self)
{
    return zlistx_size (self->calls);
}

int
call_pool_poll_items (call_pool_t *self, zmq_pollitem_t *items, int max)
{
    int count = 0;
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

//  The child's result frame is written by code that ran next to the tool:
//  keep only the fields we know, with the types we expect, and a
//  result_json that really is JSON. NULL when it is not a result at all.
static json_t *
s_clean_result (json_t *raw)
{
    json_t *success = json_object_get (raw, "success");
    if (!json_is_boolean (success))
        return NULL;
    json_t *clean = json_object ();
    json_object_set (clean, "success", success);
    const char *bools [] = { "structured", "stdout_truncated", "valid", "has_main" };
    for (size_t i = 0; i < sizeof bools / sizeof bools [0]; i++) {
        json_t *value = json_object_get (raw, bools [i]);
        if (json_is_boolean (value))
            json_object_set (clean, bools [i], value);
    }
    const char *text = json_string_value (json_object_get (raw, "result_json"));
    if (text) {
        json_t *parsed = json_loads (text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
        if (!parsed) {
            json_decref (clean);
            return NULL;
        }
        json_decref (parsed);
        json_object_set (clean, "result_json", json_object_get (raw, "result_json"));
    }
    json_t *out = json_object_get (raw, "stdout");
    json_object_set_new (clean, "stdout", json_is_string (out) && json_string_length (out) <= (2u << 20)
                                          ? json_incref (out) : json_string (""));
    json_t *error = json_object_get (raw, "error");
    if (json_is_object (error)) {
        json_t *type = json_object_get (error, "type"), *message = json_object_get (error, "message");
        json_t *line = json_object_get (error, "line"), *context = json_object_get (error, "context");
        json_t *lines = json_array ();
        for (size_t i = 0; json_is_array (context) && i < json_array_size (context) && i < 10; i++)
            if (json_is_string (json_array_get (context, i)))
                json_array_append (lines, json_array_get (context, i));
        json_object_set_new (clean, "error", json_pack ("{s:s, s:s%, s:o, s:o}",
            "type", json_is_string (type) && json_string_length (type) <= 100 ? json_string_value (type) : "Error",
            "message", json_is_string (message) ? json_string_value (message) : "",
            json_is_string (message) ? (json_string_length (message) > 8000 ? 8000 : json_string_length (message)) : 0,
            "line", json_is_integer (line) ? json_incref (line) : json_null (),
            "context", lines));
    }
    //  validate: the schema and parameters the harness derived
    const char *objects [] = { "input_schema" };
    for (size_t i = 0; i < 1; i++)
        if (json_is_object (json_object_get (raw, objects [i])))
            json_object_set (clean, objects [i], json_object_get (raw, objects [i]));
    if (json_is_array (json_object_get (raw, "parameters")))
        json_object_set (clean, "parameters", json_object_get (raw, "parameters"));
    if (json_is_string (json_object_get (raw, "description")))
        json_object_set (clean, "description", json_object_get (raw, "description"));
    return clean;
}

//  One frame from the child: an HTTP request, or the result.
static void
s_frame (call_t *call, char *frame, size_t size)
{
    json_error_t error;
    json_t *message = json_loadb (frame, size, JSON_REJECT_DUPLICATES, &error);
    const char *type = json_string_value (json_object_get (message, "type"));
    if (!message || !type)
        s_kill (call, "the sandbox child sent a malformed message");
    else
    if (streq (type, "http") && !call->result) {
        if (http_channel_submit (call->http, message) != 0)
            s_kill (call, "the sandbox child broke the HTTP rules");
    }
    else
    if (streq (type, "result") && !call->result) {
        call->result = s_clean_result (message);
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
    return result;
}

//  A call is over when its child is gone and its pipe drained, or as soon
//  as its result has arrived: the child's exit (tearing down a copy of the
//  interpreter takes a millisecond) is then reaped off the latency path.
static bool
s_finished (call_t *call)
{
    return call->result || (call->exited && call->up_closed);
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

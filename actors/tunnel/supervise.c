/*  supervise.c — the one tunnel client: start, read, restart, stop.

    Everything runs on the service loop's thread: the loop polls the
    child's output pipe beside the bus (tunnel_wake_fd / tunnel_on_wake)
    and calls tunnel_tick every 100 ms, which reaps the child (waitpid on
    its pid, WNOHANG), sends the KILL that follows an unanswered TERM, and
    starts a restart that is due. No signal handler, no thread. The state
    machine is written down in tunnel.h.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <czmq.h>
#include <sodium.h>
#include "log.h"
#include "sshkey.h"
#include "tunnel.h"

#define S_TOKEN_TIMEOUT_MS 5000

static const char *const s_state_names [] = {
    "disconnected", "connecting", "connected", "error"
};

const char *
tunnel_state_name (tunnel_state_t state)
{
    return state <= TUNNEL_ERROR ? s_state_names [state] : "error";
}

static int64_t
s_mono (void)
{
    return zclock_mono ();
}

size_t
tunnel_status_pairs (bool with_config)
{
    return with_config ? 15 : 12;
}

void
tunnel_pack_status (tunnel_t *self, msgw_t *w, bool with_config)
{
    int64_t retry = self->restart_at ? self->restart_at - s_mono () : -1;
    msgw_kv_str (w, "provider", self->conf.provider);
    msgw_kv_str (w, "state", tunnel_state_name (self->state));
    msgw_kv_str (w, "message", self->message);
    msgw_kv_bool (w, "enabled", self->conf.enabled);
    msgw_kv_int (w, "pid", self->child.pid);
    msgw_kv_int (w, "since", self->since);
    msgw_kv_int (w, "starts", (int64_t) self->starts);
    msgw_kv_int (w, "restarts", (int64_t) self->restarts);
    msgw_kv_int (w, "connections", self->up);
    msgw_kv_int (w, "retry_in_ms", retry < 0 ? -1 : retry);
    msgw_kv_int (w, "output_lines", (int64_t) self->lines.lines);
    msgw_kv_int (w, "output_truncated", (int64_t) self->lines.truncated);
    if (!with_config)
        return;
    msgw_kv_str (w, "target", self->files.target);
    msgw_kv_bool (w, "has_token", self->conf.has_token);
    char public_key [SSHKEY_PUBLIC_MAX] = "";
    sshkey_public (&self->files, public_key, sizeof public_key);
    msgw_str (w, "ssh");
    msgw_map (w, 7);
    msgw_kv_str (w, "host", self->conf.ssh_host);
    msgw_kv_int (w, "port", self->conf.ssh_port);
    msgw_kv_str (w, "user", self->conf.ssh_user);
    msgw_kv_str (w, "host_key", self->conf.ssh_host_key);
    msgw_kv_str (w, "remote_host", self->conf.ssh_remote_host);
    msgw_kv_int (w, "remote_port", self->conf.ssh_remote_port);
    msgw_kv_str (w, "public_key", public_key);
}

//  A transition: logged, published as `tunnel.status`, and an activity
//  record when it is one a person wants to see (connected, error).
static void
s_set (tunnel_t *self, service_t *service, tunnel_state_t state, const char *message)
{
    message = message ? message : "";
    if (state == self->state && strcmp (message, self->message) == 0)
        return;
    tunnel_state_t previous = self->state;
    self->state = state;
    snprintf (self->message, sizeof self->message, "%s", message);
    self->since = (int64_t) time (NULL);
    if (state == TUNNEL_ERROR)
        log_warn ("tunnel %s: %s%s%s", tunnel_state_name (state), self->conf.provider,
                  *message ? ": " : "", message);
    else
        log_info ("tunnel %s (%s)%s%s", tunnel_state_name (state), self->conf.provider,
                  *message ? ": " : "", message);
    msgw_t *event = msgw_new ();
    msgw_map (event, tunnel_status_pairs (false) + 1);
    msgw_kv_str (event, "previous", tunnel_state_name (previous));
    tunnel_pack_status (self, event, false);
    if (service_publish (service, "tunnel.status", event))
        log_debug ("tunnel.status not published (no event bus)");
    msgw_destroy (&event);
    if (state != previous && (state == TUNNEL_CONNECTED || state == TUNNEL_ERROR)) {
        char text [TUNNEL_WHY_MAX + 64];
        snprintf (text, sizeof text, "tunnel (%s) %s%s%s", self->conf.provider,
                  tunnel_state_name (state), *message ? ": " : "", message);
        service_activity (service, state == TUNNEL_ERROR ? "tunnel.error" : "tunnel.connected",
                          state == TUNNEL_ERROR ? "warning" : "info", NULL, text, NULL);
    }
}

static void
s_wipe_redact (tunnel_t *self)
{
    if (self->redact) {
        sodium_memzero (self->redact, strlen (self->redact));
        sodium_free (self->redact);
        self->redact = NULL;
    }
}

//  The token from credentials (sodium_malloc'd into *token_p). 0 or -1.
static int
s_fetch_token (service_t *service, char **token_p, char *err, size_t errlen)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 2);
    msgw_kv_str (body, "op", "job_secrets");
    msgw_kv_str (body, "server_id", TUNNEL_SECRET_OWNER);
    bus_reply_t *reply = service_call (service, "credentials", msgw_data (body),
                                       msgw_size (body), S_TOKEN_TIMEOUT_MS);
    msgw_destroy (&body);
    const char *why = NULL;
    msg_t *msg = bus_reply_decode (reply, &why);
    int rc = -1;
    const msgpack_object *secrets = NULL;
    const char *ptr = NULL;
    size_t len = 0;
    if (!msg)
        snprintf (err, errlen, "credentials answered badly: %s", why);
    else
    if (!msg_is_ok (msg))
        snprintf (err, errlen, "credentials: %s (%s)", msg_error_message (msg),
                  bus_error_name (msg_error_code (msg)));
    else
    if (msg_get_map (msg_root (msg), "secrets", &secrets) != MSG_FIELD_OK
    ||  msg_get_str (secrets, TUNNEL_SECRET_KEY, &ptr, &len) != MSG_FIELD_OK)
        snprintf (err, errlen, "credentials holds no cloudflared token (configure one)");
    else
    if (!tunnel_token_valid (ptr, len))
        snprintf (err, errlen, "the stored cloudflared token is malformed");
    else
    if (!(*token_p = sodium_malloc (len + 1)))
        snprintf (err, errlen, "out of memory");
    else {
        memcpy (*token_p, ptr, len);
        (*token_p) [len] = '\0';
        rc = 0;
    }
    msg_destroy (&msg);
    size_t size = 0;
    void *raw = (void *) bus_reply_body (reply, &size);
    if (raw && size)
        sodium_memzero (raw, size);     //  the token was in it
    bus_reply_destroy (&reply);
    return rc;
}

//  Try again after the backoff delay.
static void
s_schedule (tunnel_t *self)
{
    int64_t now = s_mono ();
    self->restart_at = now + backoff_failed (&self->backoff, now);
}

void
tunnel_run (tunnel_t *self, service_t *service)
{
    if (self->child.pid) {
        if (self->stopping)
            self->restart_now = true;       //  start again once it ended
        return;
    }
    self->restart_at = 0;
    const char *missing = tunnel_conf_incomplete (&self->conf);
    const tunnel_provider_t *provider = tunnel_provider_find (self->conf.provider);
    if (missing || !provider) {
        s_set (self, service, TUNNEL_ERROR, missing ? missing : "unknown provider");
        return;                             //  nothing changes until configure
    }
    char err [256] = "";
    char public_key [SSHKEY_PUBLIC_MAX];
    if (strcmp (provider->name, "ssh") == 0
    &&  (sshkey_ensure (&self->files, public_key, sizeof public_key, err, sizeof err) != 0
      || sshkey_write_known_hosts (&self->files, self->conf.ssh_host_key, err, sizeof err) != 0)) {
        s_set (self, service, TUNNEL_ERROR, err);
        return;
    }
    char *token = NULL;
    if (provider->needs_secret && s_fetch_token (service, &token, err, sizeof err) != 0) {
        s_set (self, service, TUNNEL_ERROR, err);
        s_schedule (self);                  //  credentials may be starting
        return;
    }
    tunnel_cmd_t cmd = { 0 };
    int rc = provider->build (&self->conf, &self->files, token, &cmd, err, sizeof err);
    int error = 0;
    if (rc == 0) {
        rc = child_start (&self->child, cmd.argv, cmd.envp);
        error = errno;
        if (rc != 0)
            snprintf (err, sizeof err, "cannot run %s: %s", cmd.argv [0], strerror (error));
    }
    tunnel_cmd_reset (&cmd);
    s_wipe_redact (self);
    self->redact = token;                   //  kept to redact the child's output
    if (rc != 0) {
        s_wipe_redact (self);
        s_set (self, service, TUNNEL_ERROR, err);
        s_schedule (self);
        return;
    }
    self->provider = provider;
    tunnel_lines_reset (&self->lines);
    self->up = 0;
    self->fatal = false;
    self->stopping = false;
    self->restart_now = false;
    self->kill_at = 0;
    self->started_ms = s_mono ();
    self->starts++;
    log_info ("tunnel client %s started (pid %d)", provider->name, (int) self->child.pid);
    s_set (self, service, TUNNEL_CONNECTING, "");
}

bool
tunnel_halt (tunnel_t *self, service_t *service)
{
    self->restart_at = 0;
    self->restart_now = false;
    backoff_reset (&self->backoff);
    if (!self->child.pid) {
        s_set (self, service, TUNNEL_DISCONNECTED, "");
        return false;
    }
    if (!self->stopping) {
        self->stopping = true;
        child_signal (&self->child, SIGTERM);
        self->kill_at = s_mono () + TUNNEL_KILL_AFTER_MS;
        log_info ("tunnel client %s (pid %d): TERM sent", self->provider->name,
                  (int) self->child.pid);
    }
    return true;
}

void
tunnel_reconfigured (tunnel_t *self, service_t *service)
{
    backoff_reset (&self->backoff);
    if (self->child.pid) {
        tunnel_halt (self, service);
        self->restart_now = self->conf.enabled;
    }
    else
    if (self->conf.enabled)
        tunnel_run (self, service);
    else {
        self->restart_at = 0;
        s_set (self, service, TUNNEL_DISCONNECTED, "");
    }
}

bool
tunnel_wait_exit (tunnel_t *self, bus_request_t *request)
{
    if (self->waiter_count >= TUNNEL_WAITERS_MAX)
        return false;
    self->waiters [self->waiter_count++] = request;
    return true;
}

static void
s_answer_waiters (tunnel_t *self, service_t *service)
{
    for (size_t i = 0; i < self->waiter_count; i++) {
        msgw_t *reply = msgw_new ();
        msgw_map (reply, 1 + tunnel_status_pairs (true));
        msgw_kv_bool (reply, "ok", true);
        tunnel_pack_status (self, reply, true);
        service_reply (service, &self->waiters [i], &reply);
    }
    self->waiter_count = 0;
}

//  --- output ----------------------------------------------------------------------

typedef struct {
    tunnel_t  *self;
    service_t *service;
} s_line_ctx_t;

static void
s_on_line (const char *line, size_t len, void *arg)
{
    s_line_ctx_t *ctx = arg;
    tunnel_t *self = ctx->self;
    char why [TUNNEL_WHY_MAX] = "";
    tunnel_line_t what = self->provider->parse (line, len, why, sizeof why);
    if (what == TUNNEL_LINE_NONE) {
        log_debug ("%s: %s", self->provider->name, line);
        return;
    }
    log_info ("%s: %s", self->provider->name, line);
    switch (what) {
        case TUNNEL_LINE_CONNECTING:
            if (self->up == 0 && !self->fatal)
                s_set (self, ctx->service, TUNNEL_CONNECTING, "");
            break;
        case TUNNEL_LINE_UP:
            self->up++;
            backoff_connected (&self->backoff, s_mono ());
            if (!self->fatal)
                s_set (self, ctx->service, TUNNEL_CONNECTED, "");
            break;
        case TUNNEL_LINE_DOWN:
            if (self->up > 0)
                self->up--;
            if (self->up == 0 && !self->fatal)
                s_set (self, ctx->service, TUNNEL_CONNECTING, why);
            break;
        case TUNNEL_LINE_FATAL:
            self->fatal = true;
            self->up = 0;
            s_set (self, ctx->service, TUNNEL_ERROR, why);
            break;
        default:
            break;
    }
}

//  Read what is there (at most 64 KB per call, so a chatty child cannot
//  starve the bus). true at end of file.
static bool
s_drain (tunnel_t *self, service_t *service)
{
    s_line_ctx_t ctx = { self, service };
    char buf [4096];
    for (int round = 0; round < 16 && self->child.out_fd >= 0; round++) {
        ssize_t n = read (self->child.out_fd, buf, sizeof buf);
        if (n > 0) {
            tunnel_lines_feed (&self->lines, buf, (size_t) n, self->redact, s_on_line, &ctx);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            tunnel_lines_flush (&self->lines, self->redact, s_on_line, &ctx);
            child_close_out (&self->child);
            return true;
        }
        break;                              //  EAGAIN: nothing more now
    }
    return false;
}

static void
s_describe_exit (int status, char *buf, size_t size)
{
    if (WIFEXITED (status))
        snprintf (buf, size, "exited with status %d", WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status))
        snprintf (buf, size, "killed by signal %s", strsignal (WTERMSIG (status)));
    else
        snprintf (buf, size, "ended");
}

static void
s_child_ended (tunnel_t *self, service_t *service, int status)
{
    while (self->child.out_fd >= 0 && !s_drain (self, service))
        if (errno == EAGAIN)
            break;                          //  a grandchild keeps the pipe open
    child_close_out (&self->child);
    s_wipe_redact (self);
    self->kill_at = 0;
    self->up = 0;
    char how [96];
    s_describe_exit (status, how, sizeof how);
    const char *name = self->provider ? self->provider->name : "tunnel client";
    if (self->stopping) {
        self->stopping = false;
        log_info ("%s %s after stop", name, how);
        if (self->restart_now && self->conf.enabled) {
            self->restart_now = false;
            tunnel_run (self, service);
        }
        else
            s_set (self, service, TUNNEL_DISCONNECTED, "");
        s_answer_waiters (self, service);
        return;
    }
    char message [TUNNEL_WHY_MAX];
    if (self->fatal || self->message [0])
        snprintf (message, sizeof message, "%.90s (%.20s %.40s)", self->message, name, how);
    else
        snprintf (message, sizeof message, "%.40s %.100s", name, how);
    if (self->conf.enabled)
        s_schedule (self);
    s_set (self, service, TUNNEL_ERROR, message);
    s_answer_waiters (self, service);
}

int
tunnel_wake_fd (void *state)
{
    tunnel_t *self = state;
    return self->child.out_fd;
}

void
tunnel_on_wake (service_t *service, void *state)
{
    tunnel_t *self = state;
    if (self->child.out_fd < 0)
        return;
    int status = 0;
    if (s_drain (self, service) && child_reap (&self->child, &status))
        s_child_ended (self, service, status);
}

void
tunnel_tick (service_t *service, void *state)
{
    tunnel_t *self = state;
    if (!self->booted) {
        self->booted = true;
        if (self->conf.enabled)
            tunnel_run (self, service);
        return;
    }
    int64_t now = s_mono ();
    if (self->child.pid) {
        int status = 0;
        if (child_reap (&self->child, &status))
            s_child_ended (self, service, status);
        else
        if (self->kill_at && now >= self->kill_at) {
            log_warn ("tunnel client (pid %d) still running %d ms after TERM: KILL",
                      (int) self->child.pid, TUNNEL_KILL_AFTER_MS);
            child_signal (&self->child, SIGKILL);
            self->kill_at = 0;
        }
        return;
    }
    if (self->restart_at && now >= self->restart_at && self->conf.enabled) {
        self->restart_at = 0;
        self->restarts++;
        tunnel_run (self, service);
    }
}

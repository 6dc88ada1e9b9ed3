/*  http_bridge.c — see http_bridge.h. */
#include <czmq.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include "frame_io.h"
#include "http_bridge.h"
#include "http_fetch.h"

#define HEADER_MAX_COUNT 64

struct _http_channel_t {
    atomic_int    refs;
    atomic_bool   busy;             //  a request is being served
    int           count;            //  requests so far (caller's thread only)
    int           down_fd;          //  our own dup of the child's down pipe
    char        **hosts;
    size_t        host_count;
    net_policy_t  policy;
    int64_t       deadline_ms;
};

typedef struct {
    http_channel_t *channel;
    json_t         *request;
} task_t;

http_channel_t *
http_channel_new (int down_fd, char *const *hosts, size_t host_count,
                  net_policy_t policy, int64_t deadline_ms)
{
    http_channel_t *self = calloc (1, sizeof *self);
    assert (self);
    atomic_init (&self->refs, 1);
    atomic_init (&self->busy, false);
    self->down_fd = fcntl (down_fd, F_DUPFD_CLOEXEC, 0);
    self->hosts = calloc (host_count + 1, sizeof (char *));
    for (size_t i = 0; i < host_count; i++)
        self->hosts [i] = strdup (hosts [i]);
    self->host_count = host_count;
    self->policy = policy;
    self->deadline_ms = deadline_ms;
    return self;
}

void
http_channel_release (http_channel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_channel_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub (&self->refs, 1) != 1)
        return;
    if (self->down_fd >= 0)
        close (self->down_fd);
    for (size_t i = 0; i < self->host_count; i++)
        free (self->hosts [i]);
    free (self->hosts);
    free (self);
}

static void
s_reply (http_channel_t *self, json_t *reply)
{
    char *text = json_dumps (reply, JSON_COMPACT);
    if (text) {
        //  the child may be gone (timeout): EPIPE is fine, SIGPIPE is ignored
        frame_write (self->down_fd, text, strlen (text));
        free (text);
    }
    json_decref (reply);
}

static json_t *
s_error (const char *message)
{
    return json_pack ("{s:b, s:s}", "ok", 0, "error", message);
}

static void *
s_task_run (void *arg)
{
    task_t *task = arg;
    http_channel_t *self = task->channel;
    json_t *request = task->request;

    const char *method = json_string_value (json_object_get (request, "method"));
    const char *url = json_string_value (json_object_get (request, "url"));
    const char *body_b64 = json_string_value (json_object_get (request, "body"));
    json_t *headers = json_object_get (request, "headers");
    json_t *reply = NULL;

    //  decode the body
    unsigned char *body = NULL;
    size_t body_len = 0;
    if (body_b64 && *body_b64) {
        size_t b64_len = strlen (body_b64);
        body = malloc (b64_len);
        if (!body || sodium_base642bin (body, b64_len, body_b64, b64_len, NULL, &body_len,
                                                NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            reply = s_error ("request body is not valid base64");
    }
    //  headers into arrays
    const char *names [HEADER_MAX_COUNT], *values [HEADER_MAX_COUNT];
    size_t header_count = 0;
    if (!reply && headers) {
        const char *key;
        json_t *value;
        json_object_foreach (headers, key, value) {
            if (header_count == HEADER_MAX_COUNT || !json_is_string (value)) {
                reply = s_error ("too many or malformed request headers");
                break;
            }
            names [header_count] = key;
            values [header_count++] = json_string_value (value);
        }
    }
    if (!reply) {
        int64_t left = self->deadline_ms - zclock_mono ();
        json_int_t asked = json_integer_value (json_object_get (request, "timeout_ms"));
        int timeout = (int) (left < 1 ? 1 : left > 300000 ? 300000 : left);
        if (asked > 0 && asked < timeout)
            timeout = (int) asked;
        net_rules_t rules = { (const char *const *) self->hosts, self->host_count, self->policy };
        http_request_t req = {
            .method = method, .url = url, .header_names = names,
            .header_values = values, .header_count = header_count,
            .body = body, .body_len = body_len, .timeout_ms = timeout,
        };
        http_response_t response;
        memset (&response, 0, sizeof response);
        if (http_fetch (&rules, &req, &response) == 0) {
            size_t b64_size = sodium_base64_ENCODED_LEN (response.body_len, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = malloc (b64_size);
            sodium_bin2base64 (b64, b64_size, (const unsigned char *) (response.body ? response.body : ""),
                               response.body_len, sodium_base64_VARIANT_ORIGINAL);
            reply = json_pack ("{s:b, s:i, s:O, s:s, s:s}", "ok", 1, "status", response.status,
                               "headers", response.headers ? response.headers : json_object (),
                               "body", b64, "url", response.final_url ? response.final_url : url);
            free (b64);
        }
        else
            reply = s_error (response.error [0] ? response.error : "request failed");
        http_response_clear (&response);
    }
    free (body);
    json_decref (request);
    //  not busy BEFORE the reply is written: the child may send its next
    //  request the moment it reads this one's answer
    atomic_store (&self->busy, false);
    s_reply (self, reply);
    http_channel_release (&task->channel);
    free (task);
    return NULL;
}

int
http_channel_submit (http_channel_t *self, json_t *request)
{
    if (!json_is_string (json_object_get (request, "method"))
    ||  !json_is_string (json_object_get (request, "url"))
    ||  !json_is_string (json_object_get (request, "body")))
        return -1;
    json_t *headers = json_object_get (request, "headers");
    if (headers && !json_is_object (headers))
        return -1;
    if (++self->count > HTTP_BRIDGE_MAX_REQUESTS)
        return -1;
    bool expected = false;
    if (!atomic_compare_exchange_strong (&self->busy, &expected, true))
        return -1;              //  the harness never sends two at once
    task_t *task = calloc (1, sizeof *task);
    assert (task);
    atomic_fetch_add (&self->refs, 1);
    task->channel = self;
    task->request = json_incref (request);
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create (&thread, &attr, s_task_run, task);
    pthread_attr_destroy (&attr);
    if (rc != 0) {
        atomic_store (&self->busy, false);
        json_decref (task->request);
        http_channel_release (&task->channel);
        free (task);
        s_reply (self, s_error ("the executor is out of threads"));
    }
    return 0;
}

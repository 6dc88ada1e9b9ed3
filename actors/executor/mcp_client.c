/*  mcp_client.c — see mcp_client.h.

    Every request is a POST through http_fetch with on_body set, so no
    answer is ever buffered beyond response_max and an SSE answer is read
    as it arrives: the reader (s_answer_body) decides from the first piece
    whether it holds JSON or an event stream, and ends the transfer as soon
    as the answer to our id is in (HTTP_BODY_DONE), whatever the server
    would send after it. A request of the source's own met on the way is
    answered there and then (s_answer_ask: a POST of its own, made from
    inside the reader, on another curl handle), since the source may be
    holding our answer until it has its own.

    The legacy transport's stream runs on a thread of its own
    (s_stream_main): a GET through http_fetch whose reader feeds the SSE
    parser; the `endpoint` event and the answers it carries are handed to
    the client's thread under a mutex, with a condition variable to wait
    on until the deadline. The client sets `cancel` to end it.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <czmq.h>
#include "http_fetch.h"
#include "mcp_client.h"
#include "sse_parser.h"

#ifndef MCPBOX_VERSION
#   define MCPBOX_VERSION "0"
#endif

#define S_PENDING_MAX   64      //  legacy: answers waiting to be taken
#define S_DELETE_MS     2000    //  ending a session never takes longer
#define S_SESSION_LOST  (-2)    //  s_post: 404 on our session

struct _mcp_client_t {
    char               *url;
    mcp_transport_t     transport;
    char               *auth_name, *auth_value;
    const net_rules_t  *rules;
    int64_t             deadline;
    size_t              response_max;
    json_int_t          next_id;
    char                protocol [16];
    json_t             *server_info;
    char                session [MCP_CLIENT_SESSION_MAX + 1];
    //  legacy transport
    pthread_t           thread;
    bool                thread_started;
    atomic_bool         cancel;         //  ends the stream reader
    const atomic_bool  *stop;           //  the caller's: ends everything
    pthread_mutex_t     lock;
    pthread_cond_t      changed;
    char               *endpoint;       //  where to POST, once known
    json_t             *pending;        //  answers from the stream
    bool                stream_ended;
    char                stream_error [MCP_CLIENT_ERROR_MAX];
    sse_parser_t       *stream_parser;
    atomic_int          asks;           //  the source's requests answered
    atomic_bool         unauthorized;   //  a 401 was answered (OAuth: refresh)
};

static void
    s_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, errlen, fmt, args);
    va_end (args);
}

static int
s_remaining (mcp_client_t *self)
{
    int64_t left = self->deadline - zclock_mono ();
    return left <= 0? 0: left > INT32_MAX? INT32_MAX: (int) left;
}

mcp_client_t *
mcp_client_new (const mcp_client_config_t *config)
{
    mcp_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (config->url? config->url: "");
    self->transport = config->transport;
    self->auth_name = config->auth_name? strdup (config->auth_name): NULL;
    self->auth_value = config->auth_value? strdup (config->auth_value): NULL;
    self->rules = config->rules;
    self->deadline = config->deadline_ms;
    self->response_max = config->response_max? config->response_max
                                              : MCP_CLIENT_RESPONSE_MAX;
    self->next_id = 1;
    self->stop = config->cancel;
    self->pending = json_array ();
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->changed, NULL);
    atomic_init (&self->cancel, false);
    atomic_init (&self->asks, 0);
    atomic_init (&self->unauthorized, false);
    if (!self->url || !self->pending
    || (config->auth_name && !self->auth_name)
    || (config->auth_value && !self->auth_value))
        mcp_client_destroy (&self);
    return self;
}

//  The request headers every POST carries.
typedef struct {
    const char *names [6];
    const char *values [6];
    size_t      count;
} s_headers_t;

static void
s_headers (mcp_client_t *self, s_headers_t *h, bool post)
{
    h->count = 0;
    if (post) {
        h->names [h->count] = "Content-Type";
        h->values [h->count++] = "application/json";
        h->names [h->count] = "Accept";
        h->values [h->count++] = self->transport == MCP_TRANSPORT_SSE
                               ? "application/json"
                               : "application/json, text/event-stream";
    }
    else {
        h->names [h->count] = "Accept";
        h->values [h->count++] = "text/event-stream";
    }
    if (self->protocol [0] && self->transport == MCP_TRANSPORT_STREAMABLE_HTTP) {
        h->names [h->count] = "MCP-Protocol-Version";
        h->values [h->count++] = self->protocol;
    }
    if (self->session [0]) {
        h->names [h->count] = "Mcp-Session-Id";
        h->values [h->count++] = self->session;
    }
    if (self->auth_name && self->auth_value) {
        h->names [h->count] = self->auth_name;
        h->values [h->count++] = self->auth_value;
    }
}

//  ---------------------------------------------------------------------
//  JSON-RPC answers

int
mcp_client_check_answer (json_t *msg, json_int_t id, json_t **result,
                         char *err, size_t errlen)
{
    if (!json_is_object (msg)) {
        s_err (err, errlen, "malformed JSON-RPC message from the source (not an object)");
        return -1;
    }
    json_t *version = json_object_get (msg, "jsonrpc");
    if (!json_is_string (version) || strcmp (json_string_value (version), "2.0") != 0) {
        s_err (err, errlen, "malformed JSON-RPC message from the source (jsonrpc is not \"2.0\")");
        return -1;
    }
    if (json_object_get (msg, "method"))
        return 1;                   //  a notification or a request of its own
    json_t *mid = json_object_get (msg, "id");
    if (!json_is_integer (mid) || json_integer_value (mid) != id) {
        if (json_is_integer (mid) || json_is_string (mid))
            return 1;               //  an answer to something else
        s_err (err, errlen, "malformed JSON-RPC answer from the source (no usable id)");
        return -1;
    }
    json_t *res = json_object_get (msg, "result");
    json_t *error = json_object_get (msg, "error");
    if ((res != NULL) == (error != NULL)) {
        s_err (err, errlen, "malformed JSON-RPC answer from the source (it must hold "
                            "exactly one of result and error)");
        return -1;
    }
    if (error) {
        json_t *code = json_object_get (error, "code");
        json_t *message = json_object_get (error, "message");
        if (!json_is_object (error) || !json_is_integer (code) || !json_is_string (message)) {
            s_err (err, errlen, "malformed JSON-RPC error from the source");
            return -1;
        }
        s_err (err, errlen, "the source answered error %" JSON_INTEGER_FORMAT ": %.300s",
               json_integer_value (code), json_string_value (message));
        return -1;
    }
    if (!json_is_object (res)) {
        s_err (err, errlen, "malformed JSON-RPC answer from the source (result is not an object)");
        return -1;
    }
    *result = res;
    return 0;
}

int
mcp_client_server_request (json_t *msg, json_t **reply, char *err, size_t errlen)
{
    *reply = NULL;
    json_t *method = json_object_get (msg, "method");
    json_t *id = json_object_get (msg, "id");
    if (!json_is_object (msg) || !method || !id)
        return 0;                   //  an answer, or a notification: nothing to send
    json_t *version = json_object_get (msg, "jsonrpc");
    if (!json_is_string (version) || strcmp (json_string_value (version), "2.0") != 0
    ||  !json_is_string (method) || !(json_is_integer (id) || (json_is_string (id)
        && json_string_length (id) <= MCP_CLIENT_ASK_ID_MAX))) {
        s_err (err, errlen, "malformed request from the source (it needs jsonrpc \"2.0\", "
               "a method string and an id that is an integer or a string of at most "
               "%d bytes)",
               MCP_CLIENT_ASK_ID_MAX);
        return -1;
    }
    //  a client that declared no capability: ping is the one request it serves
    if (strcmp (json_string_value (method), "ping") == 0)
        *reply = json_pack ("{s:s, s:O, s:{}}", "jsonrpc", "2.0", "id", id, "result");
    else
        *reply = json_pack ("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id,
                            "error", "code", -32601, "message", "Method not found (MCPbox "
                            "offers sources no sampling, elicitation or roots)");
    if (!*reply) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    return 1;
}

static int
    s_post (mcp_client_t *self, const char *url, json_t *message, json_int_t id,
            json_t **answer, bool initialize, char *err, size_t errlen);

//  msg came from the source and is not an answer to us: when it is a
//  request of its own, the answer is POSTed to url at once. 0 (answered,
//  or nothing to answer), -1 with the reason (malformed, too many, the
//  POST failed).
static int
s_answer_ask (mcp_client_t *self, json_t *msg, const char *url, char *err, size_t errlen)
{
    json_t *reply = NULL;
    int rc = mcp_client_server_request (msg, &reply, err, errlen);
    if (rc <= 0)
        return rc;
    if (atomic_fetch_add (&self->asks, 1) >= MCP_CLIENT_ASKS_MAX) {
        s_err (err, errlen, "the source sent more than %d requests of its own (ping, "
               "sampling, elicitation, roots) in one conversation: given up",
               MCP_CLIENT_ASKS_MAX);
        json_decref (reply);
        return -1;
    }
    char why [MCP_CLIENT_ERROR_MAX] = "";
    rc = s_post (self, url, reply, 0, NULL, false, why, sizeof why);
    json_decref (reply);
    if (rc != 0) {
        s_err (err, errlen, "answering the source's '%.60s' request: %.300s",
               json_string_value (json_object_get (msg, "method")),
               rc == S_SESSION_LOST? "it lost our session": why);
        return -1;
    }
    return 0;
}

//  What a POST's reader collects.
typedef struct {
    mcp_client_t *client;
    json_int_t    id;               //  the request's id; 0 for a notification
    int           kind;             //  0 undecided, 1 JSON, 2 SSE, 3 other
    char         *json;             //  a JSON body so far
    size_t        json_len, json_cap;
    sse_parser_t *parser;
    json_t       *answer;           //  the whole answer message, once in
    char          error [MCP_CLIENT_ERROR_MAX];
} s_post_t;

//  An SSE event of an answer stream: our answer ends the stream.
static int
s_answer_event (void *arg, const sse_event_t *event)
{
    s_post_t *post = arg;
    if (strcmp (event->name, "message") != 0 || event->data_len == 0)
        return 0;                   //  an empty event primes resumption: nothing to read
    json_error_t jerr;
    json_t *msg = json_loadb (event->data, event->data_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        snprintf (post->error, sizeof post->error,
                  "malformed JSON in an event from the source: %.200s", jerr.text);
        return -1;
    }
    json_t *result = NULL;
    int rc = mcp_client_check_answer (msg, post->id, &result, post->error, sizeof post->error);
    if (rc == 1) {
        //  not ours: a request of the source's own is answered, then read on
        rc = s_answer_ask (post->client, msg, post->client->url,
                           post->error, sizeof post->error);
        json_decref (msg);
        return rc;
    }
    post->answer = msg;
    return rc == 0? 1: -1;
}

static http_body_t
s_answer_body (void *arg, int status, const json_t *headers, const char *data, size_t len)
{
    s_post_t *post = arg;
    if (post->kind == 0) {
        const char *type = json_string_value (json_object_get (headers, "content-type"));
        if (status >= 200 && status < 300 && type
        &&  strncasecmp (type, "text/event-stream", 17) == 0) {
            post->kind = 2;
            post->parser = sse_parser_new (post->client->response_max, s_answer_event, post);
            if (!post->parser) {
                snprintf (post->error, sizeof post->error, "out of memory");
                return HTTP_BODY_REFUSE;
            }
        }
        else
            post->kind = 1;         //  JSON, or an error page kept for the message
    }
    if (post->kind == 2) {
        int rc = sse_parser_feed (post->parser, data, len);
        if (rc == 0)
            return HTTP_BODY_MORE;
        if (rc == 1)
            return HTTP_BODY_DONE;
        if (!post->error [0])
            snprintf (post->error, sizeof post->error, "the source's event stream: %s",
                      sse_parser_error (post->parser));
        return HTTP_BODY_REFUSE;
    }
    if (post->json_len + len + 1 > post->json_cap) {
        size_t cap = post->json_cap? post->json_cap: 4096;
        while (cap < post->json_len + len + 1)
            cap *= 2;
        char *grown = realloc (post->json, cap);
        if (!grown) {
            snprintf (post->error, sizeof post->error, "out of memory");
            return HTTP_BODY_REFUSE;
        }
        post->json = grown;
        post->json_cap = cap;
    }
    memcpy (post->json + post->json_len, data, len);
    post->json_len += len;
    post->json [post->json_len] = '\0';
    return HTTP_BODY_MORE;
}

//  The answer in a JSON body: one message, or a batch holding ours.
static int
s_answer_from_json (s_post_t *post)
{
    json_error_t jerr;
    json_t *msg = json_loadb (post->json? post->json: "", post->json_len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        snprintf (post->error, sizeof post->error,
                  "malformed JSON from the source: %.200s", jerr.text);
        return -1;
    }
    json_t *result = NULL;
    if (json_is_array (msg)) {
        size_t i;
        json_t *item;
        json_array_foreach (msg, i, item) {
            int rc = mcp_client_check_answer (item, post->id, &result,
                                              post->error, sizeof post->error);
            if (rc == 1)
                continue;
            if (rc == 0) {
                post->answer = json_incref (item);
                post->error [0] = '\0';
            }
            json_decref (msg);
            return rc;
        }
        json_decref (msg);
        snprintf (post->error, sizeof post->error, "the source's answer did not hold "
                  "the response to our request");
        return -1;
    }
    int rc = mcp_client_check_answer (msg, post->id, &result, post->error, sizeof post->error);
    if (rc == 1) {
        json_decref (msg);
        snprintf (post->error, sizeof post->error, "the source's answer was not the "
                  "response to our request");
        return -1;
    }
    post->answer = msg;
    return rc;
}

//  Accepts an Mcp-Session-Id: visible ASCII, bounded.
static int
s_take_session (mcp_client_t *self, const json_t *headers, char *err, size_t errlen)
{
    const char *session = json_string_value (json_object_get (headers, "mcp-session-id"));
    if (!session)
        return 0;
    size_t len = strlen (session);
    if (len == 0 || len > MCP_CLIENT_SESSION_MAX) {
        s_err (err, errlen, "the source's Mcp-Session-Id is empty or longer than %d bytes",
               MCP_CLIENT_SESSION_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) session [i];
        if (c < 0x21 || c > 0x7e) {
            s_err (err, errlen, "the source's Mcp-Session-Id has a character outside "
                                "visible ASCII");
            return -1;
        }
    }
    memcpy (self->session, session, len + 1);
    return 0;
}

//  POSTs one message. For a request (id > 0) *answer is the whole answer
//  message (checked: mcp_client_check_answer returned 0 or -1 on it).
//  0; -1 with err; S_SESSION_LOST on 404 with a session.
static int
s_post (mcp_client_t *self, const char *url, json_t *message, json_int_t id,
        json_t **answer, bool initialize, char *err, size_t errlen)
{
    char *body = json_dumps (message, JSON_COMPACT);
    if (!body) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    s_headers_t h;
    s_headers (self, &h, true);
    s_post_t post = { .client = self, .id = id };
    http_request_t req = {
        .method = "POST", .url = url,
        .header_names = h.names, .header_values = h.values, .header_count = h.count,
        .body = body, .body_len = strlen (body),
        .timeout_ms = s_remaining (self),
        .on_body = s_answer_body, .on_body_arg = &post,
        .body_max = self->response_max,
        .cancel = self->stop,
    };
    http_response_t resp = { 0 };
    int rc = -1;
    if (req.timeout_ms <= 0) {
        s_err (err, errlen, "the source did not answer in time");
        goto done;
    }
    if (http_fetch (self->rules, &req, &resp) != 0) {
        if (post.error [0])
            s_err (err, errlen, "%s", post.error);
        else
            s_err (err, errlen, "%s", resp.error);
        goto done;
    }
    if (resp.status == 404 && self->session [0] && !initialize) {
        rc = S_SESSION_LOST;
        goto done;
    }
    if (resp.status == 401 || resp.status == 403) {
        if (resp.status == 401)
            atomic_store (&self->unauthorized, true);
        s_err (err, errlen, "the source refused our credentials (HTTP %d)", resp.status);
        goto done;
    }
    if (resp.status < 200 || resp.status >= 300) {
        s_err (err, errlen, "the source answered HTTP %d", resp.status);
        goto done;
    }
    if (initialize && s_take_session (self, resp.headers, err, errlen))
        goto done;
    if (id == 0 || self->transport == MCP_TRANSPORT_SSE) {
        rc = 0;                     //  a notification; or legacy: the answer comes on the stream
        goto done;
    }
    if (post.kind == 2) {
        if (!post.answer) {
            s_err (err, errlen, "the source's event stream ended without an answer");
            goto done;
        }
    }
    else
    if (resp.status == 202 || post.json_len == 0) {
        s_err (err, errlen, "the source sent no answer (HTTP %d, empty body)", resp.status);
        goto done;
    }
    else {
        const char *type = json_string_value (json_object_get (resp.headers, "content-type"));
        if (!type || strncasecmp (type, "application/json", 16) != 0) {
            s_err (err, errlen, "the source answered with Content-Type '%.60s', not JSON "
                                "or an event stream", type? type: "");
            goto done;
        }
        s_answer_from_json (&post);
        if (!post.answer) {
            s_err (err, errlen, "%s", post.error);
            goto done;
        }
    }
    *answer = post.answer;
    post.answer = NULL;
    rc = 0;
done:
    json_decref (post.answer);
    sse_parser_destroy (&post.parser);
    free (post.json);
    free (body);
    http_response_clear (&resp);
    return rc;
}

//  ---------------------------------------------------------------------
//  The legacy transport's stream

static int
s_stream_event (void *arg, const sse_event_t *event)
{
    mcp_client_t *self = arg;
    if (strcmp (event->name, "endpoint") == 0) {
        //  resolved against the stream's URL; same origin only
        CURLU *base = curl_url (), *target = curl_url ();
        int rc = -1;
        char *a = NULL, *b = NULL, *full = NULL;
        if (!base || !target
        ||  curl_url_set (base, CURLUPART_URL, self->url, 0) != CURLUE_OK
        ||  curl_url_set (target, CURLUPART_URL, self->url, 0) != CURLUE_OK
        ||  event->data_len > HTTP_FETCH_URL_MAX
        ||  strlen (event->data) != event->data_len
        ||  curl_url_set (target, CURLUPART_URL, event->data, 0) != CURLUE_OK) {
            snprintf (self->stream_error, sizeof self->stream_error,
                      "the source's endpoint event is not a usable URL");
            goto endpoint_done;
        }
        static const CURLUPart parts [] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
        for (size_t i = 0; i < 3; i++) {
            curl_url_get (base, parts [i], &a, CURLU_DEFAULT_PORT);
            curl_url_get (target, parts [i], &b, CURLU_DEFAULT_PORT);
            bool same = a && b && strcasecmp (a, b) == 0;
            curl_free (a);
            curl_free (b);
            a = b = NULL;
            if (!same) {
                snprintf (self->stream_error, sizeof self->stream_error,
                          "the source's endpoint event points at another origin");
                goto endpoint_done;
            }
        }
        if (curl_url_get (target, CURLUPART_URL, &full, 0) != CURLUE_OK) {
            snprintf (self->stream_error, sizeof self->stream_error, "out of memory");
            goto endpoint_done;
        }
        pthread_mutex_lock (&self->lock);
        if (!self->endpoint)
            self->endpoint = strdup (full);
        pthread_cond_broadcast (&self->changed);
        pthread_mutex_unlock (&self->lock);
        rc = 0;
    endpoint_done:
        curl_free (full);
        curl_url_cleanup (base);
        curl_url_cleanup (target);
        return rc;
    }
    if (strcmp (event->name, "message") != 0 || event->data_len == 0)
        return 0;
    json_error_t jerr;
    json_t *msg = json_loadb (event->data, event->data_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        snprintf (self->stream_error, sizeof self->stream_error,
                  "malformed JSON in an event from the source: %.200s", jerr.text);
        return -1;
    }
    if (json_object_get (msg, "method")) {
        //  its requests are answered at the endpoint; notifications dropped
        char why [MCP_CLIENT_ERROR_MAX] = "";
        pthread_mutex_lock (&self->lock);
        char *endpoint = self->endpoint? strdup (self->endpoint): NULL;
        pthread_mutex_unlock (&self->lock);
        int rc = endpoint? s_answer_ask (self, msg, endpoint, why, sizeof why): 0;
        free (endpoint);
        json_decref (msg);
        if (rc != 0) {
            pthread_mutex_lock (&self->lock);
            snprintf (self->stream_error, sizeof self->stream_error, "%s", why);
            pthread_mutex_unlock (&self->lock);
        }
        return rc;
    }
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    if (json_array_size (self->pending) >= S_PENDING_MAX) {
        snprintf (self->stream_error, sizeof self->stream_error,
                  "the source sent more than %d answers nobody asked for", S_PENDING_MAX);
        rc = -1;
    }
    else
        json_array_append (self->pending, msg);
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
    json_decref (msg);
    return rc;
}

static http_body_t
s_stream_body (void *arg, int status, const json_t *headers, const char *data, size_t len)
{
    mcp_client_t *self = arg;
    const char *type = json_string_value (json_object_get (headers, "content-type"));
    if (status != 200 || !type || strncasecmp (type, "text/event-stream", 17) != 0) {
        //  the body of a refusal comes first: a 401 still asks for a refresh
        if (status == 401)
            atomic_store (&self->unauthorized, true);
        snprintf (self->stream_error, sizeof self->stream_error,
                  "the source's stream answered HTTP %d with Content-Type '%.60s'",
                  status, type? type: "");
        return HTTP_BODY_REFUSE;
    }
    int rc = sse_parser_feed (self->stream_parser, data, len);
    if (rc == 0)
        return HTTP_BODY_MORE;
    if (!self->stream_error [0])
        snprintf (self->stream_error, sizeof self->stream_error,
                  "the source's event stream: %s", sse_parser_error (self->stream_parser));
    return HTTP_BODY_REFUSE;
}

static void *
s_stream_main (void *arg)
{
    mcp_client_t *self = arg;
    s_headers_t h;
    s_headers (self, &h, false);
    http_request_t req = {
        .method = "GET", .url = self->url,
        .header_names = h.names, .header_values = h.values, .header_count = h.count,
        .timeout_ms = s_remaining (self),
        .on_body = s_stream_body, .on_body_arg = self,
        .body_max = MCP_CLIENT_STREAM_MAX,
        .cancel = &self->cancel,
    };
    http_response_t resp = { 0 };
    int rc = req.timeout_ms > 0? http_fetch (self->rules, &req, &resp): -1;
    pthread_mutex_lock (&self->lock);
    if (!self->stream_error [0]) {
        if (rc != 0)
            snprintf (self->stream_error, sizeof self->stream_error, "the source's event "
                      "stream: %.400s", req.timeout_ms > 0? resp.error: "no time left");
        else
        if (resp.status != 200) {
            if (resp.status == 401)
                atomic_store (&self->unauthorized, true);
            snprintf (self->stream_error, sizeof self->stream_error,
                      "the source's stream answered HTTP %d", resp.status);
        }
        else
            snprintf (self->stream_error, sizeof self->stream_error,
                      "the source closed its event stream");
    }
    self->stream_ended = true;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
    http_response_clear (&resp);
    return NULL;
}

//  Waits until pred holds, the stream ended or the deadline passed
//  (called and returns with the lock held). true when pred holds.
static bool
s_wait (mcp_client_t *self, bool (*pred) (mcp_client_t *, void *), void *arg)
{
    while (!pred (self, arg)) {
        if (self->stream_ended || zclock_mono () >= self->deadline
        || (self->stop && atomic_load (self->stop)))
            return false;
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        int64_t wait = self->deadline - zclock_mono ();
        if (wait > 200)
            wait = 200;
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait (&self->changed, &self->lock, &until);
    }
    return true;
}

static bool
s_has_endpoint (mcp_client_t *self, void *arg)
{
    (void) arg;
    return self->endpoint != NULL;
}

//  The pending answer with this id, taken out of the list, or NULL.
static json_t *
s_take_pending (mcp_client_t *self, json_int_t id)
{
    size_t i;
    json_t *msg;
    json_array_foreach (self->pending, i, msg) {
        json_t *mid = json_object_get (msg, "id");
        if (json_is_integer (mid) && json_integer_value (mid) == id) {
            json_incref (msg);
            json_array_remove (self->pending, i);
            return msg;
        }
    }
    return NULL;
}

typedef struct {
    json_int_t id;
    json_t    *answer;
} s_wanted_t;

static bool
s_has_answer (mcp_client_t *self, void *arg)
{
    s_wanted_t *wanted = arg;
    if (!wanted->answer)
        wanted->answer = s_take_pending (self, wanted->id);
    return wanted->answer != NULL;
}

static int
s_stream_open (mcp_client_t *self, char *err, size_t errlen)
{
    self->stream_parser = sse_parser_new (self->response_max, s_stream_event, self);
    if (!self->stream_parser) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    if (pthread_create (&self->thread, NULL, s_stream_main, self) != 0) {
        s_err (err, errlen, "cannot start the stream reader");
        return -1;
    }
    self->thread_started = true;
    pthread_mutex_lock (&self->lock);
    bool ok = s_wait (self, s_has_endpoint, NULL);
    if (!ok)
        s_err (err, errlen, "%s", self->stream_error [0]? self->stream_error
               : "the source sent no endpoint event in time");
    pthread_mutex_unlock (&self->lock);
    return ok? 0: -1;
}

//  ---------------------------------------------------------------------
//  Requests

static int
s_send (mcp_client_t *self, const char *method, json_t *params, json_t **result,
        bool initialize, char *err, size_t errlen)
{
    json_int_t id = result? self->next_id++: 0;
    json_t *message = json_pack ("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (!message) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    if (id)
        json_object_set_new (message, "id", json_integer (id));
    if (params)
        json_object_set (message, "params", params);
    json_t *answer = NULL;
    int rc;
    if (self->transport == MCP_TRANSPORT_SSE) {
        pthread_mutex_lock (&self->lock);
        char *endpoint = self->endpoint? strdup (self->endpoint): NULL;
        pthread_mutex_unlock (&self->lock);
        if (!endpoint) {
            s_err (err, errlen, "not connected");
            json_decref (message);
            return -1;
        }
        rc = s_post (self, endpoint, message, id, NULL, initialize, err, errlen);
        free (endpoint);
        if (rc == 0 && id) {
            s_wanted_t wanted = { .id = id };
            pthread_mutex_lock (&self->lock);
            if (!s_wait (self, s_has_answer, &wanted)) {
                s_err (err, errlen, "%s", self->stream_ended? self->stream_error
                       : "the source did not answer in time");
                rc = -1;
            }
            pthread_mutex_unlock (&self->lock);
            answer = wanted.answer;
        }
    }
    else
        rc = s_post (self, self->url, message, id, id? &answer: NULL, initialize,
                     err, errlen);
    json_decref (message);
    if (rc != 0 || !id) {
        json_decref (answer);
        return rc;
    }
    json_t *res = NULL;
    rc = mcp_client_check_answer (answer, id, &res, err, errlen);
    if (rc == 0)
        *result = json_incref (res);
    json_decref (answer);
    return rc == 0? 0: -1;
}

static int
s_initialize (mcp_client_t *self, char *err, size_t errlen)
{
    self->protocol [0] = '\0';
    self->session [0] = '\0';
    json_t *params = json_pack ("{s:s, s:{}, s:{s:s, s:s}}",
        "protocolVersion", MCP_CLIENT_VERSION_LATEST,
        "capabilities",
        "clientInfo", "name", "mcpbox", "version", MCPBOX_VERSION);
    json_t *result = NULL;
    int rc = s_send (self, "initialize", params, &result, true, err, errlen);
    json_decref (params);
    if (rc != 0)
        return -1;
    const char *version = json_string_value (json_object_get (result, "protocolVersion"));
    static const char *known [] = MCP_CLIENT_VERSIONS;
    bool ok = false;
    for (size_t i = 0; version && known [i]; i++)
        ok = ok || strcmp (version, known [i]) == 0;
    if (!ok) {
        s_err (err, errlen, "the source speaks MCP version '%.40s', which MCPbox does "
                            "not (it speaks %s to 2024-11-05)",
               version? version: "(none)", MCP_CLIENT_VERSION_LATEST);
        json_decref (result);
        return -1;
    }
    snprintf (self->protocol, sizeof self->protocol, "%s", version);
    json_t *info = json_object_get (result, "serverInfo");
    json_decref (self->server_info);
    self->server_info = json_is_object (info)? json_incref (info): NULL;
    json_decref (result);
    return s_send (self, "notifications/initialized", NULL, NULL, false, err, errlen);
}

int
mcp_client_connect (mcp_client_t *self, char *err, size_t errlen)
{
    if (self->transport == MCP_TRANSPORT_SSE && !self->thread_started
    &&  s_stream_open (self, err, errlen))
        return -1;
    return s_initialize (self, err, errlen);
}

bool
mcp_client_unauthorized (mcp_client_t *self)
{
    return atomic_load (&self->unauthorized);
}

const char *
mcp_client_protocol (mcp_client_t *self)
{
    return self->protocol [0]? self->protocol: NULL;
}

json_t *
mcp_client_server_info (mcp_client_t *self)
{
    return self->server_info;
}

int
mcp_client_request (mcp_client_t *self, const char *method, json_t *params,
                    json_t **result, char *err, size_t errlen)
{
    int rc = s_send (self, method, params, result, false, err, errlen);
    if (rc == S_SESSION_LOST) {
        //  the source forgot the session: once more, on a fresh one
        if (s_initialize (self, err, errlen))
            return -1;
        rc = s_send (self, method, params, result, false, err, errlen);
        if (rc == S_SESSION_LOST)
            s_err (err, errlen, "the source lost our session again");
    }
    return rc == 0? 0: -1;
}

int
mcp_client_ping (mcp_client_t *self, char *err, size_t errlen)
{
    json_t *result = NULL;
    int rc = mcp_client_request (self, "ping", NULL, &result, err, errlen);
    json_decref (result);
    return rc;
}

//  One tool of a listing, checked and reduced to what MCPbox keeps.
static json_t *
s_tool (json_t *tool, char *err, size_t errlen)
{
    json_t *name = json_object_get (tool, "name");
    json_t *schema = json_object_get (tool, "inputSchema");
    json_t *description = json_object_get (tool, "description");
    json_t *title = json_object_get (tool, "title");
    json_t *annotations = json_object_get (tool, "annotations");
    if (!json_is_object (tool) || !json_is_string (name)) {
        s_err (err, errlen, "the source listed a tool without a name");
        return NULL;
    }
    const char *text = json_string_value (name);
    size_t len = json_string_length (name);
    if (len == 0 || len > MCP_CLIENT_TOOL_NAME_MAX || strlen (text) != len) {
        s_err (err, errlen, "the source listed a tool whose name is empty or longer "
                            "than %d bytes", MCP_CLIENT_TOOL_NAME_MAX);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c < 0x20 || c == 0x7f) {
            s_err (err, errlen, "the source listed a tool whose name has a control character");
            return NULL;
        }
    }
    if (!json_is_object (schema)) {
        s_err (err, errlen, "the source's tool '%.100s' has no inputSchema object", text);
        return NULL;
    }
    if (description && !json_is_string (description)) {
        s_err (err, errlen, "the source's tool '%.100s' has a description that is not "
                            "a string", text);
        return NULL;
    }
    json_t *out = json_pack ("{s:O, s:s, s:O}", "name", name,
                             "description", description? json_string_value (description): "",
                             "input_schema", schema);
    if (out && json_is_string (title))
        json_object_set (out, "title", title);
    if (out && json_is_object (annotations))
        json_object_set (out, "annotations", annotations);
    if (!out)
        s_err (err, errlen, "out of memory");
    return out;
}

int
mcp_client_tools_page (json_t *result, json_t *all, json_t *seen, const char **next_p,
                       char *err, size_t errlen)
{
    *next_p = NULL;
    json_t *list = json_object_get (result, "tools");
    json_t *next = json_object_get (result, "nextCursor");
    if (!json_is_array (list)) {
        s_err (err, errlen, "the source's tools/list answer has no tools array");
        return -1;
    }
    size_t i;
    json_t *tool;
    json_array_foreach (list, i, tool) {
        if (json_array_size (all) >= MCP_CLIENT_TOOLS_MAX) {
            s_err (err, errlen, "the source lists more than %d tools", MCP_CLIENT_TOOLS_MAX);
            return -1;
        }
        json_t *kept = s_tool (tool, err, errlen);
        if (!kept)
            return -1;
        const char *name = json_string_value (json_object_get (kept, "name"));
        if (json_object_get (seen, name)) {
            s_err (err, errlen, "the source lists the tool '%.100s' twice", name);
            json_decref (kept);
            return -1;
        }
        json_object_set_new (seen, name, json_true ());
        json_array_append_new (all, kept);
    }
    if (json_is_string (next) && json_string_length (next) > 0) {
        if (json_string_length (next) > MCP_CLIENT_CURSOR_MAX) {
            s_err (err, errlen, "the source's nextCursor is longer than %d bytes",
                   MCP_CLIENT_CURSOR_MAX);
            return -1;
        }
        *next_p = json_string_value (next);
    }
    return 0;
}

int
mcp_client_list_tools (mcp_client_t *self, json_t **tools, char *err, size_t errlen)
{
    json_t *all = json_array ();
    json_t *seen = json_object ();
    char *cursor = NULL;
    int rc = -1;
    for (int page = 0; ; page++) {
        if (page == MCP_CLIENT_PAGES_MAX) {
            s_err (err, errlen, "the source's tool list has more than %d pages",
                   MCP_CLIENT_PAGES_MAX);
            goto done;
        }
        json_t *params = cursor? json_pack ("{s:s}", "cursor", cursor): NULL;
        json_t *result = NULL;
        int step = mcp_client_request (self, "tools/list", params, &result, err, errlen);
        json_decref (params);
        if (step)
            goto done;
        const char *next = NULL;
        if (mcp_client_tools_page (result, all, seen, &next, err, errlen)) {
            json_decref (result);
            goto done;
        }
        free (cursor);
        cursor = next? strdup (next): NULL;
        json_decref (result);
        if (!cursor)
            break;
    }
    *tools = all;
    all = NULL;
    rc = 0;
done:
    free (cursor);
    json_decref (all);
    json_decref (seen);
    return rc;
}

int
mcp_client_call_tool (mcp_client_t *self, const char *name, json_t *arguments,
                      json_t **result, char *err, size_t errlen)
{
    json_t *params = json_pack ("{s:s, s:o}", "name", name, "arguments",
                                arguments? json_incref (arguments): json_object ());
    json_t *res = NULL;
    int rc = mcp_client_request (self, "tools/call", params, &res, err, errlen);
    json_decref (params);
    if (rc)
        return -1;
    if (!json_is_array (json_object_get (res, "content"))) {
        s_err (err, errlen, "the source's tools/call answer has no content array");
        json_decref (res);
        return -1;
    }
    *result = res;
    return 0;
}

void
mcp_client_destroy (mcp_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcp_client_t *self = *self_p;
    if (self->transport == MCP_TRANSPORT_STREAMABLE_HTTP && self->session [0]) {
        //  end the session, briefly: nothing waits on the answer
        s_headers_t h;
        s_headers (self, &h, false);
        http_request_t req = {
            .method = "DELETE", .url = self->url,
            .header_names = h.names, .header_values = h.values, .header_count = h.count,
            .timeout_ms = S_DELETE_MS, .body_max = 4096,
        };
        http_response_t resp = { 0 };
        http_fetch (self->rules, &req, &resp);
        http_response_clear (&resp);
    }
    if (self->thread_started) {
        atomic_store (&self->cancel, true);
        pthread_join (self->thread, NULL);
    }
    sse_parser_destroy (&self->stream_parser);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->changed);
    json_decref (self->pending);
    json_decref (self->server_info);
    free (self->endpoint);
    free (self->url);
    if (self->auth_value)
        explicit_bzero (self->auth_value, strlen (self->auth_value));
    free (self->auth_value);
    free (self->auth_name);
    free (self);
    *self_p = NULL;
}

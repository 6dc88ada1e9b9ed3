/*  source_job.c — see source_job.h.

    Each job is a joinable thread holding its spec; when it ends it puts
    its result on the done list and writes the eventfd the executor's loop
    polls. The pool keeps every job (running or finished but not yet
    joined) in one list, so destroy can cancel and join them all.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <czmq.h>
#include "oauth_client.h"
#include "oauth_discover.h"
#include "source_job.h"
#include "source_oauth.h"

//  ---------------------------------------------------------------------
//  The request

static int
s_fail (bus_error_t *code, char *err, size_t errlen, const char *message)
{
    *code = BUS_ERR_BAD_REQUEST;
    snprintf (err, errlen, "%s", message);
    return -1;
}

//  A token (RFC 9110) of 1..64 bytes: a header name.
static bool
s_header_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name [i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || (c && strchr ("!#$%&'*+-.^_`|~", c));
        if (!ok)
            return false;
    }
    static const char *framing [] = { "host", "content-length", "transfer-encoding",
        "connection", "content-type", "accept", "mcp-session-id", "mcp-protocol-version",
        "cookie", NULL };
    for (size_t i = 0; framing [i]; i++)
        if (strcasecmp (name, framing [i]) == 0)
            return false;
    return true;
}

static const char *
s_str (json_t *request, const char *key)
{
    return json_string_value (json_object_get (request, key));
}

//  Visible ASCII of 1..max bytes (a state, a code): NULL when absent.
static int
s_visible_field (json_t *request, const char *key, size_t max, char **out)
{
    json_t *value = json_object_get (request, key);
    *out = NULL;
    if (!value)
        return 0;
    const char *text = json_string_value (value);
    size_t len = json_string_length (value);
    if (!text || len == 0 || len > max || strlen (text) != len)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x21 || (unsigned char) text [i] > 0x7e)
            return -1;
    *out = strdup (text);
    return *out ? 0 : -1;
}

//  The fields of the OAuth actions and of an oauth source's job.
static int
s_oauth_fields (json_t *request, source_spec_t *spec, bus_error_t *code,
                char *err, size_t errlen)
{
    bool begin = strcmp (spec->action, "oauth_begin") == 0;
    bool exchange = strcmp (spec->action, "oauth_exchange") == 0;
    if (!spec->oauth && !begin && !exchange)
        return 0;
    const char *source_id = s_str (request, "source_id");
    const char *server_id = s_str (request, "server_id");
    if (!source_id || !*source_id || strlen (source_id) >= sizeof spec->source_id
    ||  !server_id || !*server_id || strlen (server_id) >= sizeof spec->server_id)
        return s_fail (code, err, errlen, "an OAuth source's job needs its source_id and "
                       "server_id");
    snprintf (spec->source_id, sizeof spec->source_id, "%s", source_id);
    snprintf (spec->server_id, sizeof spec->server_id, "%s", server_id);
    if (begin) {
        const char *metadata = s_str (request, "client_metadata_url");
        if (s_visible_field (request, "redirect_uri", SOURCE_URL_MAX, &spec->redirect_uri)
        ||  !spec->redirect_uri
        ||  (strncmp (spec->redirect_uri, "http://", 7) != 0
             && strncmp (spec->redirect_uri, "https://", 8) != 0))
            return s_fail (code, err, errlen, "redirect_uri must be the gateway's http(s) "
                           "callback URL");
        if (metadata && *metadata
        &&  (s_visible_field (request, "client_metadata_url", SOURCE_URL_MAX,
                              &spec->client_metadata_url)
             || strncmp (metadata, "https://", 8) != 0))
            return s_fail (code, err, errlen, "client_metadata_url must be an https URL");
        json_t *scope = json_object_get (request, "scope");
        if (scope && (!json_is_string (scope) || json_string_length (scope) > OAUTH_SCOPE_BYTES
                      || !(spec->scope = strdup (json_string_value (scope)))))
            return s_fail (code, err, errlen, "scope must be a string of at most 1024 bytes");
    }
    if (exchange) {
        char named [65];
        if (s_visible_field (request, "state", OAUTH_STATE_BYTES - 1, &spec->state)
        ||  !spec->state || oauth_state_source (spec->state, named, sizeof named) != 0
        ||  strcmp (named, spec->source_id) != 0)
            return s_fail (code, err, errlen, "state must be the one MCPbox sent for this "
                           "source");
        if (s_visible_field (request, "code", 4096, &spec->code) || !spec->code)
            return s_fail (code, err, errlen, "code must be the authorization code (1 to "
                           "4096 visible characters)");
        if (s_visible_field (request, "iss", SOURCE_URL_MAX, &spec->iss))
            return s_fail (code, err, errlen, "iss must be the authorization server's "
                           "issuer (1 to 2048 visible characters)");
    }
    return 0;
}

int
source_spec_from_request (json_t *request, source_spec_t *spec,
                          bus_error_t *code, char *err, size_t errlen)
{
    memset (spec, 0, sizeof *spec);
    spec->timeout_ms = SOURCE_TIMEOUT_DEFAULT;
    if (!json_is_object (request))
        return s_fail (code, err, errlen, "request is not a map");
    const char *action = s_str (request, "action");
    static const char *actions [] = { "discover", "call", "ping", "oauth_discover",
                                      "oauth_begin", "oauth_exchange", NULL };
    size_t a = 0;
    while (action && actions [a] && strcmp (action, actions [a]) != 0)
        a++;
    if (!action || !actions [a])
        return s_fail (code, err, errlen, "action must be discover, call, ping, "
                       "oauth_discover, oauth_begin or oauth_exchange");
    snprintf (spec->action, sizeof spec->action, "%s", action);

    const char *url = s_str (request, "url");
    if (!url || !*url || strlen (url) > SOURCE_URL_MAX
    ||  (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0))
        return s_fail (code, err, errlen, "url must be an http(s) URL of at most 2048 bytes");

    const char *transport = s_str (request, "transport");
    if (!transport || strcmp (transport, "streamable_http") == 0)
        spec->transport = MCP_TRANSPORT_STREAMABLE_HTTP;
    else
    if (strcmp (transport, "sse") == 0)
        spec->transport = MCP_TRANSPORT_SSE;
    else
        return s_fail (code, err, errlen, "transport must be streamable_http or sse");

    json_t *timeout = json_object_get (request, "timeout_ms");
    if (timeout) {
        if (!json_is_integer (timeout) || json_integer_value (timeout) < SOURCE_TIMEOUT_MIN
        ||  json_integer_value (timeout) > SOURCE_TIMEOUT_MAX)
            return s_fail (code, err, errlen, "timeout_ms must be 1000..300000");
        spec->timeout_ms = (int) json_integer_value (timeout);
    }

    const char *policy = s_str (request, "network_policy");
    if (!policy || strcmp (policy, "allowlist") == 0)
        spec->policy = NET_POLICY_ALLOWLIST;
    else
    if (strcmp (policy, "allow_all_public") == 0)
        spec->policy = NET_POLICY_ALLOW_ALL_PUBLIC;
    else
        return s_fail (code, err, errlen, "network_policy must be allowlist or allow_all_public");

    spec->redactor = redactor_new ();
    spec->url = strdup (url);
    if (!spec->redactor || !spec->url)
        goto oom;
    json_t *secrets = json_object_get (request, "secrets");
    if (secrets && !json_is_object (secrets)) {
        source_spec_clear (spec);
        return s_fail (code, err, errlen, "secrets must be a map");
    }
    const char *key;
    json_t *value;
    json_object_foreach (secrets, key, value) {
        if (json_is_string (value) && json_string_length (value) > 0)
            redactor_add (spec->redactor, json_string_value (value), json_string_length (value));
    }

    json_t *hosts = json_object_get (request, "allowed_hosts");
    if (hosts && (!json_is_array (hosts) || json_array_size (hosts) > SOURCE_HOSTS_MAX)) {
        source_spec_clear (spec);
        return s_fail (code, err, errlen, "allowed_hosts must be a list of at most 256 hosts");
    }
    if (json_array_size (hosts)) {
        spec->hosts = calloc (json_array_size (hosts), sizeof (char *));
        if (!spec->hosts)
            goto oom;
        size_t i;
        json_t *host;
        json_array_foreach (hosts, i, host) {
            if (!json_is_string (host) || json_string_length (host) > 300) {
                source_spec_clear (spec);
                return s_fail (code, err, errlen, "allowed_hosts must hold host names");
            }
            if (!(spec->hosts [spec->host_count++] = strdup (json_string_value (host))))
                goto oom;
        }
    }

    const char *auth = s_str (request, "auth_type");
    if (auth && strcmp (auth, "oauth") == 0)
        spec->oauth = true;         //  the token comes from credentials as the job runs
    else
    if (auth && strcmp (auth, "none") != 0) {
        const char *secret_name = s_str (request, "auth_secret_name");
        const char *header = s_str (request, "auth_header_name");
        if (strcmp (auth, "bearer") != 0 && strcmp (auth, "header") != 0) {
            source_spec_clear (spec);
            return s_fail (code, err, errlen, "auth_type must be none, bearer, header or oauth");
        }
        if (!secret_name || !*secret_name) {
            source_spec_clear (spec);
            return s_fail (code, err, errlen, "auth_secret_name is required for bearer "
                                              "and header authentication");
        }
        if (strcmp (auth, "header") == 0 && (!header || !s_header_name_ok (header))) {
            source_spec_clear (spec);
            return s_fail (code, err, errlen, "auth_header_name must be a header name "
                           "(a token of at most 64 bytes, not a framing or MCP header)");
        }
        json_t *secret = json_object_get (secrets, secret_name);
        if (!json_is_string (secret) || json_string_length (secret) == 0) {
            source_spec_clear (spec);
            *code = BUS_ERR_BAD_REQUEST;
            snprintf (err, errlen, "the server secret '%.64s' that holds the source's "
                      "credential has no value (set it in the admin UI)", secret_name);
            return -1;
        }
        const char *v = json_string_value (secret);
        for (const char *p = v; *p; p++) {
            if (((unsigned char) *p < 0x20 && *p != '\t') || *p == 0x7f) {
                source_spec_clear (spec);
                return s_fail (code, err, errlen, "the credential has a control character");
            }
        }
        if (strcmp (auth, "bearer") == 0) {
            spec->auth_name = strdup ("Authorization");
            size_t len = strlen (v) + 8;
            spec->auth_value = malloc (len);
            if (spec->auth_value)
                snprintf (spec->auth_value, len, "Bearer %s", v);
        }
        else {
            spec->auth_name = strdup (header);
            spec->auth_value = strdup (v);
        }
        if (!spec->auth_name || !spec->auth_value)
            goto oom;
    }

    if (s_oauth_fields (request, spec, code, err, errlen) != 0) {
        source_spec_clear (spec);
        return -1;
    }

    if (strcmp (spec->action, "call") == 0) {
        const char *tool = s_str (request, "tool");
        json_t *arguments = json_object_get (request, "arguments");
        if (!tool || !*tool || strlen (tool) > MCP_CLIENT_TOOL_NAME_MAX) {
            source_spec_clear (spec);
            return s_fail (code, err, errlen, "tool must name the source's tool");
        }
        if (arguments && !json_is_object (arguments)) {
            source_spec_clear (spec);
            return s_fail (code, err, errlen, "arguments must be a map");
        }
        spec->tool = strdup (tool);
        spec->arguments = arguments? json_incref (arguments): json_object ();
        if (!spec->tool || !spec->arguments)
            goto oom;
    }
    return 0;
oom:
    source_spec_clear (spec);
    *code = BUS_ERR_INTERNAL;
    snprintf (err, errlen, "out of memory");
    return -1;
}

void
source_spec_clear (source_spec_t *spec)
{
    free (spec->url);
    free (spec->auth_name);
    if (spec->auth_value)
        explicit_bzero (spec->auth_value, strlen (spec->auth_value));
    free (spec->auth_value);
    free (spec->tool);
    json_decref (spec->arguments);
    free (spec->redirect_uri);
    free (spec->client_metadata_url);
    free (spec->scope);
    free (spec->state);
    free (spec->iss);
    if (spec->code)
        explicit_bzero (spec->code, strlen (spec->code));
    free (spec->code);
    free (spec->bus_endpoint);
    for (size_t i = 0; i < spec->host_count; i++)
        free (spec->hosts [i]);
    free (spec->hosts);
    redactor_destroy (&spec->redactor);
    memset (spec, 0, sizeof *spec);
}

//  ---------------------------------------------------------------------
//  Running one

static json_t *
s_redacted (source_spec_t *spec, json_t *value)
{
    if (!redactor_active (spec->redactor))
        return json_incref (value);
    return redactor_json (spec->redactor, value, NULL);
}

static json_t *
s_failure (source_spec_t *spec, const char *type, const char *message)
{
    size_t len = 0;
    char *clean = redactor_text (spec->redactor, message, strlen (message), false, &len);
    json_t *result = json_pack ("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                                "type", type, "message", clean? clean: "error");
    free (clean);
    return result;
}

//  One conversation: connect, the action's request, the session ended.
//  *unauthorized: the source answered 401 (an OAuth token to refresh).
static json_t *
s_converse (source_spec_t *spec, const mcp_client_config_t *config, bool *unauthorized)
{
    char err [MCP_CLIENT_ERROR_MAX] = "";
    json_t *result = NULL;
    mcp_client_t *client = mcp_client_new (config);
    if (!client)
        result = s_failure (spec, "SourceError", "out of memory");
    else
    if (mcp_client_connect (client, err, sizeof err) != 0)
        result = s_failure (spec, "SourceError", err);
    else
    if (strcmp (spec->action, "discover") == 0) {
        json_t *tools = NULL;
        if (mcp_client_list_tools (client, &tools, err, sizeof err) != 0)
            result = s_failure (spec, "SourceError", err);
        else {
            result = json_pack ("{s:b, s:o}", "success", 1, "tools",
                                s_redacted (spec, tools));
            json_decref (tools);
        }
    }
    else
    if (strcmp (spec->action, "ping") == 0) {
        if (mcp_client_ping (client, err, sizeof err) != 0)
            result = s_failure (spec, "SourceError", err);
        else
            result = json_pack ("{s:b}", "success", 1);
    }
    else {
        json_t *answer = NULL;
        if (mcp_client_call_tool (client, spec->tool, spec->arguments, &answer,
                                  err, sizeof err) != 0)
            result = s_failure (spec, "SourceError", err);
        else {
            result = json_pack ("{s:b, s:o}", "success", 1, "result",
                                s_redacted (spec, answer));
            json_decref (answer);
        }
        if (result)
            json_object_set_new (result, "args_redacted", s_redacted (spec, spec->arguments));
    }
    *unauthorized = client && mcp_client_unauthorized (client);
    if (result && client && mcp_client_protocol (client))
        json_object_set_new (result, "protocol_version",
                             json_string (mcp_client_protocol (client)));
    if (result && client && mcp_client_server_info (client))
        json_object_set_new (result, "server_info",
                             s_redacted (spec, mcp_client_server_info (client)));
    mcp_client_destroy (&client);
    return result;
}

//  An oauth source's header: the bearer from credentials (source_oauth.h).
static int
s_oauth_header (source_spec_t *spec, const net_rules_t *rules, int64_t deadline,
                const atomic_bool *cancel, bool force, char *err, size_t errlen)
{
    if (spec->auth_value)
        explicit_bzero (spec->auth_value, strlen (spec->auth_value));
    free (spec->auth_value);
    spec->auth_value = source_oauth_bearer (spec, rules, deadline, cancel, force,
                                            err, errlen);
    if (!spec->auth_name)
        spec->auth_name = strdup ("Authorization");
    return spec->auth_value && spec->auth_name ? 0 : -1;
}

json_t *
source_spec_run (source_spec_t *spec, const atomic_bool *cancel)
{
    int64_t started = zclock_mono ();
    int64_t deadline = started + spec->timeout_ms;
    net_rules_t rules = {
        .hosts = (const char *const *) spec->hosts,
        .count = spec->host_count,
        .policy = spec->policy,
    };
    char err [MCP_CLIENT_ERROR_MAX] = "";
    json_t *result = NULL;
    if (strcmp (spec->action, "oauth_discover") == 0) {
        json_t *found = oauth_discover (spec->url, spec->transport, &rules, deadline,
                                        err, sizeof err);
        result = found ? json_pack ("{s:b, s:o}", "success", 1, "oauth", found)
                       : s_failure (spec, "SourceError", err);
    }
    else
    if (strcmp (spec->action, "oauth_begin") == 0)
        result = source_oauth_begin (spec, &rules, deadline, cancel);
    else
    if (strcmp (spec->action, "oauth_exchange") == 0)
        result = source_oauth_exchange (spec, &rules, deadline, cancel);
    else
    if (spec->oauth && s_oauth_header (spec, &rules, deadline, cancel, false,
                                       err, sizeof err) != 0)
        result = s_failure (spec, "SourceError", err);
    else {
        bool unauthorized = false;
        mcp_client_config_t config = {
            .url = spec->url, .transport = spec->transport,
            .auth_name = spec->auth_name, .auth_value = spec->auth_value,
            .rules = &rules, .deadline_ms = deadline, .cancel = cancel,
        };
        result = s_converse (spec, &config, &unauthorized);
        //  a 401 with a token that looked valid: refreshed once, and again
        if (spec->oauth && unauthorized) {
            json_decref (result);
            if (s_oauth_header (spec, &rules, deadline, cancel, true, err, sizeof err) != 0)
                result = s_failure (spec, "SourceError", err);
            else {
                config.auth_value = spec->auth_value;
                result = s_converse (spec, &config, &unauthorized);
            }
        }
    }
    if (result)
        json_object_set_new (result, "duration_ms",
                             json_integer (zclock_mono () - started));
    return result;
}

//  ---------------------------------------------------------------------
//  The pool

typedef struct _s_job_t s_job_t;
struct _s_job_t {
    source_pool_t  *pool;
    source_spec_t   spec;
    void           *token;
    pthread_t       thread;
    atomic_bool     cancel;
    json_t         *result;
    bool            done;           //  result is set; joinable now
    bool            taken;          //  handed to the caller
    s_job_t        *next;
};

struct _source_pool_t {
    char           *bus_endpoint;   //  copied into each job (credentials, OAuth)
    pthread_mutex_t lock;
    int             event_fd;
    s_job_t        *jobs;
};

source_pool_t *
source_pool_new (const char *bus_endpoint)
{
    source_pool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->bus_endpoint = bus_endpoint ? strdup (bus_endpoint) : NULL;
    self->event_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->event_fd < 0) {
        free (self->bus_endpoint);
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

static void *
s_job_main (void *arg)
{
    s_job_t *job = arg;
    json_t *result = source_spec_run (&job->spec, &job->cancel);
    if (!result)
        result = json_pack ("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                            "type", "SourceError", "message", "out of memory");
    if (atomic_load (&job->cancel) && result) {
        json_decref (result);
        result = json_pack ("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                            "type", "Cancelled", "message", "cancelled");
    }
    source_pool_t *pool = job->pool;
    pthread_mutex_lock (&pool->lock);
    job->result = result;
    job->done = true;
    pthread_mutex_unlock (&pool->lock);
    uint64_t one = 1;
    if (write (pool->event_fd, &one, sizeof one) < 0) {
        //  the counter is full: the loop wakes anyway
    }
    return NULL;
}

int
source_pool_start (source_pool_t *self, source_spec_t *spec, void *token,
                   char *err, size_t errlen)
{
    s_job_t *job = calloc (1, sizeof *job);
    if (!job) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    job->pool = self;
    job->spec = *spec;
    memset (spec, 0, sizeof *spec);
    if (self->bus_endpoint && !job->spec.bus_endpoint)
        job->spec.bus_endpoint = strdup (self->bus_endpoint);
    job->token = token;
    atomic_init (&job->cancel, false);
    pthread_mutex_lock (&self->lock);
    if (pthread_create (&job->thread, NULL, s_job_main, job) != 0) {
        pthread_mutex_unlock (&self->lock);
        *spec = job->spec;
        free (job);
        snprintf (err, errlen, "cannot start a thread for the source");
        return -1;
    }
    job->next = self->jobs;
    self->jobs = job;
    pthread_mutex_unlock (&self->lock);
    return 0;
}

int
source_pool_cancel (source_pool_t *self, void *token)
{
    int rc = -1;
    pthread_mutex_lock (&self->lock);
    for (s_job_t *job = self->jobs; job; job = job->next) {
        if (job->token == token && !job->taken) {
            atomic_store (&job->cancel, true);
            rc = 0;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
source_pool_poll_item (source_pool_t *self, zmq_pollitem_t *item)
{
    *item = (zmq_pollitem_t) { NULL, self->event_fd, ZMQ_POLLIN, 0 };
    return 1;
}

bool
source_pool_take_done (source_pool_t *self, void **token_p, json_t **result_p)
{
    uint64_t count;
    if (read (self->event_fd, &count, sizeof count) < 0) {
        //  nothing new signalled; finished jobs are still looked for
    }
    s_job_t *found = NULL;
    pthread_mutex_lock (&self->lock);
    for (s_job_t **link = &self->jobs; *link; link = &(*link)->next) {
        if ((*link)->done) {
            found = *link;
            *link = found->next;
            break;
        }
    }
    pthread_mutex_unlock (&self->lock);
    if (!found)
        return false;
    pthread_join (found->thread, NULL);
    *token_p = found->token;
    *result_p = found->result;
    source_spec_clear (&found->spec);
    free (found);
    //  more may be done: let the loop look again
    uint64_t one = 1;
    if (write (self->event_fd, &one, sizeof one) < 0) {
        //  full counter: already readable
    }
    return true;
}

void
source_pool_destroy (source_pool_t **self_p, source_drop_fn *drop, void *arg)
{
    if (!self_p || !*self_p)
        return;
    source_pool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    for (s_job_t *job = self->jobs; job; job = job->next)
        atomic_store (&job->cancel, true);
    pthread_mutex_unlock (&self->lock);
    s_job_t *job = self->jobs;
    while (job) {
        s_job_t *next = job->next;
        pthread_join (job->thread, NULL);
        if (drop)
            drop (job->token, arg);
        json_decref (job->result);
        source_spec_clear (&job->spec);
        free (job);
        job = next;
    }
    close (self->event_fd);
    free (self->bus_endpoint);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

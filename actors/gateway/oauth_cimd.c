/*  oauth_cimd.c — Client ID Metadata Documents (oauth.h), and the OAuth
    side's process state.

    A client_id that is an https URL names a JSON document its owner
    serves. It is fetched on one of OAUTH_CIMD_IN_FLIGHT threads with the
    executor's client (actors/executor/http_fetch.h), so the SSRF rules of
    tool code apply: every address the host resolves to must be public (no
    loopback, private, link-local or metadata address), the connection is
    pinned to the checked address, at most OAUTH_CIMD_MAX_BYTES in
    OAUTH_CIMD_TIMEOUT_MS. The document must be a JSON object whose
    client_id equals the URL exactly (a redirect to elsewhere is refused),
    with client_name and redirect_uris (checked as for registration), and
    token_endpoint_auth_method "none" if it says one.

    A finished fetch is queued and the lws thread woken (http_server_wake);
    oauth_drain hands it to its request, if that is still there, as a
    reply body {ok, client_name, redirect_uris} or {ok: false, error}.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_fetch.h"
#include "http_server.h"
#include "log.h"
#include "oauth.h"

#define S_TICKET_BIT (1ull << 62)       //  beside the bridge's small tickets

typedef struct {
    bool        busy;           //  a thread runs (or ran and is not joined)
    bool        done;           //  its result is waiting
    pthread_t   thread;
    gateway_t  *gateway;
    uint64_t    request_id;
    uint64_t    ticket;
    char        url [OAUTH_CLIENT_ID_MAX + 1];
    msgw_t     *result;
} s_fetch_t;

struct _oauth_t {
    pthread_mutex_t lock;
    s_fetch_t       fetch [OAUTH_CIMD_IN_FLIGHT];
    uint64_t        next_ticket;
};

oauth_t *
oauth_new (gateway_t *gateway, char *err, size_t errlen)
{
    (void) gateway;
    oauth_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
oauth_destroy (oauth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    oauth_t *self = *self_p;
    for (size_t i = 0; i < OAUTH_CIMD_IN_FLIGHT; i++)
        if (self->fetch [i].busy) {
            pthread_join (self->fetch [i].thread, NULL);
            msgw_destroy (&self->fetch [i].result);
        }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

const char *
oauth_public_url (gateway_t *gateway)
{
    return gateway->remote_base;
}

static msgw_t *
s_refused (const char *format, const char *detail)
{
    char shown [160], message [BUS_ERR_MESSAGE_MAX];
    size_t len = strnlen (detail, sizeof shown - 1);
    memcpy (shown, detail, len);
    shown [len] = 0;
    snprintf (message, sizeof message, format, shown);
    return msgw_error_new (BUS_ERR_BAD_REQUEST, message);
}

//  Check a fetched document. A reply body either way.
static msgw_t *
s_check (const char *url, const http_response_t *response)
{
    if (response->status != 200) {
        char status [16];
        snprintf (status, sizeof status, "%d", response->status);
        return s_refused ("the client metadata document answered HTTP %s, not 200", status);
    }
    if (!response->final_url || strcmp (response->final_url, url) != 0)
        return s_refused ("the client metadata document %s redirects elsewhere",
                          "URL");
    json_error_t error;
    json_t *doc = json_loadb (response->body, response->body_len, JSON_REJECT_DUPLICATES, &error);
    msgw_t *reply = NULL;
    const char *id = json_string_value (json_object_get (doc, "client_id"));
    json_t *name = json_object_get (doc, "client_name");
    json_t *uris = json_object_get (doc, "redirect_uris");
    json_t *method = json_object_get (doc, "token_endpoint_auth_method");
    char why [160];
    if (!json_is_object (doc))
        reply = s_refused ("the client metadata document is not a JSON object%s", "");
    else
    if (!id || strcmp (id, url) != 0)
        reply = s_refused ("the client metadata document's client_id is not its URL%s", "");
    else
    if (!json_is_string (name)
    ||  !oauth_client_name_valid (json_string_value (name), json_string_length (name)))
        reply = s_refused ("the client metadata document needs a client_name of 1 to 100 "
                           "characters%s", "");
    else
    if (method && !(json_is_string (method) && strcmp (json_string_value (method), "none") == 0))
        reply = s_refused ("the client metadata document's token_endpoint_auth_method must "
                           "be \"none\"%s", "");
    else
    if (!json_is_array (uris) || json_array_size (uris) == 0
    ||  json_array_size (uris) > OAUTH_REDIRECTS_MAX)
        reply = s_refused ("the client metadata document needs 1 to 8 redirect_uris%s", "");
    else {
        size_t i;
        json_t *uri;
        json_array_foreach (uris, i, uri)
            if (!json_is_string (uri)
            ||  !oauth_redirect_uri_valid (json_string_value (uri), why, sizeof why)) {
                reply = s_refused ("a redirect URI of the client metadata document: %s",
                                   json_is_string (uri) ? why : "not a string");
                break;
            }
    }
    if (!reply) {
        reply = msgw_new ();
        msgw_map (reply, 3);
        msgw_kv_bool (reply, "ok", true);
        msgw_kv_str (reply, "client_name", json_string_value (name));
        msgw_str (reply, "redirect_uris");
        msgw_array (reply, json_array_size (uris));
        size_t i;
        json_t *uri;
        json_array_foreach (uris, i, uri)
            msgw_str (reply, json_string_value (uri));
    }
    json_decref (doc);
    return reply;
}

static void *
s_fetch_thread (void *arg)
{
    s_fetch_t *fetch = arg;
    static const char *const names [] = { "accept" };
    static const char *const values [] = { "application/json" };
    net_rules_t rules = { .hosts = NULL, .count = 0, .policy = NET_POLICY_ALLOW_ALL_PUBLIC };
    http_request_t request = {
        .method = "GET", .url = fetch->url,
        .header_names = names, .header_values = values, .header_count = 1,
        .timeout_ms = OAUTH_CIMD_TIMEOUT_MS, .body_max = OAUTH_CIMD_MAX_BYTES,
    };
    http_response_t response = { 0 };
    msgw_t *result;
    if (http_fetch (&rules, &request, &response) != 0) {
        log_warn ("client metadata document %s: %s", fetch->url, response.error);
        result = s_refused ("cannot fetch the client metadata document: %s", response.error);
    }
    else
        result = s_check (fetch->url, &response);
    http_response_clear (&response);
    oauth_t *self = fetch->gateway->oauth;
    pthread_mutex_lock (&self->lock);
    fetch->result = result;
    fetch->done = true;
    pthread_mutex_unlock (&self->lock);
    http_server_wake (fetch->gateway);
    return NULL;
}

bool
oauth_cimd_fetch (oauth_call_t *call, const char *url, oauth_reply_fn *fn)
{
    oauth_t *self = call->gateway->oauth;
    if (!self)
        return false;
    pthread_mutex_lock (&self->lock);
    s_fetch_t *slot = NULL;
    for (size_t i = 0; i < OAUTH_CIMD_IN_FLIGHT && !slot; i++)
        if (!self->fetch [i].busy)
            slot = &self->fetch [i];
    if (slot) {
        slot->busy = true;
        slot->done = false;
        slot->gateway = call->gateway;
        slot->request_id = http_req_id (call->req);
        slot->ticket = S_TICKET_BIT | ++self->next_ticket;
        snprintf (slot->url, sizeof slot->url, "%s", url);
        if (pthread_create (&slot->thread, NULL, s_fetch_thread, slot) != 0) {
            slot->busy = false;
            slot = NULL;
        }
    }
    pthread_mutex_unlock (&self->lock);
    if (!slot)
        return false;
    call->ticket = slot->ticket;
    call->on_reply = fn;
    return true;
}

void
oauth_drain (gateway_t *gateway)
{
    oauth_t *self = gateway->oauth;
    if (!self)
        return;
    for (size_t i = 0; i < OAUTH_CIMD_IN_FLIGHT; i++) {
        s_fetch_t *fetch = &self->fetch [i];
        pthread_mutex_lock (&self->lock);
        bool ready = fetch->busy && fetch->done;
        pthread_mutex_unlock (&self->lock);
        if (!ready)
            continue;
        pthread_join (fetch->thread, NULL);
        msgw_t *result = fetch->result;
        fetch->result = NULL;
        pthread_mutex_lock (&self->lock);
        fetch->busy = fetch->done = false;
        pthread_mutex_unlock (&self->lock);
        http_req_t *req = idmap_lookup (gateway->requests, fetch->request_id);
        if (req && result)
            http_req_deliver_reply (req, fetch->ticket, msgw_data (result), msgw_size (result));
        msgw_destroy (&result);
    }
}

/*  source_job.h — the executor's `source` op: one conversation with an
    external MCP source (mcp_client.h), on a thread of its own so a slow
    source never stalls the executor's loop or its sandbox calls.

    Request fields (every one typed and bounded here):
      action            "discover" | "call" | "ping" | "oauth_discover"
                        | "oauth_begin" | "oauth_exchange"      (required)
      url               http(s) URL, ≤ 2048 bytes                (required)
      transport         "streamable_http" (default) | "sse"
      auth_type         "none" (default) | "bearer" | "header" | "oauth" (the
                        access token from credentials, source_oauth.h)
      source_id         the source (oauth, oauth_begin, oauth_exchange)
      redirect_uri      oauth_begin: the gateway's callback URL
      client_metadata_url  oauth_begin, optional: MCPbox's https Client ID
                        Metadata Document URL (used when the server supports it)
      scope             oauth_begin, optional (default: the resource's
                        scopes_supported)
      state, code       oauth_exchange: the callback's parameters
      iss               oauth_exchange, optional: the callback's iss (RFC 9207)
      auth_secret_name  the server secret holding the credential (bearer, header)
      auth_header_name  the header it goes in (header; a token name)
      server_id         whose secrets the executor fetches (job_secrets.h)
      secrets           {str: str}, attached by the executor itself
      allowed_hosts     [str], network_policy — the server's network rules:
                        the source is reached under exactly the rules its
                        server's Python tools are (ssrf.h)
      tool, arguments   the remote tool's name and its arguments (call)
      timeout_ms        1000..300000 (default 30000): the whole conversation

    Result (the `run` reply's shape where it can be):
      success, duration_ms, protocol_version, server_info;
      discover: tools [{name, description, input_schema[, title, annotations]}];
      call: result (the source's CallToolResult, redacted against every
            secret of the job), args_redacted;
      failure: error {type: "SourceError" | "SourceRefused", message}.
    Every text that leaves (result, error) is redacted against the job's
    secrets, so a source echoing the credential back does not leak it.
*/
#ifndef MCPBOX_SOURCE_JOB_H
#define MCPBOX_SOURCE_JOB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <zmq.h>
#include "bus_errors.h"
#include "mcp_client.h"
#include "redactor.h"

#define SOURCE_URL_MAX          2048
#define SOURCE_HOSTS_MAX        256
#define SOURCE_TIMEOUT_DEFAULT  30000
#define SOURCE_TIMEOUT_MIN      1000
#define SOURCE_TIMEOUT_MAX      300000

typedef struct {
    char             action [16];
    char            *url;
    mcp_transport_t  transport;
    char            *auth_name;         //  header name or NULL
    char            *auth_value;        //  its value (a secret) or NULL
    char            *tool;              //  call
    json_t          *arguments;         //  call
    char           **hosts;
    size_t           host_count;
    net_policy_t     policy;
    int              timeout_ms;
    redactor_t      *redactor;
    //  OAuth (source_oauth.h)
    bool             oauth;             //  auth_type oauth: a bearer from credentials
    char             source_id [65];    //  the source (oauth; needed by every oauth_* action)
    char             server_id [65];
    char            *redirect_uri;      //  oauth_begin
    char            *client_metadata_url;   //  oauth_begin, optional (https)
    char            *scope;             //  oauth_begin, optional
    char            *state;             //  oauth_exchange
    char            *code;              //  oauth_exchange
    char            *iss;               //  oauth_exchange, optional (RFC 9207)
    char            *bus_endpoint;      //  where credentials is asked (set by the pool)
} source_spec_t;

//  Reads and checks the request (a JSON object). 0, or -1 with *code and err.
int  source_spec_from_request (json_t *request, source_spec_t *spec,
                               bus_error_t *code, char *err, size_t errlen);
void source_spec_clear (source_spec_t *spec);

//  Runs the job to its end (blocking); returns the result object.
json_t *source_spec_run (source_spec_t *spec, const atomic_bool *cancel);

typedef struct _source_pool_t source_pool_t;

//  bus_endpoint: the broker's, for asking credentials (OAuth); copied.
source_pool_t *source_pool_new (const char *bus_endpoint);
//  Cancels what runs and waits for it (each ends within about a second);
//  the token of every job not taken yet goes to drop (may be NULL).
typedef void (source_drop_fn) (void *token, void *arg);
void           source_pool_destroy (source_pool_t **self_p, source_drop_fn *drop,
                                    void *arg);
//  Starts the job (takes spec's contents) on its own thread. 0 or -1 + err.
int            source_pool_start (source_pool_t *self, source_spec_t *spec,
                                  void *token, char *err, size_t errlen);
//  The job started with token ends now as cancelled. 0, or -1 if unknown.
int            source_pool_cancel (source_pool_t *self, void *token);
//  One poll item (readable when a job finished): fills *item, returns 1.
int            source_pool_poll_item (source_pool_t *self, zmq_pollitem_t *item);
//  A finished job: its token and result (caller decrefs). false if none.
bool           source_pool_take_done (source_pool_t *self, void **token_p,
                                      json_t **result_p);

#endif

/*  source_oauth.h — the `source` job's OAuth steps that need credentials
    (docs/DESIGN.md, section 14; the bus interface source_oauth.* in
    docs/BUS_OPS.md):

      oauth_begin     discovery (oauth_discover.h), client registration
                      (a Client ID Metadata Document when the authorization
                      server supports it and MCPbox has an https URL for
                      one, else RFC 7591 dynamic registration), PKCE S256
                      and state; credentials keeps them (source_oauth.begin);
                      the answer is the authorization URL to open.
      oauth_exchange  the callback's state and code: credentials gives the
                      pending authorization back once (source_oauth.pending),
                      the code is exchanged at the token endpoint, the
                      tokens go to credentials (source_oauth.store).
      bearer          at call/discover time: the access token from
                      credentials (source_oauth.token), refreshed here when
                      credentials grants this caller the lease, waited for
                      when another caller holds it.

    The job thread asks credentials over a bus client of its own, on the
    local ipc:// bus only: a remote executor (tcp://) cannot, and says so.
    Tokens, verifier and client secret are zeroed when dropped; every
    token is added to the job's redactor before the source is contacted.
*/
#ifndef MCPBOX_SOURCE_OAUTH_H
#define MCPBOX_SOURCE_OAUTH_H

#include <jansson.h>
#include <stdatomic.h>
#include "source_job.h"

//  oauth_begin: {success, authorization_url, issuer, registration} or a
//  failure result (source_job's shape).
json_t *source_oauth_begin (source_spec_t *spec, const net_rules_t *rules,
                            int64_t deadline_ms, const atomic_bool *cancel);
//  oauth_exchange: {success, source_id, expires_at_ms?} or a failure.
json_t *source_oauth_exchange (source_spec_t *spec, const net_rules_t *rules,
                               int64_t deadline_ms, const atomic_bool *cancel);
//  The header value "Bearer <token>" for spec's source (new string, zero
//  it before freeing), or NULL with why. force: refresh even if the token
//  looks valid (the source answered 401).
char   *source_oauth_bearer (source_spec_t *spec, const net_rules_t *rules,
                             int64_t deadline_ms, const atomic_bool *cancel, bool force,
                             char *err, size_t errlen);

#endif

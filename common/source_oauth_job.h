/*  source_oauth_job.h — the sandbox `source` job that begins or finishes
    an external MCP source's OAuth authorization (actors/executor/
    source_oauth.h), built from the registry's source record and approval's
    effective view of its server (the network rules: the source is reached
    under exactly its server's approved hosts and policy, and without them
    under none). Shared by the gateway (POST /api/sources/{id}/authorize,
    the callback) and `mcpbox sources authorize`, so both send the same job.
*/
#ifndef MCPBOX_SOURCE_OAUTH_JOB_H
#define MCPBOX_SOURCE_OAUTH_JOB_H

#include <jansson.h>

#define SOURCE_OAUTH_TIMEOUT_MS  30000      //  a begin or exchange job, whole

//  {action, url, transport, auth_type: oauth, source_id, server_id,
//   allowed_hosts, network_policy, timeout_ms}; NULL with why (a static
//  text) when the source is not an oauth source or its record is incomplete.
json_t *source_oauth_job (const json_t *source, const json_t *effective,
                          const char *action, const char **why);

#endif

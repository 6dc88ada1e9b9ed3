/*  source_oauth_job.c — see source_oauth_job.h. */
#include <string.h>
#include "source_oauth_job.h"

static const char *
s_str (const json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

json_t *
source_oauth_job (const json_t *source, const json_t *effective, const char *action,
                  const char **why)
{
    const char *source_id = s_str (source, "id");
    const char *server_id = s_str (source, "server_id");
    const char *url = s_str (source, "url");
    const char *auth = s_str (source, "auth_type");
    if (!source_id || !server_id || !url) {
        *why = "the registry's source record is incomplete";
        return NULL;
    }
    if (!auth || strcmp (auth, "oauth") != 0) {
        *why = "this source does not use OAuth (its auth_type is not oauth)";
        return NULL;
    }
    //  the server's approved rules, or the defaults for a server with no
    //  approved host or module; without either: no hosts (never more)
    json_t *server = json_object_get (json_object_get (effective, "servers"), server_id);
    if (!json_is_object (server))
        server = json_object_get (effective, "defaults");
    json_t *hosts = json_object_get (server, "allowed_hosts");
    const char *policy = s_str (server, "network_policy");
    const char *transport = s_str (source, "transport_type");
    json_t *job = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:i}",
        "action", action, "url", url,
        "transport", transport ? transport : "streamable_http",
        "auth_type", "oauth", "source_id", source_id, "server_id", server_id,
        "allowed_hosts", json_is_array (hosts) ? json_incref (hosts) : json_array (),
        "network_policy", policy && strcmp (policy, "allow_all_public") == 0
                          ? "allow_all_public" : "allowlist",
        "timeout_ms", SOURCE_OAUTH_TIMEOUT_MS);
    if (!job)
        *why = "out of memory";
    return job;
}

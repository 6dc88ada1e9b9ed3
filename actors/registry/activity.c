/*  activity.c — the registry's entries in the activity log: what changed
    in servers and tools, recorded where the change is made, after its
    commit, through this process's log spool (common/logspool.h).

    Types: server.created, server.deleted, server.started, server.stopped,
    tool.created, tool.updated, tool.deleted, tool.rolled_back. Details
    name the ids and what changed; never code or descriptions.
*/
#include <stdarg.h>
#include <stdio.h>
#include "registry.h"

void
activity_record (service_t *service, const char *type, const char *server_id,
                 json_t *details, const char *fmt, ...)
{
    char message [512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    logspool_t *spool = service ? service_spool (service) : NULL;
    if (spool)
        logspool_activity_json (spool, type, LOGSPOOL_INFO, server_id, message, details);
    json_decref (details);
}

/*  activity.c — approval's entries in the activity log, recorded where
    the decision or request is made, after its commit, through this
    process's log spool (common/logspool.h).

    Types:
      tool.publish_requested          a tool was submitted for review
      approval.<kind>_<decision>      kind tool | module | network,
                                      decision approved | rejected | revoked
      module.requested / network.requested   a tool asked for one
      module.added / network.added    the admin added one (auto-approved)
      policy.changed                  one security-policy setting
      policy.profile_applied          a profile set several at once
    Details carry ids, names, statuses and who acted; never code.
*/
#include <stdarg.h>
#include <stdio.h>
#include "approval.h"

void
activity_note (service_t *service, const char *type, const char *level,
               const char *server_id, json_t *details, const char *fmt, ...)
{
    char message [512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    logspool_t *spool = service ? service_spool (service) : NULL;
    if (spool)
        logspool_activity_json (spool, type, level, server_id, message, details);
    json_decref (details);
}

const char *
activity_kind_name (appr_kind_t kind)
{
    return kind == APPR_KIND_TOOL ? "tool" : kind == APPR_KIND_MODULE ? "module" : "network";
}

void
activity_decision (service_t *service, appr_kind_t kind, appr_action_t action,
                   const char *id, const char *server_id, const char *status,
                   const char *by, const char *reason, bool bulk)
{
    const char *verb = action == APPR_APPROVE ? "approved"
                     : action == APPR_REJECT  ? "rejected" : "revoked";
    char type [48];
    snprintf (type, sizeof type, "approval.%s_%s", activity_kind_name (kind), verb);
    json_t *details = json_pack ("{s:s, s:s, s:s, s:s, s:b}",
        "kind", activity_kind_name (kind), "id", id, "status", status ? status : "",
        "decided_by", by, "bulk", bulk);
    if (details && reason && *reason)
        json_object_set_new (details, "reason", json_string (reason));
    activity_note (service, type, action == APPR_APPROVE ? "info" : "warning",
                   server_id && *server_id ? server_id : NULL, details,
                   "%s %s %s by %s%s%s", kind == APPR_KIND_TOOL ? "Tool"
                   : kind == APPR_KIND_MODULE ? "Module request" : "Network request",
                   id, verb, by, reason && *reason ? ": " : "", reason ? reason : "");
}

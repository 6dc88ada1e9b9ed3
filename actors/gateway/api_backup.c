/*  api_backup.c — export files over the admin API (the backup service,
    docs/BUS_OPS.md; the format in docs/SECURITY.md, "Export files"):

      GET  /api/export[?servers=a,b]      the file itself (application/json,
                                          as an attachment), exactly as
                                          `mcpbox export` writes it
      POST /api/import[?trust_approvals=true&allow_foreign=true]
                                          body: the file (<= 7 MiB, the
                                          route's own bound); the report, or
                                          the refusal with nothing imported

    The body's exact bytes are sent on (the signature covers them), not
    the JSON the router parsed. imported_by is the signed-in admin.
*/
#include <string.h>
#include "api.h"
#include "backup_limits.h"

#define BACKUP_TIMEOUT_MS 120000

static void
s_exported (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    const json_t *file = json_object_get (reply->body, "file");
    if (!json_is_string (file)) {
        api_error (call, 500, "internal", "the backup service sent no file");
        return;
    }
    http_req_add_header (call->req, "content-disposition:",
                         "attachment; filename=\"mcpbox-export.json\"");
    http_req_add_header (call->req, "cache-control:", "no-store");
    http_req_respond (call->req, 200, "application/json", json_string_value (file),
                      json_string_length (file));
}

void
api_export (api_call_t *call)
{
    const char *servers = NULL;
    if (!api_query_str (call, "servers", API_QUERY_ARG_MAX, &servers))
        return;
    json_t *fields = json_object ();
    if (servers) {
        json_t *names = json_array ();
        const char *p = servers;
        while (true) {
            const char *comma = strchr (p, ',');
            size_t len = comma ? (size_t) (comma - p) : strlen (p);
            json_array_append_new (names, json_stringn (p, len));
            if (!comma)
                break;
            p = comma + 1;
        }
        json_object_set_new (fields, "servers", names);
    }
    api_ask_timeout (call, "backup", "export", fields, BACKUP_TIMEOUT_MS, s_exported);
    json_decref (fields);
}

static void
s_imported (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *out = json_incref (reply->body);
    json_object_del (out, "ok");
    if (json_is_true (json_object_get (out, "complete"))) {
        api_ok (call, 200, out);
        return;
    }
    //  part-way: what was imported, and the step that failed
    json_t *error = json_object_get (out, "error");
    json_object_set_new (out, "error", json_pack ("{s:s, s:s}", "code", "import_incomplete",
                         "message", json_string_value (json_object_get (error, "message"))
                         ? json_string_value (json_object_get (error, "message")) : "?"));
    api_ok (call, 500, out);
}

void
api_import (api_call_t *call)
{
    int trust = 0, foreign = 0;
    if (!api_query_bool (call, "trust_approvals", &trust)
    ||  !api_query_bool (call, "allow_foreign", &foreign))
        return;
    json_t *file = json_stringn (call->raw, call->raw_size);
    if (!file) {
        api_error (call, 400, "bad_request", "the body must be an export file");
        return;
    }
    json_t *fields = json_pack ("{s:o, s:s, s:b, s:b}", "file", file,
                                "imported_by", api_username (call),
                                "trust_approvals", trust, "allow_foreign", foreign);
    api_ask_timeout (call, "backup", "import", fields, BACKUP_TIMEOUT_MS, s_imported);
    json_decref (fields);
}

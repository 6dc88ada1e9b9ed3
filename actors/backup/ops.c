/*  ops.c — the backup service's ops (docs/BUS_OPS.md, backup):

      export {servers?: [name...]}
          -> file (the whole export file as text), size, key_id, servers,
             tools, versions, skipped_tools
      import {file*, imported_by*, trust_approvals, allow_foreign}
          -> complete, own, trusted, key_id, imported{...}, servers[{name,id}],
             warnings[], and when complete is false: failed_step, error

    Export: registry export.dump -> approval export.dump (for those
    servers) -> credentials secret_list per server (keys and descriptions
    picked by name: a value is never in that reply, and nothing else of it
    is copied) -> the content as JSON (keys sorted, so the same data gives
    the same bytes) -> credentials export.sign -> the file.

    Import: the envelope (file.c) -> credentials export.verify (a file
    signed with this installation's key whose signature does not match is
    refused: nothing is imported) -> the decision below -> the content
    parsed and its shape checked -> registry import.apply (one
    transaction: servers, tools, versions under new ids; a server name
    that exists refuses it all) -> approval import.apply -> credentials
    secrets.import. Each owner's part is atomic; when a later part fails
    the earlier ones stay, and the answer says what was imported and
    which step failed (complete: false).

    Who decides what:
      own key, signature matches   imported; --trust-approvals carries the
                                   approvals, allowed modules/hosts and
                                   the policy over as they were.
      another installation's key   refused, unless allow_foreign: then
                                   imported with nothing approved (tools
                                   are drafts, modules/hosts pending, the
                                   policy not applied) and a warning:
                                   this installation cannot check the
                                   signature of a key it does not hold.
      trust_approvals on a foreign file: refused.
      Without trust: tools are drafts, modules/hosts pending requests,
      the policy is not applied (each said in warnings).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup.h"
#include "fields.h"
#include "ids.h"
#include "json_msgpack.h"
#include "log.h"

#define ASK_TIMEOUT_MS 20000        //  one owner's part of a large file

//  Ask `service_name` the request (a JSON object); *out the reply as JSON.
//  0, or -1 with err (the owner's code, its message prefixed).
static int
s_ask (service_t *service, const char *service_name, json_t *request, json_t **out,
       bus_err_t *err)
{
    *out = NULL;
    msgw_t *w = msgw_new ();
    if (!w || msgw_json (w, request) != 0) {
        msgw_destroy (&w);
        return bus_err_set (err, BUS_ERR_INTERNAL, "cannot encode the %s request", service_name);
    }
    bus_reply_t *reply = service_call (service, service_name, msgw_data (w), msgw_size (w),
                                       ASK_TIMEOUT_MS);
    msgw_destroy (&w);
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    bus_reply_destroy (&reply);
    if (!body)
        return bus_err_set (err, BUS_ERR_INTERNAL, "%s sent a malformed reply (%s)",
                            service_name, why ? why : "?");
    bus_error_t code = msg_error_code (body);
    int rc = 0;
    if (code != BUS_ERR_NONE)
        rc = bus_err_set (err, code, "%s: %s", service_name, msg_error_message (body));
    else
    if (!(*out = json_from_msgpack (msg_root (body))))
        rc = bus_err_set (err, BUS_ERR_INTERNAL, "%s sent a reply JSON cannot hold",
                          service_name);
    msg_destroy (&body);
    return rc;
}

//  A copy of object without the keys listed.
static json_t *
s_without (const json_t *object, const char *const *drop)
{
    json_t *copy = json_deep_copy (object);
    for (size_t i = 0; drop [i]; i++)
        json_object_del (copy, drop [i]);
    return copy;
}

//  --- export ----------------------------------------------------------------------

static json_t *
s_group (json_t *index, const char *key)
{
    json_t *list = json_object_get (index, key);
    if (!list) {
        list = json_array ();
        json_object_set_new (index, key, list);
    }
    return list;
}

static void
s_export (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) state;
    bus_err_t err = { 0 };
    const msgpack_object *names = msg_map_get (msg_root (request), "servers");
    json_t *ask = json_pack ("{s:s}", "op", "export.dump");
    if (names && names->type != MSGPACK_OBJECT_NIL) {
        json_t *list = json_from_msgpack (names);
        if (!json_is_array (list)) {
            json_decref (list);
            json_decref (ask);
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "servers: an array of server names");
            return;
        }
        json_object_set_new (ask, "servers", list);
    }
    json_t *reg = NULL, *appr = NULL, *content = NULL, *sign = NULL;
    char *text = NULL, *file = NULL;
    int rc = s_ask (service, "registry", ask, &reg, &err);
    json_decref (ask);
    json_t *servers = json_object_get (reg, "servers");
    json_t *ids = json_array ();
    size_t i, j;
    json_t *server, *tool;
    json_array_foreach (servers, i, server)
        json_array_append (ids, json_object_get (server, "id"));
    if (rc == 0) {
        ask = json_pack ("{s:s, s:O}", "op", "export.dump", "server_ids", ids);
        rc = s_ask (service, "approval", ask, &appr, &err);
        json_decref (ask);
    }
    json_decref (ids);
    //  approval's rows, grouped: by tool, by server
    json_t *approved = json_object (), *modules = json_object (), *hosts = json_object ();
    json_t *row;
    json_array_foreach (json_object_get (appr, "approved"), i, row) {
        const char *notes = json_string_value (json_object_get (row, "annotations"));
        json_t *hints = notes ? json_loads (notes, JSON_REJECT_DUPLICATES, NULL) : NULL;
        json_array_append_new (s_group (approved, json_string_value (json_object_get (row, "tool_id"))),
                               json_pack ("{s:O, s:o}", "code_hash",
                                          json_object_get (row, "code_hash"),
                                          "annotations", hints ? hints : json_null ()));
    }
    json_array_foreach (json_object_get (appr, "modules"), i, row)
        json_array_append (s_group (modules, json_string_value (json_object_get (row, "server_id"))),
                           json_object_get (row, "module_name"));
    json_array_foreach (json_object_get (appr, "hosts"), i, row) {
        json_t *port = json_object_get (row, "port");
        json_array_append_new (s_group (hosts, json_string_value (json_object_get (row, "server_id"))),
                               json_pack ("{s:O, s:O}", "host", json_object_get (row, "host"),
                                          "port", port ? port : json_null ()));
    }
    static const char *const server_ids [] = { "id", NULL };
    json_t *out_servers = json_array ();
    size_t tools = 0, versions = 0;
    json_array_foreach (servers, i, server) {
        if (rc)
            break;
        const char *id = json_string_value (json_object_get (server, "id"));
        json_t *secrets_reply = NULL;
        ask = json_pack ("{s:s, s:s}", "op", "secret_list", "server_id", id);
        rc = s_ask (service, "credentials", ask, &secrets_reply, &err);
        json_decref (ask);
        if (rc)
            break;
        json_t *out = s_without (server, server_ids);
        json_t *secrets = json_array ();
        json_array_foreach (json_object_get (secrets_reply, "secrets"), j, row)
            json_array_append_new (secrets, json_pack ("{s:O, s:O}",
                                   "key", json_object_get (row, "key"),
                                   "description", json_object_get (row, "description")));
        json_decref (secrets_reply);
        json_object_set_new (out, "secrets", secrets);
        json_t *m = json_object_get (modules, id), *h = json_object_get (hosts, id);
        json_object_set_new (out, "allowed_modules", m ? json_incref (m) : json_array ());
        json_object_set_new (out, "allowed_hosts", h ? json_incref (h) : json_array ());
        json_t *out_tools = json_object_get (out, "tools");
        json_array_foreach (out_tools, j, tool) {
            const char *tool_id = json_string_value (json_object_get (tool, "id"));
            json_t *a = tool_id ? json_object_get (approved, tool_id) : NULL;
            json_object_set_new (tool, "approved", a ? json_incref (a) : json_array ());
            json_object_del (tool, "id");
            tools++;
            versions += json_array_size (json_object_get (tool, "versions"));
        }
        json_array_append_new (out_servers, out);
    }
    if (rc == 0) {
        char now [IDS_TIME_LEN + 1];
        ids_now_iso (now);
        content = json_pack ("{s:s, s:o, s:O, s:O}", "exported_at", now,
                             "servers", out_servers,
                             "policy", json_object_get (appr, "settings"),
                             "skipped_tools", json_object_get (reg, "skipped_tools"));
        out_servers = NULL;
        text = content ? json_dumps (content, JSON_INDENT (1) | JSON_SORT_KEYS) : NULL;
        if (!text)
            rc = bus_err_set (&err, BUS_ERR_INTERNAL, "cannot write the content");
        else
        if (strlen (text) > BACKUP_FILE_MAX - 256)
            rc = bus_err_set (&err, BUS_ERR_TOO_LARGE, "the export (%zu bytes) exceeds %u "
                              "bytes: export fewer servers at a time (--servers)",
                              strlen (text), BACKUP_FILE_MAX);
    }
    json_decref (out_servers);
    json_decref (approved);
    json_decref (modules);
    json_decref (hosts);
    if (rc == 0) {
        ask = json_pack ("{s:s, s:i, s:s}", "op", "export.sign", "version",
                         BACKUP_FORMAT_VERSION, "content", text);
        rc = s_ask (service, "credentials", ask, &sign, &err);
        json_decref (ask);
    }
    size_t size = 0;
    const char *key_id = json_string_value (json_object_get (sign, "key_id"));
    const char *signature = json_string_value (json_object_get (sign, "signature"));
    if (rc == 0 && (!key_id || !signature || strlen (key_id) != BACKUP_KEY_ID_HEX
                    || strlen (signature) != BACKUP_SIGNATURE_HEX))
        rc = bus_err_set (&err, BUS_ERR_INTERNAL, "credentials sent no signature");
    if (rc == 0 && !(file = backup_file_write (key_id, signature, text, strlen (text), &size)))
        rc = bus_err_set (&err, BUS_ERR_INTERNAL, "out of memory");
    if (rc == 0) {
        msgw_t *w = msgw_new ();
        msgw_map (w, 8);
        msgw_kv_bool (w, "ok", true);
        msgw_str (w, "file");
        msgw_strn (w, file, size);
        msgw_kv_int (w, "size", (int64_t) size);
        msgw_kv_str (w, "key_id", key_id);
        msgw_kv_int (w, "servers", (int64_t) json_array_size (servers));
        msgw_kv_int (w, "tools", (int64_t) tools);
        msgw_kv_int (w, "versions", (int64_t) versions);
        msgw_kv_int (w, "skipped_tools",
                     json_integer_value (json_object_get (reg, "skipped_tools")));
        *reply = w;
        log_info ("export: %zu servers, %zu tools, %zu versions, %zu bytes, key %s",
                  json_array_size (servers), tools, versions, size, key_id);
    }
    else
        *reply = msgw_error_new (err.code, err.message);
    free (file);
    free (text);
    json_decref (content);
    json_decref (sign);
    json_decref (reg);
    json_decref (appr);
}

//  --- import ----------------------------------------------------------------------

typedef struct {
    json_t *imported;       //  counts
    json_t *servers;        //  [{name, id}]
    json_t *warnings;       //  [text]
    const char *failed;     //  step
    bus_err_t err;
} report_t;

static msgw_t *
s_report (report_t *r, bool own, bool trusted, const char *key_id)
{
    json_t *body = json_pack ("{s:b, s:b, s:b, s:b, s:s, s:O, s:O, s:O}", "ok", true,
                              "complete", r->failed == NULL, "own", own, "trusted", trusted,
                              "key_id", key_id, "imported", r->imported,
                              "servers", r->servers, "warnings", r->warnings);
    if (r->failed) {
        json_object_set_new (body, "failed_step", json_string (r->failed));
        json_object_set_new (body, "error", json_pack ("{s:s, s:s}", "code",
                             bus_error_name (r->err.code), "message", r->err.message));
    }
    msgw_t *w = msgw_new ();
    msgw_json (w, body);
    json_decref (body);
    return w;
}

static void
s_count (report_t *r, const char *key, json_int_t n)
{
    json_object_set_new (r->imported, key, json_integer (n));
}

//  The owners' parts, in order: registry, approval, credentials. dry: each
//  makes every check and writes, then rolls back. 0 all done; -1 the
//  registry refused (nothing written); 1 a later owner failed (r->failed).
static int
s_apply (service_t *service, json_t *content, bool trust, bool dry, const char *who,
         report_t *r)
{
    //  1. registry: servers, tools, versions
    json_t *servers = json_object_get (content, "servers");
    json_t *reg_servers = json_array ();
    static const char *const server_drop [] = { "allowed_modules", "allowed_hosts", "secrets",
                                                NULL };
    size_t i, j, k;
    json_t *server, *tool, *item;
    size_t tool_count = 0, version_count = 0;
    json_array_foreach (servers, i, server) {
        json_t *copy = s_without (server, server_drop);
        json_array_foreach (json_object_get (copy, "tools"), j, tool) {
            json_object_del (tool, "approved");
            tool_count++;
            version_count += json_array_size (json_object_get (tool, "versions"));
        }
        json_array_append_new (reg_servers, copy);
    }
    json_t *made = NULL;
    json_t *ask = json_pack ("{s:s, s:o, s:b}", "op", "import.apply", "servers", reg_servers,
                     "dry_run", dry);
    int rc = s_ask (service, "registry", ask, &made, &r->err);
    json_decref (ask);
    if (rc) {
        r->failed = "registry";
        return -1;          //  nothing was written anywhere
    }
    json_t *made_servers = json_object_get (made, "servers");
    json_array_foreach (made_servers, i, item)
        json_array_append_new (r->servers, json_pack ("{s:O, s:O}", "name",
                               json_object_get (item, "name"), "id", json_object_get (item, "id")));
    s_count (r, "servers", (json_int_t) json_array_size (made_servers));
    s_count (r, "tools", (json_int_t) tool_count);
    s_count (r, "versions", (json_int_t) version_count);
    //  2. approval: approvals (trust), modules and hosts, the policy (trust)
    json_t *reviews = json_array (), *modules = json_array (), *hosts = json_array ();
    json_array_foreach (servers, i, server) {
        json_t *made_server = json_array_get (made_servers, i);
        json_t *server_id = json_object_get (made_server, "id");
        json_array_foreach (json_object_get (server, "tools"), j, tool) {
            json_t *made_tool = json_array_get (json_object_get (made_server, "tools"), j);
            json_array_foreach (json_object_get (tool, "approved"), k, item) {
                if (!trust)
                    continue;
                json_t *review = json_pack ("{s:O, s:O, s:O, s:O}", "tool_id",
                    json_object_get (made_tool, "id"), "server_id", server_id,
                    "tool_name", json_object_get (made_tool, "name"),
                    "code_hash", json_object_get (item, "code_hash"));
                json_t *hints = json_object_get (item, "annotations");
                if (json_is_object (hints))
                    json_object_set (review, "annotations", hints);
                json_array_append_new (reviews, review);
            }
        }
        json_array_foreach (json_object_get (server, "allowed_modules"), j, item)
            json_array_append_new (modules, json_pack ("{s:O, s:O}", "server_id", server_id,
                                                       "module_name", item));
        json_array_foreach (json_object_get (server, "allowed_hosts"), j, item) {
            json_t *host = json_pack ("{s:O, s:O}", "server_id", server_id, "host",
                                      json_object_get (item, "host"));
            if (json_is_integer (json_object_get (item, "port")))
                json_object_set (host, "port", json_object_get (item, "port"));
            json_array_append_new (hosts, host);
        }
    }
    if (!trust && !dry)
        json_array_append_new (r->warnings, json_string ("approvals were not carried over: "
            "imported tools are drafts, allowed modules and hosts are pending requests, "
            "and the policy in the file was not applied (--trust-approvals, on a file of "
            "this installation, carries them over)"));
    ask = json_pack ("{s:s, s:b, s:s, s:o, s:o, s:o, s:b}", "op", "import.apply", "trust",
                     trust, "imported_by", who, "tools", reviews, "modules", modules,
                     "hosts", hosts, "dry_run", dry);
    if (trust)
        json_object_set (ask, "settings", json_object_get (content, "policy"));
    json_t *appr = NULL;
    rc = s_ask (service, "approval", ask, &appr, &r->err);
    json_decref (ask);
    if (rc)
        r->failed = "approval";
    else {
        static const char *const counts [] = { "approvals", "modules", "modules_skipped",
                                               "hosts", "hosts_skipped", "settings", NULL };
        for (size_t c = 0; counts [c]; c++)
            s_count (r, counts [c], json_integer_value (json_object_get (appr, counts [c])));
        json_int_t skipped = json_integer_value (json_object_get (appr, "modules_skipped"))
                           + json_integer_value (json_object_get (appr, "hosts_skipped"));
        if (skipped && !dry)
            json_array_append_new (r->warnings, json_sprintf ("%lld allowed modules or hosts "
                "were already allowed for their server and were skipped", (long long) skipped));
    }
    json_decref (appr);
    //  3. credentials: secret placeholders (never a value)
    if (!r->failed) {
        json_t *items = json_array ();
        json_array_foreach (servers, i, server) {
            json_t *server_id = json_object_get (json_array_get (made_servers, i), "id");
            json_array_foreach (json_object_get (server, "secrets"), j, item)
                json_array_append_new (items, json_pack ("{s:O, s:O, s:O}", "server_id",
                                       server_id, "key", json_object_get (item, "key"),
                                       "description", json_object_get (item, "description")));
        }
        size_t n = json_array_size (items);
        json_t *done = NULL;
        ask = json_pack ("{s:s, s:o, s:b}", "op", "secrets.import", "items", items,
                         "dry_run", dry);
        if (s_ask (service, "credentials", ask, &done, &r->err))
            r->failed = "credentials";
        else {
            s_count (r, "secrets", (json_int_t) n);
            if (n && !dry)
                json_array_append_new (r->warnings, json_sprintf ("%zu secret placeholders "
                    "were imported without values: set them with mcpbox secrets set", n));
        }
        json_decref (ask);
        json_decref (done);
    }
    json_decref (made);
    return r->failed ? 1 : 0;
}

static void
s_import (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    const char *data = NULL, *by = NULL;
    size_t size = 0, by_len = 0;
    bool trust = false, foreign_ok = false;
    if (field_str (root, "file", true, BACKUP_FILE_MAX, 0, &data, &size, &err) < 0
    ||  field_str (root, "imported_by", true, 64, 64, &by, &by_len, &err) < 0
    ||  field_bool (root, "trust_approvals", &trust, &err) < 0
    ||  field_bool (root, "allow_foreign", &foreign_ok, &err) < 0) {
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    char who [65];
    snprintf (who, sizeof who, "%.*s", (int) by_len, by);
    backup_file_t file;
    const char *why = NULL;
    if (backup_file_parse (data, size, &file, &why)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, why);
        return;
    }
    //  the signature, before anything of the content is believed
    json_t *verify = NULL;
    json_t *ask = json_pack ("{s:s, s:I, s:s, s:s, s:s%}", "op", "export.verify",
                             "version", (json_int_t) file.version, "key_id", file.key_id,
                             "signature", file.signature, "content", file.content,
                             file.content_len);
    int rc = s_ask (service, "credentials", ask, &verify, &err);
    json_decref (ask);
    if (rc) {
        *reply = msgw_error_new (err.code, err.message);
        return;
    }
    bool own = json_is_true (json_object_get (verify, "own"));
    char own_id [BACKUP_KEY_ID_HEX + 1];
    snprintf (own_id, sizeof own_id, "%s", json_string_value (json_object_get (verify, "key_id"))
              ? json_string_value (json_object_get (verify, "key_id")) : "");
    json_decref (verify);
    char message [BUS_ERR_MESSAGE_MAX];
    if (!own && trust) {
        snprintf (message, sizeof message, "--trust-approvals needs a file signed by this "
                  "installation (key %s); this one is signed by key %s", own_id, file.key_id);
        *reply = msgw_error_new (BUS_ERR_FORBIDDEN, message);
        return;
    }
    if (!own && !foreign_ok) {
        snprintf (message, sizeof message, "the file is signed by another installation "
                  "(key %s, this one is %s): its signature cannot be checked here; pass "
                  "--allow-foreign to import it with nothing approved", file.key_id, own_id);
        *reply = msgw_error_new (BUS_ERR_FORBIDDEN, message);
        return;
    }
    char whylen [300];
    json_t *content = backup_content_parse (file.content, file.content_len, whylen,
                                            sizeof whylen);
    if (!content || backup_content_check (content, whylen, sizeof whylen)) {
        json_decref (content);
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, whylen);
        return;
    }
    report_t r = { .imported = json_object (), .servers = json_array (),
                   .warnings = json_array () };
    if (!own)
        json_array_append_new (r.warnings, json_string ("this file was signed by another "
            "installation: its integrity could not be checked; nothing in it is approved "
            "— review every tool, module and host before use"));
    //  first every owner checks its part without keeping it, so that a file
    //  any owner refuses imports nothing; then each writes it
    int applied = s_apply (service, content, trust, true, who, &r);
    if (applied == 0) {
        json_object_clear (r.imported);
        json_array_clear (r.servers);
        applied = s_apply (service, content, trust, false, who, &r);
    }
    else
        applied = -1;           //  refused by the check: nothing written
    if (applied < 0) {
        *reply = msgw_error_new (r.err.code, r.err.message);
        json_decref (content);
        json_decref (r.imported);
        json_decref (r.servers);
        json_decref (r.warnings);
        return;
    }
    if (r.failed)
        log_error ("import: the %s step failed after the registry's part was committed: %s",
                   r.failed, r.err.message);
    log_info ("import by %s: %zu servers, own %s, trust %s", who,
              json_array_size (r.servers), own ? "yes" : "no", trust ? "yes" : "no");
    *reply = s_report (&r, own, trust, file.key_id);
    json_decref (content);
    json_decref (r.imported);
    json_decref (r.servers);
    json_decref (r.warnings);
}

const service_op_t backup_ops [] = {
    { "export", s_export },
    { "import", s_import },
    { NULL, NULL }
};

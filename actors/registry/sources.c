/*  sources.c — the registry's source.* ops: external MCP sources and the
    mcp_passthrough tools imported from them (docs/BUS_OPS.md, registry).

    The registry never talks to a source: the gateway asks the sandbox
    service (op `source`, actors/executor/source_job.h) and hands what it
    learned here (source.discovered, source.health). What is stored is
    checked again here, as any request is.

    Rediscovery: each imported tool's code_hash is the hash of the remote
    definition it was approved on (sources_definition_hash). When a
    discovery finds that definition changed, the tool gets a new version
    (change_source "import") with the new description and schema and the
    new hash, in one transaction with the discovery: approval, bound to
    the old hash, no longer covers it, so the tool is not callable until
    the reviewer approves the change, and the versions show what changed.

    An imported tool the listing no longer holds is marked removed at the
    source (removed_at, in the same transaction): the catalog leaves it
    out, so it is neither listed nor callable (a call is told why), and an
    activity source.tool_removed tells the admin. When a later listing
    holds it again it is restored (source.tool_restored); if its
    definition changed meanwhile, that is a change like any other: a new
    version that needs approval before the tool is callable again.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "json_msgpack.h"
#include "log.h"
#include "registry.h"

#define SOURCE_NAME_MAX         255         //  characters
#define SOURCE_URL_MAX          2048        //  bytes
#define SOURCE_SECRET_NAME_MAX  255
#define SOURCE_HEADER_MAX       64
#define SOURCE_TOOLS_MAX        1000
#define SOURCE_IMPORT_MAX       100
#define SOURCE_ERROR_MAX        1000        //  bytes kept of a last error
#define SOURCE_SCHEMA_MAX       (64 * 1024) //  bytes of one imported input schema

static const char *const s_auth_types [] = { "none", "bearer", "header", "oauth", NULL };
static const char *const s_transports [] = { "streamable_http", "sse", NULL };

static void
s_reply_json (msgw_t **reply, json_t *body)
{
    json_object_set_new (body, "ok", json_true ());
    *reply = msgw_new ();
    if (msgw_json (*reply, body) != 0) {
        msgw_destroy (reply);
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "reply could not be encoded");
    }
    json_decref (body);
}

static json_t *
s_text_or_null (const char *text)
{
    return text && *text ? json_string (text) : json_null ();
}

//  The record as the ops answer it; with_tools adds discovered_tools.
static json_t *
s_source_json (const source_t *src, bool with_tools)
{
    json_t *out = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:I,"
                             " s:o, s:o, s:o, s:o, s:o, s:s, s:s}",
        "id", src->id, "server_id", src->server_id, "name", src->name ? src->name : "",
        "url", src->url ? src->url : "", "auth_type", src->auth_type,
        "auth_secret_name", s_text_or_null (src->auth_secret_name),
        "auth_header_name", s_text_or_null (src->auth_header_name),
        "transport_type", src->transport_type, "status", src->status,
        "tool_count", (json_int_t) src->tool_count,
        "last_discovered_at", s_text_or_null (src->last_discovered_at),
        "last_contact_at", s_text_or_null (src->last_contact_at),
        "last_error", s_text_or_null (src->last_error),
        "last_error_at", s_text_or_null (src->last_error_at),
        "protocol_version", s_text_or_null (src->protocol_version),
        "created_at", src->created_at, "updated_at", src->updated_at);
    if (!out)
        abort ();
    if (with_tools) {
        json_t *tools = src->discovered_tools
                      ? json_loads (src->discovered_tools, 0, NULL) : NULL;
        json_object_set_new (out, "discovered_tools", tools ? tools : json_null ());
    }
    return out;
}

int
sources_definition_hash (const char *source_id, json_t *definition,
                         char out [REG_HASH_LEN + 1])
{
    json_t *canon = json_pack ("{s:s, s:O, s:O, s:O}", "source_id", source_id,
        "name", json_object_get (definition, "name"),
        "description", json_object_get (definition, "description"),
        "input_schema", json_object_get (definition, "input_schema"));
    if (!canon)
        return -1;
    json_t *title = json_object_get (definition, "title");
    if (json_is_string (title))
        json_object_set (canon, "title", title);
    char *text = json_dumps (canon, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref (canon);
    if (!text)
        return -1;
    int rc = ids_code_hash (text, strlen (text), out);
    free (text);
    return rc;
}

//  `^[A-Z][A-Z0-9_]*$`: how server secrets are named.
static bool
s_secret_name_ok (const char *text, size_t len)
{
    if (len == 0 || len > SOURCE_SECRET_NAME_MAX || text [0] < 'A' || text [0] > 'Z')
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = text [i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

//  An HTTP header name (a token) that is not framing or MCP's own.
static bool
s_header_name_ok (const char *text, size_t len)
{
    if (len == 0 || len > SOURCE_HEADER_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || (c && strchr ("!#$%&'*+-.^_`|~", c));
        if (!ok)
            return false;
    }
    static const char *reserved [] = { "host", "content-length", "transfer-encoding",
        "connection", "content-type", "accept", "mcp-session-id", "mcp-protocol-version",
        "cookie", NULL };
    for (size_t i = 0; reserved [i]; i++)
        if (strlen (reserved [i]) == len && strncasecmp (text, reserved [i], len) == 0)
            return false;
    return true;
}

static bool
s_url_ok (const char *url, size_t len)
{
    if (!((len > 7 && strncmp (url, "http://", 7) == 0)
       || (len > 8 && strncmp (url, "https://", 8) == 0)))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) url [i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

void
sources_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char server_id [REG_ID_LEN + 1];
    const char *name, *url, *secret = NULL, *header = NULL;
    size_t name_len, url_len, secret_len = 0, header_len = 0;
    const char *auth = "none", *transport = "streamable_http";
    int rc_secret, rc_header;
    source_t src = { 0 };
    server_t server = { 0 };
    if (field_id (root, "server_id", true, server_id, &err) < 0
    ||  field_str (root, "name", true, 0, SOURCE_NAME_MAX, &name, &name_len, &err) < 0
    ||  field_str (root, "url", true, SOURCE_URL_MAX, 0, &url, &url_len, &err) < 0
    ||  field_enum (root, "auth_type", s_auth_types, &auth, &err) < 0
    ||  field_enum (root, "transport_type", s_transports, &transport, &err) < 0
    ||  (rc_secret = field_str (root, "auth_secret_name", false, SOURCE_SECRET_NAME_MAX, 0,
                                &secret, &secret_len, &err)) < 0
    ||  (rc_header = field_str (root, "auth_header_name", false, SOURCE_HEADER_MAX, 0,
                                &header, &header_len, &err)) < 0)
        goto done;
    bool blank = true;
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char) name [i] > 0x20)
            blank = false;
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char) name [i] < 0x20 || name [i] == 0x7f)
            blank = true;
    if (blank) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "name: must not be blank or hold control "
                     "characters");
        goto done;
    }
    if (!s_url_ok (url, url_len)) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "url: must be an http:// or https:// URL "
                     "of visible ASCII");
        goto done;
    }
    //  oauth needs no server secret: its tokens are kept by credentials
    //  (source_oauth.*) once the admin authorizes (mcpbox sources authorize)
    bool needs_secret = strcmp (auth, "bearer") == 0 || strcmp (auth, "header") == 0;
    if (needs_secret && (rc_secret != 0 || !s_secret_name_ok (secret, secret_len))) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "auth_secret_name: required for %s "
                     "authentication: the server secret (^[A-Z][A-Z0-9_]*$) that holds "
                     "the credential", auth);
        goto done;
    }
    if (!needs_secret && rc_secret == 0) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "auth_secret_name: only with bearer or "
                     "header authentication (oauth keeps its tokens itself)");
        goto done;
    }
    if (strcmp (auth, "header") == 0
    &&  (rc_header != 0 || !s_header_name_ok (header, header_len))) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "auth_header_name: required for header "
                     "authentication: an HTTP header name (not a framing or MCP header)");
        goto done;
    }
    if (strcmp (auth, "header") != 0 && rc_header == 0) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "auth_header_name: only with header "
                     "authentication");
        goto done;
    }
    if (store_server_get (reg, server_id, &server, &err))
        goto done;
    if (ids_uuid4 (src.id)) {
        bus_err_set (&err, BUS_ERR_INTERNAL, "libsodium is not usable");
        goto done;
    }
    memcpy (src.server_id, server_id, sizeof src.server_id);
    src.name = strndup (name, name_len);
    src.url = strndup (url, url_len);
    src.auth_secret_name = needs_secret ? strndup (secret, secret_len) : NULL;
    src.auth_header_name = rc_header == 0 ? strndup (header, header_len) : NULL;
    if (!src.name || !src.url)
        abort ();
    snprintf (src.auth_type, sizeof src.auth_type, "%s", auth);
    snprintf (src.transport_type, sizeof src.transport_type, "%s", transport);
    snprintf (src.status, sizeof src.status, "active");
    ids_now_iso (src.created_at);
    memcpy (src.updated_at, src.created_at, sizeof src.updated_at);
    if (store_source_insert (reg, &src, &err))
        goto done;
    log_info ("source %s '%s' added to server '%s'", src.id, src.name, server.name);
    activity_record (service, "source.created", src.server_id,
                     json_pack ("{s:s, s:s, s:s, s:s}", "source_id", src.id,
                                "source_name", src.name, "auth_type", src.auth_type,
                                "transport_type", src.transport_type),
                     "External source '%.200s' added to server '%s'", src.name, server.name);
    s_reply_json (reply, json_pack ("{s:o}", "source", s_source_json (&src, false)));
done:
    if (!*reply)
        *reply = msgw_error_new (err.code, err.message);
    source_clear (&src);
    server_clear (&server);
}

void
sources_get (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    source_t src = { 0 };
    if (field_id (msg_root (request), "source_id", true, id, &err) < 0
    ||  store_source_get (reg, id, &src, &err))
        *reply = msgw_error_new (err.code, err.message);
    else {
        json_t *imported = NULL;
        if (store_source_imported (reg, id, &imported, &err))
            *reply = msgw_error_new (err.code, err.message);
        else {
            json_t *body = s_source_json (&src, true);
            json_object_set_new (body, "imported_tools", imported);
            s_reply_json (reply, json_pack ("{s:o}", "source", body));
        }
    }
    source_clear (&src);
}

void
sources_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    bus_err_t err;
    char server_id [REG_ID_LEN + 1];
    server_t server = { 0 };
    source_t *items = NULL;
    size_t count = 0;
    if (field_id (msg_root (request), "server_id", true, server_id, &err) < 0
    ||  store_server_get (reg, server_id, &server, &err)
    ||  store_source_list (reg, server_id, &items, &count, &err))
        *reply = msgw_error_new (err.code, err.message);
    else {
        json_t *list = json_array ();
        for (size_t i = 0; i < count; i++)
            json_array_append_new (list, s_source_json (&items [i], false));
        s_reply_json (reply, json_pack ("{s:s, s:s, s:o, s:I}", "server_id", server.id,
                                        "server_name", server.name, "sources", list,
                                        "total", (json_int_t) count));
    }
    for (size_t i = 0; i < count; i++)
        source_clear (&items [i]);
    free (items);
    server_clear (&server);
}

//  A listing from the sandbox, checked again: [{name, description,
//  input_schema, title?, annotations?}]. NULL + err.
static json_t *
s_checked_listing (json_t *tools, bus_err_t *err)
{
    if (!json_is_array (tools) || json_array_size (tools) > SOURCE_TOOLS_MAX) {
        bus_err_set (err, BUS_ERR_BAD_REQUEST, "tools: must be a list of at most %d tools",
                     SOURCE_TOOLS_MAX);
        return NULL;
    }
    json_t *out = json_array ();
    size_t i;
    json_t *tool;
    json_array_foreach (tools, i, tool) {
        json_t *name = json_object_get (tool, "name");
        json_t *description = json_object_get (tool, "description");
        json_t *schema = json_object_get (tool, "input_schema");
        json_t *title = json_object_get (tool, "title");
        if (!json_is_string (name) || json_string_length (name) == 0
        ||  json_string_length (name) > 255 || !json_is_object (schema)
        ||  (description && !json_is_string (description))) {
            bus_err_set (err, BUS_ERR_BAD_REQUEST, "tools[%zu]: needs a name (1..255 bytes), "
                         "a description string and an input_schema map", i);
            json_decref (out);
            return NULL;
        }
        json_t *kept = json_pack ("{s:O, s:s, s:O}", "name", name, "description",
                                  description ? json_string_value (description) : "",
                                  "input_schema", schema);
        if (json_is_string (title))
            json_object_set (kept, "title", title);
        json_t *annotations = json_object_get (tool, "annotations");
        if (json_is_object (annotations))
            json_object_set (kept, "annotations", annotations);
        json_array_append_new (out, kept);
    }
    return out;
}

static json_t *
s_find (json_t *listing, const char *name)
{
    size_t i;
    json_t *tool;
    json_array_foreach (listing, i, tool) {
        const char *have = json_string_value (json_object_get (tool, "name"));
        if (have && strcmp (have, name) == 0)
            return tool;
    }
    return NULL;
}

//  The description as stored: at most REG_DESCRIPTION_MAX characters,
//  cut on a character boundary.
static char *
s_description (json_t *definition)
{
    const char *text = json_string_value (json_object_get (definition, "description"));
    if (!text)
        text = "";
    size_t len = strlen (text), cut = 0, chars = 0;
    while (cut < len && chars < REG_DESCRIPTION_MAX) {
        size_t step = utf8_seq (text + cut, len - cut);
        cut += step ? step : 1;
        chars++;
    }
    char *out = strndup (text, cut);
    if (!out)
        abort ();
    return out;
}

//  The title as stored (at most REG_TITLE_MAX characters) or "".
static char *
s_title (json_t *definition)
{
    const char *text = json_string_value (json_object_get (definition, "title"));
    if (!text || utf8_chars (text, strlen (text)) > REG_TITLE_MAX)
        text = "";
    char *out = strdup (text);
    if (!out)
        abort ();
    return out;
}

//  One activity per imported tool the source stopped offering
//  (source.tool_removed) or offers again (source.tool_restored).
static void
s_tool_activities (service_t *service, const source_t *src, json_t *gone, json_t *back)
{
    size_t i;
    json_t *entry;
    json_array_foreach (gone, i, entry) {
        const char *name = json_string_value (json_object_get (entry, "name"));
        activity_record (service, "source.tool_removed", src->server_id,
                         json_pack ("{s:s, s:s, s:O, s:O, s:O}", "source_id", src->id,
                                    "source_name", src->name, "tool_id",
                                    json_object_get (entry, "id"), "tool_name",
                                    json_object_get (entry, "name"), "external_tool_name",
                                    json_object_get (entry, "external_tool_name")),
                         "Tool '%.255s' was removed at external source '%.200s': it is "
                         "not listed or callable until the source offers it again",
                         name, src->name);
    }
    json_array_foreach (back, i, entry) {
        const char *name = json_string_value (json_object_get (entry, "name"));
        bool changed = json_is_true (json_object_get (entry, "changed"));
        activity_record (service, "source.tool_restored", src->server_id,
                         json_pack ("{s:s, s:s, s:O, s:O, s:O, s:b}", "source_id", src->id,
                                    "source_name", src->name, "tool_id",
                                    json_object_get (entry, "id"), "tool_name",
                                    json_object_get (entry, "name"), "external_tool_name",
                                    json_object_get (entry, "external_tool_name"),
                                    "changed", changed),
                         "Tool '%.255s' is offered again by external source '%.200s'%s",
                         name, src->name, changed ? " with a changed definition: it "
                         "needs approval again" : "");
    }
}

void
sources_discovered (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    const char *error_text = NULL;
    size_t error_len = 0;
    char protocol [17] = "";
    source_t src = { 0 };
    json_t *listing = NULL, *imported = NULL, *changed = json_array (), *removed = json_array ();
    json_t *newly_removed = json_array (), *restored = json_array ();
    int rc_error;
    int64_t revision = 0;
    bool in_tx = false;
    if (field_id (root, "source_id", true, id, &err) < 0
    ||  (rc_error = field_str (root, "error", false, 0, 0, &error_text, &error_len,
                               &err)) < 0
    ||  field_text (root, "protocol_version", false, 16, false, protocol, &err) < 0
    ||  store_source_get (reg, id, &src, &err))
        goto done;
    if (rc_error == 0) {
        //  a failed discovery: health only, the tools stay as they are
        char kept [SOURCE_ERROR_MAX + 1];
        size_t cut = error_len > SOURCE_ERROR_MAX ? SOURCE_ERROR_MAX : error_len;
        while (cut > 0 && cut < error_len && ((unsigned char) error_text [cut] & 0xC0) == 0x80)
            cut--;
        memcpy (kept, error_text, cut);
        kept [cut] = '\0';
        if (store_source_health (reg, id, kept, &err))
            goto done;
        activity_record (service, "source.error", src.server_id,
                         json_pack ("{s:s, s:s}", "source_id", src.id, "error", kept),
                         "External source '%.200s' failed: %.200s", src.name, kept);
        source_clear (&src);
        if (store_source_get (reg, id, &src, &err))
            goto done;
        s_reply_json (reply, json_pack ("{s:o, s:[], s:[], s:[]}", "source",
                                        s_source_json (&src, false), "changed_tools",
                                        "removed_tools", "restored_tools"));
        goto done;
    }
    const msgpack_object *tools_obj = msg_map_get (root, "tools");
    json_t *tools = tools_obj ? json_from_msgpack (tools_obj) : NULL;
    listing = s_checked_listing (tools, &err);
    json_decref (tools);
    if (!listing || store_source_imported (reg, id, &imported, &err))
        goto done;
    char *listing_text = json_dumps (listing, JSON_COMPACT);
    if (!listing_text)
        abort ();
    if (store_begin (reg, &err)) {
        free (listing_text);
        goto done;
    }
    in_tx = true;
    int rc = store_source_discovered (reg, id, listing_text,
                                      (int64_t) json_array_size (listing),
                                      protocol [0] ? protocol : NULL, &err);
    free (listing_text);
    if (rc)
        goto done;
    char now [REG_TIME_LEN + 8];
    ids_now_iso (now);
    size_t i;
    json_t *have;
    json_array_foreach (imported, i, have) {
        const char *tool_id = json_string_value (json_object_get (have, "id"));
        const char *remote = json_string_value (json_object_get (have, "external_tool_name"));
        bool was_removed = json_is_true (json_object_get (have, "removed"));
        json_t *definition = s_find (listing, remote);
        json_t *entry = json_pack ("{s:s, s:s, s:s}", "id", tool_id, "name",
                                   json_string_value (json_object_get (have, "name")),
                                   "external_tool_name", remote);
        if (!definition) {
            //  the source no longer offers it: out of the catalog until it does
            json_array_append_new (removed, json_string (remote));
            if (!was_removed && store_tool_removed (reg, tool_id, now, &err)) {
                json_decref (entry);
                goto done;
            }
            if (!was_removed)
                json_array_append (newly_removed, entry);
            json_decref (entry);
            continue;
        }
        char hash [REG_HASH_LEN + 1];
        if (sources_definition_hash (id, definition, hash)) {
            json_decref (entry);
            bus_err_set (&err, BUS_ERR_INTERNAL, "cannot hash a definition");
            goto done;
        }
        bool same = strcmp (hash, json_string_value (json_object_get (have, "code_hash"))) == 0;
        char *schema = same ? NULL : json_dumps (json_object_get (definition, "input_schema"),
                                                 JSON_COMPACT);
        if (!same && (!schema || strlen (schema) > SOURCE_SCHEMA_MAX)) {
            //  unusable now: reported, the old version stays (and a removed
            //  tool stays removed)
            free (schema);
            json_decref (entry);
            json_array_append_new (removed, json_string (remote));
            continue;
        }
        if (was_removed) {
            //  offered again: back in the catalog, approved only if unchanged
            if (store_tool_removed (reg, tool_id, NULL, &err)) {
                free (schema);
                json_decref (entry);
                goto done;
            }
            json_object_set_new (entry, "changed", json_boolean (!same));
            json_array_append (restored, entry);
        }
        json_decref (entry);
        if (same)
            continue;
        tool_t tool = { 0 };
        if (store_tool_get (reg, tool_id, &tool, &err)) {
            free (schema);
            goto done;
        }
        free (tool.description);
        free (tool.input_schema);
        free (tool.title);
        tool.description = s_description (definition);
        tool.input_schema = schema;
        tool.title = s_title (definition);
        memcpy (tool.code_hash, hash, sizeof tool.code_hash);
        tool.current_version++;
        ids_now_iso (tool.updated_at);
        rc = store_tool_update (reg, &tool, &err);
        if (rc == 0)
            rc = store_version_insert (reg, &tool, "The source changed this tool "
                                       "(found on rediscovery): review it again",
                                       "import", &err);
        if (rc == 0)
            json_array_append_new (changed, json_pack ("{s:s, s:s, s:s}", "id", tool.id,
                                   "name", tool.name, "external_tool_name", remote));
        tool_clear (&tool);
        if (rc)
            goto done;
    }
    if ((json_array_size (changed) || json_array_size (newly_removed)
         || json_array_size (restored)) && store_bump_revision (reg, &revision, &err))
        goto done;
    if (store_commit (reg, &err))
        goto done;
    in_tx = false;
    if (revision)
        registry_committed (service, reg, revision, src.server_id, NULL);
    activity_record (service, "source.discovered", src.server_id,
                     json_pack ("{s:s, s:I, s:O, s:O}", "source_id", src.id, "tool_count",
                                (json_int_t) json_array_size (listing),
                                "changed_tools", changed, "removed_tools", removed),
                     "External source '%.200s': %zu tools, %zu imported changed, "
                     "%zu imported no longer offered", src.name, json_array_size (listing),
                     json_array_size (changed), json_array_size (removed));
    s_tool_activities (service, &src, newly_removed, restored);
    source_clear (&src);
    if (store_source_get (reg, id, &src, &err))
        goto done;
    s_reply_json (reply, json_pack ("{s:o, s:O, s:O, s:O}", "source",
                                    s_source_json (&src, false), "changed_tools", changed,
                                    "removed_tools", removed, "restored_tools", restored));
done:
    if (in_tx)
        store_rollback (reg);
    if (!*reply)
        *reply = msgw_error_new (err.code, err.message);
    source_clear (&src);
    json_decref (listing);
    json_decref (imported);
    json_decref (changed);
    json_decref (removed);
    json_decref (newly_removed);
    json_decref (restored);
}

void
sources_health (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    char error [SOURCE_ERROR_MAX + 1] = "";
    int rc_error;
    if (field_id (root, "source_id", true, id, &err) < 0
    ||  (rc_error = field_text (root, "error", false, SOURCE_ERROR_MAX, false, error,
                                &err)) < 0
    ||  store_source_health (reg, id, rc_error == 0 ? error : NULL, &err))
        *reply = msgw_error_new (err.code, err.message);
    else
        s_reply_json (reply, json_object ());
}

//  A tool name from a remote name: lower case, [a-z0-9_], a letter first,
//  no "__", at most max bytes. false when nothing usable remains.
static bool
s_local_name (const char *remote, char *out, size_t max)
{
    size_t n = 0;
    for (const char *p = remote; *p && n < max; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        if (n == 0 && !(c >= 'a' && c <= 'z'))
            continue;               //  a letter first
        if (c == '_' && n > 0 && out [n - 1] == '_')
            continue;               //  no "__": it separates server and tool
        out [n++] = c;
    }
    while (n > 0 && out [n - 1] == '_')
        n--;
    out [n] = '\0';
    return n > 0;
}

void
sources_import (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    registry_t *reg = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    char id [REG_ID_LEN + 1];
    const char *created_by = "llm";
    static const char *const creators [] = { "llm", "admin", NULL };
    source_t src = { 0 };
    server_t server = { 0 };
    json_t *listing = NULL, *imported = NULL, *names = NULL;
    json_t *done_list = json_array (), *skipped = json_array ();
    bool in_tx = false;
    int64_t revision = 0;
    if (field_id (root, "source_id", true, id, &err) < 0
    ||  field_enum (root, "created_by", creators, &created_by, &err) < 0
    ||  store_source_get (reg, id, &src, &err)
    ||  store_server_get (reg, src.server_id, &server, &err))
        goto done;
    const msgpack_object *names_obj = msg_map_get (root, "tool_names");
    names = names_obj ? json_from_msgpack (names_obj) : NULL;
    if (!json_is_array (names) || json_array_size (names) == 0
    ||  json_array_size (names) > SOURCE_IMPORT_MAX) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "tool_names: must be a list of 1 to %d "
                     "tool names", SOURCE_IMPORT_MAX);
        goto done;
    }
    listing = src.discovered_tools ? json_loads (src.discovered_tools, 0, NULL) : NULL;
    if (!json_is_array (listing)) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "source_id: discover the source's tools "
                     "first (mcpbox_discover_external_tools)");
        goto done;
    }
    if (store_source_imported (reg, id, &imported, &err) || store_begin (reg, &err))
        goto done;
    in_tx = true;
    size_t i;
    json_t *item;
    json_array_foreach (names, i, item) {
        const char *remote = json_string_value (item);
        if (!remote) {
            bus_err_set (&err, BUS_ERR_BAD_REQUEST, "tool_names[%zu]: must be a string", i);
            goto done;
        }
        const char *why = NULL;
        json_t *definition = s_find (listing, remote);
        bool again = false;
        size_t j;
        json_t *have;
        json_array_foreach (imported, j, have)
            again = again || strcmp (remote, json_string_value (json_object_get
                                     (have, "external_tool_name"))) == 0;
        tool_t tool = { .enabled = true, .current_version = 1 };
        if (!definition)
            why = "the source does not offer it (discover again?)";
        else
        if (again)
            why = "already imported from this source";
        else
        if (!s_local_name (remote, tool.name, REG_NEW_NAME_MAX))
            why = "no usable tool name can be made from it";
        else {
            bus_err_t name_err;
            if (validate_full_name ("name", server.name, strlen (server.name),
                                    strlen (tool.name), &name_err))
                why = "its name is too long beside the server's name";
            else {
                int taken = store_tool_name_taken (reg, server.id, tool.name, NULL, &err);
                if (taken < 0)
                    goto done;
                if (taken)
                    why = "a tool of that name already exists on this server";
            }
        }
        if (!why) {
            tool.input_schema = json_dumps (json_object_get (definition, "input_schema"),
                                            JSON_COMPACT);
            if (!tool.input_schema || strlen (tool.input_schema) > SOURCE_SCHEMA_MAX)
                why = "its input schema is larger than 64 KB";
        }
        if (why) {
            tool_clear (&tool);
            json_array_append_new (skipped, json_pack ("{s:s, s:s}", "name", remote,
                                                       "reason", why));
            continue;
        }
        tool.description = s_description (definition);
        tool.title = s_title (definition);
        memcpy (tool.server_id, server.id, sizeof tool.server_id);
        memcpy (tool.server_name, server.name, sizeof tool.server_name);
        tool.timeout_ms = server.default_timeout_ms;
        snprintf (tool.tool_type, sizeof tool.tool_type, "mcp_passthrough");
        snprintf (tool.created_by, sizeof tool.created_by, "%s", created_by);
        ids_now_iso (tool.created_at);
        memcpy (tool.updated_at, tool.created_at, sizeof tool.updated_at);
        if (ids_uuid4 (tool.id) || sources_definition_hash (id, definition, tool.code_hash)) {
            tool_clear (&tool);
            bus_err_set (&err, BUS_ERR_INTERNAL, "libsodium is not usable");
            goto done;
        }
        int rc = store_passthrough_insert (reg, &tool, id, remote, &err);
        if (rc == 0)
            rc = store_version_insert (reg, &tool, "Imported from an external source",
                                       "import", &err);
        if (rc == 0) {
            json_t *entry = json_pack ("{s:s, s:s, s:s}", "id", tool.id, "name", tool.name,
                                       "external_tool_name", remote);
            json_object_set_new (entry, "full_name",
                                 json_sprintf ("%s__%s", server.name, tool.name));
            json_array_append_new (done_list, entry);
        }
        tool_clear (&tool);
        if (rc)
            goto done;
        json_array_append_new (imported, json_pack ("{s:s, s:s, s:s}", "id", "",
                               "external_tool_name", remote, "code_hash", ""));
    }
    if (json_array_size (done_list) && store_bump_revision (reg, &revision, &err))
        goto done;
    if (store_commit (reg, &err))
        goto done;
    in_tx = false;
    if (revision) {
        registry_committed (service, reg, revision, server.id, NULL);
        activity_record (service, "source.imported", server.id,
                         json_pack ("{s:s, s:O}", "source_id", id, "tools", done_list),
                         "Imported %zu tools from external source '%.200s'",
                         json_array_size (done_list), src.name);
    }
    s_reply_json (reply, json_pack ("{s:O, s:I, s:O}", "imported_tools", done_list,
                                    "count", (json_int_t) json_array_size (done_list),
                                    "skipped_tools", skipped));
done:
    if (in_tx)
        store_rollback (reg);
    if (!*reply)
        *reply = msgw_error_new (err.code, err.message);
    source_clear (&src);
    server_clear (&server);
    json_decref (listing);
    json_decref (imported);
    json_decref (names);
    json_decref (done_list);
    json_decref (skipped);
}

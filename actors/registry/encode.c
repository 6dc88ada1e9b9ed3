/*  encode.c — the registry's records as msgpack maps, the shapes listed in
    docs/BUS_OPS.md (registry). One place, so that server.get, server.list,
    tool.get, tool.update, tool.rollback... all say the same thing the same
    way.

    Each encoder opens a map with its own pairs plus `extra`, and the caller
    writes the extra pairs right after (server.get adds `tools`).
    input_schema is stored as JSON text and travels as a map (never as a
    string), converted with common/json_msgpack.h.
*/
#include <jansson.h>
#include "json_msgpack.h"
#include "log.h"
#include "registry.h"

static void
s_raw (msgw_t *w, const char *data, size_t size)
{
    msgpack_packer *packer = msgw_packer (w);
    packer->callback (packer->data, data, size);
}

void
encode_schema (msgw_t *w, const char *json_text)
{
    json_error_t error;
    json_t *schema = json_text ? json_loads (json_text, JSON_REJECT_DUPLICATES, &error)
                               : NULL;
    msgw_t *tmp = msgw_new ();
    if (!json_is_object (schema) || msgw_json (tmp, schema) != 0) {
        log_warn ("a stored input schema is not a JSON object; sending {}");
        msgw_destroy (&tmp);
        msgw_map (w, 0);
    }
    else {
        s_raw (w, msgw_data (tmp), msgw_size (tmp));
        msgw_destroy (&tmp);
    }
    json_decref (schema);
}

void
encode_schema_or_nil (msgw_t *w, const char *json_text)
{
    if (json_text)
        encode_schema (w, json_text);
    else
        msgw_nil (w);
}

void
encode_server (msgw_t *w, const server_t *server, size_t extra)
{
    msgw_map (w, 8 + extra);
    msgw_kv_str (w, "id", server->id);
    msgw_kv_str (w, "name", server->name);
    msgw_kv_str (w, "description", server->description ? server->description : "");
    msgw_kv_str (w, "status", server->status);
    msgw_kv_int (w, "default_timeout_ms", server->default_timeout_ms);
    msgw_kv_int (w, "tool_count", server->tool_count);
    msgw_kv_str (w, "created_at", server->created_at);
    msgw_kv_str (w, "updated_at", server->updated_at);
}

//  removed_at: when its external source stopped offering it, or nil.
static void
s_removed_at (msgw_t *w, const tool_t *tool)
{
    msgw_str (w, "removed_at");
    if (tool->removed_at [0])
        msgw_str (w, tool->removed_at);
    else
        msgw_nil (w);
}

void
encode_tool_summary (msgw_t *w, const tool_t *tool)
{
    msgw_map (w, 7);
    msgw_kv_str (w, "id", tool->id);
    msgw_kv_str (w, "name", tool->name);
    msgw_kv_str (w, "description", tool->description ? tool->description : "");
    msgw_kv_bool (w, "enabled", tool->enabled);
    msgw_kv_str (w, "code_hash", tool->code_hash);
    msgw_kv_int (w, "current_version", tool->current_version);
    s_removed_at (w, tool);
}

void
encode_tool (msgw_t *w, const tool_t *tool, size_t extra)
{
    msgw_map (w, 19 + extra);
    msgw_kv_str (w, "id", tool->id);
    msgw_kv_str (w, "server_id", tool->server_id);
    msgw_kv_str (w, "server_name", tool->server_name);
    msgw_kv_str (w, "name", tool->name);
    msgw_kv_str (w, "description", tool->description ? tool->description : "");
    msgw_kv_bool (w, "enabled", tool->enabled);
    msgw_kv_int (w, "timeout_ms", tool->timeout_ms);
    msgw_str (w, "input_schema");
    encode_schema (w, tool->input_schema);
    msgw_kv_str (w, "tool_type", tool->tool_type);
    msgw_str (w, "python_code");
    if (tool->python_code)
        msgw_strn (w, tool->python_code, tool->code_len);
    else
        msgw_nil (w);
    msgw_kv_str (w, "code_hash", tool->code_hash);
    msgw_kv_int (w, "current_version", tool->current_version);
    msgw_kv_str (w, "created_by", tool->created_by);
    msgw_kv_str (w, "created_at", tool->created_at);
    msgw_kv_str (w, "updated_at", tool->updated_at);
    msgw_kv_str (w, "title", tool->title ? tool->title : "");
    msgw_str (w, "output_schema");
    encode_schema_or_nil (w, tool->output_schema);
    msgw_str (w, "suggested_annotations");
    encode_schema_or_nil (w, tool->suggested_annotations);
    s_removed_at (w, tool);
}

void
encode_version_summary (msgw_t *w, const version_t *version)
{
    msgw_map (w, 6);
    msgw_kv_int (w, "version", version->version);
    msgw_kv_str (w, "title", version->title ? version->title : "");
    msgw_kv_str (w, "code_hash", version->code_hash);
    msgw_kv_str (w, "change_summary", version->change_summary ? version->change_summary : "");
    msgw_kv_str (w, "change_source", version->change_source);
    msgw_kv_str (w, "created_at", version->created_at);
}

void
encode_version (msgw_t *w, const version_t *version, size_t extra)
{
    msgw_map (w, 14 + extra);
    msgw_kv_int (w, "version", version->version);
    msgw_kv_str (w, "name", version->name);
    msgw_kv_str (w, "description", version->description ? version->description : "");
    msgw_kv_bool (w, "enabled", version->enabled);
    msgw_kv_int (w, "timeout_ms", version->timeout_ms);
    msgw_str (w, "python_code");
    if (version->python_code)
        msgw_strn (w, version->python_code, version->code_len);
    else
        msgw_nil (w);
    msgw_kv_str (w, "code_hash", version->code_hash);
    msgw_str (w, "input_schema");
    encode_schema (w, version->input_schema);
    msgw_kv_str (w, "change_summary", version->change_summary ? version->change_summary : "");
    msgw_kv_str (w, "change_source", version->change_source);
    msgw_kv_str (w, "created_at", version->created_at);
    msgw_kv_str (w, "title", version->title ? version->title : "");
    msgw_str (w, "output_schema");
    encode_schema_or_nil (w, version->output_schema);
    msgw_str (w, "suggested_annotations");
    encode_schema_or_nil (w, version->suggested_annotations);
}

/*  mcp_message.c — the JSON-RPC envelope of a POST /mcp body. See
    mcp_message.h.
*/
#include <string.h>

#include "mcp_call.h"
#include "mcp_message.h"

//  A request id must be a string or a number (MCP: never null).
static bool
s_id_valid (const json_t *id)
{
    return json_is_string (id) || json_is_integer (id) || json_is_real (id);
}

static int
s_refuse (mcp_message_t *out, int code, const char *error)
{
    out->id = NULL;
    out->method = NULL;
    out->params = NULL;
    out->params_array = false;
    out->is_response = false;
    out->code = code;
    out->error = error;
    return -1;
}

int
mcp_message_parse (const char *body, size_t size, mcp_message_t *out)
{
    memset (out, 0, sizeof *out);
    json_error_t error;
    json_t *message = size
        ? json_loadb (body, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error)
        : NULL;
    if (!message)
        return s_refuse (out, MCP_PARSE_ERROR, "Parse error: the body is not valid JSON");
    out->message = message;
    if (json_is_array (message))
        return s_refuse (out, MCP_INVALID_REQUEST,
                         "Invalid Request: JSON-RPC batches are not supported; "
                         "send one message per POST");
    json_t *version = json_object_get (message, "jsonrpc");
    json_t *method = json_object_get (message, "method");
    json_t *id = json_object_get (message, "id");
    json_t *params = json_object_get (message, "params");
    bool is_response = !method && id
                    && (json_object_get (message, "result") || json_object_get (message, "error"));
    if (!json_is_object (message) || !json_is_string (version)
    ||  strcmp (json_string_value (version), "2.0") != 0
    ||  (!is_response && !json_is_string (method))
    ||  (id && !s_id_valid (id) && !(is_response && json_is_null (id)))
    ||  (params && !json_is_object (params) && !json_is_array (params)))
        return s_refuse (out, MCP_INVALID_REQUEST,
                         "Invalid Request: not a JSON-RPC 2.0 message");
    out->is_response = is_response;
    out->id = is_response ? NULL : id;
    out->method = method ? json_string_value (method) : NULL;
    out->params_array = json_is_array (params);
    out->params = json_is_object (params) ? params : NULL;
    if (!out->params && !out->params_array && !is_response) {
        out->params = json_object ();
        json_object_set_new (message, "params", out->params);
    }
    return 0;
}

/*  mcp_era.c — protocol generation of a message, 2026 request rules.
    See mcp_era.h.
*/
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mcp_http_rules.h"
#include "mcp_era.h"

#define NAME_MAX_BYTES  1024        //  a decoded Mcp-Name, at most

static const char *const s_log_levels [] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert",
    "emergency", NULL
};

static void
s_refuse (mcp_era_t *out, int status, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_refuse (mcp_era_t *out, int status, int code, const char *fmt, ...)
{
    out->status = status;
    out->code = code;
    va_list args;
    va_start (args, fmt);
    vsnprintf (out->message, sizeof out->message, fmt, args);
    va_end (args);
}

json_t *
mcp_era_supported (void)
{
    json_t *list = json_array ();
    json_array_append_new (list, json_string (MCP_PROTOCOL_MODERN));
    for (size_t i = 0; mcp_protocol_versions [i]; i++)
        json_array_append_new (list, json_string (mcp_protocol_versions [i]));
    return list;
}

//  The body value the Mcp-Name header must mirror, or NULL.
static const json_t *
s_name_source (const char *method, const json_t *params)
{
    if (strcmp (method, "tools/call") == 0 || strcmp (method, "prompts/get") == 0)
        return json_object_get (params, "name");
    if (strcmp (method, "resources/read") == 0)
        return json_object_get (params, "uri");
    return NULL;
}

//  Does the Mcp-Name header value stand for this string? A value
//  "=?base64?B?=" stands for the bytes B decodes to.
static bool
s_name_matches (const char *header, const json_t *value)
{
    const char *text = json_string_value (value);
    size_t text_len = json_string_length (value);
    static const char prefix [] = "=?base64?";
    static const char suffix [] = "?=";
    size_t len = strlen (header);
    size_t plen = sizeof prefix - 1;
    size_t slen = sizeof suffix - 1;
    if (len >= plen + slen && memcmp (header, prefix, plen) == 0
    &&  memcmp (header + len - slen, suffix, slen) == 0) {
        unsigned char decoded [NAME_MAX_BYTES];
        size_t decoded_len = 0;
        if (sodium_base642bin (decoded, sizeof decoded, header + plen,
                               len - plen - slen, NULL, &decoded_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) != 0)
            return false;
        return decoded_len == text_len && memcmp (decoded, text, text_len) == 0;
    }
    return len == text_len && memcmp (header, text, len) == 0;
}

//  The 2026 request rules after classification.
static void
s_modern_request (const char *method, const json_t *params, const json_t *meta,
                  const mcp_era_headers_t *headers, mcp_era_t *out)
{
    if (!json_is_object (json_object_get (meta, MCP_META_CAPABILITIES))) {
        s_refuse (out, 400, -32602, "Invalid params: _meta[\"%s\"] (an object) "
                  "is required", MCP_META_CAPABILITIES);
        return;
    }
    json_t *info = json_object_get (meta, MCP_META_CLIENT_INFO);
    if (info && !json_is_object (info)) {
        s_refuse (out, 400, -32602, "Invalid params: _meta[\"%s\"] must be an object",
                  MCP_META_CLIENT_INFO);
        return;
    }
    out->client_name = json_string_value (json_object_get (info, "name"));
    json_t *level = json_object_get (meta, MCP_META_LOG_LEVEL);
    if (level) {
        const char *value = json_string_value (level);
        size_t i = 0;
        while (value && s_log_levels [i] && strcmp (s_log_levels [i], value))
            i++;
        if (!value || !s_log_levels [i]) {
            s_refuse (out, 400, -32602, "Invalid params: _meta[\"%s\"] must be a "
                      "log level (debug ... emergency)", MCP_META_LOG_LEVEL);
            return;
        }
        out->log_level = value;
    }
    if (!headers->protocol) {
        s_refuse (out, 400, MCP_HEADER_MISMATCH,
                  "Header mismatch: the MCP-Protocol-Version header is required");
        return;
    }
    if (!headers->method) {
        s_refuse (out, 400, MCP_HEADER_MISMATCH,
                  "Header mismatch: the Mcp-Method header is required");
        return;
    }
    if (strcmp (headers->method, method) != 0) {
        s_refuse (out, 400, MCP_HEADER_MISMATCH,
                  "Header mismatch: Mcp-Method does not match the body's method");
        return;
    }
    const json_t *source = s_name_source (method, params);
    if (json_is_string (source)) {
        if (!headers->name) {
            s_refuse (out, 400, MCP_HEADER_MISMATCH,
                      "Header mismatch: the Mcp-Name header is required for %s", method);
            return;
        }
        if (!s_name_matches (headers->name, source)) {
            s_refuse (out, 400, MCP_HEADER_MISMATCH,
                      "Header mismatch: Mcp-Name does not match the body");
            return;
        }
    }
}

void
mcp_era_classify (const json_t *message, const mcp_era_headers_t *headers,
                  mcp_era_t *out)
{
    memset (out, 0, sizeof *out);
    const char *method = json_string_value (json_object_get (message, "method"));
    bool request = method && json_object_get (message, "id");
    json_t *params = json_object_get (message, "params");
    json_t *meta = json_is_object (params) ? json_object_get (params, "_meta") : NULL;
    json_t *claim = json_is_object (meta) ? json_object_get (meta, MCP_META_PROTOCOL) : NULL;
    bool header_modern = headers->protocol
                      && strcmp (headers->protocol, MCP_PROTOCOL_MODERN) == 0;
    if (!method)
        return;                         //  a response: 2025 traffic
    if (!claim) {
        if (header_modern && request)
            s_refuse (out, 400, -32602, "Invalid params: _meta[\"%s\"] is required "
                      "(protocol %s)", MCP_META_PROTOCOL, MCP_PROTOCOL_MODERN);
        out->modern = header_modern;    //  a 2026 notification needs no _meta
        return;
    }
    const char *version = json_string_value (claim);
    if (!version) {
        out->modern = true;
        s_refuse (out, 400, -32602, "Invalid params: _meta[\"%s\"] must be a string",
                  MCP_META_PROTOCOL);
        return;
    }
    if (headers->protocol && strcmp (headers->protocol, version) != 0) {
        out->modern = true;
        s_refuse (out, 400, MCP_HEADER_MISMATCH, "Header mismatch: MCP-Protocol-Version "
                  "does not match _meta[\"%s\"]", MCP_META_PROTOCOL);
        return;
    }
    if (mcp_protocol_supported (version))
        return;                         //  a 2025 version in _meta: 2025 traffic
    out->modern = true;
    if (strcmp (version, MCP_PROTOCOL_MODERN) != 0) {
        s_refuse (out, 400, MCP_UNSUPPORTED_VERSION, "Unsupported protocol version");
        out->data = json_pack ("{s:o, s:s%}", "supported", mcp_era_supported (),
                               "requested", version, json_string_length (claim));
        return;
    }
    if (request)
        s_modern_request (method, params, meta, headers, out);
}

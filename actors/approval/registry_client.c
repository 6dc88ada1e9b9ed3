/*  registry_client.c — the one question approval asks another actor: "what is
    tool X now?" ({"op": "tool.get", "tool_id"} to service `registry`).

    Approval never reads the registry's tables; an approval is bound to the
    code hash the registry reports at the moment of the request.

    The call blocks the service loop (handlers run one at a time);
    service_call keeps heartbeating the broker meanwhile. A registry that
    does not answer within 2 s is `unavailable`.
*/
#include <stdio.h>
#include <string.h>
#include "approval.h"
#include "log.h"

#define REGISTRY_TIMEOUT_MS 2000        //  a lookup; an absent registry fails fast

int
registry_timeout_ms (void)
{
    //  service_call keeps our registration alive while we wait
    return REGISTRY_TIMEOUT_MS;
}

static bool
s_hex64 (const char *text, size_t len)
{
    if (len != APPR_HASH_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((text [i] >= '0' && text [i] <= '9') || (text [i] >= 'a' && text [i] <= 'f')))
            return false;
    return true;
}

//  Copy a string field of the registry's tool map, checked.
static bool
s_field (const msgpack_object *tool, const char *key, char *out, size_t outsize)
{
    return msg_get_cstr (tool, key, out, outsize) == MSG_FIELD_OK && *out;
}

int
registry_tool_get (service_t *service, const char *tool_id, tool_ref_t *tool,
                   bus_err_t *err)
{
    bus_client_t *client = service_client (service);
    if (!client)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "registry unavailable: no bus client");
    msgw_t *request = msgw_new ();
    if (!request)
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    msgw_map (request, 2);
    msgw_kv_str (request, "op", "tool.get");
    msgw_kv_str (request, "tool_id", tool_id);
    bus_reply_t *reply = service_call (service, "registry", msgw_data (request),
                                       msgw_size (request), registry_timeout_ms ());
    msgw_destroy (&request);
    if (!reply)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "registry unavailable");
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    bus_reply_destroy (&reply);
    if (!body) {
        log_warn ("registry: malformed tool.get reply: %s", why ? why : "?");
        return bus_err_set (err, BUS_ERR_INTERNAL, "registry sent a malformed reply");
    }
    int result = 0;
    bus_error_t code = msg_error_code (body);
    if (code == BUS_ERR_NOT_FOUND)
        result = bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s not found", tool_id);
    else
    if (code == BUS_ERR_BAD_REQUEST)
        result = bus_err_set (err, BUS_ERR_BAD_REQUEST, "registry: %.200s",
                            msg_error_message (body));
    else
    if (code != BUS_ERR_NONE)
        result = bus_err_set (err, BUS_ERR_UNAVAILABLE, "registry unavailable (%s)",
                            bus_error_name (code));
    else {
        const msgpack_object *map = NULL;
        const char *hash = NULL;
        size_t hash_len = 0;
        char id [APPR_ID_LEN + 8];
        char server_id [APPR_ID_LEN + 8];
        memset (tool, 0, sizeof *tool);
        if (msg_get_map (msg_root (body), "tool", &map) != MSG_FIELD_OK
        ||  !s_field (map, "id", id, sizeof id)
        ||  !ids_uuid_parse (id, strlen (id), tool->id)
        ||  strcmp (tool->id, tool_id) != 0
        ||  !s_field (map, "server_id", server_id, sizeof server_id)
        ||  !ids_uuid_parse (server_id, strlen (server_id), tool->server_id)
        ||  !s_field (map, "name", tool->name, sizeof tool->name)
        ||  msg_get_str (map, "code_hash", &hash, &hash_len) != MSG_FIELD_OK
        ||  !s_hex64 (hash, hash_len)) {
            log_warn ("registry: tool.get reply for %s lacks id, server_id, name "
                      "or a SHA-256 code_hash", tool_id);
            result = bus_err_set (err, BUS_ERR_INTERNAL,
                                "registry sent an incomplete tool record");
        }
        else
            memcpy (tool->code_hash, hash, APPR_HASH_LEN);
    }
    msg_destroy (&body);
    return result;
}

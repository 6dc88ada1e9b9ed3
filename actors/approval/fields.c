/*  fields.c — reading request fields: type, bounds and syntax checked
    before anything else happens, and a bad field answered `bad_request`
    naming it (a forbidden module or a never-reachable host: `forbidden`).

        ids (tool_id, server_id, id)          UUID, 8-4-4-4-12 hex, lower-cased
        requested_by, reviewed_by, added_by, changed_by
                                              1-64 bytes, no control chars
        notes, justification, reason          UTF-8 without NUL, <= 2000 bytes;
                                              justification and reason non-blank
        module_name                           dotted identifiers, <= 128 bytes
        host                                  see hosts.h
        port                                  1-65535, or absent / nil (any port)
        code_hash                             64 lower-case hex
        kind                                  tool | module | network

    An optional field that is absent or nil is "absent".
*/
#include <stdio.h>
#include <string.h>
#include "approval.h"

//  A string field. 0 present (copied into out, max + 1 bytes), 1 absent or
//  nil and not required (out = ""), -1 + err.
int
fields_text (const msgpack_object *root, const char *key, bool required, size_t max,
        bool nonblank, char *out, bus_err_t *err)
{
    out [0] = 0;
    const msgpack_object *value = msg_map_get (root, key);
    if (!value || value->type == MSGPACK_OBJECT_NIL) {
        if (required)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: required", key);
        return 1;
    }
    if (value->type != MSGPACK_OBJECT_STR)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a string", key);
    const char *ptr = value->via.str.ptr;
    size_t len = value->via.str.size;
    if (len > max)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: at most %zu bytes", key, max);
    if (memchr (ptr, 0, len) || !utf8_valid (ptr, len))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be UTF-8 text without NUL",
                          key);
    memcpy (out, ptr, len);
    out [len] = 0;
    if (nonblank) {
        bool blank = true;
        for (size_t i = 0; i < len && blank; i++)
            blank = strchr (" \t\r\n\f\v", ptr [i]) != NULL;
        if (blank)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must not be empty", key);
    }
    return 0;
}

//  Who did it: 1-64 bytes, no control characters. fallback when absent
//  (NULL: required).
int
fields_who (const msgpack_object *root, const char *key, const char *fallback,
       char out [APPR_WHO_MAX + 1], bus_err_t *err)
{
    int rc = fields_text (root, key, fallback == NULL, APPR_WHO_MAX, true, out, err);
    if (rc == 1) {
        snprintf (out, APPR_WHO_MAX + 1, "%s", fallback);
        return 0;
    }
    if (rc < 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *) out; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must not contain "
                              "control characters", key);
    return 0;
}

int
fields_id (const msgpack_object *root, const char *key, char out [APPR_ID_LEN + 1],
      bus_err_t *err)
{
    char text [APPR_ID_LEN + 1];
    if (fields_text (root, key, true, APPR_ID_LEN, true, text, err))
        return -1;
    if (!ids_uuid_parse (text, strlen (text), out))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s: must be a UUID", key);
    return 0;
}

//  Optional code_hash: 0 present, 1 absent, -1 + err.
int
fields_hash (const msgpack_object *root, char out [APPR_HASH_LEN + 1], bus_err_t *err)
{
    int rc = fields_text (root, "code_hash", false, APPR_HASH_LEN, false, out, err);
    if (rc)
        return rc;
    size_t len = strlen (out);
    for (size_t i = 0; i < len; i++)
        if (!((out [i] >= '0' && out [i] <= '9') || (out [i] >= 'a' && out [i] <= 'f')))
            len = 0;
    if (len != APPR_HASH_LEN)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                          "code_hash: 64 lower-case hex digits (SHA-256)");
    return 0;
}

int
fields_kind (const msgpack_object *root, bool allow_tool, appr_kind_t *kind,
        bus_err_t *err)
{
    char text [16];
    if (fields_text (root, "kind", true, sizeof text - 1, true, text, err))
        return -1;
    if (allow_tool && strcmp (text, "tool") == 0)
        *kind = APPR_KIND_TOOL;
    else
    if (strcmp (text, "module") == 0)
        *kind = APPR_KIND_MODULE;
    else
    if (strcmp (text, "network") == 0)
        *kind = APPR_KIND_NETWORK;
    else
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, allow_tool
                          ? "kind: must be tool, module or network"
                          : "kind: must be module or network");
    return 0;
}

//  Optional port: 0 = any port.
int
fields_port (const msgpack_object *root, int *port, bus_err_t *err)
{
    *port = 0;
    const msgpack_object *value = msg_map_get (root, "port");
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (value->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    ||  value->via.u64 < 1 || value->via.u64 > 65535)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "port: an integer from 1 to 65535");
    *port = (int) value->via.u64;
    return 0;
}

int
fields_module (const msgpack_object *root, char out [MODULES_NAME_MAX + 1],
               bus_err_t *err)
{
    //  a little slack for surrounding whitespace, which is trimmed
    char raw [MODULES_NAME_MAX + 33];
    if (fields_text (root, "module_name", true, sizeof raw - 1, true, raw, err))
        return -1;
    const char *why = NULL;
    switch (modules_check (raw, strlen (raw), out, &why)) {
        case MODULE_OK:
            return 0;
        case MODULE_FORBIDDEN:
            return bus_err_set (err, BUS_ERR_FORBIDDEN, "module %s is forbidden: it "
                              "can never be imported by a tool", out);
        default:
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s", why);
    }
}

int
fields_host (const msgpack_object *root, char out [HOSTS_MAX + 1], bus_err_t *err)
{
    char raw [HOSTS_MAX + 33];
    if (fields_text (root, "host", true, sizeof raw - 1, true, raw, err))
        return -1;
    const char *why = NULL;
    switch (hosts_normalise (raw, strlen (raw), out, &why)) {
        case HOST_OK:
            return 0;
        case HOST_NEVER:
            return bus_err_set (err, BUS_ERR_FORBIDDEN, "%s", why);
        default:
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "%s", why);
    }
}

/*  fields.c — approval's own request fields, read with the shared readers
    of common/fields.h: type, bounds and syntax checked before anything
    else happens, and a bad field answered `bad_request` naming it (a
    forbidden module or a never-reachable host: `forbidden`).

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

//  Who did it: 1-64 bytes, no control characters. fallback when absent
//  (NULL: required).
int
fields_who (const msgpack_object *root, const char *key, const char *fallback,
       char out [APPR_WHO_MAX + 1], bus_err_t *err)
{
    int rc = field_text (root, key, fallback == NULL, APPR_WHO_MAX, true, out, err);
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
    return field_id (root, key, true, out, err) == 0 ? 0 : -1;
}

//  Optional code_hash: 0 present, 1 absent, -1 + err.
int
fields_hash (const msgpack_object *root, char out [APPR_HASH_LEN + 1], bus_err_t *err)
{
    int rc = field_text (root, "code_hash", false, APPR_HASH_LEN, false, out, err);
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
    if (field_text (root, "kind", true, sizeof text - 1, true, text, err))
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
    int64_t value = 0;
    int rc = field_int (root, "port", false, 1, 65535, &value, err);
    *port = rc == 0 ? (int) value : 0;
    return rc < 0 ? -1 : 0;
}

int
fields_module (const msgpack_object *root, char out [MODULES_NAME_MAX + 1],
               bus_err_t *err)
{
    //  a little slack for surrounding whitespace, which is trimmed
    char raw [MODULES_NAME_MAX + 33];
    if (field_text (root, "module_name", true, sizeof raw - 1, true, raw, err))
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
    if (field_text (root, "host", true, sizeof raw - 1, true, raw, err))
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

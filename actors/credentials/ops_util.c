/*  ops_util.c — helpers for the credentials ops (ops_util.h).
*/
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "db.h"
#include "fields.h"
#include "log.h"
#include "ops_util.h"

int
ops_cstr (const msgpack_object *root, const char *key, char *buf, size_t size,
          bool required)
{
    bus_err_t err;              //  the callers answer with their own words
    return field_text (root, key, required, size - 1, false, buf, &err) < 0 ? -1 : 0;
}

msgw_t *
ops_db_error (sqlite3 *db, const char *op)
{
    bus_err_t err;
    db_fail (db, &err, op);
    return msgw_error_new (err.code, err.message);
}

msgw_t *
ops_rate_limited (int64_t retry_after, const char *message)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", false);
    msgw_str (w, "error");
    msgw_map (w, 2);
    msgw_kv_str (w, "code", bus_error_name (BUS_ERR_RATE_LIMITED));
    msgw_kv_str (w, "message", message);
    msgw_kv_int (w, "retry_after", retry_after);
    return w;
}

void
ops_wipe_field (msg_t *request, const char *key)
{
    const msgpack_object *value = msg_map_get (msg_root (request), key);
    if (value && value->type == MSGPACK_OBJECT_STR && value->via.str.size)
        sodium_memzero ((void *) value->via.str.ptr, value->via.str.size);
}

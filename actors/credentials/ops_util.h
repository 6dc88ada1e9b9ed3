/*  ops_util.h — small helpers the credentials ops share: typed fields,
    database errors, replies that carry secrets.
*/
#ifndef MCPBOX_CREDS_OPS_UTIL_H
#define MCPBOX_CREDS_OPS_UTIL_H

#include <sqlite3.h>
#include "service.h"

//  Copy a string field into buf. 0; -1 when wrong type, too long, has a
//  NUL, is not UTF-8, or is missing while required (absent and optional:
//  buf = ""). A thin adapter over common/fields.h field_text.
int     ops_cstr (const msgpack_object *root, const char *key, char *buf,
                  size_t size, bool required);
//  `internal` naming the op; the sqlite message goes to the log only.
msgw_t *ops_db_error (sqlite3 *db, const char *op);
//  {"ok": false, "error": {...}, "retry_after": s}
msgw_t *ops_rate_limited (int64_t retry_after, const char *message);
//  Wipe a string field of a decoded request in place (a password, a value).
void    ops_wipe_field (msg_t *request, const char *key);

#endif

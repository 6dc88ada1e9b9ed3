/*  msg.h — msgpack bodies: strict decoding and small encoding helpers.

    Every body on the bus is one msgpack map. Requests carry "op"; replies
    carry "ok" and, when false, "error": {"code", "message"}.

    Decoding treats input as hostile. Before msgpack-c sees a byte, a scan of
    the raw encoding checks the total size, the nesting depth, the number of
    items and every declared length against the bytes actually present, so a
    five-byte frame can never ask for gigabytes. After unpacking, every map
    must have string keys and no duplicate key, and the root must be a map.
    Extension types are refused: nothing in our schema uses them.

    This is not a schema checker: handlers still read fields with the typed
    getters below, which return MSG_FIELD_WRONG_TYPE rather than coerce.
*/
#ifndef MCPBOX_MSG_H
#define MCPBOX_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "bus_errors.h"

typedef struct {
    size_t max_size;        //  whole body, bytes
    int    max_depth;       //  nesting of maps/arrays, root is depth 1
    size_t max_items;       //  total objects in the tree
    size_t max_str;         //  one str or bin, bytes
} msg_limits_t;

//  Defaults: 8 MiB, depth 32, 1 Mi items, 8 MiB strings.
extern const msg_limits_t msg_default_limits;

typedef struct _msg_t msg_t;

//  Decode and validate a body. On failure returns NULL and sets *why (static
//  text, never NULL). `limits` NULL means msg_default_limits.
msg_t *msg_decode (const void *data, size_t size, const msg_limits_t *limits,
                   const char **why);
void   msg_destroy (msg_t **self_p);

//  The root map.
const msgpack_object *msg_root (msg_t *self);

//  Request "op" as a C string (≤ 63 bytes, no NUL inside), or NULL.
const char *msg_op (msg_t *self);

//  Reply helpers: ok flag; when not ok, the error code and message ("" if
//  absent). A reply without a boolean "ok" counts as a protocol error.
bool        msg_is_ok (msg_t *self);
bus_error_t msg_error_code (msg_t *self);
const char *msg_error_message (msg_t *self);

//  Raw scan only (what msg_decode runs first); exposed for tests and fuzzing.
bool msg_scan (const uint8_t *data, size_t size, const msg_limits_t *limits,
               const char **why);

//  --- typed field access on a map object ---------------------------------
typedef enum {
    MSG_FIELD_OK = 0,
    MSG_FIELD_MISSING,
    MSG_FIELD_WRONG_TYPE,
    MSG_FIELD_TOO_LONG,
} msg_field_t;

//  The value under string key `key`, or NULL. `map` must be a map object.
const msgpack_object *msg_map_get (const msgpack_object *map, const char *key);

msg_field_t msg_get_str  (const msgpack_object *map, const char *key,
                          const char **ptr, size_t *len);
//  Copies into buf (NUL-terminated); refuses embedded NUL (WRONG_TYPE) and
//  values that do not fit (TOO_LONG).
msg_field_t msg_get_cstr (const msgpack_object *map, const char *key,
                          char *buf, size_t bufsize);
msg_field_t msg_get_int  (const msgpack_object *map, const char *key,
                          int64_t *value);
msg_field_t msg_get_bool (const msgpack_object *map, const char *key,
                          bool *value);
msg_field_t msg_get_map  (const msgpack_object *map, const char *key,
                          const msgpack_object **value);
msg_field_t msg_get_array(const msgpack_object *map, const char *key,
                          const msgpack_object **value);

//  --- encoding ------------------------------------------------------------
//  A growing buffer with a packer. Use msgpack_pack_* on msgw_packer() for
//  anything the helpers below do not cover.
typedef struct _msgw_t msgw_t;

msgw_t          *msgw_new (void);
void             msgw_destroy (msgw_t **self_p);
msgpack_packer  *msgw_packer (msgw_t *self);
const char      *msgw_data (msgw_t *self);
size_t           msgw_size (msgw_t *self);

void msgw_map     (msgw_t *self, size_t pairs);
void msgw_array   (msgw_t *self, size_t items);
void msgw_str     (msgw_t *self, const char *value);      //  NULL packs nil
void msgw_strn    (msgw_t *self, const char *value, size_t len);
void msgw_int     (msgw_t *self, int64_t value);
void msgw_bool    (msgw_t *self, bool value);
void msgw_nil     (msgw_t *self);
//  Append bytes that are already one complete msgpack object (e.g. a
//  record encoded earlier by another msgw); the caller vouches for them.
void msgw_raw     (msgw_t *self, const void *data, size_t size);
void msgw_kv_str  (msgw_t *self, const char *key, const char *value);
void msgw_kv_int  (msgw_t *self, const char *key, int64_t value);
void msgw_kv_bool (msgw_t *self, const char *key, bool value);

//  A complete error reply {"ok": false, "error": {"code", "message"}}.
msgw_t *msgw_error_new (bus_error_t code, const char *message);

//  A complete request {"op": op} with no other field.
msgw_t *msgw_op_new (const char *op);

#endif
